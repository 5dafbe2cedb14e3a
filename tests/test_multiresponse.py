"""Tests for csa_survey.multiresponse: bases, joint estimates, paired comparisons, MRCV."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

import csa_survey as cs
from csa_survey.multiresponse import MultiResponse, funnel_counts, is_simple_random_sample

REF = Path(__file__).parent / "reference"
ITEMS = ["i_sw", "i_ci", "i_aw", "i_yr"]


# ------------------------------------------------------------------------ R parity
def _api(name: str) -> pd.DataFrame:
    df = pd.read_csv(REF / f"{name}.csv")
    out = df.copy()
    for col, src in zip(ITEMS, ["sch.wide", "comp.imp", "awards", "yr.rnd"], strict=True):
        out[col] = (df[src] == "Yes").astype("Int8")
    gone = df["snum"] % 7 == 0
    out.loc[gone, ITEMS] = pd.NA
    return out


def _design(case: str) -> cs.SurveyDesign:
    if case.startswith("clus1"):
        d = cs.SurveyDesign(_api("apiclus1"), weights="pw", psu="dnum", fpc="fpc")
        return d.with_replicates("JK1") if case.startswith("clus1_jk1") else d
    return cs.SurveyDesign(_api("apistrat"), weights="pw", strata="stype", fpc="fpc")


REFERENCE = json.loads((REF / "multiresponse.json").read_text())
CASES = [k for k in REFERENCE if k != "meta" and not k.endswith("_by_stype")]


def _mr(case: str) -> MultiResponse:
    d = _design(case)
    if case.endswith("_elementary"):
        d = d.subset(d.data["stype"].eq("E").to_numpy())
    return MultiResponse(d, ITEMS)


@pytest.mark.parametrize("case", CASES)
def test_item_proportions_and_vcov_match_r(case: str) -> None:
    ref = REFERENCE[case]
    est = _mr(case).estimate()
    np.testing.assert_allclose(est.to_frame()["estimate"], ref["estimate"], rtol=1e-8)
    np.testing.assert_allclose(est.vcov.to_numpy(), np.array(ref["vcov"]), rtol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_logit_intervals_match_svyciprop(case: str) -> None:
    ref = REFERENCE[case]["proportions"]
    t = _mr(case).table(sort="items").to_frame()
    np.testing.assert_allclose(t["estimate"], [r["estimate"] for r in ref], rtol=1e-8)
    np.testing.assert_allclose(t["se"], [r["se"] for r in ref], rtol=1e-6)
    np.testing.assert_allclose(t["ci_low"], [r["ci_low"] for r in ref], rtol=1e-6)
    np.testing.assert_allclose(t["ci_high"], [r["ci_high"] for r in ref], rtol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_pairwise_differences_match_svycontrast(case: str) -> None:
    ref = REFERENCE[case]["contrasts"]
    pairs = _mr(case).compare(omnibus="wald").pairs
    assert pairs["item_1"].tolist() == [r["item_1"] for r in ref]
    assert pairs["item_2"].tolist() == [r["item_2"] for r in ref]
    np.testing.assert_allclose(pairs["difference"], [r["difference"] for r in ref], rtol=1e-8)
    np.testing.assert_allclose(pairs["se"], [r["se"] for r in ref], rtol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_adjusted_wald_matches_r(case: str) -> None:
    ref = REFERENCE[case]["wald"]
    om = _mr(case).compare(omnibus="wald").omnibus
    assert om.df == ref["df"] and om.df_denom == ref["df_denom"]
    np.testing.assert_allclose(om.statistic, ref["statistic"], rtol=1e-6)
    np.testing.assert_allclose(om.p_value, ref["p_value"], rtol=1e-6)


@pytest.mark.parametrize("case", ["clus1", "strat", "clus1_jk1"])
def test_by_group_joint_vcov_matches_svyby(case: str) -> None:
    ref = REFERENCE[f"{case}_by_stype"]
    est = _mr(case).estimate(by="stype", ci="mean")
    f = est.to_frame()
    # ours is group-major (E: items, H: items, ...); R's svyby is item-major
    names = [f"{g}:{v}" for g, v in zip(f["stype"], f["variable"], strict=True)]
    order = [names.index(n) for n in ref["coef_names"]]
    np.testing.assert_allclose(f["estimate"].to_numpy()[order], ref["coef"], rtol=1e-8)
    v = est.vcov.to_numpy()[np.ix_(order, order)]
    np.testing.assert_allclose(v, np.array(ref["vcov"]), rtol=1e-6, atol=1e-14)


# ------------------------------------------------------------------------- fixtures
def _random_set(seed: int, n: int = 200, k: int = 4, groups: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal(np.zeros(k), 0.4 + 0.6 * np.eye(k), size=n)
    x = (z < stats.norm.ppf(np.linspace(0.2, 0.6, k))).astype(int)
    df = pd.DataFrame(x, columns=[f"it{j}" for j in range(k)])
    df["g"] = rng.integers(0, groups, n)
    return df


@pytest.fixture
def csam() -> tuple[pd.DataFrame, cs.Codebook]:
    return cs.load_dataset("csam_users")


# --------------------------------------------------------------------------- bases
def test_from_codebook_uses_routed_base(csam) -> None:
    df, cb = csam
    before = df.copy()
    mr = MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "sm_platform")
    base = cb.base(df, "sm_platform")
    assert mr.base_n == base.n
    t = mr.table()
    assert t.base_n == base.n
    assert t.base_description == cb.base_description("sm_platform")
    assert (t.to_frame()["n"] == base.n).all()
    text = repr(t)
    assert f"Base: {base.description}, n = {base.n}" in text
    assert "n = " in t._repr_html_() and base.description in t._repr_html_()
    pd.testing.assert_frame_equal(df, before)  # caller's data untouched


def test_base_is_respondents_who_answered_the_set() -> None:
    df = pd.DataFrame(
        {"a": [1, 0, 0, None, 1], "b": [0, 0, 1, None, None], "c": [0, 0, 0, None, 1]}
    )
    mr = MultiResponse(cs.SurveyDesign(df), ["a", "b", "c"])
    assert mr.base_n == 4  # row 3 answered nothing; row 1 answered "none of these"
    t = mr.table(sort="items").to_frame()
    np.testing.assert_allclose(t["estimate"], [2 / 4, 1 / 4, 1 / 4])
    miss = MultiResponse(cs.SurveyDesign(df), ["a", "b", "c"], partial="missing")
    tm = miss.table(sort="items").to_frame()
    np.testing.assert_allclose(tm["estimate"], [2 / 4, 1 / 3, 1 / 4])
    assert tm["n"].tolist() == [4, 3, 4]


def test_percent_of_respondents_vs_selections(csam) -> None:
    df, cb = csam
    t = MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "contact_channel").table()
    f = t.to_frame()
    assert f["estimate"].sum() > 1  # respondents can tick several
    np.testing.assert_allclose(f["share_of_selections"].sum(), 1.0)
    np.testing.assert_allclose(
        f["share_of_selections"], f["selected"] / f["selected"].sum(), rtol=1e-12
    )
    np.testing.assert_allclose(f["estimate"], f["selected"].astype(float) / f["n"].astype(float))


def test_sorting(csam) -> None:
    df, cb = csam
    mr = MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "msg_app")
    by_est = mr.table().to_frame()
    assert by_est["estimate"].is_monotonic_decreasing
    assert by_est["rank"].tolist() == [1, 2, 3, 4]
    by_items = mr.table(sort="items").to_frame()
    assert by_items["variable"].tolist() == list(cb.sets["msg_app"].items)
    with pytest.raises(cs.InvalidValueError):
        mr.table(sort="alphabet")


def test_table_by_group_ranks_within_group(csam) -> None:
    df, cb = csam
    t = MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "contact_channel").table(
        by="gender", ci="beta"
    )
    f = t.to_frame()
    assert list(f.columns[:3]) == ["gender", "variable", "label"]
    for _, g in f.groupby("gender"):
        assert g["rank"].tolist() == [1, 2, 3]
        assert g["estimate"].is_monotonic_decreasing


# --------------------------------------------------------------------------- errors
def test_errors_name_the_culprit() -> None:
    df = pd.DataFrame({"a": [1, 0, 2], "b": [0, 1, 1], "s": ["x", "y", "z"]})
    d = cs.SurveyDesign(df)
    with pytest.raises(cs.InvalidValueError, match=r"'a'.*2"):
        MultiResponse(d, ["a", "b"])
    with pytest.raises(cs.InvalidValueError, match="'s'"):
        MultiResponse(d, ["b", "s"])
    with pytest.raises(cs.ColumnError, match="'zz'"):
        MultiResponse(d, ["b", "zz"])
    with pytest.raises(cs.ColumnError):
        MultiResponse(d, "b")
    empty = pd.DataFrame({"a": [None, None], "b": [None, None]}, dtype="Float64")
    with pytest.raises(cs.EmptyDomainError):
        MultiResponse(cs.SurveyDesign(empty), ["a", "b"])


# ---------------------------------------------------------------- paired comparisons
def test_paired_statistic_is_mcnemar_for_unweighted_sample() -> None:
    df = _random_set(1, n=150)
    items = [f"it{j}" for j in range(4)]
    mr = MultiResponse(cs.SurveyDesign(df), items)
    pairs = mr.compare().pairs
    n_design = len(df)
    for _, r in pairs.iterrows():
        x, y = df[r["item_1"]], df[r["item_2"]]
        b, c = int(((x == 1) & (y == 0)).sum()), int(((x == 0) & (y == 1)).sum())
        assert (r["only_1"], r["only_2"]) == (b, c)
        m = mcnemar([[0, b], [c, 0]], exact=False, correction=False).statistic
        n = r["n"]
        expected_t2 = (n_design - 1) / n_design * m * n / (n - m)
        np.testing.assert_allclose(r["statistic"] ** 2, expected_t2, rtol=1e-10)


def test_routed_mcnemar_relation_uses_design_rows(csam) -> None:
    df, cb = csam
    mr = MultiResponse.from_codebook(cs.SurveyDesign(df), cb, "sm_platform")
    r = mr.compare().pairs.iloc[0]
    m = mcnemar([[0, r["only_1"]], [r["only_2"], 0]], exact=False, correction=False).statistic
    big_n, n = len(df), r["n"]
    np.testing.assert_allclose(r["statistic"] ** 2, (big_n - 1) / big_n * m * n / (n - m))


def test_paired_se_uses_covariance_and_unpaired_does_not() -> None:
    df = _random_set(2)
    items = [f"it{j}" for j in range(4)]
    mr = MultiResponse(cs.SurveyDesign(df), items)
    v = mr.estimate().vcov.to_numpy()
    paired = mr.compare().pairs
    unpaired = mr.compare(paired=False).pairs
    for idx, (a, b) in enumerate(itertools.combinations(range(4), 2)):
        np.testing.assert_allclose(paired["se"][idx] ** 2, v[a, a] + v[b, b] - 2 * v[a, b])
        np.testing.assert_allclose(unpaired["se"][idx] ** 2, v[a, a] + v[b, b])
    # positively dependent items: the unpaired SE is too large
    assert (unpaired["se"] > paired["se"]).all()


@pytest.mark.parametrize(
    "adjust,sm", [("holm", "holm"), ("bh", "fdr_bh"), ("bonferroni", "bonferroni")]
)
def test_adjustments(adjust: str, sm: str) -> None:
    df = _random_set(3)
    mr = MultiResponse(cs.SurveyDesign(df), [f"it{j}" for j in range(4)])
    pairs = mr.compare(adjust=adjust).pairs
    np.testing.assert_allclose(pairs["p_adjusted"], multipletests(pairs["p_value"], method=sm)[1])
    raw = mr.compare(adjust="none").pairs
    np.testing.assert_allclose(raw["p_adjusted"], raw["p_value"])
    with pytest.raises(cs.InvalidValueError):
        mr.compare(adjust="tukey")


def test_cochrans_q_by_hand() -> None:
    df = _random_set(4, n=120)
    items = [f"it{j}" for j in range(4)]
    om = MultiResponse(cs.SurveyDesign(df), items).compare().omnibus
    x = df[items].to_numpy()
    k, col, row = x.shape[1], x.sum(axis=0), x.sum(axis=1)
    total = x.sum()
    q = (k - 1) * (k * (col**2).sum() - total**2) / (k * total - (row**2).sum())
    assert "Cochran" in om.method
    np.testing.assert_allclose(om.statistic, q, rtol=1e-12)
    np.testing.assert_allclose(om.p_value, stats.chi2.sf(q, k - 1), rtol=1e-10)


def test_weighted_design_uses_wald_omnibus() -> None:
    df = _random_set(5)
    df["w"] = np.linspace(1, 3, len(df))
    mr = MultiResponse(cs.SurveyDesign(df, weights="w"), [f"it{j}" for j in range(4)])
    assert not is_simple_random_sample(mr.design)
    om = mr.compare().omnibus
    assert "Wald" in om.method and om.df_denom == len(df) - 1 - 3 + 1


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=2, max_value=5))
def test_estimates_are_means_over_the_base(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(40, k)).astype(float)
    x[rng.random(40) < 0.2] = np.nan  # some respondents skip the set
    df = pd.DataFrame(x, columns=[f"v{j}" for j in range(k)])
    answered = df.notna().any(axis=1)
    if not answered.any():
        return
    mr = MultiResponse(cs.SurveyDesign(df), list(df.columns))
    f = mr.table(sort="items", ci="beta").to_frame()
    np.testing.assert_allclose(f["estimate"], df[answered].mean().to_numpy(), rtol=1e-12)
    assert mr.base_n == int(answered.sum())
    ov = mr.overlap()
    assert int(ov["n"].sum()) == mr.base_n
    np.testing.assert_allclose(ov["percent"].sum(), 1.0)


def test_overlap_weighted_counts() -> None:
    df = pd.DataFrame({"a": [1, 1, 0, 1], "b": [0, 1, 1, 0], "w": [1.0, 2.0, 3.0, 4.0]})
    ov = MultiResponse(cs.SurveyDesign(df, weights="w"), ["a", "b"], labels=["A", "B"]).overlap()
    assert ov.index.names == ["A", "B"]
    assert ov.loc[(True, False), "n"] == 2
    assert ov.loc[(True, False), "weighted"] == 5.0
    np.testing.assert_allclose(ov["weighted"].sum(), 10.0)


# ------------------------------------------------------------------ MRCV independence
def _mrcv_rs2_bruteforce(w: np.ndarray, y: np.ndarray, add_constant: float = 0.5):
    """MRCV's MMI.test(type='rs2') Appendix A, transcribed literally: cell proportions of
    the 2^c response patterns in each row group, G matrices, Kronecker products."""
    n, c = y.shape
    levels = np.unique(w)
    r = len(levels)
    patterns = np.array(list(itertools.product([0, 1], repeat=c)))  # 2^c x c
    n_i = np.array([(w == lv).sum() for lv in levels], dtype=float)
    tau = np.concatenate(
        [
            [np.all(y[w == lv] == p, axis=1).sum() / n_i[i] for p in patterns]
            for i, lv in enumerate(levels)
        ]
    )
    g_tilde = patterns.T.astype(float)  # c x 2^c
    g = np.kron(np.eye(r), g_tilde)
    pi = g @ tau
    m = pi * np.repeat(n_i, c)
    a = n_i / n
    pi_not_j = (np.kron(np.ones((1, r)), np.eye(c)) @ m) / n
    h = np.eye(r * c) - np.kron(np.ones((r, r)) @ np.diag(a), np.eye(c))
    d = np.kron(np.diag(n / n_i), np.diag(pi_not_j * (1 - pi_not_j)))
    size = 2**c
    v = np.zeros((r * size, r * size))
    for i in range(r):
        t = tau[i * size : (i + 1) * size]
        v[i * size : (i + 1) * size, i * size : (i + 1) * size] = (
            np.diag(t) - np.outer(t, t)
        ) / a[i]
    mat = np.diag(1 / np.diag(d)) @ h @ g @ v @ g.T @ h.T
    eig = np.real(np.linalg.eigvals(mat))
    x2 = []
    for j in range(c):
        tab = np.array([[((w == lv) & (y[:, j] == val)).sum() for val in (0, 1)] for lv in levels])
        tab = np.where(tab == 0, add_constant, tab).astype(float)
        x2.append(stats.chi2_contingency(tab, correction=False).statistic)
    x2s = float(np.sum(x2))
    stat = (r - 1) * c * x2s / np.sum(eig**2)
    df = (r - 1) ** 2 * c**2 / np.sum(eig**2)
    return x2s, np.array(x2), stat, df, stats.chi2.sf(stat, df)


@pytest.mark.parametrize("seed,k,groups", [(11, 3, 2), (12, 4, 3), (13, 5, 4)])
def test_rao_scott_equals_mrcv_appendix_a(seed: int, k: int, groups: int) -> None:
    df = _random_set(seed, n=180, k=k, groups=groups)
    items = [f"it{j}" for j in range(k)]
    mr = MultiResponse(cs.SurveyDesign(df), items)
    res = mr.test_independence("g")
    x2s, x2, stat, dfa, p = _mrcv_rs2_bruteforce(df["g"].to_numpy(), df[items].to_numpy())
    np.testing.assert_allclose(res.table["statistic"], x2, rtol=1e-10)
    np.testing.assert_allclose([res.statistic, res.df, res.p_value], [stat, dfa, p], rtol=1e-9)
    assert res.df_denom is None
    bon = mr.test_independence("g", method="bonferroni")
    np.testing.assert_allclose(bon.statistic, x2s, rtol=1e-10)
    p_items = stats.chi2.sf(x2, groups - 1)
    np.testing.assert_allclose(bon.p_value, min(1.0, k * p_items.min()), rtol=1e-10)
    np.testing.assert_allclose(bon.table["p_bonferroni"], np.minimum(1, k * p_items), rtol=1e-10)


def test_zero_cells_get_the_constant() -> None:
    df = _random_set(14, n=60, k=3, groups=3)
    df.loc[df["g"] == 0, "it0"] = 0  # a zero cell in item 0's table
    items = ["it0", "it1", "it2"]
    res = MultiResponse(cs.SurveyDesign(df), items).test_independence("g")
    x2s, x2, stat, dfa, p = _mrcv_rs2_bruteforce(df["g"].to_numpy(), df[items].to_numpy())
    np.testing.assert_allclose([res.statistic, res.df], [stat, dfa], rtol=1e-9)


def test_rao_scott_null_p_values_are_roughly_uniform() -> None:
    rng = np.random.default_rng(2024)
    ps = []
    for _ in range(300):
        z = rng.multivariate_normal(np.zeros(3), 0.5 + 0.5 * np.eye(3), size=120)
        x = (z < stats.norm.ppf([0.3, 0.4, 0.5])).astype(int)
        df = pd.DataFrame(x, columns=["a", "b", "c"])
        df["g"] = rng.integers(0, 3, len(df))
        ps.append(
            MultiResponse(cs.SurveyDesign(df), ["a", "b", "c"]).test_independence("g").p_value
        )
    ps = np.array(ps)
    # MRCV notes the RS2 test can be conservative; it must not be liberal
    assert 0.01 <= (ps < 0.05).mean() <= 0.08
    assert stats.kstest(ps, "uniform").pvalue > 1e-4


def test_rao_scott_detects_dependence() -> None:
    rng = np.random.default_rng(7)
    g = rng.integers(0, 2, 300)
    x = (rng.random((300, 3)) < np.where(g[:, None] == 1, 0.6, 0.3)).astype(int)
    df = pd.DataFrame(x, columns=["a", "b", "c"]).assign(g=g)
    assert (
        MultiResponse(cs.SurveyDesign(df), ["a", "b", "c"]).test_independence("g").p_value < 1e-4
    )


def test_design_covariance_path() -> None:
    df = _random_set(15, n=200, k=3, groups=3)
    items = ["it0", "it1", "it2"]
    srs = MultiResponse(cs.SurveyDesign(df), items)
    multi = srs.test_independence("g")
    design = srs.test_independence("g", covariance="design")
    # same Pearson statistics; only the adjustment differs (Taylor's n/(n-1), estimated trace)
    np.testing.assert_allclose(design.table["statistic"], multi.table["statistic"], rtol=1e-10)
    assert design.p_value == pytest.approx(multi.p_value, abs=0.05)
    # weighted: weights that are constant give the multinomial result ("auto")
    df["w"] = 2.5
    same = MultiResponse(cs.SurveyDesign(df, weights="w"), items).test_independence("g")
    np.testing.assert_allclose(same.statistic, multi.statistic, rtol=1e-10)
    # clustered design: the design path is used and is scale-invariant in the weights
    df["psu"] = np.arange(len(df)) // 4
    df["w"] = np.linspace(1, 2, len(df))
    r1 = MultiResponse(cs.SurveyDesign(df, weights="w", psu="psu"), items).test_independence("g")
    df["w"] = df["w"] * 10
    r2 = MultiResponse(cs.SurveyDesign(df, weights="w", psu="psu"), items).test_independence("g")
    assert "design-based" in r1.method
    np.testing.assert_allclose(
        [r1.statistic, r1.df, r1.p_value], [r2.statistic, r2.df, r2.p_value]
    )
    b = MultiResponse(cs.SurveyDesign(df, weights="w", psu="psu"), items).test_independence(
        "g", method="bonferroni"
    )
    assert 0 <= b.p_value <= 1 and len(b.table) == 3


# ---------------------------------------------------------------------------- funnel
def test_funnel_counts_follow_codebook_bases(csam) -> None:
    df, cb = csam
    f = funnel_counts(
        df,
        cb,
        [
            ("All respondents", "all"),
            ("Sought contact", "sought_contact == 1"),
            ("Online", "sought_contact_online == 1"),
            ("Via social media", "contact_social_media == 1"),
            ("Named a platform", "sm_platform"),
        ],
    )
    assert f["n"].iloc[0] == len(df)
    assert f["n"].is_monotonic_decreasing
    assert f["n"].iloc[-1] == cb.base(df, "sm_platform").n
    np.testing.assert_allclose(f["pct_of_first"], f["n"] / len(df))
