"""Figures for counts over time, composition and admin series.

Presentation only: every function takes a result object (or tidy DataFrame) made by
:mod:`csa_survey.trends` and draws it; nothing here computes a statistic. Each
function draws on ``ax`` (a new figure's axes if ``None``), returns the
:class:`matplotlib.axes.Axes`, and never calls ``plt.show()``.
"""

from __future__ import annotations

from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import (
    FuncFormatter,
    LogFormatterSciNotation,
    MaxNLocator,
    PercentFormatter,
)

from csa_survey.exceptions import ColumnError, InvalidValueError
from csa_survey.trends import (
    BreakTestResult,
    CompositionResult,
    GrowthResult,
    LogLinearTrend,
)

__all__ = ["plot_admin_series", "plot_composition", "plot_yearly_trend"]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _thousands(x: float, _pos: int) -> str:
    return f"{x:,.0f}"


class _ThousandsLogFormatter(LogFormatterSciNotation):
    """Log-axis labels as plain numbers with thousands separators (10,000,000).

    Matplotlib's log formatter decides *which* ticks get a label (decades, and minor
    ticks when the axis spans less than about a decade); this subclass keeps that
    choice and only changes the text, so major and minor labels share one style
    instead of mixing "10,000,000" with "2 x 10^7".
    """

    def __call__(self, x: float, pos: int | None = None) -> str:
        return _thousands(x, 0) if super().__call__(x, pos) else ""


def plot_yearly_trend(
    result: GrowthResult | BreakTestResult,
    *,
    ax: Axes | None = None,
    color: str | None = None,
    ylabel: str = "Recorded offences",
    title: str | None = None,
) -> Axes:
    """Yearly counts with the fitted log-linear trend and its confidence band.

    Parameters
    ----------
    result : GrowthResult or BreakTestResult
        From :func:`csa_survey.trends.growth_rate` or
        :func:`~csa_survey.trends.break_test`; its ``fitted`` frame is drawn. For a
        break test the break year is marked by a dashed vertical line.
    ax : Axes, optional
        Axes to draw on.
    color : str, optional
        Colour of points, line and band (default: seaborn's first colour).
    ylabel, title : str
        Labels.

    Returns
    -------
    Axes
        With one marker line (observed counts), one fitted line, one band
        (``PolyCollection``) and, for a break test, one vertical line.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from csa_survey.trends import growth_rate
    >>> g = growth_rate(pd.Series([100, 121, 146, 177, 214], index=range(2018, 2023)))
    >>> ax = plot_yearly_trend(g)
    >>> len(ax.lines)
    2
    >>> plt.close(ax.figure)
    """
    if not isinstance(result, GrowthResult | BreakTestResult):
        raise InvalidValueError(
            f"result must be a GrowthResult or BreakTestResult; got {type(result).__name__}"
        )
    ax = _axes(ax, (7, 4))
    color = color or sns.color_palette()[0]
    f = result.fitted
    pct = f"{result.level:.0%}"
    ax.fill_between(
        f["year"], f["ci_low"], f["ci_high"], color=color, alpha=0.2, linewidth=0,
        label=f"{pct} CI of trend ({result.family.replace('_', ' ')})",
    )  # fmt: skip
    ax.plot(f["year"], f["fitted"], color=color, linewidth=2, label="Fitted trend")
    ax.plot(f["year"], f["count"], "o", color=color, label="Recorded")
    if isinstance(result, BreakTestResult):
        ax.axvline(result.break_year + 0.5, color="0.4", linestyle="--", linewidth=1)
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlabel("Year")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    return ax


def plot_composition(
    result: CompositionResult | pd.DataFrame,
    *,
    interval: Literal["simultaneous", "exact"] = "simultaneous",
    ax: Axes | None = None,
    color: str | None = None,
    title: str | None = None,
) -> Axes:
    """Horizontal bars of category shares with CI whiskers.

    Parameters
    ----------
    result : CompositionResult or DataFrame
        From :func:`csa_survey.trends.composition` (or its ``to_frame()``).
    interval : {"simultaneous", "exact"}
        Whiskers from the simultaneous intervals (``ci_low``/``ci_high``) or the
        per-category exact ones (``ci_low_exact``/``ci_high_exact``).
    ax : Axes, optional
        Axes to draw on.
    color, title : str, optional
        Bar colour and title. The x-axis label states the base when a
        ``CompositionResult`` is given.

    Returns
    -------
    Axes
        One bar (``Rectangle`` patch) per category, in the frame's order (first at
        the top), plus the error bars.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from csa_survey.trends import composition
    >>> ax = plot_composition(composition(pd.Series({"contact": 750, "images": 250})))
    >>> len(ax.patches)
    2
    >>> plt.close(ax.figure)
    """
    if interval not in ("simultaneous", "exact"):
        raise InvalidValueError(f"interval must be 'simultaneous' or 'exact'; got {interval!r}")
    frame = result.to_frame() if isinstance(result, CompositionResult) else result
    if not isinstance(frame, pd.DataFrame):
        raise InvalidValueError(
            f"result must be a CompositionResult or DataFrame; got {type(result).__name__}"
        )
    lo, hi = (
        ("ci_low", "ci_high") if interval == "simultaneous" else ("ci_low_exact", "ci_high_exact")
    )
    for col in ("category", "estimate", lo, hi):
        if col not in frame.columns:
            raise ColumnError(f"column {col!r} is missing from the composition frame")
    ax = _axes(ax, (6, 0.6 + 0.5 * len(frame)))
    color = color or sns.color_palette()[0]
    pos = np.arange(len(frame))[::-1]
    est = frame["estimate"].to_numpy(dtype=float)
    err = np.vstack([est - frame[lo].to_numpy(dtype=float), frame[hi].to_numpy(dtype=float) - est])
    ax.barh(pos, est, color=color, height=0.6)
    ax.errorbar(est, pos, xerr=err, fmt="none", ecolor="0.2", capsize=3, linewidth=1)
    ax.set_yticks(pos, [str(c) for c in frame["category"]])
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_xlim(0, min(1.0, float(np.nanmax(frame[hi])) * 1.1 + 0.02))
    if isinstance(result, CompositionResult):
        kind = "simultaneous" if interval == "simultaneous" else "exact per-category"
        ax.set_xlabel(f"Share ({result.level:.0%} {kind} CI). {result.base}")
    else:
        ax.set_xlabel("Share")
    if title:
        ax.set_title(title)
    return ax


def plot_admin_series(
    data: LogLinearTrend | pd.DataFrame,
    *,
    time: str = "year",
    value: str = "value",
    definition: str | None = None,
    ax: Axes | None = None,
    ylabel: str = "Count (log scale)",
    title: str | None = None,
) -> Axes:
    """Admin series (CAID images, arrests) on a log scale, one marker per definition.

    Parameters
    ----------
    data : LogLinearTrend or DataFrame
        A :func:`csa_survey.trends.loglinear_trend` result (points, fitted line and
        band are drawn) or a DataFrame of points (``time``, ``value`` and optionally
        ``definition`` columns; points only).
    time, value, definition : str
        Column names for DataFrame input (``definition`` defaults to a column of that
        name if present).
    ax : Axes, optional
        Axes to draw on.
    ylabel, title : str
        Labels.

    Returns
    -------
    Axes
        Log-scaled y axis; one marker line per definition, plus the fitted line and
        band (``PolyCollection``) for a ``LogLinearTrend``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> caid = pd.DataFrame({"year": [1990, 2020, 2021.5], "value": [7e3, 17e6, 20e6]})
    >>> ax = plot_admin_series(caid)
    >>> ax.get_yscale()
    'log'
    >>> plt.close(ax.figure)
    """
    if isinstance(data, LogLinearTrend):
        pts = data.fitted.rename(columns={"time": "_t", "value": "_v", "definition": "_d"})
    elif isinstance(data, pd.DataFrame):
        if definition is None and "definition" in data.columns:
            definition = "definition"
        for col in (time, value, definition):
            if col is not None and col not in data.columns:
                raise ColumnError(f"column {col!r} is not in the data")
        pts = pd.DataFrame(
            {
                "_t": data[time].to_numpy(),
                "_v": data[value].to_numpy(dtype=float),
                "_d": data[definition].to_numpy(dtype=object) if definition else None,
            }
        )
    else:
        raise InvalidValueError(
            f"data must be a LogLinearTrend or DataFrame; got {type(data).__name__}"
        )
    ax = _axes(ax, (7, 4))
    palette = sns.color_palette()
    if isinstance(data, LogLinearTrend):
        order = np.argsort(pts["_t"].to_numpy())
        f = pts.iloc[order]
        if f["ci_low"].notna().all():
            ax.fill_between(
                f["_t"], f["ci_low"], f["ci_high"], color="0.5", alpha=0.2, linewidth=0,
                label=f"{data.level:.0%} CI of fit (descriptive)",
            )  # fmt: skip
        ax.plot(f["_t"], f["fitted"], color="0.3", linewidth=1.5, label="Log-linear fit")
    defs = pts["_d"].fillna("(unspecified)") if pts["_d"].notna().any() else None
    markers = ["o", "s", "^", "D", "v", "P"]
    if defs is None:
        ax.plot(pts["_t"], pts["_v"], "o", color=palette[0], label="Published value")
    else:
        for i, d in enumerate(dict.fromkeys(defs)):
            m = (defs == d).to_numpy()
            ax.plot(
                pts.loc[m, "_t"], pts.loc[m, "_v"], markers[i % len(markers)],
                color=palette[i % len(palette)], label=str(d),
            )  # fmt: skip
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_ThousandsLogFormatter())
    ax.yaxis.set_minor_formatter(_ThousandsLogFormatter(labelOnlyBase=False))
    # times are (decimal) years: whole-year ticks, never "2020.25"
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Year")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    return ax
