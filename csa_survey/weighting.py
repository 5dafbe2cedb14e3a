"""Weighting: raking to population margins, weight trimming and design-effect diagnostics.

:func:`rake` calibrates a design's weights to known population totals of several
categorical variables by iterative proportional fitting, exactly as R's ``survey::rake``,
and attaches a :class:`RakingCalibration` to the new design so that every estimate from
it carries the calibration into its standard error (R's ``svyrecvar`` "raking" branch).
:func:`trim_weights` caps extreme weights and hands the excess to the other units so the
weight total is kept (R's ``trimWeights``). :func:`kish_deff`, :func:`effective_sample_size`
and :func:`weight_summary` describe how much precision unequal weights cost.

The calibration residuals are design-based variance logic and are written by hand (no
Python library reproduces R's raking variance); everything else is plain numpy/pandas.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from csa_survey.design import ReplicateDesign, SurveyDesign
from csa_survey.exceptions import (
    ColumnError,
    ConvergenceWarning,
    DesignError,
    InvalidValueError,
    MarginsError,
    describe_rows,
)

__all__ = [
    "RakingCalibration",
    "effective_sample_size",
    "kish_deff",
    "rake",
    "trim_weights",
    "weight_summary",
]

Design = SurveyDesign | ReplicateDesign

#: back-fitting sweeps R's svyrecvar makes over the raking margins (fixed in R's code)
RESIDUAL_SWEEPS = 10


# --------------------------------------------------------------------- calibration
class RakingCalibration:
    """Calibration residuals of a raked design (R's ``svyrecvar`` for ``rake()`` designs).

    Influence functions ``z`` (n x k) are replaced, before they are summed to PSU totals, by

    .. code-block:: text

        repeat 10 times:
            for each margin m:  z <- z - psw_m * ave(z / psw_m, category_m)

    where ``ave`` is the plain (unweighted) mean over the rows of each category of margin
    ``m`` and ``psw_m`` are the weights just after margin ``m`` was fitted in the final
    sweep of the raking (R's ``attr(index, "weights")`` of ``postStratify``). This is R's
    approximation to the residuals from regressing ``z`` on the margins' indicators; it
    is reproduced exactly, not improved on, so standard errors equal R's.

    Parameters
    ----------
    codes : list of ndarray of int
        One per margin: each row's category code in ``[0, n_categories)``.
    psw : list of ndarray of float
        One per margin: the weights after that margin's adjustment in the last sweep.
    names : list of str
        Margin (column) names, for display.
    previous : object, optional
        A calibration already on the design (applied first, as R applies ``postStrata``
        in order).
    """

    def __init__(
        self,
        codes: Sequence[np.ndarray],
        psw: Sequence[np.ndarray],
        names: Sequence[str],
        previous: Any = None,
    ) -> None:
        self.codes = [np.asarray(c, dtype=np.int64) for c in codes]
        self.psw = [np.asarray(p, dtype=float) for p in psw]
        self.names = list(names)
        self.previous = previous
        self._n_cat = [int(c.max()) + 1 for c in self.codes]
        # rows per category (R's ave counts every row of the category)
        self._counts = [
            np.bincount(c, minlength=m) for c, m in zip(self.codes, self._n_cat, strict=True)
        ]

    def residualize(self, z: np.ndarray) -> np.ndarray:
        """Calibration residuals of influence functions ``z`` (n,) or (n, k); a new array."""
        x = np.array(z, dtype=float, copy=True)
        one_d = x.ndim == 1
        if one_d:
            x = x[:, None]
        if self.previous is not None:
            x = np.asarray(self.previous.residualize(x), dtype=float)
        n, k = x.shape
        cols = np.arange(k)
        for _ in range(RESIDUAL_SWEEPS):
            for codes, psw, m, counts in zip(
                self.codes, self.psw, self._n_cat, self._counts, strict=True
            ):
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(psw[:, None] > 0, x / psw[:, None], 0.0)
                idx = (codes[:, None] * k + cols).ravel()
                sums = np.bincount(idx, weights=ratio.ravel(), minlength=m * k).reshape(m, k)
                means = sums / counts[:, None]
                x = x - psw[:, None] * means[codes]
        return x[:, 0] if one_d else x

    def __repr__(self) -> str:
        prev = f"{self.previous!r}, then " if self.previous is not None else ""
        return prev + "raked to margins of " + ", ".join(map(repr, self.names))


# ---------------------------------------------------------------------------- rake
def _margin_table(column: str, totals: Any) -> dict[Any, float]:
    if isinstance(totals, pd.Series):
        totals = totals.to_dict()
    if not isinstance(totals, Mapping) or not totals:
        raise MarginsError(
            f"margins[{column!r}] must be a non-empty mapping from category to population "
            f"total (or a pandas Series); got {type(totals).__name__}."
        )
    out: dict[Any, float] = {}
    for cat, value in totals.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise MarginsError(
                f"margins[{column!r}][{cat!r}] must be a number; got {value!r}."
            ) from None
        if not math.isfinite(v) or v < 0:
            raise MarginsError(
                f"margins[{column!r}][{cat!r}] is {value!r}; population totals must be "
                "finite and >= 0."
            )
        out[cat] = v
    return out


def _margin_codes(
    design: SurveyDesign, column: str, totals: dict[Any, float], w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Category code per row, target total per code, and the category labels."""
    data = design.data
    if column not in data.columns:
        known = ", ".join(map(str, list(data.columns)[:12]))
        raise ColumnError(f"margin column {column!r} is not in the data (columns: {known} …).")
    s = data[column]
    na = s.isna().to_numpy()
    if na.any():
        raise MarginsError(
            f"margin column {column!r} is missing in {describe_rows(s.index[na])}; every row "
            "must have a category to be raked (impute it, or give the missing rows their own "
            "category and population total)."
        )
    values = s.to_numpy(dtype=object)
    cats = list(totals)
    lookup = {}
    for i, c in enumerate(cats):
        lookup[c] = i
    codes = np.fromiter((lookup.get(v, -1) for v in values), dtype=np.int64, count=len(values))
    unknown = codes < 0
    if unknown.any():
        vals = pd.unique(values[unknown])
        parts = [
            f"{v!r} ({int((values[unknown] == v).sum())} rows, e.g. "
            f"{describe_rows(s.index[values == v], limit=3)})"
            for v in vals[:5]
        ]
        hint = ""
        if all(isinstance(c, str) for c in cats) and not pd.api.types.is_string_dtype(s.dtype):
            hint = " (the margins' categories are text but the column is not: convert one)"
        raise MarginsError(
            f"margin column {column!r} has categories with no population total in margins: "
            + "; ".join(parts)
            + f". The margins list {cats!r}{hint}."
        )
    target = np.array([totals[c] for c in cats])
    counts = np.bincount(codes, minlength=len(cats))
    wsum = np.bincount(codes, weights=w, minlength=len(cats))
    absent = (counts == 0) & (target > 0)
    if absent.any():
        bad = [f"{cats[i]!r} (population {target[i]:g})" for i in np.flatnonzero(absent)]
        raise MarginsError(
            f"margin column {column!r}: categories in margins have no rows in the data: "
            + ", ".join(bad)
            + " (0 rows each). Raking cannot give weight to people who are not in the sample: "
            "merge the category with a neighbour or drop it from the margins."
        )
    zero_w = (counts > 0) & (wsum <= 0) & (target > 0)
    if zero_w.any():
        i = int(np.flatnonzero(zero_w)[0])
        raise MarginsError(
            f"margin column {column!r}: category {cats[i]!r} has {int(counts[i])} rows but all "
            f"their weights are 0, while its population total is {target[i]:g}: the margin "
            "cannot be met. Merge the category or give those rows positive weights."
        )
    pop_zero = (target == 0) & (wsum > 0)
    if pop_zero.any():
        i = int(np.flatnonzero(pop_zero)[0])
        raise MarginsError(
            f"margin column {column!r}: category {cats[i]!r} has a population total of 0 but "
            f"{int(counts[i])} sampled rows with positive weight "
            f"({describe_rows(s.index[codes == i], limit=3)}); drop those rows or fix the margin."
        )
    return codes, target, cats


def rake(
    d: SurveyDesign,
    margins: Mapping[str, Mapping[Any, float] | pd.Series],
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> SurveyDesign:
    """Rake (calibrate) a design's weights to population totals of several variables.

    Iterative proportional fitting: each sweep scales the weights so that, margin by margin,
    the weighted count of every category equals its population total. The result equals R's
    ``rake(design, list(~v1, ~v2), list(pop1, pop2))`` (run to convergence), and its
    estimates carry the calibration in their standard errors as R's raked designs do.

    Parameters
    ----------
    d : SurveyDesign
        A full (not ``subset()``) Taylor design; may already be raked or post-stratified
        (the calibrations then apply in order, as R).
    margins : dict
        ``{column: {category: population total, ...}, ...}``; each inner mapping may also be
        a pandas Series indexed by category. Categories are matched to the column's values
        exactly (``2`` and ``"2"`` differ). Every margin must have the same grand total.
    max_iter : int
        Maximum number of sweeps over the margins.
    tol : float
        Convergence tolerance: raking stops when, after a sweep, every margin's weighted
        totals are within ``tol`` × (population total) of the targets.

    Returns
    -------
    SurveyDesign
        A new design with the raked weights (``.weights``) and a :class:`RakingCalibration`.

    Raises
    ------
    MarginsError
        A category in the data has no population total, a category in the margins has no
        rows (or only rows of weight 0), a margin column has missing values, totals are
        negative, or the margins' grand totals differ.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` sweeps did not reach ``tol`` (the weights returned are the last
        sweep's). Unlike R's default (10 sweeps, tolerance of one person), nothing stops
        silently.

    Notes
    -----
    Standard errors follow R's ``svyrecvar``: influence functions are replaced by residuals
    from 10 back-fitting sweeps over the margins (see :class:`RakingCalibration`). Domains
    (``subset()``, ``by=``) of the raked design keep every row in the calibration, as R does
    by setting ``prob = Inf`` outside a domain of a calibrated design.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> from csa_survey.weighting import rake
    >>> df = pd.DataFrame({"sex": ["m", "m", "f", "f", "f"], "age": ["y", "o", "y", "o", "o"]})
    >>> d = rake(cs.SurveyDesign(df), {"sex": {"m": 50.0, "f": 50.0},
    ...                                   "age": {"y": 40.0, "o": 60.0}})
    >>> [round(float(w), 4) for w in d.weights]
    [24.1128, 25.8872, 15.8872, 17.0564, 17.0564]
    """
    if not isinstance(d, SurveyDesign):
        raise DesignError(
            "rake() supports Taylor designs (SurveyDesign); raking replicate designs is not "
            "implemented yet: rake the SurveyDesign, or calibrate each replicate weight yourself."
        )
    if not d._mask.all():
        raise DesignError(
            "rake() needs the full design: rake first, then subset() the raked design "
            "(domains of a calibrated design keep the calibration, as in R)."
        )
    if not isinstance(margins, Mapping) or not margins:
        raise MarginsError("margins must be a non-empty dict {column: {category: total}}.")
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise InvalidValueError(f"max_iter must be a positive integer; got {max_iter!r}.")
    if not (isinstance(tol, int | float) and tol > 0):
        raise InvalidValueError(f"tol must be a positive number; got {tol!r}.")

    w = np.array(d._w, dtype=float, copy=True)
    names = list(margins)
    tables = [_margin_table(str(c), margins[c]) for c in names]
    specs = [_margin_codes(d, c, t, w) for c, t in zip(names, tables, strict=True)]
    grand = np.array([spec[1].sum() for spec in specs])
    if not np.allclose(grand, grand[0], rtol=1e-8, atol=0):
        listed = ", ".join(f"{c!r}: {g:.10g}" for c, g in zip(names, grand, strict=True))
        raise MarginsError(
            f"the margins describe different populations: their totals differ ({listed}). "
            "Raking cannot meet all of them; make every margin sum to the same total."
        )
    pop = float(grand[0])
    psw: list[np.ndarray] = [w] * len(specs)
    converged = False
    gap = np.inf
    for _ in range(max_iter):
        for j, (codes, target, _cats) in enumerate(specs):
            current = np.bincount(codes, weights=w, minlength=target.shape[0])
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(current > 0, target / current, 0.0)
            w = w * factor[codes]
            psw[j] = w
        gap = max(
            float(np.max(np.abs(np.bincount(c, weights=w, minlength=t.shape[0]) - t)))
            for c, t, _ in specs
        )
        if gap <= tol * pop:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"raking did not converge in {max_iter} sweeps: the largest margin is still "
            f"{gap:.3g} ({gap / pop:.3g} of the population) from its target. Increase "
            "max_iter, or check for margins that the sample can hardly meet (near-empty "
            "categories).",
            ConvergenceWarning,
            stacklevel=2,
        )
    cal = RakingCalibration(
        [s[0] for s in specs], psw, [str(c) for c in names], previous=d._calibration
    )
    return d._with(_w=w, _calibration=cal)


# ------------------------------------------------------------------------ trimming
def trim_weights(
    d: SurveyDesign,
    *,
    upper: float | None = None,
    lower: float | None = None,
    upper_quantile: float | None = None,
    lower_quantile: float | None = None,
    max_iter: int = 100,
) -> SurveyDesign:
    """Cap weights at bounds and share the trimmed amount among the other units.

    Weights above ``upper`` are set to ``upper`` (below ``lower`` to ``lower``) and the
    total trimmed is added equally to the units inside the bounds, so the weight total is
    unchanged (R's ``trimWeights``). Redistribution can push a unit over a bound; trimming
    is then repeated, each time sharing only among units not yet at a bound, until every
    weight is within the bounds (``max_iter=1`` is R's ``strict=FALSE``).

    Parameters
    ----------
    d : SurveyDesign
        A full design (raked designs keep their calibration, as R's ``trimWeights``).
    upper, lower : float, optional
        Absolute bounds.
    upper_quantile, lower_quantile : float, optional
        Bounds as quantiles of the current positive weights (e.g. ``0.99``), used instead of
        ``upper``/``lower``.
    max_iter : int
        Maximum rounds of trimming and redistribution.

    Returns
    -------
    SurveyDesign

    Raises
    ------
    InvalidValueError
        Bounds that the total cannot satisfy (e.g. ``upper`` below the mean weight).

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> from csa_survey.weighting import trim_weights
    >>> df = pd.DataFrame({"w": [1.0, 1.0, 1.0, 9.0]})
    >>> trim_weights(cs.SurveyDesign(df, weights="w"), upper=4.0).weights.round(4).tolist()
    [2.6667, 2.6667, 2.6667, 4.0]
    """
    if not isinstance(d, SurveyDesign):
        raise DesignError("trim_weights() supports Taylor designs (SurveyDesign).")
    if not d._mask.all():
        raise DesignError("trim_weights() needs the full design: trim first, then subset().")
    w0 = np.asarray(d._w, dtype=float)
    pos = w0 > 0
    if upper_quantile is not None:
        if upper is not None:
            raise InvalidValueError("give upper or upper_quantile, not both.")
        if not 0 < upper_quantile <= 1:
            raise InvalidValueError(f"upper_quantile must be in (0, 1]; got {upper_quantile!r}.")
        upper = float(np.quantile(w0[pos], upper_quantile))
    if lower_quantile is not None:
        if lower is not None:
            raise InvalidValueError("give lower or lower_quantile, not both.")
        if not 0 <= lower_quantile < 1:
            raise InvalidValueError(f"lower_quantile must be in [0, 1); got {lower_quantile!r}.")
        lower = float(np.quantile(w0[pos], lower_quantile))
    hi = np.inf if upper is None else float(upper)
    lo = -np.inf if lower is None else float(lower)
    if hi <= lo:
        raise InvalidValueError(f"upper ({hi:g}) must be greater than lower ({lo:g}).")
    mean_w = w0[pos].mean()
    if hi < mean_w or lo > mean_w:
        raise InvalidValueError(
            f"the bounds [{lo:g}, {hi:g}] exclude the mean weight {mean_w:.6g}: the weight "
            "total cannot be kept. Widen the bounds."
        )
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise InvalidValueError(f"max_iter must be a positive integer; got {max_iter!r}.")
    w = w0.copy()
    fixed = ~pos  # zero-weight rows take no part
    for _ in range(max_iter):
        outside = ~fixed & ((w < lo) | (w > hi))
        if not outside.any():
            break
        new = np.clip(w, lo, hi)
        excess = float((w - new)[outside].sum())
        fixed = fixed | outside
        receivers = ~fixed
        if not receivers.any():
            raise InvalidValueError("every weight hit a bound: the bounds are too tight.")
        new[receivers] += excess / receivers.sum()
        w = np.where(pos, new, 0.0)
    else:
        if (~fixed & ((w < lo) | (w > hi))).any():
            warnings.warn(
                f"weight trimming stopped after {max_iter} rounds with weights outside "
                f"[{lo:g}, {hi:g}].",
                ConvergenceWarning,
                stacklevel=2,
            )
    return d._with(_w=w)


# --------------------------------------------------------------------- diagnostics
def weight_summary(d: Design, *, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Weight diagnostics overall or per domain.

    Returns
    -------
    pandas.DataFrame
        Columns: the ``by`` columns (if any), ``n`` (rows with positive weight),
        ``weight_sum``, ``weight_min``, ``weight_mean``, ``weight_max``, ``cv`` (coefficient
        of variation of the weights, population convention), ``kish_deff`` (``1 + cv²``,
        Kish's design effect due to unequal weighting) and ``n_eff``
        (``(Σw)² / Σw² = n / kish_deff``).

    Notes
    -----
    Kish's design effect measures only the precision lost to unequal weights, assuming
    the outcome is unrelated to the weights; clustering and stratification effects are in
    the ``deff`` column of an estimate instead.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> from csa_survey.weighting import weight_summary
    >>> df = pd.DataFrame({"w": [1.0, 1.0, 2.0, 4.0]})
    >>> weight_summary(cs.SurveyDesign(df, weights="w"))[["n", "kish_deff", "n_eff"]]
       n  kish_deff     n_eff
    0  4      1.375  2.909091
    """
    w = d.weights
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    for c in by_cols:
        if c not in d.data.columns:
            raise ColumnError(f"by column {c!r} is not in the data.")
    frame = pd.DataFrame({"_w": w})
    for c in by_cols:
        frame[c] = d.data[c].to_numpy()
    frame = frame[frame["_w"] > 0]

    def summarise(ws: pd.Series) -> pd.Series:
        a = ws.to_numpy(dtype=float)
        n = a.shape[0]
        s1, s2 = a.sum(), (a * a).sum()
        m = s1 / n
        cv = float(np.sqrt(max(s2 / n - m * m, 0.0)) / m)
        return pd.Series(
            {
                "n": n,
                "weight_sum": s1,
                "weight_min": a.min(),
                "weight_mean": m,
                "weight_max": a.max(),
                "cv": cv,
                "kish_deff": n * s2 / s1**2,
                "n_eff": s1**2 / s2,
            }
        )

    if by_cols:
        out = (
            frame.groupby(by_cols, sort=True, dropna=True, observed=True)["_w"]
            .apply(summarise)
            .unstack()
            .reset_index()
        )
    else:
        out = summarise(frame["_w"]).to_frame().T
    out["n"] = out["n"].astype("int64")
    return out.reset_index(drop=True)


def kish_deff(d: Design, *, by: str | Sequence[str] | None = None) -> float | pd.Series:
    """Kish's design effect due to unequal weighting, ``1 + CV² = n Σw² / (Σw)²``.

    Returns a float, or with ``by=`` a Series indexed by domain (see :func:`weight_summary`).

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> from csa_survey.weighting import kish_deff
    >>> kish_deff(cs.SurveyDesign(pd.DataFrame({"w": [1.0, 3.0]}), weights="w"))
    1.25
    """
    return _pick(weight_summary(d, by=by), by, "kish_deff")


def effective_sample_size(
    d: Design, *, by: str | Sequence[str] | None = None
) -> float | pd.Series:
    """Kish's effective sample size ``(Σw)² / Σw²`` (rows with positive weight).

    Returns a float, or with ``by=`` a Series indexed by domain (see :func:`weight_summary`).

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> from csa_survey.weighting import effective_sample_size
    >>> effective_sample_size(cs.SurveyDesign(pd.DataFrame({"w": [1.0, 3.0]}), weights="w"))
    1.6
    """
    return _pick(weight_summary(d, by=by), by, "n_eff")


def _pick(frame: pd.DataFrame, by: Any, column: str) -> float | pd.Series:
    if by is None:
        return float(frame[column].iloc[0])
    cols = [by] if isinstance(by, str) else list(by)
    return frame.set_index(cols)[column].astype(float)
