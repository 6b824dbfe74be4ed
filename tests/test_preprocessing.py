import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heavytail_diffusion.errors import DataError
from heavytail_diffusion.preprocessing import (
    Preprocessor,
    day_spans,
    grid_step,
    jitter_ties,
    log_returns,
    tie_fraction,
)


@pytest.mark.parametrize("method", ["robust", "standard", "log", "signed-log", "none"])
def test_round_trip(method):
    rng = np.random.default_rng(0)
    X = np.exp(rng.standard_normal((200, 3)) * 3)  # positive, spanning orders of magnitude
    pre = Preprocessor(method).fit(X)
    np.testing.assert_allclose(pre.inverse_transform(pre.transform(X)), X, rtol=1e-8)


def test_robust_scale_is_std_for_gaussian():
    X = np.random.default_rng(1).normal(3.0, 2.0, size=(200_000, 1))
    pre = Preprocessor("robust").fit(X)
    assert abs(pre.loc_[0] - 3.0) < 0.02 and abs(pre.scale_[0] - 2.0) < 0.02


def test_log_rejects_non_positive_naming_column():
    X = np.ones((30, 2)) + np.arange(30)[:, None]
    X[7, 1] = -1.0
    with pytest.raises(DataError, match=r"column 'b'.*row 7"):
        Preprocessor("log").fit(X, columns=["a", "b"])


def test_per_column_methods_and_state_round_trip():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.standard_t(3, 100), np.exp(rng.standard_normal(100))])
    pre = Preprocessor(["signed-log", "log"]).fit(X)
    cfg, arrays = pre.get_state()
    pre2 = Preprocessor.from_state(cfg, arrays)
    np.testing.assert_array_equal(pre.transform(X), pre2.transform(X))


def test_bad_arguments():
    X = np.random.default_rng(3).standard_normal((50, 2))
    with pytest.raises(ValueError, match="unknown transform"):
        Preprocessor("sqrt").fit(X)
    with pytest.raises(ValueError, match="2 columns"):
        Preprocessor(["robust"]).fit(X)
    with pytest.raises(DataError, match="columns"):
        Preprocessor().fit(X).transform(np.zeros((5, 3)))


def test_heavily_tied_column_still_scales():
    X = np.zeros((100, 1))
    X[:10, 0] = np.arange(1, 11)  # IQR is zero
    pre = Preprocessor("robust").fit(X)
    assert pre.scale_[0] > 0


@settings(max_examples=30, deadline=None)
@given(st.floats(0.01, 1e6), st.floats(-1e6, 1e6))
def test_robust_is_affine_equivariant(c, b):
    X = np.random.default_rng(4).standard_t(2, size=(64, 2))
    Z1 = Preprocessor("robust").fit_transform(X)
    Z2 = Preprocessor("robust").fit_transform(c * X + b)
    np.testing.assert_allclose(Z1, Z2, atol=1e-6)


# ---- data preparations of tail studies (moved from realdata) -------------------------------------------
def test_log_returns_and_spans():
    p = np.array([100.0, 110.0, 99.0])
    r = log_returns(p)
    assert np.allclose(r, [np.log(1.1), np.log(0.9)])
    P = np.c_[p, 2 * p]
    assert np.allclose(log_returns(P), np.c_[r, r])
    with pytest.raises(DataError, match="> 0"):
        log_returns([1.0, 0.0, 2.0])
    with pytest.raises(DataError, match="> 0"):
        log_returns(np.c_[p, [np.nan, 1.0, 2.0]])
    with pytest.raises(DataError, match="2 rows"):
        log_returns([1.0])
    assert day_spans(["2020-01-01", "2020-01-02", "2020-01-05"]).tolist() == [1, 3]
    with pytest.raises(DataError, match="strictly increasing"):
        day_spans(["2020-01-02", "2020-01-01"])
    with pytest.raises(DataError, match="strictly increasing"):
        day_spans(["2020-01-01", "2020-01-01"])
    assert day_spans(["2020-01-01", "2020-01-01", "2020-01-03"], strict=False).tolist() == [0, 2]
    with pytest.raises(DataError, match="non-decreasing"):
        day_spans(["2020-01-02", "2020-01-01"], strict=False)
    with pytest.raises(DataError, match="unreadable"):
        day_spans(["2020-01-02", "not a date"])


def test_ties():
    x = np.array([1, 1, 2, 2, 2, 5, 9], dtype=float)
    assert tie_fraction(x) == pytest.approx(1 - 4 / 7)
    assert grid_step(x) == 1.0
    j = jitter_ties(x, seed=0)
    assert np.unique(j).size == x.size
    assert np.all(np.abs(j - x) < 0.5) and np.all(j > 0)
    # distinct values keep their order
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(np.floor(j[order] + 0.5)) >= 0)
    assert np.array_equal(jitter_ties(x, seed=3), jitter_ties(x, seed=3))
    with pytest.raises(DataError, match="constant"):
        grid_step([2.0, 2.0])
    with pytest.raises(ValueError, match="width"):
        jitter_ties(x, width=-1)


def test_jitter_ties_needs_no_torch_and_keeps_its_numbers():
    """jitter_ties imports numpy only, and gives the numbers of earlier versions for the same seed."""
    import subprocess
    import sys

    code = (
        "import sys; from heavytail_diffusion.preprocessing import jitter_ties; "
        "j = jitter_ties([1.0, 1.0, 2.0, 5.0], seed=0); assert 'torch' not in sys.modules, 'torch imported'; "
        "print(repr(j.tolist()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    x = np.array([1.0, 1.0, 2.0, 5.0])
    expected = x + 1.0 * (np.random.default_rng(0).random(4) - 0.5)  # width = grid step 1
    np.testing.assert_array_equal(np.array(eval(out)), expected)
