"""Design-based generalised linear models (R's ``svyglm``).

Point estimates come from statsmodels' GLM fitted with the design weights (normalised to
mean 1, as ``svyglm``'s ``rescale=TRUE``); standard errors come from the design, through
the one variance engine (:mod:`csa_survey._variance`):

* Taylor designs: the sandwich of R's ``svy.varcoef``. Each row's influence on the
  coefficients is its score times the inverse information, ``estfun %*% Ainv`` with
  ``estfun_i = w_i x_i (y_i − μ_i) μ'(η_i)/V(μ_i)`` and ``Ainv = (X'WX)⁻¹``; rows not used
  (outside the domain or with a missing value) have zero influence but stay in the design.
  A raked design's calibration applies to these influence functions as to any estimate.
* Replicate designs: the model is refitted with each replicate's weights, as
  ``svyglm.svyrep.design``.

The influence functions are design-based variance logic and are written here by hand; the
fitting is statsmodels'.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
from scipy import stats

from csa_survey import _variance
from csa_survey.design import ReplicateDesign, SurveyDesign, _rank
from csa_survey.exceptions import (
    ConvergenceWarning,
    DegreesOfFreedomWarning,
    InvalidValueError,
)
from csa_survey.results import t_quantile

__all__ = ["ModelResult", "glm"]

Design = SurveyDesign | ReplicateDesign
FAMILIES = ("binomial", "gaussian")
_TOL = 1e-12
_MAXITER = 200


@dataclass(frozen=True, repr=False, eq=False)
class ModelResult:
    """A design-based GLM fit (made by :func:`glm`).

    Attributes
    ----------
    params, bse, tvalues, pvalues : pandas.Series
        Coefficients (patsy names), design-based standard errors, t statistics and
        two-sided p-values on ``df_resid`` degrees of freedom.
    df_resid : float
        Residual design degrees of freedom, ``degf(design) + 1 − p`` (R's ``svyglm``).
    nobs : int
        Rows used in the fit (in the domain, no missing value in the model's variables).
    family, formula : str
    naive : statsmodels GLMResults
        The weighted fit itself (its own standard errors ignore the design: do not use them).
    """

    params: pd.Series
    bse: pd.Series
    tvalues: pd.Series
    pvalues: pd.Series
    df_resid: float
    nobs: int
    family: str
    formula: str
    _vcov: np.ndarray = field(repr=False)
    naive: Any = field(repr=False, default=None)

    def cov_params(self) -> pd.DataFrame:
        """Design-based covariance matrix of the coefficients."""
        names = self.params.index
        return pd.DataFrame(self._vcov.copy(), index=names, columns=names)

    @property
    def vcov(self) -> pd.DataFrame:
        """Same as :meth:`cov_params`."""
        return self.cov_params()

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald intervals ``estimate ± t(df_resid) × se`` (R's ``confint.svyglm``).

        Returns a DataFrame indexed by coefficient with columns ``ci_low``, ``ci_high``
        (NaN when ``df_resid <= 0``).
        """
        q = t_quantile(level, self.df_resid)
        return pd.DataFrame(
            {"ci_low": self.params - q * self.bse, "ci_high": self.params + q * self.bse}
        )

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy coefficient table (a new DataFrame).

        Columns: ``term``, ``estimate``, ``se``, ``t``, ``df``, ``p_value``, ``ci_low``,
        ``ci_high``; for the binomial family also ``odds_ratio``, ``or_ci_low``,
        ``or_ci_high`` (the exponentiated estimate and interval ends).
        """
        ci = self.conf_int(level)
        out = pd.DataFrame(
            {
                "term": self.params.index.to_numpy(dtype=object),
                "estimate": self.params.to_numpy(),
                "se": self.bse.to_numpy(),
                "t": self.tvalues.to_numpy(),
                "df": np.full(len(self.params), self.df_resid),
                "p_value": self.pvalues.to_numpy(),
                "ci_low": ci["ci_low"].to_numpy(),
                "ci_high": ci["ci_high"].to_numpy(),
            }
        )
        if self.family == "binomial":
            out["odds_ratio"] = np.exp(out["estimate"])
            out["or_ci_low"] = np.exp(out["ci_low"])
            out["or_ci_high"] = np.exp(out["ci_high"])
        return out

    def __repr__(self) -> str:
        head = (
            f"Design-based GLM ({self.family}): {self.formula}\n"
            f"{self.nobs} rows used; residual df = {self.df_resid:g}\n"
        )
        return head + self.to_frame().to_string(index=False)

    def _repr_html_(self) -> str:
        f = self.to_frame()
        num = [c for c in f.columns if c not in ("term", "df")]
        f[num] = f[num].map(lambda v: f"{v:.4g}")
        title = html.escape(
            f"Design-based GLM ({self.family}): {self.formula} — {self.nobs} rows, "
            f"residual df {self.df_resid:g}"
        )
        return f"<div><p><strong>{title}</strong></p>{f.to_html(index=False, border=0)}</div>"


def _family(name: str) -> Any:
    if name == "binomial":
        return sm.families.Binomial()
    if name == "gaussian":
        return sm.families.Gaussian()
    raise InvalidValueError(f"family must be one of {FAMILIES}; got {name!r}.")


def _fit(y: np.ndarray, X: np.ndarray, w: np.ndarray, family: str, start: Any = None) -> Any:
    model = sm.GLM(y, X, family=_family(family), freq_weights=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = model.fit(start_params=start, tol=_TOL, maxiter=_MAXITER)
    return res


def glm(d: Design, formula: str, family: str = "binomial") -> ModelResult:
    """Fit a GLM with design-based standard errors (R's ``svyglm``).

    Parameters
    ----------
    d : SurveyDesign or ReplicateDesign
        A ``subset()`` design fits the model in that domain, with the full design's
        variance (R's ``svyglm(design=subset(...))``).
    formula : str
        patsy/statsmodels formula, e.g. ``"seen ~ C(sex) + age"``. Coefficient names are
        patsy's (``C(sex)[T.2]``). Columns whose names are not Python identifiers need
        ``Q("name")``.
    family : {"binomial", "gaussian"}
        ``"binomial"`` (logit link; the response must be 0/1 or boolean) matches R's
        ``svyglm(family=quasibinomial())``; ``"gaussian"`` (identity) matches ``svyglm()``.

    Returns
    -------
    ModelResult

    Notes
    -----
    * Rows with a missing value in any model variable are dropped from the fit; they stay
      in the design with zero influence (R's ``na.action`` + ``design[-nas, ]``).
    * ``df_resid = degf − p + 1`` where ``degf`` is counted as R does for the design the
      model is fitted on: for a Taylor design, PSUs minus strata among the rows used
      (R's subset drops the other rows, or gives them zero weight if the design is
      calibrated); for a replicate design, R's ``degf()`` (the rank of the replicate
      weights, minus one) of the domain. p-values and intervals use t on ``df_resid``.
    * Fits use a convergence tolerance of 1e-12 on the deviance; a model that does not
      converge warns with :class:`~csa_survey.ConvergenceWarning`.

    Examples
    --------
    >>> import numpy as np, pandas as pd, csa_survey as cs
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"x": rng.normal(size=200), "c": np.repeat(np.arange(20), 10)})
    >>> df["y"] = (rng.random(200) < 1 / (1 + np.exp(-df["x"]))).astype(int)
    >>> from csa_survey.regression import glm
    >>> fit = glm(cs.SurveyDesign(df, psu="c"), "y ~ x")
    >>> list(fit.params.index), fit.df_resid
    (['Intercept', 'x'], 18.0)
    """
    if family not in FAMILIES:
        raise InvalidValueError(f"family must be one of {FAMILIES}; got {family!r}.")
    if not isinstance(formula, str) or "~" not in formula:
        raise InvalidValueError(f"formula must be a string like 'y ~ x'; got {formula!r}.")
    data = d.data
    n = d.n
    w_all = np.where(d._mask, d._w, 0.0)
    dom_pos = np.flatnonzero(d._mask)
    sub = data.iloc[dom_pos].set_axis(dom_pos)
    try:
        y_df, X_df = patsy.dmatrices(formula, sub, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as exc:
        raise InvalidValueError(f"could not build the model {formula!r}: {exc}") from exc
    if y_df.shape[1] != 1:
        raise InvalidValueError(
            f"the response of {formula!r} gives {y_df.shape[1]} columns ({list(y_df.columns)});"
            " use a numeric (0/1 for binomial) or boolean response."
        )
    rows = y_df.index.to_numpy(dtype=np.int64)
    if rows.size == 0:
        raise InvalidValueError(f"no row of the domain has every variable of {formula!r}.")
    y = y_df.iloc[:, 0].to_numpy(dtype=float)
    X = X_df.to_numpy(dtype=float)
    names = list(X_df.columns)
    if family == "binomial":
        bad = (y != 0) & (y != 1)
        if bad.any():
            raise InvalidValueError(
                f"family='binomial' needs a 0/1 response; {y_df.columns[0]!r} holds "
                f"{y[bad][0]!r} in {int(bad.sum())} rows."
            )
    p = X.shape[1]
    if np.linalg.matrix_rank(X) < p:
        raise InvalidValueError(
            f"the model matrix of {formula!r} is rank deficient ({p} columns, rank "
            f"{np.linalg.matrix_rank(X)}): some terms are collinear or a level has no rows."
        )
    w_rows = w_all[rows]
    pos = w_all[d._mask] > 0
    w_norm = w_rows / w_all[d._mask][pos].mean()
    res = _fit(y, X, w_norm, family)
    if not res.converged:
        warnings.warn(
            f"the GLM {formula!r} did not converge in {_MAXITER} iterations.",
            ConvergenceWarning,
            stacklevel=2,
        )
    beta = np.asarray(res.params, dtype=float)

    if d.is_replicate:

        def refit(weights: np.ndarray) -> np.ndarray:
            wr = weights[rows]
            mean_w = wr[wr > 0].mean() if (wr > 0).any() else 1.0
            r = _fit(y, X, wr / mean_w, family, start=beta)
            return np.asarray(r.params, dtype=float)

        vcov = _variance.replicate_vcov_from_function(d, refit, beta)
        if d._mask.all():
            degf = d.df
        else:
            degf = float(_rank(d.replicate_weights()) - 1)
    else:
        fam = res.family
        eta = X @ beta
        mu = fam.link.inverse(eta)
        dmu = 1.0 / fam.link.deriv(mu)
        var = fam.variance(mu)
        working = w_norm * dmu**2 / var
        ainv = np.linalg.inv((X * working[:, None]).T @ X)
        estfun = X * (w_norm * (y - mu) * dmu / var)[:, None]
        infl = np.zeros((n, p))
        infl[rows] = estfun @ ainv
        vcov = _variance.vcov_from_influence(d, infl)
        used = np.zeros(n, dtype=bool)
        used[rows] = w_all[rows] > 0
        degf = float(np.unique(d._psu[used]).shape[0] - np.unique(d._stratum[used]).shape[0])
    df_resid = degf + 1.0 - p
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = beta / se
    if df_resid > 0:
        pval = 2 * stats.t.sf(np.abs(tval), df_resid)
    else:
        warnings.warn(
            f"the model has {df_resid:g} residual design degrees of freedom ({p} coefficients"
            f" on a design with {degf:g}); p-values and intervals are undefined (NaN).",
            DegreesOfFreedomWarning,
            stacklevel=2,
        )
        pval = np.full(p, np.nan)
    idx = pd.Index(names)
    return ModelResult(
        params=pd.Series(beta, index=idx, name="estimate"),
        bse=pd.Series(se, index=idx, name="se"),
        tvalues=pd.Series(tval, index=idx, name="t"),
        pvalues=pd.Series(pval, index=idx, name="p_value"),
        df_resid=float(df_resid),
        nobs=int(rows.size),
        family=family,
        formula=formula,
        _vcov=vcov,
        naive=res,
    )
