"""Figures for multi-select sets: item bars with CIs, UpSet overlap, routing funnel.

Presentation only: each function takes a result made by :mod:`csa_survey.multiresponse`
(a :class:`~csa_survey.multiresponse.MultiResponseTable`, the frame of
:meth:`~csa_survey.multiresponse.MultiResponse.overlap`, or
:func:`~csa_survey.multiresponse.funnel_counts`) and draws it. Nothing is computed here;
functions return the matplotlib Axes (a dict of Axes for the UpSet plot) and never call
``plt.show()``.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from csa_survey.exceptions import ColumnError

__all__ = ["plot_funnel", "plot_items", "plot_overlap"]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_items(
    table: Any,
    *,
    ax: Axes | None = None,
    color: str | None = None,
    title: str | None = None,
    published: dict[str, float] | None = None,
) -> Axes:
    """Horizontal bars of item percentages with confidence-interval whiskers.

    Parameters
    ----------
    table : MultiResponseTable or DataFrame
        Rows in the order to draw them, top to bottom; needs ``label``, ``estimate``,
        ``ci_low`` and ``ci_high``. The base line (``base_description``, ``base_n``) of a
        MultiResponseTable is printed under the axis.
    ax : Axes, optional
    color : str, optional
    title : str, optional
        Default: the table's ``name``.
    published : dict, optional
        Label -> published value, drawn as a diamond beside each bar.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"label": ["A", "B"], "estimate": [0.5, 0.3],
    ...                   "ci_low": [0.4, 0.2], "ci_high": [0.6, 0.4]})
    >>> ax = plot_items(f)
    >>> len(ax.patches)
    2
    """
    f = table.to_frame() if hasattr(table, "to_frame") else pd.DataFrame(table)
    for col in ("label", "estimate", "ci_low", "ci_high"):
        if col not in f.columns:
            raise ColumnError(f"plot_items needs a {col!r} column.")
    ax = _axes(ax, (6.5, 0.45 * len(f) + 1.4))
    color = color or sns.color_palette()[0]
    y = np.arange(len(f))[::-1]
    est = f["estimate"].to_numpy(dtype=float)
    err = np.vstack([est - f["ci_low"].to_numpy(float), f["ci_high"].to_numpy(float) - est])
    ax.barh(y, est, color=color, alpha=0.8)
    ax.errorbar(est, y, xerr=err, fmt="none", ecolor="black", capsize=3, lw=1)
    if published:
        pub = [published.get(lab, np.nan) for lab in f["label"]]
        ax.scatter(pub, y, marker="D", color="crimson", zorder=3, label="published")
        ax.legend(loc="lower right", frameon=False)
    ax.set_yticks(y, f["label"].astype(str))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlim(0, max(1.0 if est.max() > 0.6 else 0.7, float(np.nanmax(f["ci_high"])) + 0.05))
    base = getattr(table, "base_line", None)
    ax.set_xlabel("% of respondents (95% CI)" + (f"\n{base}" if base else ""))
    ax.set_title(title if title is not None else getattr(table, "name", ""))
    sns.despine(ax=ax)
    return ax


def plot_overlap(
    overlap: pd.DataFrame,
    *,
    weighted: bool = False,
    fig: Any = None,
    min_subset_size: int | None = None,
    color: str | None = None,
) -> dict[str, Axes]:
    """UpSet plot of how respondents combined the items.

    Top panel: size of each combination (largest first); bottom panel: which items
    make up the combination (filled dots joined by a line); right panel: how many
    respondents selected each item.

    Parameters
    ----------
    overlap : DataFrame
        From :meth:`MultiResponse.overlap` (boolean MultiIndex, ``n``, ``weighted``) —
        the same input ``upsetplot.plot(overlap["n"])`` takes.
    weighted : bool
        Bar heights from ``weighted`` instead of unweighted ``n``.
    fig : matplotlib Figure, optional
    min_subset_size : int, optional
        Hide combinations smaller than this (unweighted; e.g. for disclosure control).
    color : str, optional

    Returns
    -------
    dict of Axes
        ``"intersections"``, ``"matrix"``, ``"totals"`` (as ``upsetplot.UpSet.plot``).

    Notes
    -----
    Drawn with matplotlib in upsetplot's layout: upsetplot 0.9 fails under pandas 3's
    copy-on-write (its matrix styling relies on chained in-place ``fillna``).

    Examples
    --------
    >>> import pandas as pd
    >>> idx = pd.MultiIndex.from_tuples([(True, False), (True, True)], names=["A", "B"])
    >>> ov = pd.DataFrame({"n": [3, 2], "weighted": [3.0, 2.0]}, index=idx)
    >>> axes = plot_overlap(ov)
    >>> [float(p.get_height()) for p in axes["intersections"].patches]
    [3.0, 2.0]
    """
    col = "weighted" if weighted else "n"
    if col not in overlap.columns:
        raise ColumnError(f"the overlap frame has no {col!r} column.")
    data = overlap
    if min_subset_size is not None:
        data = data[data["n"] >= min_subset_size]
    data = data.sort_values(col, ascending=False, kind="stable")
    names = [str(n) for n in overlap.index.names]
    member = np.array([list(k) for k in data.index], dtype=bool).reshape(len(data), len(names))
    sizes = data[col].to_numpy(dtype=float)
    totals = (member * sizes[:, None]).sum(axis=0)
    color = color or "#333333"
    if fig is None:
        fig = plt.figure(figsize=(max(6.0, 0.45 * len(data) + 3), 2.2 + 0.35 * len(names) + 2))
    gs = fig.add_gridspec(
        2,
        2,
        height_ratios=[3, 0.45 * len(names) + 0.3],
        width_ratios=[5, 1.3],
        hspace=0.05,
        wspace=0.05,
    )
    ax_bar = fig.add_subplot(gs[0, 0])
    ax_mat = fig.add_subplot(gs[1, 0], sharex=ax_bar)
    ax_tot = fig.add_subplot(gs[1, 1], sharey=ax_mat)
    x = np.arange(len(data))
    ax_bar.bar(x, sizes, color=color, width=0.6)
    for xi, s in zip(x, sizes, strict=True):
        ax_bar.text(xi, s, f"{s:,.0f}", ha="center", va="bottom", fontsize=8)
    ax_bar.set_ylabel("Weighted respondents" if weighted else "Respondents")
    ax_bar.tick_params(axis="x", bottom=False, labelbottom=False)
    sns.despine(ax=ax_bar)
    y = np.arange(len(names))[::-1]
    for xi, row in zip(x, member, strict=True):
        ax_mat.scatter(np.full(len(names), xi), y, s=60, color=np.where(row, color, "#dddddd"))
        if row.sum() > 1:
            ys = y[row]
            ax_mat.plot([xi, xi], [ys.min(), ys.max()], color=color, lw=2)
    ax_mat.set_yticks(y, names)
    ax_mat.set_xticks([])
    ax_mat.set_ylim(-0.6, len(names) - 0.4)
    sns.despine(ax=ax_mat, left=True, bottom=True)
    ax_tot.barh(y, totals, color=color, height=0.5)
    ax_tot.tick_params(axis="y", left=False, labelleft=False)
    ax_tot.set_xlabel("Selected item")
    sns.despine(ax=ax_tot, left=True)
    return {"intersections": ax_bar, "matrix": ax_mat, "totals": ax_tot}


def plot_funnel(
    funnel: pd.DataFrame,
    *,
    ax: Axes | None = None,
    color: str | None = None,
    title: str = "",
) -> Axes:
    """Funnel of a routed question sequence: one bar per step, centred, with counts.

    Parameters
    ----------
    funnel : DataFrame
        From :func:`csa_survey.multiresponse.funnel_counts` (``step``, ``n``,
        ``pct_of_previous``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"step": ["All", "Some"], "n": [100, 40],
    ...                   "pct_of_previous": [1.0, 0.4]})
    >>> ax = plot_funnel(f)
    >>> len(ax.patches)
    2
    """
    for col in ("step", "n", "pct_of_previous"):
        if col not in funnel.columns:
            raise ColumnError(f"plot_funnel needs a {col!r} column.")
    ax = _axes(ax, (7, 0.7 * len(funnel) + 1))
    color = color or sns.color_palette()[0]
    n = funnel["n"].to_numpy(dtype=float)
    y = np.arange(len(funnel))[::-1]
    ax.barh(y, n, left=-n / 2, color=color, alpha=0.85)
    for yi, ni, pct, first in zip(
        y, n, funnel["pct_of_previous"], [True] + [False] * (len(n) - 1), strict=True
    ):
        text = f"{int(ni):,}" if first else f"{int(ni):,} ({100 * pct:.0f}% of previous)"
        ax.text(n[0] / 2 * 1.02, yi, text, va="center", ha="left", fontsize=9)
    ax.set_yticks(y, funnel["step"].astype(str))
    ax.set_xticks([])
    ax.set_xlim(-n[0] / 2 * 1.05, n[0] * 1.05)
    ax.set_title(title)
    sns.despine(ax=ax, left=True, bottom=True)
    return ax
