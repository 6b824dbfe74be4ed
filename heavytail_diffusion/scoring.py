"""Score synthetic rows from any generator against real rows: :func:`score_samples` and what it returns.

:func:`score_samples` scores synthetic rows made by anything (this package's generators, SDV,
ForestDiffusion, ...) against real rows on repeated random halves; :func:`scorecard_table` is the
laptop-width summary of the result. The metrics, their noise floors and the ranking live in
:mod:`heavytail_diffusion.scorecard`; the memorisation ratio (nearest training row) is here. Nothing in
this module fits a model or imports torch: :func:`heavytail_diffusion.report.compare` fits the
generators and hands their samples to the same scoring (:func:`_score_task`), and
:func:`heavytail_diffusion.report.write_report` writes either result to a folder.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import scorecard as sc
from .data import DataWarning, Table, load_table
from .diagnostics import distances
from .errors import DataError
from .validation import as_generator, check_positive_int

__all__ = ["ComparisonResult", "score_samples", "scorecard_table"]


@dataclass
class ComparisonResult:
    """What :func:`heavytail_diffusion.report.compare` and :func:`score_samples` return.

    Attributes
    ----------
    metrics : DataFrame
        Tidy table, one row per (split, model, metric, target, tail, level), columns
        :data:`heavytail_diffusion.scorecard.FRAME_COLUMNS`: ``split, model, metric, target`` (column name,
        pair ``"a|b"``, ``"joint"`` or ``"model"``), ``tail, level, value, ref_value, ci_low, ci_high, floor``
        (the metric between two halves of the reference rows), ``ref_kind, note``. Names:
        :data:`heavytail_diffusion.report.METRICS`.
    per_split : DataFrame
        One row per (split, model): each ranked metric (:data:`heavytail_diffusion.scorecard.FAMILIES`) and
        its floor.
    summary : DataFrame
        One row per model (index), ranked best first (failed models last, ``rank`` NaN): mean and standard
        deviation of each metric over splits, its floor, ``rank``, ``rank_low``, ``rank_high``,
        ``share_best``, ``tied_with``, ``best_in``, ``status``.
    verdict : str
        A paragraph written from the numbers.
    warnings : list of str
        Small-data warnings.
    samples : dict name -> ndarray
        Each model's rows of the first split.
    train, test, reference : ndarray
        The first split's rows (``train`` empty for :func:`score_samples`); ``reference`` what split 0 was
        scored against.
    columns : tuple of str
    info : dict
        Settings (splits, seeds, sizes, source, ...).
    models : dict name -> fitted model of the first split (only for in-process runs)
    """

    metrics: pd.DataFrame
    per_split: pd.DataFrame
    summary: pd.DataFrame
    verdict: str
    warnings: list[str]
    samples: dict[str, np.ndarray]
    train: np.ndarray
    test: np.ndarray
    reference: np.ndarray
    columns: tuple[str, ...]
    info: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------------------
# scoring one split: tail metrics and memorisation
# ------------------------------------------------------------------------------------------------------------
def _score_task(task: dict) -> pd.DataFrame:
    """Score every sample of one split against its reference (and memorisation against its training rows)."""
    M = sc.score_split(task["reference"], task["samples"], columns=task["columns"], tail_idx=task["tail_idx"],
                       split=task["split"], seed=task["seed"], quick=task["quick"],
                       discrete=task.get("discrete", ()))  # fmt: skip
    rows = []
    if task.get("train") is not None and len(task["samples"]):
        mem = _Memorisation(task["train"], task["test"])
        for name, S in task["samples"].items():
            rows.append(mem.row(task["split"], name, S))
    return pd.concat([M, pd.DataFrame(rows, columns=sc.FRAME_COLUMNS)], ignore_index=True) if rows else M


class _Memorisation:
    """Nearest-training-row distances of the test rows: the yardstick for generated rows."""

    def __init__(self, train: np.ndarray, test: np.ndarray):
        logs = np.array([c.min() > 0 and c.max() / c.min() > 100 for c in train.T])
        self.logs = logs
        G = self._log(train)
        self.med = np.median(G, axis=0)
        iqr = np.subtract(*np.quantile(G, [0.75, 0.25], axis=0))
        self.iqr = np.where(iqr > 0, iqr, np.std(G, axis=0) + 1e-300)
        self.train = self._scale(train)
        self.median_test = float(np.median(distances.nearest_distances(self._scale(test), self.train)))

    def _log(self, A):
        A = np.array(A, dtype=np.float64, copy=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            A[:, self.logs] = np.log(A[:, self.logs])
        return A

    def _scale(self, A):
        return (self._log(A) - self.med) / self.iqr

    def row(self, split: int, name: str, S: np.ndarray) -> dict:
        Z = self._scale(S)
        ok = np.isfinite(Z).all(axis=1)
        d = distances.nearest_distances(Z[ok], self.train) if ok.any() else np.array([np.nan])
        ratio = float(np.median(d)) / self.median_test if self.median_test > 0 else math.nan
        note = "" if ok.all() else f"{int((~ok).sum())} generated rows off the log domain were left out"
        return sc._row(
            split, name, "memorisation_ratio", "joint", ratio, ref_value=self.median_test, note=note
        )


# ------------------------------------------------------------------------------------------------------------
# shared tail of compare and score_samples
# ------------------------------------------------------------------------------------------------------------
def _finish(metrics: pd.DataFrame, names: Sequence[str], failed: Mapping[str, str], warn: list[str],
            n_splits: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:  # fmt: skip
    ok = [m for m in names if m not in failed]
    per_split = sc.split_summary(metrics[metrics.model.isin(ok)]) if ok else pd.DataFrame()
    ranked = sc.rank_splits(per_split, ok) if ok and len(per_split) else pd.DataFrame()
    verdict = sc.verdict(ranked, n_splits=n_splits, failed=failed, warnings=warn)
    summary = ranked.copy()
    summary["status"] = "ok"
    if failed:
        extra = pd.DataFrame({"status": [f"failed: {failed[m]}" for m in failed]},
                             index=pd.Index(list(failed), name="model"))  # fmt: skip
        summary = pd.concat([summary, extra]) if len(summary) else extra
    summary.index.name = "model"
    return per_split, summary, verdict


def _warn_all(warn: list[str]) -> None:
    for w in warn:
        warnings.warn(f"small data: {w}", DataWarning, stacklevel=3)


def _as_table(data, columns, dropna, **read_options) -> Table:
    if isinstance(data, Table):
        if columns is None:
            return data
        return load_table(data.to_frame(labels=True), columns=columns, dropna=dropna, schema=read_options.get("schema"))
    return load_table(data, columns=columns, dropna=dropna, **read_options)


# ------------------------------------------------------------------------------------------------------------
# score_samples: synthetic rows from anything
# ------------------------------------------------------------------------------------------------------------
def _match_columns(frame: pd.DataFrame, cols: Sequence[str], label: str, schema=None) -> np.ndarray:
    """``frame``'s columns ``cols`` as a float array; a clear error for missing, extra or renamed columns.
    Categorical text columns of the real table (``schema``) are mapped to the real table's codes; its id and
    time columns (not modelled) may be present and are ignored."""
    import difflib

    have = [str(c) for c in frame.columns]
    missing = [c for c in cols if c not in have]
    # id and time columns of the real table are not modelled and not scored: a synthetic set may carry them
    carried = {s.name for s in schema if not s.modelled} if schema is not None else set()
    extra = [c for c in have if c not in cols and c not in carried]
    if missing:
        hints = []
        lower = {e.lower(): e for e in extra}
        for c in missing:
            close = (
                [lower[c.lower()]]
                if c.lower() in lower
                else difflib.get_close_matches(c, extra, n=1, cutoff=0.5)
            )
            if close:
                hints.append(f"{c!r} -> {close[0]!r}?")
        hint = f" (renamed? {', '.join(hints)})" if hints else ""
        raise DataError(f"{label} lacks column(s) {missing} of the real data{hint}; it has {have}")
    if extra:
        raise DataError(f"{label} has column(s) {extra} that the real data ({list(cols)}) do not have; drop them "
                        "or pass --columns to score a subset")  # fmt: skip
    A = frame[list(cols)].copy()
    for c in cols:
        spec = schema[c] if schema is not None and c in schema else None
        if spec is not None and spec.coded:
            codes = {str(v): i for i, v in enumerate(spec.categories)}
            unknown = sorted({str(v) for v in A[c].dropna()} - set(codes))
            if unknown:
                raise DataError(f"{label}: column {c!r} has categories {unknown[:5]} that the real data do not have "
                                f"(real: {list(spec.categories)[:10]})")  # fmt: skip
            A[c] = A[c].map(lambda v, codes=codes: codes.get(str(v), np.nan)).astype(np.float64)
    bad = [c for c in cols if not pd.api.types.is_numeric_dtype(A[c])]
    if bad:
        raise DataError(f"{label}: column(s) {bad} are not numeric")
    A = A.to_numpy(dtype=np.float64)
    rows = np.flatnonzero(~np.isfinite(A).all(axis=1))
    if rows.size:
        raise DataError(
            f"{label}: row {int(rows[0]) + 1} has a NaN or infinite value ({rows.size} such rows)"
        )
    if A.shape[0] < 20:
        raise DataError(f"{label} has {A.shape[0]} rows; at least 20 are needed")
    return A


def _read_frame(src, label: str, read_options: dict | None = None) -> pd.DataFrame:
    """A synthetic set as a raw DataFrame: files through the same reader as the real data (delimiter and
    decimal-comma detection, ``read_options`` = sep/decimal/thousands)."""
    from .data import read_frame

    if isinstance(src, pd.DataFrame):
        return src
    if isinstance(src, str | Path):
        try:
            return read_frame(src, **(read_options or {}))
        except DataError as exc:
            raise DataError(f"{label}: {exc}") from None
    raise TypeError(f"{label}: expected a DataFrame, an array or a file path, got {type(src).__name__}")


def score_samples(
    real,
    samples: Mapping[str, object],
    *,
    columns=None,
    n_splits: int = 5,
    reference_fraction: float = 0.5,
    seed: int = 0,
    quick: bool = False,
    train=None,
    dropna: bool = False,
    read_options: dict | None = None,
) -> ComparisonResult:
    """The tail scorecard for synthetic rows made by anything: the Python entry point of ``heavytail score``.

    Each of ``n_splits`` repeats scores a random ``reference_fraction`` of the real rows (the reference)
    against a random half of each synthetic set, so the spread over repeats shows how much of a difference
    is noise; ranks, ties, noise floors (two halves of the reference), small-data warnings and the verdict
    are as in :func:`compare`.

    Parameters
    ----------
    real : str, Path, DataFrame, ndarray or Table
        The real rows.
    samples : mapping name -> DataFrame, ndarray or file path
        Synthetic rows per generator. DataFrames and files are matched to the real columns *by name*: a
        missing, extra or renamed column is an error naming it (arrays must have the real columns' order).
    columns : sequence of str, optional
        Real columns to score (default every numeric one); synthetic sets may then hold more columns.
    n_splits : int
        Repeats (default 5).
    reference_fraction : float
        Share of the real rows in each repeat's reference, in (0, 1] (1: all rows every time; then only the
        synthetic half varies).
    seed : int
    quick : bool
        Fewer bootstrap resamples and projections.
    train : array-like, optional
        The rows the generators were trained on, if known: adds the memorisation ratio.
    dropna : bool
        Drop real rows with NaN/inf instead of failing.
    read_options : dict, optional
        ``sep``, ``decimal``, ``thousands`` and ``schema`` for reading the files (as in
        :func:`~heavytail_diffusion.data.load_table`).

    Returns
    -------
    ComparisonResult (``train`` as given or empty, ``models`` empty).

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail_diffusion.scoring import score_samples
    >>> rng = np.random.default_rng(0)
    >>> real = rng.standard_t(3, size=(600, 1))
    >>> res = score_samples(real, {"t3": rng.standard_t(3, size=(4000, 1)),
    ...                            "normal": rng.normal(size=(4000, 1))}, quick=True)
    >>> res.summary.index[0]
    't3'
    """
    if not samples:
        raise ValueError("samples is empty; give at least one synthetic set")
    read_options = dict(read_options or {})
    table = _as_table(real, columns, dropna, **read_options)
    read_options.pop("schema", None)
    X, cols = table.values, tuple(table.columns)
    arrays = {}
    for name, src in samples.items():
        label = f"synthetic set {name!r}" + (f" ({src})" if isinstance(src, str | Path) else "")
        if isinstance(src, np.ndarray):
            A = np.asarray(src, dtype=np.float64)
            A = A[:, None] if A.ndim == 1 else A
            if A.ndim != 2 or A.shape[1] != X.shape[1]:
                raise DataError(
                    f"{label} has shape {A.shape}; the real data have {X.shape[1]} columns {list(cols)}"
                )
            if not np.isfinite(A).all():
                raise DataError(f"{label} has NaN or infinite values")
        else:
            frame = _read_frame(src, label, read_options)
            if columns is not None:  # a subset was asked for: the synthetic set may hold more columns
                frame = frame[[c for c in frame.columns if str(c) in cols]]
            A = _match_columns(frame, cols, label, table.schema)
        arrays[str(name)] = A
    n_splits = check_positive_int(n_splits, "n_splits")
    if not 0 < reference_fraction <= 1:
        raise ValueError(f"reference_fraction must be in (0, 1], got {reference_fraction}")
    kinds = sc.column_kinds(getattr(table, "schema", None), cols)
    tail_idx = sc.tail_columns(cols, kinds)
    n_ref = max(20, round(reference_fraction * X.shape[0]))
    rng = as_generator(seed)
    tasks = []
    for s in range(n_splits):
        ridx = np.sort(rng.permutation(X.shape[0])[:n_ref])
        sub = {k: A[np.sort(rng.permutation(A.shape[0])[: max(20, A.shape[0] // 2)])] if n_splits > 1 else A
               for k, A in arrays.items()}  # fmt: skip
        tasks.append({"split": s, "reference": X[ridx], "samples": sub, "columns": cols, "tail_idx": tail_idx,
                      "seed": seed + s, "quick": quick, "discrete": [j for j in tail_idx if kinds[cols[j]] == "integer"],
                      "train": None if train is None else np.asarray(train, dtype=np.float64), "test": X[ridx]})  # fmt: skip
    t0 = time.perf_counter()
    metrics = pd.concat([_score_task(t) for t in tasks], ignore_index=True)
    warn = sc.small_data_warnings(tasks[0]["reference"], cols, tail_idx, kinds=kinds,
                                  schema=getattr(table, "schema", None))
    _warn_all(warn)
    per_split, summary, verdict = _finish(metrics, list(arrays), {}, warn, n_splits)
    info = {"source": table.source, "n_rows": int(X.shape[0]), "n_test": int(n_ref), "n_splits": n_splits,
            "reference_fraction": reference_fraction, "seed": seed, "quick": quick, "mode": "score",
            "n_samples": {k: int(A.shape[0]) for k, A in arrays.items()}, "models": list(arrays), "kinds": kinds,
            "tail_columns": [cols[j] for j in tail_idx], "wall_seconds": time.perf_counter() - t0,
            "reference": f"random {reference_fraction:g} of the real rows per repeat ({n_ref} rows)"}  # fmt: skip
    empty = np.empty((0, X.shape[1])) if train is None else np.asarray(train, dtype=np.float64)
    return ComparisonResult(metrics, per_split, summary, verdict, warn, arrays, empty, X, tasks[0]["reference"],
                            cols, info, {})  # fmt: skip


# ------------------------------------------------------------------------------------------------------------
# the scorecard table
# ------------------------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, int | np.integer):
        return str(int(v))
    v = float(v)
    if math.isinf(v):
        return "undefined"
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.2e}"


def _pm(mean, sd) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    return _fmt(mean) + (f" ± {_fmt(sd)}" if sd is not None and math.isfinite(sd) else "")


def scorecard_table(result: ComparisonResult) -> tuple[pd.DataFrame, list[str]]:
    """The laptop-width summary: one row per model (mean ± sd over splits), a noise-floor row, and failed
    models as one short line each with the reason in a footnote. Returns (table, footnotes)."""
    S = result.summary
    fams = [f for f in sc.FAMILIES if f in S.columns]
    rows, notes = [], []
    for name, r in S.iterrows():
        if r.status != "ok":
            notes.append(f"[{len(notes) + 1}] {name}: {r.status[len('failed: ') :]}")
            rows.append({"model": f"{name} (failed [{len(notes)}])", "rank": "", "best": "",
                         **{f: "" for f in fams}, "tied with": ""})  # fmt: skip
            continue
        rows.append({"model": name, "rank": f"{r['rank']:.2f} [{r.rank_low:.1f}-{r.rank_high:.1f}]",
                     "best": f"{r.share_best:.0%}", **{f: _pm(r[f], r.get(f + "_sd")) for f in fams},
                     "tied with": r.tied_with or "-"})  # fmt: skip
    ok = S[S.status == "ok"]
    if len(ok):
        rows.append({"model": "(noise floor)", "rank": "", "best": "",
                     **{f: _fmt(ok[f + "_floor"].mean()) for f in fams}, "tied with": ""})  # fmt: skip
    return pd.DataFrame(rows), notes
