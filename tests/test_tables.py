"""crosstab and Rao–Scott tests: R parity (svychisq, svymean of cells), properties, errors."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from models_reference import REF, RTOL_EST, RTOL_SE, build
from scipy.stats import chi2_contingency

import csa_survey as cs
from csa_survey.tables import Crosstab, crosstab


def case_design(case: dict):
    d = build(case["design"], case.get("replicate"), case.get("rake"))
    if case.get("subset"):
        s = case["subset"]
        d = d.subset(d.data[s["column"]] == s["value"])
    return d


def _id(case: dict) -> str:
    parts = [case["design"], case["row"], case["col"]]
    for key in ("replicate", "rake"):
        if case.get(key):
            parts.append(f"{key}_{case[key]}")
    if case.get("subset"):
        parts.append("subset")
    return "-".join(parts)


CASES = REF["chisq"]


@functools.cache
def _xt(i: int) -> Crosstab:
    c = CASES[i]
    return crosstab(case_design(c), c["row"], c["col"])


@pytest.mark.parametrize("i", range(len(CASES)), ids=[_id(c) for c in CASES])
def test_rao_scott_equals_r_svychisq(i: int) -> None:
    ref = CASES[i]
    xt = _xt(i)
    f = xt.test("F")
    np.testing.assert_allclose(
        [f.statistic, f.df, f.df_denom, f.p_value],
        [ref["F"]["statistic"], ref["F"]["ndf"], ref["F"]["ddf"], ref["F"]["p_value"]],
        rtol=RTOL_SE,
    )
    c = xt.test("Chisq")
    np.testing.assert_allclose(
        [c.statistic, c.df, c.p_value],
        [ref["Chisq"]["statistic"], ref["Chisq"]["df"], ref["Chisq"]["p_value"]],
        rtol=RTOL_SE,
    )
    assert c.df_denom is None
    p = xt.test("pearson")
    np.testing.assert_allclose(
        [p.statistic, p.df, p.p_value],
        [ref["pearson"]["statistic"], ref["pearson"]["df"], ref["pearson"]["p_value"]],
        rtol=RTOL_SE,
    )


@pytest.mark.parametrize("i", range(len(CASES)), ids=[_id(c) for c in CASES])
def test_cell_and_row_proportions_equal_r(i: int) -> None:
    ref = CASES[i]
    t = _xt(i).table
    for kind, key in (("cell", "cell"), ("row", "row_prop")):
        sub = t[t["kind"] == kind]
        # R orders cells with the row variable varying fastest
        sub = sub.sort_values([ref["col"], ref["row"]], kind="stable")
        np.testing.assert_allclose(sub["estimate"], ref[key]["estimate"], rtol=RTOL_EST)
        np.testing.assert_allclose(sub["se"], ref[key]["se"], rtol=RTOL_SE)


# ---------------------------------------------------------------------- properties
def _sample(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n)
    b = rng.choice([1, 2, 3], n).astype(float)
    a[:3], b[:3] = ["x", "y", "z"], [1, 2, 3]
    b[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "a": a,
            "b": b,
            "g": rng.choice(["m", "f"], n),
            "w": rng.uniform(0.5, 4.0, n),
            "c": np.arange(n) // 4,
            "s": np.arange(n) % 2,
        }
    )


prop = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@prop
@given(seed=st.integers(0, 10_000), n=st.integers(40, 120))
def test_proportions_in_unit_interval_and_sum_to_one(seed: int, n: int) -> None:
    df = _sample(seed, n)
    d = cs.SurveyDesign(df, weights="w", strata="s", psu="c")
    t = crosstab(d, "a", "b", by="g", ci="mean").table
    est = t["estimate"]
    # undefined (NaN) only where the base is empty: a level absent from a domain
    assert (est.isna() == (t["n"] == 0)).all()
    assert ((est.dropna() >= 0) & (est.dropna() <= 1)).all()
    cell = t[t["kind"] == "cell"].groupby("g")["estimate"].sum()
    np.testing.assert_allclose(cell, 1.0, rtol=1e-12)
    rows = t[t["kind"] == "row"].groupby(["g", "a"])["estimate"].sum(min_count=1)
    np.testing.assert_allclose(rows.dropna(), 1.0, rtol=1e-12)
    cols = t[t["kind"] == "column"].groupby(["g", "b"])["estimate"].sum(min_count=1)
    np.testing.assert_allclose(cols.dropna(), 1.0, rtol=1e-12)


@prop
@given(seed=st.integers(0, 10_000), n=st.integers(30, 150))
def test_unweighted_pearson_equals_scipy(seed: int, n: int) -> None:
    df = _sample(seed, n)
    xt = crosstab(cs.SurveyDesign(df), "a", "b")
    counts = pd.crosstab(df["a"], df["b"]).to_numpy()
    stat, p, dof, _ = chi2_contingency(counts, correction=False)
    r = xt.test("pearson")
    assert r.statistic == pytest.approx(stat, rel=1e-10)
    assert r.p_value == pytest.approx(p, rel=1e-8)
    assert r.df == dof


def test_missing_rows_stay_in_design_for_variance() -> None:
    df = _sample(11, 80)
    d = cs.SurveyDesign(df, weights="w", strata="s", psu="c")
    t = crosstab(d, "a", "b", ci="mean").table
    # the same cell proportions as proportion() of the cell label among answered rows,
    # a domain that keeps the full design
    ok = df["a"].notna() & df["b"].notna()
    lab = (df["a"] + "|" + df["b"].map("{:.0f}".format)).where(ok)
    dd = cs.SurveyDesign(df.assign(lab=lab), weights="w", strata="s", psu="c").subset(ok)
    p = cs.proportion(dd, "lab", ci="mean").to_frame()
    cell = t[t["kind"] == "cell"]
    np.testing.assert_allclose(cell["se"].to_numpy(), p["se"].to_numpy(), rtol=1e-12)
    assert cell["n"].iloc[0] == ok.sum()


def test_by_domain_test_equals_subset_test() -> None:
    df = _sample(12, 120)
    d = cs.SurveyDesign(df, weights="w", strata="s", psu="c")
    xt = crosstab(d, "a", "b", by="g")
    sub = crosstab(d.subset(df["g"] == "f"), "a", "b")
    assert xt.test("F", domain="f").statistic == pytest.approx(sub.test("F").statistic)
    tests = xt.tests("F")
    assert list(tests.columns) == ["g", "statistic", "df", "df_denom", "p_value"]
    assert len(tests) == 2
    with pytest.raises(cs.InvalidValueError, match="domain="):
        xt.test()


def test_table_columns_vcov_and_no_mutation() -> None:
    df = _sample(13, 60)
    before = df.copy()
    xt = crosstab(cs.SurveyDesign(df, weights="w"), "a", "b")
    pd.testing.assert_frame_equal(df, before)
    assert list(xt.table.columns) == [
        "a",
        "b",
        "kind",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "n",
        "count",
        "deff",
    ]
    v = xt.vcov
    assert v.shape == (len(xt.table), len(xt.table))
    np.testing.assert_allclose(np.sqrt(np.diag(v)), xt.table["se"], rtol=1e-12)
    assert xt.wide("row").shape == (3, 3)


def test_errors() -> None:
    df = _sample(14, 40)
    d = cs.SurveyDesign(df)
    with pytest.raises(cs.ColumnError):
        crosstab(d, "a", "nope")
    with pytest.raises(cs.ColumnError, match="two different"):
        crosstab(d, "a", "a")
    with pytest.raises(cs.InvalidValueError, match="statistic"):
        crosstab(d, "a", "b").test("Wald")
    one = df.assign(k="only")
    with pytest.raises(cs.InvalidValueError, match="at least 2"):
        crosstab(cs.SurveyDesign(one), "a", "k").test()
