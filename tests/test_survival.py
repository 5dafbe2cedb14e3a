"""Tests for csa_survey.survival (design-weighted Kaplan–Meier) and its plot.

R parity: tests/reference/survival.json, written by tests/reference/make_reference_survival.R
(R's survey 4.x: svykm, confint.svykm, quantile.svykm, svycontrast, withReplicates).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.duration.survfunc import SurvfuncRight

import csa_survey as cs
from csa_survey import _variance
from csa_survey.survival import survival, survival_quantiles

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from csa_survey.plots.survival import plot_cumulative_exposure

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "survival.json").read_text())
CASES = ["apistrat", "apiclus1", "pbc"]
REP_CASES = ["apistrat_jkn", "apiclus1_jk1"]
RTOL_EST, RTOL_SE = 1e-8, 1e-6


def _data(name: str) -> pd.DataFrame:
    if name == "pbc":
        return pd.DataFrame(R["pbc_rows"])
    df = pd.read_csv(REF / f"{name}.csv")
    df["t"] = np.floor(df["api99"] / 50)  # as make_reference_survival.R
    df["e"] = df["y_aw"]
    return df


def _design(case: str) -> cs.SurveyDesign:
    c = R[case]
    return cs.SurveyDesign(_data(c["data"]), **c["spec"])


def _arr(values: list) -> np.ndarray:
    """R's JSON (null for Inf/NaN) as floats."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _group(frame: pd.DataFrame, by: str, level: str) -> pd.DataFrame:
    return frame[frame[by].astype(str) == level]


# ------------------------------------------------------------------------- R parity
@pytest.mark.parametrize("case", CASES)
def test_product_limit_matches_svykm(case):
    c = R[case]
    d = _design(case)
    km = c["km"]
    f = survival(d, "t", "e", at=km["time"]).to_frame()
    np.testing.assert_allclose(f["estimate"], km["surv"], rtol=RTOL_EST, atol=1e-14)
    # without at=: one row per distinct event time = the times where R's curve drops
    surv = np.array(km["surv"])
    drops = np.array(km["time"])[1:][np.diff(surv) < 0]
    g = survival(d, "t", "e").to_frame()
    np.testing.assert_array_equal(g["time"], drops)


@pytest.mark.parametrize("case", CASES)
def test_product_limit_by_matches_svykm(case):
    c = R[case]
    d = _design(case)
    f = survival(d, "t", "e", by=c["by"], at=np.unique(_data(c["data"])["t"])).to_frame()
    assert list(f.columns[:3]) == [c["by"], "time", "variable"]
    for level in c["levels"]:
        r = c["km_by"][level]
        sub = _group(f, c["by"], level).set_index("time")
        ours = sub.loc[np.array(r["time"][1:], dtype=float), "estimate"]
        np.testing.assert_allclose(ours, r["surv"][1:], rtol=RTOL_EST, atol=1e-14)


@pytest.mark.parametrize("case", CASES)
def test_nelson_aalen_matches_svykm_se(case):
    c = R[case]
    f = survival(_design(case), "t", "e", estimator="nelson-aalen").to_frame()
    na = c["na"]
    np.testing.assert_array_equal(f["time"], na["time"])
    np.testing.assert_allclose(f["estimate"], na["surv"], rtol=RTOL_EST)
    np.testing.assert_allclose(f["se"] / f["estimate"], np.sqrt(na["varlog"]), rtol=RTOL_SE)


@pytest.mark.parametrize("case", CASES)
def test_nelson_aalen_by_matches_svykm_se(case):
    c = R[case]
    f = survival(_design(case), "t", "e", by=c["by"], estimator="nelson-aalen").to_frame()
    for level in c["levels"]:
        r = c["na_by"][level]
        sub = _group(f, c["by"], level)
        np.testing.assert_array_equal(sub["time"], r["time"])
        np.testing.assert_allclose(sub["estimate"], r["surv"], rtol=RTOL_EST)
        np.testing.assert_allclose(sub["se"] / sub["estimate"], np.sqrt(r["varlog"]), rtol=RTOL_SE)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("level", "key"), [(0.95, "na_ci"), (0.90, "na_ci90")])
def test_log_intervals_match_confint_svykm(case, level, key):
    c = R[case]
    f = survival(
        _design(case), "t", "e", at=c["at"], level=level, estimator="nelson-aalen"
    ).to_frame()
    np.testing.assert_allclose(f["ci_low"], c[key]["low"], rtol=RTOL_SE)
    np.testing.assert_allclose(f["ci_high"], c[key]["high"], rtol=RTOL_SE)


@pytest.mark.parametrize("case", CASES)
def test_quantiles_match_quantile_svykm(case):
    c = R[case]
    q = survival_quantiles(
        _design(case), "t", "e", probs=[0.75, 0.5, 0.25], estimator="nelson-aalen"
    )
    r = c["na_quantile"]
    inf = np.inf
    for col, key in [("estimate", "estimate"), ("ci_low", "low"), ("ci_high", "high")]:
        expected = np.where(np.isnan(_arr(r[key])), inf, _arr(r[key]))
        np.testing.assert_array_equal(q[col].to_numpy(float), expected)


@pytest.mark.parametrize("case", CASES)
def test_product_limit_se_matches_r_linearisation(case):
    """Independent R route: svytotal of the indicators + svycontrast of the product."""
    c = R[case]
    d = _design(case)
    f = survival(d, "t", "e", at=c["at"]).to_frame()
    r = c["km_lin"]
    np.testing.assert_allclose(f["estimate"], r["surv"], rtol=RTOL_EST)
    np.testing.assert_allclose(f["se"], _arr(r["se"]), rtol=RTOL_SE)
    fb = survival(d, "t", "e", at=c["at"], by=c["by"]).to_frame()
    for level in c["levels"]:
        rb = c["km_lin_by"][level]
        sub = _group(fb, c["by"], level)
        np.testing.assert_allclose(sub["estimate"], rb["surv"], rtol=RTOL_EST, atol=1e-14)
        se_r = _arr(rb["se"])
        ok = np.isfinite(se_r)
        np.testing.assert_allclose(sub["se"].to_numpy()[ok], se_r[ok], rtol=RTOL_SE)
        # R's delta method is NaN once S reaches 0; ours is 0 there (S is then certain)
        assert (sub["se"].to_numpy()[~ok] == 0).all()
        assert (sub["estimate"].to_numpy()[~ok] == 0).all()


@pytest.mark.parametrize("case", REP_CASES)
def test_replicate_design_matches_withreplicates(case):
    c = R[case]
    d = cs.SurveyDesign(_data(c["data"]), **c["spec"]).with_replicates(c["type"])
    f = survival(d, "t", "e", at=c["at"]).to_frame()
    np.testing.assert_allclose(f["estimate"], c["surv"], rtol=RTOL_EST)
    np.testing.assert_allclose(f["se"], c["se"], rtol=RTOL_SE)


# ----------------------------------------------------------------------- properties
def _random_frame(seed: int, n: int = 80, censor: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "t": rng.integers(4, 18, n).astype(float),
            "e": rng.integers(0, 2, n) if censor else np.ones(n, dtype=int),
            "w": rng.uniform(0.5, 4.0, n),
            "s": rng.integers(0, 3, n),
            "c": rng.integers(0, 8, n),
            "g": rng.choice(["a", "b"], n),
        }
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(5, 60))
def test_equal_weights_is_classical_km_and_greenwood(seed, n):
    """Equal weights, no clustering: statsmodels' KM; SE = sqrt(n/(n-1)) x Greenwood."""
    df = _random_frame(seed, n)
    if df["e"].sum() == 0:
        df.loc[0, "e"] = 1
    f = survival(cs.SurveyDesign(df), "t", "e").to_frame()
    sf = SurvfuncRight(df["t"], df["e"])
    np.testing.assert_allclose(f["time"], sf.surv_times)
    np.testing.assert_allclose(f["estimate"], sf.surv_prob, rtol=1e-12, atol=1e-15)
    greenwood = np.sqrt(n / (n - 1)) * sf.surv_prob_se
    pos = sf.surv_prob > 0
    np.testing.assert_allclose(f["se"][pos], greenwood[pos], rtol=1e-10)
    # constant weights other than 1 change nothing but N
    g = survival(cs.SurveyDesign(df.assign(w=7.5), weights="w"), "t", "e")
    np.testing.assert_allclose(g.to_frame()["se"], f["se"], rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 60))
def test_uncensored_is_one_minus_weighted_ecdf(seed, n):
    df = _random_frame(seed, n, censor=False)
    d = cs.SurveyDesign(df, weights="w", strata="s", lonely_psu="adjust")
    f = survival(d, "t", "e").to_frame()
    w = df["w"].to_numpy()
    ecdf = np.array([w[df["t"] <= t].sum() / w.sum() for t in f["time"]])
    np.testing.assert_allclose(f["estimate"], 1 - ecdf, rtol=1e-12, atol=1e-14)
    cum = survival(d, "t", "e", cumulative=True).to_frame()
    np.testing.assert_allclose(cum["estimate"], ecdf, rtol=1e-12, atol=1e-14)


def test_uncensored_se_and_deff_equal_the_proportion():
    """Without censoring S(t) is the share with T > t for any weights, so its influence
    function, SE and deff are those of cs.proportion of that indicator."""
    df = _random_frame(3, 200, censor=False)
    d = cs.SurveyDesign(df, weights="w", strata="s", psu="c", lonely_psu="adjust")
    f = survival(d, "t", "e", at=[9, 11, 13]).to_frame()
    for i, t in enumerate([9, 11, 13]):
        dy = cs.SurveyDesign(
            df.assign(y=(df["t"] > t).astype(int)),
            weights="w",
            strata="s",
            psu="c",
            lonely_psu="adjust",
        )
        p = cs.proportion(dy, "y").to_frame().iloc[0]
        assert f["estimate"].iloc[i] == pytest.approx(p["estimate"], rel=1e-12)
        assert f["se"].iloc[i] == pytest.approx(p["se"], rel=1e-10)
        assert f["deff"].iloc[i] == pytest.approx(p["deff"], rel=1e-10)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 1000))
def test_invariant_to_row_order_and_weight_scale(seed, scale):
    df = _random_frame(seed, 50)
    d = cs.SurveyDesign(df, weights="w", strata="s", psu="c", lonely_psu="adjust")
    f = survival(d, "t", "e", by="g").to_frame()
    perm = np.random.default_rng(seed).permutation(len(df))
    shuffled = df.iloc[perm].assign(w=df["w"].iloc[perm] * scale)
    d2 = cs.SurveyDesign(shuffled, weights="w", strata="s", psu="c", lonely_psu="adjust")
    g = survival(d2, "t", "e", by="g").to_frame()
    np.testing.assert_allclose(g["estimate"], f["estimate"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(g["se"], f["se"], rtol=1e-8, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 60))
def test_estimates_in_unit_interval_and_monotone(seed, n):
    df = _random_frame(seed, n)
    est = survival(cs.SurveyDesign(df, weights="w"), "t", "e", by="g")
    f = est.to_frame()
    assert ((f["estimate"] >= 0) & (f["estimate"] <= 1)).all()
    for _, sub in f.groupby("g"):
        assert (np.diff(sub["estimate"]) <= 1e-15).all()
        assert (np.diff(sub["time"]) > 0).all()
    ok = f["ci_low"].notna()
    assert (f.loc[ok, "ci_low"] <= f.loc[ok, "estimate"] + 1e-12).all()
    assert (f.loc[ok, "ci_high"] >= f.loc[ok, "estimate"] - 1e-12).all()
    assert (f.loc[ok, "ci_high"] <= 1).all()


def test_influence_functions_match_numerical_derivatives():
    """IF_i = w_i dS/dw_i: finite differences through the variance engine give the SEs."""
    df = _random_frame(11, 40)
    d = cs.SurveyDesign(df, weights="w", psu="c", strata="s", lonely_psu="adjust")
    for estimator in ("kaplan-meier", "nelson-aalen"):
        f = survival(d, "t", "e", estimator=estimator).to_frame()
        base = f["estimate"].to_numpy()
        eps = 1e-6
        z = np.empty((len(df), base.size))
        for i in range(len(df)):
            w2 = df["w"].to_numpy().copy()
            w2[i] += eps
            d2 = cs.SurveyDesign(
                df.assign(w=w2), weights="w", psu="c", strata="s", lonely_psu="adjust"
            )
            s2 = survival(d2, "t", "e", estimator=estimator).to_frame()["estimate"].to_numpy()
            z[i] = (s2 - base) / eps * df["w"].iloc[i]
        v = _variance.taylor_vcov(d, _variance.psu_totals(d, z))
        np.testing.assert_allclose(np.sqrt(np.diag(v)), f["se"], rtol=1e-5, atol=1e-9)


def test_replicate_se_close_to_taylor():
    """Jackknife refits of the curve agree with the linearisation (not exactly)."""
    df = _random_frame(5, 300)
    d = cs.SurveyDesign(df, weights="w", psu="c", strata="s")
    t = survival(d, "t", "e", at=[8, 11, 14]).to_frame()
    r = survival(d.with_replicates("JKn"), "t", "e", at=[8, 11, 14]).to_frame()
    np.testing.assert_allclose(r["estimate"], t["estimate"], rtol=1e-12)
    np.testing.assert_allclose(r["se"], t["se"], rtol=0.1)


def test_by_equals_subset_domain():
    df = _random_frame(7, 120)
    d = cs.SurveyDesign(df, weights="w", strata="s", psu="c")
    by = survival(d, "t", "e", by="g").to_frame()
    sub = survival(d.subset(df["g"] == "b"), "t", "e").to_frame()
    b = by[by["g"] == "b"].reset_index(drop=True)
    np.testing.assert_allclose(b["estimate"], sub["estimate"], rtol=1e-12)
    np.testing.assert_allclose(b["se"], sub["se"], rtol=1e-10)
    # the joint vcov: off-diagonal blocks between groups are generally non-zero
    v = survival(d, "t", "e", by="g", at=[10]).vcov
    assert v.shape == (2, 2)


def test_missing_rows_stay_in_design_with_zero_influence():
    df = _random_frame(8, 100)
    df["t_na"] = df["t"].where(np.arange(100) % 9 != 0)
    d = cs.SurveyDesign(df, weights="w", strata="s", psu="c")
    f = survival(d, "t_na", "e").to_frame()
    dom = survival(d.subset(df["t_na"].notna()), "t", "e").to_frame()
    np.testing.assert_allclose(f["estimate"], dom["estimate"], rtol=1e-12)
    np.testing.assert_allclose(f["se"], dom["se"], rtol=1e-10)
    assert (f["n"] == int(df["t_na"].notna().sum())).all()


def test_at_step_function_and_before_first_event():
    df = pd.DataFrame({"t": [5.0, 7, 7, 9, 12, 12], "e": [1, 1, 0, 1, 1, 1]})
    d = cs.SurveyDesign(df)
    full = survival(d, "t", "e").to_frame().set_index("time")
    f = survival(d, "t", "e", at=[3, 5, 6, 8.5, 9, 20]).to_frame()
    np.testing.assert_array_equal(f["time"], [3, 5, 6, 8.5, 9, 20])
    expected = [
        1.0,
        full.loc[5, "estimate"],
        full.loc[5, "estimate"],
        full.loc[7, "estimate"],
        full.loc[9, "estimate"],
        full.loc[12, "estimate"],
    ]
    np.testing.assert_allclose(f["estimate"], expected)
    assert f["se"].iloc[0] == 0 and np.isnan(f["ci_low"].iloc[0])
    # curve reaches 0 at 12: SE 0, interval undefined
    assert (
        f["estimate"].iloc[-1] == 0 and f["se"].iloc[-1] == 0 and np.isnan(f["ci_high"].iloc[-1])
    )


def test_cumulative_flips_estimate_and_interval():
    df = _random_frame(2, 150)
    d = cs.SurveyDesign(df, weights="w", strata="s")
    s = survival(d, "t", "e", at=[9, 11, 13])
    c = survival(d, "t", "e", at=[9, 11, 13], cumulative=True)
    fs, fc = s.to_frame(), c.to_frame()
    np.testing.assert_allclose(fc["estimate"], 1 - fs["estimate"])
    np.testing.assert_allclose(fc["ci_low"], 1 - fs["ci_high"])
    np.testing.assert_allclose(fc["ci_high"], 1 - fs["ci_low"])
    np.testing.assert_allclose(c.vcov.to_numpy(), s.vcov.to_numpy())
    assert c.labels[0] == "t | time=9.0"


@pytest.mark.parametrize("ci", ["log", "log-log", "logit"])
def test_interval_formulas(ci):
    df = _random_frame(4, 150)
    f = survival(cs.SurveyDesign(df, weights="w"), "t", "e", ci=ci, df=30, level=0.9).to_frame()
    s, se = f["estimate"], f["se"]
    from scipy import stats

    q = stats.t.ppf(0.95, 30)
    if ci == "log":
        lo, hi = s * np.exp(-q * se / s), np.minimum(s * np.exp(q * se / s), 1)
    elif ci == "log-log":
        lo = s ** np.exp(-q * se / (s * np.log(s)))
        hi = s ** np.exp(q * se / (s * np.log(s)))
    else:
        lg = np.log(s / (1 - s))
        lo = 1 / (1 + np.exp(-(lg - q * se / (s * (1 - s)))))
        hi = 1 / (1 + np.exp(-(lg + q * se / (s * (1 - s)))))
    ok = (s > 0) & (s < 1)
    np.testing.assert_allclose(f["ci_low"][ok], lo[ok], rtol=1e-10)
    np.testing.assert_allclose(f["ci_high"][ok], hi[ok], rtol=1e-10)


def test_frame_columns_and_estimate_fields():
    df = _random_frame(1, 60)
    est = survival(cs.SurveyDesign(df, weights="w", strata="s"), "t", "e", by="g", at=[9, 13])
    f = est.to_frame()
    assert list(f.columns) == [
        "g",
        "time",
        "variable",
        "level",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "n",
        "deff",
    ]
    assert (f["variable"] == "t").all() and (f["level"] == "").all()
    assert str(f["n"].dtype) == "Int64"
    assert est.statistic == "survival" and est.lead == ("g", "time") and est.by == ("g",)
    assert np.isinf(est.df)
    assert "Survival" in est._repr_html_()
    assert est.vcov.shape == (4, 4)


def test_median_by_group_and_not_reached():
    df = pd.DataFrame(
        {
            "t": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "e": [1, 1, 1, 1, 0, 0, 0, 0],
            "g": ["a"] * 4 + ["b"] * 4,
        }
    )
    d = cs.SurveyDesign(df)
    q = survival_quantiles(d, "t", "e", by="g", probs=[0.5])
    assert q.loc[q["g"] == "a", "estimate"].item() == 2.0
    # group b has no event: no rows
    assert (q["g"] == "b").sum() == 0
    q2 = survival_quantiles(d, "t", "e", probs=[0.5, 0.1])
    assert q2["estimate"].tolist()[0] == 4.0 and np.isinf(q2["estimate"].iloc[1])


def test_caller_frame_not_mutated():
    df = _random_frame(9, 50)
    before = df.copy()
    survival(cs.SurveyDesign(df, weights="w"), "t", "e", by="g", at=[10], cumulative=True)
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"time": "nope"}, cs.ColumnError, "nope"),
        ({"event": "bad"}, cs.InvalidValueError, r"'bad'.*2"),
        ({"time": "txt"}, cs.InvalidValueError, "txt"),
        ({"ci": "plain"}, cs.InvalidValueError, "ci must"),
        ({"estimator": "cox"}, cs.InvalidValueError, "estimator"),
        ({"level": 95}, cs.InvalidValueError, "level"),
        ({"at": [np.nan]}, cs.InvalidValueError, "at must"),
    ],
)
def test_errors_name_the_culprit(kwargs, error, match):
    df = pd.DataFrame({"t": [1.0, 2, 3], "e": [1, 0, 1], "bad": [1, 2, 0], "txt": ["1", "2", "3"]})
    args = {"time": "t", "event": "e"} | {
        k: v for k, v in kwargs.items() if k in ("time", "event")
    }
    rest = {k: v for k, v in kwargs.items() if k not in ("time", "event")}
    with pytest.raises(error, match=match):
        survival(cs.SurveyDesign(df), args["time"], args["event"], **rest)


def test_all_missing_raises():
    df = pd.DataFrame({"t": [np.nan, np.nan], "e": [1, 0]})
    with pytest.raises(cs.InvalidValueError, match="nothing to estimate"):
        survival(cs.SurveyDesign(df), "t", "e")


# ----------------------------------------------------------------------------- plot
def test_plot_cumulative_exposure_by_group_with_marks():
    df = _random_frame(6, 120)
    est = survival(cs.SurveyDesign(df, weights="w"), "t", "e", by="g", cumulative=True)
    ax = plot_cumulative_exposure(est, labels={"a": "Group A"}, marks=(9, 11))
    assert len(ax.lines) == 4 and len(ax.collections) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Group A", "g=b"]
    # the marked values are the step function's values read from the result
    f = est.to_frame()
    a = f[(f["g"] == "a") & (f["time"] <= 9)]["estimate"].iloc[-1]
    assert ax.lines[1].get_ydata()[0] == pytest.approx(a)
    assert ax.get_ylabel() == "Exposed by age t"
    plt.close(ax.figure)


def test_plot_survival_scale_and_errors():
    df = _random_frame(6, 60)
    est = survival(cs.SurveyDesign(df), "t", "e")
    ax = plot_cumulative_exposure(est, band=False, marks=())
    assert len(ax.lines) == 1 and len(ax.collections) == 0
    assert ax.lines[0].get_ydata()[0] == 1.0
    # the last level is drawn one time unit past the last event time
    f = est.to_frame()
    assert ax.lines[0].get_xdata()[-1] == f["time"].max() + 1
    assert ax.lines[0].get_ydata()[-1] == f["estimate"].iloc[-1]
    plt.close(ax.figure)
    with pytest.raises(cs.InvalidValueError, match="survival"):
        plot_cumulative_exposure(cs.mean(cs.SurveyDesign(df), "t"))
