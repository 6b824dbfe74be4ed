"""Simulated data for analyses/r_reference/evt_workflow_reference.R (run from the repository root).

A GEV sample with a linear trend in the location and the log-scale (n = 80, seed 16), written with 17
significant digits so that R reads exactly the numbers Python fits.
"""

import numpy as np
from scipy.stats import genextreme

rng = np.random.default_rng(16)
t = np.arange(80) - 39.5
x = genextreme.rvs(-0.15, loc=20.0 + 0.08 * t, scale=3.0 * np.exp(0.01 * t), size=t.size, random_state=rng)
np.savetxt(
    "analyses/r_reference/sim_gev_trend.csv",
    np.column_stack([t, x]),
    delimiter=",",
    header="t,x",
    comments="",
    fmt="%.17g",
)
