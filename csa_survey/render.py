"""Tables for people: the deck's ranked layout, publication tables, small-cell suppression.

Formatting only: every function takes a result object (:class:`~csa_survey.Estimate`,
:class:`~csa_survey.multiresponse.MultiResponseTable`) or a tidy frame made by the
estimators and lays it out as plain text, HTML or LaTeX. Nothing here computes a
statistic; the ranks come from the order (or ``rank`` column) the estimator produced.

Disclosure control
------------------
Every table function takes ``min_base=k``: cells whose *unweighted* count is below ``k``
are suppressed (primary suppression) and shown as ``[c]``. Where a suppressed cell
could be recovered by subtraction from a total (a total row of an additive table, the
margins of a two-way table), further cells are suppressed (secondary suppression, shown
as ``[c*]``). When ``min_base`` is not given, the default set with :func:`set_min_base`
applies (initially none). The default lives here, in the presentation layer only: the
estimators never suppress anything.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csa_survey.exceptions import ColumnError, InvalidValueError

__all__ = [
    "RenderedTable",
    "deck_table",
    "get_min_base",
    "publication_table",
    "set_min_base",
    "suppression_pattern",
    "two_way_table",
]

PRIMARY = "primary"
SECONDARY = "secondary"
MARK = {PRIMARY: "[c]", SECONDARY: "[c*]"}
_DEFAULT: dict[str, int | None] = {"min_base": None}


# ------------------------------------------------------------------------ the default
class set_min_base:
    """Set the default ``min_base`` of every table function in this module.

    Usable as a plain call (the setting stays) or as a context manager (the previous
    value comes back on exit). ``None`` switches the default off.

    Examples
    --------
    >>> from csa_survey import render
    >>> with render.set_min_base(10):
    ...     render.get_min_base()
    10
    >>> render.get_min_base() is None
    True
    """

    def __init__(self, k: int | None) -> None:
        if k is not None and (not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 0):
            raise InvalidValueError(f"min_base must be a non-negative integer or None; got {k!r}.")
        self.previous = _DEFAULT["min_base"]
        _DEFAULT["min_base"] = None if k is None else int(k)

    def __enter__(self) -> set_min_base:
        return self

    def __exit__(self, *exc: object) -> None:
        _DEFAULT["min_base"] = self.previous


def get_min_base() -> int | None:
    """The current default ``min_base`` (None = no suppression)."""
    return _DEFAULT["min_base"]


def _resolve_min_base(min_base: int | None) -> int | None:
    k = get_min_base() if min_base is None else min_base
    if k is not None and (isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0):
        raise InvalidValueError(f"min_base must be a non-negative integer; got {k!r}.")
    return None if k is None else int(k)


# ---------------------------------------------------------------------- suppression
def suppression_pattern(
    counts: pd.DataFrame | pd.Series,
    min_base: int | None = None,
    *,
    total_row: Any = None,
    total_col: Any = None,
) -> pd.DataFrame:
    """Which cells to suppress: ``""``, ``"primary"`` or ``"secondary"`` per cell.

    Parameters
    ----------
    counts : DataFrame or Series
        Unweighted counts behind each cell (a Series is one column).
    min_base : int, optional
        Cells with a count below it are suppressed (default :func:`get_min_base`).
    total_row, total_col : label, optional
        The row (column) holding the sum of the other rows (columns). Each row/column of
        an additive table is checked: if exactly one of its cells is suppressed, the
        smallest other cell of that line is suppressed too (preferring inner cells to the
        total), repeated until no line has a single suppressed cell.

    Returns
    -------
    pandas.DataFrame
        Same shape and labels as ``counts`` (a one-column frame for a Series).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.Series([40, 3, 25, 68], index=["A", "B", "C", "Total"])
    >>> suppression_pattern(c, 5, total_row="Total").iloc[:, 0].tolist()
    ['', 'primary', 'secondary', '']
    """
    frame = counts.to_frame() if isinstance(counts, pd.Series) else counts
    k = _resolve_min_base(min_base)
    out = pd.DataFrame("", index=frame.index, columns=frame.columns, dtype=object)
    if k is None:
        return out
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    state = np.where(np.isfinite(values) & (values < k), PRIMARY, "").astype(object)
    for label, axis_labels, what in (
        (total_row, frame.index, "total_row"),
        (total_col, frame.columns, "total_col"),
    ):
        if label is not None and label not in axis_labels:
            raise ColumnError(f"{what} {label!r} is not a label of the table.")
    r_tot = None if total_row is None else frame.index.get_loc(total_row)
    c_tot = None if total_col is None else frame.columns.get_loc(total_col)

    def lines() -> list[tuple[np.ndarray, np.ndarray, int | None]]:
        out_lines = []
        nr, nc = values.shape
        if r_tot is not None:  # each column adds up to its total-row cell
            for j in range(nc):
                out_lines.append((np.arange(nr), np.full(nr, j), r_tot))
        if c_tot is not None:  # each row adds up to its total-column cell
            for i in range(nr):
                out_lines.append((np.full(nc, i), np.arange(nc), c_tot))
        return out_lines

    changed = True
    while changed:
        changed = False
        for rows, cols, tot_pos in lines():
            cells = state[rows, cols]
            if (cells != "").sum() != 1:
                continue
            pos = np.arange(len(rows))
            free = pos[(cells == "") & np.isfinite(values[rows, cols])]
            if free.size == 0:
                continue
            inner = free[free != tot_pos]
            pool = inner if inner.size else free
            pick = pool[np.argmin(values[rows[pool], cols[pool]])]
            state[rows[pick], cols[pick]] = SECONDARY
            changed = True
    out.iloc[:, :] = state
    return out


# --------------------------------------------------------------------------- output
@dataclass(frozen=True)
class RenderedTable:
    """A formatted table: display strings plus how to print them.

    Attributes
    ----------
    body : pandas.DataFrame
        The cells as strings (suppressed cells already replaced by their marks).
    title : str
    footer : list of str
        Lines under the table (base, suppression note).
    header : bool
        Whether the column names are printed.
    """

    body: pd.DataFrame
    title: str = ""
    footer: tuple[str, ...] = ()
    header: bool = True
    separator: str | None = None

    def to_text(self) -> str:
        """Plain text (monospace columns; joined by ``separator`` when it is set)."""
        if self.separator is not None:
            cells = self.body.astype(str)
            widths = [int(cells[c].str.len().max()) for c in cells.columns]
            table = "\n".join(
                self.separator.join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(
                    " |"
                )
                for row in cells.itertuples(index=False)
            )
        else:
            table = self.body.to_string(index=False, header=self.header)
        parts = [self.title] if self.title else []
        parts += [table, *self.footer]
        return "\n".join(parts)

    def to_html(self) -> str:
        """An HTML fragment."""
        rows = []
        if self.header:
            rows.append(
                "<tr>"
                + "".join(f"<th>{html.escape(str(c))}</th>" for c in self.body.columns)
                + "</tr>"
            )
        for _, r in self.body.iterrows():
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>")
        cap = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        foot = "".join(f"<p><em>{html.escape(f)}</em></p>" for f in self.footer)
        return f'<div><table class="csa-table">{cap}{"".join(rows)}</table>{foot}</div>'

    def to_latex(self) -> str:
        """A LaTeX ``table`` with a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``)."""
        ncol = self.body.shape[1]
        align = "l" + "r" * (ncol - 1)
        lines = ["\\begin{table}[ht]", "\\centering"]
        if self.title:
            lines.append(f"\\caption{{{_latex_escape(self.title)}}}")
        lines += [f"\\begin{{tabular}}{{{align}}}", "\\toprule"]
        if self.header:
            lines.append(" & ".join(_latex_escape(str(c)) for c in self.body.columns) + " \\\\")
            lines.append("\\midrule")
        for _, r in self.body.iterrows():
            lines.append(" & ".join(_latex_escape(str(v)) for v in r) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}"]
        for f in self.footer:
            lines.append(f"\\par\\smallskip{{\\footnotesize {_latex_escape(f)}}}")
        lines.append("\\end{table}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()


def _latex_escape(s: str) -> str:
    repl = {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
    return "".join(repl.get(ch, ch) for ch in s)


# ------------------------------------------------------------------------- inputs
def _tidy(result: Any) -> tuple[pd.DataFrame, str | None, int | None]:
    """A frame with ``label`` plus the result's base description and n (if any)."""
    base_desc = getattr(result, "base_description", None)
    base_n = getattr(result, "base_n", None)
    if isinstance(result, pd.DataFrame):
        f = result.copy()
    elif hasattr(result, "to_frame"):
        f = result.to_frame()
    else:
        raise InvalidValueError(
            f"expected a DataFrame or a result with to_frame(); got {type(result).__name__}."
        )
    if "label" not in f.columns:
        if "variable" not in f.columns:
            raise ColumnError("the table needs a 'label' or 'variable' column.")
        lab = f["variable"].astype(str)
        if "level" in f.columns:
            lev = f["level"].astype(str)
            lab = lab.where(lev == "", lab + ": " + lev)
        f["label"] = lab
    return f, base_desc, base_n


def _pct(v: Any, decimals: int) -> str:
    return "" if v is None or pd.isna(v) else f"{100 * float(v):.{decimals}f}%"


def _count_column(f: pd.DataFrame, count: str | None) -> str | None:
    if count is not None:
        if count not in f.columns:
            raise ColumnError(f"count column {count!r} is not in the table.")
        return count
    for c in ("selected", "n"):
        if c in f.columns:
            return c
    return None


def _footer(base_desc: str | None, base_n: int | None, k: int | None, any_sec: bool) -> list:
    foot = []
    if base_desc is not None and base_n is not None:
        foot.append(f"Base: {base_desc}, n = {int(base_n):,}")
    if k:
        note = f"[c] suppressed: fewer than {k} respondents."
        if any_sec:
            note += " [c*] suppressed so that [c] cannot be recovered from a total."
        foot.append(note)
    return foot


# -------------------------------------------------------------------------- tables
def deck_table(
    result: Any,
    *,
    columns: int = 2,
    decimals: int = 0,
    min_base: int | None = None,
    count: str | None = None,
    title: str | None = None,
) -> RenderedTable:
    """A ranked item list in the deck's layout: ``1. Instagram (45%) | 4. TikTok (25%)``.

    Parameters
    ----------
    result : MultiResponseTable, Estimate or DataFrame
        Rows in the order to rank them (``table(sort="estimate")`` gives most-selected
        first); a ``rank`` column, if present, supplies the numbers. Needs ``label`` (or
        ``variable``) and ``estimate``.
    columns : int
        Number of columns; items run down the first column, then the next.
    decimals : int
        Decimals of the percentages.
    min_base : int, optional
        Suppress items whose unweighted count (``count`` column: ``selected`` if present,
        else ``n``) is below it; default :func:`get_min_base`.
    count : str, optional
        Column with the unweighted counts.
    title : str, optional
        Default: the result's ``name`` if it has one.

    Returns
    -------
    RenderedTable
        ``to_text()``, ``to_html()``, ``to_latex()``; the base is printed under it.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"label": ["Instagram", "Facebook", "Discord", "TikTok"],
    ...                   "estimate": [0.45, 0.30, 0.26, 0.25]})
    >>> print(deck_table(f).to_text())
    1. Instagram (45%) | 3. Discord (26%)
    2. Facebook (30%)  | 4. TikTok (25%)
    """
    if not isinstance(columns, int) or columns < 1:
        raise InvalidValueError(f"columns must be a positive integer; got {columns!r}.")
    f, base_desc, base_n = _tidy(result)
    k = _resolve_min_base(min_base)
    ccol = _count_column(f, count)
    if k is not None and ccol is None:
        raise ColumnError("min_base needs a count column ('selected' or 'n'); pass count=.")
    sup = (
        suppression_pattern(f[ccol].reset_index(drop=True), k).iloc[:, 0]
        if k is not None
        else pd.Series("", index=range(len(f)))
    )
    ranks = f["rank"].astype(int).tolist() if "rank" in f.columns else list(range(1, len(f) + 1))
    cells = []
    for i, (lab, est) in enumerate(zip(f["label"], f["estimate"], strict=True)):
        value = MARK[sup.iloc[i]] if sup.iloc[i] else _pct(est, decimals)
        cells.append(f"{ranks[i]}. {lab} ({value})")
    nrow = -(-len(cells) // columns)
    grid = {
        f"col{c + 1}": [
            cells[c * nrow + r] if c * nrow + r < len(cells) else "" for r in range(nrow)
        ]
        for c in range(columns)
    }
    body = pd.DataFrame(grid)
    name = title if title is not None else getattr(result, "name", "") or ""
    return RenderedTable(
        body, name, tuple(_footer(base_desc, base_n, k, False)), header=False, separator=" | "
    )


def publication_table(
    result: Any,
    *,
    decimals: int = 1,
    min_base: int | None = None,
    count: str | None = None,
    total_label: str | None = None,
    title: str | None = None,
    level: float | None = None,
) -> RenderedTable:
    """Estimate, confidence interval and unweighted n per row, for a paper.

    Parameters
    ----------
    result : MultiResponseTable, Estimate or DataFrame
        Needs ``label`` (or ``variable``/``level``), ``estimate``, ``ci_low``,
        ``ci_high`` and ``n``.
    decimals : int
        Decimals of the percentages.
    min_base : int, optional
        Suppress rows whose unweighted count is below it (default :func:`get_min_base`).
    count : str, optional
        Column of unweighted counts used for suppression (default ``selected`` if
        present, else ``n``).
    total_label : str, optional
        Label of a row that is the sum of the others (e.g. "Total selections"): it turns
        on secondary suppression.
    title : str, optional
    level : float, optional
        Confidence level for the column header (default: the result's, else 0.95).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"label": ["Yes"], "estimate": [0.4], "ci_low": [0.35],
    ...                   "ci_high": [0.45], "n": [400]})
    >>> print(publication_table(f).to_text())
    label Estimate      95% CI   n
      Yes    40.0% 35.0%–45.0% 400
    """
    f, base_desc, base_n = _tidy(result)
    for col in ("estimate", "ci_low", "ci_high", "n"):
        if col not in f.columns:
            raise ColumnError(f"publication_table needs a {col!r} column.")
    k = _resolve_min_base(min_base)
    ccol = _count_column(f, count)
    lab = f["label"].astype(str).reset_index(drop=True)
    if total_label is not None and total_label not in set(lab):
        raise ColumnError(f"total_label {total_label!r} is not a row label.")
    if k is not None:
        counts = pd.Series(f[ccol].to_numpy(dtype=float, na_value=np.nan), index=lab)
        sup = suppression_pattern(counts, k, total_row=total_label).iloc[:, 0].to_numpy()
    else:
        sup = np.full(len(f), "", dtype=object)
    lev = level if level is not None else getattr(result, "level", 0.95)
    ci_name = f"{100 * lev:g}% CI"
    rows = []
    for i in range(len(f)):
        r = f.iloc[i]
        if sup[i]:
            m = MARK[sup[i]]
            rows.append({"label": lab[i], "Estimate": m, ci_name: m, "n": m})
        else:
            rows.append(
                {
                    "label": lab[i],
                    "Estimate": _pct(r["estimate"], decimals),
                    ci_name: f"{_pct(r['ci_low'], decimals)}–{_pct(r['ci_high'], decimals)}"
                    if not pd.isna(r["ci_low"])
                    else "",
                    "n": "" if pd.isna(r["n"]) else f"{int(r['n']):,}",
                }
            )
    body = pd.DataFrame(rows)
    name = title if title is not None else getattr(result, "name", "") or ""
    any_sec = bool((sup == SECONDARY).any())
    return RenderedTable(body, name, tuple(_footer(base_desc, base_n, k, any_sec)))


def two_way_table(
    values: pd.DataFrame,
    counts: pd.DataFrame,
    *,
    min_base: int | None = None,
    total_row: Any = None,
    total_col: Any = None,
    percent: bool = True,
    decimals: int = 1,
    title: str = "",
    footer: Sequence[str] = (),
) -> RenderedTable:
    """A two-way table (e.g. a crosstab with margins), with primary and secondary
    suppression.

    Parameters
    ----------
    values : DataFrame
        What to print in each cell (proportions when ``percent=True``).
    counts : DataFrame
        Unweighted counts behind each cell, same labels as ``values``.
    total_row, total_col : label, optional
        The margin row/column (sums of the others), for secondary suppression.

    Examples
    --------
    >>> import pandas as pd
    >>> n = pd.DataFrame({"a": [2, 30, 32], "b": [20, 25, 45], "All": [22, 55, 77]},
    ...                  index=["x", "y", "All"])
    >>> t = two_way_table(n, n, min_base=5, total_row="All", total_col="All", percent=False)
    >>> t.body.iloc[0].tolist()
    ['x', '[c]', '[c*]', '22']
    """
    if not values.index.equals(counts.index) or not values.columns.equals(counts.columns):
        raise InvalidValueError("values and counts must have the same row and column labels.")
    k = _resolve_min_base(min_base)
    sup = suppression_pattern(counts, k, total_row=total_row, total_col=total_col)
    body = pd.DataFrame(index=values.index, columns=values.columns, dtype=object)
    for r in values.index:
        for c in values.columns:
            s = sup.loc[r, c]
            v = values.loc[r, c]
            if s:
                body.loc[r, c] = MARK[s]
            elif percent:
                body.loc[r, c] = _pct(v, decimals)
            else:
                body.loc[r, c] = (
                    ""
                    if pd.isna(v)
                    else f"{v:,.{decimals}f}".rstrip("0").rstrip(".")
                    if isinstance(v, float)
                    else f"{v:,}"
                )
    body = body.reset_index(names="")
    any_sec = bool((sup == SECONDARY).to_numpy().any())
    foot = list(footer) + _footer(None, None, k, any_sec)
    return RenderedTable(body, title, tuple(foot))
