"""Tests for csa_survey.plots.trends (Agg backend; figures closed after each test)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.patches import Rectangle

from csa_survey import trends as tr
from csa_survey.exceptions import ColumnError, InvalidValueError
from csa_survey.plots import trends as tp

COUNTS = pd.Series(
    [200, 236, 248, 281, 300, 344, 372, 401, 455, 498, 530], index=range(2012, 2023)
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_yearly_trend_has_points_line_and_band():
    g = tr.growth_rate(COUNTS)
    ax = tp.plot_yearly_trend(g, title="Recorded offences")
    assert isinstance(ax, plt.Axes)
    assert len(ax.lines) == 2  # fitted line + observed markers
    fitted, observed = ax.lines
    assert list(fitted.get_xdata()) == list(range(2012, 2023))
    assert list(observed.get_ydata()) == COUNTS.tolist()
    assert observed.get_linestyle() == "None"
    assert len(_bands(ax)) == 1
    assert ax.get_title() == "Recorded offences"
    assert ax.get_legend() is not None


def test_yearly_trend_marks_break_and_uses_given_axes():
    bt = tr.break_test(COUNTS, 2017, family="poisson")
    fig, ax = plt.subplots()
    out = tp.plot_yearly_trend(bt, ax=ax)
    assert out is ax
    assert len(ax.lines) == 3  # band edges are not lines; break is an axvline
    assert ax.lines[-1].get_xdata()[0] == pytest.approx(2017.5)


def test_composition_bars_and_whiskers():
    c = tr.composition(pd.Series({"contact": 750, "images": 250}), base_label="offences")
    ax = tp.plot_composition(c)
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 2
    widths = sorted(b.get_width() for b in bars)
    assert widths == pytest.approx([0.25, 0.75])
    assert any(isinstance(cn, ErrorbarContainer) for cn in ax.containers)
    assert "n = 1,000" in ax.get_xlabel()
    labels = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert labels["contact"] > labels["images"]  # first category on top
    ax2 = tp.plot_composition(c.to_frame(), interval="exact")
    assert len(ax2.patches) == 2


def test_admin_series_log_scale_with_fit_and_definitions():
    caid = pd.DataFrame(
        {
            "year": [1990, 2020, 2021.5, 2022],
            "value": [7e3, 17e6, 20e6, 21e6],
            "definition": ["images", "images", "images", "unique images"],
        }
    )
    with pytest.warns(tr.DefinitionWarning):
        trend = tr.loglinear_trend(caid)
    ax = tp.plot_admin_series(trend)
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 3  # fit + one marker line per definition
    assert len(_bands(ax)) == 1
    ax2 = tp.plot_admin_series(caid)
    assert ax2.get_yscale() == "log" and len(ax2.lines) == 2 and not _bands(ax2)


def test_plot_input_errors():
    with pytest.raises(InvalidValueError):
        tp.plot_yearly_trend(COUNTS)
    with pytest.raises(ColumnError, match="'ci_low'"):
        tp.plot_composition(pd.DataFrame({"category": ["a"], "estimate": [1.0]}))
    with pytest.raises(ColumnError, match="'amount'"):
        tp.plot_admin_series(pd.DataFrame({"year": [1, 2]}), value="amount")
