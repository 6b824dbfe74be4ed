"""Declustering of dependent exceedances: runs declustering, the extremal index, and GPD fits to cluster peaks."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import DataError
from ..validation import check_positive_int, check_sample
from . import evt

__all__ = ["Clusters", "DeclusteredFit", "decluster", "extremal_index", "fit_gpd_declustered"]


def _exceedance_times(x, threshold, name: str):
    x = check_sample(x, name, min_size=2)
    u = float(threshold)
    if not np.isfinite(u):
        raise DataError(f"threshold must be a finite number, got {threshold!r}")
    s = np.nonzero(x > u)[0]
    if s.size < 2:
        raise DataError(
            f"{name}: {s.size} observation(s) exceed the threshold {u:g}; at least 2 are needed (lower it)"
        )
    return x, u, s


def extremal_index(x, threshold: float, *, name: str = "x") -> float:
    r"""Ferro-Segers intervals estimator of the extremal index theta in (0, 1].

    theta is the reciprocal of the mean cluster size of exceedances in the limit (theta = 1: no
    clustering, as for i.i.d. data).  From the N exceedance times S_1 < ... < S_N and the interexceedance
    times T_i = S_{i+1} - S_i,

    .. math:: \hat\theta = \min\Bigl(1, \frac{2 (\sum T_i)^2}{(N-1) \sum T_i^2}\Bigr) \text{ if } \max T_i \le 2,
              \quad \min\Bigl(1, \frac{2 (\sum (T_i - 1))^2}{(N-1) \sum (T_i-1)(T_i-2)}\Bigr) \text{ otherwise}

    (the bias-corrected form).  Equal to R's ``evd::exi(x, u, r = 0)``.  Needs no run length.

    Parameters
    ----------
    x : array-like, shape (n,)
        Observations in time order (equally spaced).
    threshold : float
        u; exceedances are x > u (at least 2).
    name : str
        Name used in messages.

    Returns
    -------
    float

    References
    ----------
    Ferro, C. A. T. and Segers, J. (2003). Inference for clusters of extreme values. JRSS B 65, 545-556.
    """
    _, _, s = _exceedance_times(x, threshold, name)
    t = np.diff(s).astype(np.float64)
    nm1 = t.size
    if t.max() <= 2:
        theta = 2.0 * t.sum() ** 2 / (nm1 * (t * t).sum())
    else:
        den = ((t - 1.0) * (t - 2.0)).sum()
        theta = 2.0 * (t - 1.0).sum() ** 2 / (nm1 * den) if den > 0 else 1.0
    return float(min(1.0, theta))


@dataclass(frozen=True)
class Clusters:
    """Clusters of exceedances from :func:`decluster`.

    Attributes
    ----------
    threshold : float
    run_length : int
        r: a cluster ends after r consecutive non-exceedances (0 from the automatic rule: no clustering).
    peaks : ndarray, shape (n_clusters,)
        The largest value of each cluster, in time order.
    peak_index : ndarray of int
        Positions of the peaks in the data.
    cluster_id : ndarray of int, shape (n_exceedances,)
        Cluster of each exceedance (0, 1, ...).
    exceedance_index : ndarray of int, shape (n_exceedances,)
        Positions of the exceedances.
    n : int
        Number of observations.
    extremal_index_runs : float
        n_clusters / n_exceedances, the runs estimator of theta.
    extremal_index_intervals : float
        The Ferro-Segers estimate (:func:`extremal_index`).
    run_length_rule : str
        ``"user"`` or ``"intervals"`` (chosen from the Ferro-Segers estimate).
    """

    threshold: float
    run_length: int
    peaks: np.ndarray
    peak_index: np.ndarray
    cluster_id: np.ndarray
    exceedance_index: np.ndarray
    n: int
    extremal_index_runs: float
    extremal_index_intervals: float
    run_length_rule: str

    @property
    def n_clusters(self) -> int:
        return int(self.peaks.size)

    @property
    def n_exceedances(self) -> int:
        return int(self.exceedance_index.size)


def decluster(x, threshold: float, run_length: int | None = None, *, name: str = "x") -> Clusters:
    """Runs declustering: exceedances separated by fewer than ``run_length`` non-exceedances form one cluster.

    With run length r, a new cluster starts at an exceedance when at least r consecutive observations at or
    below the threshold precede it (Smith 1989; Coles 2001, section 5.3.2; R's ``evd::clusters(x, u, r)``
    with the same convention).  ``run_length=None`` uses the automatic rule of Ferro and Segers (2003,
    section 4): with theta the intervals estimate and N exceedances, the C - 1 largest interexceedance times,
    C = floor(theta N) + 1, separate clusters (ties at the cut-off are kept within clusters); the implied r
    is reported.

    Parameters
    ----------
    x : array-like, shape (n,)
        Observations in time order (equally spaced, e.g. daily).
    threshold : float
    run_length : int, optional
        r >= 1.  r = 1 makes every run of consecutive exceedances one cluster.
    name : str
        Name used in messages.

    Returns
    -------
    Clusters
    """
    x, u, s = _exceedance_times(x, threshold, name)
    t = np.diff(s)
    theta_int = extremal_index(x, u, name=name)
    if run_length is None:
        # Ferro & Segers (2003, section 4): the C - 1 largest interexceedance times separate clusters,
        # C = floor(theta N) + 1, reduced while tied so that T_(C-1) > T_(C).  That is runs declustering
        # with r = T_(C), the C-th largest time (r = 0 when C = N: every exceedance is its own cluster).
        c = min(int(np.floor(theta_int * s.size)) + 1, s.size)
        t_desc = np.sort(t)[::-1]
        run = int(t_desc[c - 1]) if c <= t.size else 0
        rule = "intervals"
    else:
        run = check_positive_int(run_length, "run_length")
        rule = "user"
    sep = t > run  # T - 1 >= r observations at or below u lie between the two exceedances
    cid = np.concatenate([[0], np.cumsum(sep)])
    ncl = int(cid[-1]) + 1
    xs = x[s]
    # peak of each cluster: the first position of the cluster maximum
    order = np.lexsort((s, -xs, cid))
    first = np.concatenate([[True], cid[order][1:] != cid[order][:-1]])
    pk = s[order[first]]
    return Clusters(
        threshold=u,
        run_length=int(run),
        peaks=x[pk],
        peak_index=pk,
        cluster_id=cid,
        exceedance_index=s,
        n=int(x.size),
        extremal_index_runs=ncl / s.size,
        extremal_index_intervals=theta_int,
        run_length_rule=rule,
    )


@dataclass(frozen=True)
class DeclusteredFit:
    """GPD fitted to cluster peaks, with return levels that account for clustering.

    ``gpd`` is the :class:`~heavytail_diffusion.diagnostics.evt.GPDFit` of the cluster peaks whose
    ``n_total`` is the number of observations, so ``gpd.rate`` = n_clusters / n = theta zeta_u (theta the
    runs estimate of the extremal index, zeta_u the exceedance probability): the m-observation return level
    u + sigma / xi ((m zeta_u theta)^xi - 1) of Coles (2001, eq. 5.5) is ``return_level(period)``.
    """

    gpd: evt.GPDFit
    clusters: Clusters

    @property
    def extremal_index(self) -> float:
        return self.clusters.extremal_index_runs

    def return_level(self, period, *, method: str = "profile", level: float = 0.95, obs_per_block=None):
        """Return level(s) for ``period`` observations (or blocks with ``obs_per_block``); see
        :func:`heavytail_diffusion.diagnostics.evt.return_level`.

        Parameters
        ----------
        period : float or array-like
            Return period(s), > 1, in observations (in blocks when ``obs_per_block`` is given).
        method : {"profile", "delta", "both"}, default "profile"
            Confidence interval method (the profile uses the cluster peaks as data).
        level : float, default 0.95
            Confidence level in (0, 1).
        obs_per_block : float, optional
            Observations per block (year).

        Returns
        -------
        ReturnLevel or DataFrame
            As :func:`~heavytail_diffusion.diagnostics.evt.return_level`: a ReturnLevel for a scalar period
            and one method, else a DataFrame (period, value, ci_low, ci_high, method, level).
        """
        return evt.return_level(
            self.gpd,
            period,
            data=self.clusters.peaks,
            method=method,
            level=level,
            obs_per_block=obs_per_block,
        )


def fit_gpd_declustered(
    x, threshold: float, run_length: int | None = None, *, name: str = "x"
) -> DeclusteredFit:
    """Decluster by runs (:func:`decluster`) and fit the GPD to the cluster peaks (Coles 2001, section 5.3.2).

    Parameters
    ----------
    x : array-like, shape (n,)
        Observations in time order.
    threshold : float
    run_length : int, optional
        None: the Ferro-Segers automatic choice.
    name : str

    Returns
    -------
    DeclusteredFit
    """
    cl = decluster(x, threshold, run_length, name=name)
    if cl.n_clusters < evt.MIN_EXCEEDANCES:
        raise DataError(
            f"{name}: only {cl.n_clusters} clusters above {threshold:g} (run length {cl.run_length}); at least "
            f"{evt.MIN_EXCEEDANCES} are needed for a GPD fit; lower the threshold or the run length"
        )
    f = evt.fit_gpd(np.concatenate([[cl.threshold], cl.peaks]), cl.threshold)
    return DeclusteredFit(gpd=replace(f, n_total=cl.n), clusters=cl)
