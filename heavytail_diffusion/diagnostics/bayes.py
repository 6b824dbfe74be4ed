"""Bayesian GPD and GEV fits by NUTS (pyro): posteriors of the parameters and return levels, R-hat, ESS."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError, NumericalError
from ..validation import check_positive_int, check_sample
from . import evt

__all__ = ["DEFAULT_PRIOR", "Posterior", "fit_gev_bayes", "fit_gpd_bayes"]

#: Weakly informative default priors, on the data's own scale s0 (the mean excess for the GPD, the standard
#: deviation of the maxima for the GEV): log(sigma / s0) ~ N(0, 2^2) (sigma within a factor e^4 ~ 55 of s0
#: at 2 sd); xi ~ N(0, 0.5^2) restricted to xi > -1 (the likelihood is unbounded below -1); for the GEV
#: (mu - m0) / s0 ~ N(0, 10^2) with m0 the mean of the maxima.  The xi prior puts 95% mass on (-1, 1): it
#: rules out nothing a practitioner believes, but pulls small samples away from the absurd shapes
#: (|xi| > 1.5) that maximum likelihood can return for 10-20 points.
DEFAULT_PRIOR = {"logscale_sd": 2.0, "shape_mean": 0.0, "shape_sd": 0.5, "loc_sd": 10.0}


def _torch():
    import torch

    return torch


def _gpd_loglik(torch, y, sigma, xi):
    z = y / sigma
    w = xi * z
    small = torch.abs(xi) < 1e-6
    xs = torch.where(small, torch.ones_like(xi), xi)
    inside = torch.all(w > -1.0)
    lw = torch.log1p(torch.clamp(w, min=-1.0 + 1e-15))
    ll = torch.where(small, -z.sum(), -(1.0 + 1.0 / xs) * lw.sum()) - y.numel() * torch.log(sigma)
    return torch.where(inside, ll, torch.tensor(-math.inf, dtype=y.dtype))


def _gev_loglik(torch, x, mu, sigma, xi):
    z = (x - mu) / sigma
    w = xi * z
    small = torch.abs(xi) < 1e-6
    xs = torch.where(small, torch.ones_like(xi), xi)
    inside = torch.all(w > -1.0)
    lt = torch.log1p(torch.clamp(w, min=-1.0 + 1e-15))
    ll_gen = -(1.0 + 1.0 / xs) * lt.sum() - torch.exp(-lt / xs).sum()
    ll_gum = -z.sum() - torch.exp(-z).sum()
    ll = torch.where(small, ll_gum, ll_gen) - x.numel() * torch.log(sigma)
    return torch.where(inside, ll, torch.tensor(-math.inf, dtype=x.dtype))


def _above_minus_one(torch, xi):
    """log of the indicator xi > -1: restricts the normal shape prior (the likelihood is unbounded below -1)."""
    return torch.where(xi > -1.0, torch.zeros_like(xi), torch.full_like(xi, -math.inf))


@dataclass
class Posterior:
    """NUTS posterior draws of a GPD or GEV fit.

    Attributes
    ----------
    model : {"gpd", "gev"}
    samples : DataFrame
        One row per draw (all chains stacked), columns ``scale``, ``shape`` (and ``loc`` for the GEV, ``rate``
        for the GPD: the exceedance probability, Beta(1 + k, 1 + n - k) a posteriori).
    chains : int
    rhat, ess : dict
        Split-R-hat and effective sample size per parameter (pyro.ops.stats; R-hat < 1.01 and ESS > 400 are
        the usual targets).
    seconds : float
        Wall-clock time of the sampling.
    threshold, n_total : GPD only.
    prior : dict
        The prior settings used (see ``DEFAULT_PRIOR``).
    """

    model: str
    samples: pd.DataFrame
    chains: int
    rhat: dict
    ess: dict
    seconds: float
    prior: dict
    threshold: float | None = None
    n_total: int | None = None
    mle: dict = field(default_factory=dict)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Posterior mean, sd, equal-tailed credible interval, R-hat and ESS per parameter."""
        a = (1 - level) / 2
        rows = []
        for c in self.samples.columns:
            v = self.samples[c].to_numpy()
            rows.append(
                {
                    "parameter": c,
                    "mean": float(v.mean()),
                    "sd": float(v.std(ddof=1)),
                    "ci_low": float(np.quantile(v, a)),
                    "ci_high": float(np.quantile(v, 1 - a)),
                    "rhat": self.rhat.get(c, math.nan),
                    "ess": self.ess.get(c, math.nan),
                }
            )
        return pd.DataFrame(rows).set_index("parameter")

    def return_levels(
        self, periods, *, obs_per_block: float | None = None, level: float = 0.95
    ) -> pd.DataFrame:
        """Posterior of return levels (same definitions as :func:`~heavytail_diffusion.diagnostics.evt.return_level`).

        GPD: u + sigma / xi ((m zeta)^xi - 1), m = period * obs_per_block (observations when None), drawn with
        the posterior of zeta; GEV: mu + sigma / xi (y^-xi - 1), y = -log(1 - 1/period).

        Parameters
        ----------
        periods : float or array-like
            Return periods: in observations (GPD, or blocks with ``obs_per_block``) or blocks (GEV).
        obs_per_block : float, optional
            GPD only: observations per block (year).
        level : float, default 0.95
            Probability of the equal-tailed credible interval.

        Returns
        -------
        DataFrame, one row per period
            Columns ``period, mean, median, ci_low, ci_high`` of the posterior draws of the return level.

        Raises
        ------
        ValueError
            GPD: a period so short that m zeta <= 1 for some draw (the level would lie below the threshold).
        """
        s = self.samples
        rows = []
        a = (1 - level) / 2
        for T in np.atleast_1d(np.asarray(periods, dtype=float)):
            if self.model == "gpd":
                m = T * (1.0 if obs_per_block is None else obs_per_block)
                lm = np.log(m * s["rate"].to_numpy())
                if np.any(lm <= 0):
                    raise ValueError(f"period {T:g} is too short: the level would lie below the threshold")
                v = evt._gpd_rl_value(self.threshold, s["scale"].to_numpy(), s["shape"].to_numpy(), lm)
            else:
                lp = evt._gev_rl_lp(float(T))
                v = evt._gev_rl_value(s["loc"].to_numpy(), s["scale"].to_numpy(), s["shape"].to_numpy(), lp)
            rows.append(
                {
                    "period": float(T),
                    "mean": float(v.mean()),
                    "median": float(np.median(v)),
                    "ci_low": float(np.quantile(v, a)),
                    "ci_high": float(np.quantile(v, 1 - a)),
                }
            )
        return pd.DataFrame(rows)

    def summary_dict(self, periods, *, obs_per_block: float | None = None) -> dict:
        """JSON-ready summary for ``diagnose --bayes``: parameters, return levels, R-hat max, ESS min, cost.

        Parameters
        ----------
        periods : iterable of float
            Return periods, as in :meth:`return_levels`; a period too short for the GPD is silently left out.
        obs_per_block : float, optional
            GPD only: observations per block (year).

        Returns
        -------
        summary : dict
            Keys ``model, parameters`` (mean, sd, ci_low, ci_high per parameter, 95% intervals),
            ``return_levels`` (list of dicts as the rows of :meth:`return_levels`), ``rhat_max, ess_min, draws,
            chains, seconds, prior``.
        """
        tab = self.summary()
        params = {
            c: {
                k: float(tab.loc[c, k]) for k in ("mean", "sd", "ci_low", "ci_high")
            }
            for c in tab.index
        }
        rl = []
        for T in periods:
            try:
                r = self.return_levels([T], obs_per_block=obs_per_block).iloc[0].to_dict()
                rl.append({k: float(v) for k, v in r.items()})
            except ValueError:
                continue
        return {
            "model": self.model,
            "parameters": params,
            "return_levels": rl,
            "rhat_max": float(max(self.rhat.values())),
            "ess_min": float(min(self.ess.values())),
            "draws": len(self.samples),
            "chains": self.chains,
            "seconds": self.seconds,
            "prior": dict(self.prior),
        }


def _run_nuts(model_fn, num_samples, warmup, chains, seed, names):
    torch = _torch()
    import pyro
    from pyro.infer import MCMC, NUTS
    from pyro.ops.stats import effective_sample_size, split_gelman_rubin

    draws = {nm: [] for nm in names}
    t0 = time.perf_counter()
    for c in range(chains):
        pyro.set_rng_seed(int(seed) * 1000 + c)
        pyro.clear_param_store()
        kernel = NUTS(
            model_fn, target_accept_prob=0.85, max_tree_depth=8, jit_compile=True, ignore_jit_warnings=True
        )
        mcmc = MCMC(kernel, num_samples=num_samples, warmup_steps=warmup, disable_progbar=True)
        mcmc.run()
        out = mcmc.get_samples()
        for nm in names:
            draws[nm].append(out[nm].detach().double())
    seconds = time.perf_counter() - t0
    stacked = {nm: torch.stack(draws[nm]) for nm in names}  # (chains, draws)
    rhat = {nm: float(split_gelman_rubin(stacked[nm], chain_dim=0, sample_dim=1)) for nm in names}
    ess = {nm: float(effective_sample_size(stacked[nm], chain_dim=0, sample_dim=1)) for nm in names}
    return {nm: stacked[nm].reshape(-1).numpy() for nm in names}, rhat, ess, seconds


def _check_mcmc(num_samples, warmup, chains):
    return (
        check_positive_int(num_samples, "num_samples", minimum=10),
        check_positive_int(warmup, "warmup", minimum=10),
        check_positive_int(chains, "chains", minimum=1),
    )


def fit_gpd_bayes(
    x,
    threshold: float,
    *,
    num_samples: int = 1000,
    warmup: int = 500,
    chains: int = 2,
    seed: int = 0,
    prior: dict | None = None,
) -> Posterior:
    """Bayesian GPD fit of the excesses over ``threshold`` by NUTS (pyro), with the priors of ``DEFAULT_PRIOR``.

    Parameters sampled: (log(sigma / s0), xi) with s0 the mean excess; the posterior of the exceedance
    probability zeta is the conjugate Beta(1 + k, 1 + n - k) (uniform prior), drawn independently, so return
    levels carry its uncertainty as the delta method of :func:`~.evt.return_level` does.  Chains run one
    after another with seeds ``1000 seed + c``: results are reproducible.

    Parameters
    ----------
    x : array-like
        All observations (the exceedances of ``threshold`` enter the likelihood).
    threshold : float
    num_samples, warmup : int
        Draws kept and adaptation steps per chain.
    chains : int
        Independent chains (>= 2 for R-hat).
    seed : int
    prior : dict, optional
        Overrides of ``DEFAULT_PRIOR`` (keys logscale_sd, shape_mean, shape_sd).

    Returns
    -------
    Posterior
    """
    torch = _torch()
    import pyro
    import pyro.distributions as dist

    xa, u, y = evt._threshold_excesses(x, threshold)
    num_samples, warmup, chains = _check_mcmc(num_samples, warmup, chains)
    pr = {**DEFAULT_PRIOR, **(prior or {})}
    s0 = float(y.mean())
    yt = torch.as_tensor(y / s0, dtype=torch.float64)
    mle = evt.fit_gpd(xa, u)

    def model():
        ls = pyro.sample("logscale", dist.Normal(torch.tensor(0.0, dtype=torch.float64), pr["logscale_sd"]))
        xi = pyro.sample(
            "shape", dist.Normal(torch.tensor(pr["shape_mean"], dtype=torch.float64), pr["shape_sd"])
        )
        pyro.factor("shape_above_minus_one", _above_minus_one(torch, xi))
        pyro.factor("loglik", _gpd_loglik(torch, yt, torch.exp(ls), xi))

    try:
        d, rhat, ess, sec = _run_nuts(model, num_samples, warmup, chains, seed, ["logscale", "shape"])
    except (RuntimeError, ValueError) as exc:
        raise NumericalError(f"NUTS failed for the GPD above {u:g}: {exc}") from None
    rng = np.random.default_rng(seed)
    k = y.size
    samples = pd.DataFrame(
        {
            "scale": np.exp(d["logscale"]) * s0,
            "shape": d["shape"],
            "rate": rng.beta(1 + k, 1 + xa.size - k, size=d["shape"].size),
        }
    )
    rh = {"scale": rhat["logscale"], "shape": rhat["shape"]}
    es = {"scale": ess["logscale"], "shape": ess["shape"]}
    return Posterior(
        "gpd",
        samples,
        chains,
        rh,
        es,
        sec,
        pr,
        threshold=u,
        n_total=int(xa.size),
        mle={"scale": mle.scale, "shape": mle.shape, "se_scale": mle.se_scale, "se_shape": mle.se_shape},
    )


def fit_gev_bayes(
    maxima,
    *,
    num_samples: int = 1000,
    warmup: int = 500,
    chains: int = 2,
    seed: int = 0,
    prior: dict | None = None,
) -> Posterior:
    """Bayesian GEV fit of block maxima by NUTS (pyro); priors as in ``DEFAULT_PRIOR`` (see :func:`fit_gpd_bayes`).

    Parameters sampled: ((mu - m0)/s0, log(sigma/s0), xi), m0 and s0 the mean and standard deviation of the
    maxima.  Returns a :class:`Posterior` with columns loc, scale, shape.
    """
    torch = _torch()
    import pyro
    import pyro.distributions as dist

    x = check_sample(maxima, "maxima", min_size=evt.MIN_MAXIMA)
    if np.all(x == x[0]):
        raise DataError("maxima is constant; a GEV cannot be fitted")
    num_samples, warmup, chains = _check_mcmc(num_samples, warmup, chains)
    pr = {**DEFAULT_PRIOR, **(prior or {})}
    m0, s0 = float(x.mean()), float(x.std())
    xt = torch.as_tensor((x - m0) / s0, dtype=torch.float64)
    try:
        mle = evt.fit_gev(x)
        mle_d = {"loc": mle.loc, "scale": mle.scale, "shape": mle.shape, "se_shape": mle.se_shape}
    except NumericalError:
        mle_d = {}

    def model():
        zero = torch.tensor(0.0, dtype=torch.float64)
        loc = pyro.sample("loc", dist.Normal(zero, pr["loc_sd"]))
        ls = pyro.sample("logscale", dist.Normal(zero, pr["logscale_sd"]))
        xi = pyro.sample(
            "shape", dist.Normal(torch.tensor(pr["shape_mean"], dtype=torch.float64), pr["shape_sd"])
        )
        pyro.factor("shape_above_minus_one", _above_minus_one(torch, xi))
        pyro.factor("loglik", _gev_loglik(torch, xt, loc, torch.exp(ls), xi))

    try:
        d, rhat, ess, sec = _run_nuts(model, num_samples, warmup, chains, seed, ["loc", "logscale", "shape"])
    except (RuntimeError, ValueError) as exc:
        raise NumericalError(f"NUTS failed for the GEV: {exc}") from None
    samples = pd.DataFrame(
        {"loc": m0 + s0 * d["loc"], "scale": s0 * np.exp(d["logscale"]), "shape": d["shape"]}
    )
    rh = {"loc": rhat["loc"], "scale": rhat["logscale"], "shape": rhat["shape"]}
    es = {"loc": ess["loc"], "scale": ess["logscale"], "shape": ess["shape"]}
    return Posterior("gev", samples, chains, rh, es, sec, pr, mle=mle_d)
