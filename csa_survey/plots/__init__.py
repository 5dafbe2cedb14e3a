"""Figures (seaborn/matplotlib). Plot functions take result objects or tidy frames from
the estimators, compute no statistics, return the matplotlib Axes and never call
``plt.show()``.

Modules: :mod:`csa_survey.plots.trends` (yearly series, composition, admin growth).
"""

from csa_survey.plots import trends

__all__ = ["trends"]
