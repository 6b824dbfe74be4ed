"""Tail calibration: in each column's tails, the method's output takes the prior's own marginal values.

The truncated method's reverse sampler moves the prior's extreme draws: measured in
``analyses/results/method_tails_diagnosis.md``, beyond the training rows the network pulls them inwards
(by 0.3-0.8 in model units where the exact posterior mean moves them by 0.02-0.05). Two calibrations put
the prior's GPD tails back into the output, column by column:

* :class:`RankTailCoupling` (the default of ``TruncatedDiffusion``): the output's tail order statistics
  become the prior's clean draws' order statistics, rank for rank, so the output keeps the sampler's ranks
  (its dependence) and the body, and its marginal tails are exactly the prior's draws;
* :class:`TailCalibration`: the prior's exact 1-D transport of each start value from sigma_T to 0.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..validation import check_array

__all__ = ["RankTailCoupling", "TailCalibration", "calibrate_model_tails"]


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

    #: ``transform`` takes the start rows at sigma_T (not the prior's clean rows)
    uses_clean = False

    def __init__(self, zeta: float = 0.05, full: float = 0.01, n_nodes: int = 48):
        self.zeta = zeta
        self.full = full
        self.n_nodes = n_nodes

    def get_config(self) -> dict:
        """JSON-able hyperparameters."""
        return {"kind": "transport", "zeta": float(self.zeta), "full": float(self.full), "n_nodes": int(self.n_nodes)}

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
        _check_levels(self.zeta, self.full)
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
        config = {k: v for k, v in config.items() if k != "kind"}
        return cls(**config).fit(target, sigma_T, np.asarray(state["active"]).astype(bool))


def _check_levels(zeta: float, full: float) -> None:
    if not (0.0 < full < zeta < 0.5):
        raise ValueError(f"need 0 < full < zeta < 0.5, got zeta={zeta!r}, full={full!r}")


class RankTailCoupling:
    r"""Give each column's tail ranks of the sampler's output the prior's own clean values, rank for rank.

    A draw of the truncated method starts from :math:`x_T = x + \sigma_T \varepsilon`, with :math:`x` a
    clean draw of the prior (GPD-tailed margins). For each calibrated column, sort the :math:`m` finite
    output values, :math:`a_{(1)} \le \dots \le a_{(m)}`, and the same rows' clean prior values,
    :math:`b_{(1)} \le \dots \le b_{(m)}`; at rank :math:`i`, with plotting level
    :math:`u_i = (i - 1/2) / m` and tail probability :math:`p_i = \min(u_i, 1 - u_i)`, the output value becomes

    .. math::

        v_{(i)} = (1 - w_i)\,a_{(i)} + w_i\,b_{(i)},\qquad
        w_i = \mathrm{clip}\big(\log(\zeta / p_i) / \log(\zeta / \phi), 0, 1\big),

    and the sorted :math:`v` are given back to the rows in the output's own rank order. So

    * the output's ranks (the dependence the sampler produced, body and joint tails) are unchanged;
    * in the body (:math:`p_i \ge \zeta`) every value is the sampler's;
    * beyond the :math:`\phi` levels (``full``) the output's order statistics are exactly the prior's clean draws' (the
      same rows': with the same seed and size, the output's marginal tail quantiles equal those of
      ``prior.sample_clean(n, seed)``), whatever the network does where it has seen no data.

    A column may be coupled in one tail only (``tails``): a column with an atom at its lower bound (exact
    zeros) is a channel whose lower ranks are the atom block, so only its upper tail is coupled (and the
    mirror for an atom at an upper bound, e.g. a policy limit). There the levels are measured on the whole
    column but limited to half of its continuous share :math:`1 - s` (``atom_share`` s):
    :math:`\zeta_j = \min(\zeta, (1 - s) / 2)` and :math:`\phi_j = \phi\,\zeta_j / \zeta`, so that the
    blend begins inside the continuous part and never moves a row into or out of the atom.

    Nothing is fitted and nothing is drawn. A batch of :math:`m` rows has tail ranks only when
    :math:`1 / (2m) < \zeta`, so very small draws (:math:`m < 10` at the defaults) are the sampler's as they
    are; chunked draws are coupled chunk by chunk (each chunk's own prior draws).

    Parameters
    ----------
    zeta : float, default 0.05
        Tail probability where the blend begins.
    full : float, default 0.01
        Tail probability beyond which the prior's values are taken as they are.

    Attributes
    ----------
    active_ : ndarray of bool, shape (d,)
        Columns that are coupled (in at least one tail).
    lower_, upper_ : ndarray of bool, shape (d,)
        Columns whose lower / upper tail is coupled.
    zeta_, full_ : ndarray, shape (d,)
        Each column's levels (``zeta`` and ``full`` unless an atom share limits them).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> clean = rng.standard_t(3, size=(10_000, 1))
    >>> out = 0.8 * clean + 0.1 * rng.standard_normal((10_000, 1))  # a sampler that pulls the tails in
    >>> y = RankTailCoupling().fit(1).transform(out, clean)
    >>> bool(np.quantile(y, 0.999) == np.quantile(clean, 0.999))
    True
    """

    #: ``transform`` takes the prior's clean rows (not the start rows at sigma_T)
    uses_clean = True

    def __init__(self, zeta: float = 0.05, full: float = 0.01):
        self.zeta = zeta
        self.full = full

    def get_config(self) -> dict:
        """JSON-able hyperparameters."""
        return {"kind": "rank", "zeta": float(self.zeta), "full": float(self.full)}

    def fit(self, n_features: int, active=None, tails=None, atom_share=None) -> RankTailCoupling:
        """Set the number of columns and the tails to couple.

        Parameters
        ----------
        n_features : int
            Columns of the rows to couple (>= 1).
        active : array of bool of shape (n_features,), optional
            Columns to couple (default all; e.g. not the discrete channels).
        tails : sequence of {"both", "lower", "upper"} of length n_features, optional
            Which tails of each active column to couple (default both).
        atom_share : array of float in [0, 1) of shape (n_features,), optional
            Share of each column's rows in an atom block at its uncoupled end (default 0); limits the
            column's levels to half of the rest (see above).

        Returns
        -------
        self
        """
        _check_levels(self.zeta, self.full)
        d = int(n_features)
        if d < 1:
            raise ValueError(f"n_features must be >= 1, got {n_features!r}")
        active = np.ones(d, bool) if active is None else np.asarray(active, bool).reshape(d)
        tails = ["both"] * d if tails is None else list(tails)
        if len(tails) != d:
            raise ValueError(f"tails has {len(tails)} entries for {d} columns")
        bad = sorted({str(t) for t in tails} - {"both", "lower", "upper"})
        if bad:
            raise ValueError(f"tails entries must be 'both', 'lower' or 'upper', got {bad}")
        share = np.zeros(d) if atom_share is None else np.asarray(atom_share, dtype=np.float64).reshape(d)
        if not np.all((share >= 0.0) & (share < 1.0)):
            raise ValueError(f"atom_share entries must lie in [0, 1), got {share.tolist()}")
        self.n_features_in_ = d
        self.zeta_ = np.minimum(self.zeta, (1.0 - share) / 2.0)
        self.full_ = self.full * self.zeta_ / self.zeta
        self.lower_ = active & np.isin(tails, ("both", "lower"))
        self.upper_ = active & np.isin(tails, ("both", "upper"))
        self.active_ = self.lower_ | self.upper_
        return self

    def weights(self, m: int, column: int | None = None) -> np.ndarray:
        """The blend weights :math:`w_i` of ranks 1..m.

        Parameters
        ----------
        m : int
            Number of ranked values.
        column : int, optional
            A fitted column: its own levels, and weights 0 in a tail it does not couple (default: ``zeta``
            and ``full``, both tails).

        Returns
        -------
        ndarray, shape (m,)
            0 in the body, rising to 1 beyond the ``full`` levels.
        """
        u = (np.arange(m) + 0.5) / m
        p = np.minimum(u, 1.0 - u)
        if column is None:
            return np.clip(np.log(self.zeta / p) / np.log(self.zeta / self.full), 0.0, 1.0)
        zeta, full = self.zeta_[column], self.full_[column]
        w = np.clip(np.log(zeta / p) / np.log(zeta / full), 0.0, 1.0)
        w[(u < 0.5) & ~self.lower_[column]] = 0.0
        w[(u > 0.5) & ~self.upper_[column]] = 0.0
        return w

    def transform(self, X, X_clean) -> np.ndarray:
        """The coupled output of the sampler.

        Parameters
        ----------
        X : array_like, shape (n, d)
            The reverse sampler's output rows (model scale; non-finite entries are left as they are and not
            ranked).
        X_clean : array_like, shape (n, d)
            The prior's clean rows the starts were made from (row i of ``X`` started at
            ``X_clean[i] + sigma_T * eps_i``).

        Returns
        -------
        ndarray, shape (n, d)
        """
        if not hasattr(self, "active_"):
            raise RuntimeError("this RankTailCoupling is not fitted yet; call fit(n_features) first")
        X = check_array(X, "X", dim=self.n_features_in_, finite=False)
        X_clean = check_array(X_clean, "X_clean", dim=self.n_features_in_)
        if X_clean.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but X_clean has {X_clean.shape[0]}")
        out = X.copy()
        for j in np.flatnonzero(self.active_):
            rows = np.flatnonzero(np.isfinite(X[:, j]))
            w = self.weights(len(rows), column=j)
            if not w.any():
                continue
            order = rows[np.argsort(X[rows, j], kind="stable")]
            blend = (1.0 - w) * X[order, j] + w * np.sort(X_clean[rows, j])
            out[order, j] = np.sort(blend)  # a blend of two sorted sequences; sorting keeps the ranks exactly
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """The fitted state: the coupled columns and tails."""
        state = {k: getattr(self, f"{k}_").astype(np.int8) for k in ("active", "lower", "upper")}
        return {**state, "zeta": self.zeta_.copy()}

    @classmethod
    def from_state(cls, config: dict, state: dict) -> RankTailCoupling:
        """Rebuild from :meth:`get_config` and :meth:`state_dict` (states without tails: both tails, the
        global levels)."""
        active = np.asarray(state["active"]).astype(bool)
        tails = None
        if "lower" in state:
            lower, upper = (np.asarray(state[k]).astype(bool) for k in ("lower", "upper"))
            tails = np.where(lower & upper, "both", np.where(lower, "lower", "upper"))
        out = cls(zeta=config["zeta"], full=config["full"]).fit(len(active), active, tails)
        if "zeta" in state:  # the levels as fitted (exactly; not re-derived from a share)
            out.zeta_ = np.asarray(state["zeta"], dtype=np.float64).reshape(len(active))
            out.full_ = out.full * out.zeta_ / out.zeta
        return out


def load_calibration(config: dict, state: dict, target, sigma_T: float):
    """A saved calibration (either kind; models saved before the kinds hold a :class:`TailCalibration`).

    Parameters
    ----------
    config, state : dict
        As saved (``get_config()``, ``state_dict()``).
    target : MarginalTransform or None
        The loaded prior's margins (used by the transport kind only).
    sigma_T : float
        The model's truncation level.

    Returns
    -------
    RankTailCoupling or TailCalibration
    """
    if config.get("kind") == "rank":
        return RankTailCoupling.from_state(config, state)
    return TailCalibration.from_state(config, state, target, sigma_T)


def calibrate_model_tails(model, kind: str = "rank"):
    """The tail calibration of a fitted truncated-diffusion model: its prior's margins at its sigma_T.

    Parameters
    ----------
    model : TruncatedDiffusion
        Fitted (prior, sigma_T, encoder).
    kind : {"rank", "transport"}, default "rank"
        :class:`RankTailCoupling` (the model's default) or :class:`TailCalibration`.

    Returns
    -------
    RankTailCoupling or TailCalibration, or None when the prior has no GPD margins or does not add exact Gaussian noise (the
    Gaussian and empirical starts, the flow priors) or no channel is continuous. Discrete channels are never
    calibrated; a channel with an atom block beside one end (exact zeros, a cap) is coupled at its other end
    by the rank kind, and left out by the transport kind.
    """
    prior = model.prior_
    margins = getattr(prior, "margins_", None)
    if margins is None or not getattr(prior, "adds_noise", False):
        return None
    enc = model.encoder_
    if kind == "rank":  # a channel with an atom block beside one end is coupled at its other end only
        active = [not disc for disc in enc.discrete_channels_]
        far = {None: "both", "lower": "upper", "upper": "lower"}
        tails = [far[s] for s in enc.block_sides_]
        return RankTailCoupling().fit(len(active), active, tails, enc.block_share_) if any(active) else None
    active = [not (disc or side) for disc, side in zip(enc.discrete_channels_, enc.block_sides_, strict=True)]
    if not any(active):
        return None
    if kind == "transport":
        return TailCalibration().fit(margins, float(model.sigma_T_), active)
    raise ValueError(f"kind must be 'rank' or 'transport', got {kind!r}")
