"""Figures (seaborn/matplotlib). Plot functions take result objects or tidy frames from
the estimators, compute no statistics, return the matplotlib Axes and never call
``plt.show()``.

Modules: :mod:`csa_survey.plots.trends` (yearly series, composition, admin growth),
:mod:`csa_survey.plots.survival` (cumulative exposure curves).
"""

from csa_survey.plots import survival, trends

__all__ = ["survival", "trends"]
