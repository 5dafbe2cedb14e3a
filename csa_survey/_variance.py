"""The variance engine: influence functions (or replicates) -> covariance under the design.

This is the only module in csa_survey that computes a variance. Every estimator reduces
to either

* influence functions ``z`` (one row per respondent, one column per estimate), summed to
  PSU totals and turned into a covariance by :func:`taylor_vcov` (R's ``svyrecvar`` /
  ``onestage`` / ``onestrat`` for a single-stage design with ``nest=TRUE``), or
* replicate estimates ``theta_r`` turned into a covariance by :func:`replicate_vcov`
  (R's ``svrVar``).

It is written by hand because no maintained Python library computes design-based
covariances with R's conventions (lonely PSUs, fpc given as counts or fractions, domain
estimation that keeps the full design, replicate scales) and joint covariances across
many estimates at once. Everything is vectorised: PSU totals with ``np.bincount`` (or a
sparse indicator product), stratum centring with ``np.add.reduceat`` over PSUs that the
design keeps sorted by stratum. No Python loop runs over rows, PSUs or strata.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from csa_survey.exceptions import SurveyWarning

if TYPE_CHECKING:
    from csa_survey.design import ReplicateDesign, SurveyDesign

__all__ = [
    "grouped_psu_totals",
    "indexed_psu_totals",
    "psu_sums",
    "psu_totals",
    "replicate_group_sums_many",
    "replicate_vcov",
    "replicate_vcov_from_function",
    "taylor_vcov",
    "vcov_from_influence",
]


# ---------------------------------------------------------------------------- Taylor
def psu_totals(design: SurveyDesign, influence: np.ndarray) -> np.ndarray:
    """Sum row-level influence functions to PSU totals.

    Parameters
    ----------
    design : SurveyDesign
    influence : ndarray, shape (n,) or (n, k)
        Influence functions in the design's row order; rows outside the domain must be 0.
        If the design is calibrated, they are first replaced by their calibration
        residuals (as R's ``svyrecvar`` does with ``postStrata``).

    Returns
    -------
    ndarray, shape (n_psu, k)
    """
    z = np.asarray(influence, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    if design._calibration is not None:
        z = design._calibration.residualize(z)
    k = z.shape[1]
    out = np.empty((design._n_psu, k))
    for j in range(k):  # loop over estimates (columns), never over rows or PSUs
        out[:, j] = np.bincount(design._psu, weights=z[:, j], minlength=design._n_psu)
    return out


def grouped_psu_totals(
    design: SurveyDesign, values: np.ndarray, groups: np.ndarray, n_groups: int
) -> np.ndarray:
    """PSU totals of ``values`` split by group, without building an (n x G) matrix.

    Equivalent to ``psu_totals(design, values[:, None] * onehot(groups))``: the influence
    function of G domain estimates whose row contributions are ``values`` inside the
    row's own group and 0 elsewhere.

    Parameters
    ----------
    design : SurveyDesign
    values : ndarray, shape (n,)
        Row contributions (0 for rows that contribute nothing).
    groups : ndarray of int, shape (n,)
        Group code of each row in ``[0, n_groups)``, or -1 for rows in no group.
    n_groups : int

    Returns
    -------
    ndarray, shape (n_psu, n_groups)
    """
    if design._calibration is not None:
        keep = groups >= 0
        rows = np.flatnonzero(keep)
        z = sp.csr_matrix(
            (values[keep], (rows, groups[keep])), shape=(values.shape[0], n_groups)
        ).toarray()
        return psu_totals(design, z)
    keep = groups >= 0
    idx = design._psu[keep] * n_groups + groups[keep]
    flat = np.bincount(idx, weights=values[keep], minlength=design._n_psu * n_groups)
    return flat.reshape(design._n_psu, n_groups)


def psu_sums(design: SurveyDesign, values: np.ndarray) -> np.ndarray:
    """Sum a row vector within PSUs (no calibration applied): shape (n_psu,).

    Uses segment sums when each PSU's rows are contiguous, else ``np.bincount``.
    """
    if design._run_starts is not None:
        out = np.empty(design._n_psu)
        out[design._run_psu] = np.add.reduceat(values, design._run_starts)
        return out
    return np.bincount(design._psu, weights=values, minlength=design._n_psu)


def indexed_psu_totals(
    design: SurveyDesign, values: np.ndarray, index: np.ndarray, n_groups: int
) -> np.ndarray:
    """PSU x group totals from a precomputed flat index ``psu * n_groups + group``.

    The fast path of :func:`grouped_psu_totals` for an uncalibrated design: ``values`` must
    already be 0 for rows in no group, so no row needs to be dropped or copied.

    Returns
    -------
    ndarray, shape (n_psu, n_groups)
    """
    flat = np.bincount(index, weights=values, minlength=design._n_psu * n_groups)
    return flat.reshape(design._n_psu, n_groups)


def taylor_vcov(design: SurveyDesign, totals: np.ndarray) -> np.ndarray:
    """Covariance of estimates from PSU totals of their influence functions.

    Implements, for each stratum *h* with :math:`n_h` PSUs and sampling fraction
    :math:`f_h` (0 without fpc),

    .. math:: V_h = (1 - f_h)\\,\\frac{n_h}{n_h - 1} \\sum_i (z_{hi} - \\bar z_h)(z_{hi} - \\bar z_h)'

    and :math:`V = \\sum_h V_h`. Strata sampled in full (:math:`1 - f_h < 10^{-7}`)
    contribute 0. A stratum with one PSU contributes 0 under ``lonely_psu="remove"`` or
    ``"certainty"`` and :math:`(1 - f_h) z_h z_h'` (centred at zero, the grand mean of
    influence functions) under ``"adjust"``, exactly as R's ``onestrat``.

    Parameters
    ----------
    design : SurveyDesign
    totals : ndarray, shape (n_psu, k)
        From :func:`psu_totals` or :func:`grouped_psu_totals`.

    Returns
    -------
    ndarray, shape (k, k)
    """
    z = np.asarray(totals, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    n_h = design._n_h
    ps = design._psu_stratum
    stratum_sum = np.add.reduceat(z, design._stratum_start, axis=0)
    means = stratum_sum / n_h[:, None]
    lonely_h = n_h == 1
    if design.lonely_psu == "adjust":
        means[lonely_h] = 0.0
    centred = z - means[ps]
    f = np.ones(design._n_strata) if design._fpc_fraction is None else 1.0 - design._fpc_fraction
    with np.errstate(divide="ignore", invalid="ignore"):
        scale_h = np.where(n_h > 1, f * n_h / (n_h - 1.0), f)
    scale_h = np.where(f < 1e-7, 0.0, scale_h)
    if design.lonely_psu in ("remove", "certainty", "fail"):
        scale_h = np.where(lonely_h, 0.0, scale_h)
    weighted = centred * scale_h[ps][:, None]
    v = weighted.T @ centred
    return (v + v.T) / 2.0


# -------------------------------------------------------------------------- replicates
def replicate_group_sums_many(
    design: ReplicateDesign, values: np.ndarray, groups: np.ndarray, n_groups: int
) -> np.ndarray:
    """Replicate-weighted sums of several columns by group, in one pass over the weights.

    ``S[r, g, k] = sum_i w_ri values[i, k] [groups_i = g]`` for rows in the design's domain
    (``groups = -1``: in no group). Supplied replicate weights are multiplied block by
    block (the rows of one group at a time) with a dense matrix product, so the (n x R)
    weights are read once rather than once per column.

    Returns
    -------
    ndarray, shape (R, n_groups, K)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    k = values.shape[1]
    keep = (groups >= 0) & design._mask
    if design._mult is not None:
        n_psu = design._mult.shape[0]
        idx = design._psu_of_row[keep] * n_groups + groups[keep]
        wv = design._w[keep][:, None] * values[keep]
        t = np.column_stack(
            [np.bincount(idx, weights=wv[:, j], minlength=n_psu * n_groups) for j in range(k)]
        )
        return (design._mult.T @ t.reshape(n_psu, n_groups * k)).reshape(-1, n_groups, k)
    repw = design._repw
    out = np.zeros((repw.shape[1], n_groups, k))
    if n_groups == 1 and keep.all():
        out[:, 0, :] = repw.T @ values
        return out
    rows = np.flatnonzero(keep)
    order = rows[np.argsort(groups[rows], kind="stable")]
    bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
    for g in range(n_groups):  # one dense product per domain block
        sel = order[bounds[g] : bounds[g + 1]]
        if sel.size:
            out[:, g, :] = repw[sel].T @ values[sel]
    return out


def replicate_vcov(design: ReplicateDesign, thetas: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Covariance from replicate estimates, as R's ``svrVar``.

    Parameters
    ----------
    design : ReplicateDesign
        Supplies ``scale``, ``rscales`` and ``mse``.
    thetas : ndarray, shape (R, k)
        Estimates recomputed with each replicate's weights.
    theta : ndarray, shape (k,)
        Full-sample estimates (the centre when ``mse=True``).

    Returns
    -------
    ndarray, shape (k, k)

    Notes
    -----
    Replicates whose estimate is undefined (NaN, e.g. an empty domain in a replicate) are
    dropped, with a warning, from the (co)variances of the estimates they leave undefined
    (pairwise deletion). Variances then equal R's ``svyby``, which estimates domain by
    domain and drops NA replicates with ``na.action``.
    """
    t = np.asarray(thetas, dtype=float)
    if t.ndim == 1:
        t = t[:, None]
    rscales = design.rscales
    finite = np.isfinite(t)
    if finite.all():
        centre = np.asarray(theta, dtype=float) if design.mse else t[rscales > 0].mean(axis=0)
        dev = t - centre
    else:
        # pairwise deletion: each covariance uses the replicates defined for both estimates,
        # so each variance uses that estimate's own defined replicates (as R's svyby does
        # domain by domain)
        bad_rows = int((~finite.all(axis=1)).sum())
        warnings.warn(
            f"{bad_rows} replicates gave undefined estimates for some estimates and were "
            "discarded for those estimates.",
            SurveyWarning,
            stacklevel=3,
        )
        use = finite & (rscales[:, None] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(use, t, 0.0).sum(axis=0) / use.sum(axis=0)
        centre = np.asarray(theta, dtype=float) if design.mse else mean
        dev = np.where(finite, t - centre, 0.0)
    v = (dev * rscales[:, None]).T @ dev * design.scale
    return (v + v.T) / 2.0


def replicate_vcov_from_function(
    design: ReplicateDesign, estimator: Any, theta: np.ndarray
) -> np.ndarray:
    """Covariance for a statistic that must be refitted under each replicate's weights.

    Parameters
    ----------
    design : ReplicateDesign
    estimator : callable
        ``estimator(weights) -> ndarray (k,)``: the statistic computed with the given
        (n,) weight vector (zero outside the domain).
    theta : ndarray, shape (k,)
        Full-sample estimate.
    """
    repw = design.replicate_weights()
    thetas = np.vstack(
        [np.asarray(estimator(repw[:, r]), dtype=float) for r in range(repw.shape[1])]
    )
    return replicate_vcov(design, thetas, theta)


# ---------------------------------------------------------------------------- generic
def vcov_from_influence(
    design: SurveyDesign | ReplicateDesign,
    influence: np.ndarray,
    *,
    theta: np.ndarray | None = None,
    estimator: Any = None,
) -> np.ndarray:
    """Covariance of estimates under any design.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    influence : ndarray, shape (n, k)
        Influence functions (used for a Taylor design).
    theta, estimator : optional
        For a replicate design, the full-sample estimates and a function recomputing them
        from a weight vector (see :func:`replicate_vcov_from_function`).

    Returns
    -------
    ndarray, shape (k, k)
    """
    if design.is_replicate:
        if estimator is None or theta is None:
            raise TypeError("a replicate design needs theta= and estimator=")
        return replicate_vcov_from_function(design, estimator, theta)
    return taylor_vcov(design, psu_totals(design, influence))
