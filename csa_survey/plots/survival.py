"""Figures for age-at-first-exposure curves (design-weighted Kaplan–Meier).

Presentation only: the functions draw an :class:`~csa_survey.results.Estimate` made by
:func:`csa_survey.survival.survival` and compute no statistic (marking "by age 9" reads
the step function's value at 9 from the result's rows). Each function draws on ``ax`` (a
new figure's axes if ``None``), returns the :class:`matplotlib.axes.Axes` and never calls
``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from csa_survey.exceptions import InvalidValueError
from csa_survey.results import Estimate

__all__ = ["plot_cumulative_exposure"]


def _is_cumulative(est: Estimate) -> bool:
    return any("1 − S(t)" in note for note in est.notes)


def _step_value(times: np.ndarray, values: np.ndarray, at: float, before: float) -> float:
    i = int(np.searchsorted(times, at, side="right")) - 1
    return before if i < 0 else float(values[i])


def plot_cumulative_exposure(
    est: Estimate,
    *,
    marks: Sequence[float] = (9, 11, 13),
    band: bool = True,
    start: float | None = None,
    end: float | None = None,
    labels: Mapping[Any, str] | None = None,
    ax: Axes | None = None,
    xlabel: str = "Age",
    ylabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Step plot of a survival result: the curve, its pointwise CI band, marked ages.

    Parameters
    ----------
    est : Estimate
        From :func:`csa_survey.survival.survival` without ``at=`` (one row per event
        time). With ``cumulative=True`` the curve is 1 − S(t), "exposed by age t" (starting
        at 0); otherwise S(t) (starting at 1). With ``by=``, one curve per group.
    marks : sequence of float
        Times to mark with a dot and the curve's value there ("by age 9: 12%"). ``()`` for
        none.
    band : bool
        Draw the pointwise confidence band (``ci_low``/``ci_high``) as a shaded step.
    start, end : float, optional
        Where the curve starts and ends (default: one time unit before the first event
        time and after the last, so the last level is drawn).
    labels : mapping, optional
        Legend label per group value (e.g. ``{1: "Male", 2: "Female"}``).
    ax : Axes, optional
    xlabel, ylabel, title : str
        Labels (``ylabel`` defaults to "Exposed by age t" or "Not yet exposed").

    Returns
    -------
    Axes
        One step line per group (plus one marker line per group if ``marks``), one band
        (``PolyCollection``) per group if ``band``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd, csa_survey as cs
    >>> from csa_survey.survival import survival
    >>> df = pd.DataFrame({"age": [8, 9, 11, 11, 13, 14, 16, 17], "seen": [1, 1, 1, 1, 1, 0, 0, 1]})
    >>> est = survival(cs.SurveyDesign(df), "age", "seen", cumulative=True)
    >>> ax = plot_cumulative_exposure(est)
    >>> len(ax.lines), len(ax.collections)
    (2, 1)
    >>> plt.close(ax.figure)
    """
    if not isinstance(est, Estimate) or est.statistic != "survival":
        raise InvalidValueError(
            "plot_cumulative_exposure needs a result of csa_survey.survival.survival()."
        )
    cumulative = _is_cumulative(est)
    before = 0.0 if cumulative else 1.0
    frame = est.to_frame()
    if frame.empty:
        raise InvalidValueError("the survival result has no rows (no events) to plot.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    by = list(est.by)
    groups = [((), frame)] if not by else list(frame.groupby(by, sort=False))
    palette = sns.color_palette(n_colors=max(len(groups), 1))
    t_first = float(frame["time"].min())
    x0 = t_first - 1 if start is None else float(start)
    x1 = float(frame["time"].max()) + 1 if end is None else float(end)
    for (key, sub), color in zip(groups, palette, strict=True):
        key_t = key if isinstance(key, tuple) else (key,)
        if not by:
            label = None
        elif labels is not None and len(key_t) == 1 and key_t[0] in labels:
            label = labels[key_t[0]]
        else:
            label = ", ".join(f"{b}={k}" for b, k in zip(by, key_t, strict=True))
        sub = sub.sort_values("time")
        times = sub["time"].to_numpy(float)
        est_values = sub["estimate"].to_numpy(float)
        t = np.concatenate([[x0], times, [max(x1, times[-1])]])
        y = np.concatenate([[before], est_values, est_values[-1:]])
        ax.step(t, y, where="post", color=color, label=label, lw=2)
        if band:
            lo = sub["ci_low"].to_numpy(float)
            hi = sub["ci_high"].to_numpy(float)
            lo = np.concatenate([[before], lo, lo[-1:]])
            hi = np.concatenate([[before], hi, hi[-1:]])
            ax.fill_between(t, lo, hi, step="post", color=color, alpha=0.2, lw=0)
        if len(marks):
            mx = np.asarray(marks, dtype=float)
            my = [_step_value(times, est_values, m, before) for m in mx]
            ax.plot(mx, my, "o", color=color, ms=6)
            for m, v in zip(mx, my, strict=True):
                ax.annotate(
                    f"{100 * v:.0f}% by {m:g}" if cumulative else f"{100 * v:.0f}% at {m:g}",
                    (m, v),
                    xytext=(-6, 8),
                    textcoords="offset points",
                    ha="right",
                    fontsize=8,
                    color=color,
                )
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or ("Exposed by age t" if cumulative else "Not yet exposed at age t"))
    if title:
        ax.set_title(title)
    if by:
        ax.legend(frameon=False)
    return ax
