"""Figures (seaborn/matplotlib). Plot functions take result objects or tidy frames from
the estimators, compute no statistics, return the matplotlib Axes and never call
``plt.show()``.

Modules: :mod:`csa_survey.plots.trends` (yearly series, composition, admin growth),
:mod:`csa_survey.plots.survival` (cumulative exposure curves),
:mod:`csa_survey.plots.multiresponse` (item bars, UpSet overlap, routing funnel).
"""

from csa_survey.plots import multiresponse, survival, trends

__all__ = ["multiresponse", "survival", "trends"]
