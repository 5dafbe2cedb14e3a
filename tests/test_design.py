"""SurveyDesign / ReplicateDesign: validation, errors, domains, replicate constructions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csa_survey as cs
from csa_survey import _variance


@pytest.fixture
def strat() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 120
    return pd.DataFrame(
        {
            "y": rng.normal(10, 2, n),
            "b": rng.integers(0, 2, n),
            "w": rng.uniform(1, 5, n),
            "s": np.repeat(["A", "B", "C"], 40),
            "c": np.tile(np.repeat(np.arange(8), 5), 3),
            "N": np.repeat([80.0, 90.0, 100.0], 40),
        }
    )


# ------------------------------------------------------------------------------ errors
def test_missing_weight_column_names_it(strat):
    with pytest.raises(cs.ColumnError, match="'wt'"):
        cs.SurveyDesign(strat, weights="wt")


def test_missing_strata_and_psu_columns(strat):
    with pytest.raises(cs.ColumnError, match="strata column 'region'"):
        cs.SurveyDesign(strat, strata="region")
    with pytest.raises(cs.ColumnError, match="psu column 'cluster'"):
        cs.SurveyDesign(strat, psu="cluster")


def test_negative_weight_names_column_value_and_rows(strat):
    df = strat.copy()
    df.loc[[3, 17], "w"] = -1.5
    with pytest.raises(cs.WeightsError) as err:
        cs.SurveyDesign(df, weights="w")
    msg = str(err.value)
    assert "'w'" in msg and "-1.5" in msg and "rows 3 and 17" in msg


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weight(strat, bad):
    df = strat.copy()
    df.loc[5, "w"] = bad
    with pytest.raises(cs.WeightsError, match=r"'w'.*row 5"):
        cs.SurveyDesign(df, weights="w")


def test_text_weights_are_not_coerced(strat):
    df = strat.assign(w=strat["w"].astype(str))
    with pytest.raises(cs.WeightsError, match="must be numeric"):
        cs.SurveyDesign(df, weights="w")


def test_missing_strata_values(strat):
    df = strat.copy()
    df.loc[9, "s"] = None
    with pytest.raises(cs.DesignError, match=r"strata column 's'.*row 9"):
        cs.SurveyDesign(df, strata="s")


def test_lonely_psu_fails_by_default_and_names_stratum(strat):
    df = strat.copy()
    df.loc[df["s"] == "C", "c"] = 0  # stratum C has a single PSU
    with pytest.raises(
        cs.LonelyPSUError, match=r"strata column 's': stratum 'C' has only one PSU"
    ):
        cs.SurveyDesign(df, weights="w", strata="s", psu="c")
    for option in ("remove", "certainty", "adjust"):
        d = cs.SurveyDesign(df, weights="w", strata="s", psu="c", lonely_psu=option)
        assert np.isfinite(cs.mean(d, "y").to_frame()["se"].iloc[0])


def test_lonely_psu_options_differ_as_documented(strat):
    df = strat.copy()
    df.loc[df["s"] == "C", "c"] = 0
    se = {
        o: cs.total(cs.SurveyDesign(df, "w", "s", "c", lonely_psu=o), "y").to_frame()["se"].iloc[0]
        for o in ("remove", "certainty", "adjust")
    }
    assert se["remove"] == se["certainty"] < se["adjust"]


def test_bad_lonely_option(strat):
    with pytest.raises(cs.DesignError, match="lonely_psu"):
        cs.SurveyDesign(strat, lonely_psu="average")


def test_fpc_validation(strat):
    with pytest.raises(cs.DesignError, match="varies within stratum"):
        cs.SurveyDesign(strat.assign(N=np.arange(120.0) + 50), strata="s", fpc="N")
    with pytest.raises(cs.DesignError, match="population of only"):
        cs.SurveyDesign(strat.assign(N=10.0), strata="s", fpc="N")
    mixed = strat.assign(N=np.repeat([0.5, 0.4, 80.0], 40))
    with pytest.raises(cs.DesignError, match="mixes population counts"):
        cs.SurveyDesign(mixed, strata="s", fpc="N")


def test_fpc_as_counts_or_fractions_agree(strat):
    counts = cs.SurveyDesign(strat, weights="w", strata="s", fpc="N")
    frac = cs.SurveyDesign(strat.assign(f=40 / strat["N"]), weights="w", strata="s", fpc="f")
    a = cs.mean(counts, "y").to_frame()
    b = cs.mean(frac, "y").to_frame()
    assert np.allclose(a[["estimate", "se"]], b[["estimate", "se"]], rtol=1e-12)


def test_certainty_stratum_by_fpc_is_not_lonely(strat):
    df = strat.copy()
    df.loc[df["s"] == "C", "c"] = 0
    df.loc[df["s"] == "C", "N"] = 1.0  # stratum C: its one PSU is the whole population
    d = cs.SurveyDesign(df, weights="w", strata="s", psu="c", fpc="N")
    assert np.isfinite(cs.mean(d, "y").to_frame()["se"].iloc[0])


def test_empty_domain(strat):
    d = cs.SurveyDesign(strat, weights="w")
    with pytest.raises(cs.EmptyDomainError, match="no rows"):
        d.subset(strat["y"] > 1e9)
    with pytest.raises(cs.EmptyDomainError):
        d.subset("y > 1e9")


def test_subset_mask_must_be_boolean_and_complete(strat):
    d = cs.SurveyDesign(strat)
    with pytest.raises(cs.DesignError, match="boolean"):
        d.subset(strat["b"].to_numpy())
    mask = (strat["b"] == 1).astype("boolean")
    mask.iloc[4] = pd.NA
    with pytest.raises(cs.DesignError, match="row 4"):
        d.subset(mask)
    with pytest.raises(cs.DesignError, match="could not evaluate"):
        d.subset("no_such_column == 1")


def test_caller_dataframe_never_modified(strat):
    before = strat.copy(deep=True)
    d = cs.SurveyDesign(strat, weights="w", strata="s", psu="c", fpc="N")
    sub = d.subset(strat["b"] == 1)
    cs.mean(sub, ["y", "b"], by="s")
    cs.total(d, "y", by=["s", "b"])
    cs.proportion(d, "s", ci="wilson")
    d.with_replicates("JKn")
    pd.testing.assert_frame_equal(strat, before)


# ------------------------------------------------------------------- design facts
def test_df_counts_psus_minus_strata(strat):
    assert cs.SurveyDesign(strat).df == 119
    assert cs.SurveyDesign(strat, strata="s").df == 117
    assert cs.SurveyDesign(strat, strata="s", psu="c").df == 24 - 3
    # PSU ids are nested in strata: the same PSU label in two strata is two PSUs
    assert cs.SurveyDesign(strat, strata="s", psu="c").n_psu == 24


def test_subset_keeps_full_design_df_and_zero_weights(strat):
    d = cs.SurveyDesign(strat, weights="w", strata="s", psu="c")
    sub = d.subset("s == 'A'")
    assert sub.df == d.df
    assert np.all(sub.weights[strat["s"].to_numpy() != "A"] == 0)
    nested = sub.subset(strat["b"] == 1)
    assert nested.domain_mask.sum() == ((strat["s"] == "A") & (strat["b"] == 1)).sum()


def test_weights_default_to_fpc_implied(strat):
    d = cs.SurveyDesign(strat, strata="s", fpc="N")
    assert np.allclose(d.weights, strat["N"] / 40)


def test_repr_and_html(strat):
    d = cs.SurveyDesign(strat, weights="w", strata="s", psu="c")
    assert "Stratified" in repr(d) and "df = 21" in repr(d)
    assert d._repr_html_().startswith("<div>")


# ---------------------------------------------------------------------- replicates
def test_with_replicates_brr_totals_equal_taylor():
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "y": rng.normal(size=80),
            "w": rng.uniform(1, 3, 80),
            "s": np.repeat(np.arange(10), 8),
            "c": np.tile(np.repeat([0, 1], 4), 10),
        }
    )
    d = cs.SurveyDesign(df, weights="w", strata="s", psu="c")
    brr = d.with_replicates("BRR")
    assert brr.n_replicates == 16
    # totals are linear: with full orthogonal balance BRR equals the Taylor variance
    a = cs.total(d, "y").to_frame()["se"].iloc[0]
    b = cs.total(brr, "y").to_frame()["se"].iloc[0]
    assert b == pytest.approx(a, rel=1e-10)


def test_brr_needs_two_psus_per_stratum(strat):
    d = cs.SurveyDesign(strat, strata="s", psu="c")
    with pytest.raises(cs.DesignError, match="exactly 2 PSUs"):
        d.with_replicates("BRR")


def test_jk1_refuses_strata_and_jkn_needs_them(strat):
    with pytest.raises(cs.DesignError, match="JKn"):
        cs.SurveyDesign(strat, strata="s", psu="c").with_replicates("JK1")
    with pytest.raises(cs.DesignError, match="needs strata"):
        cs.SurveyDesign(strat, psu="c").with_replicates("JKn")


def test_bootstrap_is_seeded_and_close_to_taylor(strat):
    d = cs.SurveyDesign(strat, weights="w", strata="s", psu="c")
    a = d.with_replicates("bootstrap", replicates=400, seed=11)
    b = d.with_replicates("bootstrap", replicates=400, seed=11)
    assert np.array_equal(a.replicate_weights(), b.replicate_weights())
    se_boot = cs.mean(a, "y").to_frame()["se"].iloc[0]
    se_taylor = cs.mean(d, "y").to_frame()["se"].iloc[0]
    assert se_boot == pytest.approx(se_taylor, rel=0.25)
    # each replicate resamples n_h PSUs in every stratum
    mult = a._mult
    per_stratum = np.add.reduceat(mult, d._stratum_start, axis=0)
    assert np.all(per_stratum == d._n_h[:, None])


def test_jk1_linear_statistic_equals_taylor_without_fpc(strat):
    d = cs.SurveyDesign(strat, weights="w", psu="c")
    # JK1 on totals reproduces the with-replacement Taylor variance exactly
    t = cs.total(d, "y").to_frame()["se"].iloc[0]
    j = cs.total(d.with_replicates("JK1"), "y").to_frame()["se"].iloc[0]
    assert j == pytest.approx(t, rel=1e-10)


def test_replicate_design_validation(strat):
    df = strat.assign(r1=strat["w"], r2=strat["w"] * 1.1)
    with pytest.raises(cs.DesignError, match="rscales"):
        cs.ReplicateDesign(df, weights="w", repweights=["r1", "r2"], type="JKn")
    with pytest.raises(cs.DesignError, match="rho"):
        cs.ReplicateDesign(df, weights="w", repweights=["r1", "r2"], type="Fay")
    with pytest.raises(cs.ColumnError, match="'r9'"):
        cs.ReplicateDesign(df, weights="w", repweights=["r1", "r9"])
    bad = df.assign(r2=-1.0)
    with pytest.raises(cs.WeightsError, match="'r2'"):
        cs.ReplicateDesign(bad, weights="w", repweights=["r1", "r2"])
    with pytest.raises(cs.DesignError, match="non-empty list"):
        cs.ReplicateDesign(df, weights="w", repweights="r1")


def test_replicate_mse_centres_at_full_estimate(strat):
    d = cs.SurveyDesign(strat, weights="w", psu="c").with_replicates("bootstrap", seed=1)
    cols = {f"r{i}": d.replicate_weights()[:, i] for i in range(d.n_replicates)}
    df = strat.assign(**cols)
    plain = cs.ReplicateDesign(df, weights="w", repweights=list(cols), type="bootstrap")
    mse = cs.ReplicateDesign(df, weights="w", repweights=list(cols), type="bootstrap", mse=True)
    v0 = cs.mean(plain, "y").to_frame()["se"].iloc[0] ** 2
    v1 = cs.mean(mse, "y").to_frame()["se"].iloc[0] ** 2
    assert v1 >= v0  # the MSE adds the squared bias of the replicate mean


def test_engine_handles_many_estimates_at_once(strat):
    d = cs.SurveyDesign(strat, weights="w", strata="s", psu="c")
    z = np.random.default_rng(0).normal(size=(len(strat), 5))
    v = _variance.taylor_vcov(d, _variance.psu_totals(d, z))
    assert v.shape == (5, 5)
    assert np.allclose(v, v.T)
    assert np.all(np.linalg.eigvalsh(v) >= -1e-10)
    # column by column gives the same diagonal
    for j in range(5):
        vj = _variance.taylor_vcov(d, _variance.psu_totals(d, z[:, j]))
        assert vj[0, 0] == pytest.approx(v[j, j], rel=1e-12)
