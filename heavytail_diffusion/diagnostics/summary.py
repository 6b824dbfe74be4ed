"""Per-column extreme-value summary of a table: Hill index, GPD and GEV fits, return levels and tail quantiles."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import pandas as pd

from ..errors import DataError, NumericalError
from ..validation import check_array, check_positive_int
from . import evt, quantiles, tail_index
from .tail_index import orient

__all__ = [
    "EMPIRICAL_QS",
    "DiagnosticSummary",
    "auto_threshold",
    "diagnose_column",
    "diagnose_table",
    "oriented",
]

EMPIRICAL_QS = (0.9, 0.95, 0.99, 0.995, 0.999)
WEISSMAN_Q = 0.9999
RISK_LEVEL = 0.99
GPD_PERIODS_OBS = (100.0, 1000.0, 10000.0)  # return periods in observations (no block size given)
BLOCK_PERIODS = (10.0, 100.0)  # return periods in blocks (block size given)
CI_LEVEL = 0.95

_SCALE = {"upper": "x", "lower": "-x", "both": "|x|"}


#: kept under its old public name; the helper itself is :func:`~.tail_index.orient`
oriented = orient


def auto_threshold(y) -> tuple[float, str]:
    """Automatic peaks-over-threshold threshold for the upper tail of ``y`` and a description of the rule.

    Delegates to :func:`heavytail_diffusion.diagnostics.evt.select_threshold` (parameter-stability rule over
    the empirical 80%-98% quantiles, at least 30 exceedances where the data allow; deterministic).

    Returns
    -------
    threshold : float
    rule : str
        How the threshold was chosen, e.g. ``"auto (stability)"`` (shown in reports).
    """
    choice = evt.select_threshold(y)
    return float(choice.threshold), f"auto ({choice.method})"


def _err(exc: BaseException) -> dict:
    return {"error": str(exc.args[0] if exc.args else exc)}


def _fit_gpd(y: np.ndarray, threshold: float, rule: str) -> tuple[dict, evt.GPDFit | None]:
    try:
        fit = evt.fit_gpd(y, threshold)
    except NumericalError as exc:
        return {"threshold": float(threshold), "threshold_rule": rule, **_err(exc)}, None
    except DataError as exc:
        if rule == "user":  # the user's own threshold is wrong: let the caller see it
            raise
        return {"threshold": float(threshold), "threshold_rule": rule, **_err(exc)}, None
    d = _gpd_dict(fit, rule)
    return d, fit


def _return_levels(fit, periods, data, obs_per_block=None) -> list[dict]:
    """Return levels with profile-likelihood intervals (delta-method when the profile fails)."""
    rows = []
    for T in periods:
        try:
            if isinstance(fit, evt.GPDFit):
                m = T * (1.0 if obs_per_block is None else obs_per_block)
                if m * fit.rate <= 1.0:
                    continue  # the level would lie below the threshold: not a tail return level
            try:
                rl = evt.return_level(
                    fit, T, data=data, method="profile", level=CI_LEVEL, obs_per_block=obs_per_block
                )
            except NumericalError:
                rl = evt.return_level(fit, T, method="delta", level=CI_LEVEL, obs_per_block=obs_per_block)
            rows.append(
                {
                    "period": float(T),
                    "value": rl.value,
                    "ci_low": rl.ci_low,
                    "ci_high": rl.ci_high,
                    "method": rl.method,
                }
            )
        except (ValueError, NumericalError) as exc:
            rows.append({"period": float(T), **_err(exc)})
    return rows


YEAR_PERIODS = (10.0, 50.0, 100.0)  # return periods in years (a time column given)
MIN_MAXIMA_WARN = 20
MIN_EXCEEDANCES_WARN = 30


def _gpd_dict(fit: evt.GPDFit, rule: str) -> dict:
    d = {
        "threshold": fit.threshold,
        "threshold_rule": rule,
        "shape": fit.shape,
        "scale": fit.scale,
        "se_shape": fit.se_shape,
        "se_scale": fit.se_scale,
        "nllh": fit.nllh,
        "n_exceedances": fit.n_exceedances,
        "rate": fit.rate,
    }
    if fit.shape < -0.5:
        # the observed information does not give valid standard errors for xi < -1/2 (Smith 1985)
        d["se_shape"] = d["se_scale"] = None
        d["se_note"] = (
            f"no standard errors: xi = {fit.shape:.3g} < -0.5, where they are not valid (Smith 1985)"
        )
    return d


def _hill_part(y: np.ndarray, seed) -> tuple[dict, tail_index.Estimate | None]:
    try:
        est = tail_index.hill(y, seed=seed)
    except (DataError, NumericalError, ValueError) as exc:
        return _err(exc), None
    top = np.sort(y)[-(est.k + 1) :]
    if np.unique(top).size < 3:
        return {
            "error": f"degenerate: the {est.k + 1} largest values take {np.unique(top).size} distinct "
            "value(s); the Hill estimate and its interval are meaningless for such data"
        }, None
    d = {
        "xi": est.value,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
        "k": est.k,
        "threshold": est.threshold,
        "level": est.level,
        "ci_method": est.ci_method,
        "k_method": est.k_method,
    }
    return d, est


def _gev_dict(gev: evt.GEVFit, **extra) -> dict:
    d = {
        "loc": gev.loc,
        "scale": gev.scale,
        "shape": gev.shape,
        "se_loc": gev.se_loc,
        "se_scale": gev.se_scale,
        "se_shape": gev.se_shape,
        "nllh": gev.nllh,
        "n_blocks": gev.n,
        **extra,
    }
    if gev.shape < -0.5:
        d["se_loc"] = d["se_scale"] = d["se_shape"] = None
        d["se_note"] = f"no standard errors: xi = {gev.shape:.3g} < -0.5, where they are not valid"
    return d


def diagnose_column(
    x,
    threshold: float | str = "auto",
    block_size: int | None = None,
    tail: str = "upper",
    seed=0,
    name: str = "x",
    *,
    time=None,
    block: str | None = None,
    decluster: bool | int = False,
    bayes: bool | dict = False,
    tail_sample=None,
) -> dict:
    """Extreme-value diagnostics of one sample, as a nested JSON-ready dictionary.

    ``tail_sample`` (the continuous part of a column with atoms or ties, see :func:`diagnose_table`): the
    values that the Hill estimators and the automatic threshold see (atoms split off, ties broken); the GPD
    is then fitted to the excesses of ``x`` over that threshold (the atoms lie below it), and block maxima,
    declustering, rates and quantiles use every row.

    All quantities refer to the upper tail of y = x (``tail="upper"``), y = -x (``"lower"``) or y = |x|
    (``"both"``); thresholds, quantiles and return levels are on that scale (key ``"scale"``).

    What is computed adapts to the input: ``block_size=1`` (the rows are block maxima, e.g. annual maxima)
    gets the GEV analysis only (no Hill index, GPD or tail quantiles, which assume a full sample).
    ``time`` makes return periods count years: for the GPD through the number of exceedances per year,
    for the GEV of calendar blocks (``block``) through the number of blocks per year.

    Parameters
    ----------
    x : array-like, shape (n,)
        The sample (finite, at least 10 values, not constant).
    threshold : float or "auto", default "auto"
        GPD threshold on the scale of ``tail``; "auto" uses :func:`auto_threshold`.
    block_size : int, optional
        Rows per block for a GEV fit of block maxima (1: the rows are block maxima).
    tail : {"upper", "lower", "both"}, default "upper"
        Analyse x, -x or |x|.
    seed : int, Generator or None, default 0
        Seeds the Hill bootstrap (and the Bayesian chains).
    name : str, default "x"
        Column name in messages and in ``"scale"``.
    time : array-like, optional
        Dates or years of the rows (then return periods count years).
    block : str, optional
        Calendar blocks of ``time`` for the GEV (e.g. "year"); not with ``block_size``.
    decluster : bool or int, default False
        Runs declustering of the exceedances (True: automatic run length; an int: that run length).
    bayes : bool or dict, default False
        Add posterior summaries; a dict passes options to the samplers.
    tail_sample : array-like, optional
        The continuous part that the Hill estimators and the automatic threshold see (see above).

    Returns
    -------
    dict
        With the keys below.

    Keys
    ----
    n : sample size.
    mvrb : {xi, ci_low, ci_high, k, method, k_method}: the reduced-bias Hill estimator
        (:func:`~heavytail_diffusion.diagnostics.tail_index.reduced_bias_hill`) with its asymptotic 95%
        interval and automatic k (better coverage than the bootstrap Hill interval on t-like tails; fast).
    hill : {xi, ci_low, ci_high, k, threshold, level, ci_method, k_method}: Hill estimate of xi at the
        automatic k (Danielsson double bootstrap) with a percentile-bootstrap 95% interval (seeded), or
        {error} (also when the top order statistics take fewer than 3 distinct values: degenerate).
    gpd : {threshold, threshold_rule, shape, scale, se_shape, se_scale, nllh, n_exceedances, rate}: MLE of
        the generalised Pareto distribution of the excesses y - u over the threshold u (shape xi > 0:
        heavy tail; standard errors from the observed information, None with ``se_note`` for xi < -1/2), or
        {threshold, error}.  With ``time``: also ``exceedances_per_year``.
    declustered : only with ``decluster``: runs declustering of the exceedances of u (``decluster=True``:
        the Ferro-Segers automatic run length; an int: that run length), {run_length, run_length_rule,
        n_clusters, extremal_index_intervals, extremal_index_runs} and the GPD fit of the cluster peaks.
    gev : only with ``block_size`` or ``block``: {loc, scale, shape, se_loc, se_scale, se_shape, nllh,
        n_blocks, block_size or block}.
    bayes : only with ``bayes``: posterior summaries of the GPD (or, for block maxima, GEV) parameters and
        return levels (:mod:`.bayes`).
    return_levels : {unit, level, gpd: [...], gev: [...], gpd_declustered: [...]}: levels exceeded on
        average once per period, each {period, value, ci_low, ci_high, method} with a profile-likelihood
        interval (delta method as a fallback). The unit is "years" with ``time`` (periods 10, 50, 100),
        "observations" (periods 100, 1000, 10000) without a block size and "blocks" (10, 100) with one.
    quantiles : empirical q0.9 ... q0.999 (numpy's linear interpolation), var_0.99 and es_0.99 (empirical
        value at risk and expected shortfall of y; es is None when the fitted xi >= 1, an infinite mean),
        weissman_q0.9999 (Hill/Weissman extrapolation at the Hill k) and gpd_q0.9999 (GPD tail fit).
    warnings : list of str: xi >= 1 (infinite mean), fewer than 20 maxima or 30 exceedances.

    Parts that cannot be computed for this sample (e.g. Hill on a tail with non-positive values, a GPD
    fit that does not converge) hold ``{"error": message}``; invalid input (NaN, constant data, a
    user-given threshold at or above the maximum) raises :class:`DataError`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).pareto(3.0, size=2000)
    >>> d = diagnose_column(x, seed=0)
    >>> round(d["hill"]["xi"], 2), round(d["gpd"]["threshold"], 3), round(d["gpd"]["shape"], 2)
    (0.41, 0.897, 0.32)
    >>> [round(r["value"], 1) for r in d["return_levels"]["gpd"]]  # once in 100, 1000, 10000 observations
    [4.0, 10.0, 22.7]
    """
    x = check_array(x, name, ndim=1, min_rows=10, allow_constant=False, columns=[name])
    y = orient(x, tail)
    out: dict = {"n": int(y.size), "tail": tail, "scale": _SCALE[tail].replace("x", name)}
    notes: list[str] = []
    maxima_only = block_size == 1
    if block is not None and time is None:
        raise DataError(f"column {name!r}: block={block!r} needs a time column (dates or years)")
    if block is not None and block_size is not None:
        raise ValueError("give block (calendar blocks from the time column) or block_size (rows), not both")
    years = None
    if time is not None:
        y, x, time, years = _time_order(y, x, time, name)
        out["years"] = years
    est = gfit = None
    if not maxima_only:
        ts = y if tail_sample is None else orient(tail_sample, tail)
        est = _tail_index_part(out, ts, seed)
        gfit = _gpd_part(out, notes, y, ts, threshold, years, name)
    dfit = None
    if decluster is not False and decluster is not None and gfit is not None:
        dfit = _declustered_part(out, y, gfit, decluster, name)
    rl: dict = {"level": CI_LEVEL, "method": "profile likelihood (delta method if the profile fails)"}
    npp = None if years is None else y.size / years
    gev, maxima = _gev_part(out, rl, y, time, block, block_size, name)
    if gev is not None and gev.n < MIN_MAXIMA_WARN:
        notes.append(
            f"only {gev.n} block maxima (fewer than {MIN_MAXIMA_WARN}): the GEV fit and its return levels are "
            "very uncertain"
        )
    _gpd_return_levels(rl, gfit, dfit, y, years, block_size, npp)
    out["return_levels"] = rl
    if bayes:
        out["bayes"] = _bayes_part(bayes, gfit, gev, y, maxima, years, npp, seed)
    # the shape that decides whether the mean (and so the expected shortfall) exists
    xi_fit = gfit.shape if gfit is not None else (gev.shape if gev is not None else None)
    infinite_mean = xi_fit is not None and xi_fit >= 1.0
    if infinite_mean:
        notes.append(
            f"xi = {xi_fit:.3g} >= 1: the fitted tail has an infinite mean; expected shortfall is not reported "
            "and sample means of this variable do not converge"
        )
    if not maxima_only:
        out["quantiles"] = _quantile_part(y, est, gfit, infinite_mean)
    out["warnings"] = notes
    return out


def _time_order(y: np.ndarray, x: np.ndarray, time, name: str):
    """(y, x, time) in time order (for declustering) and the number of years the rows cover."""
    from . import time_blocks

    if len(time) != y.size:
        raise DataError(f"column {name!r}: the time column has {len(time)} rows, the data {y.size}")
    kind, tvals = time_blocks.as_time(time, "time")
    order = np.argsort(tvals.asi8 if kind == "datetime" else tvals, kind="stable")
    time = tvals[order]
    return y[order], x[order], time, time_blocks.observation_years(time)


def _tail_index_part(out: dict, ts: np.ndarray, seed) -> tail_index.Estimate | None:
    """out["hill"] and out["mvrb"] (reduced-bias Hill) of the tail sample; returns the Hill estimate."""
    out["hill"], est = _hill_part(ts, seed)
    try:
        rb = tail_index.reduced_bias_hill(ts)
        out["mvrb"] = {
            "xi": rb.value,
            "ci_low": rb.ci_low,
            "ci_high": rb.ci_high,
            "k": rb.k,
            "method": rb.method,
            "k_method": rb.k_method,
        }
    except (DataError, ValueError) as exc:
        out["mvrb"] = _err(exc)
    return est


def _gpd_part(out: dict, notes: list, y: np.ndarray, ts: np.ndarray, threshold, years, name: str):
    """out["gpd"]: the threshold (automatic on the tail sample ``ts``, or the user's) and the GPD fit."""
    if isinstance(threshold, str):
        if threshold != "auto":
            raise ValueError(f"threshold must be 'auto' or a number, got {threshold!r}")
        try:
            u, rule = auto_threshold(ts)
        except (DataError, NumericalError) as exc:
            u, rule = None, "auto"
            out["gpd"] = {"threshold": None, "threshold_rule": rule, **_err(exc)}
    elif isinstance(threshold, Real) and math.isfinite(threshold):
        u, rule = float(threshold), "user"
    else:
        raise ValueError(f"threshold must be 'auto' or a finite number, got {threshold!r}")
    gfit = None
    if u is not None:
        try:
            out["gpd"], gfit = _fit_gpd(y, u, rule)
        except DataError as exc:
            raise DataError(f"column {name!r}: {exc.args[0]}") from None
    if gfit is not None:
        if years is not None:
            out["gpd"]["exceedances_per_year"] = gfit.n_exceedances / years
        if gfit.n_exceedances < MIN_EXCEEDANCES_WARN:
            notes.append(
                f"only {gfit.n_exceedances} exceedances of the GPD threshold (fewer than "
                f"{MIN_EXCEEDANCES_WARN}): the shape and the return levels are very uncertain"
            )
    return gfit


def _declustered_part(out: dict, y: np.ndarray, gfit, decluster, name: str):
    """out["declustered"]: runs declustering of the exceedances and the GPD of the cluster peaks."""
    from .declustering import fit_gpd_declustered

    run = None if decluster is True else int(decluster)
    try:
        dfit = fit_gpd_declustered(y, gfit.threshold, run, name=name)
    except (DataError, NumericalError) as exc:
        out["declustered"] = _err(exc)
        return None
    c = dfit.clusters
    out["declustered"] = {
        "run_length": c.run_length,
        "run_length_rule": c.run_length_rule,
        "n_clusters": c.n_clusters,
        "extremal_index_intervals": c.extremal_index_intervals,
        "extremal_index_runs": c.extremal_index_runs,
        **{k: v for k, v in _gpd_dict(dfit.gpd, "cluster peaks").items() if k != "threshold_rule"},
    }
    return dfit


def _gev_part(out: dict, rl: dict, y: np.ndarray, time, block, block_size, name: str):
    """out["gev"] and rl["gev"] for calendar blocks (``block``) or blocks of rows; returns (fit, maxima)."""
    from . import time_blocks

    gev = maxima = None
    if block is not None:
        rl["unit"] = "years"
        try:
            bm = time_blocks.block_maxima_by_time(y, time, block=block, name=name)
            gev = evt.fit_gev(bm.maxima)
            out["gev"] = _gev_dict(gev, block=block, blocks_per_year=bm.blocks_per_year)
            periods = time_blocks.gev_period_in_blocks(np.array(YEAR_PERIODS), bm.blocks_per_year)
            rl["gev"] = _return_levels(gev, periods, bm.maxima)
            for row, T in zip(rl["gev"], YEAR_PERIODS):
                row["period"] = T
            maxima = bm.maxima
        except (DataError, NumericalError, ValueError) as exc:
            out["gev"] = {"block": block, **_err(exc)}
    elif block_size is not None:
        b = check_positive_int(block_size, "block_size")
        rl["unit"] = "blocks" if b > 1 else "observations (each row is a block maximum)"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # trailing incomplete block: reported below
                maxima = evt.block_maxima(y, b)
            gev = evt.fit_gev(maxima)
            out["gev"] = _gev_dict(gev, block_size=b, n_dropped=int(y.size - b * maxima.size))
            rl["gev"] = _return_levels(gev, BLOCK_PERIODS, maxima)
        except (DataError, NumericalError, ValueError) as exc:
            out["gev"] = {"block_size": b, **_err(exc)}
    return gev, maxima


def _gpd_return_levels(rl: dict, gfit, dfit, y: np.ndarray, years, block_size, npp) -> None:
    """rl["gpd"] and rl["gpd_declustered"]: periods in years (time given), blocks or observations."""
    if years is not None:
        rl["unit"], periods, opb = "years", YEAR_PERIODS, npp
    elif block_size is not None:
        periods, opb = BLOCK_PERIODS, float(block_size)
    else:
        rl["unit"], periods, opb = "observations", GPD_PERIODS_OBS, None
    if gfit is not None:
        rl["gpd"] = _return_levels(gfit, periods, y, obs_per_block=opb)
    if dfit is not None:
        rl["gpd_declustered"] = _return_levels(dfit.gpd, periods, dfit.clusters.peaks, obs_per_block=opb)


def _bayes_part(bayes, gfit, gev, y: np.ndarray, maxima, years, npp, seed) -> dict:
    """Posterior summaries of the GPD (or, for block maxima, GEV) parameters and return levels."""
    from . import bayes as _bayes

    opts = bayes if isinstance(bayes, dict) else {}
    try:
        if gfit is not None:
            post = _bayes.fit_gpd_bayes(y, gfit.threshold, seed=seed if isinstance(seed, int) else 0, **opts)
            per = YEAR_PERIODS if years is not None else GPD_PERIODS_OBS
            return post.summary_dict(per, obs_per_block=npp)
        if gev is not None:
            post = _bayes.fit_gev_bayes(maxima, seed=seed if isinstance(seed, int) else 0, **opts)
            return post.summary_dict(BLOCK_PERIODS if years is None else YEAR_PERIODS)
        return {"error": "no GPD or GEV fit to compare with"}
    except (DataError, NumericalError, ValueError) as exc:
        return _err(exc)


def _quantile_part(y: np.ndarray, est, gfit, infinite_mean: bool) -> dict:
    """Empirical quantiles, VaR / ES at RISK_LEVEL and the Weissman and GPD extrapolations to WEISSMAN_Q."""
    qd: dict = {f"q{q:g}": float(np.quantile(y, q)) for q in EMPIRICAL_QS}
    qd[f"var_{RISK_LEVEL:g}"] = quantiles.value_at_risk(y, RISK_LEVEL)
    qd[f"es_{RISK_LEVEL:g}"] = None if infinite_mean else quantiles.expected_shortfall(y, RISK_LEVEL)
    key = f"weissman_q{WEISSMAN_Q:g}"
    if est is not None:
        try:
            qd[key] = quantiles.weissman_quantile(y, WEISSMAN_Q, k=est.k, xi=est.value)
        except (DataError, ValueError) as exc:
            qd[key] = None
            qd[key + "_error"] = _err(exc)["error"]
    else:
        qd[key] = None
    qd[f"gpd_q{WEISSMAN_Q:g}"] = (
        float(gfit.threshold + evt.gpd_isf((1.0 - WEISSMAN_Q) / gfit.rate, gfit.shape, gfit.scale))
        if gfit is not None and (1.0 - WEISSMAN_Q) < gfit.rate
        else None
    )
    return qd


def _flatten(d: Mapping, prefix: str = "") -> dict:
    flat: dict = {}
    for key, val in d.items():
        name = f"{prefix}{key}"
        if isinstance(val, Mapping):
            flat.update(_flatten(val, name + "_"))
        elif isinstance(val, list) and key in ("warnings", "notes"):
            flat[name] = "; ".join(val)
        elif isinstance(val, list):  # return-level rows: one column per period
            for row in val:
                p = f"{name}_{row['period']:g}"
                for k2, v2 in row.items():
                    if k2 != "period":
                        flat[p if k2 == "value" else f"{p}_{k2}"] = v2
        else:
            flat[name] = val
    return flat


@dataclass
class DiagnosticSummary:
    """Result of :func:`diagnose_table`.

    Attributes
    ----------
    columns : dict
        Column name -> nested dictionary of :func:`diagnose_column`.
    tail : str
        Tail analysed.
    block_size : int or None
        Block size of the GEV fits.
    source : str
        Where the data came from.
    """

    columns: dict
    tail: str = "upper"
    block_size: int | None = None
    source: str = ""
    seed: int | None = 0
    thresholds: dict = field(default_factory=dict)
    time_column: str | None = None
    block: str | None = None

    def to_dict(self) -> dict:
        """Nested, JSON-ready dictionary: {source, tail, block_size, seed, columns: {name: {...}}}."""
        return {
            "source": self.source,
            "tail": self.tail,
            "block_size": self.block_size,
            "time_column": self.time_column,
            "block": self.block,
            "seed": self.seed,
            "columns": self.columns,
        }

    def to_frame(self) -> pd.DataFrame:
        """Flat table, one row per column (index ``column``), keys joined with ``_`` (e.g. ``gpd_shape``,
        ``return_levels_gpd_100_ci_low``, ``quantiles_q0.99``); failed parts appear as ``*_error`` columns."""
        rows = {name: _flatten(res) for name, res in self.columns.items()}
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "column"
        return df


def _thresholds(threshold, names: Sequence[str]) -> dict:
    if isinstance(threshold, Mapping):
        unknown = [k for k in threshold if k not in names]
        if unknown:
            raise DataError(
                f"threshold given for unknown column(s) {', '.join(map(repr, unknown))}; "
                f"columns: {', '.join(map(repr, names))}"
            )
        return {nm: threshold.get(nm, "auto") for nm in names}
    return {nm: threshold for nm in names}


def _continuous_part(x: np.ndarray, spec, seed) -> tuple:
    """What the Hill estimators and the automatic threshold see, by the column's schema: ``(sample, info)``;
    ``(None, {})`` when the column needs nothing, ``(None, entry)`` for a column that is not analysed.

    Atoms (exact zeros, a cap, a value in many rows) are split off: Hill and the threshold choice see the
    continuous part only (a zero-inflated column would otherwise put the automatic threshold, or Hill's k,
    on the atom). Remaining ties of counts and rounded data (``integer`` kind, or a ``step``) are broken by
    uniform jitter of one grid step (seeded), which keeps the order of distinct values. The GPD, block
    maxima, declustering and quantiles use the column as it is. Both are reported in ``info``.
    """
    if spec is None:
        return None, {}
    if spec.kind == "categorical":
        return None, {"skipped": f"categorical column ({len(spec.categories)} levels): no tail analysis"}
    info: dict = {}
    notes = []
    ts = x
    if spec.atoms:
        ts = x[~np.isin(x, spec.atoms)]
        info["atoms"] = {f"{a:g}": float(np.mean(x == a)) for a in spec.atoms}
        shown = ", ".join(f"{a:g} ({np.mean(x == a):.1%} of rows)" for a in spec.atoms)
        notes.append(f"atoms split off before the Hill estimates and the threshold choice: {shown}")
        if spec.upper is not None and spec.upper in spec.atoms:
            notes.append(f"capped at {spec.upper:g}: the upper tail above the cap is not observed")
        info["n_continuous"] = int(ts.size)
        if ts.size < 10:
            return None, {**info, "skipped": f"only {ts.size} values off the atoms: no tail analysis"}
    step = 1.0 if spec.kind == "integer" else spec.step
    if step is not None and 1.0 - np.unique(ts).size / max(ts.size, 1) > 0.01:
        rng = np.random.default_rng([0 if seed is None else int(seed), 77])
        ts = ts + step * (rng.random(ts.size) - 0.5)
        info["ties"] = f"broken by uniform jitter of +-{step / 2:g} (one grid step, seeded) for Hill and the threshold"
        notes.append(f"ties of the {'counts' if spec.kind == 'integer' else f'{step:g}-grid'} broken by uniform "
                     f"jitter of one grid step ({step:g}) for Hill and the threshold choice")  # fmt: skip
    if not notes:
        return None, {}
    info["notes"] = notes
    return ts, info


def diagnose_table(
    X,
    columns: Sequence[str] | None = None,
    threshold: float | str | Mapping[str, float | str] = "auto",
    block_size: int | None = None,
    tail: str = "upper",
    seed: int | None = 0,
    source: str = "",
    *,
    time=None,
    block: str | None = None,
    decluster: bool | int = False,
    bayes: bool | dict = False,
) -> DiagnosticSummary:
    """Extreme-value diagnostics of every column of a table (see :func:`diagnose_column` for the content).

    Parameters
    ----------
    X : array-like, shape (n, d), a DataFrame, or a :class:`heavytail_diffusion.data.Table`
        Finite values, no constant column, n >= 10.
    columns : sequence of str, optional
        Column names (default: the DataFrame's / Table's, else ``x0, x1, ...``).
    threshold : "auto", float, or dict column -> float or "auto"
        GPD threshold on the analysed scale (x, -x or |x|); columns absent from a dict get "auto".
    block_size : int, optional
        Rows per block for GEV block maxima (1: rows are already maxima). None: no GEV fit.
    tail : {"upper", "lower", "both"}
        Analyse x, -x or |x|.
    seed : int or None
        Seeds the bootstrap of the Hill interval and of the automatic k (results are reproducible).
    source : str
        Provenance recorded in the summary.
    time : array-like or pandas Series, shape (n,), optional
        Date (or integer year) of every row; return periods are then in years.  A Series' name is recorded.
        With a :class:`~heavytail_diffusion.data.Table`, a name (str) picks ``X.extra[name]``.
    block : {"year", "season", "month"}, optional
        GEV of calendar-block maxima from ``time`` (instead of ``block_size``).
    decluster : bool or int
        Runs declustering of the exceedances (True: automatic run length; an int: that run length).
    bayes : bool or dict
        Also a Bayesian GPD (GEV for block maxima) fit by NUTS; a dict passes options to
        :func:`heavytail_diffusion.diagnostics.bayes.fit_gpd_bayes` (e.g. ``{"num_samples": 500}``).

    Returns
    -------
    DiagnosticSummary
        ``.to_dict()`` for JSON, ``.to_frame()`` for a flat table (summary.csv).

    Raises
    ------
    DataError
        NaN/inf, a constant column, fewer than 10 rows, an unknown column in ``threshold``, or a
        user-given threshold that leaves fewer than 10 exceedances in some column.
    """
    time_name = None
    if isinstance(time, str):
        extra = getattr(X, "extra", None)
        if extra is None or time not in extra:
            raise DataError(f"time column {time!r} is not among the table's id/time columns")
        time_name, time = time, extra[time]
    elif isinstance(time, pd.Series):
        time_name = None if time.name is None else str(time.name)
    schema = getattr(X, "schema", None)
    if hasattr(X, "values") and hasattr(X, "columns") and hasattr(X, "source"):  # data.Table
        columns = list(X.columns) if columns is None else columns
        source = source or X.source
        X = X.values
    elif isinstance(X, pd.DataFrame):
        columns = [str(c) for c in X.columns] if columns is None else columns
        X = X.to_numpy()
    A = check_array(X, "X", ndim=2, min_rows=10, columns=columns, allow_constant=False)
    names = [f"x{j}" for j in range(A.shape[1])] if columns is None else [str(c) for c in columns]
    if len(names) != A.shape[1]:
        raise ValueError(f"columns has {len(names)} names but X has {A.shape[1]} columns")
    if tail not in _SCALE:
        raise ValueError(f"tail must be 'upper', 'lower' or 'both', got {tail!r}")
    if block_size is not None:
        block_size = check_positive_int(block_size, "block_size")
    thr = _thresholds(threshold, names)
    tvals = None if time is None else np.asarray(time) if not isinstance(time, pd.Series) else time.to_numpy()
    res = {}
    for j, nm in enumerate(names):
        spec = schema[nm] if schema is not None and nm in schema else None
        ts, prep = _continuous_part(A[:, j], spec, seed)
        if ts is None and prep:
            res[nm] = prep
            continue
        res[nm] = diagnose_column(A[:, j], thr[nm], block_size=block_size, tail=tail, seed=seed, name=nm,
                                  time=tvals, block=block, decluster=decluster, bayes=bayes,
                                  tail_sample=ts)  # fmt: skip
        if prep:
            res[nm]["continuous_part"] = prep
            res[nm].setdefault("warnings", []).extend(prep.get("notes", []))
    return DiagnosticSummary(
        res,
        tail=tail,
        block_size=block_size,
        source=source,
        seed=seed,
        thresholds=thr,
        time_column=time_name,
        block=block,
    )
