"""Speed and memory of our max-sliced W2, sliced W2 and energy distance against POT and dcor.

Run: ``.venv/bin/python analyses/bench_distances_speed.py`` (POT and dcor are benchmark-only peers:
``pip install dcor``). Prints a markdown table; the committed output is ``results/bench_distances_speed.md``.

Data: X has i.i.d. Student-t(3) columns, Y i.i.d. Student-t(4) columns, both mixed by the same random
10 x 10 matrix (heavy tails, correlated columns), n = m. Times are the best of ``REPEATS`` runs (the machine
is shared); peak memory is measured by tracemalloc (numpy reports its buffers to it) in a separate run,
over the call only. POT is never run where its extrapolated peak exceeds ``POT_MEMORY_CAP``; dcor is never
run at n = 1e5: its O(n^2) need is computed, not measured.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(
        _var, "1"
    )  # one thread for every implementation: a fair, shared-machine-friendly test

import platform
import sys
import time
import tracemalloc

import numpy as np

from heavytail_diffusion.diagnostics.distances import (
    energy_distance,
    max_sliced_wasserstein,
    sliced_wasserstein,
)

REPEATS = 3
POT_MEMORY_CAP = 3e9  # bytes; the machine is shared
D = 10


def data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((D, D)) / np.sqrt(D) + np.eye(D)
    return rng.standard_t(3, (n, D)) @ A, rng.standard_t(4, (n, D)) @ A


def timed(fn, repeats: int = REPEATS):
    """Best CPU time of the process (robust to other jobs on the shared machine) and its wall time."""
    best, out = (np.inf, np.inf), None
    for _ in range(repeats):
        c, t = time.process_time(), time.perf_counter()
        out = fn()
        cpu, wall = time.process_time() - c, time.perf_counter() - t
        best = min(best, (cpu, wall))
    return best, out


def ft(tw) -> str:
    return f"{tw[0]:.3f} ({tw[1]:.2f})"


def peak(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, p = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return p


def fmt_bytes(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB" if b < 2**30 else f"{b / 2**30:,.1f} GiB"


def main() -> None:
    import ot

    rows: list[tuple] = []
    X, Y = data(100_000)

    # --- max-sliced W2 -------------------------------------------------------------------------------
    t_ours, v_ours = timed(lambda: max_sliced_wasserstein(X, Y, seed=0))
    m_ours = peak(lambda: max_sliced_wasserstein(X, Y, seed=0))
    rows.append(("max-sliced W2", "ours", "1e5", ft(t_ours), fmt_bytes(m_ours), f"{v_ours:.5f}", ""))

    n_proj = 500
    pot_small = {}
    for n in (5_000, 10_000):
        Xs, Ys = X[:n], Y[:n]

        def pot(Xs=Xs, Ys=Ys):
            return ot.max_sliced_wasserstein_distance(Xs, Ys, n_projections=n_proj, seed=0)

        t, v = timed(pot, repeats=1)
        mem = peak(pot)
        t_o, v_o = timed(lambda Xs=Xs, Ys=Ys: max_sliced_wasserstein(Xs, Ys, seed=0))
        pot_small[n] = (t, mem)
        rows.append(
            (
                "max-sliced W2",
                f"POT ({n_proj} random dirs)",
                f"{n:.0e}",
                ft(t),
                fmt_bytes(mem),
                f"{v:.5f}",
                f"ours at this n: {ft(t_o)} s, value {v_o:.5f}",
            )
        )
    # POT's time and memory are linear in n at fixed n_projections: extrapolate from n = 1e4
    (c10, _w10), m10 = pot_small[10_000]
    est_c, est_m = c10 * 10, m10 * 10
    if est_m <= POT_MEMORY_CAP:
        t, v = timed(
            lambda: ot.max_sliced_wasserstein_distance(X, Y, n_projections=n_proj, seed=0), repeats=1
        )
        mem = peak(lambda: ot.max_sliced_wasserstein_distance(X, Y, n_projections=n_proj, seed=0))
        note = f"ratio POT/ours: CPU time {t[0] / t_ours[0]:.0f}x, memory {mem / m_ours:.0f}x"
        rows.append(
            ("max-sliced W2", f"POT ({n_proj} random dirs)", "1e5", ft(t), fmt_bytes(mem), f"{v:.5f}", note)
        )
    else:
        note = (
            f"not run: over the {fmt_bytes(POT_MEMORY_CAP)} cap; POT/ours ~{est_c / t_ours[0]:.0f}x CPU time, "
            f"~{est_m / m_ours:.0f}x memory"
        )
        rows.append(
            (
                "max-sliced W2",
                f"POT ({n_proj} random dirs)",
                "1e5",
                f"~{est_c:.1f} (extrapolated x10 from 1e4)",
                f"~{fmt_bytes(est_m)} (extrapolated)",
                "-",
                note,
            )
        )

    # --- sliced W2 -----------------------------------------------------------------------------------
    t_s, v_s = timed(lambda: sliced_wasserstein(X, Y, n_projections=200, seed=0))
    m_s = peak(lambda: sliced_wasserstein(X, Y, n_projections=200, seed=0))
    rows.append(("sliced W2 (200 dirs)", "ours", "1e5", ft(t_s), fmt_bytes(m_s), f"{v_s:.5f}", ""))
    Xs, Ys = X[:20_000], Y[:20_000]
    t_p, v_p = timed(lambda: ot.sliced_wasserstein_distance(Xs, Ys, n_projections=200, seed=0), repeats=1)
    m_p = peak(lambda: ot.sliced_wasserstein_distance(Xs, Ys, n_projections=200, seed=0))
    t_o, v_o = timed(lambda: sliced_wasserstein(Xs, Ys, n_projections=200, seed=0))
    rows.append(
        (
            "sliced W2 (200 dirs)",
            "POT",
            "2e4",
            ft(t_p),
            fmt_bytes(m_p),
            f"{v_p:.5f}",
            f"ours at this n: {ft(t_o)} s, value {v_o:.5f} (other random directions)",
        )
    )

    # --- energy distance -----------------------------------------------------------------------------
    t_e, v_e = timed(lambda: energy_distance(X, Y, n_projections=100, seed=0))
    m_e = peak(lambda: energy_distance(X, Y, n_projections=100, seed=0))
    rows.append(("energy distance (100 dirs)", "ours", "1e5", ft(t_e), fmt_bytes(m_e), f"{v_e:.5f}", ""))
    try:
        import dcor

        n = 3000
        Xs, Ys = X[:n], Y[:n]
        dcor.energy_distance(Xs[:10], Ys[:10])  # numba compilation outside the timing
        t_d, v_d = timed(lambda: dcor.energy_distance(Xs, Ys), repeats=1)
        m_d = peak(lambda: dcor.energy_distance(Xs, Ys))
        t_o, v_o = timed(lambda: energy_distance(Xs, Ys, n_projections=100, seed=0))
        t_o2, v_o2 = timed(lambda: energy_distance(Xs, Ys, n_projections=2000, seed=0), repeats=1)
        rows.append(
            (
                "energy distance",
                f"dcor {dcor.__version__} (exact V-statistic)",
                f"{n:.0e}",
                ft(t_d),
                fmt_bytes(m_d),
                f"{v_d:.5f}",
                f"ours at this n: {v_o:.5f} (100 dirs, {ft(t_o)} s), {v_o2:.5f} (2000 dirs, {ft(t_o2)} s)",
            )
        )
        rows.append(
            (
                "energy distance",
                "dcor",
                "1e5",
                "not run",
                f">= {fmt_bytes(8.0 * 100_000**2)} (one n x n float64 matrix)",
                "-",
                (
                    f"measured peak at n = {n}: {fmt_bytes(m_d)} = {m_d / n**2:.0f} bytes x n^2, "
                    f"i.e. ~{fmt_bytes(m_d / n**2 * 100_000**2)} at 1e5"
                ),
            )
        )
    except ImportError:
        rows.append(("energy distance", "dcor", "-", "not installed", "", "", "pip install dcor"))

    print("# Two-sample distance speed: ours vs POT and dcor\n")
    print(
        f"Data: n = m rows, d = {D}, Student-t(3) vs Student-t(4) columns mixed by one random matrix. "
        "Time: process CPU seconds, with wall seconds in parentheses (the 2-core machine is shared with other "
        f"jobs, so wall time is inflated and noisy); best of {REPEATS} runs for ours, 1 run for the peers. "
        "One BLAS/numba thread for everyone. Peak memory by tracemalloc over the call (numpy buffers included). "
        f"numpy {np.__version__}, POT {ot.__version__}, Python {sys.version.split()[0]}, {platform.machine()}.\n"
    )
    print("| metric | implementation | n | CPU s (wall s) | peak memory | value | note |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")


if __name__ == "__main__":
    main()
