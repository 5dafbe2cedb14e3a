"""glm: R parity with svyglm (Taylor, fpc, clusters, domains, missing values, replicates,
raked designs), properties and errors."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from models_reference import REF, RTOL_EST, RTOL_SE, build, reference_data

import csa_survey as cs
from csa_survey.regression import ModelResult, glm


def _id(case: dict) -> str:
    parts = [case["design"], case["family"], case["formula_py"].replace(" ", "")]
    for key in ("replicate", "rake"):
        if case.get(key):
            parts.append(key)
    if case.get("subset"):
        parts.append("subset")
    return "-".join(parts)


CASES = REF["glm"]


@functools.cache
def _fit(i: int) -> ModelResult:
    c = CASES[i]
    d = build(c["design"], c.get("replicate"), c.get("rake"))
    if c.get("subset"):
        d = d.subset(d.data[c["subset"]["column"]] == c["subset"]["value"])
    return glm(d, c["formula_py"], family=c["family"])


@pytest.mark.parametrize("i", range(len(CASES)), ids=[_id(c) for c in CASES])
def test_glm_equals_r_svyglm(i: int) -> None:
    ref = CASES[i]
    m = _fit(i)
    # patsy puts categorical terms first; py_names lists patsy's names in R's order
    names = ref["py_names"]
    assert sorted(m.params.index) == sorted(names)
    np.testing.assert_allclose(m.params[names], ref["params"], rtol=RTOL_EST)
    np.testing.assert_allclose(m.bse[names], ref["bse"], rtol=RTOL_SE)
    np.testing.assert_allclose(m.pvalues[names], ref["pvalues"], rtol=RTOL_SE)
    ci = m.conf_int().loc[names]
    np.testing.assert_allclose(ci["ci_low"], ref["ci_low"], rtol=RTOL_SE)
    np.testing.assert_allclose(ci["ci_high"], ref["ci_high"], rtol=RTOL_SE)
    assert m.df_resid == ref["df_resid"]
    if not ref.get("rake"):  # R's glm keeps zero-weight rows outside a calibrated domain
        assert m.nobs == ref["nobs"]


def test_point_estimates_equal_weighted_statsmodels_fit() -> None:
    df = reference_data("apistrat.csv")
    m = glm(build("strat"), "y_aw ~ meals + ell", family="binomial")
    ref = sm.GLM.from_formula(
        "y_aw ~ meals + ell", df, family=sm.families.Binomial(), freq_weights=df["pw"]
    ).fit(tol=1e-12)
    np.testing.assert_allclose(m.params, ref.params, rtol=1e-8)


def test_missing_covariate_rows_have_zero_influence() -> None:
    # dropping rows with a missing covariate = a domain of complete cases
    df = reference_data("apiclus1.csv")
    d = build("clus1")
    m1 = glm(d, "api00 ~ ell + Q('acs.k3')", family="gaussian")
    m2 = glm(d.subset(df["acs.k3"].notna()), "api00 ~ ell + Q('acs.k3')", family="gaussian")
    np.testing.assert_allclose(m1.bse, m2.bse, rtol=1e-10)
    assert m1.nobs == int(df["acs.k3"].notna().sum())


def test_to_frame_odds_ratios() -> None:
    m = _fit(0)
    f = m.to_frame()
    assert list(f.columns) == [
        "term",
        "estimate",
        "se",
        "t",
        "df",
        "p_value",
        "ci_low",
        "ci_high",
        "odds_ratio",
        "or_ci_low",
        "or_ci_high",
    ]
    np.testing.assert_allclose(f["odds_ratio"], np.exp(m.params.to_numpy()))
    np.testing.assert_allclose(f["or_ci_low"], np.exp(m.conf_int()["ci_low"].to_numpy()))
    g = glm(build("clus1"), "api00 ~ ell", family="gaussian").to_frame()
    assert "odds_ratio" not in g.columns
    assert "Design-based GLM" in repr(m)


def test_glm_errors_and_no_mutation() -> None:
    df = reference_data("apiclus1.csv").copy()
    before = df.copy()
    d = cs.SurveyDesign(df, weights="pw", psu="dnum")
    with pytest.raises(cs.InvalidValueError, match="0/1"):
        glm(d, "api00 ~ ell", family="binomial")
    with pytest.raises(cs.InvalidValueError, match="family"):
        glm(d, "api00 ~ ell", family="poisson")
    with pytest.raises(cs.InvalidValueError, match="rank deficient"):
        glm(d, "api00 ~ ell + I(2 * ell)", family="gaussian")
    with pytest.raises(cs.InvalidValueError, match="could not build"):
        glm(d, "api00 ~ nothere", family="gaussian")
    pd.testing.assert_frame_equal(df, before)
