"""Non-stationary GEV and GPD fits (location / log-scale linear in covariates), r-largest GEV, likelihood-ratio tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, NumericalError
from ..validation import check_array
from . import evt

__all__ = [
    "LikelihoodRatioTest",
    "NonStationaryFit",
    "fit_gev_nonstationary",
    "fit_gev_rlargest",
    "fit_gpd_nonstationary",
    "likelihood_ratio_test",
]


# ---------------------------------------------------------------------------------------------------------
# One likelihood engine for GEV, GPD and r-largest, with covariates
# ---------------------------------------------------------------------------------------------------------
def _terms(z: np.ndarray, xi: float, last: np.ndarray):
    """Per-entry f(z, xi) and its derivatives for f = A + last * B, stable as xi -> 0.

    A = log t + log(t)/xi (t = 1 + xi z) is the part of -log density shared by the GEV, the GPD and every
    order statistic of the r-largest model; B = t^(-1/xi) is the GEV's exp(-...) term, present for the
    block maximum of a GEV and the r-th largest of the r-largest model only.  Returns
    (f, f_z, f_zz, f_x, f_xx, f_zx), or None outside the support.
    """
    w = xi * z
    if np.any(w <= -1.0):
        return None
    it = 1.0 / (1.0 + w)
    L = z * evt._log1p_over(w)
    lxi = z * z * evt._e_w(w)
    lxixi = z * z * z * evt._f_w(w)
    zit = z * it
    f = np.log1p(w) + L
    fz = (1.0 + xi) * it
    fzz = -(1.0 + xi) * xi * it * it
    fx = zit + lxi
    fxx = -zit * zit + lxixi
    fzx = (1.0 - z) * it * it
    if np.any(last):
        with np.errstate(over="ignore"):
            u = np.where(last, np.exp(-np.where(last, L, 0.0)), 0.0)
        f = f + u
        fz = fz - u * it
        fzz = fzz + (1.0 + xi) * u * it * it
        fx = fx - u * lxi
        fxx = fxx + u * (lxi * lxi - lxixi)
        fzx = fzx + u * (lxi * it + z * it * it)
    return f, fz, fzz, fx, fxx, fzx


class _Model:
    """nllh of entries x_j with mu_j = X_j b (absent for the GPD), log sigma_j = W_j c, a common xi."""

    def __init__(self, x, X, W, last):
        self.x, self.X, self.W, self.last = x, X, W, last
        self.pb, self.pc = X.shape[1], W.shape[1]

    def split(self, p):
        return p[: self.pb], p[self.pb : self.pb + self.pc], float(p[-1])

    def fun(self, p):
        b, c, xi = self.split(p)
        eta = self.W @ c
        if np.any(np.abs(eta) > 700):
            return np.inf
        z = (self.x - self.X @ b) * np.exp(-eta)
        t = _terms(z, xi, self.last)
        return np.inf if t is None else float(eta.sum() + t[0].sum())

    def derivs(self, p):
        b, c, xi = self.split(p)
        eta = self.W @ c
        if np.any(np.abs(eta) > 700):
            return np.inf, None, None
        s = np.exp(eta)
        z = (self.x - self.X @ b) / s
        t = _terms(z, xi, self.last)
        if t is None:
            return np.inf, None, None
        f, fz, fzz, fx, fxx, fzx = t
        g_m, g_e, g_x = -fz / s, 1.0 - z * fz, fx
        h_mm, h_me, h_ee = fzz / s**2, (z * fzz + fz) / s, z * fz + z * z * fzz
        h_mx, h_ex = -fzx / s, -z * fzx
        X, W = self.X, self.W
        grad = np.concatenate([X.T @ g_m, W.T @ g_e, [g_x.sum()]])
        k = self.pb + self.pc + 1
        H = np.empty((k, k))
        ib, ic = slice(0, self.pb), slice(self.pb, self.pb + self.pc)
        H[ib, ib] = (X * h_mm[:, None]).T @ X
        H[ib, ic] = (X * h_me[:, None]).T @ W
        H[ic, ib] = H[ib, ic].T
        H[ic, ic] = (W * h_ee[:, None]).T @ W
        H[ib, -1] = H[-1, ib] = X.T @ h_mx
        H[ic, -1] = H[-1, ic] = W.T @ h_ex
        H[-1, -1] = fxx.sum()
        return float(eta.sum() + f.sum()), grad, H


def _minimise(model: _Model, p0: np.ndarray, typical: np.ndarray, what: str):
    from scipy.optimize import minimize

    lower = np.full(p0.size, -np.inf)
    lower[-1] = -1.0
    max_step = np.full(p0.size, 2.0)
    max_step[-1] = 0.5
    try:
        p, f, H = evt._newton_minimize(
            model.fun, model.derivs, p0, typical, max_step=max_step, lower=lower, what=what
        )
    except NumericalError as exc:
        res = minimize(
            lambda q: model.fun(p0 + q * typical),
            np.zeros(p0.size),
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000, "maxfev": 20000},
        )
        if not np.isfinite(res.fun):
            raise exc from None
        p, f, H = evt._newton_minimize(
            model.fun, model.derivs, p0 + res.x * typical, typical, max_step=max_step, lower=lower, what=what
        )
    if p[-1] <= -1.0 + 1e-6:
        raise NumericalError(f"{what}: the shape estimate reached xi <= -1, where the MLE does not exist")
    f, _, H = model.derivs(p)
    return p, f, H


# ---------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NonStationaryFit:
    """A GEV or GPD fit whose location (GEV) and log-scale are linear in covariates; the shape is constant.

    mu(t) = b_0 + sum_j b_j X_j(t),  log sigma(t) = c_0 + sum_j c_j W_j(t),  xi.

    Attributes
    ----------
    kind : {"gev", "gpd", "gev-rlargest"}
    coef : pandas Series
        Estimates named ``mu0, mu_<cov>, ..., logsigma0, logsigma_<cov>, ..., xi`` (GPD: no ``mu``).
    se : pandas Series
        Standard errors from the inverse observed information (valid for xi > -1/2).
    cov : ndarray
        Covariance of ``coef``.
    nllh : float
        Negative log-likelihood at the MLE.
    n : int
        Blocks (GEV) or exceedances (GPD).
    loc_names, scale_names : list of str
        Covariate names of the location and the log-scale (without the intercept).
    threshold : float or None
        GPD only.
    """

    kind: str
    coef: pd.Series
    se: pd.Series
    cov: np.ndarray
    nllh: float
    n: int
    loc_names: list
    scale_names: list
    threshold: float | None = None

    @property
    def shape(self) -> float:
        return float(self.coef["xi"])

    @property
    def n_params(self) -> int:
        return int(self.coef.size)

    def _design(self, covariates, names, what):
        if not names:
            if covariates is not None and np.size(covariates) and np.ndim(covariates) > 1:
                raise ValueError(f"the fit has no {what} covariates")
            m = 1 if covariates is None else max(1, len(covariates))
            return np.ones((m, 1))
        if covariates is None:
            raise ValueError(f"the fit has {what} covariates {list(names)}: pass their values (one row per "
                             "point at which the parameters or return levels are wanted)")  # fmt: skip
        C, _ = _covariates(covariates, None, what, names=names)
        return np.column_stack([np.ones(C.shape[0]), C])

    def parameters(self, loc_covariates=None, scale_covariates=None) -> pd.DataFrame:
        """mu, sigma, xi at each row of the covariates.

        Parameters
        ----------
        loc_covariates : array-like, Series or DataFrame, shape (m, len(loc_names)), optional
            Location covariates X(t) (GEV only); may be omitted only when the fit has none.
        scale_covariates : array-like, Series or DataFrame, shape (m, len(scale_names)), optional
            Log-scale covariates W(t); may be omitted only when the fit has none (the fit does not keep
            the covariate rows it was fitted on).

        Returns
        -------
        params : DataFrame, one row per covariate row
            Columns ``loc`` (GEV only), ``scale``, ``shape``: mu(t) = b_0 + b'X(t), sigma(t) = exp(c_0 + c'W(t)), xi.
        """
        sc = self.coef.to_numpy()
        pb = 0 if self.kind == "gpd" else 1 + len(self.loc_names)
        pc = 1 + len(self.scale_names)
        W = self._design(scale_covariates, self.scale_names, "scale")
        sigma = np.exp(W @ sc[pb : pb + pc])
        if self.kind == "gpd":
            return pd.DataFrame({"scale": sigma, "shape": self.shape})
        X = self._design(loc_covariates, self.loc_names, "loc")
        m = max(X.shape[0], W.shape[0])
        return pd.DataFrame(
            {
                "loc": np.broadcast_to(X @ sc[:pb], (m,)),
                "scale": np.broadcast_to(sigma, (m,)),
                "shape": self.shape,
            }
        )

    def return_level(self, period: float, loc_covariates=None, scale_covariates=None, level: float = 0.95):
        """Effective return levels: the level exceeded with probability 1/period at each covariate row.

        GEV: z_p(t) = mu(t) + sigma(t) (y^(-xi) - 1) / xi with y = -log(1 - 1/period) (blocks).  GPD: the
        excess level over the threshold for a period in exceedances, u + sigma(t) (period^xi - 1) / xi.
        Delta-method intervals from ``cov``.

        Parameters
        ----------
        period : float
            Return period, finite and > 1: in blocks (GEV) or in exceedances (GPD).
        loc_covariates, scale_covariates : array-like, Series or DataFrame, optional
            Covariate rows, as in :meth:`parameters` (required when the fit has covariates).
        level : float, default 0.95
            Confidence level of the intervals, in (0, 1).

        Returns
        -------
        DataFrame with columns value, se, ci_low, ci_high (one row per covariate row).
        """
        from scipy.stats import norm

        if not (np.isfinite(period) and period > 1):
            raise ValueError(f"period must be finite and > 1, got {period!r}")
        sc = self.coef.to_numpy()
        xi = self.shape
        pb = 0 if self.kind == "gpd" else 1 + len(self.loc_names)
        pc = 1 + len(self.scale_names)
        W = self._design(scale_covariates, self.scale_names, "scale")
        if self.kind == "gpd":
            lp = float(np.log(period))
            X = np.zeros((W.shape[0], 0))
            base = self.threshold
        else:
            lp = evt._gev_rl_lp(float(period))
            X = self._design(loc_covariates, self.loc_names, "loc")
            base = 0.0
        m = max(X.shape[0], W.shape[0])
        X = np.broadcast_to(X, (m, X.shape[1])) if X.shape[0] == 1 else X
        W = np.broadcast_to(W, (m, W.shape[1])) if W.shape[0] == 1 else W
        sigma = np.exp(W @ sc[pb : pb + pc])
        a = lp * float(evt._expm1_over(xi * lp))
        value = base + (X @ sc[:pb] if pb else 0.0) + sigma * a
        da_dxi = lp * lp * float(evt._expm1_over_deriv(xi * lp))
        G = np.column_stack([X, W * (sigma * a)[:, None], sigma * da_dxi])
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", G, self.cov, G), 0.0))
        z = norm.ppf(0.5 + level / 2)
        return pd.DataFrame({"value": value, "se": se, "ci_low": value - z * se, "ci_high": value + z * se})

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "coef": {k: float(v) for k, v in self.coef.items()},
            "se": {k: float(v) for k, v in self.se.items()},
            "nllh": float(self.nllh),
            "n": int(self.n),
            "threshold": None if self.threshold is None else float(self.threshold),
        }


def _covariates(cov, n, what, names=None):
    """(matrix (n, p), names) from an array, a Series or a DataFrame; None -> (n, 0)."""
    if cov is None:
        return np.zeros((n or 0, 0)), []
    if isinstance(cov, pd.Series):
        cnames = [str(cov.name) if cov.name is not None else f"{what}1"]
        arr = cov.to_numpy(dtype=np.float64)[:, None]
    elif isinstance(cov, pd.DataFrame):
        cnames = [str(c) for c in cov.columns]
        arr = cov.to_numpy(dtype=np.float64)
    else:
        arr = np.asarray(cov, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
        cnames = [f"{what}{j + 1}" for j in range(arr.shape[1])]
    if names is not None:
        if arr.shape[1] != len(names):
            raise ValueError(
                f"{what}_covariates has {arr.shape[1]} columns; the fit used {len(names)} ({names})"
            )
        cnames = list(names)
    arr = check_array(arr, f"{what}_covariates", ndim=2, columns=cnames)
    if n is not None and arr.shape[0] != n:
        raise DataError(f"{what}_covariates has {arr.shape[0]} rows; expected {n} (one per observation)")
    return arr, cnames


def _fit(kind, x, X, W, last, n_units, start, loc_names, scale_names, threshold, what):
    model = _Model(x, X, W, last)
    mu0, sigma0, xi0 = start
    p0 = np.concatenate(
        [
            [mu0] if X.shape[1] else [],
            np.zeros(max(X.shape[1] - 1, 0)),
            [np.log(sigma0)],
            np.zeros(W.shape[1] - 1),
            [xi0],
        ]
    )
    sdx = X[:, 1:].std(axis=0) if X.shape[1] > 1 else np.zeros(0)
    sdw = W[:, 1:].std(axis=0) if W.shape[1] > 1 else np.zeros(0)
    for nm, sd in zip(loc_names + scale_names, np.concatenate([sdx, sdw])):
        if not sd > 0:
            raise DataError(f"covariate {nm!r} is constant; it cannot be estimated next to the intercept")
    typical = np.concatenate([[sigma0] if X.shape[1] else [], sigma0 / sdx, [1.0], 1.0 / sdw, [1.0]])
    p, f, H = _minimise(model, p0, typical, what)
    cov = evt._cov_from_hessian(H, what)
    names = (
        (["mu0"] + [f"mu_{c}" for c in loc_names] if X.shape[1] else [])
        + ["logsigma0"]
        + [f"logsigma_{c}" for c in scale_names]
        + ["xi"]
    )
    return NonStationaryFit(
        kind=kind,
        coef=pd.Series(p, index=names),
        se=pd.Series(np.sqrt(np.diag(cov)), index=names),
        cov=cov,
        nllh=float(f),
        n=int(n_units),
        loc_names=loc_names,
        scale_names=scale_names,
        threshold=threshold,
    )


def fit_gev_nonstationary(maxima, loc_covariates=None, scale_covariates=None) -> NonStationaryFit:
    """GEV fit with location and log-scale linear in covariates (a trend in time, an index such as SOI).

    Model: Z_t ~ GEV(mu(t), sigma(t), xi) with mu(t) = b_0 + b' X_t and log sigma(t) = c_0 + c' W_t; xi > 0
    heavy tail.  Location-only models equal R's ``evd::fgev(x, nsloc = X)`` (same parameterisation; evd's
    scale is not modelled) and ismev's ``gev.fit(ydat = X, mul = ...)``; the log link for the scale is
    ismev's ``siglink = exp``.  Fitted by the Newton minimiser of :mod:`.evt` with analytic derivatives,
    starting from the stationary fit (zero slopes).  Centre covariates such as years for readable
    intercepts (the fit itself is invariant).

    Parameters
    ----------
    maxima : array-like, shape (n,)
        Block maxima (at least 10).
    loc_covariates, scale_covariates : array-like (n,) or (n, p), Series or DataFrame, optional
        Covariates of the location and of log sigma (an intercept is always included).  DataFrame columns
        name the coefficients.

    Returns
    -------
    NonStationaryFit
        Compare with the stationary fit by :func:`likelihood_ratio_test`.
    """
    x = check_array(maxima, "maxima", ndim=1, min_rows=evt.MIN_MAXIMA)
    X, ln = _covariates(loc_covariates, x.size, "loc")
    W, sn = _covariates(scale_covariates, x.size, "scale")
    st = evt.fit_gev(x)
    one = np.ones((x.size, 1))
    return _fit(
        "gev",
        x,
        np.hstack([one, X]),
        np.hstack([one, W]),
        np.ones(x.size, bool),
        x.size,
        (st.loc, st.scale, st.shape),
        ln,
        sn,
        None,
        "non-stationary GEV fit",
    )


def fit_gpd_nonstationary(x, threshold: float, scale_covariates=None) -> NonStationaryFit:
    """GPD fit of the excesses over ``threshold`` with log sigma linear in covariates (ismev ``gpd.fit(sigl=)``).

    Model: for x_t > u, x_t - u ~ GPD(sigma(t), xi), log sigma(t) = c_0 + c' W_t.  The covariates are given
    for every observation (the same length as ``x``); the rows of the exceedances are used.

    Parameters
    ----------
    x : array-like, shape (n,)
        All observations.
    threshold : float
        Threshold u; the excesses x_t - u of the x_t > u are fitted.
    scale_covariates : array-like, Series or DataFrame, shape (n,) or (n, p), optional
        Covariates W_t of log sigma, one row per observation (None: a stationary GPD).

    Returns
    -------
    NonStationaryFit (``n`` counts the exceedances)
    """
    xa, u, _ = evt._threshold_excesses(x, threshold)
    W, sn = _covariates(scale_covariates, xa.size, "scale")
    keep = xa > u
    y = xa[keep] - u
    st = evt.fit_gpd(xa, u)
    return _fit(
        "gpd",
        y,
        np.zeros((y.size, 0)),
        np.hstack([np.ones((y.size, 1)), W[keep]]),
        np.zeros(y.size, bool),
        y.size,
        (0.0, st.scale, st.shape),
        [],
        sn,
        u,
        "non-stationary GPD fit",
    )


def fit_gev_rlargest(data, r: int | None = None, loc_covariates=None) -> evt.GEVFit | NonStationaryFit:
    """GEV fit to the r largest order statistics of each block (Coles 2001, section 3.5); NaN = missing.

    For block i with its r_i largest values z_i1 >= ... >= z_ir_i, the likelihood is
    exp(-t(z_ir)^(-1/xi)) prod_k sigma^-1 t(z_ik)^(-1/xi - 1), t(z) = 1 + xi (z - mu)/sigma.  Rows may hold
    fewer values than others (missing entries as NaN, in any position); each row is sorted decreasingly
    and its last available value plays the role of z_ir.

    Parameters
    ----------
    data : array-like, shape (n_blocks, r_max)
        Each row: the largest values of one block (NaN where missing; at least one value per row).
    r : int, optional
        Use the r largest of each row (default: all columns).
    loc_covariates : optional
        Per-block covariates of the location (as in :func:`fit_gev_nonstationary`).

    Returns
    -------
    GEVFit (no covariates; its ``n`` counts blocks; use ``return_level(..., method="delta")``, since the
    profile interval of ``return_level`` uses the block-maximum likelihood) or NonStationaryFit.
    """
    A = np.array(data, dtype=np.float64)
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise DataError(f"data must be a 2-D array (blocks x order statistics), got shape {A.shape}")
    if np.isinf(A).any():
        raise DataError("data holds inf; only finite values or NaN (missing) are allowed")
    A = -np.sort(-A, axis=1)  # decreasing, NaN last
    if r is not None:
        from ..validation import check_positive_int

        A = A[:, : check_positive_int(r, "r")]
    cnt = np.isfinite(A).sum(axis=1)
    if np.any(cnt == 0):
        raise DataError(
            f"data row {int(np.argmin(cnt))} has no value; every block needs at least its maximum"
        )
    nb = A.shape[0]
    if nb < evt.MIN_MAXIMA:
        raise DataError(f"data has {nb} blocks; at least {evt.MIN_MAXIMA} are needed")
    rows, cols = np.nonzero(np.isfinite(A))
    x = A[rows, cols]
    last = cols == cnt[rows] - 1
    X, ln = _covariates(loc_covariates, nb, "loc")
    st = evt.fit_gev(A[:, 0])
    one = np.ones((x.size, 1))
    fit = _fit(
        "gev-rlargest",
        x,
        np.hstack([one, X[rows]]),
        one,
        last,
        nb,
        (st.loc, st.scale, st.shape),
        ln,
        [],
        None,
        "r-largest GEV fit",
    )
    if ln:
        return fit
    c = fit.coef.to_numpy()
    jac = np.diag([1.0, np.exp(c[1]), 1.0])
    cov = jac @ fit.cov @ jac
    se = np.sqrt(np.diag(cov))
    return evt.GEVFit(
        loc=float(c[0]),
        scale=float(np.exp(c[1])),
        shape=float(c[2]),
        se_loc=float(se[0]),
        se_scale=float(se[1]),
        se_shape=float(se[2]),
        cov=cov,
        nllh=fit.nllh,
        n=nb,
    )


# ---------------------------------------------------------------------------------------------------------
# Likelihood-ratio test
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LikelihoodRatioTest:
    """Deviance 2 (nllh_0 - nllh_1), its degrees of freedom and the chi-squared p-value."""

    statistic: float
    df: int
    p_value: float

    def to_dict(self) -> dict:
        return {"statistic": self.statistic, "df": self.df, "p_value": self.p_value}


def _nparams(fit) -> int:
    if isinstance(fit, NonStationaryFit):
        return fit.n_params
    if isinstance(fit, evt.GEVFit):
        return 3
    if isinstance(fit, evt.GPDFit):
        return 2
    raise TypeError(f"expected a GEVFit, GPDFit or NonStationaryFit, got {type(fit).__name__}")


def likelihood_ratio_test(restricted, full) -> LikelihoodRatioTest:
    """Likelihood-ratio test of a nested model (``restricted``, e.g. stationary) against ``full``.

    D = 2 (nllh_restricted - nllh_full) ~ chi2 with df = the difference in the number of parameters (Coles
    2001, section 2.6.6).  Both fits must use the same data; that is the caller's responsibility (the
    numbers of observations are checked).

    Parameters
    ----------
    restricted : GEVFit, GPDFit or NonStationaryFit
        The nested (smaller) model.
    full : GEVFit, GPDFit or NonStationaryFit
        The larger model, with at least one more parameter.

    Returns
    -------
    LikelihoodRatioTest
        ``statistic`` D >= 0, ``df`` and ``p_value`` = P(chi2_df > D).
    """
    from scipy.stats import chi2

    df = _nparams(full) - _nparams(restricted)
    if df < 1:
        raise ValueError(f"full must have more parameters than restricted (got {df} extra)")
    n0 = getattr(restricted, "n", getattr(restricted, "n_exceedances", None))
    n1 = getattr(full, "n", getattr(full, "n_exceedances", None))
    if n0 != n1:
        raise ValueError(f"the fits use different data ({n0} vs {n1} observations)")
    d = 2.0 * (restricted.nllh - full.nllh)
    if d < -1e-6 * max(1.0, abs(full.nllh)):
        raise NumericalError(
            f"the full model fits worse than the restricted one (deviance {d:.4g}): the larger fit did not "
            "reach its optimum; check starting values or the nesting"
        )
    d = max(d, 0.0)
    return LikelihoodRatioTest(float(d), int(df), float(chi2.sf(d, df)))
