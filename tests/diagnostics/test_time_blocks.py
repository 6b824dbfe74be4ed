"""Tests for heavytail_diffusion.diagnostics.time_blocks (the part moved from realdata: annual_maxima)."""

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.diagnostics.time_blocks import annual_maxima
from heavytail_diffusion.errors import DataError


def test_annual_maxima():
    years = np.repeat([1900, 1901, 1902], [3, 2, 1])
    v = np.array([1.0, 5.0, 2.0, 0.0, 3.0, 9.0])
    am = annual_maxima(v, years)
    assert isinstance(am, pd.DataFrame)
    assert am["year"].tolist() == [1900, 1901, 1902]
    assert am["maximum"].tolist() == [5.0, 3.0, 9.0]
    assert am["n_obs"].tolist() == [3, 2, 1]
    assert annual_maxima(v, years, min_obs=2)["year"].tolist() == [1900, 1901]
    with pytest.raises(DataError, match="shape"):
        annual_maxima(v, years[:-1])
    with pytest.raises(DataError, match="min_obs"):
        annual_maxima(v, years, min_obs=10)
