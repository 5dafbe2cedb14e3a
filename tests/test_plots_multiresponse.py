"""Tests for csa_survey.plots.multiresponse (drawing only)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import csa_survey as cs
from csa_survey.multiresponse import MultiResponse, funnel_counts
from csa_survey.plots import multiresponse as mplots


@pytest.fixture
def mr():
    df, cb = cs.load_dataset("csam_users")
    return MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "msg_app")


def test_plot_items_bars_and_whiskers(mr) -> None:
    t = mr.table()
    ax = mplots.plot_items(t, published={"Telegram": 0.45})
    f = t.to_frame()
    widths = sorted(p.get_width() for p in ax.patches)
    np.testing.assert_allclose(widths, sorted(f["estimate"]))
    assert [tick.get_text() for tick in ax.get_yticklabels()] == f["label"].tolist()
    assert "n = 77" in ax.get_xlabel()
    plt.close("all")


def test_plot_overlap_upset(mr) -> None:
    axes = mplots.plot_overlap(mr.overlap())
    assert {"intersections", "matrix", "totals"} <= set(axes)
    heights = [p.get_height() for p in axes["intersections"].patches]
    assert sum(heights) == mr.base_n
    assert heights == sorted(heights, reverse=True)
    totals = [p.get_width() for p in axes["totals"].patches]
    assert totals == mr.table(sort="items").to_frame()["selected"].astype(float).tolist()
    small = mplots.plot_overlap(mr.overlap(), min_subset_size=5)
    assert min(p.get_height() for p in small["intersections"].patches) >= 5
    plt.close("all")


def test_plot_funnel() -> None:
    df, cb = cs.load_dataset("csam_users")
    f = funnel_counts(df, cb, [("All", "all"), ("Sought contact", "sought_contact == 1")])
    ax = mplots.plot_funnel(f)
    assert [p.get_width() for p in ax.patches] == f["n"].astype(float).tolist()
    plt.close("all")


def test_plot_items_needs_columns() -> None:
    import pandas as pd

    with pytest.raises(cs.ColumnError):
        mplots.plot_items(pd.DataFrame({"label": ["a"]}))
