"""Numerically stable elementary functions shared by the GPD and GEV code (their xi -> 0 limits).

Sign convention, once for the whole ``evt`` package: the shape ``xi > 0`` is a heavy (Frechet-type,
Pareto-like) tail with tail index alpha = 1 / xi; ``xi = 0`` is the exponential / Gumbel limit; ``xi < 0`` has a
finite upper endpoint.  scipy's ``genpareto`` uses the same sign (its ``c`` is xi); scipy's ``genextreme`` uses
``c = -xi``.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

_SMALL = 1e-3  # |w| below which series expansions replace the closed forms (absolute error < 1e-12)


def _log1p_over(w):
    """log1p(w) / w, equal to 1 at w = 0 (accurate for all w > -1)."""
    w = np.asarray(w, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log1p(w) / w
    return np.where(w == 0.0, 1.0, out)


def _expm1_over(v):
    """expm1(v) / v, equal to 1 at v = 0."""
    v = np.asarray(v, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.expm1(v) / v
    return np.where(v == 0.0, 1.0, out)


def _expm1_over_deriv(v):
    """d/dv [expm1(v) / v] = (v e^v - expm1(v)) / v^2, equal to 1/2 at v = 0."""
    v = np.asarray(v, dtype=np.float64)
    small = np.abs(v) < _SMALL
    vs = np.where(small, 1.0, v)
    with np.errstate(over="ignore", invalid="ignore"):
        out = (vs * np.exp(vs) - np.expm1(vs)) / vs**2
    series = 0.5 + v / 3.0 + v**2 / 8.0 + v**3 / 30.0
    return np.where(small, series, out)


def _expm1_over_deriv2(v: float) -> float:
    """Second derivative of expm1(v)/v: (v^2 e^v - 2 v e^v + 2 expm1(v)) / v^3, 1/3 at v = 0."""
    if abs(v) < _SMALL:
        return 1.0 / 3.0 + v / 4.0 + v * v / 10.0 + v**3 / 36.0
    return (v * v * np.exp(v) - 2.0 * v * np.exp(v) + 2.0 * np.expm1(v)) / v**3


def _e_w(w):
    """e(w) = 1/(w(1+w)) - log1p(w)/w^2, the xi-derivative kernel; -1/2 at w = 0."""
    w = np.asarray(w, dtype=np.float64)
    small = np.abs(w) < _SMALL
    any_small = bool(small.any())
    if any_small:
        series = -0.5 + w * (2.0 / 3.0 + w * (-0.75 + 0.8 * w))
        if small.all():
            return series
    ws = np.where(small, 1.0, w) if any_small else w
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 / (ws * (1.0 + ws)) - np.log1p(ws) / ws**2
    return np.where(small, series, out) if any_small else out


def _f_w(w):
    """f(w) = 2 log1p(w)/w^3 - 2/(w^2(1+w)) - 1/(w(1+w)^2), the second xi-derivative kernel; 2/3 at w = 0."""
    w = np.asarray(w, dtype=np.float64)
    small = np.abs(w) < _SMALL
    any_small = bool(small.any())
    if any_small:
        series = 2.0 / 3.0 + w * (-1.5 + w * (2.4 - (10.0 / 3.0) * w))
        if small.all():
            return series
    ws = np.where(small, 1.0, w) if any_small else w
    a = 1.0 + ws
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 2.0 * np.log1p(ws) / ws**3 - 2.0 / (ws**2 * a) - 1.0 / (ws * a**2)
    return np.where(small, series, out) if any_small else out


def _unit(x: np.ndarray) -> float:
    """1, or a power of two bringing max |x| near 1 when it lies outside [2^-60, 2^60] (for rescaled fits)."""
    m = float(np.max(np.abs(x)))
    if m == 0.0 or 2.0**-60 < m < 2.0**60:
        return 1.0
    return float(2.0 ** np.floor(np.log2(m)))
