"""Multiple-response ("select all that apply") questions.

A multi-select question is a *set* of 0/1 items answered by the same respondents. Three
things go wrong in the usual tools, and :class:`MultiResponse` is built around them:

* **Denominators.** The percentage for an item is the share of *respondents who answered
  the set* who selected it (not the share of all selections), so the percentages add up
  to more than 100%. The share of all selections is reported beside it, labelled as such.
* **Bases.** Routed sets are asked of a sub-population ("respondents who contacted a child
  via social media"); :meth:`MultiResponse.from_codebook` takes the base from the
  codebook, and every result carries ``base_description`` and ``base_n``.
* **Paired comparisons.** The same respondents answer every item, so two item
  percentages are correlated; comparing them as if they came from independent samples
  gets the standard error wrong. All items are estimated *jointly* (one call of the
  estimator core, one covariance matrix from the variance engine), and differences use
  that joint covariance (for an unweighted sample this is McNemar's test).

No variance is computed here: item proportions go through the estimator core of
:mod:`csa_survey.estimators` (which hands influence functions or replicate estimates to
:mod:`csa_survey._variance`). The only closed-form covariance in this module is the
multinomial one that *defines* Bilder & Loughin's (2004) Rao–Scott test for independent
observations (MRCV's ``MI.test``), used on unweighted simple random samples.
"""

from __future__ import annotations

import html
import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import cochrans_q
from statsmodels.stats.multitest import multipletests

from csa_survey import estimators as _est
from csa_survey.design import ReplicateDesign, SurveyDesign
from csa_survey.exceptions import (
    ColumnError,
    EmptyDomainError,
    InvalidValueError,
    SurveyWarning,
    describe_rows,
)
from csa_survey.results import Estimate, TestResult, t_quantile

if TYPE_CHECKING:
    from csa_survey.codebook import Codebook

__all__ = [
    "ItemComparison",
    "MultiResponse",
    "MultiResponseTable",
    "funnel_counts",
]

Design = SurveyDesign | ReplicateDesign

#: names accepted by ``compare(adjust=)`` and statsmodels' names for them
ADJUST = {
    "holm": "holm",
    "bh": "fdr_bh",
    "fdr_bh": "fdr_bh",
    "benjamini-hochberg": "fdr_bh",
    "bonferroni": "bonferroni",
    "none": None,
}


# ----------------------------------------------------------------------------- helpers
def _adjust_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """Multiple-testing adjusted p-values (statsmodels' ``multipletests``).

    Holm is computed here (step-down: ``max_{j <= i} (m - j + 1) p_(j)``, capped at 1)
    because statsmodels' Holm branch calls ``gc.collect()``, whose cost grows with the size
    of the Python session (tenths of a second in a notebook); the tests check that both
    give the same numbers. Every other method is statsmodels'.
    """
    if method != "holm":
        return multipletests(p, method=method)[1]
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate(p[order] * np.arange(m, 0, -1))
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def is_simple_random_sample(design: Design) -> bool:
    """True for an unweighted (equal weights in the domain), unclustered, unstratified
    Taylor design without fpc or calibration: the case where classical tests apply.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
        >>> from csa_survey.multiresponse import MultiResponse
    >>> is_simple_random_sample(cs.SurveyDesign(pd.DataFrame({"y": [0, 1, 1]})))
    True
    """
    if design.is_replicate or design._calibration is not None:
        return False
    if design._n_strata != 1 or design._n_psu != design.n:
        return False
    if design._fpc_fraction is not None:
        return False
    w = design._w[design._mask]
    return bool(w.size and np.ptp(w) <= 1e-12 * np.abs(w).max())


def _item_values(data: pd.DataFrame, item: str) -> tuple[np.ndarray, np.ndarray]:
    """0/1 float values (NaN for missing) and the not-missing mask of an item."""
    s = data[item]
    missing = s.isna().to_numpy()
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        ok = ~missing
        example = s[ok].iloc[0] if ok.any() else None
        raise InvalidValueError(
            f"multiple-response item {item!r} must be 0/1, boolean or missing; it has dtype "
            f"{s.dtype} (e.g. {example!r}). Convert it explicitly (e.g. "
            f"df[{item!r}].map({{'Yes': 1, 'No': 0}})) — csa_survey does not coerce silently."
        )
    bad = ~missing & (values != 0) & (values != 1)
    if bad.any():
        rows = s.index[bad]
        raise InvalidValueError(
            f"multiple-response item {item!r} must be 0/1, boolean or missing; it holds "
            f"{s.loc[rows[0]]!r} in {describe_rows(rows)}. Recode other codes (e.g. 'not "
            "asked' = 9) to missing first (Codebook.set_missing)."
        )
    return values, ~missing


def _resolve_labels(items: list[str], labels: Any) -> list[str]:
    if labels is None:
        return list(items)
    if isinstance(labels, Mapping):
        return [str(labels.get(i, i)) for i in items]
    out = [str(x) for x in labels]
    if len(out) != len(items):
        raise InvalidValueError(
            f"labels has {len(out)} entries but there are {len(items)} items; give one label "
            "per item or a mapping item -> label."
        )
    return out


def _fmt_pct(v: float) -> str:
    return "" if pd.isna(v) else f"{100 * v:.1f}%"


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True, repr=False, eq=False)
class MultiResponseTable:
    """Per-item percentages of a multi-select set, with their base.

    Attributes
    ----------
    estimate : Estimate
        The joint estimate of all item proportions (its ``vcov`` is the joint covariance),
        rows in questionnaire order.
    name : str
        Name of the set.
    base_description : str
        Who the percentages are of.
    base_n : int
        Unweighted number of respondents in the base (overall; per group in the ``n``
        column when ``by`` is used).
    level : float
    ci_method : str
    by : tuple of str
    """

    _frame: pd.DataFrame
    estimate: Estimate
    name: str
    base_description: str
    base_n: int
    level: float
    ci_method: str
    by: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """A new DataFrame, one row per item (per group).

        Columns: the ``by`` columns, ``variable``, ``label``, ``estimate`` (share of
        respondents in the base who selected the item), ``se``, ``ci_low``, ``ci_high``,
        ``n`` (unweighted base), ``deff``, ``selected`` (unweighted number who selected
        it), ``share_of_selections`` (the item's share of all selections: these add to
        1), ``rank`` (1 = most often selected).
        """
        return self._frame.copy()

    @property
    def base_line(self) -> str:
        """``"Base: <description>, n = <n>"``."""
        return f"Base: {self.base_description}, n = {self.base_n:,}"

    def _title(self) -> str:
        return (
            f"{self.name}: % of respondents selecting each item "
            f"({100 * self.level:g}% CI, {self.ci_method})"
        )

    def _display(self) -> pd.DataFrame:
        f = self._frame.copy()
        for col in ("estimate", "se", "ci_low", "ci_high", "share_of_selections"):
            f[col] = f[col].map(_fmt_pct)
        f["deff"] = f["deff"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        return f

    def __repr__(self) -> str:
        return (
            f"{self._title()}\n{self._display().to_string(index=False)}\n{self.base_line}\n"
            "Percentages are of respondents, so they add to more than 100%."
        )

    def _repr_html_(self) -> str:
        body = self._display().to_html(index=False, border=0)
        return (
            f"<div><p><strong>{html.escape(self._title())}</strong></p>{body}"
            f"<p><em>{html.escape(self.base_line)}</em>. Percentages are of respondents, "
            "so they add to more than 100%.</p></div>"
        )


@dataclass(frozen=True, repr=False, eq=False)
class ItemComparison:
    """Pairwise comparisons of items of one multi-select set, and an omnibus test.

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per pair (see :meth:`MultiResponse.compare`).
    omnibus : TestResult
        Test that all items are equally prevalent.
    adjust : str
        Multiple-comparison adjustment of ``p_adjusted``.
    paired : bool
        Whether the standard errors use the covariance between items (they should).
    base_description, base_n
        The base.
    """

    pairs: pd.DataFrame
    omnibus: TestResult
    adjust: str
    paired: bool
    base_description: str
    base_n: int

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`pairs`."""
        return self.pairs.copy()

    def __repr__(self) -> str:
        cols = ["label_1", "label_2", "difference", "se", "p_value", "p_adjusted"]
        f = self.pairs[cols].copy()
        f["difference"] = f["difference"].map(_fmt_pct)
        f["se"] = f["se"].map(_fmt_pct)
        return (
            f"Pairwise differences ({'paired' if self.paired else 'UNPAIRED'}; "
            f"{self.adjust} adjustment)\n{f.to_string(index=False)}\n{self.omnibus!r}\n"
            f"Base: {self.base_description}, n = {self.base_n:,}"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><p><strong>Pairwise differences ({self.adjust} adjustment)</strong></p>"
            f"{self.pairs.to_html(index=False, border=0, float_format=lambda v: f'{v:.4g}')}"
            f"<p>{html.escape(repr(self.omnibus))}</p>"
            f"<p><em>Base: {html.escape(self.base_description)}, n = {self.base_n:,}</em></p></div>"
        )


# ---------------------------------------------------------------------------- the set
class MultiResponse:
    """A "select all that apply" question: items answered by the same respondents.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The survey design (possibly a ``subset()`` domain).
    items : list of str
        The 0/1 (or boolean) item columns, in questionnaire order. Missing values allowed.
    labels : mapping or list, optional
        Item labels (default: the column names).
    name : str, optional
        Name of the set, for titles.
    base_description : str, optional
        Who the base is (default ``"respondents who answered the set"``).
    partial : {"not selected", "missing"}
        What a missing item means for a respondent who answered at least one item of the
        set. ``"not selected"`` (default): many exports leave unticked boxes blank, so a
        blank next to a tick means "not ticked", and every item then has the same base.
        ``"missing"``: the item is dropped for that respondent (per-item bases; use when
        the instrument asked each item as a separate yes/no).

    Notes
    -----
    The base is the respondents in the design's domain who *answered the set*: at least
    one item non-missing. A respondent with every item missing did not answer (item
    non-response) and is left out of the base — but stays in the design, so standard
    errors keep the full design (domain estimation, as R's ``subset``). A respondent who
    answered and ticked nothing (all zeros) is in the base. Exports that store "nothing
    ticked" as all-blank cannot be told apart from non-response: recode them before.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
        >>> from csa_survey.multiresponse import MultiResponse
    >>> df = pd.DataFrame({"a": [1, 1, 0, None], "b": [0, 1, 1, None], "c": [0, 0, 1, None]})
    >>> mr = MultiResponse(cs.SurveyDesign(df), ["a", "b", "c"], labels=["A", "B", "C"])
    >>> mr.base_n
    3
    >>> mr.table(sort="items").to_frame()["estimate"].round(3).tolist()
    [0.667, 0.667, 0.333]
    """

    def __init__(
        self,
        design: Design,
        items: Sequence[str],
        *,
        labels: Mapping[str, str] | Sequence[str] | None = None,
        name: str | None = None,
        base_description: str | None = None,
        partial: Literal["not selected", "missing"] = "not selected",
        _data: pd.DataFrame | None = None,
    ) -> None:
        if isinstance(items, str):
            raise ColumnError(
                f"items must be a list of column names; got the single string {items!r}."
            )
        items = list(items)
        if not items:
            raise ColumnError("a multiple-response set needs at least one item column.")
        dup = sorted({i for i in items if items.count(i) > 1})
        if dup:
            raise ColumnError(f"items {dup} are listed more than once.")
        if partial not in ("not selected", "missing"):
            raise InvalidValueError(
                f"partial must be 'not selected' or 'missing'; got {partial!r}."
            )
        data = design.data if _data is None else _data
        for i in items:
            if i not in data.columns:
                raise ColumnError(f"item column {i!r} is not in the data.")
        vals, valid = zip(*(_item_values(data, i) for i in items), strict=True)
        values = np.column_stack(vals)
        answered_item = np.column_stack(valid)
        answered = answered_item.any(axis=1) & design._mask
        if not answered.any():
            raise EmptyDomainError(
                f"no respondent in the domain answered any of the items {items}; the base is "
                "empty."
            )
        self.items = items
        self.labels = _resolve_labels(items, labels)
        self.name = name or "Multiple-response set"
        self.partial = partial
        self.base_description = base_description or "respondents who answered the set"
        self.design = design.subset(answered)
        self._answered = answered
        if partial == "not selected":
            self._valid = np.repeat(answered[:, None], len(items), axis=1)
        else:
            self._valid = answered_item & answered[:, None]
        self._values = np.where(self._valid, np.nan_to_num(values, nan=0.0), 0.0)

    # --------------------------------------------------------------- construction
    @classmethod
    def from_codebook(
        cls,
        design: Design,
        codebook: Codebook,
        set_name: str,
        *,
        partial: Literal["not selected", "missing"] = "not selected",
    ) -> MultiResponse:
        """The set ``set_name`` of ``codebook``, on its routed base.

        The base is the codebook's (:meth:`~csa_survey.codebook.Codebook.base`): respondents
        in the set's universe (routing condition and wave) who answered it; missing-value
        codes of the items are treated as missing. Labels, name and base description come
        from the codebook.

        Examples
        --------
        >>> import csa_survey as cs
        >>> from csa_survey.multiresponse import MultiResponse
        >>> df, cb = cs.load_dataset("csam_users")
        >>> mr = MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "msg_app")
        >>> mr.base_line
        'Base: respondents who contacted a child via a messaging app (asked from wave 3), n = 77'
        """
        s = codebook._set(set_name)
        items = list(s.items)
        base = codebook.base(design.data, set_name)
        data = codebook.set_missing(design.data, items)
        dom = design.subset(base.mask.to_numpy(dtype=bool))
        return cls(
            dom,
            items,
            labels=codebook.item_labels(set_name),
            name=s.label or set_name,
            base_description=codebook.base_description(set_name),
            partial=partial,
            _data=data,
        )

    # ---------------------------------------------------------------- basics
    @property
    def base_n(self) -> int:
        """Unweighted number of respondents in the base (who answered the set)."""
        return int(self._answered.sum())

    @property
    def base_line(self) -> str:
        """``"Base: <description>, n = <n>"`` for printing under a table."""
        return f"Base: {self.base_description}, n = {self.base_n:,}"

    def __repr__(self) -> str:
        return f"MultiResponse({self.name!r}, {len(self.items)} items; {self.base_line})"

    def _columns(self) -> list[Any]:
        return [
            _est._Column(item, "", self._values[:, j], self._valid[:, j])
            for j, item in enumerate(self.items)
        ]

    def _core(self, by: str | Sequence[str] | None) -> tuple[Any, Any, list[Any]]:
        columns = self._columns()
        dom = _est._domains(self.design, by)
        core = _est._core(self.design, columns, dom, "mean")
        return core, dom, columns

    # ---------------------------------------------------------------- estimates
    def estimate(
        self,
        *,
        by: str | Sequence[str] | None = None,
        ci: str = "logit",
        level: float = 0.95,
        df: float | None = None,
    ) -> Estimate:
        """Joint estimate of every item's proportion (an :class:`Estimate`).

        All items (and groups) come from one call of the estimator core, so ``vcov`` is
        their joint covariance and :meth:`Estimate.contrast` between items is valid.
        Intervals are those of :func:`csa_survey.proportion` (``ci=`` methods alike).

        Examples
        --------
        >>> import pandas as pd, csa_survey as cs
        >>> from csa_survey.multiresponse import MultiResponse
        >>> df = pd.DataFrame({"a": [1, 1, 0, 1], "b": [0, 1, 1, 0]})
        >>> est = MultiResponse(cs.SurveyDesign(df), ["a", "b"]).estimate()
        >>> est.vcov.shape
        (2, 2)
        """
        _est._check_level(level)
        method = ci.lower() if isinstance(ci, str) else ci
        if method not in _est.CI_METHODS:
            raise InvalidValueError(
                f"ci must be one of {', '.join(map(repr, _est.CI_METHODS))}; got {ci!r}."
            )
        core, dom, columns = self._core(by)
        _est._warn_empty(dom, columns, core)
        d = _est._df_for(self.design, df)
        p = core.estimate
        v = np.diag(core.vcov).reshape(p.shape)
        var_logit = (
            _est._logit_variance(self.design, core, v)
            if method in ("logit", "likelihood")
            else None
        )
        lo, hi = _est._intervals(
            method, p, v, var_logit, core.n, d, level, self.design, columns, dom
        )
        frame = _est._frame(dom, columns, core, lo, hi)
        return Estimate(
            frame,
            core.vcov,
            "proportion",
            level,
            d,
            method,
            tuple(dom.names),
            tuple(dom.names),
            (self.base_line,),
        )

    def table(
        self,
        by: str | Sequence[str] | None = None,
        ci: str = "logit",
        *,
        level: float = 0.95,
        sort: Literal["estimate", "items"] = "estimate",
    ) -> MultiResponseTable:
        """Percentage of respondents selecting each item, with CIs, base n and the share
        of all selections.

        Parameters
        ----------
        by : str or list of str, optional
            Domain columns: one set of rows per group (joint covariance across groups).
        ci : str
            Interval method, as :func:`csa_survey.proportion` (default ``"logit"``, R's
            ``svyciprop``).
        level : float
            Confidence level.
        sort : {"estimate", "items"}
            ``"estimate"``: most often selected first (within each group);
            ``"items"``: questionnaire order.

        Returns
        -------
        MultiResponseTable
            See :meth:`MultiResponseTable.to_frame` for the columns; ``base_description``
            and ``base_n`` are printed under the table.

        Examples
        --------
        >>> import csa_survey as cs
        >>> from csa_survey.multiresponse import MultiResponse
        >>> df, cb = cs.load_dataset("csam_users")
        >>> mr = MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "sm_platform")
        >>> t = mr.table().to_frame()
        >>> t["label"].iloc[0], int(t["rank"].iloc[0])
        ('Instagram', 1)
        >>> round(float(t["share_of_selections"].sum()), 10)
        1.0
        """
        if sort not in ("estimate", "items"):
            raise InvalidValueError(f"sort must be 'estimate' or 'items'; got {sort!r}.")
        est = self.estimate(by=by, ci=ci, level=level)
        f = est.to_frame()
        k = len(self.items)
        G = len(f) // k
        by_cols = list(est.by)
        w = self.design.weights
        dom = _est._domains(self.design, by)
        selected = np.empty((G, k), dtype=np.int64)
        wsel = np.empty((G, k))
        for j in range(k):
            sel = (self._values[:, j] == 1) & self._valid[:, j] & (dom.codes >= 0)
            selected[:, j] = np.bincount(dom.codes[sel], minlength=G)
            wsel[:, j] = np.bincount(dom.codes[sel], weights=w[sel], minlength=G)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = wsel / wsel.sum(axis=1, keepdims=True)
        f.insert(len(by_cols) + 1, "label", self.labels * G)
        f = f.drop(columns="level")
        f["selected"] = pd.array(selected.reshape(-1), dtype="Int64")
        f["share_of_selections"] = share.reshape(-1)
        f["_group"] = np.repeat(np.arange(G), k)
        f["_order"] = np.tile(np.arange(k), G)
        f["rank"] = (
            f.sort_values(["_group", "estimate", "_order"], ascending=[True, False, True])
            .groupby("_group")
            .cumcount()
            .add(1)
            .reindex(f.index)
            .astype("Int64")
        )
        key = ["_group", "rank"] if sort == "estimate" else ["_group", "_order"]
        f = f.sort_values(key).drop(columns=["_group", "_order"]).reset_index(drop=True)
        return MultiResponseTable(
            f,
            est,
            self.name,
            self.base_description,
            self.base_n,
            level,
            est.ci_method,
            tuple(by_cols),
        )

    # ---------------------------------------------------------------- comparisons
    def compare(
        self,
        *,
        adjust: str = "holm",
        level: float = 0.95,
        paired: bool = True,
        omnibus: Literal["auto", "cochran", "wald"] = "auto",
    ) -> ItemComparison:
        """Every pair of items: difference in proportions with a paired, design-based SE.

        Parameters
        ----------
        adjust : {"holm", "bh", "bonferroni", "none"}
            Multiple-comparison adjustment of the pairwise p-values (statsmodels'
            ``multipletests``; ``"bh"`` is Benjamini–Hochberg).
        level : float
            Confidence level of the differences' intervals.
        paired : bool
            ``True`` (right): the SE uses the joint covariance of the items,
            ``se² = v₁ + v₂ − 2 c₁₂``. ``False`` ignores the covariance, as a test for
            two independent samples would — wrong for a multi-select set (the same people
            answered both items); offered only to show the difference.
        omnibus : {"auto", "cochran", "wald"}
            Test that all items are equally prevalent: Cochran's Q (statsmodels'
            ``cochrans_q``; valid for an unweighted simple random sample, used by
            ``"auto"`` there), or a design-based adjusted Wald F test from the joint
            covariance (used by ``"auto"`` otherwise).

        Returns
        -------
        ItemComparison
            ``pairs`` columns: ``item_1``, ``item_2``, ``label_1``, ``label_2``,
            ``estimate_1``, ``estimate_2``, ``difference`` (1 − 2), ``se``, ``ci_low``,
            ``ci_high``, ``statistic`` (t = difference/se), ``df``, ``p_value``,
            ``p_adjusted``, ``n`` (respondents answering both), ``only_1``, ``only_2``
            (unweighted discordant counts: selected one item but not the other).

        Notes
        -----
        The difference and its SE are :meth:`Estimate.contrast` on :meth:`estimate`, and
        ``p_value`` is two-sided from t with the design's df (R: ``svycontrast`` on a
        multi-item ``svymean``). For an unweighted simple random sample the squared
        statistic is a monotone function of McNemar's: with ``b``, ``c`` the discordant
        counts, ``n`` the base and ``N`` the rows of the design (``N = n`` unless the set
        is routed), McNemar's ``M = (b − c)²/(b + c)`` and
        ``t² = (N − 1)/N · M n/(n − M)`` (the design SE carries the ``N/(N − 1)`` factor
        of a with-replacement variance, and estimates the variance of the discordance
        around its mean rather than under the null). The adjusted Wald test is
        ``F = (d − q + 1)/(d q) · W`` on ``(q, d − q + 1)`` df, with ``W`` the Wald
        statistic of the ``q = k − 1`` differences from the first item and ``d`` the
        design df (R's ``svychisq(statistic="adjWald")`` convention).

        Examples
        --------
        >>> import csa_survey as cs
        >>> from csa_survey.multiresponse import MultiResponse
        >>> df, cb = cs.load_dataset("csam_users")
        >>> mr = MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "contact_channel")
        >>> res = mr.compare()
        >>> len(res.pairs), res.omnibus.method.split(" (")[0]
        (3, "Cochran's Q test")
        """
        if adjust not in ADJUST:
            raise InvalidValueError(f"adjust must be one of {list(ADJUST)}; got {adjust!r}.")
        k = len(self.items)
        if k < 2:
            raise InvalidValueError("compare() needs a set with at least two items.")
        est = self.estimate(level=level)
        pairs = list(itertools.combinations(range(k), 2))
        cmat = np.zeros((len(pairs), k))
        for r, (a, b) in enumerate(pairs):
            cmat[r, a], cmat[r, b] = 1.0, -1.0
        if paired:
            con = est.contrast(cmat, level=level)
            f = con.to_frame()
            diff, se = f["estimate"].to_numpy(), f["se"].to_numpy()
        else:
            diff = cmat @ est.to_frame()["estimate"].to_numpy()
            var = np.diag(est._vcov)
            se = np.sqrt(cmat**2 @ var)
        q = t_quantile(level, est.df)
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = diff / se
        p = 2 * stats.t.sf(np.abs(tstat), est.df) if est.df > 0 else np.full(len(diff), np.nan)
        method = ADJUST[adjust]
        ok = np.isfinite(p)
        padj = p.copy()
        if method is not None and ok.any():
            padj[ok] = _adjust_pvalues(p[ok], method)
        e = est.to_frame()["estimate"].to_numpy()
        v, valid = self._values, self._valid & self._answered[:, None]
        # pair counts for all pairs at once: both answered, only the first, only the second
        answered = valid.astype(float)
        yes = (valid & (v == 1)).astype(float)
        no = (valid & (v == 0)).astype(float)
        n_both, yes_no = answered.T @ answered, yes.T @ no
        rows = []
        for r, (a, b) in enumerate(pairs):
            rows.append(
                {
                    "item_1": self.items[a],
                    "item_2": self.items[b],
                    "label_1": self.labels[a],
                    "label_2": self.labels[b],
                    "estimate_1": e[a],
                    "estimate_2": e[b],
                    "difference": diff[r],
                    "se": se[r],
                    "ci_low": diff[r] - q * se[r],
                    "ci_high": diff[r] + q * se[r],
                    "statistic": tstat[r],
                    "df": est.df,
                    "p_value": p[r],
                    "p_adjusted": padj[r],
                    "n": int(round(n_both[a, b])),
                    "only_1": int(round(yes_no[a, b])),
                    "only_2": int(round(yes_no[b, a])),
                }
            )
        frame = pd.DataFrame(rows)
        for c in ("n", "only_1", "only_2"):
            frame[c] = frame[c].astype("Int64")
        return ItemComparison(
            frame,
            self._omnibus(est, omnibus),
            adjust,
            paired,
            self.base_description,
            self.base_n,
        )

    def _omnibus(self, est: Estimate, kind: str) -> TestResult:
        if kind not in ("auto", "cochran", "wald"):
            raise InvalidValueError(f"omnibus must be 'auto', 'cochran' or 'wald'; got {kind!r}.")
        k = len(self.items)
        srs = is_simple_random_sample(self.design)
        if kind == "cochran" or (kind == "auto" and srs):
            rows = self._answered & self._valid.all(axis=1)
            x = self._values[rows]
            res = cochrans_q(x)
            return TestResult(
                float(res.statistic),
                float(res.df),
                None,
                float(res.pvalue),
                "Cochran's Q test (unweighted) that all items are equally prevalent",
            )
        theta = est.to_frame()["estimate"].to_numpy()
        c = np.hstack([np.ones((k - 1, 1)), -np.eye(k - 1)])
        d = c @ theta
        v = c @ est._vcov @ c.T
        w = float(d @ np.linalg.pinv(v) @ d)
        qn, dd = k - 1, est.df
        fstat = (dd - qn + 1) / (dd * qn) * w
        dfd = dd - qn + 1
        p = float(stats.f.sf(fstat, qn, dfd)) if dfd > 0 else float("nan")
        return TestResult(
            fstat,
            float(qn),
            float(dfd),
            p,
            "Design-based adjusted Wald F test that all items are equally prevalent",
        )

    # ---------------------------------------------------------------- overlap
    def overlap(self) -> pd.DataFrame:
        """Counts of each combination of selected items (for UpSet plots).

        Returns
        -------
        pandas.DataFrame
            Indexed by a MultiIndex of booleans, one level per item (named by its label):
            whether the combination includes the item. Columns: ``n`` (unweighted
            respondents), ``weighted`` (sum of weights), ``percent`` (weighted share of
            the base). Sorted by ``n``, largest first. ``frame["n"]`` can be passed
            directly to ``upsetplot.plot``. Respondents with a missing item (only with
            ``partial="missing"``) are left out.

        Examples
        --------
        >>> import pandas as pd, csa_survey as cs
        >>> from csa_survey.multiresponse import MultiResponse
        >>> df = pd.DataFrame({"a": [1, 1, 0, 1], "b": [0, 1, 1, 0]})
        >>> ov = MultiResponse(cs.SurveyDesign(df), ["a", "b"]).overlap()
        >>> ov["n"].tolist()
        [2, 1, 1]
        """
        rows = self._answered & self._valid.all(axis=1)
        pattern = pd.DataFrame(self._values[rows] == 1, columns=self.labels)
        pattern["_w"] = self.design.weights[rows]
        g = pattern.groupby(self.labels, sort=True)
        out = pd.DataFrame({"n": g.size(), "weighted": g["_w"].sum()})
        out["percent"] = out["weighted"] / out["weighted"].sum()
        out["n"] = out["n"].astype("int64")
        return out.sort_values("n", ascending=False, kind="stable")

    # ---------------------------------------------------------------- independence
    def test_independence(
        self,
        by: str,
        method: Literal["rao-scott", "bonferroni"] = "rao-scott",
        *,
        add_constant: float = 0.5,
        covariance: Literal["auto", "multinomial", "design"] = "auto",
    ) -> TestResult:
        """Multiple marginal independence of the set and a categorical variable.

        Tests whether every item's prevalence is the same in every group of ``by``
        (Bilder & Loughin 2004; R package MRCV, ``MI.test``).

        Parameters
        ----------
        by : str
            Categorical column (rows where it is missing are left out).
        method : {"rao-scott", "bonferroni"}
            ``"rao-scott"``: second-order Rao–Scott adjusted ``X²_S`` (MRCV
            ``type="rs2"``). ``"bonferroni"``: the smallest per-item p-value times the
            number of items, capped at 1 (MRCV ``type="bon"``); ``statistic`` is ``X²_S``.
        add_constant : float
            Added to zero cells of each item's table before its Pearson statistic (MRCV's
            ``add.constant``).
        covariance : {"auto", "multinomial", "design"}
            ``"multinomial"``: MRCV's covariance for independent observations (used by
            ``"auto"`` for an unweighted simple random sample, where the result equals
            ``MI.test``); ``"design"``: the covariance of the item-by-group proportions
            from the variance engine (used by ``"auto"`` otherwise).

        Returns
        -------
        TestResult
            ``statistic``, fractional ``df``, ``df_denom=None`` (chi-square reference),
            ``p_value``; ``table`` has one row per item: ``variable``, ``label``,
            ``statistic`` (its Pearson X²), ``df``, ``p_value``, ``p_bonferroni``.

        Notes
        -----
        ``X²_S = Σ_j X²_j`` sums the Pearson statistics of the ``r × 2`` tables of group
        by item j. Let ``p_i`` be the item proportions in group i, ``a_i`` the group's
        share of the base, ``π̄`` the pooled proportions, ``H = I − (J A) ⊗ I_c`` (centring
        at the pooled proportions), ``D = diag(π̄_j (1 − π̄_j)/a_i)`` and ``Σ`` the
        covariance of the stacked ``p_i`` times ``n``. The statistic is asymptotically
        ``Σ λ_l χ²_1`` with ``λ`` the eigenvalues of ``M = D⁻¹ H Σ H'``.

        * multinomial (MRCV, Appendix A of Bilder & Loughin 2004):
          ``Σ = blockdiag(Cov_i/a_i)``, with ``Cov_i`` the item covariance within group
          i (divisor ``n_i``); ``X²_S,adj = (r − 1) c X²_S / Σλ²`` on
          ``(r − 1)² c² / Σλ²`` df (MRCV puts the null value ``(r − 1)c`` for ``Σλ``).
        * design: ``Σ = n V̂`` with ``V̂`` from the variance engine (Taylor or replicate)
          and the weighted ``a_i``, ``π̄``; the Pearson statistics use the weighted table
          scaled to the base n; ``X²_S,adj = X²_S Σλ / Σλ²`` on ``(Σλ)²/Σλ²`` df (the
          usual second-order Rao–Scott correction, with the estimated ``Σλ``).
          The per-item p-values for Bonferroni are second-order corrected the same way.
          With the Taylor variance on an unweighted sample ``V̂`` carries a factor
          ``n/(n − 1)`` that the multinomial covariance lacks.

        Respondents missing an item (``partial="missing"``) are left out of this test.

        Examples
        --------
        >>> import csa_survey as cs
        >>> from csa_survey.multiresponse import MultiResponse
        >>> df, cb = cs.load_dataset("csam_users")
        >>> mr = MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "contact_channel")
        >>> res = mr.test_independence("gender")
        >>> res.df_denom is None and 0 <= res.p_value <= 1
        True
        """
        if method not in ("rao-scott", "bonferroni"):
            raise InvalidValueError(f"method must be 'rao-scott' or 'bonferroni'; got {method!r}.")
        if covariance not in ("auto", "multinomial", "design"):
            raise InvalidValueError(
                f"covariance must be 'auto', 'multinomial' or 'design'; got {covariance!r}."
            )
        if not isinstance(by, str):
            raise ColumnError(f"by must be one column name; got {by!r}.")
        _est._check_columns(self.design, [by], "by")
        keep = self._answered & self._valid.all(axis=1) & self.design.data[by].notna().to_numpy()
        if not keep.any():
            raise EmptyDomainError(f"no respondent in the base has a value of {by!r}.")
        sub = MultiResponse.__new__(MultiResponse)
        sub.__dict__.update(self.__dict__)
        sub.design = self.design.subset(keep)
        sub._answered = keep
        core, dom, _ = sub._core(by)
        r, c = dom.n_groups, len(self.items)
        if r < 2:
            raise InvalidValueError(f"{by!r} has a single level in the base; nothing to test.")
        multinomial = covariance == "multinomial" or (
            covariance == "auto" and is_simple_random_sample(sub.design)
        )
        codes = dom.codes[keep]
        x = self._values[keep]
        n = int(keep.sum())
        if multinomial:
            n_i = np.bincount(codes, minlength=r).astype(float)
            a = n_i / n
            p = core.estimate  # (r, c): unweighted group proportions
            blocks = []
            for i in range(r):
                xi = x[codes == i]
                blocks.append(np.atleast_2d(np.cov(xi, rowvar=False, bias=True)) / a[i])
            sigma = _blockdiag(blocks)
        else:
            wsum = core.weight_sum[:, 0]
            a = wsum / wsum.sum()
            p = core.estimate
            sigma = n * core.vcov
        pbar = a @ p  # (c,)
        cells1 = n * a[:, None] * p
        cells0 = n * a[:, None] * (1 - p)
        valid_item = (pbar > 0) & (pbar < 1)
        x2 = np.full(c, np.nan)
        for j in range(c):
            if not valid_item[j]:
                continue
            tab = np.column_stack([cells0[:, j], cells1[:, j]])
            tab = np.where(tab == 0, add_constant, tab)
            x2[j] = stats.chi2_contingency(tab, correction=False).statistic
        if not valid_item.all():
            bad = [self.items[j] for j in np.flatnonzero(~valid_item)]
            warnings.warn(
                f"item(s) {bad} are selected by everyone or by no one in the base; the test "
                "of independence is undefined (NaN), as MRCV's.",
                SurveyWarning,
                stacklevel=2,
            )
        x2s = float(x2.sum())
        h = np.eye(r * c) - np.kron(np.outer(np.ones(r), a), np.eye(c))
        with np.errstate(divide="ignore", invalid="ignore"):
            dinv = 1.0 / (np.kron(1.0 / a, pbar * (1 - pbar)))
        m = dinv[:, None] * (h @ sigma @ h.T)
        tr_m, tr_m2 = float(np.trace(m)), float(np.trace(m @ m))
        if multinomial:
            first = (r - 1) * c
            per_item_p = stats.chi2.sf(x2, r - 1)
            per_item_df = np.full(c, float(r - 1))
        else:
            first = tr_m
            per_item_p = np.full(c, np.nan)
            per_item_df = np.full(c, np.nan)
            for j in range(c):
                idx = np.arange(r) * c + j
                mj = m[np.ix_(idx, idx)]
                t1, t2 = np.trace(mj), np.trace(mj @ mj)
                per_item_df[j] = t1**2 / t2
                per_item_p[j] = stats.chi2.sf(x2[j] * t1 / t2, per_item_df[j])
        p_bon_items = np.minimum(c * per_item_p, 1.0)
        table = pd.DataFrame(
            {
                "variable": self.items,
                "label": self.labels,
                "statistic": x2,
                "df": per_item_df,
                "p_value": per_item_p,
                "p_bonferroni": p_bon_items,
            }
        )
        kind = "multinomial" if multinomial else "design-based"
        if method == "rao-scott":
            stat = first * x2s / tr_m2
            dfa = first**2 / tr_m2
            return TestResult(
                stat,
                dfa,
                None,
                float(stats.chi2.sf(stat, dfa)),
                f"Multiple marginal independence of {self.name!r} and {by!r}: second-order "
                f"Rao-Scott X2_S ({kind} covariance)",
                table,
            )
        return TestResult(
            x2s,
            float((r - 1) * c),
            None,
            float(min(c * np.nanmin(per_item_p), 1.0)) if np.isfinite(x2s) else float("nan"),
            f"Multiple marginal independence of {self.name!r} and {by!r}: Bonferroni-adjusted "
            f"minimum item p-value ({kind})",
            table,
        )


def _blockdiag(blocks: list[np.ndarray]) -> np.ndarray:
    size = sum(b.shape[0] for b in blocks)
    out = np.zeros((size, size))
    at = 0
    for b in blocks:
        k = b.shape[0]
        out[at : at + k, at : at + k] = b
        at += k
    return out


# ------------------------------------------------------------------------------ funnel
def funnel_counts(
    data: pd.DataFrame,
    codebook: Codebook,
    steps: Sequence[tuple[str, str]],
) -> pd.DataFrame:
    """Unweighted counts along a routed sequence of questions (for a funnel chart).

    Parameters
    ----------
    data : pandas.DataFrame
        Respondent data (not modified).
    codebook : Codebook
    steps : list of (label, spec)
        ``spec`` is ``"all"`` (every row), a question or set name of the codebook (its
        base: in the universe and answered, :meth:`Codebook.base`), or a
        :meth:`pandas.DataFrame.eval` condition. Each step is also restricted to the
        previous steps' rows.

    Returns
    -------
    pandas.DataFrame
        ``step``, ``n``, ``pct_of_previous``, ``pct_of_first``, ``description``.

    Examples
    --------
    >>> import csa_survey as cs
        >>> from csa_survey.multiresponse import MultiResponse
    >>> df, cb = cs.load_dataset("csam_users")
    >>> f = funnel_counts(df, cb, [("All", "all"), ("Sought contact", "sought_contact == 1")])
    >>> f["n"].tolist()[0]
    1528
    """
    mask = pd.Series(True, index=data.index)
    rows = []
    for label, spec in steps:
        if spec == "all":
            m = pd.Series(True, index=data.index)
            desc = "all respondents"
        elif spec in codebook.sets or spec in codebook:
            b = codebook.base(data, spec)
            m, desc = b.mask, f"answered {spec!r}: {b.description}"
        else:
            sub = codebook.set_missing(data)
            m = sub.eval(spec, engine="python")
            m = pd.Series(m, index=data.index).fillna(False).astype(bool)
            desc = spec
        mask = mask & m
        rows.append({"step": label, "n": int(mask.sum()), "description": desc})
    out = pd.DataFrame(rows)
    n = out["n"].astype(float)
    out.insert(2, "pct_of_previous", n / n.shift(1).fillna(n.iloc[0]))
    out.insert(3, "pct_of_first", n / n.iloc[0])
    out["n"] = out["n"].astype("Int64")
    return out
