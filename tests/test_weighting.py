"""rake / trim_weights / Kish diagnostics: R parity, properties, errors."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from models_reference import REF, RTOL_EST, RTOL_SE, build

import csa_survey as cs
from csa_survey.exceptions import ConvergenceWarning, DesignError, MarginsError
from csa_survey.weighting import (
    effective_sample_size,
    kish_deff,
    rake,
    trim_weights,
    weight_summary,
)


@functools.cache
def raked(case: str) -> cs.SurveyDesign:
    spec = REF["rake"][case]
    return rake(build(spec["design"]), spec["margins"])


# ------------------------------------------------------------------------ R parity
@pytest.mark.parametrize("case", list(REF["rake"]))
def test_rake_weights_equal_r(case: str) -> None:
    spec = REF["rake"][case]
    d = raked(case)
    np.testing.assert_allclose(d.weights, spec["weights"], rtol=RTOL_EST)
    assert d.df == spec["degf"]


ESTIMATE_CASES = [
    (case, i) for case in REF["rake"] for i in range(len(REF["rake"][case]["estimates"]))
]


def _ids(x: tuple[str, int]) -> str:
    case, i = x
    e = REF["rake"][case]["estimates"][i]
    extra = f"-by_{e['by']}" if e["by"] else ("-subset" if e["subset"] else "")
    return f"{case}-{e['fn']}-{e['variable']}{extra}"


@pytest.mark.parametrize("case_i", ESTIMATE_CASES, ids=[_ids(x) for x in ESTIMATE_CASES])
def test_raked_estimates_and_ses_equal_r(case_i: tuple[str, int]) -> None:
    case, i = case_i
    e = REF["rake"][case]["estimates"][i]
    d = raked(case)
    if e["subset"]:
        d = d.subset(d.data[e["subset"]["column"]] == e["subset"]["value"])
    if e["fn"] == "proportion":  # estimate and SE only: any interval method will do
        frame = cs.proportion(d, e["variable"], by=e["by"], ci="mean").to_frame()
    else:
        fn = {"mean": cs.mean, "total": cs.total}[e["fn"]]
        frame = fn(d, e["variable"], by=e["by"]).to_frame()
    np.testing.assert_allclose(frame["estimate"], e["estimate"], rtol=RTOL_EST)
    # atol: an estimate fixed by the margins has an SE of rounding noise (~1e-18 in R)
    atol = 1e-9 * np.abs(e["estimate"]).max()
    np.testing.assert_allclose(frame["se"], e["se"], rtol=RTOL_SE, atol=atol)


@pytest.mark.parametrize("k", range(len(REF["trim"])))
def test_trim_one_round_equals_r_trimweights(k: int) -> None:
    spec = REF["trim"][k]
    d = trim_weights(build(spec["design"]), upper=spec["upper"], max_iter=1)
    np.testing.assert_allclose(d.weights, spec["weights"], rtol=RTOL_EST)


def test_raked_margin_totals_have_almost_no_variance() -> None:
    # calibration identity: a margin's category total is fixed by raking, so its SE
    # (R's back-fitted residuals) is close to 0 compared with the unraked SE
    d0 = build("clus1")
    d = raked("clus1_stype_schwide")
    df = d.data.assign(is_e=(d.data["stype"] == "E").astype(float))
    d0 = cs.SurveyDesign(df, weights="pw", psu="dnum", fpc="fpc")
    d = rake(d0, REF["rake"]["clus1_stype_schwide"]["margins"])
    se_raked = cs.total(d, "is_e").to_frame()["se"].iloc[0]
    se_base = cs.total(d0, "is_e").to_frame()["se"].iloc[0]
    assert se_raked < 1e-3 * se_base


# ---------------------------------------------------------------------- properties
def _sample(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n)
    b = rng.choice([1, 2], n)
    a[:3], b[:2] = ["x", "y", "z"], [1, 2]
    return pd.DataFrame(
        {
            "a": a,
            "b": b,
            "w": rng.uniform(0.5, 4.0, n),
            "y": rng.normal(size=n),
            "c": np.arange(n) // 3,
        }
    )


MARGINS = {"a": {"x": 300.0, "y": 500.0, "z": 200.0}, "b": {1: 450.0, 2: 550.0}}
prop = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@prop
@given(seed=st.integers(0, 10_000), n=st.integers(12, 60))
def test_raked_weights_reproduce_margins(seed: int, n: int) -> None:
    df = _sample(seed, n)
    d = rake(cs.SurveyDesign(df, weights="w", psu="c"), MARGINS, max_iter=5000)
    w = d.weights
    for col, totals in MARGINS.items():
        for cat, total in totals.items():
            assert abs(w[(df[col] == cat).to_numpy()].sum() - total) <= 1e-8 * 1000


@prop
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 1e3))
def test_raking_is_invariant_to_weight_scale(seed: int, scale: float) -> None:
    df = _sample(seed, 30)
    df2 = df.assign(w=df["w"] * scale)
    w1 = rake(cs.SurveyDesign(df, weights="w"), MARGINS, max_iter=5000).weights
    w2 = rake(cs.SurveyDesign(df2, weights="w"), MARGINS, max_iter=5000).weights
    np.testing.assert_allclose(w1, w2, rtol=1e-8)


def test_rake_does_not_mutate_input() -> None:
    df = _sample(1, 30)
    before = df.copy()
    margins = {k: dict(v) for k, v in MARGINS.items()}
    rake(cs.SurveyDesign(df, weights="w"), margins)
    pd.testing.assert_frame_equal(df, before)
    assert margins == MARGINS


def test_rake_accepts_series_margins_and_chains() -> None:
    df = _sample(2, 40)
    d = rake(cs.SurveyDesign(df, weights="w"), {"a": pd.Series(MARGINS["a"])})
    d2 = rake(d, {"b": MARGINS["b"]})
    assert "raked" in repr(d2._calibration)
    assert abs(d2.weights[(df["b"] == 1).to_numpy()].sum() - 450.0) < 1e-6


def test_rake_warns_when_not_converged() -> None:
    df = _sample(3, 40)
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 sweeps"):
        rake(cs.SurveyDesign(df, weights="w"), MARGINS, max_iter=1)


# -------------------------------------------------------------------------- errors
def test_margins_missing_a_data_category_names_it() -> None:
    df = _sample(4, 30)
    with pytest.raises(MarginsError, match=r"'a'.*'z' \(\d+ rows"):
        rake(cs.SurveyDesign(df), {"a": {"x": 1.0, "y": 2.0}})


def test_margins_category_absent_fromreference_data() -> None:
    df = _sample(5, 30)
    m = {"a": {**MARGINS["a"], "q": 10.0}}
    with pytest.raises(MarginsError, match=r"'q' \(population 10\)"):
        rake(cs.SurveyDesign(df), m)


def test_zero_weight_category_cannot_be_met() -> None:
    df = _sample(6, 30)
    df.loc[df["a"] == "z", "w"] = 0.0
    with pytest.raises(MarginsError, match="all their weights are 0"):
        rake(cs.SurveyDesign(df, weights="w"), {"a": MARGINS["a"]})


def test_margin_type_mismatch_and_missing_values() -> None:
    df = _sample(7, 30)
    with pytest.raises(MarginsError, match="column is not"):
        rake(cs.SurveyDesign(df), {"b": {"1": 450.0, "2": 550.0}})
    df2 = df.assign(a=df["a"].where(df.index != 5))
    with pytest.raises(MarginsError, match="missing in row 5"):
        rake(cs.SurveyDesign(df2), {"a": MARGINS["a"]})


def test_margins_with_different_totals() -> None:
    df = _sample(8, 30)
    with pytest.raises(MarginsError, match="different populations"):
        rake(cs.SurveyDesign(df), {"a": MARGINS["a"], "b": {1: 1.0, 2: 2.0}})


def test_rake_refuses_subset_and_replicate_designs() -> None:
    df = _sample(9, 30)
    d = cs.SurveyDesign(df, psu="c")
    with pytest.raises(DesignError, match="full design"):
        rake(d.subset(df["b"] == 1), MARGINS)
    with pytest.raises(DesignError, match="replicate"):
        rake(d.with_replicates("JK1"), MARGINS)


# ------------------------------------------------------------------------ trimming
@prop
@given(seed=st.integers(0, 10_000), q=st.floats(0.6, 0.95))
def test_trim_keeps_total_and_bounds(seed: int, q: float) -> None:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"w": rng.lognormal(0, 1, 50)})
    d = cs.SurveyDesign(df, weights="w")
    bound = float(np.quantile(df["w"], q))
    if bound <= df["w"].mean():
        return
    t = trim_weights(d, upper_quantile=q)
    assert t.weights.sum() == pytest.approx(df["w"].sum(), rel=1e-12)
    assert t.weights.max() <= bound * (1 + 1e-12)


def test_trim_errors() -> None:
    d = cs.SurveyDesign(pd.DataFrame({"w": [1.0, 2.0, 9.0]}), weights="w")
    with pytest.raises(cs.InvalidValueError, match="mean weight"):
        trim_weights(d, upper=2.0)
    with pytest.raises(cs.InvalidValueError, match="not both"):
        trim_weights(d, upper=5.0, upper_quantile=0.9)


# --------------------------------------------------------------------- diagnostics
def test_kish_deff_and_effective_n() -> None:
    w = np.array([1.0, 2.0, 2.0, 5.0, 0.0])
    df = pd.DataFrame({"w": w, "g": ["a", "a", "b", "b", "b"]})
    d = cs.SurveyDesign(df, weights="w")
    pos = w[w > 0]
    cv2 = pos.var() / pos.mean() ** 2
    assert kish_deff(d) == pytest.approx(1 + cv2)
    assert effective_sample_size(d) == pytest.approx(pos.sum() ** 2 / (pos**2).sum())
    by = kish_deff(d, by="g")
    assert list(by.index) == ["a", "b"]
    assert by["b"] == pytest.approx(2 * (4 + 25) / 49)
    s = weight_summary(d, by="g")
    assert list(s.columns) == [
        "g",
        "n",
        "weight_sum",
        "weight_min",
        "weight_mean",
        "weight_max",
        "cv",
        "kish_deff",
        "n_eff",
    ]
    assert s["n"].tolist() == [2, 2]
    assert kish_deff(cs.SurveyDesign(df[["g"]])) == pytest.approx(1.0)


def test_no_warnings_on_converging_rake() -> None:
    df = _sample(10, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rake(cs.SurveyDesign(df, weights="w"), MARGINS)
