"""Return levels of fitted GPD and GEV models: the result type, the shared driver and a thin dispatcher.

The maths of each model lives on its fit object (``GPDFit.return_level``, ``GEVFit.return_level``); this
module validates the request, loops over periods and methods, and assembles the result, calling the fit's
hooks ``_check_obs_per_block``, ``_refit_scaled``, ``_profile_data``, ``_level_and_se`` and ``_profile_ci``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...validation import check_sample

__all__ = ["ReturnLevel", "compute_return_levels", "return_level"]


@dataclass(frozen=True)
class ReturnLevel:
    """A return level with its confidence interval.

    period : return period (observations for a GPD fit, or blocks - e.g. years - when ``obs_per_block``
        was given; blocks for a GEV fit).  value : the level.  ci_low, ci_high : interval bounds (ci_high may
        be +inf for a profile interval when the likelihood does not bound the level).  method : "delta" or
        "profile".  level : the confidence level.
    """

    period: float
    value: float
    ci_low: float
    ci_high: float
    method: str
    level: float

    def to_dict(self) -> dict:
        return {k: (float(v) if k != "method" else v) for k, v in asdict(self).items()}


def _check_request(method: str, level, period):
    from ...validation import check_probability

    if method not in ("delta", "profile", "both"):
        raise ValueError(f"method must be 'delta', 'profile' or 'both', got {method!r}")
    level = check_probability(level, "level")
    periods = np.atleast_1d(np.asarray(period, dtype=np.float64))
    if periods.ndim != 1 or periods.size == 0 or not np.all(np.isfinite(periods)) or np.any(periods <= 1):
        raise ValueError(f"period must be finite and > 1, got {period!r}")
    return (["delta", "profile"] if method == "both" else [method]), level, periods


def _rescaled(fit, period, data, method, level, obs_per_block):
    """Equivariance: compute on data / c with a refitted (identical up to c) model and scale back."""
    if data is None:
        raise ValueError(
            f"the fit's scale ({fit.scale:.3g}) is too large or small for its covariance to be used directly; "
            "pass data= (the observations the fit used) and the levels are computed on rescaled data"
        )
    c = float(2.0 ** np.floor(np.log2(fit.scale)))
    xd = check_sample(data, "data", min_size=2) / c
    sub = fit._refit_scaled(xd, c)
    res = compute_return_levels(sub, period, data=xd, method=method, level=level, obs_per_block=obs_per_block)
    if isinstance(res, ReturnLevel):
        return ReturnLevel(res.period, res.value * c, res.ci_low * c, res.ci_high * c, res.method, res.level)
    for col in ("value", "ci_low", "ci_high"):
        res[col] = res[col] * c
    return res


def compute_return_levels(fit, period, *, data=None, method="delta", level=0.95, obs_per_block=None):
    """Return levels of ``fit`` (a GPDFit or GEVFit) with delta-method and/or profile-likelihood intervals.

    The driver behind :func:`return_level` and the fits' ``return_level`` methods; see :func:`return_level`
    for the definitions.

    Parameters
    ----------
    fit : GPDFit or GEVFit
    period : float or array-like
        Return period(s), > 1.
    data : array-like, optional
        The data the fit used; required by ``"profile"``.
    method : {"delta", "profile", "both"}
    level : float
        Confidence level in (0, 1).
    obs_per_block : float, optional
        GPD only: observations per block.

    Returns
    -------
    ReturnLevel or DataFrame
    """
    from scipy.stats import norm

    methods, level, periods = _check_request(method, level, period)
    fit._check_obs_per_block(obs_per_block)
    if not 2.0**-60 < fit.scale < 2.0**60:
        return _rescaled(fit, period, data, method, level, obs_per_block)
    zq = norm.ppf(0.5 + level / 2.0)
    prepared = None
    if "profile" in methods:
        if data is None:
            raise ValueError("method='profile' needs data= (the observations the fit used)")
        prepared = fit._profile_data(data)
    rows = []
    for T in periods:
        value, se, state = fit._level_and_se(float(T), obs_per_block)
        for meth in methods:
            if meth == "delta":
                lo, hi = value - zq * se, value + zq * se
            else:
                lo, hi = fit._profile_ci(prepared, state, value, se, level)
            rows.append(ReturnLevel(float(T), value, float(lo), float(hi), meth, level))
    if np.ndim(period) == 0 and len(methods) == 1:
        return rows[0]
    import pandas as pd

    return pd.DataFrame([asdict(r) for r in rows])


def return_level(fit, period, *, data=None, method: str = "delta", level: float = 0.95, obs_per_block=None):
    """Return level for a fitted GPD (peaks over threshold) or GEV (block maxima), with a confidence interval.

    GPD: the m-observation return level, exceeded on average once every m observations, is
    x_m = u + sigma / xi * ((m zeta_u) ** xi - 1) with zeta_u = ``fit.rate`` (Coles 2001, eq. 4.13).  The
    period is in observations, or in blocks (e.g. years) when ``obs_per_block`` (evd's ``npp``) is given:
    m = period * obs_per_block.  Example: Danish fire losses, 2167 observations over 11 years, threshold 10:
    ``return_level(fit, 100, obs_per_block=2167/11)`` is the 100-year level (about 429).

    GEV: the level exceeded with probability 1/T in a block, z = mu - sigma / xi * (1 - y ** (-xi)) with
    y = -log(1 - 1/T) (Coles 2001, eq. 3.10); the period is in blocks.

    Intervals:

    - ``"delta"``: value +- z_{(1+level)/2} * se, with the delta-method variance grad' V grad.  For GPD the
      uncertainty of zeta_u (binomial, var zeta(1-zeta)/n) is included (Coles 2001, section 4.3.3).
    - ``"profile"``: the likelihood is reparameterised by the return level; the profile negative
      log-likelihood (minimised over the remaining parameters by Newton steps) is solved for
      2 (nllh_p(r) - nllh) = chi2_1(level) by brentq on each side (Coles 2001, section 2.6.6).  zeta_u is
      held fixed, as in R's evd/ismev.  Usually asymmetric and preferable for heavy tails.  ci_high is +inf
      when the profile does not reach the critical value (the data do not bound the level).  Any failure to
      converge raises NumericalError; no unconverged value is ever returned.
    - ``"both"``: a DataFrame with one row per method.

    The work is done by the fit object (``fit.return_level(period, ...)``); this function is its
    functional form.

    Parameters
    ----------
    fit : GPDFit or GEVFit
    period : float or array-like
        Return period(s), > 1 (see above for units).
    data : array-like, optional
        The data the fit used (for GPD all observations or only those above the threshold; the maxima for
        GEV); required by ``"profile"``.
    method : {"delta", "profile", "both"}
    level : float
        Confidence level in (0, 1).
    obs_per_block : float, optional
        GPD only: observations per block (year), so that ``period`` counts blocks.

    Returns
    -------
    ReturnLevel for a scalar period and a single method; otherwise a DataFrame with columns
    period, value, ci_low, ci_high, method, level.

    Examples
    --------
    The level exceeded once in 10,000 observations of Lomax data with tail index 3 (true value 20.5):

    >>> import numpy as np
    >>> from heavytail_diffusion.diagnostics.evt import fit_gpd
    >>> x = np.random.default_rng(0).pareto(3.0, size=20_000)
    >>> rl = return_level(fit_gpd(x, 0.5), 10_000, data=x, method="profile")
    >>> round(rl.value, 2), round(rl.ci_low, 2), round(rl.ci_high, 2)
    (20.51, 17.5, 24.38)
    """
    if not callable(getattr(fit, "_level_and_se", None)):
        _check_request(method, level, period)
        raise TypeError(f"fit must be a GPDFit or GEVFit, got {type(fit).__name__}")
    return fit.return_level(period, data=data, method=method, level=level, obs_per_block=obs_per_block)
