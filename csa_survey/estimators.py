"""Means, totals and proportions, overall and by domain.

Each estimator builds influence functions (Taylor designs) or replicate estimates
(replicate designs) for all requested variables and domains at once, and hands them to
the variance engine (:mod:`csa_survey._variance`), so the covariance between any two
estimates of one call is available and contrasts between them are valid.

Conventions follow R's ``survey`` package: ``svymean``, ``svytotal``, ``svyby``,
``svyciprop`` and ``deff=TRUE``; see each function's Notes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.stats.proportion import proportion_confint

from csa_survey import _variance
from csa_survey.design import ReplicateDesign, SurveyDesign
from csa_survey.exceptions import (
    ColumnError,
    DegreesOfFreedomWarning,
    InvalidValueError,
    SurveyWarning,
    describe_rows,
    describe_value,
)
from csa_survey.results import Estimate, t_quantile

__all__ = ["CI_METHODS", "mean", "proportion", "total"]

Design = SurveyDesign | ReplicateDesign

#: R's svyciprop methods (design-based, df = design df)
R_METHODS = ("logit", "likelihood", "beta", "asin", "xlogit", "mean")
#: classical intervals on the effective sample size, and statsmodels' names for them
CLASSICAL = {
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
    "wald": "normal",
}
CI_METHODS = R_METHODS + tuple(CLASSICAL)


# ----------------------------------------------------------------------------- inputs
def _as_list(x: str | Sequence[str] | None, what: str) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    out = list(x)
    if not out:
        raise ColumnError(f"{what} is an empty list; name at least one column.")
    return out


def _check_columns(design: Design, columns: list[str], role: str) -> None:
    data = design.data
    for c in columns:
        if c not in data.columns:
            known = ", ".join(map(str, list(data.columns)[:12]))
            raise ColumnError(f"{role} column {c!r} is not in the data (columns: {known} …).")


def _numeric_values(design: Design, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Float values (NaN for missing) and the not-missing mask of a numeric column."""
    s = design.data[column]
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiu":
        values = s.to_numpy(dtype=float, copy=False)  # no copy for float64 columns
        missing = np.isnan(values) if s.dtype.kind == "f" else np.zeros(len(values), bool)
    elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
    else:
        missing = s.isna().to_numpy()
        ok = ~missing
        conv = pd.to_numeric(s[ok], errors="coerce")
        bad = conv.isna().to_numpy()
        if bad.any():
            rows = s.index[ok][bad]
            raise InvalidValueError(
                f"column {column!r} is not numeric: it holds {describe_value(s.loc[rows[0]])} in "
                f"{describe_rows(rows)}. Use cs.proportion() for a categorical variable, or "
                "convert the column to numbers first."
            )
        raise InvalidValueError(
            f"column {column!r} has dtype {s.dtype} (text); convert it to numbers explicitly "
            "(e.g. pd.to_numeric) — csa_survey does not coerce silently."
        )
    inf = np.isinf(values)
    if inf.any():
        raise InvalidValueError(
            f"column {column!r} has infinite values in {describe_rows(s.index[inf])}."
        )
    return values, ~missing


@dataclass
class _Domains:
    codes: np.ndarray  # (n,) int, -1 = in no domain
    n_groups: int
    frame: pd.DataFrame  # one row per domain, the by columns
    names: list[str]


def _domains(design: Design, by: str | Sequence[str] | None) -> _Domains:
    by_cols = _as_list(by, "by")
    _check_columns(design, by_cols, "by")
    mask = design._mask
    if not by_cols:
        codes = np.where(mask, 0, -1).astype(np.int64)
        return _Domains(codes, 1, pd.DataFrame(index=range(1)), [])
    if len(by_cols) == 1:
        col = design.data[by_cols[0]]
        raw_codes, keys = _single_key_codes(col, by_cols[0])
    else:
        grouped = design.data[by_cols].groupby(by_cols, sort=True, dropna=True, observed=True)
        ng = grouped.ngroup().to_numpy(dtype=float, na_value=np.nan)
        raw_codes = np.where(np.isnan(ng), -1, ng).astype(np.int64)
        keys = grouped.size().reset_index()[by_cols]
    raw = np.where(mask, raw_codes, -1).astype(np.int64)
    counts = np.bincount(raw + 1, minlength=len(keys) + 1)[1:]
    present = np.flatnonzero(counts)
    if present.size == 0:
        raise InvalidValueError(
            f"by column(s) {by_cols} are missing in every row of the domain; no groups to estimate."
        )
    if present.size == len(keys):
        codes = raw
    else:
        remap = np.full(len(keys) + 1, -1, dtype=np.int64)
        remap[present + 1] = np.arange(present.size)
        codes = remap[raw + 1]
    frame = keys.iloc[present].reset_index(drop=True)
    return _Domains(codes, int(present.size), frame, by_cols)


def _single_key_codes(col: pd.Series, name: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer codes (-1 = missing) and the sorted keys of one ``by`` column.

    Fast paths: a Categorical uses its codes (category order); a small-range integer column
    is offset, not hashed. Anything else goes through ``pd.factorize(sort=True)``.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        keys = pd.DataFrame({name: pd.Categorical(cats, categories=cats)})
        return col.cat.codes.to_numpy().astype(np.int64), keys
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu" and len(col):
        v = col.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo <= 4 * len(v) + 1024:
            return (v - lo).astype(np.int64), pd.DataFrame(
                {name: np.arange(lo, hi + 1, dtype=v.dtype)}
            )
    raw_codes, uniques = pd.factorize(col, sort=True, use_na_sentinel=True)
    return raw_codes.astype(np.int64), pd.DataFrame({name: uniques})


@dataclass
class _Column:
    variable: str
    level: str
    values: np.ndarray  # (n,) float, 0 where missing
    valid: np.ndarray  # (n,) bool


# ------------------------------------------------------------------------------- core
@dataclass
class _Core:
    estimate: np.ndarray  # (G, C)
    vcov: np.ndarray  # (G*C, G*C), domain-major
    n: np.ndarray  # (G, C) int
    deff: np.ndarray  # (G, C)
    s2: np.ndarray  # (G, C) weighted element variance (n/(n-1) convention)
    weight_sum: np.ndarray  # (G, C)
    thetas: np.ndarray | None  # (R, G*C) replicate estimates (replicate designs only)


def _core(design: Design, columns: list[_Column], dom: _Domains, kind: str) -> _Core:
    """Ratio (mean) or total estimates of every column in every domain, jointly.

    Rows are never copied or compressed: group codes are shifted by one so that rows in no
    domain (or with a missing value) fall into bin 0 of each ``np.bincount``, which is
    dropped; their weights are zeroed, so they contribute nothing to influence functions.
    """
    G, C = dom.n_groups, len(columns)
    w = design._w if design._mask.all() else np.where(design._mask, design._w, 0.0)
    codes = dom.codes
    in_dom = codes >= 0
    all_in = bool(in_dom.all())
    g1 = codes + 1  # 0 = in no domain
    all_pos = bool((w[in_dom] > 0).all()) if not all_in else bool((w > 0).all())
    replicate = design.is_replicate
    fast_index = None
    if not replicate and design._calibration is None:
        fast_index = design._psu * G + np.maximum(codes, 0) if G > 1 else design._psu
    est = np.empty((G, C))
    cnt = np.empty((G, C), dtype=np.int64)
    s2 = np.empty((G, C))
    n_obs = np.empty((G, C))
    wsum = np.empty((G, C))
    blocks = []
    rep_blocks = []
    n_cells = design._n_psu * G if fast_index is not None else 0
    for c, col in enumerate(columns):
        m = col.valid if all_in else col.valid & in_dom
        wv = w * m
        y = col.values  # 0 where missing; rows outside the domain have wv == 0
        wy = wv * y
        if fast_index is not None:
            # PSU x domain sums; the influence-function totals follow algebraically:
            # sum_{i in psu p, domain g} w_i (y_i - mu_g) / D_g = (A_pg - mu_g B_pg) / D_g
            if G == 1:
                A = _variance.psu_sums(design, wy)[:, None]
                B = _variance.psu_sums(design, wv)[:, None]
                q_sum = np.array([np.sum(wy * y)])
                cnt[:, c] = np.count_nonzero(m)
                npos = cnt[:, c] if all_pos else np.array([np.count_nonzero(wv > 0)])
            else:
                A = np.bincount(fast_index, weights=wy, minlength=n_cells).reshape(-1, G)
                B = np.bincount(fast_index, weights=wv, minlength=n_cells).reshape(-1, G)
                gi = np.where(m, g1, 0)
                q_sum = np.bincount(gi, weights=wy * y, minlength=G + 1)[1:]
                cnt[:, c] = np.bincount(gi, minlength=G + 1)[1:]
                if all_pos:
                    npos = cnt[:, c]
                else:
                    npos = np.bincount(gi, weights=wv > 0, minlength=G + 1)[1:]
            D, N = B.sum(axis=0), A.sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                mu = N / D
                mu0 = np.where(np.isfinite(mu), mu, 0.0)
                ss = q_sum - 2 * mu0 * N + mu0 * mu0 * D
                # a constant variable leaves only rounding noise here: call it exactly 0
                ss = np.where(ss <= 1e-10 * np.abs(q_sum), 0.0, ss)
                if kind == "mean":
                    blocks.append(np.where(D > 0, (A - mu0 * B) / D, 0.0))
                else:
                    blocks.append(A)
            n_obs[:, c] = npos
            with np.errstate(divide="ignore", invalid="ignore"):
                s2[:, c] = n_obs[:, c] / (n_obs[:, c] - 1.0) * ss / D
            wsum[:, c] = D
            est[:, c] = mu if kind == "mean" else N
            continue
        if G == 1:
            D = np.array([wv.sum()])
            N = np.array([wy.sum()])
            cnt[:, c] = int(np.count_nonzero(m))
            npos = cnt[:, c] if all_pos else np.array([np.count_nonzero(wv > 0)])
            with np.errstate(divide="ignore", invalid="ignore"):
                mu = N / D
            centre = mu[0] if np.isfinite(mu[0]) else 0.0
            wr = wv * (y - centre)
            ss = np.array([np.dot(wr, y - centre)])
            inv_d_row = 1.0 / D[0] if D[0] > 0 else 0.0
            gi = None
        else:
            gi = np.where(m, g1, 0)
            D = np.bincount(gi, weights=wv, minlength=G + 1)[1:]
            N = np.bincount(gi, weights=wy, minlength=G + 1)[1:]
            cnt[:, c] = np.bincount(gi, minlength=G + 1)[1:]
            npos = (
                cnt[:, c]
                if all_pos
                else np.bincount(gi, weights=(wv > 0).astype(float), minlength=G + 1)[1:]
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                mu = N / D
                inv_d = np.concatenate([[0.0], np.where(D > 0, 1.0 / D, 0.0)])
            mu1 = np.concatenate([[0.0], np.where(np.isfinite(mu), mu, 0.0)])
            wr = wv * (y - mu1[gi])
            ss = np.bincount(gi, weights=wr * (y - mu1[gi]), minlength=G + 1)[1:]
            inv_d_row = inv_d[gi]
        # R: replicate designs count rows, Taylor designs rows with a non-zero weight
        n_obs[:, c] = cnt[:, c] if replicate else npos
        with np.errstate(divide="ignore", invalid="ignore"):
            s2[:, c] = n_obs[:, c] / (n_obs[:, c] - 1.0) * ss / D
        wsum[:, c] = D
        est[:, c] = mu if kind == "mean" else N
        if replicate:
            rep_blocks.append((np.where(m, y, 0.0), m))
            continue
        contrib = wr * inv_d_row if kind == "mean" else wy
        g = np.where(m, codes, -1)
        blocks.append(_variance.grouped_psu_totals(design, contrib, g, G))

    theta = est.reshape(-1)  # domain-major: index g*C + c
    thetas = None
    if replicate:
        # numerators and denominators of every column, summed in one pass per replicate set
        stacked = np.empty((design.n, 2 * C), order="F")
        for c, (num, valid) in enumerate(rep_blocks):
            stacked[:, 2 * c] = num
            stacked[:, 2 * c + 1] = valid
        sums = _variance.replicate_group_sums_many(design, stacked, codes, G)  # (R, G, 2C)
        with np.errstate(divide="ignore", invalid="ignore"):
            reps = sums[:, :, 0::2] / sums[:, :, 1::2] if kind == "mean" else sums[:, :, 0::2]
        thetas = reps.reshape(-1, G * C)  # (R, G, C) -> (R, G*C), domain-major
        vcov = _variance.replicate_vcov(design, thetas, theta)
    else:
        totals = np.stack(blocks, axis=2).reshape(design._n_psu, G * C)
        vcov = _variance.taylor_vcov(design, totals)

    var = np.diag(vcov).reshape(G, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        fpc_srs = (wsum - n_obs) / wsum
        if kind == "mean":
            vsrs = s2 / n_obs * fpc_srs
        else:
            vsrs = s2 * wsum**2 / n_obs * fpc_srs
        deff = np.where(vsrs > 0, var / vsrs, np.nan)
    return _Core(est, vcov, cnt, deff, s2, wsum, thetas)


def _frame(
    dom: _Domains, columns: list[_Column], core: _Core, ci_low: np.ndarray, ci_high: np.ndarray
) -> pd.DataFrame:
    G, C = dom.n_groups, len(columns)
    se = np.sqrt(np.clip(np.diag(core.vcov), 0, None))
    data: dict[str, Any] = {}
    if dom.names:
        rep = dom.frame.loc[np.repeat(np.arange(G), C)].reset_index(drop=True)
        for name in dom.names:
            data[name] = rep[name]
    data["variable"] = [col.variable for col in columns] * G
    data["level"] = [col.level for col in columns] * G
    data["estimate"] = core.estimate.reshape(-1)
    data["se"] = se
    data["ci_low"] = ci_low.reshape(-1)
    data["ci_high"] = ci_high.reshape(-1)
    data["n"] = pd.array(core.n.reshape(-1), dtype="Int64")
    data["deff"] = core.deff.reshape(-1)
    return pd.DataFrame(data)


def _warn_empty(dom: _Domains, columns: list[_Column], core: _Core) -> None:
    empty = np.argwhere(core.n == 0)
    if empty.size:
        g, c = empty[0]
        where = (
            ""
            if not dom.names
            else " in domain " + ", ".join(f"{k}={dom.frame.iloc[g][k]!r}" for k in dom.names)
        )
        warnings.warn(
            f"{columns[c].variable!r} has no non-missing values{where}; its estimate is NaN "
            f"({len(empty)} such cell(s)).",
            SurveyWarning,
            stacklevel=3,
        )


def _df_for(design: Design, df: float | None) -> float:
    d = design.df if df is None else float(df)
    if not d > 0:
        warnings.warn(
            f"the design has {d:g} degrees of freedom; confidence intervals are undefined (NaN). "
            "Check the strata and PSU columns, or pass df= explicitly.",
            DegreesOfFreedomWarning,
            stacklevel=3,
        )
    return d


def _check_level(level: float) -> None:
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise InvalidValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}.")


def _numeric_columns(design: Design, variables: list[str]) -> list[_Column]:
    cols = []
    for v in variables:
        values, valid = _numeric_values(design, v)
        cols.append(_Column(v, "", values if valid.all() else np.where(valid, values, 0.0), valid))
    return cols


def _linear(
    design: Design,
    variables: str | Sequence[str],
    by: str | Sequence[str] | None,
    level: float,
    df: float | None,
    kind: str,
) -> Estimate:
    _check_level(level)
    names = _as_list(variables, "variables")
    if not names:
        raise ColumnError("name at least one variable.")
    _check_columns(design, names, "variable")
    columns = _numeric_columns(design, names)
    dom = _domains(design, by)
    core = _core(design, columns, dom, kind)
    _warn_empty(dom, columns, core)
    d = _df_for(design, df)
    q = t_quantile(level, d)
    se = np.sqrt(np.clip(np.diag(core.vcov), 0, None)).reshape(core.estimate.shape)
    frame = _frame(dom, columns, core, core.estimate - q * se, core.estimate + q * se)
    return Estimate(frame, core.vcov, kind, level, d, "t", tuple(dom.names), tuple(dom.names))


# ----------------------------------------------------------------------------- public
def mean(
    design: Design,
    variables: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
    df: float | None = None,
) -> Estimate:
    """Design-based means (R's ``svymean``; with ``by=``, ``svyby(..., svymean)``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    variables : str or list of str
        Numeric (or boolean) columns.
    by : str or list of str, optional
        Domain columns: one set of estimates per observed combination of their values
        (rows with a missing ``by`` value belong to no domain). The variance uses the full
        design, as ``svyby``.
    level : float
        Confidence level.
    df : float, optional
        Degrees of freedom of the t intervals; default the design's ``df`` (also for
        domains and ``subset()`` designs).

    Returns
    -------
    Estimate
        One row per domain × variable; ``vcov`` is the joint covariance of all of them.

    Notes
    -----
    Missing values are dropped per variable (R's ``na.rm=TRUE``, but each variable on its
    own non-missing rows; R drops rows missing any variable of the formula). Dropped rows
    stay in the design with zero influence. ``deff`` is R's ``deff=TRUE``: the design
    variance over ``s²/n × (1 − n/N̂)`` with ``s²`` the weighted element variance
    (``n/(n − 1)`` convention), ``n`` the domain's non-missing rows and ``N̂`` their weight
    sum; NaN where that is not positive (e.g. equal weights of 1, where ``N̂ = n``).
    Intervals are estimate ± t(df) × se.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> df = pd.DataFrame({"age": [16, 17, 18, 19, 20, 21], "w": [1.0, 2, 1, 2, 1, 2]})
    >>> est = cs.mean(cs.SurveyDesign(df, weights="w"), "age")
    >>> round(float(est.to_frame()["estimate"].iloc[0]), 4)
    18.6667
    """
    return _linear(design, variables, by, level, df, "mean")


def total(
    design: Design,
    variables: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
    df: float | None = None,
) -> Estimate:
    """Design-based population totals (R's ``svytotal``).

    Parameters and conventions as :func:`mean`. ``deff`` follows R: for a Taylor design
    the design variance over ``s² × Σw² × (1 − n/N̂)``; for a replicate design over
    ``s² × N̂²/n × (1 − n/N̂)``.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> df = pd.DataFrame({"y": [1, 0, 1], "w": [10.0, 20, 30]})
    >>> float(cs.total(cs.SurveyDesign(df, weights="w"), "y").to_frame()["estimate"].iloc[0])
    40.0
    """
    return _linear(design, variables, by, level, df, "total")


def _proportion_columns(design: Design, variable: str) -> list[_Column]:
    s = design.data[variable]
    missing = s.isna().to_numpy()
    valid = ~missing
    if pd.api.types.is_bool_dtype(s.dtype):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        return [_Column(variable, "", np.where(valid, values, 0.0), valid)]
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = list(s.cat.categories)
        codes = s.cat.codes.to_numpy()
        return [
            _Column(variable, str(lev), (codes == i).astype(float), valid)
            for i, lev in enumerate(levels)
        ]
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        other = valid & (values != 0) & (values != 1)
        if other.any():
            rows = s.index[other]
            raise InvalidValueError(
                f"column {variable!r} is numeric but not 0/1: it holds {describe_value(s.loc[rows[0]])} in "
                f"{describe_rows(rows)}. cs.proportion() gives one row for a 0/1 or boolean "
                "variable, or one row per level for a categorical one: convert it with "
                f"df[{variable!r}].astype('category') to get one row per value."
            )
        return [_Column(variable, "", np.where(valid, values, 0.0), valid)]
    # text / object: one row per observed level, sorted
    obs = s[valid]
    try:
        levels = sorted(pd.unique(obs))
    except TypeError:
        levels = list(pd.unique(obs))
    arr = s.to_numpy(dtype=object)
    return [
        _Column(variable, str(lev), (valid & (arr == lev)).astype(float), valid) for lev in levels
    ]


def proportion(
    design: Design,
    variable: str,
    *,
    by: str | Sequence[str] | None = None,
    ci: str = "logit",
    level: float = 0.95,
    df: float | None = None,
) -> Estimate:
    """Design-based proportions with confidence intervals (R's ``svyciprop``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    variable : str
        A boolean or 0/1 column (one row: the proportion of True/1), or a categorical or
        text column (one row per level; all categories of a pandas Categorical).
    by : str or list of str, optional
        Domain columns (see :func:`mean`).
    ci : str
        Interval method. Design-based, exactly as R's ``svyciprop(method=)`` with
        ``df = design.df``: ``"logit"`` (default), ``"likelihood"``, ``"beta"``,
        ``"asin"``, ``"xlogit"``, ``"mean"``. Classical, on the effective sample size:
        ``"wilson"``, ``"clopper-pearson"``, ``"jeffreys"``, ``"agresti-coull"``,
        ``"wald"`` (statsmodels' ``proportion_confint``).
    level : float
        Confidence level.
    df : float, optional
        Degrees of freedom (default the design's, also for domains).

    Returns
    -------
    Estimate
        ``estimate`` is the proportion, ``se`` its design-based standard error.

    Notes
    -----
    * ``logit``/``xlogit``: ``expit(logit(p) ± t × se/(p(1 − p)))`` — R's ``svyciprop``
      fits an intercept-only quasibinomial ``svyglm``, whose sandwich variance is exactly
      this delta-method one.
    * ``likelihood``: R's profile of the Rao–Scott-scaled quasi-likelihood (see
      :mod:`csa_survey._profile_ci`).
    * ``beta``: Korn & Graubard (1998): a Clopper–Pearson interval on
      ``n_eff = p(1 − p)/v × (t_{n−1}/t_{df})²``. With ``v = 0`` (p of 0 or 1) ``n_eff``
      is the domain's count instead of R's NaN.
    * ``asin``: ``sin²(asin(√p) ± t × se/(2√(p(1 − p))))``, with the angle clipped to
      [0, π/2] (R lets it wrap around, which can put a bound on the wrong side of ``p``).
    * ``mean``: ``p ± t × se`` (may leave [0, 1]).
    * classical methods: statsmodels' ``proportion_confint(p × n_eff, n_eff)`` with
      ``n_eff = p(1 − p)/v × n/(n − 1)`` (``n`` the rows in the design): the size of an
      unweighted simple random sample (with-replacement variance, as R computes it) that
      would give the same variance. For an unweighted, unclustered sample it equals the
      number of respondents with an answer, so the intervals are exactly statsmodels' on
      the raw counts, in every domain.
    * At ``p`` of 0 or 1 the ``logit``, ``xlogit`` and ``likelihood`` intervals are
      undefined: NaN with a warning (use ``"beta"`` or ``"clopper-pearson"``).

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> df = pd.DataFrame({"seen": [1, 1, 0, 1, 0, 1, 1, 0, 1, 1]})
    >>> est = cs.proportion(cs.SurveyDesign(df), "seen", ci="wilson")
    >>> est.to_frame()[["estimate", "ci_low", "ci_high"]].round(4).values.tolist()
    [[0.7, 0.3968, 0.8922]]
    """
    _check_level(level)
    method = ci.lower() if isinstance(ci, str) else ci
    if method not in CI_METHODS:
        raise InvalidValueError(
            f"ci must be one of {', '.join(map(repr, CI_METHODS))}; got {ci!r}."
        )
    if not isinstance(variable, str):
        raise ColumnError(
            f"proportion() takes one variable name; got {variable!r}. Call it once per variable "
            "(or use cs.MultiResponse for a select-all-that-apply set)."
        )
    _check_columns(design, [variable], "variable")
    columns = _proportion_columns(design, variable)
    dom = _domains(design, by)
    core = _core(design, columns, dom, "mean")
    _warn_empty(dom, columns, core)
    d = _df_for(design, df)
    p = core.estimate
    v = np.diag(core.vcov).reshape(p.shape)
    var_logit = _logit_variance(design, core, v) if method in ("logit", "likelihood") else None
    lo, hi = _intervals(method, p, v, var_logit, core.n, d, level, design, columns, dom)
    frame = _frame(dom, columns, core, lo, hi)
    return Estimate(
        frame, core.vcov, "proportion", level, d, method, tuple(dom.names), tuple(dom.names)
    )


def _logit_variance(design: Design, core: _Core, v: np.ndarray) -> np.ndarray:
    """Variance of logit(p): delta method (Taylor), or from replicate logits as R does.

    R's ``svyciprop`` fits ``svyglm(y ~ 1, family=quasibinomial)``: on a Taylor design its
    sandwich variance is exactly ``v/(p(1-p))^2``; on a replicate design the intercept is
    refitted in each replicate, i.e. the replicate variance of ``logit(p_r)``.
    """
    p = core.estimate
    with np.errstate(divide="ignore", invalid="ignore"):
        if core.thetas is None:
            return v / (p * (1 - p)) ** 2
        lt = special.logit(core.thetas)
    finite = np.isfinite(lt).all(axis=0)
    out = np.full(lt.shape[1], np.nan)
    if finite.any():
        full = _variance.replicate_vcov(
            design, lt[:, finite], special.logit(p.reshape(-1)[finite])
        )
        out[finite] = np.diag(full)
    inner = ((p > 0) & (p < 1)).reshape(-1)
    if (inner & ~finite).any():
        warnings.warn(
            f"in {int((inner & ~finite).sum())} estimate(s) some replicates have a proportion "
            "of 0 or 1, so the replicate variance of the logit is infinite and the logit/"
            "likelihood interval is undefined (NaN); R's svyglm returns an unconverged fit "
            "there. Use ci='xlogit' or 'beta'.",
            SurveyWarning,
            stacklevel=4,
        )
    return out.reshape(p.shape)


def _intervals(
    method: str,
    p: np.ndarray,
    v: np.ndarray,
    var_logit: np.ndarray | None,
    n: np.ndarray,
    df: float,
    level: float,
    design: Design,
    columns: list[_Column],
    dom: _Domains,
) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1 - level
    se = np.sqrt(np.clip(v, 0, None))
    q = t_quantile(level, df)
    pq = p * (1 - p)
    edge = (p <= 0) | (p >= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method in ("logit", "xlogit"):
            eta = special.logit(p)
            s = np.sqrt(var_logit) if method == "logit" else se / pq
            lo, hi = special.expit(eta - q * s), special.expit(eta + q * s)
        elif method == "mean":
            lo, hi = p - q * se, p + q * se
        elif method == "asin":
            a = np.arcsin(np.sqrt(p))
            s = se / (2 * np.sqrt(pq))
            s = np.where(edge, 0.0, s)
            lo = np.sin(np.clip(a - q * s, 0, np.pi / 2)) ** 2
            hi = np.sin(np.clip(a + q * s, 0, np.pi / 2)) ** 2
        elif method == "beta":
            nf = n.astype(float)
            n_eff = np.where(v > 0, pq / v, nf)
            if df > 0:
                ratio = stats.t.ppf(alpha / 2, np.maximum(nf - 1, 1)) / stats.t.ppf(alpha / 2, df)
                n_eff = n_eff * ratio**2
            else:
                n_eff = n_eff * np.nan
            a1, b1 = n_eff * p, n_eff * (1 - p) + 1
            a2, b2 = n_eff * p + 1, n_eff * (1 - p)
            lo = np.where(p <= 0, 0.0, stats.beta.ppf(alpha / 2, a1, b1))
            hi = np.where(p >= 1, 1.0, stats.beta.ppf(1 - alpha / 2, a2, b2))
        elif method == "likelihood":
            lo, hi = _likelihood_intervals(p, var_logit, df, level, design, columns, dom)
        else:
            sm_method = CLASSICAL[method]
            n_rows = float(design.n)
            nf = n.astype(float)
            n_eff = np.where(v > 0, pq / v * n_rows / (n_rows - 1.0), nf)
            lo = np.full(p.shape, np.nan)
            hi = np.full(p.shape, np.nan)
            ok = np.isfinite(p) & (n_eff > 0)
            if ok.any():
                count = p[ok] * n_eff[ok]
                lo_ok, hi_ok = proportion_confint(count, n_eff[ok], alpha=alpha, method=sm_method)
                lo[ok], hi[ok] = lo_ok, hi_ok
    if method in ("logit", "xlogit", "likelihood") and (edge & (n > 0)).any():
        lo = np.where(edge, np.nan, lo)
        hi = np.where(edge, np.nan, hi)
        g, c = np.argwhere(edge & (n > 0))[0]
        lev = columns[c].level
        warnings.warn(
            f"the estimated proportion of {columns[c].variable!r}"
            + (f" = {lev!r}" if lev else "")
            + f" is {p[g, c]:g}; the {method} interval is undefined there (NaN). Use "
            "ci='beta' (design-based) or 'clopper-pearson'.",
            SurveyWarning,
            stacklevel=4,
        )
    if not df > 0 and method in R_METHODS:
        lo = lo * np.nan
        hi = hi * np.nan
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def _likelihood_intervals(
    p: np.ndarray,
    var_logit: np.ndarray,
    df: float,
    level: float,
    design: Design,
    columns: list[_Column],
    dom: _Domains,
) -> tuple[np.ndarray, np.ndarray]:
    from csa_survey._profile_ci import likelihood_ci

    G, C = p.shape
    lo = np.full(p.shape, np.nan)
    hi = np.full(p.shape, np.nan)
    w_all = np.where(design._mask, design._w, 0.0)
    for c, col in enumerate(columns):
        for g in range(G):
            pc = p[g, c]
            if not (0 < pc < 1) or not var_logit[g, c] > 0 or not df > 0:
                continue
            in_domain = (dom.codes == g) & (w_all > 0)
            rows = col.valid & in_domain
            # svyglm normalises weights over every row of the domain, answered or not
            weight_mean = float(w_all[in_domain].mean())
            lo[g, c], hi[g, c] = likelihood_ci(
                col.values[rows], w_all[rows], var_logit[g, c], df, level, weight_mean
            )
    return lo, hi
