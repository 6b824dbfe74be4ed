"""Priors at the truncation level sigma_T: EVT copula, flows with GPD-tailed margins, reference priors.

Build one by name with :func:`make_prior`; rebuild a saved one with :func:`load_prior`.

Registered names
----------------
evt-copula            GPD-tailed margins (clean rows) + empirical copula + sigma_T noise (default until 2026-12)
evt-gaussian-copula   the same with a Gaussian copula
evt-t-copula          the same with a Student-t copula
evt-spectral-copula   the same with the empirical copula in the body and an extreme-value (spectral) joint
                      tail (the default)
flow-evt              GPD-tailed margins -> normal scores -> pyro spline flow (Gaussian base) + sigma_T noise
flow-t                the paper's prior: spline flow with a Student-t base fitted on x + sigma_T * eps
empirical             the training rows + sigma_T noise
gaussian              N(0, sigma_T^2 I) (the "gaussian-start"); center=True uses the data mean
"""

from __future__ import annotations

from collections.abc import Callable

from .base import EmpiricalPrior, GaussianPrior, Prior, check_sigma_T
from .copula import EVTCopulaPrior
from .marginals import GPDTailMarginal, MarginalTransform

__all__ = [
    "DEFAULT_PRIOR",
    "PRIORS",
    "EVTCopulaPrior",
    "EmpiricalPrior",
    "FlowPrior",
    "GPDTailMarginal",
    "GaussianPrior",
    "MarginalTransform",
    "Prior",
    "check_sigma_T",
    "load_prior",
    "make_prior",
]


def __getattr__(name):  # FlowPrior imports torch/pyro; load it on first use only
    if name == "FlowPrior":
        from .flow import FlowPrior

        return FlowPrior
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _flow(**defaults) -> Callable[..., Prior]:
    def factory(**params):
        from .flow import FlowPrior

        return FlowPrior(**{**defaults, **params})

    factory.__doc__ = f"FlowPrior with defaults {defaults}"
    return factory


def _copula(copula: str) -> Callable[..., Prior]:
    def factory(**params):
        return EVTCopulaPrior(**{"copula": copula, **params})

    return factory


#: name -> factory(**params) -> unfitted Prior
PRIORS: dict[str, Callable[..., Prior]] = {
    "evt-copula": _copula("empirical"),
    "evt-gaussian-copula": _copula("gaussian"),
    "evt-t-copula": _copula("t"),
    "evt-spectral-copula": _copula("spectral"),
    "flow-evt": _flow(marginals="evt", base="normal", fit_on="clean"),
    "flow-t": _flow(marginals="none", base="studentt", fit_on="noised", bound=5.0),
    "empirical": EmpiricalPrior,
    "gaussian": GaussianPrior,
}

#: the prior the truncated-diffusion model uses unless told otherwise (chosen by analyses/bench_method_full.py:
#: worst-direction 0.999 error below the training rows' on 13 of 15 runs, analyses/results/method_full.md)
DEFAULT_PRIOR = "evt-spectral-copula"


def make_prior(name: str, **params) -> Prior:
    """Build an unfitted prior by registry name; ``params`` go to its constructor.

    Parameters
    ----------
    name : str
        A key of :data:`PRIORS` (see the module docstring), e.g. ``"evt-copula"`` (:data:`DEFAULT_PRIOR`).
    **params
        Keyword arguments of the prior's constructor (e.g. ``tail_fraction`` of :class:`EVTCopulaPrior`).

    Returns
    -------
    prior : Prior
        Unfitted; call ``prior.fit(X, sigma_T)``.

    Raises
    ------
    ValueError
        For an unknown name or parameters the constructor does not accept.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_t(3, size=(200, 2))
    >>> prior = make_prior("evt-copula", tail_fraction=0.25).fit(X, sigma_T=0.5, seed=0)
    >>> y = prior.sample(5, seed=1)
    >>> y.shape, np.array_equal(y, prior.sample(5, seed=1))
    ((5, 2), True)
    """
    if not isinstance(name, str) or name not in PRIORS:
        raise ValueError(f"unknown prior {name!r}; choose one of: {', '.join(PRIORS)}")
    try:
        return PRIORS[name](**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for prior {name!r}: {exc}") from None


def load_prior(name: str, config: dict, state: dict) -> Prior:
    """Rebuild a fitted prior from its registry name, ``get_config()`` and ``state_dict()``.

    Parameters
    ----------
    name : str
        Registry name the prior was built with.
    config : dict
        Its :meth:`Prior.get_config` (constructor arguments).
    state : dict of str to ndarray
        Its :meth:`Prior.state_dict` (fitted arrays).

    Returns
    -------
    prior : Prior
        The fitted prior, ready to sample.
    """
    prior = make_prior(name, **config)
    return type(prior).from_state(prior.get_config(), state)
