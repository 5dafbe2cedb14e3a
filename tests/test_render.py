"""Tests for csa_survey.render: deck layout, publication tables, disclosure control."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csa_survey as cs
from csa_survey import render
from csa_survey.multiresponse import MultiResponse


@pytest.fixture
def platform_table():
    df, cb = cs.load_dataset("csam_users")
    return MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "sm_platform").table()


def test_deck_layout_two_columns(platform_table) -> None:
    out = render.deck_table(platform_table)
    lines = out.to_text().splitlines()
    assert lines[0] == platform_table.name
    assert lines[1].startswith("1. Instagram (51%)") and "| 4. TikTok (23%)" in lines[1]
    assert lines[3].startswith("3. Discord") and "6. Twitter/X" in lines[3]
    assert lines[-1] == platform_table.base_line
    html = out.to_html()
    assert "1. Instagram (51%)" in html and platform_table.base_description in html


def test_deck_ranks_come_from_rank_column() -> None:
    f = pd.DataFrame({"label": ["b", "a"], "estimate": [0.2, 0.5], "rank": [2, 1]})
    text = render.deck_table(f, columns=1).to_text()
    assert text.splitlines() == ["2. b (20%)", "1. a (50%)"]


def test_publication_table_html_and_latex(platform_table) -> None:
    t = render.publication_table(platform_table)
    assert list(t.body.columns) == ["label", "Estimate", "95% CI", "n"]
    first = t.body.iloc[0]
    f = platform_table.to_frame().iloc[0]
    assert first["Estimate"] == f"{100 * f['estimate']:.1f}%"
    assert first["95% CI"] == f"{100 * f['ci_low']:.1f}%–{100 * f['ci_high']:.1f}%"
    latex = t.to_latex()
    assert "\\begin{tabular}{lrrr}" in latex and "\\%" in latex and "\\toprule" in latex
    assert "n = 86" in latex
    assert "<table" in t.to_html() and "Base:" in t.to_html()


def test_publication_table_from_estimate() -> None:
    df = pd.DataFrame({"g": ["a", "b", "a", "a"]})
    est = cs.proportion(cs.SurveyDesign(df), "g", ci="beta")
    t = render.publication_table(est)
    assert t.body["label"].tolist() == ["g: a", "g: b"]


def test_primary_suppression_marks_small_cells(platform_table) -> None:
    t = render.deck_table(platform_table, min_base=18)
    text = t.to_text()
    assert "Twitter/X ([c])" in text  # 17 selected
    assert "Discord (23%)" in text  # 20 selected
    assert "fewer than 18" in text


def test_secondary_suppression_with_total_row() -> None:
    c = pd.Series([40, 3, 25, 68], index=["A", "B", "C", "Total"])
    pat = render.suppression_pattern(c, 5, total_row="Total").iloc[:, 0].tolist()
    assert pat == ["", "primary", "secondary", ""]
    # without a total nothing can be recovered: no secondary suppression
    assert render.suppression_pattern(c, 5).iloc[:, 0].tolist() == ["", "primary", "", ""]


def test_secondary_suppression_two_way_no_line_with_single_hidden_cell() -> None:
    rng = np.random.default_rng(0)
    inner = pd.DataFrame(rng.integers(0, 30, size=(4, 3)), columns=list("abc"), index=list("wxyz"))
    inner.iloc[1, 1] = 2
    full = inner.copy()
    full["All"] = inner.sum(axis=1)
    full.loc["All"] = full.sum(axis=0)
    pat = render.suppression_pattern(full, 5, total_row="All", total_col="All")
    hidden = pat.to_numpy() != ""
    assert (pat.to_numpy() == "primary").sum() == (full.to_numpy() < 5).sum()
    assert hidden.sum(axis=0).tolist().count(1) == 0  # no column with one hidden cell
    assert hidden.sum(axis=1).tolist().count(1) == 0  # no row with one hidden cell


def test_two_way_table_renders_marks() -> None:
    n = pd.DataFrame(
        {"a": [2, 30, 32], "b": [20, 25, 45], "All": [22, 55, 77]}, index=["x", "y", "All"]
    )
    t = render.two_way_table(n / 77, n, min_base=5, total_row="All", total_col="All")
    assert t.body.iloc[0].tolist() == ["x", "[c]", "[c*]", "28.6%"]
    assert "[c*]" in t.to_text() and "recovered" in t.to_text()


def test_default_min_base_and_context_manager(platform_table) -> None:
    assert render.get_min_base() is None
    with render.set_min_base(18):
        assert "[c]" in render.publication_table(platform_table).to_text()
        # an explicit argument wins over the default
        assert "[c]" not in render.publication_table(platform_table, min_base=0).to_text()
    assert render.get_min_base() is None
    assert "[c]" not in render.publication_table(platform_table).to_text()
    prev = render.set_min_base(3)
    try:
        assert render.get_min_base() == 3
    finally:
        render.set_min_base(prev.previous)
    assert render.get_min_base() is None
    with pytest.raises(cs.InvalidValueError):
        render.set_min_base(-1)


def test_render_does_not_change_the_result(platform_table) -> None:
    before = platform_table.to_frame()
    render.publication_table(platform_table, min_base=20)
    render.deck_table(platform_table, min_base=20)
    pd.testing.assert_frame_equal(platform_table.to_frame(), before)


def test_total_label_must_exist() -> None:
    f = pd.DataFrame(
        {"label": ["A"], "estimate": [0.5], "ci_low": [0.4], "ci_high": [0.6], "n": [10]}
    )
    with pytest.raises(cs.ColumnError):
        render.publication_table(f, min_base=5, total_label="Total")
