"""Tests for csa_survey.trends: closed forms, statsmodels oracles, identities, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import multinomial_proportions_confint

from csa_survey import trends as tr
from csa_survey.exceptions import (
    ColumnError,
    DegreesOfFreedomWarning,
    EmptyDomainError,
    InvalidValueError,
    SurveyError,
)

YEARS = list(range(2012, 2023))
# Overdispersed series shaped like R1 (27k in 2012 to 107k in 2022, +7.6% on 2021).
R1_COUNTS = pd.Series(
    [27400, 30100, 35600, 39700, 45300, 58200, 63200, 67600, 85600, 99443, 107000],
    index=pd.Index(YEARS, name="year"),
    name="offences",
)
# Small, nearly Poisson series (used for record-level data too).
SMALL_COUNTS = pd.Series(
    [200, 236, 248, 281, 300, 344, 372, 401, 455, 498, 530],
    index=pd.Index(YEARS, name="year"),
    name="offences",
)


def records_from_counts(counts: pd.Series) -> pd.DataFrame:
    years = np.repeat(counts.index.to_numpy(), counts.to_numpy())
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "year": years,
            "offence_type": rng.choice(["contact", "images"], len(years), p=[0.75, 0.25]),
            "force": rng.choice(["A", "B", "C"], len(years)),
        }
    )


def clopper_pearson(k: int, n: int, level: float) -> tuple[float, float]:
    """Closed form of the exact binomial interval via beta quantiles."""
    a = 1 - level
    lo = 0.0 if k == 0 else stats.beta.ppf(a / 2, k, n - k + 1)
    hi = 1.0 if k == n else stats.beta.ppf(1 - a / 2, k + 1, n - k)
    return lo, hi


# --------------------------------------------------------------------------- ratios


@pytest.mark.parametrize(
    ("k1", "k0", "level"),
    [(107_000, 99_443, 0.95), (107_000, 27_400, 0.95), (12, 5, 0.9), (0, 7, 0.95), (3, 0, 0.99)],
)
def test_rate_ratio_matches_conditional_binomial_closed_form(k1, k0, level):
    r = tr.rate_ratio(k1, k0, level=level)
    lo_p, hi_p = clopper_pearson(k1, k1 + k0, level)
    ci_low = lo_p / (1 - lo_p)
    ci_high = math.inf if hi_p >= 1 else hi_p / (1 - hi_p)
    assert r.ci_low == pytest.approx(ci_low, rel=1e-9, abs=1e-12)
    assert r.ci_high == pytest.approx(ci_high, rel=1e-9)
    # and via scipy's binomtest, as the issue specifies
    ci = stats.binomtest(k1, k1 + k0).proportion_ci(confidence_level=level, method="exact")
    assert r.ci_low == pytest.approx(ci.low / (1 - ci.low), rel=1e-12, abs=1e-15)
    expected_est = math.inf if k0 == 0 else k1 / k0
    assert r.estimate == expected_est
    assert r.p_value == pytest.approx(stats.binomtest(k1, k1 + k0, 0.5).pvalue)


def test_rate_ratio_with_exposures_closed_form():
    k1, k0, t1, t0 = 480, 400, 1.2e6, 1.1e6
    r = tr.rate_ratio(k1, k0, exposure_end=t1, exposure_start=t0)
    lo_p, hi_p = clopper_pearson(k1, k1 + k0, 0.95)
    assert r.estimate == pytest.approx((k1 / t1) / (k0 / t0), rel=1e-12)
    assert r.ci_low == pytest.approx(lo_p / (1 - lo_p) * t0 / t1, rel=1e-9)
    assert r.ci_high == pytest.approx(hi_p / (1 - hi_p) * t0 / t1, rel=1e-9)
    assert r.p_value == pytest.approx(stats.binomtest(k1, k1 + k0, t1 / (t1 + t0)).pvalue)


def test_fold_change_and_frame():
    r = tr.fold_change(R1_COUNTS, 2021, 2022)
    assert r.estimate == pytest.approx(107_000 / 99_443)
    assert r.change == pytest.approx(0.076, abs=5e-4)
    f = r.to_frame()
    assert list(f.columns) == [
        "start", "end", "count_start", "count_end", "measure", "estimate",
        "ci_low", "ci_high", "p_value", "level", "method",
    ]  # fmt: skip
    assert f["measure"].tolist() == ["ratio", "change"]
    assert f.loc[1, "ci_low"] == pytest.approx(r.ci_low - 1)
    assert r.ci_low < r.estimate < r.ci_high
    ten = tr.fold_change(R1_COUNTS, 2012, 2022)
    assert 3.8 < ten.estimate < 4.0  # "nearly four times"


def test_year_on_year_equals_pairwise_fold_change():
    t = tr.year_on_year(R1_COUNTS)
    assert len(t) == 2 * (len(YEARS) - 1)
    for end in (2013, 2022):
        one = tr.fold_change(R1_COUNTS, end - 1, end).to_frame()
        got = t[t["end"] == end].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, one)
    t10 = tr.year_on_year(R1_COUNTS, lag=10)
    assert t10["end"].unique().tolist() == [2022]


def test_poisson_rate_matches_garwood():
    r = tr.poisson_rate(50, exposure=2000, per=1000, level=0.9)
    lo = stats.chi2.ppf(0.05, 100) / 2
    hi = stats.chi2.ppf(0.95, 102) / 2
    assert r.estimate == pytest.approx(25.0)
    assert r.ci_low == pytest.approx(lo / 2)
    assert r.ci_high == pytest.approx(hi / 2)
    assert tr.poisson_rate(0).ci_low == 0.0


# --------------------------------------------------------------------------- GLM growth


def test_growth_rate_poisson_equals_statsmodels_glm():
    g = tr.growth_rate(SMALL_COUNTS, family="poisson", level=0.9)
    x = np.asarray(YEARS, dtype=float)
    X = sm.add_constant(x - x.mean())
    ref = sm.GLM(SMALL_COUNTS.to_numpy(), X, family=sm.families.Poisson()).fit()
    b, se = ref.params[1], ref.bse[1]
    z = stats.norm.ppf(0.95)
    assert g.slope == pytest.approx(b, rel=1e-10)
    assert g.slope_se == pytest.approx(se, rel=1e-10)
    assert g.estimate == pytest.approx(np.exp(b) - 1, rel=1e-10)
    assert g.ci_low == pytest.approx(np.exp(b - z * se) - 1, rel=1e-10)
    assert g.ci_high == pytest.approx(np.exp(b + z * se) - 1, rel=1e-10)
    assert g.doubling_time == pytest.approx(np.log(2) / b, rel=1e-10)
    assert g.doubling_ci_low == pytest.approx(np.log(2) / (b + z * se), rel=1e-10)
    assert g.doubling_ci_high == pytest.approx(np.log(2) / (b - z * se), rel=1e-10)
    assert g.dispersion == pytest.approx(ref.pearson_chi2 / ref.df_resid, rel=1e-10)
    pred = ref.get_prediction(X).summary_frame(alpha=0.1)
    np.testing.assert_allclose(g.fitted["fitted"], pred["mean"], rtol=1e-10)
    np.testing.assert_allclose(g.fitted["ci_low"], pred["mean_ci_lower"], rtol=1e-10)


def test_growth_rate_auto_picks_poisson_for_poisson_counts():
    rng = np.random.default_rng(3)
    y = rng.poisson(200 * np.exp(0.1 * np.arange(11)))
    g = tr.growth_rate(pd.Series(y, index=YEARS))
    assert g.family == "poisson"
    assert "Cameron-Trivedi" in g.family_reason and "Poisson" in g.family_reason


def test_growth_rate_negative_binomial_equals_statsmodels():
    g = tr.growth_rate(R1_COUNTS)
    assert g.family == "negative_binomial"
    assert "negative binomial" in g.family_reason
    y = R1_COUNTS.to_numpy(dtype=float)
    x = np.asarray(YEARS, dtype=float)
    X = sm.add_constant(x - x.mean())
    # Cameron-Trivedi auxiliary regression, done here independently
    pois = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    mu = pois.mu
    aux = sm.OLS(((y - mu) ** 2 - y) / mu, mu[:, None]).fit()
    assert g.overdispersion_statistic == pytest.approx(aux.tvalues[0], rel=1e-8)
    assert g.overdispersion_p_value == pytest.approx(stats.t.sf(aux.tvalues[0], 10), rel=1e-8)
    # the NB2 alpha is the maximum-likelihood one: statsmodels' discrete NB agrees
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nb = sm.NegativeBinomial(y, X, loglike_method="nb2").fit(
            method="nm", maxiter=20000, xtol=1e-12, ftol=1e-14, disp=0
        )
    assert g.nb_alpha == pytest.approx(nb.params[-1], rel=1e-3)
    assert g.slope == pytest.approx(nb.params[1], rel=1e-5)
    # and the reported SE/CI are the GLM's at that alpha
    ref = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=g.nb_alpha)).fit()
    assert g.slope == pytest.approx(ref.params[1], rel=1e-10)
    assert g.slope_se == pytest.approx(ref.bse[1], rel=1e-10)
    z = stats.norm.ppf(0.975)
    assert g.ci_high == pytest.approx(np.expm1(ref.params[1] + z * ref.bse[1]), rel=1e-10)


def test_growth_rate_quasipoisson_equals_scaled_glm():
    g = tr.growth_rate(R1_COUNTS, family="quasipoisson")
    x = np.asarray(YEARS, dtype=float)
    ref = sm.GLM(
        R1_COUNTS.to_numpy(), sm.add_constant(x - x.mean()), family=sm.families.Poisson()
    ).fit(scale="X2")
    assert g.slope_se == pytest.approx(ref.bse[1], rel=1e-10)


def test_negative_binomial_without_overdispersion_falls_back_with_warning():
    from csa_survey.exceptions import ConvergenceWarning

    s = pd.Series([100, 200, 400, 800, 1600], index=range(2018, 2023))
    with pytest.warns(ConvergenceWarning, match="quasi-Poisson"):
        g = tr.growth_rate(s, family="negative_binomial")
    assert g.family == "quasipoisson"
    assert g.estimate == pytest.approx(1.0)


def test_growth_frame_columns():
    f = tr.growth_rate(SMALL_COUNTS).to_frame()
    assert f["measure"].tolist() == ["annual_growth", "doubling_time"]
    assert {"estimate", "ci_low", "ci_high", "level", "family", "start", "end"} <= set(f)
    assert (f["start"] == 2012).all() and (f["end"] == 2022).all()


@pytest.mark.parametrize("test", ["lr", "wald"])
def test_break_test_poisson_equals_statsmodels(test):
    y = np.array([100, 110, 121, 133, 146, 200, 280, 390, 550], dtype=float)
    years = np.arange(2014, 2023, dtype=float)
    bt = tr.break_test(pd.Series(y, index=years.astype(int)), 2018, family="poisson", test=test)
    X1 = np.column_stack([np.ones(9), years - years.mean(), np.maximum(years - 2018, 0)])
    full = sm.GLM(y, X1, family=sm.families.Poisson()).fit()
    null = sm.GLM(y, X1[:, :2], family=sm.families.Poisson()).fit()
    stat = 2 * (full.llf - null.llf) if test == "lr" else (full.params[2] / full.bse[2]) ** 2
    assert bt.statistic == pytest.approx(stat, rel=1e-8)
    assert bt.p_value == pytest.approx(stats.chi2.sf(stat, 1), rel=1e-6, abs=1e-300)
    assert bt.growth_before[0] == pytest.approx(np.expm1(full.params[1]), rel=1e-10)
    assert bt.growth_after[0] == pytest.approx(np.expm1(full.params[1] + full.params[2]))
    assert bt.slope_change[0] == pytest.approx(np.exp(full.params[2]), rel=1e-10)
    assert bt.p_value < 0.001
    f = bt.to_frame()
    assert f["measure"].tolist() == ["growth_before", "growth_after", "slope_change"]


def test_break_test_no_break_in_smooth_series():
    bt = tr.break_test(R1_COUNTS, 2017)
    assert bt.family == "negative_binomial"
    assert bt.p_value > 0.05


# --------------------------------------------------------------------------- composition


@pytest.mark.parametrize("method", ["goodman", "sison-glaz"])
def test_composition_equals_statsmodels_multinomial(method):
    counts = pd.Series({"a": 120, "b": 45, "c": 30, "d": 9, "e": 4, "f": 2, "g": 1})
    c = tr.composition(counts, method=method, level=0.9)
    ref = multinomial_proportions_confint(counts.to_numpy(), alpha=0.1, method=method)
    f = c.to_frame()
    np.testing.assert_allclose(f["ci_low"], ref[:, 0], rtol=1e-12)
    np.testing.assert_allclose(f["ci_high"], ref[:, 1], rtol=1e-12)
    n = counts.sum()
    for k, lo, hi in zip(counts, f["ci_low_exact"], f["ci_high_exact"], strict=True):
        elo, ehi = clopper_pearson(int(k), int(n), 0.9)
        assert lo == pytest.approx(elo, rel=1e-9, abs=1e-14)
        assert hi == pytest.approx(ehi, rel=1e-9)
    assert f["estimate"].sum() == pytest.approx(1.0)
    assert list(f.columns) == [
        "category", "count", "n", "estimate", "ci_low", "ci_high",
        "ci_low_exact", "ci_high_exact", "level", "method",
    ]  # fmt: skip


def test_composition_excludes_unknown_and_missing_from_base():
    rec = pd.DataFrame(
        {
            "year": [2022] * 7 + [2021],
            "perp_age": ["child", "child", "adult", "unknown", None, "adult", "child", "adult"],
        }
    )
    c = tr.composition(
        rec, "perp_age", within={"year": 2022}, exclude=["unknown"],
        base_label="offences with a known perpetrator age",
    )  # fmt: skip
    f = c.to_frame()
    assert c.n == 5 and c.n_excluded == 2
    assert dict(zip(f["category"], f["count"], strict=True)) == {"adult": 2, "child": 3}
    assert c.base == (
        "Base: offences with a known perpetrator age, n = 5 "
        "(2 with missing or excluded perp_age left out)"
    )


def test_share_base_and_exact_ci():
    table = pd.DataFrame(
        {
            "year": [2022, 2022, 2022, 2021],
            "offence_type": ["contact", "contact", "images", "contact"],
            "environment": ["family", "other", "other", "family"],
            "n": [26_483, 53_767, 26_750, 25_000],
        }
    )
    before = table.copy()
    r = tr.share(
        table, "environment", "family", count="n",
        within={"offence_type": "contact", "year": 2022},
        base_label="contact offences recorded in 2022",
    )  # fmt: skip
    assert r.base == "Base: contact offences recorded in 2022, n = 80,250"
    assert (r.count, r.n) == (26_483, 80_250)
    assert r.estimate == pytest.approx(0.33, abs=1e-3)
    lo, hi = clopper_pearson(26_483, 80_250, 0.95)
    assert (r.ci_low, r.ci_high) == (pytest.approx(lo, rel=1e-9), pytest.approx(hi, rel=1e-9))
    assert "Base: contact offences recorded in 2022, n = 80,250" in str(r)
    pd.testing.assert_frame_equal(table, before)
    auto = tr.share(table, "environment", "family", count="n", within={"year": 2022})
    assert auto.base == "Base: records with year = 2022, n = 107,000"


def test_share_of_boolean_flag():
    rec = pd.DataFrame({"group_based": [True] + [False] * 19})
    r = tr.share(rec, "group_based", True)
    assert r.estimate == 0.05 and r.n == 20


# --------------------------------------------------------------------------- record path


def test_record_level_path_equals_counts_path():
    rec = records_from_counts(SMALL_COUNTS)
    before = rec.copy()
    yc = tr.yearly_counts(rec)
    assert yc["count"].tolist() == SMALL_COUNTS.tolist()
    a = tr.fold_change(rec, 2012, 2022)
    b = tr.fold_change(SMALL_COUNTS, 2012, 2022)
    c = tr.fold_change(yc, 2012, 2022, count="count")
    assert a == b == c
    pd.testing.assert_frame_equal(tr.year_on_year(rec), tr.year_on_year(SMALL_COUNTS))
    g1, g2 = tr.growth_rate(rec), tr.growth_rate(yc, count="count")
    assert (g1.estimate, g1.ci_low, g1.family) == (g2.estimate, g2.ci_low, g2.family)
    by = tr.yearly_counts(rec, by="offence_type")
    c1 = tr.composition(rec, "offence_type", within={"year": 2022})
    c2 = tr.composition(by, "offence_type", count="count", within={"year": 2022})
    pd.testing.assert_frame_equal(c1.to_frame(), c2.to_frame())
    assert c1.base == c2.base
    s1 = tr.share(rec, "offence_type", "contact", within={"year": 2022})
    s2 = tr.share(by, "offence_type", "contact", count="count", within={"year": 2022})
    assert s1 == s2
    pd.testing.assert_frame_equal(rec, before)


def test_yearly_counts_fills_zeros_and_keeps_missing_groups():
    rec = pd.DataFrame({"year": [2020, 2020, 2022], "env": ["family", None, "family"]})
    out = tr.yearly_counts(rec, by="env", years=range(2020, 2023))
    assert len(out) == 6
    assert out.loc[(out.year == 2021), "count"].tolist() == [0, 0]
    assert out["env"].isna().sum() == 3
    assert tr.yearly_counts(rec, years=range(2020, 2023))["count"].tolist() == [2, 0, 1]


# --------------------------------------------------------------------------- admin series


def test_growth_factor_arithmetic():
    caid = pd.DataFrame(
        {"year": [1990, 2020, 2021.5, 2022], "value": [7e3, 17e6, 20e6, 21e6], "unit": "images"}
    )
    g = tr.growth_factor(caid, 2020, 2021.5)
    assert g.factor == pytest.approx(20 / 17)
    assert g.linear_per_month == pytest.approx(3e6 / 18)
    assert g.linear_per_year == pytest.approx(2e6)
    assert g.compound_per_year == pytest.approx((20 / 17) ** (1 / 1.5) - 1)
    assert g.compound_per_month == pytest.approx((20 / 17) ** (1 / 18) - 1)
    assert (1 + g.compound_per_month) ** 12 == pytest.approx(1 + g.compound_per_year)
    f = g.to_frame()
    assert f["kind"].eq("count").all() and f["ci_low"].isna().all()
    big = tr.growth_factor(caid, 1990, 2022)
    assert big.factor == pytest.approx(3000)


def test_growth_factor_dates_as_decimal_years():
    dates = pd.to_datetime(["2020-01-01", "2021-07-02", "2022-01-01"])
    s = pd.DataFrame({"date": dates, "value": [1.0, 2.0, 3.0]})
    res = tr.loglinear_trend(s, time="date")
    assert res.fitted["time"].tolist() == pytest.approx([2020.0, 2021.5, 2022.0], abs=0.01)
    g = tr.growth_factor(s, 2020, 2022, time="date")
    assert g.years_elapsed == 2 and g.factor == 3


def test_growth_factor_refuses_mixed_units_until_converted():
    arrests = pd.DataFrame(
        {"year": [2012, 2021], "value": [192, 850], "unit": ["per year", "per month"]}
    )
    with pytest.raises(tr.UnitsError, match=r"'unit'.*'per month' at year 2021"):
        tr.growth_factor(arrests, 2012, 2021)
    conv = tr.convert_rate(arrests, to="per year")
    assert conv["value"].tolist() == [192.0, 10200.0]
    assert conv["converted_from"].tolist() == [None, "per month"]
    assert arrests["unit"].tolist() == ["per year", "per month"]  # not mutated
    assert tr.growth_factor(conv, 2012, 2021).factor == pytest.approx(10200 / 192)
    with pytest.raises(tr.UnitsError, match="not a rate"):
        tr.convert_rate(pd.DataFrame({"value": [1.0], "unit": ["images"]}))


def test_mixed_definitions_warn_and_are_noted():
    s = pd.DataFrame(
        {"year": [2020, 2022], "value": [17e6, 21e6], "definition": ["images", "unique files"]}
    )
    with pytest.warns(tr.DefinitionWarning, match=r"'definition'.*'unique files' at year 2022"):
        g = tr.growth_factor(s, 2020, 2022)
    assert g.definitions_differ and "definition" in g.note


def test_loglinear_trend_equals_statsmodels_ols():
    t = np.array([1990, 2020, 2021.5, 2022])
    v = np.array([7e3, 17e6, 20e6, 21e6])
    res = tr.loglinear_trend(pd.Series(v, index=t), level=0.9)
    ref = sm.OLS(np.log(v), sm.add_constant(t - t.mean())).fit()
    q = stats.t.ppf(0.95, 2)
    assert res.slope == pytest.approx(ref.params[1], rel=1e-10)
    assert res.ci_low == pytest.approx(np.expm1(ref.params[1] - q * ref.bse[1]), rel=1e-10)
    assert res.monthly == pytest.approx(np.expm1(ref.params[1] / 12), rel=1e-10)
    assert res.to_frame()["kind"].eq("descriptive fit").all()


def test_loglinear_two_points_warns_and_gives_nan_ci():
    with pytest.warns(DegreesOfFreedomWarning):
        res = tr.loglinear_trend(pd.Series([1.0, 4.0], index=[2020, 2022]))
    assert res.estimate == pytest.approx(1.0)
    assert math.isnan(res.ci_low) and math.isnan(res.ci_high)


# --------------------------------------------------------------------------- errors


def test_negative_count_names_column_and_year():
    bad = SMALL_COUNTS.copy()
    bad[2016] = -3
    with pytest.raises(InvalidValueError, match=r"'offences'.*negative.*year 2016"):
        tr.growth_rate(bad)
    df = pd.DataFrame({"yr": [2020, 2021], "n": [5, -1]})
    with pytest.raises(SurveyError, match=r"'n'.*negative.*year 2021"):
        tr.fold_change(df, 2020, 2021, year="yr", count="n")


def test_non_integer_count_names_column_and_year():
    df = pd.DataFrame({"year": [2020, 2021, 2022], "n": [5, 6.5, 7]})
    with pytest.raises(InvalidValueError, match=r"'n'.*non-integer.*6\.5.*year 2021"):
        tr.year_on_year(df, count="n")
    with pytest.raises(InvalidValueError, match=r"'n'.*non-integer.*row 1"):
        tr.composition(df, "year", count="n")


def test_missing_count_names_year():
    df = pd.DataFrame({"year": [2020, 2021, 2022], "n": [5, np.nan, 7]})
    with pytest.raises(InvalidValueError, match=r"'n'.*missing.*year 2021"):
        tr.growth_rate(df, count="n")


def test_missing_years_name_column_and_year():
    s = SMALL_COUNTS.drop([2015, 2016])
    with pytest.raises(InvalidValueError, match=r"'year'.*years 2015 and 2016.*consecutive"):
        tr.year_on_year(s)
    with pytest.raises(InvalidValueError, match=r"'year'.*no year 2015"):
        tr.fold_change(s, 2015, 2022)
    tr.growth_rate(s)  # a gap is allowed for the GLM


def test_unknown_columns_raise_column_error():
    rec = records_from_counts(SMALL_COUNTS)
    with pytest.raises(ColumnError, match="'yr'"):
        tr.growth_rate(rec, year="yr")
    with pytest.raises(ColumnError, match="'n'"):
        tr.fold_change(rec, 2012, 2022, count="n")
    with pytest.raises(ColumnError, match="'sector'"):
        tr.composition(rec, "offence_type", within={"sector": "x"})
    with pytest.raises(ColumnError, match="'env'"):
        tr.share(rec, "env", "family")
    with pytest.raises(ColumnError, match="'definition_x'"):
        tr.growth_factor(
            pd.DataFrame({"year": [1, 2], "value": [1, 2]}), 1, 2, definition="definition_x"
        )


def test_other_bad_input():
    with pytest.raises(InvalidValueError, match="level"):
        tr.fold_change(SMALL_COUNTS, 2012, 2022, level=95)
    with pytest.raises(InvalidValueError, match="both counts are 0"):
        tr.rate_ratio(0, 0)
    with pytest.raises(InvalidValueError, match="at least 3"):
        tr.growth_rate(SMALL_COUNTS.loc[[2021, 2022]])
    with pytest.raises(InvalidValueError, match=r"break_year 2022 leaves 11 year\(s\) up to it"):
        tr.break_test(SMALL_COUNTS, 2022)
    with pytest.raises(InvalidValueError, match=r"'year'.*non-whole year 2021\.5"):
        tr.growth_rate(pd.DataFrame({"year": [2020, 2021.5, 2022]}))
    with pytest.raises(EmptyDomainError, match="'offence_type'"):
        tr.composition(records_from_counts(SMALL_COUNTS), "offence_type", within={"year": 1999})
    with pytest.raises(InvalidValueError, match=r"'value'.*0 at year 2021"):
        tr.loglinear_trend(pd.DataFrame({"year": [2020, 2021, 2022], "value": [1, 0, 3]}))


# --------------------------------------------------------------------------- properties

counts_st = st.integers(min_value=0, max_value=2_000_000)


@settings(max_examples=60, deadline=None)
@given(k1=counts_st, k0=counts_st, level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_fold_change_ci_contains_estimate(k1, k0, level):
    if k1 + k0 == 0:
        return
    r = tr.rate_ratio(k1, k0, level=level)
    assert r.ci_low <= r.estimate <= r.ci_high
    assert 0 <= r.ci_low


@settings(max_examples=40, deadline=None)
@given(
    k1=st.integers(1, 10_000),
    k0=st.integers(1, 10_000),
    scale=st.floats(min_value=1e-3, max_value=1e6),
)
def test_rate_ratio_invariant_to_common_exposure_scale(k1, k0, scale):
    a = tr.rate_ratio(k1, k0, exposure_end=2.0, exposure_start=3.0)
    b = tr.rate_ratio(k1, k0, exposure_end=2.0 * scale, exposure_start=3.0 * scale)
    assert b.estimate == pytest.approx(a.estimate, rel=1e-9)
    assert b.ci_low == pytest.approx(a.ci_low, rel=1e-9)
    assert b.ci_high == pytest.approx(a.ci_high, rel=1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=st.integers(2, 50), base=st.lists(st.integers(20, 500), min_size=4, max_size=8))
def test_poisson_growth_slope_invariant_to_scaling_counts(c, base):
    s = pd.Series(base, index=range(2000, 2000 + len(base)))
    a = tr.growth_rate(s, family="poisson")
    b = tr.growth_rate(s * c, family="poisson")
    assert b.slope == pytest.approx(a.slope, rel=1e-6, abs=1e-9)
    # Poisson SE shrinks by sqrt(c) under scaling
    assert b.slope_se == pytest.approx(a.slope_se / math.sqrt(c), rel=1e-4)


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(min_value=1.0, max_value=1e9), min_size=3, max_size=8),
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_loglinear_growth_invariant_to_scaling_values(values, scale):
    idx = np.arange(len(values)) * 0.5 + 2000
    a = tr.loglinear_trend(pd.Series(values, index=idx))
    b = tr.loglinear_trend(pd.Series(np.asarray(values) * scale, index=idx))
    assert b.estimate == pytest.approx(a.estimate, rel=1e-6, abs=1e-9)
    if np.isfinite(a.ci_low):
        assert b.ci_low == pytest.approx(a.ci_low, rel=1e-6, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(0, 1000), min_size=2, max_size=6).filter(lambda x: sum(x) > 0))
def test_composition_shares_follow_category_order(counts):
    s = pd.Series(counts, index=[f"c{i}" for i in range(len(counts))])
    a = tr.composition(s).to_frame().set_index("category")
    b = tr.composition(s[::-1]).to_frame().set_index("category").loc[a.index]
    pd.testing.assert_frame_equal(a, b)
    assert (a["ci_low"] <= a["estimate"] + 1e-12).all()
    assert (a["estimate"] <= a["ci_high"] + 1e-12).all()
