"""Write the small-sample GEV test cases (block maxima and seeded GEV samples) that gev_reference.R fits.

Run from the repository root: ``.venv/bin/python analyses/r_reference/make_gev_cases.py``; writes
analyses/r_reference/gev_cases.csv with columns case, x (maxima rounded to 10 significant digits, so that R and
Python read identical numbers).
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from heavytail_diffusion.diagnostics.evt import block_maxima

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent


def cases() -> dict[str, np.ndarray]:
    out = {}
    danish = pd.read_csv(ROOT / "data" / "danish_fire_1980_1990.csv")["loss_mdkk"].to_numpy()
    la = pd.read_csv(ROOT / "data" / "lossalae.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trailing incomplete blocks are dropped on purpose
        for b in (197, 100, 50):
            out[f"danish_b{b}"] = block_maxima(danish, b)
        for col in ("Loss", "ALAE"):
            for b in (37, 75):
                out[f"{col.lower()}_b{b}"] = block_maxima(la[col].to_numpy(float), b)
    out["fortcollins"] = pd.read_csv(HERE / "fort_collins_annual_max.csv")["prec_in"].to_numpy()
    for j, xi in enumerate((-0.2, 0.0, 0.3, 0.8)):
        for n in (15, 100):
            rng = np.random.default_rng(20240700 + 10 * j + (n == 100))
            out[f"sim_xi{xi:+.1f}_n{n}"] = stats.genextreme.rvs(
                -xi, loc=10, scale=2, size=n, random_state=rng
            )
    return out


if __name__ == "__main__":
    rows = [pd.DataFrame({"case": k, "x": [float(f"{v:.10g}") for v in x]}) for k, x in cases().items()]
    df = pd.concat(rows, ignore_index=True)
    df.to_csv(HERE / "gev_cases.csv", index=False)
    print(df.groupby("case", sort=False).size().to_string())
