"""Design-weighted Kaplan–Meier curves: age at first exposure, with honest uncertainty.

:func:`survival` estimates S(t), the share of the population who have *not yet* had the
event by time t (inclusive), from right-censored data: for a youth survey, the share of
young people who had not yet seen pornography by age t, where those who have never seen
it are censored at their current age. "Exposed by age t" is 1 − S(t)
(``cumulative=True``). :func:`survival_quantiles` gives the median (or any quantile) with
a test-inversion interval.

The point estimates are R's ``svykm()`` product-limit estimates. Standard errors come from
the influence functions of the weighted estimator, summed by the variance engine
(:mod:`csa_survey._variance`) under the design, or from refitting the curve with each
replicate's weights on a replicate design. The influence functions are derived below; they
are written by hand because no Python library linearises a weighted Kaplan–Meier curve
under a complex design.

Derivation
----------
Let :math:`t_1 < \\dots < t_K` be the distinct event times, :math:`D_k = \\sum_i w_i
dN_i(t_k)` the weighted number of events at :math:`t_k` and :math:`Y_k = \\sum_i w_i
Y_i(t_k)` the weighted number at risk (:math:`Y_i(t) = 1[T_i \\ge t]`). Both are
population totals estimated by the design. With :math:`h_k = D_k / Y_k`,

* product-limit (Kaplan–Meier): :math:`\\log S(t) = \\sum_{t_k \\le t} \\log(1 - h_k)`, so
  by the delta method, :math:`d\\log(1 - D/Y) = -(dD - h\\,dY) / (Y - D)` and the
  influence function of :math:`\\log S(t)` for row *i* is

  .. math:: z_i(t) = -w_i \\sum_{t_k \\le t} \\frac{dN_i(t_k) - Y_i(t_k)\\,h_k}{Y_k - D_k};

* Nelson–Aalen (R's ``svykm(se=TRUE)``): :math:`\\log S(t) = -\\sum_{t_k \\le t} h_k` and
  the same expression with :math:`Y_k` in place of :math:`Y_k - D_k`.

The influence function of :math:`S(t)` is :math:`S(t)\\,z_i(t)`; where the product-limit
curve reaches 0 (everyone left at risk had the event) it is 0. With equal weights and no
clustering the cross-products between event times cancel and the with-replacement
variance :math:`n/(n-1) \\sum_i z_i^2` equals :math:`n/(n-1)` times Greenwood's
:math:`\\sum_k D_k / (Y_k (Y_k - D_k))` exactly (``tests/test_survival.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from csa_survey import _variance
from csa_survey.design import ReplicateDesign, SurveyDesign
from csa_survey.estimators import _check_columns, _domains
from csa_survey.exceptions import ColumnError, InvalidValueError, describe_rows
from csa_survey.results import Estimate

__all__ = ["SURVIVAL_CI_METHODS", "survival", "survival_quantiles"]

Design = SurveyDesign | ReplicateDesign
CIMethod = Literal["log", "log-log", "logit"]
#: interval scales for S(t)
SURVIVAL_CI_METHODS = ("log", "log-log", "logit")
_ESTIMATORS = ("kaplan-meier", "nelson-aalen")
_CHUNK = 4_000_000  # influence-matrix elements built at once (memory bound)


# ----------------------------------------------------------------------------- inputs
def _time_event(design: Design, time: str, event: str) -> tuple[np.ndarray, np.ndarray]:
    """Float times and 0/1 events; NaN time (and event 0) where either is missing."""
    data = design.data
    ts, es = data[time], data[event]
    if not (pd.api.types.is_numeric_dtype(ts.dtype) and not pd.api.types.is_bool_dtype(ts.dtype)):
        raise InvalidValueError(
            f"time column {time!r} must be numeric (dtype {ts.dtype}); convert it explicitly "
            "(e.g. pd.to_numeric) — csa_survey does not coerce silently."
        )
    t = ts.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(t).any():
        rows = data.index[np.isinf(t)]
        raise InvalidValueError(
            f"time column {time!r} has infinite values in {describe_rows(rows)}."
        )
    if pd.api.types.is_bool_dtype(es.dtype) or pd.api.types.is_numeric_dtype(es.dtype):
        e = es.to_numpy(dtype=float, na_value=np.nan)
    else:
        raise InvalidValueError(
            f"event column {event!r} must be 0/1 or boolean (dtype {es.dtype}); 1 = the event "
            "happened at that time, 0 = censored."
        )
    bad = ~np.isnan(e) & (e != 0) & (e != 1)
    if bad.any():
        rows = data.index[bad]
        raise InvalidValueError(
            f"event column {event!r} must be 0/1 or boolean; it holds {es.loc[rows[0]]!r} in "
            f"{describe_rows(rows)} (1 = event, 0 = censored)."
        )
    missing = np.isnan(t) | np.isnan(e)
    return np.where(missing, np.nan, t), np.where(missing, 0.0, e)


def _check_at(at: float | Sequence[float] | None) -> np.ndarray | None:
    if at is None:
        return None
    arr = np.atleast_1d(np.asarray(at, dtype=float))
    if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
        raise InvalidValueError(f"at must be one or more finite times; got {at!r}.")
    return arr


# ------------------------------------------------------------------------------- core
@dataclass
class _Group:
    """One domain's rows, sorted into the bins of its distinct event times."""

    rows: np.ndarray  # row indices (into the design) of the group's valid rows
    event: np.ndarray  # (m,) bool
    r: np.ndarray  # (m,) number of event times <= T_i
    times: np.ndarray  # (K,) distinct event times (rows with positive weight)
    out_times: np.ndarray  # (k,) the times reported
    out_idx: np.ndarray  # (k,) index of the last event time <= out time, -1 before the first
    n: int  # rows (base)


def _group_structure(
    t: np.ndarray, e: np.ndarray, w: np.ndarray, rows: np.ndarray, at: np.ndarray | None
) -> _Group:
    tg, eg, wg = t[rows], e[rows] == 1, w[rows]
    times = np.unique(tg[eg & (wg > 0)])
    r = np.searchsorted(times, tg, side="right")
    out_times = times if at is None else at
    out_idx = np.searchsorted(times, out_times, side="right") - 1
    return _Group(rows, eg, r, times, out_times, out_idx, int(rows.size))


def _hazard(g: _Group, wg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted events D_k and numbers at risk Y_k at the group's event times."""
    K = g.times.size
    ev = g.event & (g.r > 0)
    D = np.bincount(g.r[ev] - 1, weights=wg[ev], minlength=K)
    B = np.bincount(g.r, weights=wg, minlength=K + 1)
    Y = np.cumsum(B[::-1])[::-1][1:]  # rows with r_i > k, i.e. T_i >= t_k
    return D, Y


def _curve(D: np.ndarray, Y: np.ndarray, estimator: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(D > 0, D / Y, 0.0)
    if estimator == "nelson-aalen":
        return np.exp(-np.cumsum(h))
    return np.maximum(0.0, np.cumprod(1.0 - h))


def _at_times(curve: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.where(idx >= 0, curve[np.maximum(idx, 0)] if curve.size else 1.0, 1.0)


def _influence_block(
    g: _Group, wg: np.ndarray, D: np.ndarray, Y: np.ndarray, S: np.ndarray, estimator: str,
    cols: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Influence functions of S at output columns ``cols`` for the group's rows, (m, len)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = Y if estimator == "nelson-aalen" else Y - D
        q = np.where(D > 0, 1.0 / denom, 0.0)
        c = np.where(D > 0, D / Y, 0.0) * q
    C = np.cumsum(c)
    j = g.out_idx[cols]  # (k,)
    ok = j >= 0
    jj = np.maximum(j, 0)
    # Y part: sum over event times t_k <= min(t_j, T_i) of h_k q_k
    last = np.minimum(jj[None, :], g.r[:, None] - 1)
    ypart = np.where(last >= 0, C[np.maximum(last, 0)], 0.0)
    # dN part: the row's own event, if it happened at or before t_j
    e_idx = np.where(g.event & (g.r > 0), g.r - 1, -1)
    qi = np.where(e_idx >= 0, q[np.maximum(e_idx, 0)], 0.0)
    npart = np.where((e_idx[:, None] >= 0) & (e_idx[:, None] <= jj[None, :]), qi[:, None], 0.0)
    s_out = _at_times(S, j)
    with np.errstate(invalid="ignore"):
        z = -wg[:, None] * (npart - ypart) * s_out[None, :]
    z[:, ~ok | (s_out <= 0)] = 0.0
    return np.where(np.isfinite(z), z, 0.0)


@dataclass
class _Fit:
    groups: list[_Group]
    by_frame: pd.DataFrame
    by_names: list[str]
    estimate: np.ndarray  # (k_total,)
    vcov: np.ndarray
    deff: np.ndarray
    n: np.ndarray
    times: np.ndarray
    group_of: np.ndarray  # (k_total,) group index of each output


def _fit(
    design: Design,
    time: str,
    event: str,
    by: str | Sequence[str] | None,
    at: np.ndarray | None,
    estimator: str,
) -> _Fit:
    if not isinstance(time, str) or not isinstance(event, str):
        raise ColumnError(f"time and event are column names; got {time!r} and {event!r}.")
    _check_columns(design, [time, event], "variable")
    t, e = _time_event(design, time, event)
    dom = _domains(design, by)
    w = np.where(design._mask, design._w, 0.0)
    valid = ~np.isnan(t) & (dom.codes >= 0)
    groups = []
    for gi in range(dom.n_groups):
        rows = np.flatnonzero(valid & (dom.codes == gi))
        groups.append(_group_structure(t, e, w, rows, at))
    if all(g.n == 0 for g in groups):
        raise InvalidValueError(
            f"no row of the domain has both {time!r} and {event!r}; nothing to estimate."
        )

    def estimates(weights: np.ndarray) -> np.ndarray:
        out = []
        for g in groups:
            D, Y = _hazard(g, weights[g.rows])
            out.append(_at_times(_curve(D, Y, estimator), g.out_idx))
        return np.concatenate(out)

    theta = estimates(w)
    k_total = theta.size
    n_out = np.concatenate([np.full(g.out_times.size, g.n) for g in groups])
    group_of = np.concatenate([np.full(g.out_times.size, i) for i, g in enumerate(groups)])
    # influence functions: PSU totals (Taylor) and the SRS variance for deff, in chunks
    totals = np.zeros((design._n_psu, k_total)) if not design.is_replicate else None
    vsrs = np.full(k_total, np.nan)
    start = 0
    for g in groups:
        k = g.out_times.size
        if g.n == 0 or k == 0:
            start += k
            continue
        wg = w[g.rows]
        D, Y = _hazard(g, wg)
        S = _curve(D, Y, estimator)
        step = max(1, _CHUNK // max(g.n, 1))
        pos = wg > 0
        n_pos = np.float64(pos.sum())
        W = np.float64(wg.sum())
        for a in range(0, k, step):
            cols = np.arange(a, min(k, a + step))
            z = _influence_block(g, wg, D, Y, S, estimator, cols)
            ss = (z[pos] ** 2 / wg[pos, None]).sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                vsrs[start + cols] = (1.0 - n_pos / W) * W / (n_pos - 1.0) * ss
            if totals is not None:
                full = np.zeros((design.n, cols.size))
                full[g.rows] = z
                totals[:, start + cols] = _variance.psu_totals(design, full)
        start += k
    if design.is_replicate:
        vcov = _variance.vcov_from_influence(design, None, theta=theta, estimator=estimates)
    else:
        vcov = _variance.taylor_vcov(design, totals)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.where(vsrs > 0, np.diag(vcov) / vsrs, np.nan)
    times = np.concatenate([g.out_times for g in groups]) if groups else np.empty(0)
    return _Fit(groups, dom.frame, dom.names, theta, vcov, deff, n_out, times, group_of)


def _intervals(
    s: np.ndarray, se: np.ndarray, method: str, q: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise intervals for S on the chosen scale; NaN where S is 0 or 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        se_log = se / s
        if method == "log":
            lo = np.exp(np.log(s) - q * se_log)
            hi = np.minimum(np.exp(np.log(s) + q * se_log), 1.0)
        elif method == "log-log":
            eta = np.log(-np.log(s))
            se_eta = se_log / np.abs(np.log(s))
            lo = np.exp(-np.exp(eta + q * se_eta))
            hi = np.exp(-np.exp(eta - q * se_eta))
        else:
            eta = special.logit(s)
            se_eta = se / (s * (1 - s))
            lo, hi = special.expit(eta - q * se_eta), special.expit(eta + q * se_eta)
    degenerate = (s <= 0) | (s >= 1) | ~np.isfinite(s)
    return np.where(degenerate, np.nan, lo), np.where(degenerate, np.nan, hi)


def _quantile_q(level: float, df: float | None) -> float:
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise InvalidValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}.")
    upper = 1 - (1 - level) / 2
    if df is None or np.isinf(df):
        return float(stats.norm.ppf(upper))
    if not df > 0:
        return float("nan")
    return float(stats.t.ppf(upper, df))


def _check_options(ci: str, estimator: str) -> None:
    if ci not in SURVIVAL_CI_METHODS:
        raise InvalidValueError(
            f"ci must be one of {', '.join(map(repr, SURVIVAL_CI_METHODS))}; got {ci!r}."
        )
    if estimator not in _ESTIMATORS:
        raise InvalidValueError(
            f"estimator must be one of {', '.join(map(repr, _ESTIMATORS))}; got {estimator!r}."
        )


# ----------------------------------------------------------------------------- public
def survival(
    d: Design,
    time: str,
    event: str,
    *,
    by: str | Sequence[str] | None = None,
    at: float | Sequence[float] | None = None,
    level: float = 0.95,
    ci: CIMethod = "log",
    df: float | None = None,
    cumulative: bool = False,
    estimator: Literal["kaplan-meier", "nelson-aalen"] = "kaplan-meier",
) -> Estimate:
    """Design-weighted Kaplan–Meier survival curve S(t) (R's ``svykm``).

    Parameters
    ----------
    d : SurveyDesign or ReplicateDesign
    time : str
        Numeric column: the time of the event, or of censoring (e.g. age first seen, or
        current age for those who have not seen it).
    event : str
        0/1 or boolean column: 1 if the event happened at ``time``, 0 if censored there.
        Rows missing ``time`` or ``event`` are left out (they stay in the design for the
        variance, as R's ``svykm`` with ``na.omit``).
    by : str or list of str, optional
        Domain columns: one curve per group (R's ``svykm(Surv(time, event) ~ g)``), with
        variances from the full design.
    at : float or list of float, optional
        Report S at these times (the step function: S at the last event time <= t, 1
        before the first). Default: one row per distinct event time of each group.
    level : float
        Confidence level.
    ci : {"log", "log-log", "logit"}
        Scale of the pointwise intervals. ``"log"`` (default) is R's ``confint.svykm``:
        ``exp(log S ± q × se/S)``, upper end capped at 1. ``"log-log"`` (the ``survival``
        package's ``conf.type="log-log"``) and ``"logit"`` stay inside (0, 1).
    df : float, optional
        Degrees of freedom for the critical value ``q``. Default ``None``: the normal
        quantile, as R's ``confint.svykm``; pass ``d.df`` for a t quantile on the design's
        degrees of freedom, as the package's means use.
    cumulative : bool
        If True, report ``1 − S(t)``, the share who *had* the event by time t ("exposed
        by age t"), with the interval flipped; the covariance is the same.
    estimator : {"kaplan-meier", "nelson-aalen"}
        ``"kaplan-meier"`` (default): the product-limit estimate, equal to R's
        ``svykm(..., se=FALSE)`` curve. ``"nelson-aalen"``: ``exp(−Λ̂(t))`` with Λ̂ the
        weighted Nelson–Aalen cumulative hazard: exactly what R's ``svykm(..., se=TRUE)``
        returns, with the same standard errors.

    Returns
    -------
    Estimate
        Frame columns: the ``by`` columns, ``time``, ``variable`` (the time column's
        name), ``level`` (""), ``estimate`` (S(t), or 1 − S(t)), ``se``, ``ci_low``,
        ``ci_high``, ``n`` (rows in the group with both columns answered: the base),
        ``deff``. ``vcov`` is the joint covariance of every row (all times, all groups).

    Notes
    -----
    *Standard errors.* Taylor designs: the influence functions of the weighted estimator
    (module docstring) summed to PSU totals by :mod:`csa_survey._variance`. Replicate
    designs: the curve is refitted with each replicate's weights (R's
    ``withReplicates(design, svykm.fit)``).

    *How this differs from R.* R's ``svykm(se=TRUE)`` does not return standard errors of
    its product-limit curve: it switches to the Nelson–Aalen form ``exp(−Λ̂)`` and returns
    ``varlog``, the linearisation variance of ``Λ̂``. With ``estimator="nelson-aalen"``
    this function reproduces that curve, its ``sqrt(varlog) × S`` standard errors and
    ``confint.svykm`` intervals exactly. The default product-limit curve gets the
    linearisation variance of the product-limit estimator itself, whose terms have
    ``Y_k − D_k`` where R's have ``Y_k``: the two agree to first order (their ratio at
    each event time is ``1 − D_k/Y_k``, which tends to 1 as the sample grows) but are
    never identical in a finite sample. ``tests/test_survival.py`` checks the product-limit
    standard errors against an independent R computation (``svytotal`` of the event and
    at-risk indicators, then ``svycontrast`` of ``exp(Σ log(1 − D_k/Y_k))``), where R
    returns NaN once the curve reaches 0 and this function returns 0. With equal weights
    and no clustering the product-limit variance is exactly ``n/(n − 1)`` × Greenwood's.

    *Size.* Without ``at=`` there is one row per distinct event time, and ``vcov`` is
    square in that number; with continuous times on large data pass ``at=`` (the influence
    functions are built a block of columns at a time, so memory stays bounded).

    *Intervals.* NaN where S(t) is 0 or 1 (before the first event, or after the curve
    reaches 0): the interval on these scales is undefined there.

    *deff.* The design variance over the variance under simple random sampling of the
    same size, with the definition ``cs.mean`` uses (R's ``deff=TRUE``): ``(1 − n/N̂) ×
    N̂/(n − 1) × Σ w_i a_i²`` with ``a_i = z_i/w_i`` the unit influence. NaN for equal
    weights of 1 (``N̂ = n``), as for means.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> from csa_survey.survival import survival
    >>> df = pd.DataFrame({"age": [9, 11, 11, 13, 16, 17], "seen": [1, 1, 1, 1, 0, 0],
    ...                    "w": [1.0, 2.0, 1.0, 1.0, 2.0, 1.0]})
    >>> d = cs.SurveyDesign(df, weights="w")
    >>> survival(d, "age", "seen", at=[9, 11, 13]).to_frame()[["time", "estimate"]].values.tolist()
    [[9.0, 0.875], [11.0, 0.5], [13.0, 0.375]]
    >>> survival(d, "age", "seen", at=13, cumulative=True).to_frame()["estimate"].tolist()
    [0.625]
    """
    _check_options(ci, estimator)
    q = _quantile_q(level, df)
    fit = _fit(d, time, event, by, _check_at(at), estimator)
    s = fit.estimate
    se = np.sqrt(np.clip(np.diag(fit.vcov), 0, None))
    lo, hi = _intervals(s, se, ci, q)
    if cumulative:
        s, lo, hi = 1.0 - s, 1.0 - hi, 1.0 - lo
    data: dict[str, object] = {}
    if fit.by_names:
        rep = fit.by_frame.loc[fit.group_of].reset_index(drop=True)
        for name in fit.by_names:
            data[name] = rep[name]
    k = s.size
    data["time"] = fit.times
    data["variable"] = [time] * k
    data["level"] = [""] * k
    data["estimate"] = s
    data["se"] = se
    data["ci_low"] = lo
    data["ci_high"] = hi
    data["n"] = pd.array(fit.n, dtype="Int64")
    data["deff"] = fit.deff
    frame = pd.DataFrame(data)
    what = "1 − S(t): share who had the event by time t" if cumulative else "S(t)"
    notes = (f"{estimator} estimate of {what} ({event!r} at {time!r}); {ci}-scale intervals.",)
    return Estimate(
        frame,
        fit.vcov,
        "survival",
        level,
        float("inf") if df is None else float(df),
        ci,
        tuple(fit.by_names),
        (*fit.by_names, "time"),
        notes,
    )


def survival_quantiles(
    d: Design,
    time: str,
    event: str,
    *,
    probs: float | Sequence[float] = 0.5,
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
    ci: CIMethod = "log",
    df: float | None = None,
    estimator: Literal["kaplan-meier", "nelson-aalen"] = "kaplan-meier",
) -> pd.DataFrame:
    """Quantiles of the time to event (e.g. the median age at first exposure), with CIs.

    The ``p`` quantile is the first event time at which S(t) <= p (R's
    ``quantile.svykm``): the median is the age by which half have had the event. Its
    interval inverts the pointwise intervals of :func:`survival` (Brookmeyer–Crowley
    style, as R's ``quantile.svykm(ci=TRUE)``): the lower end is the first event time at
    which the lower pointwise bound of S is <= p, the upper end the first at which the
    upper bound is. ``inf`` where the curve (or bound) never gets down to ``p``: the
    quantile lies beyond the follow-up.

    Parameters
    ----------
    d, time, event, by, level, ci, df, estimator
        As :func:`survival`.
    probs : float or list of float
        Survival probabilities, e.g. ``0.5`` for the median, ``[0.75, 0.5, 0.25]`` for R's
        default quartiles.

    Returns
    -------
    pandas.DataFrame
        Columns: the ``by`` columns, ``variable``, ``prob``, ``estimate`` (time),
        ``ci_low``, ``ci_high``, ``n``.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> from csa_survey.survival import survival_quantiles
    >>> df = pd.DataFrame({"age": [9, 11, 11, 13, 16, 17], "seen": [1, 1, 1, 1, 0, 0]})
    >>> m = survival_quantiles(cs.SurveyDesign(df), "age", "seen")
    >>> float(m["estimate"].iloc[0])
    11.0
    """
    probs_arr = np.atleast_1d(np.asarray(probs, dtype=float))
    if probs_arr.ndim != 1 or not ((probs_arr > 0) & (probs_arr < 1)).all():
        raise InvalidValueError(f"probs must be between 0 and 1 (exclusive); got {probs!r}.")
    est = survival(d, time, event, by=by, level=level, ci=ci, df=df, estimator=estimator)
    f = est.to_frame()
    by_names = list(est.by)
    keys = [()] if not by_names else list(f[by_names].drop_duplicates().itertuples(index=False))
    out = []
    for key in keys:
        sub = f if not by_names else f[(f[by_names] == pd.Series(key, index=by_names)).all(axis=1)]
        s = sub["estimate"].to_numpy(float)
        t = sub["time"].to_numpy(float)
        zero = s <= 0
        lo = np.where(zero, 0.0, sub["ci_low"].to_numpy(float))
        hi = np.where(zero, 0.0, sub["ci_high"].to_numpy(float))

        def first(curve: np.ndarray, p: float, t: np.ndarray = t) -> float:
            hit = np.flatnonzero(curve <= p)
            return float(t[hit[0]]) if hit.size else float("inf")

        for p in probs_arr:
            row = dict(zip(by_names, key, strict=True))
            row.update(
                variable=time,
                prob=float(p),
                estimate=first(s, p),
                ci_low=first(lo, p),
                ci_high=first(hi, p),
                n=int(sub["n"].iloc[0]) if len(sub) else 0,
            )
            out.append(row)
    frame = pd.DataFrame(out)
    frame["n"] = pd.array(frame["n"], dtype="Int64")
    return frame
