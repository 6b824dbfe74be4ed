"""Speed of the tail-index tools against their peers on the same data; prints a markdown table with ratios.

- Hill over all k at n = 1e6: ``hill_curve`` vs a plain numpy sort + cumulative sum (and sort + log + cumsum).
- Automatic k at n = 1e5: ``select_k`` (Danielsson double bootstrap) vs tailestim's Hill double bootstrap.
- CSN xmin search: ``powerlaw_fit`` vs the ``powerlaw`` package at n = 1e4 (powerlaw is not run at 1e5: it is
  roughly quadratic; its 1e5 time is extrapolated), and ours at 1e5.

Peers (tailestim, powerlaw) are optional benchmark-only installs. Best of ``--repeats`` wall-clock times.

    python analyses/bench_tail_index_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

from heavytail_diffusion.diagnostics.tail_index import hill_curve, powerlaw_fit, select_k


def best_time(f, repeats: int) -> tuple[float, object]:
    out, best = None, np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rows = []
    rng = np.random.default_rng(0)
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3

    # 1. Hill curve, n = 1e6
    x = rng.pareto(2.0, 10**6) + 1.0
    t_base, _ = best_time(lambda: np.cumsum(np.sort(x)[::-1]), args.repeats)
    t_base_log, _ = best_time(lambda: np.cumsum(np.log(np.sort(x)[::-1])), args.repeats)
    t_ours, _ = best_time(lambda: hill_curve(x), args.repeats)
    rows.append(("Hill curve, all k, n=1e6", "numpy sort+cumsum", t_ours, t_base, ""))
    rows.append(("Hill curve, all k, n=1e6", "numpy sort+log+cumsum", t_ours, t_base_log, ""))
    t_part, _ = best_time(lambda: hill_curve(x, k_max=10_000), args.repeats)
    rows.append(("Hill curve, k<=1e4, n=1e6", "numpy sort+cumsum", t_part, t_base, "np.partition path"))

    # 2. Automatic k, n = 1e5 (Student-t(3) upper tail, shifted positive for tailestim, and Pareto(2))
    for name, y in (
        ("Pareto(2)", rng.pareto(2.0, 10**5) + 1.0),
        ("|Student-t(3)|", np.abs(rng.standard_t(3.0, 10**5))),
    ):
        t_k, k = best_time(lambda y=y: select_k(y, seed=0), args.repeats)
        note = f"ours k={k}"
        try:
            from tailestim import HillEstimator

            def peer(y=y):
                est = HillEstimator(base_seed=0)
                est.fit(y)
                return est

            t_peer, est = best_time(peer, max(1, args.repeats // 2))
            res = est.get_result()
            kp = getattr(res, "k_star_", None)
            note += f"; tailestim k={kp}"
        except Exception as exc:  # noqa: BLE001 - report any peer failure honestly
            t_peer, note = np.nan, note + f"; tailestim failed: {type(exc).__name__}: {exc}"[:200]
        rows.append(
            (f"automatic k, n=1e5, {name}", "tailestim Hill double bootstrap (r=500)", t_k, t_peer, note)
        )

    # 3. CSN xmin search
    def data(n, seed):
        r = np.random.default_rng(seed)
        return np.concatenate([r.lognormal(0.0, 1.0, n // 2), r.pareto(1.5, n - n // 2) * 3.0 + 3.0])

    peer_1e4: dict[str, float] = {}
    for n in (10**4, 10**5):
        for kind, y in (
            ("lognormal body + Pareto tail", data(n, 1)),
            ("pure Pareto(1.5)", rng.pareto(1.5, n) + 1.0),
        ):
            t_o, f = best_time(lambda y=y: powerlaw_fit(y, discrete=False), max(1, args.repeats // 2))
            note = f"ours xmin={f.xmin:.4g} alpha={f.alpha:.4f}"
            t_p = np.nan
            if n == 10**4:
                try:
                    import powerlaw

                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        t_p, pf = best_time(lambda y=y: powerlaw.Fit(y, discrete=False, verbose=0), 1)
                    note += f"; powerlaw xmin={pf.xmin:.4g} alpha={pf.alpha:.4f}"
                    peer_1e4[kind] = t_p
                except Exception as exc:  # noqa: BLE001
                    note += f"; powerlaw failed: {exc}"[:200]
            else:
                note += "; powerlaw not run (quadratic): 100x its 1e4 time extrapolated"
                t_p = 100 * peer_1e4.get(kind, np.nan)
            rows.append((f"CSN xmin search, n={n:.0e}, {kind}", "powerlaw.Fit", t_o, t_p, note))
    for name in ("words", "cities"):
        y = pd.read_csv(f"data/csn2009/{name}.csv")["value"].to_numpy(float)
        t_o, f = best_time(lambda y=y: powerlaw_fit(y), max(1, args.repeats // 2))
        rows.append(
            (f"CSN {name} (n={y.size}, discrete)", "-", t_o, np.nan, f"xmin={f.xmin:g} alpha={f.alpha:.4f}")
        )

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"Machine: {os.cpu_count()} CPUs, 1-min load average {load0[0]:.1f} at the start, "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (1/5/15 min) at the end.\n"
    )
    print("| task | peer | ours (s) | peer (s) | peer / ours | notes |")
    print("|---|---|---|---|---|---|")
    for task, peer, t_o, t_p, note in rows:
        ratio = f"{t_p / t_o:.1f}x" if np.isfinite(t_p) else "-"
        tp = f"{t_p:.4f}" if np.isfinite(t_p) else "-"
        print(f"| {task} | {peer} | {t_o:.4f} | {tp} | {ratio} | {note} |")


if __name__ == "__main__":
    main()
