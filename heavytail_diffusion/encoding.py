"""Mixed tables <-> real-valued channels, so that every generator honours the column schema.

A generator models a continuous vector. :class:`SchemaEncoder` maps each modelled column of a table
(:mod:`heavytail_diffusion.schema`) to one or more real *channels* and back:

- **atoms** (point masses: zeros, a cap, a floor). One atom at an end of the column's range (the common
  case: exact zeros, a policy limit) keeps *one* channel: the continuous part as it is, and the atom rows
  in a block of channel values right beside it (below a zero, above a cap), as dense as the outer half of
  the continuous part, on the Preprocessor's scale. The channel is then a monotone function of the latent
  variable of a threshold model (a randomised probability integral transform), which copula priors and
  the denoiser model like any continuous column: the atom pattern keeps its dependence on the other columns
  and the continuous part its own law and tail. Where an atom row sits in its block is imputed from the
  other columns (:func:`_impute_atom_positions`) rather than drawn at random, which would dilute that
  dependence. Decoding: a value in the block is the atom. Other atoms (several, or inside the range) become
  a discrete state channel (encoded like a categorical variable, below) beside a continuous channel whose
  atom rows are filled with independent draws from the continuous part's own law (interpolated empirical
  quantiles), so that no atom reaches the tail fits. A model's state decoding (several atoms, and
  categories) is calibrated on its own draws at fit time (:meth:`SchemaEncoder.calibrate`: biases on the
  state channels give each state its training share), as the atom block's cut is: a smooth generator
  otherwise put 2% of its draws in the state of an atom held by one row in 4,000, and 2% in a 0.25% category.
- **categories** with K levels: one channel ``k + U - 1/2`` for K = 2 (decoded by ``>= 1/2``), K one-hot
  channels ``1{level = i} + U_i - 1/2`` for K > 2 (decoded by argmax); uniform dequantisation keeps every
  channel's density a step function (no spurious modes for the dip test).
- **continuous part**, by kind: ``real`` as is; ``positive``/``nonnegative`` ``c = x``, a lower bound a
  ``c = x - a``, an upper bound b alone ``c = b - x``, each through the log-linear map (log below the
  median, identity above); both bounds: ``logit((x - a) / (b - a))``; so that every decoded value lies in
  the support and the upper tail keeps the data's scale.
- **integers** (dequantisation): ``x - lo + V`` with ``V ~ U(0, 1]`` (log-linear when bounded below),
  decoded by ``lo + ceil(c) - 1``; **rounded data** (``step``): ``x + step (U - 1/2)`` within the support,
  decoded by rounding to the grid.

Decoding never leaves the support: categories and atoms by construction, bounds by the transforms (and by a
final clip against floating-point round-off, or where a user-chosen preprocessing is not the kind's own).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import DataError
from .schema import ColumnSpec, Schema

__all__ = ["SchemaEncoder"]

#: quantile points kept of each atom column's continuous part (fills atom rows; saved with the model)
FILL_POINTS = 4097


_EDGE = 1e-6


def _normal_scores(v: np.ndarray) -> np.ndarray:
    from scipy import special, stats

    return special.ndtri((stats.rankdata(v) - 0.5) / v.size)


def _g(method: str, c: np.ndarray) -> np.ndarray:
    """The Preprocessor's elementwise map of a channel (before its location/scale)."""
    if method == "log":
        with np.errstate(divide="ignore"):
            return np.log(c)
    if method == "signed-log":
        return np.sign(c) * np.log1p(np.abs(c))
    return np.asarray(c, dtype=np.float64)


def _g_inv(method: str, g: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        if method == "log":
            return np.exp(g)
        if method == "signed-log":
            return np.sign(g) * np.expm1(np.abs(g))
    return np.asarray(g, dtype=np.float64)


def _impute_atom_positions(C: np.ndarray, layout: list, rng: np.random.Generator, sweeps: int = 20) -> None:
    """Impute, in place, where the atom rows of atom-block channels sit inside their block.

    An atom at an end of a column's range is the censored part of a latent variable: a zero loss is a loss
    whose latent fell below the threshold ``Phi^{-1}(p_atom)``, with no say where. A random position in the
    block makes it independent of the other columns and dilutes the dependence that copula priors and the
    denoiser see. Here the columns' latent variables (normal scores; atom rows censored to their interval)
    get a Gaussian copula, and the censored positions are drawn from their conditional law truncated to the
    interval, in ``sweeps`` Gibbs sweeps with the correlation re-estimated each time (stochastic EM for the
    extended rank likelihood of Hoff 2007, Ann. Appl. Stat. 1). The imputed latent becomes the position in
    the block, so the channel stays in the block (decoding unchanged) and monotone in the latent.

    ``layout``: per latent variable ``(channel, codec or None)``; a codec in block mode is censored.
    """
    from scipy import special, stats

    censored = [i for i, (_, c) in enumerate(layout) if c is not None]
    if not censored or len(layout) < 2:
        return
    n = C.shape[0]
    Z = np.empty((n, len(layout)))
    blocks = []
    for i, (ch, c) in enumerate(layout):
        if c is None:
            Z[:, i] = _normal_scores(C[:, ch])
            blocks.append(None)
            continue
        atom = c.is_atom(C[:, ch])
        p = float(np.mean(atom))
        F = _EDGE + (1 - 2 * _EDGE) * np.interp(C[~atom, ch], c.fill, np.linspace(0.0, 1.0, c.fill.size))
        U = np.empty(n)
        U[~atom] = p + (1 - p) * F if c.order < 0 else (1 - p) * F
        Z[~atom, i] = special.ndtri(U[~atom])
        cut = float(special.ndtri(p if c.order < 0 else 1 - p))
        lo, hi = (-np.inf, cut) if c.order < 0 else (cut, np.inf)
        blocks.append((atom, lo, hi, p))
        Z[atom, i] = stats.truncnorm.rvs(lo, hi, size=int(atom.sum()), random_state=rng)
    for _ in range(sweeps):
        R = np.corrcoef(Z, rowvar=False) + 1e-6 * np.eye(Z.shape[1])
        for i in censored:
            atom, lo, hi, _ = blocks[i]
            others = [k for k in range(Z.shape[1]) if k != i]
            beta = np.linalg.solve(R[np.ix_(others, others)], R[others, i])
            sd = float(np.sqrt(max(1.0 - R[i, others] @ beta, 1e-6)))
            mu = Z[np.ix_(atom, others)] @ beta
            Z[atom, i] = stats.truncnorm.rvs((lo - mu) / sd, (hi - mu) / sd, loc=mu, scale=sd, random_state=rng)
    for i in censored:
        atom, lo, hi, p = blocks[i]
        ch, c = layout[i]
        U = special.ndtr(Z[atom, i])
        w = U / p if c.order < 0 else (U - (1 - p)) / p  # position in the block: 1 / 0 at the threshold
        C[atom, ch] = c.block_values(np.clip(w, _EDGE, 1 - _EDGE))


def _levels(spec: ColumnSpec) -> np.ndarray:
    """Values a categorical column takes in Table.values: codes 0..K-1, or its numeric levels."""
    if spec.coded:
        return np.arange(len(spec.categories), dtype=np.float64)
    return np.asarray(spec.categories, dtype=np.float64)


def _onehot_width(k: int) -> int:
    return 0 if k <= 1 else 1 if k == 2 else k


def _encode_states(k: np.ndarray, n_states: int, rng: np.random.Generator) -> np.ndarray:
    """Dequantised state codes (n,) -> (n, width) channels."""
    w = _onehot_width(n_states)
    if w == 0:
        return np.empty((k.size, 0))
    if w == 1:
        return (k + rng.random(k.size) - 0.5)[:, None]
    out = rng.random((k.size, w)) - 0.5
    out[np.arange(k.size), k] += 1.0
    return out


def _decode_states(S: np.ndarray, n_states: int, bias=()) -> np.ndarray:
    """State channels (n, w) -> state codes: ``>= 1/2`` for one channel, argmax for one-hot channels, after
    adding ``bias`` (one value per channel; empty: none)."""
    w = _onehot_width(n_states)
    if w == 0:
        return np.zeros(S.shape[0], dtype=np.int64)
    if len(bias):
        S = S + np.asarray(bias, dtype=np.float64)
    if w == 1:
        return (S[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(S, axis=1).astype(np.int64)


def _state_biases(S: np.ndarray, share: np.ndarray, sweeps: int = 8) -> np.ndarray:
    """Biases b (one per state channel) with which the decoded states of finite draws ``S`` (m, w) take the
    shares ``share`` (one per state): a quantile cut for one channel; for one-hot channels coordinate
    updates of each b_i (i >= 1; b_0 = 0): state i wins a row when b_i exceeds
    ``d = max_{j != i}(S_j + b_j) - S_i``, so its share is ``share_i`` at ``b_i`` = the ``share_i`` quantile of d."""
    w = _onehot_width(share.size)
    if w == 1:
        return np.array([0.5 - float(np.quantile(S[:, 0], 1.0 - share[1]))])
    b = np.zeros(w)
    for _ in range(sweeps):
        for i in range(1, w):
            d = np.delete(S + b, i, axis=1).max(axis=1) - S[:, i]
            b[i] = float(np.quantile(d, share[i]))
    return b


@dataclass
class _Codec:
    """How one column maps to channels (fitted)."""

    spec: ColumnSpec
    n_states: int  # 1 + number of atoms (continuous kinds) or number of levels (categorical)
    transform: str  # "identity", "shift", "reflect", "logit" or "none" (categorical / all atoms)
    method: str  # Preprocessor transform of the continuous channel
    fill: np.ndarray  # sorted quantiles of the continuous channel of the non-atom rows; empty without atoms
    # block mode (one atom at an end of the range): the atom rows get a block of channel values beside the
    # continuous part, below (order -1) or above (+1) it; edge = the continuous part's extreme channel
    # value, block_width = the block's width on the Preprocessor's scale (log for log channels)
    order: int = 0
    edge: float = math.nan
    block_width: float = math.nan
    block_share: float = 0.0  # training share of the atom (the block's mass)
    cut: float = math.nan  # decision point of decoding (default: the edge), calibrated to the model's draws
    # state mode (a column with several atoms: value first; a categorical column: its levels): the training
    # share of each state, and the biases added to the state channels before decoding, calibrated to the
    # model's draws
    state_share: tuple = ()
    state_bias: tuple = ()
    # "loglin" map of a positive channel c: log below its median m, identity above: m + m log(c / m) for
    # c < m (so any real value decodes to c > 0) and c itself above (the upper tail on the data's scale)
    loglin: float = math.nan

    @property
    def has_value(self) -> bool:
        return self.transform != "none"

    @property
    def state_width(self) -> int:
        return 0 if self.order else _onehot_width(self.n_states)

    @property
    def width(self) -> int:
        return self.state_width + int(self.has_value)

    def is_atom(self, h: np.ndarray, decode: bool = False) -> np.ndarray:
        """Block mode: which channel values fall in the atom block (``decode``: at the calibrated cut)."""
        t = self.cut if decode and not math.isnan(self.cut) else self.edge
        return (h < t) if self.order < 0 else (h > t)

    def block_values(self, w: np.ndarray) -> np.ndarray:
        """Block mode: channel values at positions ``w`` in (0, 1) of the block (w -> 1 for order -1, w -> 0
        for +1: next to the continuous part)."""
        g = _g(self.method, np.array([self.edge]))[0]
        g = g - self.block_width * (1.0 - w) if self.order < 0 else g + self.block_width * w
        return _g_inv(self.method, g)


class SchemaEncoder:
    """Invertible map between a table (values as in :class:`~heavytail_diffusion.data.Table`) and channels.

    Parameters
    ----------
    schema : Schema
        The modelled columns, in the order of the table's columns.
    preprocessing : "auto", str or list of str
        Preprocessor transform of each column's continuous channel. ``"auto"`` (default) chooses from the
        kind: a column bounded on one side (positive, nonnegative, a declared lower or upper limit, counts)
        goes through the *log-linear* map ``m + m log(c / m)`` below the median m of ``c = x - lower`` (or
        ``upper - x``) and ``c`` itself above it, then ``"robust"`` scaling: every real number decodes inside
        the support, and the far tail stays on the data's own scale, where the GPD tails of the priors are
        fitted as in :mod:`heavytail_diffusion.diagnostics` (a full log would turn every tail into a Pareto
        tail: measured on the Fort Collins rain, whose GPD shape is 0.18, that put the 0.999 quantile of
        wet days at 15 inches instead of 3). Two-sided bounded columns get a logit, real ones ``"robust"``.
        A string applies to every continuous channel, a list gives one per column (entries of categorical
        columns are ignored). State and category channels are always ``"robust"``.

    Attributes
    ----------
    channel_names_ : tuple of str
    channel_methods_ : tuple of str
        The Preprocessor transform of each channel.
    discrete_channels_ : tuple of bool
        Whether each channel encodes a state or a category (dequantised: a step density, bounded tails).
    n_channels_ : int
    """

    def __init__(self, schema: Schema, preprocessing="auto"):
        self.schema = schema
        self.preprocessing = preprocessing

    # ---- fitting --------------------------------------------------------------------------------------
    def _methods(self) -> list[str | None]:
        d = len(self.schema)
        p = self.preprocessing
        if p is None or (isinstance(p, str) and p == "auto"):
            return [None] * d
        if isinstance(p, str):
            return [p] * d
        p = list(p)
        if len(p) != d:
            names = ", ".join(self.schema.names)
            raise ValueError(f"preprocessing lists {len(p)} transforms but there are {d} modelled columns ({names})")
        return [None if m == "auto" else m for m in p]

    def fit(self, X: np.ndarray, seed=0) -> SchemaEncoder:
        """Learn the channel layout and the atom-row fills from ``X`` (n, d), the table's values.

        Parameters
        ----------
        X : ndarray, shape (n, d)
            The table's values, one column per schema column (categories as their codes).
        seed : int, numpy Generator or None, default 0
            Seed of the one encoding pass that learns the fills (quantiles of the continuous channels).

        Returns
        -------
        self : SchemaEncoder
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.schema):
            raise DataError(f"X has shape {X.shape} but the schema has {len(self.schema)} columns")
        self.codecs_ = [self._fit_column(spec, X[:, j], m) for j, (spec, m) in
                        enumerate(zip(self.schema, self._methods(), strict=True))]  # fmt: skip
        # the fills are the continuous channel's quantiles: encode once (seeded) to learn them
        rng = np.random.default_rng(seed)
        for j, c in enumerate(self.codecs_):
            if c.spec.kind == "categorical" and c.n_states > 1:  # the level shares the decoding keeps
                k = np.clip(np.searchsorted(_levels(c.spec), X[:, j]), 0, c.n_states - 1)
                c.state_share = tuple(float(v) for v in np.bincount(k, minlength=c.n_states) / X.shape[0])
            if not math.isnan(c.loglin):  # the median of the positive channel, before the map
                c.loglin = math.nan
                x_rest = X[~np.isin(X[:, j], c.spec.atoms), j]
                c.loglin = float(np.median(self._value_channel(c, x_rest, rng))) if x_rest.size else 1.0
            if c.has_value and c.n_states > 1:
                rest = ~np.isin(X[:, j], c.spec.atoms)
                ch = self._value_channel(c, X[rest, j], rng)
                q = np.linspace(0.0, 1.0, min(FILL_POINTS, ch.size))
                c.fill = np.quantile(ch, q)
                if c.n_states == 2 and ch.size >= 2 and c.fill[-1] > c.fill[0]:
                    a = c.spec.atoms[0]
                    sign = -1 if c.transform == "reflect" else 1  # b - x reverses the order
                    if a <= X[rest, j].min():
                        c.order = -sign
                    elif a >= X[rest, j].max():
                        c.order = sign
                    if c.order:
                        self._fit_block(c, float(np.mean(~rest)))
                if not c.order:
                    c.state_share = (float(np.mean(rest)), *(float(np.mean(X[:, j] == a)) for a in c.spec.atoms))
        self._finish()
        return self

    @staticmethod
    def _fit_block(c: _Codec, p: float) -> None:
        """Edge and width of the atom block: as dense as the outer half of the continuous part (on the
        Preprocessor's scale), so the channel's density has no gap and no spike at the block."""
        g = _g(c.method, c.fill)
        med = float(np.median(g))
        half = (med - g[0]) if c.order < 0 else (g[-1] - med)
        if not (np.isfinite(half) and half > 0):
            half = float(g[-1] - g[0]) or 1.0
        c.edge = float(c.fill[0] if c.order < 0 else c.fill[-1])
        c.block_width = 2.0 * half * p / max(1.0 - p, 1e-12)
        c.block_share = p

    def _fit_column(self, spec: ColumnSpec, x: np.ndarray, method: str | None) -> _Codec:
        if spec.kind == "categorical":
            return _Codec(spec, len(spec.categories), "none", "robust", np.empty(0))
        rest = x[~np.isin(x, spec.atoms)]
        if rest.size == 0:
            raise DataError(
                f"column {spec.name!r}: every value is one of its atoms ({', '.join(f'{a:g}' for a in spec.atoms)}); "
                "declare it categorical"
            )
        lo, hi = spec.support_bounds()
        has_lo = math.isfinite(lo)
        has_hi = math.isfinite(hi)
        if has_lo and has_hi:
            transform = "logit"
        elif has_lo:
            transform = "shift"
        elif has_hi:
            transform = "reflect"
        else:
            transform = "identity"
        one_sided = transform in ("shift", "reflect")
        codec = _Codec(spec, 1 + len(spec.atoms), transform, method or "robust", np.empty(0))
        if method is None and one_sided:
            codec.loglin = 1.0  # placeholder: the median is set in fit()
        elif one_sided and method not in ("log",):
            warnings.warn(
                f"column {spec.name!r} ({spec.kind}) is modelled with the {method!r} preprocessing instead of its "
                "kind's default (log below the median): draws outside the support are clipped to its limit",
                UserWarning,
                stacklevel=4,
            )
        return codec

    def _finish(self) -> None:
        names, methods, discrete, sides, share = [], [], [], [], []
        for c in self.codecs_:
            w = c.state_width
            discrete += [True] * w + ([False] if c.has_value else [])
            share += [0.0] * w + ([c.block_share if c.order else 0.0] if c.has_value else [])
            sides += [None] * w + ([None if not c.order else "lower" if c.order < 0 else "upper"] if c.has_value else [])
            s = c.spec
            if s.kind == "categorical":
                levels = [str(v) for v in s.categories]
                names += [s.name] if w == 1 else [f"{s.name}={lv}" for lv in levels[:w]]
            else:
                states = ["value"] + [f"{a:g}" for a in s.atoms]
                names += [f"{s.name}=={s.atoms[0]:g}"] if w == 1 else [f"{s.name}[{st}]" for st in states[:w]]
                names += [s.name]
            methods += ["robust"] * w + ([c.method] if c.has_value else [])
        self.block_sides_ = tuple(sides)
        self.block_share_ = tuple(share)
        self.channel_names_ = tuple(names)
        self.discrete_channels_ = tuple(discrete)
        self.channel_methods_ = tuple(methods)
        self.n_channels_ = len(names)

    # ---- the continuous channel -----------------------------------------------------------------------
    @staticmethod
    def _value_channel(c: _Codec, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Non-atom values (m,) -> their continuous channel (m,), dequantised where the kind is discrete."""
        ch = SchemaEncoder._support_channel(c, x, rng)
        if math.isnan(c.loglin):
            return ch
        m = c.loglin
        with np.errstate(divide="ignore"):
            return np.where(ch < m, m + m * np.log(np.maximum(ch, 1e-300) / m), ch)

    @staticmethod
    def _support_channel(c: _Codec, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        s = c.spec
        lo, hi = s.support_bounds()
        if s.kind == "integer":
            v = 1.0 - rng.random(x.size)  # in (0, 1]
            if c.transform == "shift":
                return x - lo + v
            if c.transform == "reflect":
                return hi - x + v
            if c.transform == "logit":
                p = (x - lo + v) / (hi - lo + 1.0)
                return np.log(p) - np.log1p(-p)
            return x + v
        if s.step is not None:
            a = np.maximum(x - s.step / 2, lo)
            b = np.minimum(x + s.step / 2, hi)
            x = a + (b - a) * rng.random(x.size)
            # keep strictly inside open limits (the continuous part never sits on a bound)
            x = np.clip(x, np.nextafter(lo, math.inf), np.nextafter(hi, -math.inf))
        if c.transform == "shift":
            return x - lo
        if c.transform == "reflect":
            return hi - x
        if c.transform == "logit":
            p = (x - lo) / (hi - lo)
            return np.log(p) - np.log1p(-p)
        return x

    @staticmethod
    def _value_inverse(c: _Codec, ch: np.ndarray) -> np.ndarray:
        """Continuous channel (m,) -> values in the support (m,)."""
        if not math.isnan(c.loglin):
            m = c.loglin
            with np.errstate(over="ignore", under="ignore"):
                ch = np.where(ch < m, m * np.exp((np.minimum(ch, m) - m) / m), ch)
        s = c.spec
        lo, hi = s.support_bounds()
        if s.kind == "integer":
            if c.transform == "shift":
                x = lo + np.ceil(ch) - 1.0
            elif c.transform == "reflect":
                x = hi - (np.ceil(ch) - 1.0)
            elif c.transform == "logit":
                x = lo + np.ceil((hi - lo + 1.0) / (1.0 + np.exp(-ch))) - 1.0
            else:
                x = np.ceil(ch) - 1.0
            return np.clip(x, lo, hi)
        if c.transform == "shift":
            x = lo + ch
        elif c.transform == "reflect":
            x = hi - ch
        elif c.transform == "logit":
            with np.errstate(over="ignore"):
                x = lo + (hi - lo) / (1.0 + np.exp(-ch))
        else:
            x = np.array(ch, dtype=np.float64)
        if s.step is not None:
            x = s.origin + s.step * np.round((x - s.origin) / s.step)
            # the grid points nearest the limits that lie strictly inside
            if math.isfinite(lo):
                g_lo = s.origin - s.step * math.floor((s.origin - lo) / s.step)
                g_lo = g_lo + s.step if g_lo <= lo else g_lo
                x = np.maximum(x, g_lo)
            if math.isfinite(hi):
                g_hi = s.origin + s.step * math.floor((hi - s.origin) / s.step)
                g_hi = g_hi - s.step if g_hi >= hi else g_hi
                x = np.minimum(x, g_hi)
        strict_lo = s.kind in ("positive", "nonnegative")
        low = np.nextafter(lo, math.inf) if strict_lo else lo
        return np.clip(x, low, hi)

    # ---- encode / decode ------------------------------------------------------------------------------
    def encode(self, X, rng: np.random.Generator, impute: bool = False) -> np.ndarray:
        """Table values (n, d) -> channels (n, n_channels_); seeded by ``rng`` (dequantisation, fills).

        With ``impute=True`` (the training rows of a model) the positions of atom rows inside their state
        block are imputed from the dependence on the other columns (:func:`_impute_atom_positions`) instead
        of drawn at random.

        Parameters
        ----------
        X : array-like, shape (n, d)
            Table values in the fitted schema's column order; categories must be among the fitted ones.
        rng : numpy Generator
            Source of the dequantisation noise, the atom-row fills and the imputation.
        impute : bool, default False
            Impute the atom rows' positions in their block (training rows) rather than draw them uniformly.

        Returns
        -------
        C : ndarray of float64, shape (n, n_channels_)
            The channels, in the order of ``channel_names_``.
        """
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        out = []
        for j, c in enumerate(self.codecs_):
            x = X[:, j]
            if c.spec.kind == "categorical":
                levels = _levels(c.spec)
                k = np.searchsorted(levels, x)
                k = np.clip(k, 0, len(levels) - 1)
                if np.any(levels[k] != x):
                    bad = x[levels[k] != x][0]
                    raise DataError(f"column {c.spec.name!r}: value {bad:g} is not one of its categories")
                out.append(_encode_states(k, c.n_states, rng))
                continue
            atoms = np.asarray(c.spec.atoms, dtype=np.float64)
            k = np.zeros(x.size, dtype=np.int64)
            for i, a in enumerate(atoms):
                k[x == a] = i + 1
            ch = np.empty(x.size)
            rest = k == 0
            ch[rest] = self._value_channel(c, x[rest], rng)
            if c.order:  # one channel: the atom rows in a block beside the continuous part
                if (~rest).any():
                    ch[~rest] = c.block_values(_EDGE + (1 - 2 * _EDGE) * rng.random(int((~rest).sum())))
                out.append(ch[:, None])
                continue
            out.append(_encode_states(k, c.n_states, rng))
            if (~rest).any():
                u = rng.random(int((~rest).sum()))
                ch[~rest] = np.interp(u, np.linspace(0.0, 1.0, c.fill.size), c.fill)
            out.append(ch[:, None])
        C = np.concatenate(out, axis=1) if out else np.empty((X.shape[0], 0))
        if impute:
            _impute_atom_positions(C, self._latent_layout(), rng)
        return C

    def _latent_layout(self) -> list:
        """The latent variables of the imputation: (channel, codec) for atom-block channels (censored),
        (channel, None) for continuous columns without atoms; other columns do not take part."""
        layout, pos = [], 0
        for c in self.codecs_:
            if c.order:
                layout.append((pos, c))
            elif c.has_value and c.n_states == 1:
                layout.append((pos, None))
            pos += c.width
        return layout

    def decode(self, C) -> np.ndarray:
        """Channels (n, n_channels_) -> table values (n, d), every value inside its column's support."""
        self._check_fitted()
        C = np.asarray(C, dtype=np.float64)
        X = np.empty((C.shape[0], len(self.codecs_)))
        pos = 0
        for j, c in enumerate(self.codecs_):
            w = c.state_width
            if c.order:
                h = C[:, pos]
                k = np.where(c.is_atom(h, decode=True), 1, 0)
                k[np.isnan(h)] = 0
            else:
                k = _decode_states(C[:, pos : pos + w], c.n_states, c.state_bias)
            pos += w
            if c.spec.kind == "categorical":
                X[:, j] = _levels(c.spec)[k]
                continue
            X[:, j] = self._value_inverse(c, C[:, pos])
            pos += 1
            for i, a in enumerate(c.spec.atoms):
                X[k == i + 1, j] = a
        return X

    def calibrate(self, C: np.ndarray) -> dict[str, float]:
        """Set each atom block's decoding cut, and the state biases of each column with several atoms and of
        each categorical column, so that draws ``C`` (n, n_channels_) of a fitted model give every atom and
        level its training share.

        A smooth generator (a denoiser, a flow) blurs the block's edge next to the continuous part and moves
        mass across it, so atoms come back rarer (measured on zi-claims with quick training: 4-6 points too
        few zeros). The cut is the model's own quantile at the training share of the atom; channel values
        between the edge and the cut decode as the atom (they are the blurred block). A column with several
        atoms, or a categorical column, decodes its states by argmax of its state channels plus biases, found by
        coordinate updates so that the draws' decoded states take the training shares (at least 100 finite
        draws). Returns per column
        the shift of the cut, or the largest state bias, on the channel scale.
        """
        self._check_fitted()
        C = np.asarray(C, dtype=np.float64)
        shifts, pos = {}, 0
        for c in self.codecs_:
            if c.state_share:  # several atoms, or categories: each at its training share
                S = C[:, pos : pos + c.state_width]
                S = S[np.isfinite(S).all(axis=1)]
                if len(S) >= 100:
                    bias = _state_biases(S, np.asarray(c.state_share))
                    c.state_bias = tuple(float(v) for v in bias)
                    shifts[c.spec.name] = float(np.max(np.abs(bias)))
            if c.order:
                h = C[:, pos]
                h = h[np.isfinite(h)]
                if h.size >= 100:
                    q = c.block_share if c.order < 0 else 1.0 - c.block_share
                    c.cut = float(np.quantile(h, q))
                    shifts[c.spec.name] = c.cut - c.edge
            pos += c.width
        return shifts

    def _check_fitted(self) -> None:
        if not hasattr(self, "codecs_"):
            raise RuntimeError("SchemaEncoder is not fitted; call fit(X) first")

    # ---- persistence ----------------------------------------------------------------------------------
    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        self._check_fitted()
        config = {
            "schema": self.schema.to_dict(),
            "preprocessing": self.preprocessing,
            "codecs": [
                {"n_states": c.n_states, "transform": c.transform, "method": c.method, "order": c.order,
                 "edge": c.edge if c.order else None, "block_width": c.block_width if c.order else None,
                 "block_share": c.block_share, "loglin": None if math.isnan(c.loglin) else c.loglin,
                 "cut": None if math.isnan(c.cut) else c.cut,
                 "state_share": list(c.state_share) or None, "state_bias": list(c.state_bias) or None}
                for c in self.codecs_
            ],
        }
        arrays = {f"fill{j}": c.fill for j, c in enumerate(self.codecs_) if c.fill.size}
        return config, arrays

    @classmethod
    def from_state(cls, config: dict, arrays: dict) -> SchemaEncoder:
        schema = Schema.from_dict(config["schema"])
        obj = cls(schema, config.get("preprocessing", "auto"))
        codecs = config["codecs"]
        if len(codecs) != len(schema):
            raise ValueError(f"the encoder lists {len(codecs)} columns but the schema {len(schema)}")
        obj.codecs_ = []
        for j, (spec, c) in enumerate(zip(schema, codecs, strict=True)):
            if c["transform"] not in ("identity", "shift", "reflect", "logit", "none"):
                raise ValueError(f"unknown column transform {c['transform']!r}")
            fill = np.asarray(arrays.get(f"fill{j}", np.empty(0)), dtype=np.float64)
            order = int(c.get("order", 0))
            if order not in (-1, 0, 1):
                raise ValueError(f"column {spec.name!r}: atom order must be -1, 0 or 1, got {order}")
            codec = _Codec(spec, int(c["n_states"]), c["transform"], str(c["method"]), fill, order)
            codec.block_share = float(c.get("block_share", 0.0))
            codec.state_share = tuple(float(v) for v in c.get("state_share") or ())
            codec.state_bias = tuple(float(v) for v in c.get("state_bias") or ())
            bias = codec.state_bias
            if bias and (len(bias) != codec.state_width or not all(map(math.isfinite, bias))):
                raise ValueError(f"column {spec.name!r}: the state biases must be {codec.state_width} finite numbers")
            if c.get("cut") is not None:
                codec.cut = float(c["cut"])
                if not math.isfinite(codec.cut):
                    raise ValueError(f"column {spec.name!r}: the atom cut must be finite")
            if c.get("loglin") is not None:
                codec.loglin = float(c["loglin"])
                if not (math.isfinite(codec.loglin) and codec.loglin > 0):
                    raise ValueError(f"column {spec.name!r}: the log-linear map needs a median > 0")
            if order:
                codec.edge, codec.block_width = float(c["edge"]), float(c["block_width"])
                if not (math.isfinite(codec.edge) and math.isfinite(codec.block_width) and codec.block_width > 0):
                    raise ValueError(f"column {spec.name!r}: the atom block needs a finite edge and width > 0")
            obj.codecs_.append(codec)
        obj._finish()
        return obj

    @classmethod
    def identity(cls, names, methods) -> SchemaEncoder:
        """Every column real, one channel each with the given Preprocessor methods (models saved before
        schemas existed)."""
        obj = cls(Schema.all_real(names), list(methods))
        obj.codecs_ = [_Codec(s, 1, "identity", m, np.empty(0)) for s, m in zip(obj.schema, methods, strict=True)]
        obj._finish()
        return obj
