"""Mixed tables <-> real-valued channels, so that every generator honours the column schema.

A generator models a continuous vector. :class:`SchemaEncoder` maps each modelled column of a table
(:mod:`heavytail_diffusion.schema`) to one or more real *channels* and back:

- **atoms** (point masses: zeros, a cap, a floor): the state of the row (continuous part, or which atom)
  becomes a discrete variable, encoded like a categorical one (below), and modelled jointly with every other
  channel, so that "profits = 0" keeps its dependence on the building loss. With one atom at an end of the
  column's range (a zero, a cap) the state channel is the randomised probability integral transform
  (Brockwell 2007): the atom block ``[1/2, 3/2)`` and, for the other rows, ``1/2 - F(x)`` (atom below) or
  ``F(x) - 1/2`` (atom above), F the continuous part's empirical CDF. It is then a monotone function of
  the latent variable of a threshold model, and copula priors keep the dependence of the atom pattern on
  the other columns (with independent noise inside the block they would dilute it). In atom rows the
  continuous channel is filled with an independent draw from the continuous part's own law (interpolated
  empirical quantiles), so its margin is that of the continuous part, free of ties, and the tail fits see
  no atom.
- **categories** with K levels: one channel ``k + U - 1/2`` for K = 2 (decoded by ``>= 1/2``), K one-hot
  channels ``1{level = i} + U_i - 1/2`` for K > 2 (decoded by argmax); uniform dequantisation keeps every
  channel's density a step function (no spurious modes for the dip test).
- **continuous part**, by kind: ``real`` as is; ``positive``/``nonnegative`` as is, modelled on the log
  scale; a lower bound a: ``x - a`` on the log scale; an upper bound b alone: ``b - x`` on the log scale;
  both: ``logit((x - a) / (b - a))``; so that every decoded value lies in the support.
- **integers** (dequantisation): ``x - lo + V`` with ``V ~ U(0, 1]`` (log scale when bounded below),
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


def _impute_atom_positions(C: np.ndarray, layout, rng: np.random.Generator, sweeps: int = 20) -> None:
    """Impute, in place, where the atom rows of ordered state channels sit inside their block.

    An atom at an end of a column's range is the censored part of a latent variable: a zero loss is a loss
    whose latent fell below the threshold ``Phi^{-1}(p_atom)``, with no say where. Drawing that position at
    random makes it independent of the other columns and dilutes the dependence that copula priors and the
    denoiser see. Here the latent variables of the columns (normal scores; the atom rows censored to their
    interval) get a Gaussian copula, and the censored positions are drawn from their conditional law
    truncated to the interval, in ``sweeps`` Gibbs sweeps with the correlation re-estimated each time
    (stochastic EM for the extended rank likelihood of Hoff 2007, Ann. Appl. Stat. 1). The imputed latent
    is written back as the position inside the state block, so the channel stays in the same block
    (decoding unchanged) and monotone in the latent. The continuous channel of the atom rows (a fill that
    decoding ignores) is then drawn from its conditional law given the other columns' latents (the
    regression of its normal scores, fitted on the rows that have a value), so that it, too, carries the
    dependence instead of diluting it.
    """
    from scipy import special, stats

    censored = [i for i, (_, order, p, _, _) in enumerate(layout) if order and 0 < p < 1]
    if not censored or len(layout) < 2:
        return
    n = C.shape[0]
    Z = np.empty((n, len(layout)))
    blocks = []
    for i, (ch, order, p, _, _) in enumerate(layout):
        if not order:
            Z[:, i] = _normal_scores(C[:, ch])
            blocks.append(None)
            continue
        s = C[:, ch]
        atom = s >= 0.5
        # latent uniform: atom rows below (order -1) or above (order +1) the continuous rows
        F = np.where(atom, 0.0, (0.5 - s) if order < 0 else (s + 0.5))
        U = np.where(atom, 0.5 * p, p + (1 - p) * F) if order < 0 else np.where(atom, 1 - 0.5 * p, (1 - p) * F)
        Z[:, i] = special.ndtri(np.clip(U, 1e-12, 1 - 1e-12))
        cut = float(special.ndtri(p if order < 0 else 1 - p))
        lo, hi = (-np.inf, cut) if order < 0 else (cut, np.inf)
        blocks.append((atom, lo, hi))
        Z[atom, i] = stats.truncnorm.rvs(lo, hi, size=int(atom.sum()), random_state=rng)
    for _ in range(sweeps):
        R = np.corrcoef(Z, rowvar=False)
        R = R + 1e-6 * np.eye(R.shape[0])
        for i in censored:
            atom, lo, hi = blocks[i]
            others = [k for k in range(Z.shape[1]) if k != i]
            beta = np.linalg.solve(R[np.ix_(others, others)], R[others, i])
            sd = float(np.sqrt(max(1.0 - R[i, others] @ beta, 1e-6)))
            mu = Z[np.ix_(atom, others)] @ beta
            Z[atom, i] = stats.truncnorm.rvs((lo - mu) / sd, (hi - mu) / sd, loc=mu, scale=sd, random_state=rng)
    for i in censored:
        atom, lo, hi = blocks[i]
        ch, order, p, value_ch, fill = layout[i]
        others = [k for k in range(Z.shape[1]) if k != i]
        # the continuous channel of the atom rows: regression of its normal scores on the other latents
        v = special.ndtri(np.clip(np.interp(C[~atom, value_ch], fill, np.linspace(0, 1, fill.size)), 1e-9, 1 - 1e-9))
        A = np.column_stack([np.ones(int((~atom).sum())), Z[np.ix_(~atom, others)]])
        coef, *_ = np.linalg.lstsq(A, v, rcond=None)
        resid = float(np.std(v - A @ coef))
        mu = np.column_stack([np.ones(int(atom.sum())), Z[np.ix_(atom, others)]]) @ coef
        fills = special.ndtr(mu + resid * rng.standard_normal(mu.size))
        C[atom, value_ch] = np.interp(fills, np.linspace(0.0, 1.0, fill.size), fill)
        U = special.ndtr(Z[atom, i])
        w = U / p if order < 0 else (U - (1 - p)) / p  # position inside the block, in (0, 1)
        w = _EDGE + (1.0 - 2.0 * _EDGE) * np.clip(w, 0.0, 1.0)
        C[atom, ch] = (1.5 - w) if order < 0 else (0.5 + w)


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


def _decode_states(S: np.ndarray, n_states: int) -> np.ndarray:
    w = _onehot_width(n_states)
    if w == 0:
        return np.zeros(S.shape[0], dtype=np.int64)
    if w == 1:
        return (S[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(S, axis=1).astype(np.int64)


@dataclass
class _Codec:
    """How one column maps to channels (fitted)."""

    spec: ColumnSpec
    n_states: int  # 1 + number of atoms (continuous kinds) or number of levels (categorical)
    transform: str  # "identity", "shift", "reflect", "logit" or "none" (categorical / all atoms)
    method: str  # Preprocessor transform of the continuous channel
    fill: np.ndarray  # sorted quantiles of the continuous channel (atom-row fill); empty without atoms
    order: int = 0  # one atom: +1 / -1 if it lies above / below the continuous part on the channel scale

    @property
    def has_value(self) -> bool:
        return self.transform != "none"

    @property
    def width(self) -> int:
        return _onehot_width(self.n_states) + int(self.has_value)


class SchemaEncoder:
    """Invertible map between a table (values as in :class:`~heavytail_diffusion.data.Table`) and channels.

    Parameters
    ----------
    schema : Schema
        The modelled columns, in the order of the table's columns.
    preprocessing : "auto", str or list of str
        Preprocessor transform of each column's continuous channel. ``"auto"`` (default) chooses from the
        kind: ``"log"`` for positive, nonnegative, one-sided bounded and counts bounded below; ``"robust"``
        otherwise (real, two-sided bounded after the logit). A string applies to every continuous channel, a
        list gives one per column (entries of categorical columns are ignored). State and category channels
        are always ``"robust"``.

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
        """Learn the channel layout and the atom-row fills from ``X`` (n, d), the table's values."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.schema):
            raise DataError(f"X has shape {X.shape} but the schema has {len(self.schema)} columns")
        self.codecs_ = [self._fit_column(spec, X[:, j], m) for j, (spec, m) in
                        enumerate(zip(self.schema, self._methods(), strict=True))]  # fmt: skip
        self._finish()
        # the fills are the continuous channel's quantiles: encode once (seeded) to learn them
        rng = np.random.default_rng(seed)
        for j, c in enumerate(self.codecs_):
            if c.has_value and c.n_states > 1:
                rest = ~np.isin(X[:, j], c.spec.atoms)
                ch = self._value_channel(c, X[rest, j], rng)
                q = np.linspace(0.0, 1.0, min(FILL_POINTS, ch.size))
                c.fill = np.quantile(ch, q)
                if c.n_states == 2:
                    a = c.spec.atoms[0]
                    sign = -1 if c.transform == "reflect" else 1  # b - x reverses the order
                    if a <= X[rest, j].min():
                        c.order = -sign
                    elif a >= X[rest, j].max():
                        c.order = sign
        return self

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
            transform, auto = "logit", "robust"
        elif has_lo:
            transform, auto = "shift", "log"
        elif has_hi:
            transform, auto = "reflect", "log"
        else:
            transform, auto = "identity", "robust"
        method = method or auto
        if method != auto and auto == "log":
            warnings.warn(
                f"column {spec.name!r} ({spec.kind}) is modelled with the {method!r} preprocessing instead of its "
                "kind's 'log': draws outside the support are clipped to its limit",
                UserWarning,
                stacklevel=4,
            )
        return _Codec(spec, 1 + len(spec.atoms), transform, method, np.empty(0))

    def _finish(self) -> None:
        names, methods, discrete = [], [], []
        for c in self.codecs_:
            discrete += [True] * _onehot_width(c.n_states) + ([False] if c.has_value else [])
            s = c.spec
            if s.kind == "categorical":
                levels = [str(v) for v in s.categories]
                w = _onehot_width(c.n_states)
                names += [s.name] if w == 1 else [f"{s.name}={lv}" for lv in levels[:w]]
            else:
                w = _onehot_width(c.n_states)
                states = ["value"] + [f"{a:g}" for a in s.atoms]
                names += [f"{s.name}=={s.atoms[0]:g}"] if w == 1 else [f"{s.name}[{st}]" for st in states[:w]]
                names += [s.name]
            methods += ["robust"] * _onehot_width(c.n_states) + ([c.method] if c.has_value else [])
        self.channel_names_ = tuple(names)
        self.discrete_channels_ = tuple(discrete)
        self.channel_methods_ = tuple(methods)
        self.n_channels_ = len(names)

    # ---- the continuous channel -----------------------------------------------------------------------
    @staticmethod
    def _value_channel(c: _Codec, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Non-atom values (m,) -> their continuous channel (m,), dequantised where the kind is discrete."""
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
            states = _encode_states(k, c.n_states, rng)
            ch = np.empty(x.size)
            rest = k == 0
            ch[rest] = self._value_channel(c, x[rest], rng)
            if (~rest).any():
                u = rng.random(int((~rest).sum()))
                ch[~rest] = np.interp(u, np.linspace(0.0, 1.0, c.fill.size), c.fill)
            if c.order:  # randomised PIT: the continuous rows' position in their block is their rank
                F = np.interp(ch[rest], c.fill, np.linspace(0.0, 1.0, c.fill.size))
                F = _EDGE + (1.0 - 2.0 * _EDGE) * F  # strictly inside the block
                states[rest, 0] = (0.5 - F) if c.order < 0 else (F - 0.5)
            out.append(states)
            out.append(ch[:, None])
        C = np.concatenate(out, axis=1) if out else np.empty((X.shape[0], 0))
        if impute:
            _impute_atom_positions(C, self._latent_layout(X), rng)
        return C

    def _latent_layout(self, X: np.ndarray) -> list[tuple[int, int, float]]:
        """Per column with one value in the latent model: (channel, order, atom share); order 0 = uncensored."""
        layout, pos = [], 0
        for j, c in enumerate(self.codecs_):
            w = _onehot_width(c.n_states)
            if c.order:
                layout.append((pos, c.order, float(np.mean(X[:, j] == c.spec.atoms[0])), pos + w, c.fill))
            elif c.has_value and c.n_states == 1:
                layout.append((pos + w, 0, 0.0, None, None))
            pos += c.width
        return layout

    def decode(self, C) -> np.ndarray:
        """Channels (n, n_channels_) -> table values (n, d), every value inside its column's support."""
        self._check_fitted()
        C = np.asarray(C, dtype=np.float64)
        X = np.empty((C.shape[0], len(self.codecs_)))
        pos = 0
        for j, c in enumerate(self.codecs_):
            w = _onehot_width(c.n_states)
            k = _decode_states(C[:, pos : pos + w], c.n_states)
            pos += w
            if c.spec.kind == "categorical":
                X[:, j] = _levels(c.spec)[k]
                continue
            X[:, j] = self._value_inverse(c, C[:, pos])
            pos += 1
            for i, a in enumerate(c.spec.atoms):
                X[k == i + 1, j] = a
        return X

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
                {"n_states": c.n_states, "transform": c.transform, "method": c.method, "order": c.order}
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
            obj.codecs_.append(_Codec(spec, int(c["n_states"]), c["transform"], str(c["method"]), fill, order))
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
