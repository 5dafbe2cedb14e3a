"""Tests of csa_survey._profile_ci.likelihood_ci against R's svyciprop(method="likelihood").

Reference values come from tests/reference/make_reference_profile_ci.R (R's survey 4.1.1);
R is not needed to run these tests.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from csa_survey import _profile_ci as pc
from csa_survey._profile_ci import likelihood_ci
from csa_survey.exceptions import InvalidValueError, WeightsError

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "profile_ci.json").read_text())
CASES: list[dict[str, Any]] = REF["cases"]
OK_CASES = [c for c in CASES if c["r_error"] is None]
ERROR_CASES = [c for c in CASES if c["r_error"] is not None]


@cache
def _dataset(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "profile_ci" / f"{name}.csv")


def _inputs(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """Rebuild (y, w, var_logit, df, level) of a reference case from the CSV and JSON."""
    data = _dataset(case["data"])
    spec = {
        "sch_wide": ("sch.wide", "==", "Yes"),
        "comp_imp": ("comp.imp", "==", "Yes"),
        "awards": ("awards", "==", "Yes"),
        "stype_H": ("stype", "==", "H"),
        "api00_gt800": ("api00", ">", 800),
        "api00_gt875": ("api00", ">", 875),
        "ell_gt60": ("ell", ">", 60),
    }[case["outcome"]]
    col, op, value = spec
    y = (data[col].astype(str) == value) if op == "==" else (data[col] > value)
    y = y.to_numpy(dtype=float)
    w = np.asarray(REF["weights"][case["design"]], dtype=float)
    assert len(w) == len(data)
    if case["domain"] == "E":
        keep = (data["stype"] == "E").to_numpy()
        y, w = y[keep], w[keep]
    assert len(y) == case["n"]
    assert np.average(y, weights=w) == pytest.approx(case["p_hat"], rel=1e-12, abs=1e-15)
    df = math.inf if case["df"] == "Infinity" else float(case["df"])
    var_logit = math.nan if case["var_logit"] is None else float(case["var_logit"])
    return y, w, var_logit, df, float(case["level"])


def _nan_array(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# --------------------------------------------------------------------------------------
# Agreement with R
# --------------------------------------------------------------------------------------
def test_reference_has_cases() -> None:
    assert len(OK_CASES) >= 100
    assert {c["design"] for c in OK_CASES} == {"srs_fpc", "srs_nofpc", "strat", "clus1", "clus2"}
    assert {c["domain"] for c in OK_CASES} == {"all", "E"}
    assert min(c["p_hat"] for c in OK_CASES) < 0.01  # a rare outcome is covered


@pytest.mark.parametrize("case", OK_CASES, ids=[c["id"] for c in OK_CASES])
def test_matches_r_svyciprop_likelihood(case: dict[str, Any]) -> None:
    y, w, var_logit, df, level = _inputs(case)
    got = np.array(likelihood_ci(y, w, var_logit, df, level))
    np.testing.assert_allclose(got, _nan_array(case["ci"]), rtol=1e-6, atol=0)


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["id"] for c in ERROR_CASES])
def test_r_errors_give_nan(case: dict[str, Any]) -> None:
    """Where R's svyciprop stops with an error, likelihood_ci returns (nan, nan)."""
    y, w, var_logit, df, level = _inputs(case)
    lo, hi = likelihood_ci(y, w, var_logit, df, level)
    assert math.isnan(lo) and math.isnan(hi)


@pytest.mark.parametrize("case", OK_CASES[::7], ids=[c["id"] for c in OK_CASES[::7]])
def test_var_logit_from_svymean_is_good_enough(case: dict[str, Any]) -> None:
    """var(p_hat) / (p (1 - p))^2, as our variance engine supplies it, also matches R."""
    y, w, _, df, level = _inputs(case)
    got = np.array(likelihood_ci(y, w, case["var_logit_from_svymean"], df, level))
    np.testing.assert_allclose(got, _nan_array(case["ci"]), rtol=1e-6, atol=0)


@pytest.mark.parametrize("case", OK_CASES[::5], ids=[c["id"] for c in OK_CASES[::5]])
def test_intermediates_match_r(case: dict[str, Any]) -> None:
    """IRLS fit, naive covariance, dispersion and profile grid agree with R's."""
    y, w, var_logit, df, level = _inputs(case)
    r = case["intermediate"]
    wt = w / w.mean()
    coef, dev, naive_cov, converged = pc._glm_fit_intercept(y, wt)
    assert converged
    assert coef == pytest.approx(r["coef"], rel=1e-12)
    assert dev == pytest.approx(r["deviance"], rel=1e-12)
    assert naive_cov == pytest.approx(r["naive_cov"], rel=1e-10)
    assert math.sqrt(var_logit) == pytest.approx(r["std_err"], rel=1e-12)
    # summary.svyglm's dispersion is svyvar(Pearson residuals): n/(n-1), not chi^2/df.
    n = len(y)
    assert r["dispersion"] == pytest.approx(n / (n - 1), rel=1e-6)
    mu = float(pc._linkinv(coef))
    rr = (y - mu) / math.sqrt(mu * (1 - mu))
    rbar = np.average(rr, weights=wt)
    disp = np.average((rr - rbar) ** 2, weights=wt) * n / (n - 1)
    assert disp == pytest.approx(r["dispersion"], rel=1e-12)

    q = stats.norm.ppf((1 - level) / 2) if math.isinf(df) else stats.t.ppf((1 - level) / 2, df)
    alpha = stats.norm.cdf(q * math.sqrt(var_logit / naive_cov)) / 2
    assert alpha == pytest.approx(r["alpha"], rel=1e-12)
    zmax = math.sqrt(stats.f.isf(alpha, 1, n - 1))
    prof = pc._profile(y, wt, coef, dev, math.sqrt(var_logit), disp, zmax)
    assert prof is not None
    np.testing.assert_allclose(prof[0], r["profile_beta"], rtol=1e-12)
    np.testing.assert_allclose(prof[1], r["profile_z"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", OK_CASES[::3], ids=[c["id"] for c in OK_CASES[::3]])
def test_spline_stage_on_r_profile(case: dict[str, Any]) -> None:
    """Fed R's own profile, the spline + inverse interpolation reproduce R's interval."""
    r = case["intermediate"]
    sx, sy = pc._spline_fmm(np.array(r["profile_beta"]), np.array(r["profile_z"]))
    two_alpha = 2 * r["alpha"]
    cutoff = np.array([stats.norm.ppf(two_alpha), stats.norm.isf(two_alpha)])
    lo, hi = pc._approx_linear(sy, sx, cutoff)
    np.testing.assert_allclose([pc._expit(lo), pc._expit(hi)], case["ci"], rtol=1e-10)


def test_spline_and_approx_match_r() -> None:
    """Hand-ported fmm spline(), seq.int() and approx() against R on irregular data."""
    s = REF["spline_check"]
    x, y = np.array(s["x"]), np.array(s["y"])
    sx, sy = pc._spline_fmm(x, y)
    np.testing.assert_array_equal(sx, s["spline_x"])
    np.testing.assert_allclose(sy, s["spline_y"], rtol=1e-13, atol=1e-15)
    sx3, sy3 = pc._spline_fmm(x[:3], y[:3])
    np.testing.assert_array_equal(sx3, s["small_spline_x"])
    np.testing.assert_allclose(sy3, s["small_spline_y"], rtol=1e-13, atol=1e-15)
    got = pc._approx_linear(sy, sx, np.array(s["approx_xout"]))
    np.testing.assert_allclose(got, _nan_array(s["approx_y"]), rtol=1e-12)


def test_fmm_spline_reproduces_cubics() -> None:
    """FMM end conditions are exact for cubics (natural-spline end conditions are not)."""
    x = np.array([0.0, 0.4, 1.1, 1.3, 2.2, 3.0, 3.1])
    f = lambda t: 1.5 - 2.0 * t + 0.7 * t**2 - 0.3 * t**3  # noqa: E731
    b, c, d = pc._fmm_spline_coef(x, f(x))
    u = np.linspace(0, 3.1, 41)
    np.testing.assert_allclose(pc._spline_eval(u, x, f(x), b, c, d), f(u), rtol=1e-12)


# --------------------------------------------------------------------------------------
# Independent check: exact root of the scaled signed-root deviance
# --------------------------------------------------------------------------------------
def _exact_interval(
    y: np.ndarray, w: np.ndarray, var_logit: float, df: float, level: float
) -> tuple[float, float]:
    """Solve tau(beta) = -/+ qnorm(2 alpha) with brentq, from closed-form ingredients."""
    wt = w / w.mean()
    n = len(y)
    p = float(np.average(y, weights=wt))
    b0 = math.log(p / (1 - p))

    def dev(b: float) -> float:
        return float(-2 * np.sum(wt * (y * -np.logaddexp(0, -b) + (1 - y) * -np.logaddexp(0, b))))

    d0 = dev(b0)
    lam = var_logit * n * p * (1 - p)  # naive var of the MLE: 1 / (n p (1-p))
    q = stats.norm.ppf((1 - level) / 2) if math.isinf(df) else stats.t.ppf((1 - level) / 2, df)
    cut = stats.norm.isf(2 * stats.norm.cdf(q * math.sqrt(lam)) / 2)
    se = math.sqrt(var_logit)

    def tau(b: float) -> float:
        return math.copysign(math.sqrt(max(dev(b) - d0, 0.0) / (n / (n - 1))), b - b0)

    def root(sgn: float) -> float:
        k = se
        while abs(tau(b0 + sgn * k)) < cut:
            k *= 2
        return optimize.brentq(lambda b: tau(b) - sgn * cut, b0, b0 + sgn * k, xtol=1e-14)

    lo, hi = root(-1.0), root(1.0)
    return 1 / (1 + math.exp(-lo)), 1 / (1 + math.exp(-hi))


def test_close_to_exact_profile_root() -> None:
    diffs = []
    for case in OK_CASES:
        y, w, var_logit, df, level = _inputs(case)
        got = np.array(likelihood_ci(y, w, var_logit, df, level))
        exact = np.array(_exact_interval(y, w, var_logit, df, level))
        np.testing.assert_allclose(got, exact, rtol=0, atol=1e-3, err_msg=case["id"])
        diffs.append(np.abs(got - exact).max())
    # Close, but not equal: R interpolates a spline through a coarse grid.
    assert max(diffs) > 1e-7


# --------------------------------------------------------------------------------------
# Edge cases and input checks
# --------------------------------------------------------------------------------------
Y = np.array([1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1], dtype=float)
W = np.array([2, 1, 1, 3, 2, 1, 1, 2, 1, 2, 4, 1], dtype=float)


def _var_logit(y: np.ndarray, w: np.ndarray, deff: float = 1.5) -> float:
    p = np.average(y, weights=w)
    return deff / (len(y) * p * (1 - p))


def test_interval_brackets_estimate_and_is_scale_invariant() -> None:
    vl = _var_logit(Y, W)
    lo, hi = likelihood_ci(Y, W, vl, df=11)
    p = np.average(Y, weights=W)
    assert 0 < lo < p < hi < 1
    np.testing.assert_allclose(likelihood_ci(Y, W * 37.5, vl, df=11), (lo, hi), rtol=1e-12)
    lo90, hi90 = likelihood_ci(Y, W, vl, df=11, level=0.9)
    assert lo < lo90 < hi90 < hi
    lo_inf, hi_inf = likelihood_ci(Y, W, vl, df=math.inf)
    assert lo < lo_inf < hi_inf < hi


@pytest.mark.parametrize("df", [0.0, -1.0, math.nan])
def test_nonpositive_df_gives_nan(df: float) -> None:
    assert all(math.isnan(v) for v in likelihood_ci(Y, W, _var_logit(Y, W), df))


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_degenerate_proportion_gives_nan(value: float) -> None:
    y = np.full(10, value)
    assert all(math.isnan(v) for v in likelihood_ci(y, np.ones(10), 0.1, 9))


@pytest.mark.parametrize("var_logit", [0.0, -0.1, math.nan, math.inf])
def test_unusable_variance_gives_nan(var_logit: float) -> None:
    assert all(math.isnan(v) for v in likelihood_ci(Y, W, var_logit, 11))


def test_input_errors() -> None:
    vl = _var_logit(Y, W)
    with pytest.raises(InvalidValueError, match="same length"):
        likelihood_ci(Y, W[:-1], vl, 11)
    with pytest.raises(InvalidValueError, match="0/1"):
        likelihood_ci(np.where(Y == 1, 2.0, 0.0), W, vl, 11)
    with pytest.raises(InvalidValueError, match="0/1"):
        likelihood_ci(np.append(Y[:-1], np.nan), W, vl, 11)
    with pytest.raises(WeightsError, match="> 0"):
        likelihood_ci(Y, np.append(W[:-1], 0.0), vl, 11)
    with pytest.raises(InvalidValueError, match="level"):
        likelihood_ci(Y, W, vl, 11, level=1.0)
