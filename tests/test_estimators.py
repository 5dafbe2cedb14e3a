"""mean / total / proportion: properties, classical parity, missing values, errors, Estimate."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

import csa_survey as cs

CLASSICAL = {
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
    "wald": "normal",
}


def make_sample(seed: int, n_strata: int, psu_per: int, per_psu: int) -> pd.DataFrame:
    """A stratified cluster sample with a binary, a continuous and a categorical variable."""
    rng = np.random.default_rng(seed)
    n = n_strata * psu_per * per_psu
    s = np.repeat(np.arange(n_strata), psu_per * per_psu)
    c = np.tile(np.repeat(np.arange(psu_per), per_psu), n_strata)
    g = rng.choice(["a", "b", "c"], n)
    g[:3] = ["a", "b", "c"]
    b = (rng.random(n) < 0.3 + 0.1 * s).astype(float)
    b[0], b[1] = 0.0, 1.0  # both values occur
    return pd.DataFrame(
        {
            "y": rng.normal(5 + s, 1.5, n),
            "b": b,
            "g": g,
            "w": rng.uniform(0.5, 5.0, n),
            "s": s,
            "c": c,
        }
    )


samples = st.builds(
    make_sample,
    seed=st.integers(0, 10_000),
    n_strata=st.integers(1, 3),
    psu_per=st.integers(2, 5),
    per_psu=st.integers(2, 6),
)
prop_settings = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def design(df: pd.DataFrame) -> cs.SurveyDesign:
    return cs.SurveyDesign(df, weights="w", strata="s", psu="c")


def frames(d: cs.SurveyDesign) -> list[pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.SurveyWarning)
        return [
            cs.mean(d, ["y", "b"], by="g").to_frame(),
            cs.total(d, "y").to_frame(),
            cs.proportion(d, "g", ci="wilson").to_frame(),
            cs.proportion(d, "b", by="g", ci="logit").to_frame(),
        ]


# --------------------------------------------------------------------------- properties
@prop_settings
@given(df=samples, data=st.data())
def test_invariant_to_row_order(df, data):
    perm = data.draw(st.permutations(range(len(df))))
    shuffled = df.iloc[list(perm)].reset_index(drop=True)
    for a, b in zip(frames(design(df)), frames(design(shuffled)), strict=True):
        cols = ["estimate", "se", "ci_low", "ci_high", "deff"]
        assert np.allclose(a[cols], b[cols], rtol=1e-9, atol=1e-12, equal_nan=True)


@prop_settings
@given(df=samples, c=st.floats(0.01, 1000))
def test_invariant_to_weight_scaling(df, c):
    scaled = df.assign(w=df["w"] * c)
    base, other = frames(design(df)), frames(design(scaled))
    for i, (a, b) in enumerate(zip(base, other, strict=True)):
        if i == 1:  # totals scale with the weights
            assert np.allclose(a["estimate"] * c, b["estimate"], rtol=1e-9)
            assert np.allclose(a["se"] * c, b["se"], rtol=1e-9)
            continue
        cols = ["estimate", "se", "ci_low", "ci_high"]
        assert np.allclose(a[cols], b[cols], rtol=1e-9, atol=1e-12, equal_nan=True)


@prop_settings
@given(df=samples, method=st.sampled_from(cs.CI_METHODS))
def test_proportions_in_unit_interval_and_ci_contains_estimate(df, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.SurveyWarning)
        f = cs.proportion(design(df), "b", by="g", ci=method).to_frame()
    assert ((f["estimate"] >= 0) & (f["estimate"] <= 1)).all()
    inner = (f["estimate"] > 0) & (f["estimate"] < 1) & (f["se"] > 1e-10)
    ok = f[inner].dropna(subset=["ci_low", "ci_high"])
    assert (ok["ci_low"] <= ok["estimate"] + 1e-12).all()
    assert (ok["estimate"] <= ok["ci_high"] + 1e-12).all()
    if method not in ("mean", "wald"):
        assert ((ok["ci_low"] >= 0) & (ok["ci_high"] <= 1)).all()


@prop_settings
@given(df=samples)
def test_subset_equals_by_domain(df):
    d = design(df)
    by = cs.mean(d, ["y", "b"], by="g").to_frame()
    for level in ("a", "b", "c"):
        sub = cs.mean(d.subset(df["g"] == level), ["y", "b"]).to_frame()
        dom = by[by["g"] == level]
        assert np.allclose(sub["estimate"], dom["estimate"], rtol=1e-12)
        assert np.allclose(sub["se"], dom["se"], rtol=1e-10)
        assert np.allclose(sub["ci_low"], dom["ci_low"], rtol=1e-10)


@prop_settings
@given(df=samples)
def test_vcov_is_symmetric_psd_and_matches_se(df):
    est = cs.mean(design(df), ["y", "b"], by="g")
    v = est.vcov.to_numpy()
    assert np.allclose(v, v.T)
    assert np.linalg.eigvalsh(v).min() > -1e-9 * max(1.0, np.abs(v).max())
    assert np.allclose(np.sqrt(np.diag(v)), est.to_frame()["se"])


# ------------------------------------------------------------------ classical parity
@pytest.mark.parametrize("method", list(CLASSICAL))
@pytest.mark.parametrize("level", [0.95, 0.9])
def test_unweighted_srs_equals_statsmodels_on_raw_counts(method, level):
    rng = np.random.default_rng(42)
    df = pd.DataFrame({"x": rng.random(157) < 0.37, "g": rng.choice(["u", "v"], 157)})
    df["x"] = df["x"].astype("boolean")
    df.loc[[3, 9, 44], "x"] = pd.NA
    d = cs.SurveyDesign(df)
    f = cs.proportion(d, "x", ci=method, level=level).to_frame().iloc[0]
    k, n = int(df["x"].sum()), int(df["x"].notna().sum())
    lo, hi = proportion_confint(k, n, alpha=1 - level, method=CLASSICAL[method])
    assert f["n"] == n
    assert f["estimate"] == pytest.approx(k / n, rel=1e-12)
    assert f["ci_low"] == pytest.approx(lo, rel=1e-9, abs=1e-15)
    assert f["ci_high"] == pytest.approx(hi, rel=1e-9)
    # ... and in every domain, on the domain's own counts
    for _, r in cs.proportion(d, "x", by="g", ci=method, level=level).to_frame().iterrows():
        sub = df.loc[(df["g"] == r["g"]) & df["x"].notna(), "x"]
        lo, hi = proportion_confint(
            int(sub.sum()), len(sub), alpha=1 - level, method=CLASSICAL[method]
        )
        assert r["ci_low"] == pytest.approx(lo, rel=1e-9, abs=1e-15)
        assert r["ci_high"] == pytest.approx(hi, rel=1e-9)


def test_unweighted_mean_equals_statsmodels_t_interval():
    y = np.random.default_rng(5).gamma(2.0, 3.0, 83)
    f = cs.mean(cs.SurveyDesign(pd.DataFrame({"y": y})), "y", level=0.9).to_frame().iloc[0]
    ds = DescrStatsW(y)
    lo, hi = ds.tconfint_mean(alpha=0.1)
    assert f["estimate"] == pytest.approx(ds.mean, rel=1e-12)
    assert f["se"] == pytest.approx(ds.std_mean, rel=1e-10)
    assert (f["ci_low"], f["ci_high"]) == pytest.approx((lo, hi), rel=1e-10)


# ------------------------------------------------------------------- missing values
def test_missing_values_dropped_per_variable_but_kept_in_design():
    df = make_sample(3, 2, 4, 5)
    df.loc[[0, 5, 11], "y"] = np.nan
    d = design(df)
    both = cs.mean(d, ["y", "b"]).to_frame()
    assert list(both["n"]) == [len(df) - 3, len(df)]
    # the same as a domain estimate on the answered rows (R: na.rm=TRUE -> subset)
    dom = cs.mean(d.subset(df["y"].notna()), "y").to_frame()
    assert both["estimate"].iloc[0] == pytest.approx(dom["estimate"].iloc[0], rel=1e-12)
    assert both["se"].iloc[0] == pytest.approx(dom["se"].iloc[0], rel=1e-12)
    # b is estimated on all rows, unaffected by y's missing values
    alone = cs.mean(d, "b").to_frame()
    assert both["se"].iloc[1] == pytest.approx(alone["se"].iloc[0], rel=1e-12)


def test_by_rows_with_missing_domain_value_belong_to_no_domain():
    df = make_sample(4, 2, 3, 4).astype({"g": object})
    df.loc[[2, 3], "g"] = None
    f = cs.mean(design(df), "y", by="g").to_frame()
    assert f["n"].sum() == len(df) - 2
    assert set(f["g"]) == {"a", "b", "c"}


def test_categorical_keeps_unobserved_levels():
    df = make_sample(1, 1, 3, 5)
    df["g"] = pd.Categorical(df["g"], categories=["a", "b", "c", "z"])
    f = cs.proportion(design(df), "g", ci="beta").to_frame()
    assert list(f["level"]) == ["a", "b", "c", "z"]
    assert f["estimate"].sum() == pytest.approx(1.0)
    assert f.loc[f["level"] == "z", "estimate"].iloc[0] == 0


def test_all_missing_in_a_domain_warns_and_gives_nan():
    df = make_sample(2, 1, 4, 5)
    df.loc[df["g"] == "c", "y"] = np.nan
    with pytest.warns(cs.SurveyWarning, match="no non-missing values"):
        f = cs.mean(design(df), "y", by="g").to_frame()
    assert np.isnan(f.loc[f["g"] == "c", "estimate"].iloc[0])


def test_edge_proportion_logit_is_nan_with_advice():
    df = pd.DataFrame({"x": [1, 1, 1, 1, 1, 1.0]})
    with pytest.warns(cs.SurveyWarning, match="ci='beta'"):
        f = cs.proportion(cs.SurveyDesign(df), "x").to_frame().iloc[0]
    assert f["estimate"] == 1 and np.isnan(f["ci_low"])
    g = cs.proportion(cs.SurveyDesign(df), "x", ci="clopper-pearson").to_frame().iloc[0]
    assert g["ci_high"] == 1 and 0.5 < g["ci_low"] < 1


def test_no_degrees_of_freedom_gives_nan_and_warns():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "s": [1, 1, 2, 2], "c": [1, 1, 2, 2]})
    d = cs.SurveyDesign(df, strata="s", psu="c", lonely_psu="adjust")
    assert d.df == 0
    with pytest.warns(cs.DegreesOfFreedomWarning):
        f = cs.mean(d, "y").to_frame().iloc[0]
    assert np.isnan(f["ci_low"]) and np.isfinite(f["se"])


# ----------------------------------------------------------------------- bad input
def test_unknown_variable_and_by_columns():
    d = design(make_sample(0, 1, 2, 3))
    with pytest.raises(cs.ColumnError, match="variable column 'nope'"):
        cs.mean(d, "nope")
    with pytest.raises(cs.ColumnError, match="by column 'region'"):
        cs.mean(d, "y", by="region")


def test_text_variable_is_not_coerced_for_means():
    df = make_sample(0, 1, 2, 3).assign(t=lambda x: x["y"].astype(str))
    with pytest.raises(cs.InvalidValueError, match="'t'"):
        cs.mean(design(df), "t")
    with pytest.raises(cs.InvalidValueError, match="'g' is not numeric"):
        cs.total(design(df), "g")


def test_proportion_of_non_binary_numeric_names_value_and_rows():
    df = make_sample(0, 1, 2, 4)
    df.loc[6, "b"] = 2.0
    with pytest.raises(
        cs.InvalidValueError, match=r"'b' is numeric but not 0/1: it holds 2.0 in row 6"
    ):
        cs.proportion(design(df), "b")


def test_bad_ci_and_level():
    d = design(make_sample(0, 1, 2, 3))
    with pytest.raises(cs.InvalidValueError, match="ci must be one of"):
        cs.proportion(d, "b", ci="exact")
    with pytest.raises(cs.InvalidValueError, match="level"):
        cs.mean(d, "y", level=95)


# ------------------------------------------------------------------------ Estimate
def test_estimate_frame_columns_and_contrasts():
    df = make_sample(9, 2, 4, 6)
    est = cs.mean(design(df), "y", by="g")
    f = est.to_frame()
    assert list(f.columns) == [
        "g",
        "variable",
        "level",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "n",
        "deff",
    ]
    f.loc[0, "estimate"] = -1  # to_frame returns a copy
    assert est.to_frame()["estimate"].iloc[0] != -1
    c = est.contrast({"y | g=b": 1, "y | g=a": -1})
    theta = est.coef
    assert c.to_frame()["estimate"].iloc[0] == pytest.approx(theta["y | g=b"] - theta["y | g=a"])
    v = est.vcov
    expected = v.iloc[0, 0] + v.iloc[1, 1] - 2 * v.iloc[0, 1]
    assert c.to_frame()["se"].iloc[0] ** 2 == pytest.approx(expected)
    two = est.contrast({"b-a": [-1, 1, 0], "c-a": {0: -1, 2: 1}})
    assert list(two.to_frame()["variable"]) == ["b-a", "c-a"]
    with pytest.raises(cs.InvalidValueError, match="3 coefficients"):
        est.contrast([1, -1])
    assert "Means" in repr(est) and "<table" in est._repr_html_()


def test_proportion_html_shows_percentages():
    est = cs.proportion(design(make_sample(2, 1, 3, 4)), "g")
    html = est._repr_html_()
    assert "%" in html and "logit" in html
