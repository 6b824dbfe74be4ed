"""Write the seeded simulated data sets that r_reference.R fits (run from the repository root)."""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

here = Path(__file__).parent
# |Student-t(4)|: GPD shape about 0.25 above high thresholds.
x1 = np.abs(stats.t.rvs(4, size=3000, random_state=np.random.default_rng(20240601)))
# Standard normal: a light tail, GPD shape slightly below 0 (tests the xi ~ 0 region).
x2 = stats.norm.rvs(size=3000, random_state=np.random.default_rng(20240602))
pd.DataFrame({"x": np.round(x1, 8)}).to_csv(here / "sim_abs_t4.csv", index=False)
pd.DataFrame({"x": np.round(x2, 8)}).to_csv(here / "sim_normal.csv", index=False)
# GEV maxima, xi = 0.2 (scipy genextreme c = -xi), loc 10, scale 2, 80 blocks.
g = stats.genextreme.rvs(-0.2, loc=10, scale=2, size=80, random_state=np.random.default_rng(20240603))
pd.DataFrame({"x": np.round(g, 8)}).to_csv(here / "sim_gev_xi02.csv", index=False)
# Annual maxima of daily precipitation at Fort Collins (100 years).
fc = pd.read_csv("data/fort_collins_precip_1900_1999.csv")
am = fc.groupby("year")["prec_in"].max().reset_index()
am.to_csv(here / "fort_collins_annual_max.csv", index=False)
print(len(x1), len(x2), len(g), len(am))
