"""Tail calibration: in each column's tails, the method's output follows the prior's own 1-D transport.

The truncated method's reverse sampler moves the prior's extreme draws: measured in
``analyses/results/method_tails_diagnosis.md``, beyond the training rows the network pulls them inwards
(by 0.3-0.8 in model units where the exact posterior mean moves them by 0.02-0.05), while up to the 0.999
level the sampler leaves the prior's marginal tails as they are. The calibration replaces, in each
column's tails, the network's move by the exact 1-D one the prior implies.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..validation import check_array

__all__ = ["TailCalibration", "calibrate_model_tails"]


class TailCalibration:
    r"""Blend each column's tail values towards the prior's exact marginal transport from sigma_T to 0.

    The prior's draw at the truncation level is :math:`x_T = x + \sigma_T \varepsilon` with :math:`x` from
    the prior's clean law, so column :math:`j` of :math:`x_T` has the known margin
    :math:`F_{T,j}(y) = \mathbb{E}\,F_j(y - \sigma_T Z)` (:math:`F_j` the prior's GPD-tailed clean margin,
    :math:`Z \sim N(0, 1)`; Gauss-Hermite quadrature, summed on the log scale so that tail probabilities
    of 1e-300 stay exact). The monotone map :math:`\tau_j = F_j^{-1} \circ F_{T,j}` carries that margin onto
    the clean one exactly. Where the start value lies in a tail, the method's output :math:`x_{0,j}` (the
    reverse sampler's) becomes

    .. math::

        (1 - w)\,x_{0,j} + w\,\tau_j(x_{T,j}),\qquad
        w = \mathrm{clip}\big(\log(\zeta / p) / \log(\zeta / p_1), 0, 1\big),

    with :math:`p = \min(F_{T,j}, 1 - F_{T,j})(x_{T,j})` the start's tail probability: the sampler's output
    in the body (:math:`p \ge \zeta`), a blend between :math:`\zeta` and :math:`p_1`, and beyond
    :math:`p_1` the prior's own transport, so the output's marginal tails beyond the :math:`p_1` levels are
    the prior's clean margins exactly (they do not depend on the denoiser there). The dependence of the
    tail rows is then that of the start (the prior's copula plus noise; in the far tail the start and the
    output have the same ranks anyway: the exact sampler moves them by a few hundredths). Deterministic:
    no draws, nothing fitted beyond the noised thresholds.

    Parameters
    ----------
    zeta : float, default 0.05
        Tail probability of the start where the blend begins.
    full : float, default 0.01
        Tail probability beyond which the prior's transport is taken as it is.
    n_nodes : int, default 48
        Gauss-Hermite nodes of the noised margin.

    Attributes
    ----------
    target_ : MarginalTransform
        The prior's clean margins.
    sigma_T_ : float
    active_ : ndarray of bool, shape (d,)
        Columns that are calibrated.
    thresholds_ : ndarray of shape (d, 2)
        Per column, the start values with noised tail probability ``zeta`` (lower, upper).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail_diffusion.priors.marginals import MarginalTransform
    >>> rng = np.random.default_rng(0)
    >>> target = MarginalTransform().fit(rng.standard_t(3, size=(20_000, 1)))
    >>> x_T = target.marginals_[0].ppf(rng.random((50_000, 1))) + 0.5 * rng.standard_normal((50_000, 1))
    >>> x_0 = 0.8 * x_T  # a sampler that pulls the tails in
    >>> y = TailCalibration().fit(target, 0.5).transform(x_0, x_T)
    >>> float(np.round(np.quantile(y, 0.999) / target.marginals_[0].ppf(np.array([0.999]))[0], 1))
    1.0
    """

    def __init__(self, zeta: float = 0.05, full: float = 0.01, n_nodes: int = 48):
        self.zeta = zeta
        self.full = full
        self.n_nodes = n_nodes

    def get_config(self) -> dict:
        """JSON-able hyperparameters."""
        return {"zeta": float(self.zeta), "full": float(self.full), "n_nodes": int(self.n_nodes)}

    def fit(self, target, sigma_T: float, active=None) -> TailCalibration:
        """Set the prior's clean margins and the truncation level; compute the noised thresholds.

        Parameters
        ----------
        target : MarginalTransform
            The prior's fitted clean margins (one GPD-tailed marginal per column).
        sigma_T : float
            The level the prior's draws are noised at (> 0).
        active : array of bool of shape (d,), optional
            Columns to calibrate (default all; e.g. not the discrete channels).

        Returns
        -------
        self
        """
        if not (0.0 < self.full < self.zeta < 0.5):
            raise ValueError(f"need 0 < full < zeta < 0.5, got zeta={self.zeta!r}, full={self.full!r}")
        if not (np.isfinite(sigma_T) and sigma_T > 0):
            raise ValueError(f"sigma_T must be a positive number, got {sigma_T!r}")
        d = len(target.marginals_)
        self.target_, self.sigma_T_, self.n_features_in_ = target, float(sigma_T), d
        self.active_ = np.ones(d, bool) if active is None else np.asarray(active, bool).reshape(d)
        z, w = np.polynomial.hermite_e.hermegauss(int(self.n_nodes))
        self._nodes, self._log_w = z, np.log(w / w.sum())
        self.thresholds_ = np.zeros((d, 2))
        for j in range(d):
            m = target.marginals_[j]
            lo, hi = m.ppf(np.array([self.zeta, 1.0 - self.zeta]))
            span = 10.0 * self.sigma_T_ + abs(hi - lo)
            for side, (a, b) in enumerate(((lo - span, hi), (lo, hi + span))):
                grid = np.linspace(a, b, 4001)
                lf, ls = self._noised_logs(grid, j)
                if side == 0:  # log F_T increases along the grid
                    self.thresholds_[j, 0] = np.interp(np.log(self.zeta), lf, grid)
                else:  # log S_T decreases
                    self.thresholds_[j, 1] = np.interp(np.log(self.zeta), ls[::-1], grid[::-1])
        return self

    def _noised_logs(self, y: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(log F_T, log S_T) of column j at start values ``y`` (Gauss-Hermite on the log scale)."""
        m = self.target_.marginals_[j]
        pts = y[:, None] - self.sigma_T_ * self._nodes[None, :]
        lf, ls = m.log_cdf_sf(pts.ravel())
        lf, ls = lf.reshape(pts.shape), ls.reshape(pts.shape)
        return special.logsumexp(lf + self._log_w, axis=1), special.logsumexp(ls + self._log_w, axis=1)

    def transform(self, X, X_T) -> np.ndarray:
        """The calibrated output of the sampler.

        Parameters
        ----------
        X : array_like, shape (n, d)
            The reverse sampler's output rows (model scale; non-finite entries are left as they are).
        X_T : array_like, shape (n, d)
            The start rows they came from (the prior's draws at sigma_T).

        Returns
        -------
        ndarray, shape (n, d)
            ``X`` with each calibrated column's tail values blended towards the prior's transport of ``X_T``.
        """
        if not hasattr(self, "thresholds_"):
            raise RuntimeError("this TailCalibration is not fitted yet; call fit(target, sigma_T) first")
        X = check_array(X, "X", dim=self.n_features_in_, finite=False)
        X_T = check_array(X_T, "X_T", dim=self.n_features_in_)
        out = X.copy()
        log_z, log_span = np.log(self.zeta), np.log(self.zeta / self.full)
        for j in np.flatnonzero(self.active_):
            lo, hi = self.thresholds_[j]
            sel = ((X_T[:, j] < lo) | (X_T[:, j] > hi)) & np.isfinite(X[:, j])
            if not sel.any():
                continue
            lf, ls = self._noised_logs(X_T[sel, j], int(j))
            moved = self.target_.marginals_[j].quantile_from_logs(lf, ls)
            w = np.clip((log_z - np.minimum(lf, ls)) / log_span, 0.0, 1.0)
            out[sel, j] = np.where(np.isfinite(moved), (1.0 - w) * X[sel, j] + w * moved, X[sel, j])
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """The fitted state that is not the target's: the calibrated columns (``fit`` recomputes the rest)."""
        return {"active": self.active_.astype(np.int8)}

    @classmethod
    def from_state(cls, config: dict, state: dict, target, sigma_T: float) -> TailCalibration:
        """Rebuild from :meth:`get_config`, :meth:`state_dict`, the prior's margins and sigma_T.

        Parameters
        ----------
        config, state : dict
            As saved.
        target : MarginalTransform
            The (loaded) prior's margins.
        sigma_T : float
            The model's truncation level.

        Returns
        -------
        TailCalibration
        """
        return cls(**config).fit(target, sigma_T, np.asarray(state["active"]).astype(bool))


def calibrate_model_tails(model) -> TailCalibration | None:
    """The tail calibration of a fitted truncated-diffusion model: its prior's margins at its sigma_T.

    Parameters
    ----------
    model : TruncatedDiffusion
        Fitted (prior, sigma_T, encoder).

    Returns
    -------
    TailCalibration, or None when the prior has no GPD margins or does not add exact Gaussian noise (the
    Gaussian and empirical starts, the flow priors) or no channel is continuous.
    """
    prior = model.prior_
    margins = getattr(prior, "margins_", None)
    if margins is None or not getattr(prior, "adds_noise", False):
        return None
    enc = model.encoder_
    active = [not (disc or side) for disc, side in zip(enc.discrete_channels_, enc.block_sides_, strict=True)]
    if not any(active):
        return None
    return TailCalibration().fit(margins, float(model.sigma_T_), active)
