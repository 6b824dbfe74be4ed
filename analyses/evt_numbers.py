"""Every number of the EVT fits timed in bench_evt_speed.py, to 10 significant digits (a no-change check).

Run from the repository root: ``.venv/bin/python analyses/evt_numbers.py > new.txt``.  With
``--against old.txt`` it also prints the largest relative difference from an earlier run's output (used in
analyses/results/refactor_evt.md to show that a refactor changed no number).
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from heavytail_diffusion.diagnostics.evt import fit_gev, fit_gpd, return_level, select_threshold
from heavytail_diffusion.priors.marginals import GPDTailMarginal

ROOT = Path(__file__).resolve().parents[1]
CASES = ("danish_b197", "danish_b50", "loss_b37", "loss_b75", "sim_xi+0.8_n15", "sim_xi-0.2_n15")


def _gpd_rows(name, f):
    return [(f"{name} {k}", getattr(f, k)) for k in ("scale", "shape", "se_scale", "se_shape", "nllh")]


def _gev_rows(name, g):
    keys = ("loc", "scale", "shape", "se_loc", "se_scale", "se_shape", "nllh")
    return [(f"{name} {k}", getattr(g, k)) for k in keys]


def _rl_rows(name, rl):
    return [(f"{name} {k}", getattr(rl, k)) for k in ("value", "ci_low", "ci_high")]


def numbers() -> list[tuple[str, float]]:
    """(quantity, value) pairs: fits, standard errors, return levels and CI bounds, marginal evaluations."""
    danish = pd.read_csv(ROOT / "data" / "danish_fire_1980_1990.csv")["loss_mdkk"].to_numpy()
    fc = pd.read_csv(ROOT / "analyses" / "r_reference" / "fort_collins_annual_max.csv")["prec_in"].to_numpy()
    big = stats.genpareto.rvs(0.5, scale=2.0, size=100_000, random_state=np.random.default_rng(0))
    expo = np.random.default_rng(1).exponential(size=400)  # xi near 0: the near-Gumbel code path
    out = []
    f10 = fit_gpd(danish, 10)
    out += _gpd_rows("GPD Danish u=10", f10)
    out += _gpd_rows("GPD 1e5 exceedances", fit_gpd(big, 0.0))
    fe = fit_gpd(expo, 0.0)
    out += _gpd_rows("GPD exponential n=400", fe)
    for meth in ("delta", "profile"):
        out += _rl_rows(
            f"RL Danish 100y {meth}",
            return_level(f10, 100, obs_per_block=danish.size / 11, method=meth, data=danish),
        )
        out += _rl_rows(f"RL exponential 1000 {meth}", return_level(fe, 1000, method=meth, data=expo))
    gfc = fit_gev(fc)
    out += _gev_rows("GEV Fort Collins", gfc)
    for meth in ("delta", "profile"):
        out += _rl_rows(f"RL Fort Collins T=100 {meth}", return_level(gfc, 100, method=meth, data=fc))
    cases = pd.read_csv(ROOT / "analyses" / "r_reference" / "gev_cases.csv")
    for case in CASES:
        x = cases.loc[cases["case"] == case, "x"].to_numpy()
        g = fit_gev(x)
        out += _gev_rows(f"GEV {case}", g)
        for T in (10, 100):
            out += _rl_rows(f"RL {case} T={T} profile", return_level(g, T, method="profile", data=x))
    tc = select_threshold(danish)
    out += [
        ("select_threshold Danish threshold", tc.threshold),
        ("select_threshold Danish shape", tc.fit.shape),
    ]
    t3 = stats.t.rvs(3, size=2000, random_state=np.random.default_rng(2))
    pts = np.array([-np.inf, -40.0, -5.0, -2.0, 0.0, 2.0, 5.0, 40.0, 1e6, np.inf])
    qs = np.array([0.0, 1e-300, 1e-12, 1e-4, 0.01, 0.5, 0.99, 1 - 1e-4, 1.0])
    for tag, marginal in (
        ("t3", GPDTailMarginal()),
        ("t3 exponential", GPDTailMarginal(exponential_tails=True)),
    ):
        m = marginal.fit(t3)
        out += [(f"marginal {tag} cdf({p:g})", v) for p, v in zip(pts, m.cdf(pts))]
        out += [(f"marginal {tag} logsf({p:g})", v) for p, v in zip(pts, m.logsf(pts))]
        out += [(f"marginal {tag} logpdf({p:g})", v) for p, v in zip(pts, m.logpdf(pts))]
        out += [(f"marginal {tag} ppf({q:g})", v) for q, v in zip(qs, m.ppf(qs))]
        out += [(f"marginal {tag} isf({q:g})", v) for q, v in zip(qs, m.isf(qs))]
        out += [(f"marginal {tag} to_normal({p:g})", v) for p, v in zip(pts, m.to_normal(pts))]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="an earlier output of this script")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = numbers()
    print("| quantity | value |\n|---|---:|")
    for name, v in rows:
        print(f"| {name} | {float(v):.10g} |")
    if args.against:
        old = {}
        for line in Path(args.against).read_text().splitlines():
            parts = [p.strip() for p in line.strip().strip("|").split("|")]
            if len(parts) == 2 and parts[0] not in ("quantity", "---"):
                old[parts[0]] = float(parts[1])
        rel, changed = [], []
        for name, v in rows:
            a, b = old[name], float(f"{float(v):.10g}")  # compare what is printed
            if a == b or (np.isnan(a) and np.isnan(b)):
                rel.append(0.0)
            elif np.isfinite(a) and np.isfinite(b):
                rel.append(abs(a - b) / max(abs(a), abs(b)))
            else:
                rel.append(0.0)
                changed.append(f"{name}: {a:g} -> {b:g}")
        i = int(np.argmax(rel))
        print(
            f"\nMax relative difference of the finite numbers from {args.against}: {rel[i]:.3g} ({rows[i][0]})."
        )
        if changed:
            print("Non-finite values that changed: " + "; ".join(changed) + ".")


if __name__ == "__main__":
    main()
