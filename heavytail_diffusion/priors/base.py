"""The prior interface (a model of the noised law p_T at sigma_T) and the two reference priors."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.special import logsumexp

from ..errors import ModelFileError
from ..validation import as_generator, check_array, check_positive_int

__all__ = ["EmpiricalPrior", "GaussianPrior", "Prior", "check_sigma_T"]


def check_sigma_T(sigma_T) -> float:
    """Validate a truncation level: a finite number >= 0 (0 means the prior models the clean law)."""
    if isinstance(sigma_T, bool) or not isinstance(sigma_T, Real | np.floating | np.integer):
        raise ValueError(f"sigma_T must be a finite number >= 0, got {sigma_T!r}")  # noqa: TRY004
    s = float(sigma_T)
    if not np.isfinite(s) or s < 0:
        raise ValueError(f"sigma_T must be a finite number >= 0, got {s}")
    return s


class Prior:
    r"""Base class of the priors at sigma_T.

    A prior is fitted on *clean* rows X (n, d) and a truncation level :math:`\sigma_T`; it models
    :math:`p_T`, the law of :math:`x + \sigma_T \varepsilon` with x from the data law and
    :math:`\varepsilon \sim N(0, I_d)`. Most priors model the clean law q and add the noise exactly:
    :meth:`sample` = :meth:`sample_clean` + :math:`\sigma_T` N(0, I). Some (``FlowPrior(fit_on="noised")``)
    model :math:`p_T` directly and have no clean sampler.

    Subclasses implement ``_fit(X, rng)``, ``_sample_clean(n, rng)`` (or override ``sample``), and the
    serialisation pair ``_state()`` / ``_load_state(state)``; every fitted quantity must be a numpy array
    or a JSON-able scalar, so a model can save it as tensors (``torch.load(weights_only=True)``) plus JSON.

    Attributes (after fit)
    ----------------------
    sigma_T_ : float
        The truncation level the prior was fitted for.
    n_features_in_ : int
        d.
    """

    #: registry name, set by subclasses
    name: str = "prior"
    #: whether sample() is sample_clean() plus sigma_T * N(0, I)
    adds_noise: bool = True

    # ---------------------------------------------------------------- fitting
    def fit(self, X, sigma_T: float, seed: int | np.random.Generator | None = None, columns=None) -> Prior:
        """Fit on clean rows ``X`` (n, d) for the truncation level ``sigma_T`` (>= 0); returns self.

        Parameters
        ----------
        X : array-like, shape (n, d), n >= 2
            Clean (un-noised) training rows, finite.
        sigma_T : float
            Truncation level >= 0, on the scale of ``X`` (0: the prior models the clean law).
        seed : int, numpy Generator or None, default None
            Seed of any randomness in the fit.
        columns : sequence of str, optional
            Column names for error messages.

        Returns
        -------
        self : Prior
        """
        X = check_array(X, "X", min_rows=2, columns=columns)
        self.sigma_T_ = check_sigma_T(sigma_T)
        self.n_features_in_ = int(X.shape[1])
        self._fit(X, as_generator(seed))
        return self

    def _fit(self, X: np.ndarray, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _check_clean_law(self) -> None:
        """Fitted, and a model of the clean law (``adds_noise``): what the clean draws need."""
        self._check_fitted()
        if not self.adds_noise:
            raise NotImplementedError(f"{type(self).__name__} models the noised law only; use sample()")

    def _check_fitted(self) -> None:
        if not hasattr(self, "sigma_T_"):
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit(X, sigma_T) first")

    # ---------------------------------------------------------------- sampling
    def sample(self, n: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw ``n`` rows (n, d) from the prior's model of p_T.

        Parameters
        ----------
        n : int
            Number of rows, >= 1.
        seed : int, numpy Generator or None, default None
            Seed of the draw; the same integer gives the same rows.

        Returns
        -------
        y : ndarray of float64, shape (n, d)
            ``y = x + sigma_T * eps`` with x from :meth:`sample_clean` and eps ~ N(0, I_d) (for priors that
            add the noise; others draw from their model of p_T directly).
        """
        self._check_fitted()
        return self._draw_pair(check_positive_int(n, "n"), as_generator(seed))[1]

    def sample_pair(self, n: int, seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` clean rows and their noised versions: ``(x, x + sigma_T * eps)``, each (n, d).

        The noised rows are those of :meth:`sample` with the same seed (the clean rows are drawn first, then
        the noise, from one stream), and the clean rows those of :meth:`sample_clean`.

        Parameters
        ----------
        n : int
            Number of rows, >= 1.
        seed : int, numpy Generator or None, default None
            Seed of the draw.

        Returns
        -------
        x, y : ndarray of float64, shape (n, d) each
            Clean rows and ``y = x + sigma_T * eps``.

        Raises
        ------
        NotImplementedError
            For a prior that models the noised law only (``adds_noise`` False).
        """
        self._check_clean_law()
        return self._draw_pair(check_positive_int(n, "n"), as_generator(seed))

    def _draw_pair(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = self._sample_clean(n, rng)
        if self.sigma_T_ > 0:
            return x, x + self.sigma_T_ * rng.standard_normal(x.shape)
        return x, x

    def sample_clean(self, n: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw ``n`` rows from the prior's model of the *clean* law (sigma = 0).

        Parameters
        ----------
        n : int
            Number of rows, >= 1.
        seed : int, numpy Generator or None, default None
            Seed of the draw.

        Returns
        -------
        x : ndarray of float64, shape (n, d)

        Raises
        ------
        NotImplementedError
            For a prior that models the noised law only (``adds_noise`` False).
        """
        self._check_clean_law()
        return self._sample_clean(check_positive_int(n, "n"), as_generator(seed))

    def _sample_clean(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def log_prob(self, y) -> np.ndarray:
        """Log density of the prior's model at rows ``y`` (n, d), where the prior defines one."""
        raise NotImplementedError(f"{type(self).__name__} has no density")

    # ---------------------------------------------------------------- serialisation
    def get_config(self) -> dict:
        """JSON-able hyperparameters (the ``__init__`` arguments)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """Fitted state as a flat dict of numpy arrays (scalars as 0-d arrays); no Python objects."""
        self._check_fitted()
        state = {
            "sigma_T": np.asarray(self.sigma_T_, dtype=np.float64),
            "n_features_in": np.asarray(self.n_features_in_, dtype=np.int64),
        }
        state.update(self._state())
        return state

    def _state(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    @classmethod
    def from_state(cls, config: dict, state: dict) -> Prior:
        """Rebuild a fitted prior from :meth:`get_config` and :meth:`state_dict` (arrays or tensors)."""
        try:
            state = {
                k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)
                for k, v in state.items()
            }
            self = cls(**config)
            self.sigma_T_ = float(state["sigma_T"])
            self.n_features_in_ = int(state["n_features_in"])
            if not (np.isfinite(self.sigma_T_) and self.sigma_T_ >= 0) or self.n_features_in_ < 1:
                raise ValueError(
                    f"sigma_T = {self.sigma_T_!r} and n_features_in = {self.n_features_in_} (need a finite "
                    "sigma_T >= 0 and at least one column)"
                )
            self._load_state(state)
            # the fitted attributes some priors carry, each within its domain (a tampered file fails here,
            # not with a linear-algebra error at sampling time)
            d = self.n_features_in_
            margins = getattr(self, "margins_", None)
            if margins is not None and getattr(margins, "n_features_in_", d) != d:
                raise ValueError(f"the marginals describe {margins.n_features_in_} columns, the prior {d}")
            corr = getattr(self, "corr_", None)
            if corr is not None:
                if corr.shape != (d, d) or not np.isfinite(corr).all() or not np.allclose(corr, corr.T):
                    raise ValueError(f"the copula correlation must be a finite symmetric {d} x {d} matrix")
                if not np.allclose(np.diag(corr), 1.0) or np.any(np.abs(corr) > 1.0 + 1e-12):
                    raise ValueError(
                        "the copula correlation must have a unit diagonal and entries in [-1, 1]"
                    )
                try:
                    np.linalg.cholesky(corr)
                except np.linalg.LinAlgError:
                    raise ValueError("the copula correlation matrix is not positive definite") from None
            ranks = getattr(self, "ranks_", None)
            if ranks is not None and (ranks.size == 0 or ranks.min() < 1 or ranks.max() > ranks.shape[0]):
                raise ValueError(f"the empirical copula's ranks must lie in 1..{ranks.shape[0]}")
            df = getattr(self, "df_", None)
            if df is not None and not (np.isfinite(df) and df > 0):
                raise ValueError(f"the t copula's degrees of freedom must be finite and > 0, got {df!r}")
            perms = getattr(self, "perms_", None)
            if perms is not None and not all(sorted(row) == list(range(d)) for row in np.atleast_2d(perms)):
                raise ValueError(f"the flow's permutations must each be a permutation of 0..{d - 1}")
            for name in ("loc_", "scale_"):
                v = getattr(self, name, None)
                if v is not None and (np.shape(v) != (d,) or not np.isfinite(v).all()):
                    raise ValueError(f"{name.rstrip('_')} must hold {d} finite values")
            if getattr(self, "scale_", None) is not None and not np.all(self.scale_ > 0):
                raise ValueError("every scale must be > 0")
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            raise ModelFileError(f"cannot rebuild a {cls.__name__} from the saved state: {exc}") from exc
        return self

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _check_rows(self, y, name: str = "y") -> np.ndarray:
        self._check_fitted()
        return check_array(y, name, dim=self.n_features_in_)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def _isotropic_normal_logpdf(sq_dist: np.ndarray, d: int, sigma: float) -> np.ndarray:
    return -0.5 * sq_dist / sigma**2 - d * (np.log(sigma) + 0.5 * np.log(2 * np.pi))


class EmpiricalPrior(Prior):
    r"""The training rows plus noise: :math:`p_T \approx n^{-1} \sum_i N(x_i, \sigma_T^2 I)`.

    A reference prior: exact up to the sampling error of the rows, but it cannot go past the observed
    extremes (measured: 2-5% error at q0.999, 13-20% at q0.9999 of p_T) and it copies training rows
    whenever sigma_T is small. Its density is the Gaussian kernel mixture above (sigma_T > 0 only).

    Attributes
    ----------
    rows_ : ndarray (n, d)
        The training rows, stored in full.
    """

    name = "empirical"

    def __init__(self) -> None:
        pass

    def get_config(self) -> dict:
        return {}

    def _fit(self, X, rng):
        self.rows_ = X.copy()

    def _sample_clean(self, n, rng):
        return self.rows_[rng.integers(0, self.rows_.shape[0], size=n)]

    def log_prob(self, y, chunk: int = 256) -> np.ndarray:
        """log of the kernel mixture at rows ``y``; O(n_train * n_y) work, done in chunks of ``chunk``.

        Parameters
        ----------
        y : array-like, shape (m, d)
            Points at which to evaluate.
        chunk : int, default 256
            Rows of ``y`` per block (memory O(chunk * n_train)).

        Returns
        -------
        logp : ndarray of float64, shape (m,)
            ``log p_T(y) = logsumexp_i log N(y; x_i, sigma_T^2 I) - log n_train`` (natural log).

        Raises
        ------
        NotImplementedError
            At sigma_T = 0 (the prior is discrete).
        """
        y = self._check_rows(y)
        if self.sigma_T_ == 0:
            raise NotImplementedError("the empirical prior at sigma_T = 0 is discrete and has no density")
        x = self.rows_
        xx = (x**2).sum(1)
        out = np.empty(y.shape[0])
        for s in range(0, y.shape[0], chunk):
            yc = y[s : s + chunk]
            sq = (yc**2).sum(1)[:, None] - 2 * yc @ x.T + xx[None, :]
            lp = _isotropic_normal_logpdf(np.maximum(sq, 0.0), x.shape[1], self.sigma_T_)
            out[s : s + chunk] = logsumexp(lp, axis=1) - np.log(x.shape[0])
        return out

    def _state(self):
        return {"rows": self.rows_.copy()}

    def _load_state(self, state):
        self.rows_ = np.asarray(state["rows"], dtype=np.float64).reshape(-1, self.n_features_in_)


class GaussianPrior(Prior):
    r"""The Gaussian start :math:`N(\mu, \sigma_T^2 I)`, with :math:`\mu = 0` or the data mean.

    The ``gaussian-start`` baseline: it isolates the value of a learned prior. Its clean law is the point
    mass at :math:`\mu`. Requires sigma_T > 0.

    Parameters
    ----------
    center : bool, default False
        Centre the Gaussian at the training mean instead of 0 (data are usually robust-scaled already).
    """

    name = "gaussian"

    def __init__(self, center: bool = False) -> None:
        self.center = center

    def get_config(self) -> dict:
        return {"center": bool(self.center)}

    def _fit(self, X, rng):
        if self.sigma_T_ <= 0:
            raise ValueError("the gaussian prior needs sigma_T > 0")
        self.mean_ = X.mean(axis=0) if self.center else np.zeros(X.shape[1])

    def _sample_clean(self, n, rng):
        return np.broadcast_to(self.mean_, (n, self.mean_.size)).copy()

    def log_prob(self, y) -> np.ndarray:
        y = self._check_rows(y)
        return _isotropic_normal_logpdf(((y - self.mean_) ** 2).sum(1), y.shape[1], self.sigma_T_)

    def _state(self):
        return {"mean": self.mean_.copy()}

    def _load_state(self, state):
        self.mean_ = np.asarray(state["mean"], dtype=np.float64).reshape(self.n_features_in_)
