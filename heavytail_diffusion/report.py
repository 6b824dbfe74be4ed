"""Compare generators on repeated train/test splits, or score synthetic files, and write the tail scorecard.

:func:`compare` fits every requested generator on the training rows of several splits (5 by default; random
or time-ordered), in parallel across splits and models, draws synthetic rows and scores them on each split's
test rows. :func:`score_samples` scores synthetic rows made by anything (SDV, ForestDiffusion, ...) against
real rows. Both return a :class:`ComparisonResult` with the tidy metrics, the per-split summary, ranks with
their uncertainty and ties, small-data warnings and a verdict; :func:`write_report` writes it to a folder
(CSV tables, captioned figures, ``report.md`` and a self-contained ``report.html``).

The metrics, their noise floors and the ranking live in :mod:`heavytail_diffusion.scorecard`, the scoring
of synthetic rows (:func:`score_samples`, memorisation, :func:`scorecard_table`, :class:`ComparisonResult`)
in :mod:`heavytail_diffusion.scoring` (both re-exported here); this module fits the generators and writes
the report. Sign convention: xi > 0 is a heavy tail; a column's lower tail is the upper tail of -x.
"""

from __future__ import annotations

import base64
import html
import math
import multiprocessing
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

# The scoring (score_samples, ComparisonResult, memorisation, scorecard_table) lives in .scoring; the names
# marked F401 were importable from here before the split and stay so.
from . import scorecard as sc
from .data import DataWarning, Table, load_table  # noqa: F401
from .diagnostics import distances  # noqa: F401
from .errors import DataError
from .scoring import (  # noqa: F401
    ComparisonResult,
    _as_table,
    _finish,
    _fmt,
    _match_columns,
    _Memorisation,
    _pm,
    _read_frame,
    _score_task,
    _warn_all,
    score_samples,
    scorecard_table,
)
from .validation import as_generator, check_positive_int, check_probability  # noqa: F401

__all__ = [
    "METRICS",
    "ComparisonResult",
    "compare",
    "default_models",
    "run_tasks",
    "score_samples",
    "scorecard_table",
    "write_report",
]

#: One line per metric name of the tidy table, as written in the report.
METRICS: dict[str, str] = {
    "survival_area": "area between the log survival curves of reference and model beyond the reference 0.9 "
    "quantile, over the range of BOTH samples, each curve floored at one reference row (0 = identical; "
    "cannot reward a tail that is too light or too heavy)",
    "survival_signed_area": "the same area with sign: > 0 model tail too heavy, < 0 too light",
    "quantile_rel_error": "(Q_model(q) - Q_ref(q)) / |Q_ref(q)| at q = 0.99, 0.999 of the oriented column; "
    "ref_kind 'empirical' where the reference has >= 10 values beyond q, else 'gpd': Q_ref extrapolated from "
    "a GPD above the reference 0.9 quantile, ci_low/ci_high its 95% delta-method interval in error units",
    "hill_xi": "Hill xi of the model sample at the reference's tail fraction k/n (k by Danielsson's double "
    "bootstrap on the reference); ref_value: the reference xi, ci_low/ci_high: its 95% bootstrap interval",
    "hill_xi_abs_error": "|xi_model - xi_ref| of the Hill estimates above (the tail-index error)",
    "chi": "chi(u) of the pair at u = 0.9 and 0.95 (tail dependence; 0 independent, 1 comonotone); "
    "lower tail too when both columns take both signs; ref_value: the reference's",
    "chi_abs_error": "|chi_model(u) - chi_ref(u)|",
    "max_sliced_w2_slog": "max-sliced Wasserstein-2 in signed-log space slog(x) = sign(x) log1p(|x|) (joint "
    "shape; not ranked)",
    "memorisation_ratio": "median distance from a generated row to its nearest training row / the same for the "
    "test rows (robust-scaled; log for positive columns spanning > 2 decades); ~1 fine, << 1 copies",
    "nfe": "network function evaluations per sample (0 for closed-form models)",
    "fit_seconds": "wall-clock fit time (s)",
    "sample_seconds": "wall-clock time to draw the rows (s)",
    "error": "the model failed to fit or sample; the message is in 'note'",
}

_SUMMARY_DOC = {
    **{k: v[2] for k, v in sc.FAMILIES.items()},
    "rank": "mean over splits of the model's mean rank over the metrics above (1 = best); [low-high]: its best "
    "and worst split",
    "best": "share of splits in which the model has the best mean rank",
    "tied with": "models whose split-by-split ranks differ from this one's by no more than the split-to-split "
    "noise (paired 95% t interval of the rank difference covers 0)",
}


# ------------------------------------------------------------------------------------------------------------
# execution
# ------------------------------------------------------------------------------------------------------------
def run_tasks(fn: Callable, tasks: Sequence, *, workers: int | None = None) -> list:
    """``[fn(t) for t in tasks]``, in parallel over ``workers`` processes (default one per core).

    Uses :func:`heavytail_diffusion.execution.run_tasks` when that module exists; otherwise a
    ``concurrent.futures.ProcessPoolExecutor`` (spawned processes, torch limited to one thread each). One
    worker (or one task) runs in this process. Results come back in the order of ``tasks``.

    Parameters
    ----------
    fn : callable
        ``fn(task) -> result``; picklable (a module-level function) when more than one worker runs.
    tasks : sequence
        The tasks (picklable for more than one worker).
    workers : int, optional
        Number of processes, clipped to [1, len(tasks)]; default ``os.cpu_count()``.

    Returns
    -------
    results : list
        ``fn(t)`` for every t in ``tasks``, in that order.
    """
    tasks = list(tasks)
    n = (os.cpu_count() or 1) if workers is None else int(workers)
    n = max(1, min(n, len(tasks)))
    try:
        from .execution import run_tasks as _shared
    except ImportError:
        _shared = None
    if _shared is not None:
        return list(_shared(fn, tasks, workers=n, progress=False))
    if n == 1:
        return [fn(t) for t in tasks]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn")) as ex:
        return list(ex.map(fn, tasks))


def _in_child() -> bool:
    return multiprocessing.parent_process() is not None


# ------------------------------------------------------------------------------------------------------------
# model set-up
# ------------------------------------------------------------------------------------------------------------
def default_models(oracle: Callable | None = None) -> list[str]:
    """Every registered generator, except ``oracle-start`` when no oracle sampler is given."""
    from .models import MODELS, OPTIONAL_MODELS

    keep = [m for m in sorted(MODELS) if oracle is not None or m != "oracle-start"]
    return [m for m in keep if m not in OPTIONAL_MODELS]


def _check_models(models) -> list[str]:
    """Alias of :func:`heavytail_diffusion.models.check_model_names` (kept for earlier callers)."""
    from .models import check_model_names

    return check_model_names(models)


def _model_params(name: str, *, quick: bool, progress: bool, preprocessing, oracle, user: dict) -> dict:
    """Alias of :func:`heavytail_diffusion.models.model_params` (kept for earlier callers)."""
    from .models import model_params

    return model_params(name, quick=quick, progress=progress, preprocessing=preprocessing, oracle=oracle,
                        user=user)  # fmt: skip


_err_note = sc._note  # one line "Type: message" for a failed fit


def _fit_sample_task(task: dict) -> dict:
    """One (split, model): fit on the training rows, draw ``n_samples`` rows. Never raises."""
    from .models import MODELS, make_model, register_optional_models

    if _in_child():
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:  # pragma: no cover
            pass
    if task["model"] not in MODELS:
        register_optional_models()  # a peer, in a fresh worker process
    out = {"split": task["split"], "model": task["model"], "warnings": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = make_model(task["model"], **task["params"]).fit(
                task["train"], columns=list(task["columns"])
            )
            S = model.sample(task["n_samples"], seed=task["sample_seed"])
        except Exception as exc:  # noqa: BLE001  (one model's failure must not stop the comparison)
            out["error"] = _err_note(exc)
            return out
        finally:
            out["warnings"] = sorted({" ".join(str(w.message).split()) for w in caught})
    out.update(samples=np.asarray(S, dtype=np.float64), nfe=float(model.nfe), fit_seconds=model.fit_seconds_,
               sample_seconds=model.sample_seconds_)  # fmt: skip
    if task.get("keep_model"):
        out["fitted"] = model
    return out


# ------------------------------------------------------------------------------------------------------------
# compare
# ------------------------------------------------------------------------------------------------------------
def compare(
    data,
    models: Sequence[str] | str | None = None,
    *,
    columns=None,
    n_splits: int = 5,
    split: str = "random",
    test_fraction: float = 0.3,
    n_samples: int | None = None,
    seed: int = 0,
    quick: bool = False,
    preprocessing: str | Sequence[str] | None = None,
    model_params: Mapping[str, Mapping] | None = None,
    oracle: Callable | None = None,
    reference=None,
    dropna: bool = False,
    progress: bool = True,
    workers: int | None = 1,
) -> ComparisonResult:
    """Fit generators on repeated train/test splits and rank their tails on the held-out rows.

    For each of ``n_splits`` splits (:func:`heavytail_diffusion.scorecard.make_splits`) every model is
    fitted on the training rows (seed ``seed + split``) and draws ``n_samples`` rows; the samples are scored
    on the split's test rows (or on ``reference``) with
    :func:`heavytail_diffusion.scorecard.score_split`, each metric beside its noise floor; the models are
    ranked per split and the ranks summarised with their spread, the share of splits won and ties
    (:func:`heavytail_diffusion.scorecard.rank_splits`). Fits run in parallel over ``workers`` processes
    (:func:`run_tasks`). A model that fails on any split is reported as failed with the first reason
    (a warning too) and not ranked; the others go on.

    Parameters
    ----------
    data : str, Path, DataFrame, ndarray or Table
        The rows (raw scale); files are read with :func:`heavytail_diffusion.data.load_table`.
    models : sequence of str or comma-separated str, optional
        Registered generator names (default :func:`default_models`). Unknown names raise ValueError before
        anything is fitted.
    columns : str or sequence of str, optional
        Columns to use (default: every numeric column).
    n_splits : int
        Number of train/test splits (default 5).
    split : {"random", "time"}
        Random splits, or contiguous time blocks held out (rows in time order; see ``make_splits``).
    test_fraction : float
        Share of rows held out in each split, in (0, 1).
    n_samples : int, optional
        Rows drawn from each model per split (default ``max(n_test, 10000)``; 4000 with ``quick``).
    seed : int
        Seeds the splits, the fits (``seed + split``), the draws and the metrics.
    quick : bool
        Short training (``quick=True`` for the diffusion models, 150 flow steps), fewer bootstrap resamples
        and projections: a smoke-test setting, not a benchmark.
    preprocessing : str, list of str or None
        Given to every model only when set (a model's ``model_params`` win); None (default): each model
        chooses its own (from the table's schema where the models support it).
    model_params : dict name -> dict, optional
        Extra hyperparameters per model (e.g. ``{"edm": {"steps": 40}}``).
    oracle : callable (n, seed) -> (n, d) array, optional
        True-law sampler for ``oracle-start`` (benchmarks).
    reference : array of shape (N, d), optional
        Score against this true-law sample instead of the test rows (benchmarks); the floors are then two
        halves of it, and memorisation still uses the test rows.
    dropna : bool
        Drop rows with NaN/inf (reported) instead of failing.
    progress : bool
        Print one line per finished fit.
    workers : int or None
        Processes for the fits and the scoring (default 1: in this process; None: one per core).

    Returns
    -------
    ComparisonResult
    """
    model_names = default_models(oracle) if models is None else _check_models(models)
    model_params = dict(model_params or {})
    stray = sorted(set(model_params) - set(model_names))
    if stray:
        raise ValueError(f"model_params names model(s) {stray} that are not being compared ({model_names})")
    table = _as_table(data, columns, dropna)
    X, cols = table.values, tuple(table.columns)
    test_fraction = check_probability(test_fraction, "test_fraction")
    n_splits = check_positive_int(n_splits, "n_splits")
    schema = getattr(table, "schema", None)
    kinds = sc.column_kinds(schema, cols)
    order = _time_order(table, cols) if split == "time" and schema is not None else None
    splits = sc.make_splits(X.shape[0], n_splits, test_fraction, method=split, seed=seed, order=order)
    n_test = splits[0][1].size
    ref_all = None if reference is None else _check_reference(reference, X.shape[1])
    n_samples = (max(n_test, 4000 if quick else 10000) if n_samples is None
                 else check_positive_int(n_samples, "n_samples", minimum=20))  # fmt: skip
    preprocessing = _check_preprocessing(preprocessing, X.shape[1])
    tail_idx = sc.tail_columns(cols, kinds)
    if not tail_idx:
        raise DataError(f"no column of {table.source} can get tail metrics (kinds: {kinds})")
    tasks = _fit_tasks(splits, model_names, X, cols, n_samples=n_samples, seed=seed, quick=quick,
                       progress=progress, preprocessing=preprocessing, oracle=oracle,
                       model_params=model_params, in_process=workers == 1)  # fmt: skip
    if progress:
        print(f"compare: {len(model_names)} model(s) x {n_splits} split(s) = {len(tasks)} fits "
              f"({workers or os.cpu_count()} worker(s))", flush=True)  # fmt: skip
    t0 = time.perf_counter()
    fits = run_tasks(_fit_sample_task, tasks, workers=workers)
    failed, err_rows, samples, fitted = _collect_fits(fits, len(splits), n_samples, progress)
    score_tasks = [{"split": s, "reference": X[te] if reference is None else ref_all, "samples": samples[s],
                    "columns": cols, "tail_idx": tail_idx, "seed": seed + s, "quick": quick, "train": X[tr],
                    "discrete": [j for j in tail_idx if kinds[cols[j]] == "integer"], "test": X[te]}
                   for s, (tr, te) in enumerate(splits)]  # fmt: skip
    scored = run_tasks(_score_task, score_tasks, workers=workers)
    metrics = _sorted_metrics(pd.concat([pd.DataFrame(err_rows, columns=sc.FRAME_COLUMNS)] + scored,
                                        ignore_index=True), model_names)  # fmt: skip
    ref0 = X[splits[0][1]] if reference is None else ref_all
    warn = sc.small_data_warnings(ref0, cols, tail_idx, kinds=kinds, schema=schema)
    _warn_all(warn)
    per_split, summary, verdict = _finish(metrics, model_names, failed, warn, n_splits)
    info = {
        "source": table.source, "n_rows": int(X.shape[0]), "n_train": int(splits[0][0].size),
        "n_test": int(n_test), "test_fraction": test_fraction, "n_splits": n_splits, "split": split,
        "seed": seed, "n_samples": n_samples, "quick": quick,
        "preprocessing": preprocessing if preprocessing is not None else "each model's default",
        "reference": "test rows" if reference is None else f"given reference sample ({ref_all.shape[0]} rows)",
        "models": model_names, "kinds": kinds, "tail_columns": [cols[j] for j in tail_idx],
        "workers": workers, "wall_seconds": time.perf_counter() - t0, "mode": "compare",
    }  # fmt: skip
    tr0, te0 = splits[0]
    return ComparisonResult(metrics, per_split, summary, verdict, warn, samples[0], X[tr0], X[te0], ref0, cols,
                            info, fitted)  # fmt: skip


# compare's steps, in the order it runs them
def _time_order(table, cols: Sequence[str]) -> np.ndarray | None:
    """Row indices in time order from the schema's first time column (None when there is none)."""
    # the first time column orders the rows; it is not modelled, so it lives in table.extra
    tnames = [sp.name for sp in table.schema if sp.kind == "time"]
    extra = getattr(table, "extra", None)
    if tnames and extra is not None and tnames[0] in extra.columns:
        return np.argsort(extra[tnames[0]].to_numpy(), kind="stable")
    if tnames and tnames[0] in cols:
        return np.argsort(table.values[:, list(cols).index(tnames[0])], kind="stable")
    return None


def _check_reference(reference, d: int) -> np.ndarray:
    """``reference`` as a finite float array with ``d`` columns, or a DataError."""
    ref_all = np.asarray(reference, dtype=np.float64)
    if ref_all.ndim != 2 or ref_all.shape[1] != d or not np.isfinite(ref_all).all():
        raise DataError(f"reference must be a finite array with {d} columns, got shape {ref_all.shape}")
    return ref_all


def _check_preprocessing(preprocessing, d: int):
    """None for "auto" (each model's own default), else a str or a list of one transform per column."""
    if isinstance(preprocessing, str) and preprocessing == "auto":
        preprocessing = None  # the models' own default chooses from the schema
    if preprocessing is not None and not isinstance(preprocessing, str):
        preprocessing = list(preprocessing)
        if len(preprocessing) != d:
            raise ValueError(f"preprocessing lists {len(preprocessing)} transforms for {d} columns")
    return preprocessing


def _fit_tasks(splits, model_names, X, cols, *, n_samples, seed, quick, progress, preprocessing, oracle,
               model_params, in_process) -> list[dict]:  # fmt: skip
    """One task per (split, model), split-major: the model's parameters, seeds and training rows."""
    tasks = []
    for s, (tr, _te) in enumerate(splits):
        for name in model_names:
            params = _model_params(name, quick=quick, progress=progress and in_process, oracle=oracle,
                                   preprocessing=preprocessing, user=dict(model_params.get(name, {})))  # fmt: skip
            params["seed"] = params.get("seed", seed) + s
            tasks.append({"split": s, "model": name, "params": params, "train": X[tr], "columns": cols,
                          "n_samples": n_samples, "sample_seed": seed + 1 + 1000 * s,
                          "keep_model": in_process and s == 0})  # fmt: skip
    return tasks


def _collect_fits(fits, n_splits: int, n_samples: int, progress: bool):
    """(failed, cost rows, samples per split, fitted models of split 0) from the fit results.

    Each fit's warnings are repeated once per model; a model that fails on any split is failed everywhere
    (its samples of the other splits are dropped) with the first reason.
    """
    failed: dict[str, str] = {}
    err_rows, samples, fitted = [], [{} for _ in range(n_splits)], {}
    seen: set[tuple[str, str]] = set()
    for f in fits:
        name, s = f["model"], f["split"]
        for w in f["warnings"]:
            if (name, w) not in seen:  # once per model, not once per split
                seen.add((name, w))
                warnings.warn(f"compare: {name}: {w}", stacklevel=3)
        if "error" in f:
            if name not in failed:
                failed[name] = f"split {s}: {f['error']}"
                warnings.warn(f"compare: model {name!r} failed and is not ranked: {f['error']}", stacklevel=3)
            err_rows.append(sc._row(s, name, "error", "model", math.nan, note=f["error"]))
            continue
        samples[s][name] = f["samples"]
        err_rows += [sc._row(s, name, "nfe", "model", f["nfe"]),
                     sc._row(s, name, "fit_seconds", "model", f["fit_seconds"]),
                     sc._row(s, name, "sample_seconds", "model", f["sample_seconds"], note=f"{n_samples} rows")]  # fmt: skip
        if "fitted" in f:
            fitted[name] = f["fitted"]
        if progress:
            print(
                f"  split {s} {name}: fit {f['fit_seconds']:.1f} s, sample {f['sample_seconds']:.1f} s",
                flush=True,
            )
    for s in range(n_splits):
        for name in failed:
            samples[s].pop(name, None)
    return failed, err_rows, samples, fitted


def _sorted_metrics(metrics: pd.DataFrame, model_names: Sequence[str]) -> pd.DataFrame:
    """Rows by split, then models in the order they were asked for (stable)."""
    order_m = {m: i for i, m in enumerate(model_names)}
    return metrics.sort_values(["split", "model"], key=lambda c: c.map(order_m) if c.name == "model" else c,
                               kind="stable").reset_index(drop=True)  # fmt: skip


# ------------------------------------------------------------------------------------------------------------
# report files
# ------------------------------------------------------------------------------------------------------------
def _costs_table(result: ComparisonResult) -> pd.DataFrame:
    S = result.summary[result.summary.status == "ok"]
    keep = [
        c
        for c in ("msw_slog", "memorisation_ratio", "nfe", "fit_seconds", "sample_seconds")
        if c in S.columns
    ]
    T = S[keep].copy()
    if "msw_slog_floor" in S.columns and len(S):
        T.loc["(noise floor)"] = {"msw_slog": S["msw_slog_floor"].mean()}
    return T.reset_index()


def _per_column_table(result: ComparisonResult) -> pd.DataFrame:
    """Mean over splits per column, tail and model: Hill xi vs the reference's, quantile errors, signed area."""
    M = result.metrics
    M = M[M.model.isin(result.summary.index[result.summary.status == "ok"])]
    out = []
    for (c, t), g in M[M.metric.isin(["hill_xi", "quantile_rel_error", "survival_signed_area"])].groupby(
        ["target", "tail"], sort=False
    ):
        for name, h in g.groupby("model", sort=False):
            hx = h[h.metric == "hill_xi"]
            q = {
                lev: h[(h.metric == "quantile_rel_error") & np.isclose(h.level, lev)]
                for lev in sc.QUANTILE_LEVELS
            }
            out.append({
                "column": c, "tail": t, "model": name, "hill_xi": hx.value.mean(),
                "ref_hill_xi [95% CI]": (f"{hx.ref_value.mean():.3g} [{hx.ci_low.mean():.3g}, {hx.ci_high.mean():.3g}]"
                                         if len(hx) else ""),
                **{f"q{lev:g}_rel_err": q[lev].value.mean() for lev in sc.QUANTILE_LEVELS},
                "q0.999 ref": ", ".join(sorted(set(q[0.999].ref_kind) - {""})) or "",
                "signed_area": h[h.metric == "survival_signed_area"].value.mean(),
            })  # fmt: skip
    return pd.DataFrame(out)


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in df.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v).replace("|", "\\|") for v in r) + " |")
    return "\n".join(lines)


def _setting(result: ComparisonResult) -> str:
    i = result.info
    if i.get("mode") == "score":
        return (f"Real data: `{i.get('source')}` ({i.get('n_rows')} rows; columns {', '.join(result.columns)}). "
                f"{i.get('n_splits')} repeats (seed {i.get('seed')}): each scores {i.get('reference')} against a "
                f"random half of each synthetic set (sizes {i.get('n_samples')}).")  # fmt: skip
    return (
        f"Data: `{i.get('source')}` ({i.get('n_rows')} rows; columns {', '.join(result.columns)}; tail metrics on "
        f"{', '.join(i.get('tail_columns', []))}). {i.get('n_splits')} {i.get('split')} splits (seed {i.get('seed')}): "
        f"{i.get('n_train')} training rows, {i.get('n_test')} test rows each (test fraction {i.get('test_fraction')}). "
        f"Metrics against: {i.get('reference')}. Each model drew {i.get('n_samples')} rows per split. Preprocessing: "
        f"{i.get('preprocessing')}. Quick mode: {i.get('quick')}"
        + (" (short training: a smoke test, not a benchmark)." if i.get("quick") else ".")
    )


#: Caption and file name of each kind of figure of :func:`heavytail_diffusion.plots.comparison_figures`
#: ({0}, {1}: the column names of the figure).
_FIGURES: dict[str, tuple[str, str]] = {
    "scorecard": (
        ("Scorecard: each metric's mean over splits (dot) with ± one split-to-split standard deviation "
         "(bar) per model, the grey band the noise floor (two halves of the real rows scored against each "
         "other). Look for models whose bars reach the band; bars that overlap mean no real difference."),
        "scorecard.png",
    ),
    "tails": (
        ("{0}, first split: log-log survival (left; a model whose curve falls below the black one has too "
         "light a tail, above it too heavy), QQ of the tail, log scale (middle; on the diagonal = right "
         "quantiles), Hill ξ against the tail fraction (right; the band is the reference's 95% interval: a "
         "right tail index stays inside it)."),
        "tails_{0}.png",
    ),
    "pairs": (
        ("{0} and {1}, first split: each model's rows (colour) over the reference rows (grey). Look at the "
         "corners: joint extremes that the reference has and a model lacks (or invents)."),
        "pairs_{0}_{1}.png",
    ),
    "chi": (
        ("{0} and {1}: tail dependence χ(u) (left) and χ̄(u) (right) of the reference (black, with 95% "
         "band) and the models, first split. A model inside the band at u = 0.9-0.95 has the right joint "
         "extremes."),
        "chi_{0}_{1}.png",
    ),
}


def _figures(result: ComparisonResult, out: Path, max_pairs: int) -> list[tuple[str, str]]:
    """Write the PNGs of the first split; returns (caption, filename) in report order."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from . import plots

    ok = result.summary[result.summary.status == "ok"]
    figs: list[tuple[str, str]] = []
    drawn = plots.comparison_figures(result.reference, result.samples, result.columns, summary=ok,
                                     tail_columns=result.info.get("tail_columns"), max_pairs=max_pairs,
                                     seed=result.info.get("seed", 0))  # fmt: skip
    for kind, names, fig in drawn:
        caption, fname = _FIGURES[kind]
        fname = fname.format(*map(_safe, names))
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        figs.append((caption.format(*names), fname))
    return figs


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(name))


def write_report(result: ComparisonResult, out_dir, *, max_pairs: int = 3, figures: bool = True) -> Path:
    """Write ``metrics.csv``, ``per_split.csv``, ``summary.csv``, captioned PNGs, ``report.md`` and a
    self-contained ``report.html`` (PNGs embedded) to ``out_dir``.

    The report opens with the small-data warnings and the verdict, then the scorecard (mean ± sd over
    splits, noise-floor row, failed models as one line with a footnote), costs, the per-column table and the
    figures, each with a caption that says what to look for.

    Parameters
    ----------
    result : ComparisonResult
        What :func:`compare` (or :func:`heavytail_diffusion.scoring.score_samples`) returns.
    out_dir : str or path-like
        Folder to write to, created if missing (with its parents); files of the same names are replaced.
    max_pairs : int, default 3
        Most tail-column pairs that get a scatter grid and a chi plot.
    figures : bool, default True
        Draw the PNGs (False: tables and text only, no matplotlib).

    Returns
    -------
    path : pathlib.Path
        Path of ``report.html``.

    Raises
    ------
    DataError
        If ``out_dir`` exists and is not a folder.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    result.metrics.to_csv(out / "metrics.csv", index=False)
    result.per_split.to_csv(out / "per_split.csv", index=False)
    result.summary.to_csv(out / "summary.csv")
    figs = _figures(result, out, max_pairs) if figures else []
    card, notes = scorecard_table(result)
    costs = _costs_table(result)
    percol = _per_column_table(result)
    setting = _setting(result)
    title = "Tail scorecard" if result.info.get("mode") == "score" else "Generator comparison"
    md = [f"# {title}", "", setting, ""]
    if result.warnings:
        md += ["**Small-data warnings**", ""] + [f"- {w}" for w in result.warnings] + [""]
    md += ["## Verdict", "", result.verdict, "", "## Scorecard (best first; mean ± sd over splits)", "",
           _md_table(card), ""] + notes + [""]  # fmt: skip
    md += [f"- **{k}**: {v}" for k, v in _SUMMARY_DOC.items()] + [""]
    if len(costs):
        md += ["## Joint distance, copying and cost", "", _md_table(costs), ""]
    if len(percol):
        md += ["## Per column and tail (mean over splits)", "", _md_table(percol), ""]
    md += ["## Figures", ""] + [f"![{cap}]({f})\n\n*{cap}*\n" for cap, f in figs]
    md += ["## Metrics (metrics.csv)", ""] + [f"- `{k}`: {v}" for k, v in METRICS.items()]
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")

    def table_html(df):
        return df.to_html(index=False, na_rep="", float_format=_fmt, border=0, classes="t")

    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'>", f"<title>{title}</title><style>",
             ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}table.t{border-collapse:"
             "collapse;font-size:13px}table.t td,table.t th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
             "img{max-width:100%}figcaption{font-style:italic;margin-bottom:2em}.warn{background:#fff3cd;padding:"
             ".5em}"), f"</style></head><body><h1>{title}</h1><p>{esc(setting)}</p>"]  # fmt: skip
    if result.warnings:
        parts += ["<div class='warn'><b>Small-data warnings</b><ul>"]
        parts += [f"<li>{esc(w)}</li>" for w in result.warnings] + ["</ul></div>"]
    parts += ["<h2>Verdict</h2>", f"<p>{esc(result.verdict).replace('**', '')}</p>",
              "<h2>Scorecard (best first; mean ± sd over splits)</h2>", table_html(card)]  # fmt: skip
    parts += [f"<p><small>{esc(n)}</small></p>" for n in notes]
    parts += ["<ul>"] + [f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in _SUMMARY_DOC.items()] + ["</ul>"]
    if len(costs):
        parts += ["<h2>Joint distance, copying and cost</h2>", table_html(costs)]
    if len(percol):
        parts += ["<h2>Per column and tail (mean over splits)</h2>", table_html(percol)]
    parts += ["<h2>Figures</h2>"]
    for cap, f in figs:
        b64 = base64.b64encode((out / f).read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt='{esc(cap)}' src='data:image/png;base64,{b64}'><figcaption>{esc(cap)}"
                     "</figcaption></figure>")  # fmt: skip
    parts += ["<h2>Metrics (metrics.csv)</h2><ul>"]
    parts += [f"<li><code>{esc(k)}</code>: {esc(v)}</li>" for k, v in METRICS.items()] + [
        "</ul></body></html>"
    ]
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
