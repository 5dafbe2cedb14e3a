"""Two-way tables: weighted cell, row and column proportions, and Rao–Scott tests.

:func:`crosstab` estimates every cell, row and column proportion of a two-way table
jointly, by running the estimator core (:mod:`csa_survey.estimators`) on cell indicators,
so their standard errors come from the one variance engine and their joint covariance is
available. :meth:`Crosstab.test` is R's ``svychisq``: the Pearson statistic of the
weighted table with the Rao–Scott first-order (``"Chisq"``) or second-order (``"F"``)
correction from the design-based covariance of the cell proportions.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csa_survey import estimators as _est
from csa_survey.design import ReplicateDesign, SurveyDesign, _rank
from csa_survey.exceptions import ColumnError, InvalidValueError, SurveyWarning
from csa_survey.results import TestResult

__all__ = ["Crosstab", "crosstab"]

Design = SurveyDesign | ReplicateDesign
STATISTICS = ("F", "Chisq", "pearson")
TABLE_COLUMNS = ("kind", "estimate", "se", "ci_low", "ci_high", "n", "count", "deff")


def _levels(s: pd.Series, keep: np.ndarray) -> list[Any]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s[keep].unique())
        return [c for c in s.cat.categories if c in present]
    vals = pd.unique(s[keep])
    try:
        return sorted(vals)
    except TypeError:
        return list(vals)


@dataclass(frozen=True, repr=False, eq=False)
class Crosstab:
    """A design-based two-way table (made by :func:`crosstab`).

    Attributes
    ----------
    row, col : str
        The row and column variables.
    by : tuple of str
        Domain columns (one table per domain).
    level : float
        Confidence level of the intervals.
    df : float
        Degrees of freedom of the intervals (the design's).
    """

    row: str
    col: str
    by: tuple[str, ...]
    level: float
    df: float
    _table: pd.DataFrame
    _vcov: np.ndarray
    _design: Any = field(repr=False)
    _row_levels: list[Any] = field(repr=False)
    _col_levels: list[Any] = field(repr=False)
    _cell_index: np.ndarray = field(repr=False)  # (G, nr, nc) positions of cell estimates
    _n_valid: np.ndarray = field(repr=False)  # (G,) rows with both variables, per domain
    _dom_rows: list[np.ndarray] = field(repr=False)  # (n,) bool per domain
    _domains: pd.DataFrame = field(repr=False)

    # ------------------------------------------------------------------ access
    @property
    def table(self) -> pd.DataFrame:
        """Long-format table (a new DataFrame), one row per cell and kind of proportion.

        Columns: the ``by`` columns, the row variable, the column variable, ``kind``
        (``"cell"``: share of the whole table; ``"row"``: share of the row; ``"column"``:
        share of the column), ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n`` (rows
        in the base: the table, the row or the column, with both variables answered),
        ``count`` (unweighted rows in the cell) and ``deff``.
        """
        return self._table.copy()

    @property
    def vcov(self) -> pd.DataFrame:
        """Joint covariance of every estimate in :attr:`table`, in its row order."""
        t = self._table
        cols = [*self.by, self.row, self.col, "kind"]
        labels = [" | ".join(f"{c}={t.iloc[i][c]}" for c in cols) for i in range(len(t))]
        return pd.DataFrame(self._vcov.copy(), index=labels, columns=labels)

    def wide(self, kind: str = "cell") -> pd.DataFrame:
        """The estimates of one ``kind`` as a row × column table (domains stacked)."""
        if kind not in ("cell", "row", "column"):
            raise InvalidValueError(f"kind must be 'cell', 'row' or 'column'; got {kind!r}.")
        t = self._table[self._table["kind"] == kind]
        return t.pivot_table(
            index=[*self.by, self.row], columns=self.col, values="estimate", observed=True
        )

    # ------------------------------------------------------------------- tests
    def test(self, statistic: str = "F", *, domain: Any = None) -> TestResult:
        """Test of independence of the row and column variables (R's ``svychisq``).

        Parameters
        ----------
        statistic : {"F", "Chisq", "pearson"}
            * ``"F"``: Rao–Scott second-order correction, ``svychisq(statistic="F")``:
              ``F = X² / tr(Δ)`` on ``(d0, d0 ν)`` degrees of freedom with
              ``d0 = tr(Δ)² / tr(Δ²)``.
            * ``"Chisq"``: first-order correction, ``svychisq(statistic="Chisq")``.
              ``statistic`` is the Pearson ``X²`` as R reports it: of the weighted table
              scaled to the number of rows of the design it is given, including rows
              missing either variable (and, for a calibrated design, rows outside the
              domain). The p-value refers ``X² / mean(δ)`` (``X2_adjusted`` in ``table``,
              with ``X²`` scaled to the answered rows) to χ² on ``(r − 1)(c − 1)`` df; it
              does not depend on that scaling.
            * ``"pearson"``: the naive Pearson test of the weighted table rescaled to the
              number of rows (ignores the design; for unweighted simple random samples it
              equals ``scipy.stats.chi2_contingency(correction=False)``).
        domain : scalar or tuple, optional
            With ``by=``, the domain to test (its ``by`` value(s)); see :meth:`tests`.

        Returns
        -------
        TestResult
            ``table`` holds ``X2`` (Pearson), ``delta_mean``, ``X2_adjusted``
            (``X² / mean(δ)``), ``d0`` and ``nu``.

        Notes
        -----
        ``X²`` is Pearson's statistic of the weighted table scaled to ``N`` (rows with both
        variables) and ``Δ = (C'D⁻¹C/N)⁻¹ C'D⁻¹ V D⁻¹ C`` with ``V`` the design covariance of
        the cell proportions (from the variance engine), ``D = diag(p)`` and ``C`` the
        interaction contrasts. ``ν`` is counted as R's ``svychisq`` does: PSUs minus strata
        of the design it is given (for a domain of a design that is not calibrated: the
        PSUs and strata with rows in the domain, as R's ``subset()`` drops the other rows;
        for a replicate design, R's ``degf()`` of the domain).
        """
        if statistic not in STATISTICS:
            raise InvalidValueError(
                f"statistic must be one of {', '.join(map(repr, STATISTICS))}; got {statistic!r}."
            )
        g = self._domain_index(domain)
        return self._test_one(statistic, g)

    def tests(self, statistic: str = "F") -> pd.DataFrame:
        """One test per domain: the ``by`` columns, ``statistic``, ``df``, ``df_denom``,
        ``p_value``."""
        rows = []
        for g in range(len(self._domains)):
            r = self._test_one(statistic, g)
            rec = {c: self._domains.iloc[g][c] for c in self.by}
            rec.update(statistic=r.statistic, df=r.df, df_denom=r.df_denom, p_value=r.p_value)
            rows.append(rec)
        return pd.DataFrame(rows)

    def _domain_index(self, domain: Any) -> int:
        if not self.by:
            if domain is not None:
                raise InvalidValueError("this crosstab has no by= domains; omit domain=.")
            return 0
        if domain is None:
            if len(self._domains) == 1:
                return 0
            raise InvalidValueError(
                f"this crosstab has {len(self._domains)} domains of {list(self.by)}: pass "
                "domain=<value> to test one, or use .tests() for all."
            )
        key = domain if isinstance(domain, tuple) else (domain,)
        for g in range(len(self._domains)):
            if tuple(self._domains.iloc[g][c] for c in self.by) == key:
                return g
        raise InvalidValueError(f"domain {domain!r} is not one of the by= domains.")

    def _nu(self, g: int) -> float:
        d = self._design
        rows = self._dom_rows[g]
        if d.is_replicate:
            if rows.all():
                return d.df
            return float(_rank(d.replicate_weights()[rows]) - 1)
        if d._calibration is not None:
            rows = np.ones_like(rows)  # R: prob = Inf outside domains of calibrated designs
        return float(np.unique(d._psu[rows]).shape[0] - np.unique(d._stratum[rows]).shape[0])

    def _test_one(self, statistic: str, g: int) -> TestResult:
        idx = self._cell_index[g]  # (nr, nc)
        counts = self._table["count"].to_numpy()[idx]
        keep_r = counts.sum(axis=1) > 0
        keep_c = counts.sum(axis=0) > 0
        idx = idx[np.ix_(keep_r, keep_c)]
        nr, nc = idx.shape
        if nr < 2 or nc < 2:
            raise InvalidValueError(
                f"the table of {self.row!r} by {self.col!r} has {nr} row(s) and {nc} column(s)"
                " with data in this domain; a test of independence needs at least 2 of each."
            )
        # R orders cells with the row index varying fastest
        flat = idx.T.reshape(-1)
        p = self._table["estimate"].to_numpy()[flat]
        V = self._vcov[np.ix_(flat, flat)]
        N = float(self._n_valid[g])
        table = p.reshape(nc, nr).T * N
        rs, cs_ = table.sum(axis=1), table.sum(axis=0)
        expected = np.outer(rs, cs_) / N
        x2 = float(((table - expected) ** 2 / expected).sum())
        dfq = (nr - 1) * (nc - 1)
        nu = self._nu(g)
        if statistic == "pearson":
            return TestResult(
                x2,
                float(dfq),
                None,
                float(stats.chi2.sf(x2, dfq)),
                "Pearson's X^2 on the weighted table scaled to n (ignores the design)",
            )
        rr = np.tile(np.arange(nr), nc)
        cc = np.repeat(np.arange(nc), nr)
        rdum = (rr[:, None] == np.arange(1, nr)).astype(float)
        cdum = (cc[:, None] == np.arange(1, nc)).astype(float)
        X1 = np.column_stack([np.ones(nr * nc), rdum, cdum])
        inter = (rdum[:, :, None] * cdum[:, None, :]).reshape(nr * nc, -1)
        coef, *_ = np.linalg.lstsq(X1, inter, rcond=None)
        C = inter - X1 @ coef
        with np.errstate(divide="ignore"):
            idv = np.where(p == 0, 0.0, 1.0 / p)
        denom = (C.T * (idv / N)) @ C
        numr = (C.T * idv) @ V @ (C * idv[:, None])
        delta = np.linalg.solve(denom, numr)
        tr = float(np.trace(delta))
        tr2 = float(np.trace(delta @ delta))
        d0 = tr**2 / tr2
        details = pd.DataFrame(
            {
                "X2": [x2],
                "delta_mean": [tr / dfq],
                "X2_adjusted": [x2 / (tr / dfq)],
                "d0": [d0],
                "nu": [nu],
            }
        )
        if statistic == "F":
            f = x2 / tr
            if not nu > 0:
                warnings.warn(
                    f"the design has {nu:g} degrees of freedom; the F test is undefined (NaN).",
                    SurveyWarning,
                    stacklevel=3,
                )
            pval = float(stats.f.sf(f, d0, d0 * nu)) if nu > 0 else float("nan")
            return TestResult(
                f, d0, d0 * nu, pval, "Pearson's X^2: Rao & Scott adjustment (F)", details
            )
        pval = float(stats.chi2.sf(x2 / (tr / dfq), dfq))
        # R reports X² of the table scaled to every row of the design it is given (rows
        # missing a variable included); the p-value does not depend on that scale
        d = self._design
        rows = self._dom_rows[g]
        n_r = d.n if (not d.is_replicate and d._calibration is not None) else int(rows.sum())
        return TestResult(
            x2 * n_r / N,
            float(dfq),
            None,
            pval,
            "Pearson's X^2: Rao & Scott adjustment (Chisq)",
            details,
        )

    # ----------------------------------------------------------------- display
    def __repr__(self) -> str:
        return (
            f"Crosstab of {self.row!r} by {self.col!r}"
            + (f" within {list(self.by)}" if self.by else "")
            + f" ({100 * self.level:g}% CI; df = {self.df:g})\n"
            + self._table.to_string(index=False)
        )

    def _repr_html_(self) -> str:
        f = self._table.copy()
        for c in ("estimate", "se", "ci_low", "ci_high"):
            f[c] = f[c].map(lambda v: "" if pd.isna(v) else f"{100 * v:.1f}%")
        f["deff"] = f["deff"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        title = html.escape(f"Crosstab of {self.row} by {self.col}")
        return f"<div><p><strong>{title}</strong></p>{f.to_html(index=False, border=0)}</div>"


def crosstab(
    d: Design,
    row: str,
    col: str,
    *,
    by: str | Sequence[str] | None = None,
    ci: str = "logit",
    level: float = 0.95,
) -> Crosstab:
    """Weighted two-way table with cell, row and column proportions and their SEs.

    Parameters
    ----------
    d : SurveyDesign or ReplicateDesign
    row, col : str
        Categorical (or any discrete) columns. Rows missing either are left out of the table
        but stay in the design for the variance (R's ``svymean(na.rm=TRUE)``).
    by : str or list of str, optional
        One table per domain (variance from the full design).
    ci : str
        Interval method for the proportions, as :func:`csa_survey.proportion`.
    level : float
        Confidence level.

    Returns
    -------
    Crosstab
        ``.table`` (long format), ``.vcov`` (joint covariance of all estimates),
        ``.test()`` (Rao–Scott), ``.wide()``.

    Notes
    -----
    Every proportion is a domain mean of an indicator: a cell proportion is the mean of
    the cell's indicator over rows with both variables answered; a row proportion the mean
    of the column's indicator over the row's rows; a column proportion likewise. All are
    estimated in one call of the estimator core, so they share one covariance matrix.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> df = pd.DataFrame({"sex": ["m", "m", "f", "f", "f", "m"],
    ...                    "seen": ["y", "n", "y", "y", "n", "y"]})
    >>> from csa_survey.tables import crosstab
    >>> xt = crosstab(cs.SurveyDesign(df), "sex", "seen")
    >>> t = xt.table
    >>> float(t.query("kind == 'row' and sex == 'f' and seen == 'y'")["estimate"].iloc[0])
    0.6666666666666666
    """
    _est._check_level(level)
    for name, c in (("row", row), ("col", col)):
        if not isinstance(c, str):
            raise ColumnError(f"{name} must be one column name; got {c!r}.")
    _est._check_columns(d, [row, col], "crosstab")
    if row == col:
        raise ColumnError(f"row and col are both {row!r}; name two different columns.")
    by_cols = _est._as_list(by, "by")
    clash = {row, col} & (set(by_cols) | set(TABLE_COLUMNS))
    if clash:
        raise ColumnError(
            f"column name(s) {sorted(clash)} clash with the by columns or the table's own "
            f"columns {TABLE_COLUMNS}; rename them."
        )
    method = ci.lower() if isinstance(ci, str) else ci
    if method not in _est.CI_METHODS:
        raise InvalidValueError(
            f"ci must be one of {', '.join(map(repr, _est.CI_METHODS))}; got {ci!r}."
        )
    data = d.data
    rs, cs_ = data[row], data[col]
    valid = (~rs.isna() & ~cs_.isna()).to_numpy()
    dom = _est._domains(d, by_cols or None)
    in_dom = dom.codes >= 0
    keep = valid & in_dom
    if not keep.any():
        raise InvalidValueError(
            f"no row of the domain has both {row!r} and {col!r} answered; nothing to tabulate."
        )
    rlev = _levels(rs, keep)
    clev = _levels(cs_, keep)
    # category codes (-1 for missing), safe for nullable dtypes whose NA has no truth value
    rcode = np.asarray(pd.Categorical(rs, categories=rlev).codes)
    ccode = np.asarray(pd.Categorical(cs_, categories=clev).codes)
    r_ind = [valid & (rcode == i) for i in range(len(rlev))]
    c_ind = [valid & (ccode == j) for j in range(len(clev))]
    nr, nc = len(rlev), len(clev)
    columns: list[_est._Column] = []
    spec: list[tuple[str, int, int]] = []
    for kind in ("cell", "row", "column"):
        for i in range(nr):
            for j in range(nc):
                cell = (r_ind[i] & c_ind[j]).astype(float)
                base = {"cell": valid, "row": r_ind[i], "column": c_ind[j]}[kind]
                columns.append(_est._Column(f"{kind}", f"{i}|{j}", cell, base))
                spec.append((kind, i, j))
    core = _est._core(d, columns, dom, "mean")
    dfree = _est._df_for(d, None)
    p = core.estimate
    v = np.diag(core.vcov).reshape(p.shape)
    var_logit = _est._logit_variance(d, core, v) if method in ("logit", "likelihood") else None
    named = [
        _est._Column(
            f"{row} x {col}",
            f"{kind} {rlev[i]!r}, {clev[j]!r}",
            columns[k].values,
            columns[k].valid,
        )
        for k, (kind, i, j) in enumerate(spec)
    ]
    with warnings.catch_warnings():
        # an empty cell (p = 0) has no logit interval; the table shows NaN there
        warnings.simplefilter("ignore", SurveyWarning)
        lo, hi = _est._intervals(method, p, v, var_logit, core.n, dfree, level, d, named, dom)
    G, K = p.shape
    cell_counts = np.empty((G, K), dtype=np.int64)
    for k, col_k in enumerate(columns):
        m = (col_k.values > 0) & in_dom
        cell_counts[:, k] = np.bincount(dom.codes[m], minlength=G)
    se = np.sqrt(np.clip(np.diag(core.vcov), 0, None)).reshape(G, K)
    out: dict[str, Any] = {}
    if dom.names:
        rep = dom.frame.loc[np.repeat(np.arange(G), K)].reset_index(drop=True)
        for name in dom.names:
            out[name] = rep[name]
    out[row] = [rlev[i] for _, i, _ in spec] * G
    out[col] = [clev[j] for _, _, j in spec] * G
    out["kind"] = [k for k, _, _ in spec] * G
    out["estimate"] = p.reshape(-1)
    out["se"] = se.reshape(-1)
    out["ci_low"] = lo.reshape(-1)
    out["ci_high"] = hi.reshape(-1)
    out["n"] = pd.array(core.n.reshape(-1), dtype="Int64")
    out["count"] = pd.array(cell_counts.reshape(-1), dtype="Int64")
    out["deff"] = core.deff.reshape(-1)
    table = pd.DataFrame(out)
    cell_pos = np.arange(G)[:, None, None] * K + np.arange(nr * nc).reshape(1, nr, nc)
    n_valid = np.bincount(dom.codes[keep], minlength=G)
    dom_rows = [dom.codes == g for g in range(G)]
    return Crosstab(
        row=row,
        col=col,
        by=tuple(dom.names),
        level=level,
        df=dfree,
        _table=table,
        _vcov=core.vcov,
        _design=d,
        _row_levels=rlev,
        _col_levels=clev,
        _cell_index=cell_pos,
        _n_valid=n_valid,
        _dom_rows=dom_rows,
        _domains=dom.frame,
    )
