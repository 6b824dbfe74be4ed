"""The method, truncated diffusion with a heavy-tailed prior at sigma_T, and its start baselines."""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np

from ..diffusion.edm import SIGMA_MIN
from ..diffusion.tail_calibration import calibrate_model_tails, load_calibration
from ..persistence import flatten_state, unflatten_state
from .base import DiffusionModel
from .registry import register_model

__all__ = ["EmpiricalStart", "GaussianStart", "TruncatedDiffusion"]


@register_model("truncated")
class TruncatedDiffusion(DiffusionModel):
    """Truncated diffusion with a heavy-tailed prior at sigma_T (Fassina, Cardoso, Le Corff, Romary 2026).

    Fit: (1) choose the truncation level ``sigma_T`` (``"auto"``: the smallest noise level at which every
    random 1-D projection of ``x + sigma eps`` is unimodal by Hartigan's dip test,
    :func:`~heavytail_diffusion.diffusion.select_sigma_T`); (2) fit the prior, a model of the noised law
    ``p_T`` of ``x + sigma_T eps`` (default ``"evt-spectral-copula"``: GPD-tailed margins fitted on the clean
    rows, the empirical copula in the body and an extreme-value spectral model in the joint tail, plus exact
    sigma_T noise; see :mod:`heavytail_diffusion.priors`); (3) train an
    EDM denoiser on noise levels up to sigma_T only.
    Sample: draw from the prior and run ``steps`` levels of a reverse sampler from sigma_T to 0.002 (Heun:
    NFE = 2 steps - 1).

    Parameters
    ----------
    sigma_T : "auto" or float
        Truncation level in the preprocessed (robust-scaled) units. ``"auto"`` takes the dip-test level,
        but at least ``min_sigma_T``.
    min_sigma_T : float, default 0.5
        Floor of the automatic sigma_T. Measured (``analyses/results/bench_method.md``): on ``ht10d`` the
        dip-test level is small (0.19-0.33) and varies with the training set; there the copula prior's
        lumpy joint extremes reach the output (worst-direction 0.999-quantile error 0.78) and a slight
        excess of rows close to training rows appears, while at 0.5 quality was equal or better with no
        copying. Unimodal data (a dip-test level at the bottom of the grid) would otherwise get almost no
        noise, and the output would be the prior's. Set 0 to use the dip-test level as it is.

        Copy check (after the fit, for the method only): if more than 5% of 2000 model draws lie closer to
        a training row than 99% of the training rows lie to each other (``copy_fraction_``; about 1% for
        a model that does not copy), or their median distance to the nearest training row is below 0.95 of
        the training rows' own (``distance_ratio_``), an automatic sigma_T is doubled and the prior and
        denoiser refitted, at most twice; a warning is given if the model still copies (or at once for a given sigma_T).
        Measured (``analyses/results/benchmark_paper``): on HT-100D at sigma_T = 0.5 the empirical-copula
        prior's draws stayed next to their training rows and 29% of the samples were copies; at 1.0, none.
    prior : str
        Prior name (:data:`heavytail_diffusion.priors.PRIORS`).
    prior_params : dict, optional
        Hyperparameters of the prior.
    tail_calibration : {"rank", "transport", "off"}, default "rank"
        Put the prior's GPD tails back into the output, column by column (the network pulls draws beyond
        the training data inwards; see :mod:`heavytail_diffusion.diffusion.tail_calibration`).
        ``"rank"`` (:class:`~heavytail_diffusion.diffusion.tail_calibration.RankTailCoupling`): the output's
        order statistics beyond the 0.05/0.95 levels are blended, rank for rank, into those of the prior's
        clean draws the starts came from (fully beyond 0.01/0.99), so its ranks (the dependence) and its
        body are the sampler's and its marginal tails are the prior's draws: the same seed and size give
        the marginal tail quantiles of ``prior_.sample_clean(n, seed)`` exactly. Measured
        (``analyses/results/method_full.md``, 5 cases x 3 seeds): every marginal 0.999 error at most the
        prior's on 15 of 15 runs (0 without it), HT-50D median marginal error 0.060 instead of 0.144, signed-log
        W2 within 0.003, worst direction mixed (better on 3 of 5 case means).
        ``"transport"`` (:class:`~heavytail_diffusion.diffusion.tail_calibration.TailCalibration`): each
        tail value is blended towards the prior's exact 1-D transport of its start; measured
        (``analyses/results/method_tails.md``) it doubled the worst-direction 0.999 error on the quick
        benchmark. ``"off"`` (or False): the sampler's output as it is; True means ``"transport"`` (its
        meaning before the kinds). Needs a prior with GPD margins and exact sigma_T noise (the EVT priors);
        ignored otherwise (the start baselines). Deterministic, no fit-time cost; applied in the copy check.
    steps, sampler, rho : reverse sampler settings (Karras grid, ``"heun"``, ``"ddpm"`` or ``"euler"``).
    train_steps, batch_size, lr, width, mults, patience : denoiser training (see
        :func:`~heavytail_diffusion.diffusion.train_denoiser`); ``quick=True`` trains briefly (demos, tests).
    device : "auto", "cpu" or "cuda"
    progress : bool
        Progress bars on a terminal.
    preprocessing : str or list of str
        Per-column transform (:class:`~heavytail_diffusion.preprocessing.Preprocessor`).
    seed : int
        Seeds every random step of the fit.

    Attributes
    ----------
    sigma_T_ : float
    sigma_T_selection_ : SigmaTSelection or None (when sigma_T was given)
    copy_fraction_, distance_ratio_ : float
        The fit-time copy check's share of near-copies and median-distance ratio (see ``min_sigma_T``);
        None after loading.
    refits_ : int
        sigma_T doublings the copy check made (None after loading).
    tail_calibration_ : RankTailCoupling, TailCalibration or None
    prior_ : Prior
    denoiser_ : Denoiser
    history_ : DataFrame of the denoiser's training/validation losses
    """

    default_prior: ClassVar[str | None] = None  # None: priors.DEFAULT_PRIOR
    #: fit-time copy check (the method only; the start baselines keep their sigma_T whatever they copy)
    check_copies: ClassVar[bool] = True
    #: share of generated rows allowed closer to a training row than 99% of the training rows are to each
    #: other (a model that does not copy gives about 0.01)
    max_copy_fraction: ClassVar[float] = 0.05
    #: smallest median nearest-training-row distance of the draws, relative to the training rows' own
    #: (about 1 for a model that does not copy). Measured (``analyses/results/method_full.md``): on HT-50D at
    #: sigma_T = 0.5 the copy share passed (2.5%) while the ratio was 0.64 (0.04 copies on the raw scale)
    min_distance_ratio: ClassVar[float] = 0.95
    #: times an automatic sigma_T is doubled when the fitted model copies
    max_sigma_T_doublings: ClassVar[int] = 2

    def __init__(
        self,
        sigma_T: str | float = "auto",
        min_sigma_T: float = 0.5,
        prior: str | None = None,
        prior_params: dict | None = None,
        tail_calibration: str | bool = "rank",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sigma_T = sigma_T
        self.min_sigma_T = min_sigma_T
        self.prior = prior
        self.prior_params = prior_params
        self.tail_calibration = tail_calibration

    def _prior_name(self) -> str:
        from ..priors import DEFAULT_PRIOR

        return self.prior or self.default_prior or DEFAULT_PRIOR

    def _choose_sigma_T(self, Z: np.ndarray, rng: np.random.Generator) -> float:
        from ..diffusion import select_sigma_T

        if isinstance(self.sigma_T, str):
            if self.sigma_T != "auto":
                raise ValueError(f"sigma_T must be 'auto' or a positive number, got {self.sigma_T!r}")
            floor = float(self.min_sigma_T)
            if not (np.isfinite(floor) and floor >= 0):
                raise ValueError(f"min_sigma_T must be a finite number >= 0, got {self.min_sigma_T!r}")
            self.sigma_T_selection_ = select_sigma_T(Z, seed=int(rng.integers(2**31)))
            return max(float(self.sigma_T_selection_.sigma_T), floor)
        self.sigma_T_selection_ = None
        s = float(self.sigma_T)
        if not (np.isfinite(s) and s > SIGMA_MIN):
            raise ValueError(
                f"sigma_T must be a finite number > {SIGMA_MIN:g} (the last sampler level), got {s}"
            )
        return s

    def _make_prior(self):
        from ..priors import make_prior

        name = self._prior_name()
        params = self._prior_params(name, self.prior_params)
        if name.startswith("flow") and "device" not in params:
            params["device"] = self.device  # the flow prior trains where the denoiser does
        return make_prior(name, **params)

    def _calibration_kind(self) -> str | None:
        kind = self.tail_calibration
        if kind is True:
            return "transport"
        if kind is False or kind is None or kind == "off":
            return None
        if kind not in ("rank", "transport"):
            raise ValueError(f"tail_calibration must be 'rank', 'transport' or 'off', got {kind!r}")
        return kind

    def _fit(self, Z: np.ndarray, rng: np.random.Generator) -> None:
        self._calibration_kind()  # bad values fail before the fit
        self._fit_prior_and_denoiser(Z, rng)

    def _fit_prior_and_denoiser(self, Z: np.ndarray, rng: np.random.Generator) -> None:
        self.sigma_T_ = self._choose_sigma_T(Z, rng)
        self.copy_fraction_ = self.distance_ratio_ = None
        self.refits_ = 0
        auto = isinstance(self.sigma_T, str)
        for attempt in range(1 + (self.max_sigma_T_doublings if auto else 0)):
            self.prior_ = self._make_prior().fit(Z, self.sigma_T_, seed=int(rng.integers(2**31)))
            self._train(Z, self.sigma_T_, rng)
            kind = self._calibration_kind()
            self.tail_calibration_ = None if kind is None else calibrate_model_tails(self, kind)
            if not self.check_copies:
                return
            self.copy_fraction_, self.distance_ratio_ = self._copy_check(Z)
            self.refits_ = attempt
            if (
                self.copy_fraction_ <= self.max_copy_fraction
                and self.distance_ratio_ >= self.min_distance_ratio
            ):
                return
            if auto and attempt < self.max_sigma_T_doublings:
                self.sigma_T_ *= 2.0  # refit the prior and the denoiser at twice the level
        warnings.warn(
            f"{self.name}: {self.copy_fraction_:.0%} of test draws lie closer to a training row than 99% of "
            f"the training rows lie to each other (a model that does not copy gives about 1%, at most "
            f"{self.max_copy_fraction:.0%} allowed) and their median distance to the nearest training row is "
            f"{self.distance_ratio_:.2f} times the training rows' own (at least {self.min_distance_ratio} "
            f"allowed): at sigma_T = {self.sigma_T_:.3g} the prior's draws stay close to the training rows they "
            f"come from. Refit with a larger sigma_T (e.g. sigma_T={2 * self.sigma_T_:.3g}) or more training rows",
            UserWarning,
            stacklevel=3,
        )

    def _copy_check(self, Z: np.ndarray, m: int = 2000) -> tuple[float, float]:
        """Memorisation check on the preprocessed scale: (copy share, distance ratio).

        The copy share is the share of ``m`` model draws nearer to a training row than the 1st percentile of
        the training rows' distances to their nearest OTHER training row (for fresh rows of the data's law
        this share is about 0.01; the measured yardstick of ``analyses/benchmark_paper.py`` uses held-out
        rows instead). The distance ratio is the median distance of the draws to their nearest training row
        over the median of those training-row distances (about 1 for fresh rows; below 1, the draws sit
        closer to the training rows than the data's own rows do). Seeded apart from the fit's stream.

        Large n: only ``m`` reference rows and ``m`` draws are used, whatever n; the nearest-row searches run
        against all n rows (a k-d tree up to 16 dimensions). The share is a binomial proportion of ``m``
        draws, standard error sqrt(0.05 * 0.95 / 2000) = 0.5 points at the 5% limit; the distance threshold
        is the 20th smallest of 2000 nearest-row distances (about +-22% in probability, a 0.8-1.2% share
        for fresh rows instead of 1%)."""
        from ..diagnostics.distances import nearest_distances

        rng = np.random.default_rng([0 if self.seed is None else int(self.seed), 9173])
        n = Z.shape[0]
        ref = Z[rng.choice(n, size=min(n, m), replace=False)]
        d_ref = nearest_distances(ref, Z, exclude_self=True)
        threshold, median = float(np.quantile(d_ref, 0.01)), float(np.median(d_ref))
        if not threshold > 0:  # duplicated rows: no scale to judge copies by
            return 0.0, 1.0
        G = self._sample(m, rng)
        G = G[np.isfinite(G).all(axis=1)]
        if not len(G):
            return 0.0, 1.0
        d = nearest_distances(G, Z)
        return float(np.mean(d < threshold)), float(np.median(d) / median)

    def _start(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.prior_.sample(n, seed=rng)

    def _sample(self, n: int, rng: np.random.Generator, steps=None, sampler=None) -> np.ndarray:
        cal = getattr(self, "tail_calibration_", None)
        if cal is not None and cal.uses_clean:
            x_clean, x_T = self.prior_.sample_pair(n, seed=rng)  # the same x_T as prior_.sample(n, seed=rng)
        else:
            x_clean, x_T = None, self._start(n, rng)
        x = self._reverse(x_T, self.sigma_T_, rng, steps=steps, sampler=sampler)
        if cal is None:
            return x
        return cal.transform(x, x_clean if cal.uses_clean else x_T)

    def _get_state(self) -> tuple[dict, dict]:
        dcfg, darrays = self._denoiser_state()
        pcfg = {"name": self._prior_name(), "config": self.prior_.get_config()}
        parts = {"denoiser": (dcfg, darrays), "prior": (pcfg, self.prior_.state_dict())}
        cal = getattr(self, "tail_calibration_", None)
        if cal is not None:
            parts["tail_calibration"] = (cal.get_config(), cal.state_dict())
        config, tensors = flatten_state(parts)
        config["sigma_T"] = self.sigma_T_
        return config, tensors

    def _set_state(self, config: dict, arrays: dict) -> None:
        from ..priors import load_prior

        self.sigma_T_ = float(config["sigma_T"])
        self.sigma_T_selection_ = None
        self.copy_fraction_ = self.distance_ratio_ = None  # a fit-time check; not saved
        self.refits_ = None
        self._load_denoiser(*unflatten_state(config, arrays, "denoiser"))
        pcfg, parrays = unflatten_state(config, arrays, "prior")
        self.prior_ = load_prior(pcfg["name"], pcfg["config"], parrays)
        self.tail_calibration_ = None  # models saved before the tail calibration, or fitted without it
        if "tail_calibration" in config:
            ccfg, carrays = unflatten_state(config, arrays, "tail_calibration")
            self.tail_calibration_ = load_calibration(
                ccfg, carrays, getattr(self.prior_, "margins_", None), self.sigma_T_
            )


@register_model("gaussian-start")
class GaussianStart(TruncatedDiffusion):
    """Baseline: the truncated denoiser started from N(0, sigma_T^2 I) (isolates the value of the learned prior)."""

    default_prior = "gaussian"
    check_copies = False


@register_model("empirical-start")
class EmpiricalStart(TruncatedDiffusion):
    """Baseline: the truncated denoiser started from training rows + sigma_T noise (cannot pass the data's extremes)."""

    default_prior = "empirical"
    check_copies = False
