"""EVT-copula prior: GPD-tailed margins on clean rows, an empirical/Gaussian/t/spectral copula, plus noise."""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats
from scipy.special import gammaln, log_ndtr

from ..validation import check_positive_int
from .base import Prior
from .marginals import MarginalTransform

__all__ = ["EVTCopulaPrior", "t_copula_loglik"]

_COPULAS = ("empirical", "gaussian", "t", "spectral")


def _nearest_correlation(R: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """Symmetrise, clip eigenvalues at ``floor`` and rescale to unit diagonal (a valid correlation)."""
    R = 0.5 * (R + R.T)
    w, V = np.linalg.eigh(R)
    R = (V * np.maximum(w, floor)) @ V.T
    s = np.sqrt(np.diag(R))
    R = R / s[:, None] / s[None, :]
    np.fill_diagonal(R, 1.0)
    return R


def t_copula_loglik(U: np.ndarray, corr: np.ndarray, df: float) -> float:
    r"""Log-likelihood of the Student-t copula at pseudo-observations ``U`` (n, d) in (0, 1).

    :math:`\log c(u) = \log t_{d,\nu}(x; R) - \sum_j \log t_\nu(x_j)` with :math:`x_j = t_\nu^{-1}(u_j)`
    (Demarta & McNeil 2005).

    Parameters
    ----------
    U : ndarray, shape (n, d)
        Pseudo-observations, strictly inside (0, 1).
    corr : ndarray, shape (d, d)
        Correlation matrix R of the copula (positive definite).
    df : float
        Degrees of freedom nu > 0.

    Returns
    -------
    loglik : float
        ``sum_i log c(u_i)`` (natural log).
    """
    d = U.shape[1]
    x = stats.t.ppf(U, df)
    L = np.linalg.cholesky(corr)
    w = np.linalg.solve(L, x.T)
    maha = (w**2).sum(0)
    logdet = 2 * np.log(np.diag(L)).sum()
    joint = (
        gammaln((df + d) / 2)
        - gammaln(df / 2)
        - 0.5 * d * np.log(df * np.pi)
        - 0.5 * logdet
        - 0.5 * (df + d) * np.log1p(maha / df)
    )
    margins = stats.t.logpdf(x, df).sum(1)
    return float((joint - margins).sum())


def _pareto_scale(u: np.ndarray) -> np.ndarray:
    """Two-sided Pareto scale of probabilities u in (0, 1): 1/(2(1-u)) - 1 above 1/2, -(1/(2u) - 1) below."""
    return np.where(u >= 0.5, 0.5 / (1.0 - u) - 1.0, 1.0 - 0.5 / u)


def _pareto_scale_logs(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log u, log(1 - u)) of the inverse of :func:`_pareto_scale`, each accurate near its own 0."""
    log_small = -np.log(2.0 * (1.0 + np.abs(s)))  # log of the tail probability on the side of s
    log_big = np.log1p(-np.exp(log_small))
    return np.where(s >= 0, log_big, log_small), np.where(s >= 0, log_small, log_big)


class EVTCopulaPrior(Prior):
    r"""Margins with empirical bodies and GPD tails, joined by a copula, plus :math:`\sigma_T` noise.

    Construction: every column gets a :class:`~heavytail_diffusion.priors.marginals.GPDTailMarginal` fitted
    on the *clean* rows (GPD above the ``1 - tail_fraction`` and below the ``tail_fraction`` quantiles);
    a copula draw :math:`U \in (0,1)^d` is mapped through the marginal quantile functions, and
    :func:`sample` adds :math:`\sigma_T \varepsilon`, which is exact for :math:`p_T` given the clean model.
    Fitting the tails on clean rows matters: up to about q0.999 the noised rows are dominated by the
    Gaussian noise and a GPD fitted on them finds xi near 0 instead of the true 1/3.

    Copulas:

    * ``"empirical"``: a training row's ranks r (1..n) with uniform jitter inside each rank cell,
      :math:`U_j = (r_j - V_j)/n`, :math:`V_j \sim U(0, 1)`. The margins are then exactly the fitted ones,
      and the top cells reach into the GPD tails beyond the training extremes. The dependence is the
      training rows' (joint extremes are lumpy off the axes; each row carries 1/n of the mass).
    * ``"gaussian"``: correlation R of the normal scores :math:`\Phi^{-1}(F_j(x_j))`.
    * ``"t"``: Student-t copula, R from Kendall's tau (:math:`R = \sin(\pi\tau/2)`), degrees of freedom
      ``df`` given or fitted by profile likelihood on the rank pseudo-observations :math:`r/(n+1)`.
    * ``"spectral"``: the empirical copula in the body and a multivariate extreme-value model in the joint
      tail. On the Pareto scale :math:`S_j = 1/(2(1-U_j)) - 1` above the median and
      :math:`-(1/(2U_j) - 1)` below (so :math:`P(\pm S_j > s) = 1/(2(s+1))`), the training rows whose
      L1 radius :math:`R = \sum_j |S_j|` is among the top ``joint_tail_fraction`` keep only their angle
      :math:`\Theta = S/R` (the empirical spectral measure); a draw that picks such a row gets a fresh
      radius :math:`r_u/V`, :math:`V \sim U(0,1)` (index 1, as the Pareto scale implies under multivariate
      regular variation), above the threshold radius :math:`r_u`. Each coordinate's positive and negative
      parts are rescaled so that :math:`P(\pm S_j > s) \to 1/(2s)` holds exactly for the model (the
      moment constraints of a spectral measure), hence the far marginal tails stay the fitted GPD ones.
      Joint extremes then come from every tail row's direction with a continuous radius instead of the
      few most extreme training rows themselves.

    With ``sigma_T = 0`` this is the classical "evt-copula" generator (Coles & Tawn 1991 margins + copula).
    The density (:meth:`log_prob`) exists for the Gaussian and t copulas at sigma_T = 0 only.

    Parameters
    ----------
    tail_fraction : float, default 0.05
        Each tail's share of the sample for the GPD fits (see ``GPDTailMarginal``; 0.02 broke the
        extrapolation in our measurements at n = 1e4).
    copula : {"empirical", "gaussian", "t", "spectral"}, default "empirical"
    df : float, optional
        t-copula degrees of freedom; None fits it.
    joint_tail_fraction : float, optional
        Spectral copula only: the share of training rows (largest Pareto-scale radii) whose radius is
        redrawn, in (0, 0.5]. Default ``min(0.1, 0.005 d)`` (at least 20 rows): with weak dependence a row
        is then in the joint tail when about one coordinate passes its 0.995 level, whatever d (measured
        on ht2d, 5-D t and 10-D t mixtures at n = 1e4: 0.05 in 2-D made the worst-direction 0.999 error
        worse than the empirical copula's, 0.01 did not).
    min_exceedances : int, default 50
        Minimum GPD exceedances per tail (the tail fraction is raised with a warning when needed).
    exponential_tails : bool or list of bool, default False
        Fix the GPD shapes at 0 for all or some columns (for log-transformed columns: see
        :class:`~heavytail_diffusion.priors.marginals.GPDTailMarginal`).

    Attributes
    ----------
    margins_ : MarginalTransform
    ranks_ : ndarray of int (n, d)
        Empirical copula only: training ranks, 1..n (ties broken by order of appearance).
    angles_ : ndarray (k, d)
        Spectral copula only: the angles :math:`S/R` of the k joint-tail rows, rescaled coordinate-wise
        so that the model's marginal tails are exact.
    tail_rows_ : ndarray of bool (n,)
        Spectral copula only: which training rows are joint-tail rows (their ranks are not drawn).
    radius_ : float
        Spectral copula only: the threshold radius :math:`r_u` (the largest body-row radius).
    corr_ : ndarray (d, d)
        Gaussian / t copula correlation.
    df_ : float
        t copula degrees of freedom (given or fitted).
    """

    name = "evt-copula"

    def __init__(
        self,
        tail_fraction: float = 0.05,
        copula: str = "empirical",
        df: float | None = None,
        min_exceedances: int = 50,
        exponential_tails: bool | list[bool] = False,
        joint_tail_fraction: float | None = None,
    ) -> None:
        self.tail_fraction = tail_fraction
        self.copula = copula
        self.df = df
        self.min_exceedances = min_exceedances
        self.exponential_tails = exponential_tails
        self.joint_tail_fraction = joint_tail_fraction

    def get_config(self) -> dict:
        joint = self.joint_tail_fraction
        return {
            "tail_fraction": self.tail_fraction,
            "copula": self.copula,
            "df": None if self.df is None else float(self.df),
            "min_exceedances": self.min_exceedances,
            "exponential_tails": self._margins().get_config()["exponential_tails"],
            "joint_tail_fraction": None if joint is None else float(joint),
        }

    def _margins(self) -> MarginalTransform:
        return MarginalTransform(
            tail_fraction=self.tail_fraction,
            min_exceedances=self.min_exceedances,
            exponential_tails=self.exponential_tails,
        )

    def _check_params(self) -> None:
        if self.copula not in _COPULAS:
            raise ValueError(f"copula must be one of {_COPULAS}, got {self.copula!r}")
        if self.df is not None and not (np.isfinite(float(self.df)) and float(self.df) > 0):
            raise ValueError(f"df must be a positive number or None, got {self.df!r}")
        check_positive_int(self.min_exceedances, "min_exceedances")
        f = self.joint_tail_fraction
        numeric = isinstance(f, int | float | np.floating) and not isinstance(f, bool)
        if f is not None and not (numeric and 0 < float(f) <= 0.5):
            raise ValueError(f"joint_tail_fraction must be None or a number in (0, 0.5], got {f!r}")

    # ---------------------------------------------------------------- fit
    def _fit(self, X, rng):
        self._check_params()
        n, d = X.shape
        self.margins_ = self._margins().fit(X)
        if self.copula in ("empirical", "spectral"):
            order = np.argsort(X, axis=0, kind="stable")
            ranks = np.empty((n, d), dtype=np.int64)
            np.put_along_axis(ranks, order, np.arange(1, n + 1)[:, None].repeat(d, 1), axis=0)
            self.ranks_ = ranks
            if self.copula == "spectral":
                self._fit_spectral()
        elif self.copula == "gaussian":
            Z = self.margins_.to_normal(X)
            self.corr_ = _nearest_correlation(np.corrcoef(Z, rowvar=False).reshape(d, d))
        else:
            tau = np.eye(d)
            for i in range(d):
                for j in range(i + 1, d):
                    tau[i, j] = tau[j, i] = stats.kendalltau(X[:, i], X[:, j]).statistic
            self.corr_ = _nearest_correlation(np.sin(0.5 * np.pi * tau))
            if self.df is not None:
                self.df_ = float(self.df)
            else:
                U = (stats.rankdata(X, axis=0)) / (n + 1)
                if n > 20000:  # the profile likelihood is smooth in df; a subsample is enough
                    U = U[rng.choice(n, 20000, replace=False)]
                res = optimize.minimize_scalar(
                    lambda ldf: -t_copula_loglik(U, self.corr_, float(np.exp(ldf))),
                    bounds=(np.log(0.5), np.log(200.0)),
                    method="bounded",
                    options={"xatol": 1e-3},
                )
                self.df_ = float(np.exp(res.x))

    def _fit_spectral(self) -> None:
        """Joint-tail rows, their angles and the threshold radius of the spectral copula (see the class)."""
        n, d = self.ranks_.shape
        f = self.joint_tail_fraction
        if f is None:
            k = min(max(20, round(min(0.1, 0.005 * d) * n)), n // 2)
        else:
            k = round(float(f) * n)
        if k < 20:
            raise ValueError(
                f"the spectral copula needs at least 20 joint-tail rows; joint_tail_fraction={f} of {n} rows "
                f"gives {k}: raise it or use copula='empirical'"
            )
        S = _pareto_scale((self.ranks_ - 0.5) / n)
        radius = np.abs(S).sum(1)
        order = np.argsort(radius, kind="stable")
        tail = order[n - k :]
        self.radius_ = float(radius[order[n - k - 1]])
        theta = S[tail] / radius[tail, None]
        # moment constraints: the model's P(S_j > s) = sum_tail r_u a theta_ij^+ / (n s) must equal 1 / (2 s)
        for part in (theta > 0, theta < 0):
            mass = np.where(part, np.abs(theta), 0.0).sum(0)
            scale = np.where(mass > 0, n / (2.0 * self.radius_ * np.maximum(mass, 1e-300)), 1.0)
            theta = np.where(part, theta * scale, theta)
        self.angles_ = theta
        self.tail_rows_ = np.zeros(n, dtype=bool)
        self.tail_rows_[tail] = True

    # ---------------------------------------------------------------- sample
    def _copula_logs(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(log U, log(1 - U)) of n copula draws, each accurate near its own 0."""
        d = self.n_features_in_
        if self.copula == "empirical":
            return self._empirical_logs(n, rng)[:2]
        if self.copula == "spectral":
            return self._spectral_logs(n, rng)
        L = np.linalg.cholesky(self.corr_)
        z = rng.standard_normal((n, d)) @ L.T
        if self.copula == "gaussian":
            return log_ndtr(z), log_ndtr(-z)
        t = z / np.sqrt(rng.chisquare(self.df_, size=(n, 1)) / self.df_)
        return stats.t.logcdf(t, self.df_), stats.t.logsf(t, self.df_)

    def _empirical_logs(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(log U, log(1 - U), rows) of n empirical-copula draws: training rows drawn uniformly, their ranks
        jittered uniformly inside each rank cell."""
        m, d = self.ranks_.shape
        rows = rng.integers(0, m, size=n)
        r = self.ranks_[rows]
        v = rng.random((n, d))
        v = np.where(v == 0.0, 0.5, v)  # v in (0, 1): keep both logs finite
        return np.log((r - v) / m), np.log((m - r + v) / m), rows

    def _spectral_logs(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(log U, log(1 - U)) of the spectral copula: a body row's jittered ranks, or a tail row's angle
        times a fresh Pareto radius."""
        log_p, log_q, rows = self._empirical_logs(n, rng)
        hit = self.tail_rows_[rows]
        if hit.any():
            tail_index = np.cumsum(self.tail_rows_) - 1  # row -> its position among the tail rows
            theta = self.angles_[tail_index[rows[hit]]]
            w = rng.random(int(hit.sum()))
            w = np.where(w == 0.0, 0.5, w)
            log_p[hit], log_q[hit] = _pareto_scale_logs(theta * (self.radius_ / w)[:, None])
        return log_p, log_q

    def _sample_clean(self, n, rng):
        log_p, log_q = self._copula_logs(n, rng)
        return self.margins_.quantile_from_logs(log_p, log_q)

    # ---------------------------------------------------------------- density
    def log_prob(self, y) -> np.ndarray:
        r"""Copula density times marginal densities, :math:`\log c(F(y)) + \sum_j \log f_j(y_j)`.

        Defined for the Gaussian and t copulas at sigma_T = 0 (the noised law is a convolution without a
        closed form; the empirical copula has no density).
        """
        y = self._check_rows(y)
        if self.copula in ("empirical", "spectral") or self.sigma_T_ > 0:
            raise NotImplementedError(
                "EVTCopulaPrior.log_prob needs copula='gaussian' or 't' and sigma_T = 0 "
                f"(got copula={self.copula!r}, sigma_T={self.sigma_T_:g})"
            )
        marg = self.margins_.logpdf(y).sum(1)
        d = self.n_features_in_
        L = np.linalg.cholesky(self.corr_)
        logdet = 2 * np.log(np.diag(L)).sum()
        if self.copula == "gaussian":
            z = self.margins_.to_normal(y)
            w = np.linalg.solve(L, z.T)
            return marg - 0.5 * logdet - 0.5 * ((w**2).sum(0) - (z**2).sum(1))
        log_f, log_s = np.empty_like(y), np.empty_like(y)
        for j, m in enumerate(self.margins_.marginals_):
            log_f[:, j], log_s[:, j] = m.log_cdf_sf(y[:, j])
        x = np.where(
            log_f < log_s, stats.t.ppf(np.exp(log_f), self.df_), stats.t.isf(np.exp(log_s), self.df_)
        )
        w = np.linalg.solve(L, x.T)
        df = self.df_
        joint = (
            gammaln((df + d) / 2)
            - gammaln(df / 2)
            - 0.5 * d * np.log(df * np.pi)
            - 0.5 * logdet
            - 0.5 * (df + d) * np.log1p((w**2).sum(0) / df)
        )
        return marg + joint - stats.t.logpdf(x, df).sum(1)

    # ---------------------------------------------------------------- state
    def _state(self):
        state = {f"margins.{k}": v for k, v in self.margins_.state_dict().items()}
        if self.copula in ("empirical", "spectral"):
            state["ranks"] = self.ranks_.copy()
        if self.copula == "spectral":
            state["angles"] = self.angles_.copy()
            state["tail_rows"] = self.tail_rows_.astype(np.int64)
            state["radius"] = np.asarray(self.radius_, dtype=np.float64)
        if self.copula in ("gaussian", "t"):
            state["corr"] = self.corr_.copy()
        if self.copula == "t":
            state["df"] = np.asarray(self.df_, dtype=np.float64)
        return state

    def _load_state(self, state):
        self._check_params()
        self.margins_ = MarginalTransform.from_state(
            self._margins().get_config(),
            {k[len("margins.") :]: v for k, v in state.items() if k.startswith("margins.")},
        )
        if self.copula in ("empirical", "spectral"):
            self.ranks_ = np.asarray(state["ranks"], dtype=np.int64).reshape(-1, self.n_features_in_)
        if self.copula == "spectral":
            self.angles_ = np.asarray(state["angles"], dtype=np.float64).reshape(-1, self.n_features_in_)
            self.tail_rows_ = np.asarray(state["tail_rows"]).reshape(-1).astype(bool)
            self.radius_ = float(state["radius"])
            if self.tail_rows_.size != self.ranks_.shape[0] or self.tail_rows_.sum() != self.angles_.shape[0]:
                raise ValueError("the saved spectral copula's tail rows and angles disagree")
        if self.copula in ("gaussian", "t"):
            self.corr_ = np.asarray(state["corr"], dtype=np.float64).reshape(self.n_features_in_, -1)
        if self.copula == "t":
            self.df_ = float(state["df"])
