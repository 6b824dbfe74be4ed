"""Speed of the GPD/GEV fits and profile return levels, side by side with scipy and (if installed) R evd.

Run from the repository root: ``.venv/bin/python analyses/bench_evt_speed.py``; the table is committed as
analyses/results/bench_evt_speed.md.  Times are the median of repeated runs (best-of-5 medians for fast
calls) on the same data; the machine is shared, so ratios matter more than absolute numbers.
"""

import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from heavytail_diffusion.diagnostics.evt import fit_gev, fit_gpd, return_level

ROOT = Path(__file__).resolve().parents[1]


def timeit(fn, reps):
    fn()  # warm-up
    runs = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return float(np.median(runs))


def r_times(files: dict) -> dict:
    """Median seconds per call of evd::fpot / fgev / fpot(mper)+profile via Rscript (None without R)."""
    if shutil.which("Rscript") is None:
        return {}
    script = f"""
suppressMessages(library(evd))
d <- read.csv("{files["danish"]}")$x; big <- read.csv("{files["big"]}")$x; fc <- read.csv("{files["fc"]}")$x
tm <- function(expr, reps) {{ f <- function() eval(expr); f(); median(sapply(1:reps, function(i) system.time(f())[["elapsed"]])) }}
tm_many <- function(expr, inner, reps) {{ f <- function() for (i in 1:inner) eval(expr); f();
  median(sapply(1:reps, function(i) system.time(f())[["elapsed"]])) / inner }}
cat("fpot_danish", tm_many(quote(fpot(d, 10)), 50, 5), "\\n")
cat("fpot_big", tm(quote(fpot(big, 0)), 5), "\\n")
cat("fgev_fc", tm_many(quote(fgev(fc)), 20, 5), "\\n")
npp <- length(d) / 11
cat("rl_profile", tm_many(quote({{ f <- fpot(d, 10, npp = npp, mper = 100, start = list(rlevel = 430, shape = 0.5));
  suppressWarnings(confint(profile(f, which = "rlevel", conf = 0.99)))}}), 3, 5), "\\n")
"""
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True).stdout
    keys = ("fpot_danish", "fpot_big", "fgev_fc", "rl_profile")  # evd's profile() also prints progress lines
    return {ln.split()[0]: float(ln.split()[1]) for ln in out.strip().splitlines() if ln.split()[0] in keys}


def main():
    load_start = tuple(round(v, 2) for v in os.getloadavg())
    danish = pd.read_csv(ROOT / "data" / "danish_fire_1980_1990.csv")["loss_mdkk"].to_numpy()
    big = stats.genpareto.rvs(0.5, scale=2.0, size=100_000, random_state=np.random.default_rng(0))
    fc = pd.read_csv(ROOT / "analyses" / "r_reference" / "fort_collins_annual_max.csv")["prec_in"].to_numpy()
    yd = danish[danish > 10] - 10
    rows = []

    def add(task, ours, scipy_t=None, r_t=None):
        rows.append(
            {
                "task": task,
                "ours_ms": 1e3 * ours,
                "scipy_ms": None if scipy_t is None else 1e3 * scipy_t,
                "R_evd_ms": None if r_t is None else 1e3 * r_t,
            }
        )

    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for key, arr in (("danish", danish), ("big", big), ("fc", fc)):
            files[key] = str(Path(tmp) / f"{key}.csv")
            pd.DataFrame({"x": arr}).to_csv(files[key], index=False)
        try:
            rt = r_times(files)
        except subprocess.CalledProcessError as exc:  # R present but evd missing
            print("R timing failed:", exc.stderr[-300:])
            rt = {}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add(
            "fit_gpd Danish u=10 (109 exc.)",
            min(timeit(lambda: fit_gpd(danish, 10), 200) for _ in range(5)),
            min(timeit(lambda: stats.genpareto.fit(yd, floc=0), 20) for _ in range(3)),
            rt.get("fpot_danish"),
        )
        add(
            "fit_gpd 1e5 exceedances (xi=0.5)",
            timeit(lambda: fit_gpd(big, 0.0), 15),
            timeit(lambda: stats.genpareto.fit(big, floc=0), 3),
            rt.get("fpot_big"),
        )
        add(
            "fit_gev Fort Collins (100 annual maxima)",
            min(timeit(lambda: fit_gev(fc), 30) for _ in range(3)),
            timeit(lambda: stats.genextreme.fit(fc), 5),
            rt.get("fgev_fc"),
        )
        f10 = fit_gpd(danish, 10)
        add(
            "return_level profile CI, Danish 100-year",
            timeit(
                lambda: return_level(f10, 100, obs_per_block=danish.size / 11, method="profile", data=danish),
                15,
            ),
            None,
            rt.get("rl_profile"),
        )
        gfc = fit_gev(fc)
        add(
            "return_level profile CI, Fort Collins GEV T=100",
            timeit(lambda: return_level(gfc, 100, method="profile", data=fc), 5),
        )
        # small samples (analyses/r_reference/gev_cases.csv): fit + profile CI at T = 10 and 100
        cases = pd.read_csv(ROOT / "analyses" / "r_reference" / "gev_cases.csv")
        for case in ("danish_b197", "danish_b50", "loss_b37", "loss_b75", "sim_xi+0.8_n15", "sim_xi-0.2_n15"):
            x = cases.loc[cases["case"] == case, "x"].to_numpy()
            g = fit_gev(x)
            add(
                f"fit_gev {case} ({x.size} maxima)", min(timeit(lambda x=x: fit_gev(x), 10) for _ in range(3))
            )
            for T in (10, 100):
                add(
                    f"return_level profile CI, {case} T={T}",
                    timeit(lambda x=x, g=g, T=T: return_level(g, T, method="profile", data=x), 3),
                )

    load_end = tuple(round(v, 2) for v in os.getloadavg())
    df = pd.DataFrame(rows)
    df["ours_vs_scipy"] = df["scipy_ms"] / df["ours_ms"]
    df["ours_vs_R"] = df["R_evd_ms"] / df["ours_ms"]
    f = fit_gpd(danish, 10)
    rl = return_level(f10, 100, obs_per_block=danish.size / 11, method="profile", data=danish)
    lines = [
        "# EVT fit speed (median wall-clock ms; ratio > 1 means ours is faster)",
        "",
        (
            f"Load average (1, 5, 15 min) at the end of the run: {load_end}; at the start: {load_start} "
            f"({os.cpu_count()} CPUs; the machine is shared, so absolute times vary with the load)."
        ),
        "",
        df.to_markdown(index=False, floatfmt=".3g")
        if _has_tabulate()
        else "```\n" + df.to_string() + "\n```",
        "",
        (
            f"Danish u=10: scale {f.scale:.6f}, shape {f.shape:.6f}, se {f.se_scale:.5f} / {f.se_shape:.6f}, "
            f"{f.n_exceedances} exceedances."
        ),
        f"Danish 100-year level {rl.value:.4f}, 95% profile CI [{rl.ci_low:.4f}, {rl.ci_high:.4f}].",
        "R timings: evd::fpot / fgev with default BFGS; profile row = fpot(mper = 100, good start) + profile + confint.",
    ]
    print("\n".join(lines))


def _has_tabulate():
    try:
        import tabulate  # noqa: F401

        return True
    except ImportError:
        return False


if __name__ == "__main__":
    main()
