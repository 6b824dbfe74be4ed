"""Tail scorecard: score synthetic rows against real rows, with noise floors, repeated splits, ranks and ties.

Everything here works on arrays and needs no model: :mod:`heavytail_diffusion.report` fits the generators
and calls these functions, and so can anyone who has synthetic rows from another tool
(:func:`heavytail_diffusion.scoring.score_samples`, ``heavytail score``).

The tail metrics are errors (0 = perfect, lower is better) chosen so that none can prefer a lighter or a
heavier tail than the reference's by construction:

- ``survival_area``: area between the log survival curves of reference and sample, over a range that covers
  *both* samples (from the reference 0.9 quantile to the larger of the two maxima), each curve floored at one
  reference row (``1 / n_ref``); a tail too light is charged where the reference still has mass, a tail too
  heavy where the sample has mass beyond the reference's. (The earlier ``ccdf_area`` stopped at the smaller
  maximum, so a tail that stops early was charged nothing for the range it never reaches.)
- ``quantile_rel_error`` at 0.99 and 0.999: relative error of the sample quantile; the reference quantile is
  empirical where the reference has at least :data:`MIN_BEYOND` values beyond it, else extrapolated from a
  GPD fitted above the reference 0.9 quantile, with its 95% delta-method interval (flagged ``ref_kind="gpd"``).
- ``hill_xi_abs_error``: |xi_sample - xi_ref| of Hill estimates at the reference's tail fraction, with the
  reference's 95% bootstrap interval.
- ``chi_abs_error`` at u = 0.9 and 0.95: |chi_sample(u) - chi_ref(u)| of each column pair (tail dependence).

Each metric's *noise floor* is the same metric between two random halves of the reference rows: how far apart
two real samples of half the size are. Sign convention: xi > 0 is a heavy tail; a column's lower tail is the
upper tail of -x, analysed only when the column takes both signs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from .diagnostics import dependence, distances, evt, tail_index
from .diagnostics.tail_index import orient
from .errors import DataError, NumericalError
from .validation import as_generator

__all__ = [
    "CHI_LEVELS",
    "FAMILIES",
    "FRAME_COLUMNS",
    "MIN_BEYOND",
    "QUANTILE_LEVELS",
    "atom_share",
    "column_kinds",
    "make_splits",
    "rank_splits",
    "score_split",
    "small_data_warnings",
    "split_summary",
    "survival_area",
    "tail_columns",
    "tied",
    "verdict",
]

#: Quantile levels of the quantile errors (on the oriented variable).
QUANTILE_LEVELS = (0.99, 0.999)
#: Fewest reference values beyond a quantile for the empirical quantile to count as estimable.
MIN_BEYOND = 10
#: Reference quantile above which the GPD is fitted and from which the survival area starts.
TAIL_QUANTILE = 0.9
#: Levels u of chi(u).
CHI_LEVELS = (0.9, 0.95)
#: Small-data thresholds: fewest test rows, fewest reference exceedances, largest share of one value.
MIN_TEST_ROWS = 200
MIN_EXCEEDANCES = 30
ATOM_SHARE = 0.1
#: Schema kinds that get no tail metric.
NON_TAIL_KINDS = ("categorical", "id", "time")

#: The ranked summary metrics ("families"): name -> (metric, level or None, one-line description).
FAMILIES: dict[str, tuple[str, float | None, str]] = {
    "survival_area": ("survival_area", None, ("area between log survival curves beyond the reference 0.9 "
                      "quantile, over the range of both samples (mean over columns and tails)")),
    "q99_error": ("quantile_rel_error", 0.99, "|relative error| of the 0.99 quantile (mean over columns/tails)"),
    "q999_error": ("quantile_rel_error", 0.999, ("|relative error| of the 0.999 quantile (mean over columns/"
                   "tails; GPD-extrapolated reference where the test rows cannot estimate it)")),
    "tail_index_error": ("hill_xi_abs_error", None, ("|xi_model - xi_ref|, Hill at the reference's tail "
                         "fraction (mean over columns/tails)")),
    "chi90_error": ("chi_abs_error", 0.9, "|chi_model(0.9) - chi_ref(0.9)| (mean over column pairs)"),
    "chi95_error": ("chi_abs_error", 0.95, "|chi_model(0.95) - chi_ref(0.95)| (mean over column pairs)"),
}  # fmt: skip

FRAME_COLUMNS = ["split", "model", "metric", "target", "tail", "level", "value", "ref_value", "ci_low",
                 "ci_high", "floor", "ref_kind", "note"]  # fmt: skip

_ERRORS = (ValueError, ArithmeticError, NumericalError)


def _row(split, model, metric, target, value, *, tail="", level=math.nan, ref_value=math.nan,
         ci=(math.nan, math.nan), floor=math.nan, ref_kind="", note="") -> dict:  # fmt: skip
    return {"split": int(split), "model": model, "metric": metric, "target": target, "tail": tail,
            "level": float(level), "value": float(value), "ref_value": float(ref_value), "ci_low": float(ci[0]),
            "ci_high": float(ci[1]), "floor": float(floor), "ref_kind": ref_kind, "note": note}  # fmt: skip


def _note(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")


def _tails(ref: np.ndarray) -> list[str]:
    return ["upper", "lower"] if ref.min() < 0 < ref.max() else ["upper"]


# ------------------------------------------------------------------------------------------------------------
# columns, schema, splits
# ------------------------------------------------------------------------------------------------------------
def column_kinds(schema, columns: Sequence[str]) -> dict[str, str]:
    """The schema kind of each column (``"real"`` where the schema is absent or silent).

    Parameters
    ----------
    schema : Mapping, object or None
        A mapping column -> kind (a string or an object with a ``kind`` attribute), an object with a
        ``kind_of(column)`` method or a ``kinds`` mapping, or None (every column ``"real"``).
    columns : sequence of str
        The column names to look up.

    Returns
    -------
    kinds : dict of str to str
        Column -> kind, in the order of ``columns``; ``"real"`` where the schema gives None.
    """
    out = {}
    for c in columns:
        k = None
        if schema is None:
            k = None
        elif hasattr(schema, "kind_of"):
            k = schema.kind_of(c)
        elif hasattr(schema, "kinds"):
            k = schema.kinds.get(c)
        elif isinstance(schema, Mapping):
            k = schema.get(c)
        k = getattr(k, "kind", k)
        out[c] = str(k) if k is not None else "real"
    return out


def tail_columns(columns: Sequence[str], kinds: Mapping[str, str] | None = None) -> list[int]:
    """Indices of the columns that get tail metrics: all but categorical, id and time columns.

    Parameters
    ----------
    columns : sequence of str
        Column names, in data order.
    kinds : Mapping of str to str, optional
        Column -> schema kind (:func:`column_kinds`); a column it lacks counts as ``"real"``.

    Returns
    -------
    idx : list of int
        Positions j in ``columns`` whose kind is not in :data:`NON_TAIL_KINDS`, ascending.
    """
    kinds = kinds or {}
    return [j for j, c in enumerate(columns) if kinds.get(c, "real") not in NON_TAIL_KINDS]


def atom_share(x: np.ndarray) -> tuple[float, float]:
    """(value, share of rows) of the most frequent value of ``x``."""
    vals, counts = np.unique(np.asarray(x, dtype=np.float64), return_counts=True)
    i = int(np.argmax(counts))
    return float(vals[i]), float(counts[i] / x.size)


def make_splits(n: int, n_splits: int = 5, test_fraction: float = 0.3, *, method: str = "random",
                seed: int = 0, order: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """Row indices ``(train, test)`` of ``n_splits`` train/test splits.

    Parameters
    ----------
    n : int
        Number of rows.
    n_splits : int
        Number of splits (default 5).
    test_fraction : float
        Share of rows in each test set, in (0, 1).
    method : {"random", "time"}
        ``"random"``: an independent seeded permutation per split. ``"time"``: rows in time order (``order``,
        default the row order); split s holds out one contiguous block of ``test_fraction * n`` rows, the
        blocks placed evenly from the start to the end of the period, and trains on the rows outside it.
    seed : int
        Seeds the permutations.
    order : array of int, optional
        Row indices in time order (``method="time"`` only), e.g. ``np.argsort(dates)``.

    Returns
    -------
    list of (train_index, test_index), sorted index arrays.

    Examples
    --------
    >>> from heavytail_diffusion.scorecard import make_splits
    >>> [(train.size, test.size) for train, test in make_splits(100, 2, 0.3, seed=0)]
    [(70, 30), (70, 30)]
    >>> [(int(test[0]), int(test[-1])) for _, test in make_splits(100, 3, 0.3, method="time")]
    [(0, 29), (35, 64), (70, 99)]
    """
    if method not in ("random", "time"):
        raise ValueError(f"split method must be 'random' or 'time', got {method!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if int(n_splits) < 1:
        raise ValueError(f"n_splits must be >= 1, got {n_splits}")
    n_test = round(test_fraction * n)
    if n_test < 20 or n - n_test < 20:
        raise DataError(
            f"{n} rows with test_fraction = {test_fraction} leave {n - n_test} train and {n_test} test rows; "
            "both need at least 20"
        )
    out = []
    if method == "random":
        rng = as_generator(seed)
        for _ in range(int(n_splits)):
            p = rng.permutation(n)
            out.append((np.sort(p[n_test:]), np.sort(p[:n_test])))
        return out
    idx = np.arange(n) if order is None else np.asarray(order, dtype=int)
    starts = np.linspace(0, n - n_test, int(n_splits)).round().astype(int) if n_splits > 1 else [n - n_test]
    for s in starts:
        test = idx[s : s + n_test]
        train = np.concatenate([idx[:s], idx[s + n_test :]])
        out.append((np.sort(train), np.sort(test)))
    return out


# ------------------------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------------------------
def survival_area(reference: np.ndarray, sample: np.ndarray, q: float = TAIL_QUANTILE) -> tuple[float, float]:
    """Area between the log survival curves of ``reference`` and ``sample`` beyond the reference q-quantile.

    With t0 the reference q-quantile, c the reference median, T the larger of the two maxima, n the reference
    size and S_r, S_s the empirical survival functions,

        area   = integral_{t0}^{T} |log max(S_s(t), 1/n) - log max(S_r(t), 1/n)| d log(t - c)
        signed = the same without the absolute value (> 0: sample tail too heavy, < 0: too light)

    computed exactly for the step functions. Both curves are floored at one reference row, the resolution of
    the reference: a sample of the true law that is much larger than the reference scores about 0 beyond the
    reference maximum, a tail too heavy is charged there, and a tail that stops early is charged for the range
    the reference still covers. The axis log(t - c) makes the area invariant to the location and scale of the
    data.

    Parameters
    ----------
    reference : array-like, shape (n,)
        The real values (one oriented column: its upper tail is compared).
    sample : array-like, shape (m,)
        The generated values.
    q : float
        Reference quantile where the area starts (default :data:`TAIL_QUANTILE`, 0.9).

    Returns
    -------
    (area, signed_area)

    Raises
    ------
    DataError
        If the reference q-quantile equals its median (an atom covers the tail's start).

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail_diffusion.scorecard import survival_area
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.pareto(3.0, 2000) + 1.0  # xi = 1/3
    >>> survival_area(ref, ref)
    (0.0, 0.0)
    >>> area, signed = survival_area(ref, rng.pareto(1.5, 5000) + 1.0)  # xi = 2/3: too heavy
    >>> bool(area > 1.0 and signed > 0)
    True
    """
    r, s = np.sort(np.asarray(reference, dtype=np.float64)), np.sort(np.asarray(sample, dtype=np.float64))
    n, m = r.size, s.size
    t0, c = float(np.quantile(r, q)), float(np.median(r))
    if not t0 > c:
        raise DataError(f"the reference {q} quantile equals its median ({t0:.6g}): an atom covers the tail")
    T = max(r[-1], s[-1])
    if not T > t0:
        return 0.0, 0.0
    pts = np.unique(np.concatenate([[t0], r[r > t0], s[s > t0], [T]]))
    left = pts[:-1]
    floor = 1.0 / n
    sr = np.maximum((n - np.searchsorted(r, left, side="right")) / n, floor)
    ss = np.maximum((m - np.searchsorted(s, left, side="right")) / m, floor)
    dx = np.diff(np.log(pts - c))
    diff = np.log(ss) - np.log(sr)
    return float(np.abs(diff) @ dx), float(diff @ dx)


class _RefTail:
    """Reference-side quantities of one oriented column, computed once per split and reused for every sample."""

    def __init__(self, y: np.ndarray, seed: int, n_boot: int, hill: bool = True):
        self.y, self.n = y, y.size
        self.notes: dict[str, str] = {}
        if not hill:
            self.hill, self.frac = None, math.nan
            self.notes["hill"] = ("integer column with a tied top 10% (counts): the Hill estimator is undefined "
                                  "at small k; no tail-index error")  # fmt: skip
        else:
            try:
                self.hill = tail_index.hill(y, ci="bootstrap", n_boot=n_boot, seed=seed)
                self.frac = self.hill.k / self.n
            except _ERRORS as exc:
                self.hill, self.frac = None, math.nan
                self.notes["hill"] = _note(exc)
        self.u = float(np.quantile(y, TAIL_QUANTILE))
        self.n_exc = int(np.sum(y > self.u))
        self.gpd = None
        self.quantiles: dict[float, tuple[float, tuple[float, float], str, str]] = {}
        for q in QUANTILE_LEVELS:
            self.quantiles[q] = self._quantile(q)

    def _fit_gpd(self):
        if self.gpd is None and "gpd" not in self.notes:
            try:
                ex = self.y[self.y > self.u] - self.u
                if ex.size > 1 and evt.gpd_moment_start(ex, ddof=1)[0] < -0.5:
                    raise DataError("bounded tail (moment estimate of xi < -0.5); GPD not fitted")
                self.gpd = evt.fit_gpd(self.y, self.u)
            except _ERRORS as exc:
                self.notes["gpd"] = _note(exc)
        return self.gpd

    def _quantile(self, q: float):
        """(value, ci, kind, note): empirical where >= MIN_BEYOND values lie beyond q, else GPD-extrapolated."""
        if self.n * (1.0 - q) >= MIN_BEYOND:
            return float(np.quantile(self.y, q)), (math.nan, math.nan), "empirical", ""
        fit = self._fit_gpd()
        if fit is None:
            return math.nan, (math.nan, math.nan), "", "no GPD extrapolation: " + self.notes["gpd"]
        try:
            rl = evt.return_level(fit, 1.0 / (1.0 - q), method="delta")
        except _ERRORS as exc:
            return math.nan, (math.nan, math.nan), "", "no GPD extrapolation: " + _note(exc)
        note = (f"reference has {self.n * (1 - q):.2g} values beyond q = {q}: GPD above {self.u:.4g} "
                f"({fit.n_exceedances} exceedances, xi {fit.shape:.2f}), 95% delta CI")  # fmt: skip
        return float(rl.value), (float(rl.ci_low), float(rl.ci_high)), "gpd", note


def _column_rows(split, name, col, tail, ref: _RefTail, g: np.ndarray) -> list[dict]:
    """Tail metrics of one oriented sample column ``g`` against the oriented reference column."""
    rows = []
    try:
        area, signed = survival_area(ref.y, g)
        rows.append(_row(split, name, "survival_area", col, area, tail=tail, level=TAIL_QUANTILE))
        rows.append(_row(split, name, "survival_signed_area", col, signed, tail=tail, level=TAIL_QUANTILE))
    except _ERRORS as exc:
        rows.append(_row(split, name, "survival_area", col, math.nan, tail=tail, note=_note(exc)))
    for q, (qr, ci, kind, note) in ref.quantiles.items():
        qg = float(np.quantile(g, q))
        val = (qg - qr) / abs(qr) if math.isfinite(qr) and qr != 0 else math.nan
        rci = tuple(sorted(((qg - c) / abs(c) if math.isfinite(c) and c != 0 else math.nan) for c in ci))
        rows.append(_row(split, name, "quantile_rel_error", col, val, tail=tail, level=q, ref_value=qr, ci=rci,
                         ref_kind=kind, note=note))  # fmt: skip
    if ref.hill is None:
        rows.append(
            _row(split, name, "hill_xi", col, math.nan, tail=tail, note="reference: " + ref.notes["hill"])
        )
    else:
        m = g.size
        k = int(np.clip(round(ref.frac * m), 2, m - 1))
        try:
            h = tail_index.hill(g, k=k, ci=None)
            ci = (ref.hill.ci_low, ref.hill.ci_high)
            rows.append(_row(split, name, "hill_xi", col, h.value, tail=tail, ref_value=ref.hill.value, ci=ci,
                             note=f"k = {k} of {m} (reference k = {ref.hill.k} of {ref.n}); ci: the reference's"))  # fmt: skip
            rows.append(_row(split, name, "hill_xi_abs_error", col, abs(h.value - ref.hill.value), tail=tail,
                             ref_value=ref.hill.value, ci=ci))  # fmt: skip
        except _ERRORS as exc:
            rows.append(_row(split, name, "hill_xi", col, math.nan, tail=tail, note=_note(exc)))
            rows.append(_row(split, name, "hill_xi_abs_error", col, math.nan, tail=tail, note=_note(exc)))
    return rows


def _pair_tails(a: np.ndarray, b: np.ndarray) -> list[str]:
    return ["upper", "lower"] if (a.min() < 0 < a.max()) and (b.min() < 0 < b.max()) else ["upper"]


def _score_one(split, name, R, S, cols, tail_idx, ref_tails, ref_chi, msw_kw) -> list[dict]:
    rows: list[dict] = []
    for j in tail_idx:
        for t in _tails(R[:, j]):
            rows += _column_rows(split, name, cols[j], t, ref_tails[(j, t)], orient(S[:, j], t))
    for (a, b, t), chis in ref_chi.items():
        for u, c_ref in chis.items():
            c_s = float(dependence.chi(S[:, a], S[:, b], u, tail=t))
            rows.append(
                _row(split, name, "chi", f"{cols[a]}|{cols[b]}", c_s, tail=t, level=u, ref_value=c_ref)
            )
            rows.append(_row(split, name, "chi_abs_error", f"{cols[a]}|{cols[b]}", abs(c_s - c_ref), tail=t,
                             level=u, ref_value=c_ref))  # fmt: skip
    if msw_kw is not None:
        try:
            v = distances.max_sliced_wasserstein(R, S, space="slog", **msw_kw)
        except _ERRORS as exc:
            rows.append(_row(split, name, "max_sliced_w2_slog", "joint", math.nan, note=_note(exc)))
        else:
            rows.append(_row(split, name, "max_sliced_w2_slog", "joint", v))
    return rows


def _tied_top(y: np.ndarray) -> bool:
    """Whether the top 10% of ``y`` is mostly ties (fewer distinct values than half its size): a count."""
    top = np.sort(y)[-max(int(np.ceil(0.1 * y.size)), 2) :]
    return np.unique(top).size < 0.5 * top.size


def _reference_side(R, tail_idx, seed, n_boot, discrete=()):
    ref_tails = {}
    for j in tail_idx:
        for t in _tails(R[:, j]):
            y = orient(R[:, j], t)
            ref_tails[(j, t)] = _RefTail(y, seed, n_boot, hill=not (j in discrete and _tied_top(y)))
    ref_chi = {}
    for a, b in combinations(tail_idx, 2):
        for t in _pair_tails(R[:, a], R[:, b]):
            ref_chi[(a, b, t)] = {u: float(dependence.chi(R[:, a], R[:, b], u, tail=t)) for u in CHI_LEVELS}
    return ref_tails, ref_chi


def score_split(reference: np.ndarray, samples: Mapping[str, np.ndarray], *, columns: Sequence[str],
                tail_idx: Sequence[int] | None = None, split: int = 0, seed: int = 0, quick: bool = False,
                floors: bool = True, joint: bool = True, discrete: Sequence[int] = ()) -> pd.DataFrame:  # fmt: skip
    """Every tail metric of every sample against one reference, with each metric's noise floor.

    Parameters
    ----------
    reference : ndarray, shape (n, d)
        The real rows the samples are judged against (a test split, or a large true-law sample).
    samples : mapping name -> ndarray of shape (m, d)
        Raw-scale synthetic rows, columns in the order of ``columns``.
    columns : sequence of str
    tail_idx : sequence of int, optional
        Columns that get tail metrics (default all; see :func:`tail_columns`).
    split : int
        Split number written into the ``split`` column.
    seed : int
        Seeds the bootstrap, the projections and the halving of the reference for the floors.
    quick : bool
        Fewer bootstrap resamples and projections.
    floors : bool
        Fill the ``floor`` column: the metric between two random halves of ``reference``.
    joint : bool
        Also the max-sliced W2 in signed-log space (not a ranked metric).
    discrete : sequence of int
        Integer columns among ``tail_idx``. Where the reference's top 10% is mostly ties (a count such as a
        number of claimants, not an amount in whole dollars) no Hill tail-index error is computed: the ties
        leave the estimator undefined at the small k the reference's double bootstrap picks, which would charge
        any generator with integer output; their other tail metrics stay.

    Returns
    -------
    DataFrame with columns :data:`FRAME_COLUMNS`: one row per (model, metric, target, tail, level).

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail_diffusion.scorecard import score_split
    >>> rng = np.random.default_rng(0)
    >>> R = rng.standard_t(3, size=(500, 1))
    >>> samples = {"t3": rng.standard_t(3, size=(2000, 1)), "normal": rng.normal(size=(2000, 1))}
    >>> M = score_split(R, samples, columns=["x"], quick=True, joint=False)
    >>> sorted(set(M.metric))
    ['hill_xi', 'hill_xi_abs_error', 'quantile_rel_error', 'survival_area', 'survival_signed_area']
    >>> area = M[M.metric == "survival_area"].groupby("model").value.mean()  # both tails of x
    >>> bool(area["t3"] < area["normal"])  # the Student-t tails are closer to the reference's
    True
    """
    R = np.asarray(reference, dtype=np.float64)
    cols = list(columns)
    tail_idx = list(range(R.shape[1])) if tail_idx is None else list(tail_idx)
    n_boot = 100 if quick else 300
    msw_kw = ({"n_candidates": 64, "n_restarts": 1, "screen_size": 1024, "seed": seed} if quick
              else {"n_candidates": 128, "n_restarts": 2, "screen_size": 2048, "seed": seed}) if joint else None  # fmt: skip
    discrete = {int(j) for j in discrete}
    ref_tails, ref_chi = _reference_side(R, tail_idx, seed, n_boot, discrete)
    rows: list[dict] = []
    for name, S in samples.items():
        rows += _score_one(split, name, R, np.asarray(S, dtype=np.float64), cols, tail_idx, ref_tails, ref_chi,
                           msw_kw)  # fmt: skip
    out = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    if floors and len(out):
        perm = as_generator(seed + 7919).permutation(R.shape[0])
        A, B = R[perm[: R.shape[0] // 2]], R[perm[R.shape[0] // 2 :]]
        fa, fc = _reference_side(A, tail_idx, seed, n_boot, discrete)
        fl = pd.DataFrame(
            _score_one(split, "floor", A, B, cols, tail_idx, fa, fc, msw_kw), columns=FRAME_COLUMNS
        )
        key = ["metric", "target", "tail", "level"]
        fl = fl[key + ["value"]].rename(columns={"value": "floor"})
        fl["level"] = fl["level"].fillna(-1.0)
        out["level_key"] = out["level"].fillna(-1.0)
        out = out.drop(columns="floor").merge(fl.rename(columns={"level": "level_key"}),
                                              on=["metric", "target", "tail", "level_key"], how="left")  # fmt: skip
        out = out.drop(columns="level_key")[FRAME_COLUMNS]
    return out


# ------------------------------------------------------------------------------------------------------------
# summaries over splits: ranks, ties, verdict
# ------------------------------------------------------------------------------------------------------------
def split_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per (split, model): each family of :data:`FAMILIES` (mean |value| over its rows) and its floor.

    Extra columns where present: ``msw_slog`` and its floor, ``memorisation_ratio``, ``nfe``,
    ``fit_seconds``, ``sample_seconds``.
    """
    M = metrics
    rows = []
    for (s, name), g in M.groupby(["split", "model"], sort=False):
        r = {"split": s, "model": name}
        for fam, (metric, level, _) in FAMILIES.items():
            h = g[g.metric == metric]
            if level is not None:
                h = h[np.isclose(h.level, level)]
            # a value the reference itself cannot give is left out; a model's own failure ranks it last
            h = h[~(h.value.isna() & h.note.str.startswith(("reference", "no GPD")))]
            v = np.abs(h.value.to_numpy(dtype=float))
            f = np.abs(h.floor.to_numpy(dtype=float))
            r[fam] = math.nan if v.size == 0 else (float(v.mean()) if np.isfinite(v).all() else math.inf)
            r[fam + "_floor"] = float(np.nanmean(f)) if np.isfinite(f).any() else math.nan
        for metric, key in (("max_sliced_w2_slog", "msw_slog"), ("memorisation_ratio", "memorisation_ratio"),
                            ("nfe", "nfe"), ("fit_seconds", "fit_seconds"), ("sample_seconds", "sample_seconds")):  # fmt: skip
            h = g[g.metric == metric]
            if len(h):
                r[key] = float(h.value.iloc[0])
                if metric == "max_sliced_w2_slog":
                    r["msw_slog_floor"] = float(h.floor.iloc[0])
        rows.append(r)
    return pd.DataFrame(rows)


def tied(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> bool:
    """Whether paired per-split values ``a`` and ``b`` differ by no more than the split-to-split noise.

    Tied when |mean(a - b)| <= t_{(1+level)/2, S-1} * sd(a - b) / sqrt(S) over the S splits where both are
    finite (a paired t interval that covers 0); with one split, only equal values are tied.

    Parameters
    ----------
    a, b : array_like, shape (n_splits,)
        Paired per-split values of two models (same split order); NaN and +-inf allowed.
    level : float, default 0.95
        Confidence level of the paired t interval, in (0, 1).

    Returns
    -------
    tied : bool
        The rule above on the splits where both values are finite (splits where either is not are ignored).
        With no such split: True when some split has both values infinite or when both are all NaN.
    """
    from scipy.stats import t as student_t

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both_inf = np.isinf(a) & np.isinf(b)
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return bool(both_inf.any() or (np.isnan(a).all() and np.isnan(b).all()))
    d = a[ok] - b[ok]
    if d.size < 2:
        return bool(d[0] == 0)
    half = student_t.ppf(0.5 + level / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    return bool(abs(d.mean()) <= half)


def rank_splits(per_split: pd.DataFrame, models: Sequence[str]) -> pd.DataFrame:
    """Ranks with uncertainty from the per-split summary (:func:`split_summary`).

    In each split the models are ranked on every family (average ranks for equal values, a missing value
    last); a model's split score is its mean rank over the families, and its overall ``rank`` the mean split
    score. Returned per model: each family's mean and standard deviation over splits (``<family>`` and
    ``<family>_sd``) and mean floor (``<family>_floor``); ``rank``, ``rank_low``/``rank_high`` (the best and
    worst split scores), ``share_best`` (share of splits in which the model has the best split score, ties
    shared), ``best_in`` (families where it is best or tied with the best) and ``tied_with`` (models whose
    split scores it does not beat beyond the split-to-split noise, :func:`tied`). Sorted best first.

    Parameters
    ----------
    per_split : DataFrame
        One row per (split, model) with a column per family (:func:`split_summary`).
    models : sequence of str
        The models to rank (others in ``per_split`` are ignored).

    Returns
    -------
    DataFrame, one row per model (index), best first.

    Examples
    --------
    >>> import pandas as pd
    >>> from heavytail_diffusion.scorecard import rank_splits
    >>> per_split = pd.DataFrame({"split": [0, 0, 1, 1], "model": ["a", "b", "a", "b"],
    ...                           "survival_area": [0.2, 0.9, 0.3, 0.8], "q99_error": [0.1, 0.4, 0.5, 0.3]})
    >>> ranked = rank_splits(per_split, ["a", "b"])  # split 1: a tie (mean ranks 1.5, 1.5), best shared
    >>> list(ranked.index), ranked["rank"].tolist(), ranked["share_best"].tolist()
    (['a', 'b'], [1.25, 1.75], [0.75, 0.25])
    """
    P = per_split[per_split.model.isin(models)].copy()
    fams = [f for f in FAMILIES if f in P.columns and np.isfinite(P[f]).any()]
    scores = []
    for _s, g in P.groupby("split", sort=True):
        g = g.set_index("model")
        ranks = pd.concat([g[f].replace(np.nan, np.inf).rank(method="average") for f in fams], axis=1)
        scores.append(ranks.mean(axis=1).rename(_s))
    score = pd.concat(scores, axis=1) if scores else pd.DataFrame(index=list(models))
    out = pd.DataFrame(index=pd.Index(list(dict.fromkeys(P.model)), name="model"))
    for f in fams + [c for c in ("msw_slog", "memorisation_ratio", "nfe", "fit_seconds", "sample_seconds")
                     if c in P.columns]:  # fmt: skip
        grp = P.groupby("model")[f]
        out[f] = grp.apply(lambda v: float(np.mean(v)) if np.isfinite(v).all() else
                           (float(np.inf) if np.isinf(v).any() else math.nan))  # fmt: skip
        out[f + "_sd"] = grp.apply(
            lambda v: float(np.std(v, ddof=1)) if np.isfinite(v).sum() > 1 else math.nan
        )
        if f + "_floor" in P.columns:
            out[f + "_floor"] = P.groupby("model")[f + "_floor"].mean()
    out["rank"] = score.mean(axis=1)
    out["rank_low"], out["rank_high"] = score.min(axis=1), score.max(axis=1)
    best = score.eq(score.min(axis=0), axis=1)
    out["share_best"] = (best / best.sum(axis=0)).sum(axis=1) / max(score.shape[1], 1)
    names = list(out.index)
    out["tied_with"] = [
        ", ".join(o for o in names if o != m and tied(score.loc[m], score.loc[o])) for m in names
    ]
    best_in = {m: [] for m in names}
    for f in fams:
        wide = P.pivot_table(index="split", columns="model", values=f, aggfunc="first")
        lead = out[f].idxmin() if np.isfinite(out[f]).any() else None
        if lead is None:
            continue
        for m in names:
            if m == lead or (m in wide and tied(wide[m].to_numpy(), wide[lead].to_numpy())):
                best_in[m].append(f)
    out["best_in"] = [", ".join(best_in[m]) for m in names]
    return out.sort_values("rank", kind="stable")


def _fmt(v: float) -> str:
    return "n/a" if not math.isfinite(v) else (f"{v:.3g}" if abs(v) < 1e4 else f"{v:.2e}")


def verdict(ranked: pd.DataFrame, *, n_splits: int, failed: Mapping[str, str] | None = None,
            warnings: Sequence[str] = ()) -> str:  # fmt: skip
    """A paragraph written from the numbers of :func:`rank_splits`: who wins overall and on which metric, by
    how much relative to the noise floor, which models are tied, and where every model fails.

    A metric "fails" for every model when even the best model's mean error is more than three times the
    metric's noise floor (two halves of the real rows scored against each other).

    Parameters
    ----------
    ranked : DataFrame
        Output of :func:`rank_splits`, best first; each family column present needs its ``<family>_floor``
        column too (a KeyError otherwise).
    n_splits : int
        Number of splits behind the ranks (only quoted in the text).
    failed : Mapping of str to str, optional
        Model -> error message, for models that produced no samples.
    warnings : sequence of str, default ()
        Sentences (e.g. :func:`small_data_warnings`) appended after "Read with care:".

    Returns
    -------
    text : str
        The paragraph (markdown: the winner in bold); when ``ranked`` is empty, a sentence saying nothing
        was scored and the failures.
    """
    if ranked.empty:
        parts = ["No model produced samples, so nothing was scored."]
        if failed:
            parts.append("Failed: " + "; ".join(f"{k} ({v})" for k, v in failed.items()) + ".")
        return " ".join(parts)
    top = ranked.index[0]
    r = ranked.loc[top]
    ties = [t for t in r.tied_with.split(", ") if t]
    s = (f"Over {n_splits} split{'s' if n_splits != 1 else ''}, **{top}** ranks first on the tail metrics "
         f"(mean rank {r['rank']:.2f}, between {r.rank_low:.2f} and {r.rank_high:.2f} across splits; best in "
         f"{r.share_best:.0%} of the splits)")  # fmt: skip
    s += (
        f", but it is tied with {', '.join(ties)}: their difference is within the split-to-split noise."
        if ties
        else ", ahead of every other model by more than the split-to-split noise."
    )
    parts = [s]
    fails, wins = [], []
    for fam in FAMILIES:
        if fam not in ranked.columns or not np.isfinite(ranked[fam]).any():
            continue
        lead = ranked[fam].idxmin()
        v, fl = float(ranked.loc[lead, fam]), float(ranked.loc[lead, fam + "_floor"])
        ratio = v / fl if fl > 0 and math.isfinite(fl) else math.nan
        shared = [m for m in ranked.index if m != lead and fam in ranked.loc[m, "best_in"].split(", ")]
        who = lead + (f" (tied with {', '.join(shared)})" if shared else "")
        rel = f"{ratio:.1f}x its noise floor {_fmt(fl)}" if math.isfinite(ratio) else "no noise floor"
        wins.append(f"{fam}: {who}, {_fmt(v)} = {rel}")
        if math.isfinite(ratio) and ratio > 3:
            fails.append(fam)
    parts.append("Best per metric (mean over splits): " + "; ".join(wins) + ".")
    if fails:
        parts.append(
            "Every model fails on " + ", ".join(fails) + ": even the best is more than 3x the noise "
            "floor, i.e. further from the real rows than two halves of the real rows are from each other."
        )
    else:
        parts.append("On every metric the best model is within 3x the noise floor.")
    if failed:
        parts.append(f"{len(failed)} model(s) failed and are not ranked: {', '.join(failed)}.")
    if warnings:
        parts.append("Read with care: " + " ".join(warnings))
    return " ".join(parts)


def small_data_warnings(reference: np.ndarray, columns: Sequence[str], tail_idx: Sequence[int], *,
                        kinds: Mapping[str, str] | None = None, schema=None) -> list[str]:  # fmt: skip
    """One sentence per small-data problem of a reference (test) set.

    Flags fewer than :data:`MIN_TEST_ROWS` reference rows, a column tail with fewer than
    :data:`MIN_EXCEEDANCES` reference values above the 0.9 quantile (the GPD and survival metrics rest on
    them), and an atom-dominated column: tail fits should see the continuous part only. With a ``schema``
    (:class:`heavytail_diffusion.schema.Schema`) a column is atom-dominated when its declared or inferred
    atoms (exact zeros, a cap, a heaped count) hold at least :data:`ATOM_SHARE` of the reference rows;
    without one (or for a column it does not know), when its most frequent value does. Only the tail
    columns (``tail_idx``) are checked: categorical, id and time columns get no tail metric.

    Parameters
    ----------
    reference : array_like, shape (n, d)
        The reference (test) rows.
    columns : sequence of str
        The d column names, in the order of ``reference``'s columns.
    tail_idx : sequence of int
        Positions of the tail columns (:func:`tail_columns`).
    kinds : Mapping of str to str, optional
        Column -> schema kind; accepted but not used.
    schema : Schema, optional
        Declared or inferred schema; its atoms decide atom domination for the columns it contains.

    Returns
    -------
    warnings : list of str
        One sentence per problem, in this order: few rows (n < :data:`MIN_TEST_ROWS`), few exceedances
        (ceil(0.1 n) < :data:`MIN_EXCEEDANCES`, a single sentence for all columns), then one per
        atom-dominated tail column (atom share >= :data:`ATOM_SHARE`); empty when there is none.
    """
    R = np.asarray(reference, dtype=np.float64)
    n = R.shape[0]
    out = []
    if n < MIN_TEST_ROWS:
        out.append(f"only {n} test rows (< {MIN_TEST_ROWS}): tail metrics are noisy; compare them with their "
                   "noise floors.")  # fmt: skip
    n_exc = int(np.ceil(n * (1 - TAIL_QUANTILE)))
    if n_exc < MIN_EXCEEDANCES:
        out.append(f"each tail has about {n_exc} test values above its 0.9 quantile (< {MIN_EXCEEDANCES}): the "
                   "reference tail index and GPD rest on few points.")  # fmt: skip
    for j in tail_idx:
        c = columns[j]
        spec = schema[c] if schema is not None and c in schema else None
        if spec is not None:
            atoms = tuple(float(a) for a in spec.atoms)
            share = float(np.isin(R[:, j], atoms).mean()) if atoms else 0.0
            what = ", ".join(f"{a:g}" for a in atoms)
        else:
            v, share = atom_share(R[:, j])
            what = f"{v:g}"
        if share >= ATOM_SHARE:
            out.append(f"column {c!r} is atom-dominated ({share:.0%} of the test rows equal {what}): its tail "
                       "metrics mix the atom with the continuous tail.")  # fmt: skip
    return out
