"""Compare generators on held-out data: tail metrics, ranked summary, figures, and a Markdown/HTML report.

:func:`compare` splits the data into train and test rows with a seed, fits every requested generator on the
training rows, draws synthetic rows, and scores them on the test rows (or on a large reference sample from
the true law, for benchmarks) with the extreme-value diagnostics of :mod:`heavytail_diffusion.diagnostics`.
:func:`write_report` writes the tables, the figures and a readable report to a folder.

Sign convention: xi > 0 is a heavy (Pareto-type) tail everywhere. A column's *lower* tail is analysed as the
upper tail of -x (loss convention), so every per-tail number below refers to the upper tail of the oriented
variable ``y = x`` ("upper") or ``y = -x`` ("lower").
"""

from __future__ import annotations

import base64
import html
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from .data import Table, load_table
from .diagnostics import dependence, distances, evt, quantiles, tail_index
from .errors import DataError, NumericalError
from .validation import as_generator, check_positive_int, check_probability

__all__ = [
    "METRICS",
    "RANK_METRICS",
    "ComparisonResult",
    "auto_preprocessing",
    "compare",
    "default_models",
    "score_samples",
    "write_report",
]

#: Quantile levels of the quantile errors (on the oriented variable; kept only where the data support them).
QUANTILE_LEVELS = (0.9, 0.95, 0.99, 0.995, 0.999)
#: Levels of VaR / expected shortfall.
RISK_LEVELS = (0.99, 0.999)
#: Quantile of the reference data above which the GPD is fitted (common threshold for data and every model).
GPD_QUANTILE = 0.9
#: Level of the tail KS test (conditional law above the reference q-quantile) and of chi(u).
TAIL_KS_QUANTILE = 0.95
CHI_LEVEL = 0.95
#: Lower end (reference quantile) of the log-log CCDF area.
CCDF_QUANTILE = 0.9

#: One line per metric name, as written in the report.
METRICS: dict[str, str] = {
    "hill_xi": "Hill estimate of xi (> 0: heavy tail) on the model sample, using the same tail fraction k/n as "
    "the reference data (k chosen on the reference by Danielsson's double bootstrap); ci_low/ci_high: 95% "
    "bootstrap interval; ref_value: the reference data's xi",
    "hill_xi_abs_error": "|xi_model - xi_reference| of the Hill estimates above",
    "gpd_xi": "GPD shape xi fitted by ML above the reference data's 0.9 quantile (common threshold); "
    "ci: +-1.96 standard errors",
    "gpd_xi_abs_error": "|GPD xi_model - GPD xi_reference| above the common threshold",
    "quantile_rel_error": "(Q_model(q) - Q_ref(q)) / |Q_ref(q)| of the oriented column at level q; "
    "supported=False where the reference has < 1 value beyond q (then not an estimate)",
    "var_rel_error": "relative error of the value at risk (the level-quantile of the losses y)",
    "es_rel_error": "relative error of the expected shortfall (mean loss beyond VaR)",
    "tail_ks": "two-sample KS statistic between the laws of y beyond the reference 0.95 quantile "
    "(0 = same conditional tail shape; NaN when the model never exceeds that quantile)",
    "ccdf_area": "area between the log-log survival curves of reference and model from the reference 0.9 "
    "quantile to the smaller sample maximum (0 = identical; NaN when the model never exceeds that quantile)",
    "ccdf_signed_area": "the same area with sign: > 0 model tail too heavy, < 0 too light",
    "max_sliced_w2": "max-sliced Wasserstein-2 distance (optimised direction), raw scale; floor: train vs "
    "reference (what a perfect generator of the training size would score)",
    "max_sliced_w2_slog": "the same in signed-log space slog(x) = sign(x) log1p(|x|) (tail shape, not scale)",
    "energy_distance": "energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'| on the robust-scaled columns; floor as above",
    "chi": "chi(u) at u = 0.95 of the pair (tail dependence; 0 independent, 1 comonotone); ref_value: the data's",
    "chi_abs_error": "|chi_model(0.95) - chi_reference(0.95)| for the pair",
    "memorisation_ratio": "median distance from a generated row to its nearest training row divided by the "
    "same median for held-out test rows (robust-scaled, log for log-preprocessed columns); "
    "~1 fine, << 1 copies training rows",
    "memorisation_frac_close": "fraction of generated rows closer to a training row than the 1st percentile "
    "of test-to-train distances (~0.01 for a generator that does not copy)",
    "nfe": "network function evaluations per sample (0 for closed-form models)",
    "fit_seconds": "wall-clock fit time (s)",
    "sample_seconds": "wall-clock time to draw the n_samples rows (s)",
    "error": "the model failed to fit or sample; the message is in 'note'",
}

#: Summary columns whose per-model ranks are averaged into ``rank`` (lower is better for each).
RANK_METRICS = (
    "q99_rel_error",
    "q999_rel_error",
    "hill_xi_error",
    "tail_ks",
    "ccdf_area",
    "msw_slog",
    "chi_error",
)

_SUMMARY_DOC = {
    "q99_rel_error": "mean |relative error| of the 0.99 quantile over columns and tails",
    "q999_rel_error": "mean |relative error| of the 0.999 quantile where the reference supports it (else empty)",
    "hill_xi_error": "mean |xi_model - xi_ref| (Hill, common tail fraction) over columns and tails",
    "tail_ks": "mean tail KS statistic over columns and tails",
    "ccdf_area": "mean log-log CCDF area over columns and tails",
    "msw_slog": "max-sliced W2 in signed-log space (its floor is in metrics.csv)",
    "chi_error": "mean |chi_model(0.95) - chi_ref(0.95)| over pairs (empty for one column)",
    "memorisation_ratio": "median NN distance to train, generated / held-out (<< 1: copying)",
    "memorisation_frac_close": "fraction of generated rows nearer to train than 99% of held-out rows",
    "nfe": "network evaluations per sample",
    "fit_seconds": "fit time (s)",
    "sample_seconds": "sampling time (s)",
    "rank": "mean of the per-metric ranks over "
    + ", ".join(RANK_METRICS)
    + " (1 = best; a missing value ranks last)",
}

_FRAME_COLUMNS = ["model", "metric", "target", "tail", "level", "value", "ref_value", "ci_low", "ci_high",
                  "floor", "supported", "note"]  # fmt: skip


@dataclass
class ComparisonResult:
    """What :func:`compare` returns.

    Attributes
    ----------
    metrics : DataFrame
        Tidy table, one row per (model, metric, target, tail, level): columns ``model, metric, target
        (column name, pair "a|b", "joint" or "model"), tail ("upper", "lower" or ""), level (quantile level or
        NaN), value, ref_value (the reference data's value where meaningful), ci_low, ci_high, floor
        (reference-vs-reference value of a distance), supported (False where the reference data cannot
        estimate the quantity), note``. Metric names are the keys of :data:`METRICS`.
    summary : DataFrame
        One row per model (index: model name), ranked (best first); columns described in the report.
    samples : dict name -> ndarray of shape (n_samples, d)
        The raw-scale synthetic rows of each model that sampled.
    train, test : ndarray
        The split (rows of the input, raw scale).
    reference : ndarray
        What the metrics compare with: ``test`` unless a reference sample was given.
    columns : tuple of str
    info : dict
        Settings (seed, test_fraction, n_samples, preprocessing per column, source, ...).
    models : dict name -> fitted GenerativeModel (only those that fitted)
    """

    metrics: pd.DataFrame
    summary: pd.DataFrame
    samples: dict[str, np.ndarray]
    train: np.ndarray
    test: np.ndarray
    reference: np.ndarray
    columns: tuple[str, ...]
    info: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------------------
# model set-up
# ------------------------------------------------------------------------------------------------------------
def default_models(oracle: Callable | None = None) -> list[str]:
    """Every registered generator, except ``oracle-start`` when no oracle sampler is given."""
    from .models import MODELS, _ensure_registered

    _ensure_registered()
    return [m for m in sorted(MODELS) if oracle is not None or m != "oracle-start"]


def _check_models(models) -> list[str]:
    from .models import MODELS, _ensure_registered

    _ensure_registered()
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    models = list(models)
    if not models:
        raise ValueError("models is empty; name at least one generator")
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {', '.join(sorted(MODELS))}")
    if len(set(models)) != len(models):
        raise ValueError(f"models lists a generator twice: {models}")
    return models


def auto_preprocessing(X: np.ndarray, orders: float = 2.0) -> list[str]:
    """Per-column preprocessing chosen from the data: ``"log"`` for a strictly positive column whose
    max / min exceeds 10**orders (it spans more than ``orders`` orders of magnitude, like claim sizes), else
    ``"robust"`` (median / IQR scaling).

    The log transform lets a generator learn the shape of the log-data, where a Pareto tail is an
    exponential one, and guarantees positive samples; robust scaling on such data leaves the bulk squeezed
    into a tiny range and the tail spread over thousands of IQRs.
    """
    X = np.asarray(X, dtype=np.float64)
    out = []
    for j in range(X.shape[1]):
        c = X[:, j]
        lo, hi = float(c.min()), float(c.max())
        out.append("log" if lo > 0 and hi / lo > 10.0**orders else "robust")
    return out


def _model_params(name: str, *, quick: bool, progress: bool, preprocessing, oracle, user: dict) -> dict:
    from .models import MODELS

    allowed = set(MODELS[name].param_names())
    params: dict = {}
    if "preprocessing" in allowed and preprocessing is not None:
        params["preprocessing"] = preprocessing
    if "progress" in allowed:
        params["progress"] = progress
    if quick:
        if "quick" in allowed:
            params["quick"] = True
        if "flow_steps" in allowed:
            params["flow_steps"] = 150
    if name == "oracle-start" and oracle is not None:
        params["oracle"] = oracle
    params.update(user)
    return params


# ------------------------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------------------------
def _row(model, metric, target, value, *, tail="", level=math.nan, ref_value=math.nan, ci=(math.nan, math.nan),
         floor=math.nan, supported=True, note=""):  # fmt: skip
    return {
        "model": model, "metric": metric, "target": target, "tail": tail, "level": float(level),
        "value": float(value), "ref_value": float(ref_value), "ci_low": float(ci[0]), "ci_high": float(ci[1]),
        "floor": float(floor), "supported": bool(supported), "note": note,
    }  # fmt: skip


def _tails(ref: np.ndarray) -> list[str]:
    """Upper tail always; the lower tail too when the column takes both signs."""
    return ["upper", "lower"] if (ref.min() < 0 < ref.max()) else ["upper"]


def _orient(v: np.ndarray, tail: str) -> np.ndarray:
    return -v if tail == "lower" else v


def _err_note(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")


def _fit_gpd_guarded(y: np.ndarray, u: float) -> evt.GPDFit:
    """:func:`~heavytail_diffusion.diagnostics.evt.fit_gpd`, refused for a clearly bounded tail.

    Where the method-of-moments shape of the excesses is below -0.5 (a short, bounded tail: the MLE runs to
    the xi = -1 boundary, where the likelihood is irregular and the fit has hung on tied data), a
    DataError is raised instead and the metric is reported as NaN with that note.
    """
    ex = y[y > u] - u
    if ex.size >= 2:
        m, v = float(ex.mean()), float(ex.var(ddof=1))
        if v > 0 and 0.5 * (1.0 - m * m / v) < -0.5:
            raise DataError(
                f"bounded tail above {u:.6g} (moment estimate of xi < -0.5); GPD MLE not attempted"
            )
    return evt.fit_gpd(y, u)


#: What a single metric may raise on a model's samples: it becomes NaN with the message as a note, so one
#: failing metric (e.g. a GPD fit with no interior maximum on a bounded tail) never stops a comparison.
_METRIC_ERRORS = (ValueError, ArithmeticError, NumericalError)


class _RefTail:
    """Reference-side quantities of one oriented column, computed once and reused for every model."""

    def __init__(self, y: np.ndarray, seed: int, n_boot: int):
        self.y = y
        self.n = y.size
        self.notes: dict[str, str] = {}
        try:
            self.hill = tail_index.hill(y, ci="bootstrap", n_boot=n_boot, seed=seed)
            self.frac = self.hill.k / self.n
        except _METRIC_ERRORS as exc:
            self.hill, self.frac = None, math.nan
            self.notes["hill"] = _err_note(exc)
        self.u = float(np.quantile(y, GPD_QUANTILE))
        try:
            self.gpd = _fit_gpd_guarded(y, self.u)
        except _METRIC_ERRORS as exc:
            self.gpd = None
            self.notes["gpd"] = _err_note(exc)


def _column_metrics(name: str, col: str, tail: str, ref: _RefTail, g: np.ndarray, seed: int,
                    n_boot: int) -> list[dict]:  # fmt: skip
    """Per-column, per-tail metrics of one model sample ``g`` (oriented like ``ref.y``)."""
    rows: list[dict] = []
    y, n, m = ref.y, ref.n, g.size
    # Hill at the reference's tail fraction
    if ref.hill is None:
        rows.append(_row(name, "hill_xi", col, math.nan, tail=tail, note="reference: " + ref.notes["hill"]))
    else:
        k = int(np.clip(round(ref.frac * m), 2, m - 1))
        try:
            h = tail_index.hill(g, k=k, ci="bootstrap", n_boot=n_boot, seed=seed)
            rows.append(_row(name, "hill_xi", col, h.value, tail=tail, ref_value=ref.hill.value,
                             ci=(h.ci_low, h.ci_high), note=f"k = {k} of {m} (reference k = {ref.hill.k} of {n})"))  # fmt: skip
            rows.append(_row(name, "hill_xi_abs_error", col, abs(h.value - ref.hill.value), tail=tail))
        except _METRIC_ERRORS as exc:
            rows.append(_row(name, "hill_xi", col, math.nan, tail=tail, note=_err_note(exc)))
    # GPD above the common threshold
    if ref.gpd is None:
        rows.append(_row(name, "gpd_xi", col, math.nan, tail=tail, note="reference: " + ref.notes["gpd"]))
    else:
        try:
            f = _fit_gpd_guarded(g, ref.u)
            ci = (f.shape - 1.96 * f.se_shape, f.shape + 1.96 * f.se_shape)
            rows.append(_row(name, "gpd_xi", col, f.shape, tail=tail, ref_value=ref.gpd.shape, ci=ci,
                             note=f"threshold {ref.u:.6g}: {f.n_exceedances} model / {ref.gpd.n_exceedances} "
                             "reference exceedances"))  # fmt: skip
            rows.append(_row(name, "gpd_xi_abs_error", col, abs(f.shape - ref.gpd.shape), tail=tail))
        except _METRIC_ERRORS as exc:
            rows.append(_row(name, "gpd_xi", col, math.nan, tail=tail, note=_err_note(exc)))
    # quantiles, VaR, ES
    qe = quantiles.quantile_errors(y, g, qs=QUANTILE_LEVELS)
    for r in qe.itertuples():
        rows.append(_row(name, "quantile_rel_error", col, r.rel_error, tail=tail, level=r.q, ref_value=r.real,
                         supported=r.supported))  # fmt: skip
    for lev in RISK_LEVELS:
        sup = n * (1.0 - lev) >= 1.0
        for metric, fun in (
            ("var_rel_error", quantiles.value_at_risk),
            ("es_rel_error", quantiles.expected_shortfall),
        ):
            a, b = fun(y, lev), fun(g, lev)
            rows.append(_row(name, metric, col, (b - a) / abs(a) if a != 0 else math.nan, tail=tail, level=lev,
                             ref_value=a, supported=sup))  # fmt: skip
    # tail KS and CCDF area
    tk = distances.tail_ks(y, g, q=TAIL_KS_QUANTILE).iloc[0]  # NaN when the model has no exceedance
    rows.append(_row(name, "tail_ks", col, tk["statistic"], tail=tail, level=TAIL_KS_QUANTILE,
                     note=f"p = {tk['pvalue']:.3g}; exceedance fraction {tk['frac_generated']:.4f} model vs "
                     f"{tk['frac_real']:.4f} reference"))  # fmt: skip
    try:
        ca = distances.ccdf_area(y, g, q_min=CCDF_QUANTILE).iloc[0]
        if not ca["upper_limit"] > ca["threshold"]:  # the curves share no range beyond t0: area undefined
            raise DataError(
                f"the model sample never exceeds the reference {CCDF_QUANTILE} quantile {ca['threshold']:.6g} "
                "(tail far too light); the area is undefined"
            )
        rows.append(_row(name, "ccdf_area", col, ca["area"], tail=tail, level=CCDF_QUANTILE))
        rows.append(_row(name, "ccdf_signed_area", col, ca["signed_area"], tail=tail, level=CCDF_QUANTILE,
                         note=f"mean log ratio of survival functions {ca['mean_log_ratio']:.3g}"))  # fmt: skip
    except DataError as exc:
        rows.append(
            _row(name, "ccdf_area", col, math.nan, tail=tail, level=CCDF_QUANTILE, note=_err_note(exc))
        )
        rows.append(
            _row(name, "ccdf_signed_area", col, math.nan, tail=tail, level=CCDF_QUANTILE, note=_err_note(exc))
        )
    return rows


def _memorisation_scale(train: np.ndarray, methods: Sequence[str]) -> Callable[[np.ndarray], np.ndarray]:
    """Column-wise map to the robust scale used for nearest-neighbour distances (log first for log columns)."""
    logs = np.array([m == "log" for m in methods])

    def g(A):
        A = np.array(A, dtype=np.float64, copy=True)
        if logs.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                A[:, logs] = np.log(A[:, logs])
        return A

    G = g(train)
    med = np.median(G, axis=0)
    iqr = np.subtract(*np.quantile(G, [0.75, 0.25], axis=0))
    iqr = np.where(iqr > 0, iqr, np.std(G, axis=0) + 1e-300)
    return lambda A: (g(A) - med) / iqr


class _Memorisation:
    """Nearest-training-row distances of held-out rows (the yardstick for generated rows)."""

    def __init__(self, train: np.ndarray, test: np.ndarray, methods: Sequence[str]):
        self.scale = _memorisation_scale(train, methods)
        self.train = self.scale(train)
        d_test = distances.nearest_distances(self.scale(test), self.train)
        self.median_test = float(np.median(d_test))
        self.p01_test = float(np.quantile(d_test, 0.01))

    def rows(self, name: str, S: np.ndarray) -> list[dict]:
        Z = self.scale(S)
        ok = np.isfinite(Z).all(axis=1)
        d = distances.nearest_distances(Z[ok], self.train) if ok.any() else np.array([np.nan])
        ratio = float(np.median(d)) / self.median_test if self.median_test > 0 else math.nan
        frac = float(np.mean(d < self.p01_test))
        note = "" if ok.all() else f"{int((~ok).sum())} generated rows off the log domain were left out"
        return [
            _row(name, "memorisation_ratio", "joint", ratio, ref_value=self.median_test, note=note),
            _row(name, "memorisation_frac_close", "joint", frac, ref_value=0.01, level=0.01),
        ]


def score_samples(
    reference: np.ndarray,
    samples: Mapping[str, np.ndarray],
    *,
    train: np.ndarray,
    test: np.ndarray | None = None,
    columns: Sequence[str] | None = None,
    memorisation_scale: Sequence[str] | None = None,
    seed: int = 0,
    quick: bool = False,
) -> pd.DataFrame:
    """Tail metrics of each generated sample against ``reference`` (the tidy table of :func:`compare`).

    Parameters
    ----------
    reference : ndarray, shape (n, d)
        What the samples are judged against: held-out test rows, or a large sample of the true law.
    samples : mapping name -> ndarray of shape (m, d)
        Raw-scale generated rows.
    train : ndarray, shape (n_train, d)
        The training rows: the floor of the joint distances is the train-vs-reference value, and
        memorisation distances are to the nearest training row.
    test : ndarray, optional
        Held-out rows for the memorisation yardstick (default ``reference``).
    columns : sequence of str, optional
    memorisation_scale : sequence of str, optional
        Per-column preprocessing names; ``"log"`` columns are logged before robust scaling in the
        nearest-neighbour distances (default: none).
    seed : int
        Seeds the bootstraps and the projections.
    quick : bool
        Fewer bootstrap resamples and projections (faster, noisier).

    Returns
    -------
    DataFrame (see :class:`ComparisonResult`).
    """
    R = np.asarray(reference, dtype=np.float64)
    d = R.shape[1]
    cols = list(columns) if columns is not None else [f"x{j}" for j in range(d)]
    test = R if test is None else np.asarray(test, dtype=np.float64)
    n_boot = 100 if quick else 300
    msw_kw = {"n_candidates": 128, "n_restarts": 2, "screen_size": 2048} if quick else {}
    n_proj = 50 if quick else 100
    # reference-side quantities, computed once
    ref_tails = {(c, t): _RefTail(_orient(R[:, j], t), seed, n_boot)
                 for j, c in enumerate(cols) for t in _tails(R[:, j])}  # fmt: skip
    pairs = list(combinations(range(d), 2))
    ref_chi = {p: float(dependence.chi(R[:, p[0]], R[:, p[1]], CHI_LEVEL)) for p in pairs}
    scale = _memorisation_scale(train, memorisation_scale or ["robust"] * d)
    floors = {}
    floors["max_sliced_w2"] = distances.max_sliced_wasserstein(train, R, seed=seed, **msw_kw)
    floors["max_sliced_w2_slog"] = distances.max_sliced_wasserstein(
        train, R, seed=seed, space="slog", **msw_kw
    )
    floors["energy_distance"] = distances.energy_distance(
        scale(train), scale(R), n_projections=n_proj, seed=seed
    )
    mem = _Memorisation(train, test, memorisation_scale or ["robust"] * d)

    rows: list[dict] = []
    for name, S in samples.items():
        S = np.asarray(S, dtype=np.float64)
        for j, c in enumerate(cols):
            for t in _tails(R[:, j]):
                rows += _column_metrics(name, c, t, ref_tails[(c, t)], _orient(S[:, j], t), seed, n_boot)
        for metric, kw in (("max_sliced_w2", {}), ("max_sliced_w2_slog", {"space": "slog"})):
            v = distances.max_sliced_wasserstein(R, S, seed=seed, **kw, **msw_kw)
            rows.append(_row(name, metric, "joint", v, floor=floors[metric]))
        with np.errstate(invalid="ignore", divide="ignore"):
            Ss = scale(S)
        ok = np.isfinite(Ss).all(axis=1)
        e = distances.energy_distance(scale(R), Ss[ok], n_projections=n_proj, seed=seed)
        rows.append(_row(name, "energy_distance", "joint", e, floor=floors["energy_distance"]))
        for a, b in pairs:
            pair = f"{cols[a]}|{cols[b]}"
            c_m = float(dependence.chi(S[:, a], S[:, b], CHI_LEVEL))
            rows.append(
                _row(name, "chi", pair, c_m, tail="upper", level=CHI_LEVEL, ref_value=ref_chi[(a, b)])
            )
            rows.append(
                _row(name, "chi_abs_error", pair, abs(c_m - ref_chi[(a, b)]), tail="upper", level=CHI_LEVEL)
            )
        rows += mem.rows(name, S)
    return pd.DataFrame(rows, columns=_FRAME_COLUMNS)


# ------------------------------------------------------------------------------------------------------------
# summary
# ------------------------------------------------------------------------------------------------------------
def _summarise(metrics: pd.DataFrame, models: Sequence[str]) -> pd.DataFrame:
    """One row per model with the headline numbers and the mean rank over :data:`RANK_METRICS`."""
    M = metrics

    def pick(model, metric, level=None, supported_only=True):
        s = M[(M.model == model) & (M.metric == metric)]
        if level is not None:
            s = s[np.isclose(s.level, level)]
        if supported_only:
            s = s[s.supported]
        return s.value.to_numpy(dtype=float)

    def mean_abs(v):
        v = np.abs(v[np.isfinite(v)])
        return float(v.mean()) if v.size else math.nan

    def one(model, metric):
        v = pick(model, metric)
        return float(v[0]) if v.size else math.nan

    rows = []
    for name in models:
        err = M[(M.model == name) & (M.metric == "error")]
        rows.append({
            "model": name,
            "q99_rel_error": mean_abs(pick(name, "quantile_rel_error", 0.99)),
            "q999_rel_error": mean_abs(pick(name, "quantile_rel_error", 0.999)),
            "hill_xi_error": mean_abs(pick(name, "hill_xi_abs_error")),
            "tail_ks": mean_abs(pick(name, "tail_ks")),
            "ccdf_area": mean_abs(pick(name, "ccdf_area")),
            "msw_slog": one(name, "max_sliced_w2_slog"),
            "chi_error": mean_abs(pick(name, "chi_abs_error")),
            "memorisation_ratio": one(name, "memorisation_ratio"),
            "memorisation_frac_close": one(name, "memorisation_frac_close"),
            "nfe": one(name, "nfe"),
            "fit_seconds": one(name, "fit_seconds"),
            "sample_seconds": one(name, "sample_seconds"),
            "status": "failed: " + err.note.iloc[0] if len(err) else "ok",
        })  # fmt: skip
    S = pd.DataFrame(rows).set_index("model")
    ranks = []
    for c in RANK_METRICS:
        if S[c].notna().any():
            ranks.append(S[c].rank(method="average", na_option="bottom"))
    S["rank"] = pd.concat(ranks, axis=1).mean(axis=1) if ranks else math.nan
    failed = S.status != "ok"
    S.loc[failed, "rank"] = math.nan
    return S.sort_values("rank", na_position="last", kind="stable")


# ------------------------------------------------------------------------------------------------------------
# compare
# ------------------------------------------------------------------------------------------------------------
def compare(
    data,
    models: Sequence[str] | str | None = None,
    *,
    columns=None,
    test_fraction: float = 0.3,
    n_samples: int | None = None,
    seed: int = 0,
    quick: bool = False,
    preprocessing: str | Sequence[str] | None = "auto",
    model_params: Mapping[str, Mapping] | None = None,
    oracle: Callable | None = None,
    reference=None,
    dropna: bool = False,
    progress: bool = True,
) -> ComparisonResult:
    """Fit several generators on the same training rows and score their samples' tails on held-out rows.

    Steps: (1) load and validate ``data``; (2) split its rows by a seeded random permutation into
    ``test_fraction`` test rows and the rest for training; (3) per model, ``make_model(name, **params)
    .fit(train)`` and ``sample(n_samples, seed)``, timing both; a model that fails gets a ``metric="error"``
    row (with the message in ``note``) and a warning, and the others go on; (4) score every sample with
    :func:`score_samples` against the test rows (or ``reference``); (5) rank (:data:`RANK_METRICS`).

    Metrics are in :data:`METRICS`. Per column and tail (the lower tail too when the reference column takes
    both signs): Hill xi on the model sample at the reference's tail fraction k/n (k chosen on the reference
    by Danielsson's double bootstrap), so both estimates use the same quantile level as threshold; GPD xi
    above the reference's 0.9 quantile; quantile relative errors at 0.9 ... 0.999 (``supported`` False where
    the reference has fewer than one value beyond the level); VaR and ES errors at 0.99 and 0.999; tail KS
    beyond the reference 0.95 quantile; log-log CCDF area (and signed). Jointly: max-sliced W2 in raw and
    signed-log space and the energy distance, each with the train-vs-reference floor; chi(0.95) per pair;
    memorisation. Costs: NFE, fit and sample seconds.

    Parameters
    ----------
    data : str, Path, DataFrame, ndarray or Table
        The rows (raw scale); files are read with :func:`heavytail_diffusion.data.load_table`.
    models : sequence of str or comma-separated str, optional
        Registered generator names (default :func:`default_models`: all but ``oracle-start`` unless an
        oracle is given). Unknown names raise ValueError before anything is fitted.
    columns : str or sequence of str, optional
        Columns to use (default: every numeric column).
    test_fraction : float
        Share of rows held out, in (0, 1).
    n_samples : int, optional
        Rows drawn from each model. Default ``max(n_test, 10000)`` (``max(n_test, 4000)`` with ``quick``):
        the generated side of every tail metric then has far less sampling noise than the reference side,
        and the 0.999 quantile of a model is estimated from >= 4-10 values beyond it.
    seed : int
        Seeds the split, every model's fit and sample, and the metrics.
    quick : bool
        Short training (``quick=True`` for the diffusion models, 150 flow steps), fewer bootstrap resamples
        and projections: a demo / smoke-test setting, not a benchmark.
    preprocessing : "auto", str, list of str or None
        Preprocessing given to every model (a model's own ``model_params`` win). ``"auto"``
        (:func:`auto_preprocessing`): ``"log"`` for strictly positive columns spanning more than two orders
        of magnitude in the training rows, ``"robust"`` otherwise; None: each model's default.
    model_params : dict name -> dict, optional
        Extra hyperparameters per model (e.g. ``{"edm": {"steps": 40}}``).
    oracle : callable (n, seed) -> (n, d) array, optional
        True-law sampler for ``oracle-start`` (benchmarks).
    reference : array of shape (N, d), optional
        Score against this sample of the true law instead of the test rows (benchmarks); memorisation still
        uses the test rows.
    dropna : bool
        Drop rows with NaN/inf (reported) instead of failing.
    progress : bool
        Print one line per model as it goes, and let models show progress bars.

    Returns
    -------
    ComparisonResult
    """
    from .models import make_model

    model_names = default_models(oracle) if models is None else _check_models(models)
    model_params = dict(model_params or {})
    stray = sorted(set(model_params) - set(model_names))
    if stray:
        raise ValueError(f"model_params names model(s) {stray} that are not being compared ({model_names})")
    if isinstance(data, Table):
        table = data if columns is None else load_table(data.to_frame(), columns=columns, dropna=dropna)
    else:
        table = load_table(data, columns=columns, dropna=dropna)
    X, cols = table.values, tuple(table.columns)
    test_fraction = check_probability(test_fraction, "test_fraction")
    rng = as_generator(seed)
    perm = rng.permutation(X.shape[0])
    n_test = round(test_fraction * X.shape[0])
    if n_test < 20 or X.shape[0] - n_test < 20:
        raise DataError(
            f"{X.shape[0]} rows with test_fraction = {test_fraction} leave {X.shape[0] - n_test} train and "
            f"{n_test} test rows; both need at least 20"
        )
    test, train = X[perm[:n_test]], X[perm[n_test:]]
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64)
        if ref.ndim != 2 or ref.shape[1] != X.shape[1] or not np.isfinite(ref).all():
            raise DataError(
                f"reference must be a finite array with {X.shape[1]} columns, got shape {ref.shape}"
            )
    else:
        ref = test
    n_samples = (max(n_test, 4000 if quick else 10000) if n_samples is None
                 else check_positive_int(n_samples, "n_samples", minimum=20))  # fmt: skip
    if isinstance(preprocessing, str) and preprocessing == "auto":
        pre = auto_preprocessing(train)
    elif preprocessing is None or isinstance(preprocessing, str):
        pre = preprocessing if preprocessing is None else [preprocessing] * X.shape[1]
    else:
        pre = list(preprocessing)
        if len(pre) != X.shape[1]:
            raise ValueError(f"preprocessing lists {len(pre)} transforms for {X.shape[1]} columns")

    rows: list[dict] = []
    samples: dict[str, np.ndarray] = {}
    fitted: dict = {}
    for i, name in enumerate(model_names):
        params = _model_params(name, quick=quick, progress=progress, oracle=oracle,
                               preprocessing=(pre if pre is None or len(set(pre)) > 1 else pre[0]),
                               user=dict(model_params.get(name, {})))  # fmt: skip
        if progress:
            print(f"[{i + 1}/{len(model_names)}] {name}: fitting on {train.shape[0]} rows ...", flush=True)
        t0 = time.perf_counter()
        try:
            model = make_model(name, **{**params, "seed": params.get("seed", seed)}).fit(
                train, columns=list(cols)
            )
            S = model.sample(n_samples, seed=seed + 1)
        except Exception as exc:  # noqa: BLE001  (any failure of one model must not stop the comparison)
            msg = _err_note(exc)
            warnings.warn(
                f"compare: model {name!r} failed and is reported as an error row: {msg}", stacklevel=2
            )
            rows.append(_row(name, "error", "model", math.nan, note=msg))
            continue
        fitted[name], samples[name] = model, S
        rows += [
            _row(name, "nfe", "model", model.nfe),
            _row(name, "fit_seconds", "model", model.fit_seconds_),
            _row(name, "sample_seconds", "model", model.sample_seconds_, note=f"{n_samples} rows"),
        ]
        if progress:
            print(f"      fit {model.fit_seconds_:.1f} s, sample {model.sample_seconds_:.1f} s "
                  f"({time.perf_counter() - t0:.1f} s in all)", flush=True)  # fmt: skip
    mem_pre = pre if pre is not None else ["robust"] * X.shape[1]
    scored = score_samples(ref, samples, train=train, test=test, columns=cols, memorisation_scale=mem_pre,
                           seed=seed, quick=quick)  # fmt: skip
    metrics = pd.concat([pd.DataFrame(rows, columns=_FRAME_COLUMNS), scored], ignore_index=True)
    order = {m: i for i, m in enumerate(model_names)}
    metrics = metrics.sort_values("model", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    summary = _summarise(metrics, model_names)
    info = {
        "source": table.source, "n_rows": int(X.shape[0]), "n_train": int(train.shape[0]),
        "n_test": int(test.shape[0]), "test_fraction": test_fraction, "seed": seed, "n_samples": n_samples,
        "quick": quick, "preprocessing": list(mem_pre) if pre is not None else "model defaults",
        "reference": "test rows" if reference is None else f"given reference sample ({ref.shape[0]} rows)",
        "models": model_names,
    }  # fmt: skip
    return ComparisonResult(metrics, summary, samples, train, test, ref, cols, info, fitted)


# ------------------------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------------------------
_STYLES = ["-", "--", "-.", ":"]


def _restyle(ax, names: Sequence[str]) -> None:
    """Give each model's line a distinct line style on top of its colour (readable in grey print too)."""
    for line in ax.get_lines():
        lab = line.get_label().split(" (n = ")[0]
        if lab in names:
            line.set_linestyle(_STYLES[list(names).index(lab) % len(_STYLES)])


def _hill_fraction_plot(ax, ref: np.ndarray, samples: Mapping[str, np.ndarray], tail: str, title: str,
                        max_fraction: float = 0.25) -> None:  # fmt: skip
    """Hill xi against the tail fraction k/n <= ``max_fraction`` (log axis), the reference with its 95% band,
    models as lines.

    The k/n axis (instead of k) puts samples of different sizes on the same scale: a model whose tail is
    right follows the reference curve.
    """
    from .plots import DATA_COLOR, _color

    y = _orient(ref, tail)
    hc = tail_index.hill_curve(y)
    lo, hi = hc.ci()
    keep = (hc.k >= 5) & (hc.k <= max_fraction * hc.n)
    fr = hc.k[keep] / hc.n
    ax.fill_between(fr, lo[keep], hi[keep], color=DATA_COLOR, alpha=0.15, lw=0, label="reference 95% band")
    ax.plot(fr, hc.xi[keep], color=DATA_COLOR, lw=1.6, label=f"reference (n = {hc.n})")
    for i, (name, s) in enumerate(samples.items()):
        try:
            c = tail_index.hill_curve(_orient(s, tail))
        except DataError:
            continue
        k = (c.k >= 5) & (c.k <= max_fraction * c.n)
        ax.plot(c.k[k] / c.n, c.xi[k], color=_color(i), ls=_STYLES[i % len(_STYLES)], lw=1.3, label=name)
    try:
        h = tail_index.hill(y, ci=None)
        ax.axvline(h.k / hc.n, color="0.4", lw=0.8, ls=":", label="k/n of the hill_xi metric")
        title += f" (reference ξ = {h.value:.2f} at k/n = {h.k / hc.n:.3g})"
    except _METRIC_ERRORS:
        pass
    lo_y = np.nanpercentile(lo[keep], 5) if keep.any() else 0.0
    hi_y = np.nanpercentile(hi[keep], 95) if keep.any() else 1.0
    ax.set_ylim(min(0.0, lo_y) - 0.05, min(max(1.0, hi_y) + 0.1, 3.0))
    ax.set_xscale("log")
    ax.set_xlabel("tail fraction k/n (log scale)")
    ax.set_ylabel("Hill estimate of ξ")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)


def _scatter_grid(ref: np.ndarray, samples: Mapping[str, np.ndarray], a: int, b: int, names: Sequence[str],
                  seed: int, max_points: int = 2000):  # fmt: skip
    """One panel per model: its rows (colour) over the reference rows (grey), log axes for positive columns."""
    import matplotlib.pyplot as plt

    from .plots import _color

    rng = as_generator(seed)
    k = len(samples)
    ncol = min(4, k) if k else 1
    nrow = max(1, math.ceil(k / ncol))
    fig, axs = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 3.2 * nrow), layout="constrained", squeeze=False,
                            sharex=True, sharey=True)  # fmt: skip
    allv = [ref] + list(samples.values())
    # positive columns on log axes; others as slog(x) = sign(x) log1p(|x|) on a linear axis (clean ticks)
    logs = [all(np.all(v[:, j] > 0) for v in allv) for j in (a, b)]

    def coord(A, j, is_log):
        return A[:, j] if is_log else distances.slog(A[:, j])

    def thin(A):
        return A if A.shape[0] <= max_points else A[rng.choice(A.shape[0], max_points, replace=False)]

    R = thin(ref)
    for i, (name, S) in enumerate(samples.items()):
        ax = axs.flat[i]
        T = thin(S)
        ax.scatter(coord(R, a, logs[0]), coord(R, b, logs[1]), s=4, color="0.35", alpha=0.5, lw=0,
                   rasterized=True, label="reference")  # fmt: skip
        ax.scatter(coord(T, a, logs[0]), coord(T, b, logs[1]), s=3, color=_color(i), alpha=0.35, lw=0,
                   rasterized=True, label=name)  # fmt: skip
        ax.set_xscale("log" if logs[0] else "linear")
        ax.set_yscale("log" if logs[1] else "linear")
        for j, is_log, setter in ((a, logs[0], ax.set_xlim), (b, logs[1], ax.set_ylim)):
            lo, hi = float(coord(ref, j, is_log).min()), float(coord(ref, j, is_log).max())
            setter(*((lo / 10.0, hi * 10.0) if is_log else (lo - 0.5 * (hi - lo), hi + 0.5 * (hi - lo))))
        ax.set_title(name, fontsize="medium", color=_color(i))
        ax.grid(True, alpha=0.25)
    for ax in axs.flat[k:]:
        ax.set_visible(False)
    for ax in axs[-1]:
        ax.set_xlabel(f"{names[a]} (log scale)" if logs[0] else f"slog({names[a]}) = sign·log(1+|x|)")
    for ax in axs[:, 0]:
        ax.set_ylabel(f"{names[b]} (log scale)" if logs[1] else f"slog({names[b]})")
    fig.suptitle(
        f"{names[b]} vs {names[a]}: each model (colour) over the reference rows (grey); "
        "axes: the reference range widened by 10x (log) or 50% (linear), points beyond are not shown"
    )
    return fig


def _save(fig, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(name))


def _figures(result: ComparisonResult, out: Path, max_pairs: int) -> list[tuple[str, str]]:
    """Write the PNGs; returns (caption, filename) in report order."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .plots import chi_plot, qq_plot, survival_plot

    figs: list[tuple[str, str]] = []
    R, S, cols = result.reference, result.samples, list(result.columns)
    names = list(S)
    for j, c in enumerate(cols):
        tails = _tails(R[:, j])
        # survival + QQ + Hill: one row per tail
        fig, axs = plt.subplots(
            len(tails), 3, figsize=(17.5, 4.8 * len(tails)), layout="constrained", squeeze=False
        )
        for r, t in enumerate(tails):
            lab = c if t == "upper" else f"-{c}"
            ax = axs[r, 0]
            try:
                survival_plot(_orient(R[:, j], t), {n: _orient(S[n][:, j], t) for n in names}, ax=ax,
                              label="reference", xlabel=f"{lab} (log scale)")  # fmt: skip
                _restyle(ax, names)
                ax.get_legend().remove()
                qs = np.quantile(_orient(R[:, j], t), [0.5, 0.6, 0.7, 0.8])
                if (qs > 0).any():  # the tail is the story: start the axes near the reference median
                    q0 = float(qs[qs > 0][0])
                    ax.set_xlim(left=q0 * 0.8)
                    ax.set_ylim(top=0.8)
                ax.set_ylabel("P(X ≥ x) (log scale)")
                ax.set_title(f"{c}: survival function, {t} tail", fontsize="medium")
            except _METRIC_ERRORS as exc:
                ax.text(0.5, 0.5, f"no survival plot: {exc}", ha="center", wrap=True, transform=ax.transAxes)
            ax = axs[r, 1]
            try:
                m = min([R.shape[0]] + [S[n].shape[0] for n in names])
                probs = 1.0 - np.geomspace(0.5, 1.0 / m, 40)  # the upper half of the oriented variable
                qq_plot(_orient(R[:, j], t), {n: _orient(S[n][:, j], t) for n in names}, ax=ax, log=True,
                        probs=probs)  # fmt: skip
                _restyle(ax, names)
                if ax.get_legend():
                    ax.get_legend().remove()
                ax.set_title(f"{c}: QQ, model vs reference quantiles ({t} tail: {lab})", fontsize="medium")
            except _METRIC_ERRORS as exc:
                ax.text(0.5, 0.5, f"no QQ plot: {exc}", ha="center", wrap=True, transform=ax.transAxes)
            ax = axs[r, 2]
            try:
                _hill_fraction_plot(ax, R[:, j], {n: S[n][:, j] for n in names}, t,
                                    f"{c}: Hill plot ({t} tail: {lab})")  # fmt: skip
            except _METRIC_ERRORS as exc:
                ax.text(0.5, 0.5, f"no Hill plot: {exc}", ha="center", wrap=True, transform=ax.transAxes)
        handles, labels = axs[0, 2].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right center", fontsize="small", title="black: reference")
        fname = _save(fig, out / f"tails_{_safe(c)}.png")
        figs.append(((f"{c}: log-log survival (left), QQ plot of the upper half of the tail's variable, log scale (middle; on "
                     "the diagonal = right quantiles), Hill ξ against the tail fraction (right; band: 95% asymptotic interval of the "
                     "reference)"), fname))  # fmt: skip
    pairs = list(combinations(range(len(cols)), 2))[:max_pairs]
    for a, b in pairs:
        if names:
            fig = _scatter_grid(R, S, a, b, cols, seed=result.info.get("seed", 0))
            fname = _save(fig, out / f"pairs_{_safe(cols[a])}_{_safe(cols[b])}.png")
            figs.append((f"{cols[a]} and {cols[b]}: every model's rows over the reference rows", fname))
        try:
            axes = chi_plot(R[:, a], R[:, b], {n: S[n][:, [a, b]] for n in names}, labels=(cols[a], cols[b]))
            fig = axes[0].figure
            _restyle(axes[0], names)
            _restyle(axes[1], names)
            axes[0].get_legend().remove()
            h, lab = axes[0].get_legend_handles_labels()
            fig.legend(h, lab, loc="outside right center", fontsize="small")
            fname = _save(fig, out / f"chi_{_safe(cols[a])}_{_safe(cols[b])}.png")
            figs.append(((f"{cols[a]} and {cols[b]}: tail dependence χ(u) and χ̄(u), reference (black, with "
                         "95% band) and models"), fname))  # fmt: skip
        except _METRIC_ERRORS as exc:
            warnings.warn(f"chi plot of {cols[a]}|{cols[b]} skipped: {exc}", stacklevel=2)
    return figs


# ------------------------------------------------------------------------------------------------------------
# report files
# ------------------------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, int | np.integer):
        return str(int(v))
    v = float(v)
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"


def _display_summary(S: pd.DataFrame) -> pd.DataFrame:
    D = S.copy()
    D.insert(0, "rank", D.pop("rank"))
    D.index.name = "model"
    return D.reset_index()


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in df.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v).replace("|", "\\|") for v in r) + " |")
    return "\n".join(lines)


def _per_column_table(M: pd.DataFrame, result: ComparisonResult) -> pd.DataFrame:
    """Wide per-column table: data xi and each model's Hill xi, GPD xi, q0.99 error, tail KS."""
    rows = []
    for (c, t), g in M[M.metric.isin(["hill_xi", "gpd_xi", "quantile_rel_error", "tail_ks", "ccdf_signed_area"])
                       ].groupby(["target", "tail"], sort=False):  # fmt: skip
        for name, h in g.groupby("model", sort=False):

            def v(metric, level=None, h=h):
                s = h[h.metric == metric]
                if level is not None:
                    s = s[np.isclose(s.level, level) & s.supported]
                return s.value.iloc[0] if len(s) else math.nan

            hx, gx = h[h.metric == "hill_xi"], h[h.metric == "gpd_xi"]
            rows.append({
                "column": c, "tail": t, "model": name,
                "hill_xi": v("hill_xi"), "ref_hill_xi": hx.ref_value.iloc[0] if len(hx) else math.nan,
                "gpd_xi": v("gpd_xi"), "ref_gpd_xi": gx.ref_value.iloc[0] if len(gx) else math.nan,
                "q0.99_rel_err": v("quantile_rel_error", 0.99),
                "q0.999_rel_err": v("quantile_rel_error", 0.999), "tail_ks": v("tail_ks"),
                "ccdf_signed": v("ccdf_signed_area"),
            })  # fmt: skip
    return pd.DataFrame(rows)


def write_report(result: ComparisonResult, out_dir, *, max_pairs: int = 3, figures: bool = True) -> Path:
    """Write ``metrics.csv``, ``summary.csv``, PNG figures, ``report.md`` and ``report.html`` to ``out_dir``.

    Figures: per column, log-log survival curves, log-scale QQ plots and Hill plots (xi against the tail
    fraction, the reference with its band) of the reference vs every model; for the first ``max_pairs``
    column pairs, a scatter grid (one panel per model over the reference) and the chi(u)/chi-bar(u) plot.
    ``report.html`` embeds the PNGs (base64) so it is one self-contained file.

    Returns
    -------
    Path of ``report.html``.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    result.metrics.to_csv(out / "metrics.csv", index=False)
    result.summary.to_csv(out / "summary.csv")
    figs = _figures(result, out, max_pairs) if figures else []
    info = result.info
    summ = _display_summary(result.summary)
    percol = _per_column_table(result.metrics, result)
    errors = result.metrics[result.metrics.metric == "error"]
    joint = result.metrics[
        result.metrics.metric.isin(["max_sliced_w2", "max_sliced_w2_slog", "energy_distance"])
    ]
    joint = joint.pivot_table(index="model", columns="metric", values="value", sort=False)
    floors = result.metrics[result.metrics.metric.isin(["max_sliced_w2", "max_sliced_w2_slog", "energy_distance"])
                            ].groupby("metric").floor.first()  # fmt: skip
    if len(joint):
        joint.loc["(floor: train vs reference)"] = floors.reindex(joint.columns)
    joint = joint.reset_index()

    setting = (
        f"Data: `{info.get('source')}` ({info.get('n_rows')} rows; columns {', '.join(result.columns)}). "
        f"Split with seed {info.get('seed')}: {info.get('n_train')} training rows, {info.get('n_test')} test rows "
        f"(test fraction {info.get('test_fraction')}). Metrics against: {info.get('reference')}. "
        f"Each model drew {info.get('n_samples')} rows. Preprocessing: {info.get('preprocessing')}. "
        f"Quick mode: {info.get('quick')} (short training; a smoke test, not a benchmark)."
    )
    md = ["# Generator comparison", "", setting, "",
          "## Ranked summary (best first)", "", _md_table(summ), ""]  # fmt: skip
    md += [f"- **{k}**: {v}" for k, v in _SUMMARY_DOC.items()] + [""]
    if len(errors):
        md += ["## Failed models", ""] + [f"- {r.model}: {r.note}" for r in errors.itertuples()] + [""]
    md += [
        "## Per column and tail",
        "",
        _md_table(percol),
        "",
        "## Joint distances",
        "",
        _md_table(joint),
        "",
    ]
    md += ["## Figures", ""] + [f"![{cap}]({f})\n\n*{cap}*\n" for cap, f in figs]
    md += ["## Metrics (metrics.csv)", ""] + [f"- `{k}`: {v}" for k, v in METRICS.items()]
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")

    def table_html(df):
        return df.to_html(index=False, na_rep="", float_format=lambda v: _fmt(v), border=0, classes="t")

    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Generator comparison</title><style>",
        (
            "body{font-family:sans-serif;max-width:1400px;margin:auto;padding:1em}"
            "table.t{border-collapse:collapse;font-size:13px}table.t td,table.t th{border:1px solid #ccc;"
            "padding:3px 6px;text-align:right}img{max-width:100%}figcaption{font-style:italic;margin-bottom:2em}"
        ),
        "</style></head><body><h1>Generator comparison</h1>",
        f"<p>{html.escape(setting)}</p><h2>Ranked summary (best first)</h2>",
        table_html(summ),
        "<ul>",
    ]
    parts += [f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in _SUMMARY_DOC.items()] + [
        "</ul>"
    ]
    if len(errors):
        parts += ["<h2>Failed models</h2><ul>"]
        parts += [f"<li>{html.escape(r.model)}: {html.escape(r.note)}</li>" for r in errors.itertuples()] + [
            "</ul>"
        ]
    parts += ["<h2>Per column and tail</h2>", table_html(percol), "<h2>Joint distances</h2>", table_html(joint),
              "<h2>Figures</h2>"]  # fmt: skip
    for cap, f in figs:
        b64 = base64.b64encode((out / f).read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt='{html.escape(cap)}' src='data:image/png;base64,{b64}'>"
                     f"<figcaption>{html.escape(cap)}</figcaption></figure>")  # fmt: skip
    parts += ["<h2>Metrics (metrics.csv)</h2><ul>"]
    parts += [f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>" for k, v in METRICS.items()]
    parts += ["</ul></body></html>"]
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
