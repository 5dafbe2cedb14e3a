"""Synthetic generators: calibration, truth tables, determinism, routing, committed files."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csa_survey.codebook import Codebook
from csa_survey.datasets import load_dataset
from csa_survey.exceptions import CodebookError, InvalidValueError
from csa_survey.synth import (
    DATASETS,
    csam_users,
    csam_users_codebook,
    csam_users_estimates,
    csam_users_truth,
    latent_threshold_items,
    police_recorded,
    police_recorded_codebook,
    police_recorded_estimates,
    police_recorded_truth,
    scale_indicators,
    scale_indicators_truth,
    yearly_totals,
    youth_population,
    youth_survey,
    youth_survey_codebook,
    youth_survey_estimates,
    youth_survey_truth,
)
from csa_survey.synth.__main__ import main
from csa_survey.synth._files import DEFAULT_DATA_DIR

LARGE = 200_000

# --------------------------------------------------------------------------- helpers


def _logit_ci(p: float, se: float, df: float, level: float = 0.95) -> tuple[float, float]:
    """Logit-scale interval as R's svyciprop(method="logit")."""
    t = stats.t.ppf((1 + level) / 2, df)
    if p <= 0 or p >= 1:
        return (p, p)
    eta, se_eta = np.log(p / (1 - p)), se / (p * (1 - p))
    lo, hi = eta - t * se_eta, eta + t * se_eta
    return float(1 / (1 + np.exp(-lo))), float(1 / (1 + np.exp(-hi)))


def _taylor_ratio(y, x, w, strata, psu):
    """Ratio sum(w*y)/sum(w*x) and its with-replacement Taylor SE (strata, PSUs)."""
    ratio = np.sum(w * y) / np.sum(w * x)
    z = w * (y - ratio * x) / np.sum(w * x)
    frame = pd.DataFrame({"h": strata, "c": psu, "z": z})
    totals = frame.groupby(["h", "c"])["z"].sum().reset_index()
    var = 0.0
    for _, g in totals.groupby("h"):
        n_h = len(g)
        var += n_h / (n_h - 1) * np.sum((g["z"] - g["z"].mean()) ** 2)
    df = totals.shape[0] - totals["h"].nunique()
    return ratio, np.sqrt(var), df


def csam_coverage_failures(df: pd.DataFrame) -> list[str]:
    """Published figures P1-P8 outside their 95% logit CI (unweighted), and P9 bases."""
    truth = csam_users_truth()
    est = csam_users_estimates(df)
    cb = csam_users_codebook()
    failures = []
    for i, row in truth.iterrows():
        if row["figure"] == "P9":
            continue
        group = cb.set_of(row["variable"])
        n = cb.base(df, group.name if group else row["variable"]).n
        p = est[i]
        lo, hi = _logit_ci(p, np.sqrt(p * (1 - p) / (n - 1)), n - 1)
        if not lo <= row["published"] <= hi:
            failures.append(f"{row['figure']} {row['item']}: {p:.3f} [{lo:.3f}, {hi:.3f}]")
    smallest = est.iloc[-2]
    if not 70 <= smallest <= 80:
        failures.append(f"P9 smallest base {smallest}")
    return failures


def youth_coverage_failures(df: pd.DataFrame) -> list[str]:
    """Published figures Y1-Y5 outside their 95% design-based CI (logit; t for Y2)."""
    cb = youth_survey_codebook()
    truth = youth_survey_truth()
    w = df["weight"].to_numpy(float)
    strata, psu = df["region"].to_numpy(), df["psu"].to_numpy()
    first = df["age_first_seen"].to_numpy(float)
    failures = []
    for _, row in truth.iterrows():
        var = row["variable"]
        base = cb.base_mask(df, var).to_numpy()
        x = base.astype(float)
        if row["figure"] == "Y3":
            age = int(row["item"].split()[-1])
            y = np.where(base, first <= age, 0.0)
        else:
            y = np.where(base, df[var].to_numpy(float, na_value=0.0), 0.0)
        est, se, dfree = _taylor_ratio(y, x, w, strata, psu)
        if row["unit"] == "proportion":
            lo, hi = _logit_ci(est, se, dfree)
        else:
            t = stats.t.ppf(0.975, dfree)
            lo, hi = est - t * se, est + t * se
        if not lo <= row["published"] <= hi:
            failures.append(f"{row['figure']} {row['item']}: {est:.3f} [{lo:.3f}, {hi:.3f}]")
    return failures


# --------------------------------------------------------------------------- calibration


def test_latent_threshold_margins_and_positive_dependence():
    rng = np.random.default_rng(0)
    corr = np.array([[1, 0.4, 0.3], [0.4, 1, 0.5], [0.3, 0.5, 1]])
    x = latent_threshold_items(rng, [0.45, 0.30, 0.22], corr, LARGE)
    assert np.allclose(x.mean(axis=0), [0.45, 0.30, 0.22], atol=0.005)
    phi = np.corrcoef(x.T)
    assert (phi[np.triu_indices(3, 1)] > 0.1).all()


def test_csam_users_calibration_large_sample():
    df = csam_users(n=LARGE, seed=123)
    est = csam_users_estimates(df)
    truth = csam_users_truth()
    props = truth["figure"] != "P9"
    assert np.abs(est[props] - truth.loc[props, "published"]).max() < 0.01


def test_youth_survey_calibration_design_weighted():
    df = youth_survey(n=LARGE, seed=123)
    truth = youth_survey_truth()
    est = youth_survey_estimates(df, weights="design_weight")
    diff = (est - truth["published"]).abs()
    years = truth["unit"] == "years"
    assert diff[~years].max() < 0.01
    assert diff[years].max() < 0.1  # mean age (Y2), in years


def test_youth_unweighted_estimate_is_biased_by_design():
    # regions are sampled unequally and exposure differs by region: weights matter
    df = youth_survey(n=LARGE, seed=5)
    pop = youth_population()
    region_rate = pop.groupby("region").apply(
        lambda g: np.average(g["p_seen"], weights=g["population"]), include_groups=False
    )
    assert region_rate.max() - region_rate.min() > 0.05
    assert df["design_weight"].max() / df["design_weight"].min() > 3


def test_police_recorded_totals_and_composition():
    df = police_recorded()
    counts = df["year"].value_counts().sort_index()
    assert counts[2022] == 107_000
    assert counts[2021] == round(107_000 / 1.076)
    assert counts[2012] == 27_500
    assert 3.5 < counts[2022] / counts[2012] < 4.0
    ratios = counts.to_numpy()[1:10] / counts.to_numpy()[:9]
    assert np.allclose(ratios, ratios[0], atol=1e-3)  # geometric 2012-2021
    est = police_recorded_estimates(df)
    truth = police_recorded_truth()
    comp = truth["figure"] != "R1"
    assert np.abs(est[comp] - truth.loc[comp, "published"]).max() < 1e-3


def test_police_scales_with_n():
    small = police_recorded(n=10_700, seed=1)
    assert (small["year"] == 2022).sum() == 10_700
    assert (small["year"] == 2012).sum() == round(10_700 * 27_500 / 107_000)


# --------------------------------------------------------------------------- truth tables

PUBLISHED = {
    "P1": [0.77],
    "P2": [0.32],
    "P3": [0.29],
    "P4": [0.40],
    "P5": [0.70],
    "P6": [0.48, 0.41, 0.37],
    "P7": [0.45, 0.30, 0.26, 0.25, 0.23, 0.22],
    "P8": [0.45, 0.41, 0.28, 0.25],
    "P9": [75.0, 1528.0],
    "Y1": [0.64],
    "Y2": [13.0],
    "Y3": [0.10, 0.27, 0.50],
    "Y4": [0.79],
    "Y5": [0.38],
    "R2": [0.75, 0.25],
    "R3": [0.52],
    "R4": [0.33],
    "R5": [0.05],
}


def test_truth_tables_equal_published_figures():
    tables = pd.concat(
        [
            csam_users_truth(),
            youth_survey_truth(),
            police_recorded_truth(),
            scale_indicators_truth(),
        ]
    )
    for fig, values in PUBLISHED.items():
        got = tables.loc[tables["figure"] == fig, "published"].tolist()
        assert got == pytest.approx(values), fig
    exact = tables["figure"].isin([f for f in PUBLISHED if f != "P9"])
    assert np.allclose(tables.loc[exact, "truth"], tables.loc[exact, "published"], atol=1e-9)
    r1 = police_recorded_truth().query("figure == 'R1'")
    assert r1.loc[r1["item"] == "Offences recorded in 2022", "published"].item() == 107_000
    assert r1.loc[r1["item"] == "Increase 2021 to 2022", "truth"].item() == pytest.approx(
        0.076, abs=1e-4
    )
    assert (r1["note"] == "interpolated").sum() == 8
    expected_columns = ["figure", "item", "variable", "published", "truth", "unit", "base", "note"]
    for t in (csam_users_truth(), youth_survey_truth(), police_recorded_truth()):
        assert t.columns.tolist() == expected_columns


def test_scale_indicators_series():
    s = scale_indicators()
    value = s.set_index(["indicator", "period"])["value"]
    assert value["ncmec_reports", "2023"] == 36e6
    assert value["caid_images", "1990"] == 7_000
    assert value["caid_images", "2020"] == 17e6
    assert value["caid_images", "mid-2021"] == 20e6
    assert value["caid_growth", "2021"] == 250_000
    assert value["caid_images", "2022"] == 21e6
    assert value["ceop_arrests", "2012"] == 192
    assert value["offender_arrests", "2021"] == 850
    assert value["children_safeguarded", "2021"] == 1_200
    assert value["self_generated_share", "not stated"] == 0.44
    assert s["source"].str.len().gt(0).all() and s["definition"].str.len().gt(0).all()
    with pytest.raises(InvalidValueError, match="fixed number|has 10 rows"):
        scale_indicators(n=5)


def test_p9_bases_in_published_range():
    truth = csam_users_truth().query("figure == 'P9'")
    assert truth["truth"].iloc[0] == pytest.approx(75, abs=2)
    assert truth["truth"].iloc[1] == 1528


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize(
    "gen", [csam_users, youth_survey, police_recorded], ids=lambda g: g.__name__
)
def test_same_seed_same_bytes_different_seed_different_data(gen):
    n = 10_700 if gen is police_recorded else 3_000
    a = gen(n=n, seed=42).to_csv(index=False).encode()
    b = gen(n=n, seed=42).to_csv(index=False).encode()
    c = gen(n=n, seed=43).to_csv(index=False).encode()
    assert a == b
    assert a != c


def test_generator_rejects_bad_n():
    with pytest.raises(InvalidValueError, match="n must be an integer"):
        csam_users(n=0)
    with pytest.raises(InvalidValueError, match="n must be an integer"):
        youth_survey(n=10)


def test_committed_files_regenerate_byte_for_byte(tmp_path):
    assert main(["--out", str(tmp_path)]) == 0
    committed = sorted(p.relative_to(DEFAULT_DATA_DIR) for p in DEFAULT_DATA_DIR.rglob("*.*"))
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.*"))
    assert committed == fresh
    for rel in committed:
        assert filecmp.cmp(DEFAULT_DATA_DIR / rel, tmp_path / rel, shallow=False), rel


# --------------------------------------------------------------------------- routing

CODEBOOKS = {
    "csam_users": (csam_users, csam_users_codebook),
    "youth_survey": (youth_survey, youth_survey_codebook),
    "police_recorded": (police_recorded, police_recorded_codebook),
}


@pytest.mark.parametrize("name", list(CODEBOOKS))
def test_generated_data_respect_codebook(name):
    gen, codebook = CODEBOOKS[name]
    df = gen(n=20_000, seed=9)
    report = codebook().validate(df)
    assert report.ok, str(report)
    assert len(report.findings) == 0


def test_generated_routing_no_answer_outside_universe():
    df = csam_users(n=20_000, seed=4)
    cb = csam_users_codebook()
    for name in list(cb.variables) + list(cb.sets):
        answered = cb.answered_mask(df, name)
        assert not (answered & ~cb.universe_mask(df, name)).any(), name
    assert (df.loc[df["wave"] < 3, list(cb.sets["sm_platform"].items)].isna().all()).all()


def test_validation_catches_each_planted_violation():
    df = csam_users(n=400, seed=2)
    cb = csam_users_codebook()
    before = df.copy()
    bad = df.copy()
    no_contact = bad.index[bad["sought_contact"] == 0]
    wave1 = bad.index[(bad["wave"] == 1) & (bad["contact_social_media"] == 1)]
    if len(wave1) == 0:  # make one wave-1 respondent a social-media contacter
        wave1 = bad.index[(bad["wave"] == 1) & (bad["sought_contact_online"] == 1)][:1]
        bad.loc[
            wave1, ["contact_social_media", "contact_online_game", "contact_messaging_app"]
        ] = 1
    bad.loc[no_contact[0], "sought_contact_online"] = 1  # routing
    bad.loc[wave1[0], "sm_instagram"] = 1  # routing via wave
    bad.loc[3, "language"] = 42  # unknown code
    bad.loc[4, "age_first_csam"] = 200  # out of range
    answered_sets = bad.index[bad["sm_facebook"].notna()]
    bad.loc[answered_sets[0], "sm_facebook"] = 2  # multi-select not 0/1
    bad.loc[5, "respondent_id"] = bad.loc[6, "respondent_id"]  # duplicated id
    bad.loc[7, "seen_surface_web"] = 9  # 9 is a missing code for gender, not here
    bad.loc[8, "gender"] = 9  # a missing code: fine
    report = cb.validate(bad)
    f = report.findings
    checks = set(zip(f["check"], f["variable"], strict=True))
    assert ("routing", "sought_contact_online") in checks
    assert ("routing", "sm_instagram") in checks
    assert ("unknown_code", "language") in checks
    assert ("out_of_range", "age_first_csam") in checks
    assert ("multi_select_value", "sm_facebook") in checks
    assert ("duplicate_id", "respondent_id") in checks
    assert ("unknown_code", "seen_surface_web") in checks
    assert "gender" not in set(f["variable"])
    row = f[(f["check"] == "unknown_code") & (f["variable"] == "language")].iloc[0]
    assert row["value"] == 42 and row["rows"] == [int(bad.loc[3, "respondent_id"])]
    assert "'language'" in row["message"] and "42" in row["message"] and "row 4" in row["message"]
    with pytest.raises(CodebookError, match="sought_contact_online"):
        cb.validate(bad, raise_on_error=True)
    pd.testing.assert_frame_equal(df, before)


# --------------------------------------------------------------------------- committed sample


def test_committed_sample_covers_published_figures():
    csam, _ = load_dataset("csam_users")
    youth, _ = load_dataset("youth_survey")
    assert len(csam) == 1528 and 990 <= len(youth) <= 1010
    assert csam_coverage_failures(csam) == []
    assert youth_coverage_failures(youth) == []


def test_committed_police_matches_published_counts():
    police, cb = load_dataset("police_recorded")
    assert isinstance(cb, Codebook)
    assert police["year"].value_counts()[2022] == 107_000
    assert yearly_totals()["offences"].sum() == len(police)


def test_registry_is_complete():
    assert set(DATASETS) == {"csam_users", "youth_survey", "police_recorded", "scale_indicators"}
    for ds in DATASETS.values():
        assert "SYNTHETIC" in (DEFAULT_DATA_DIR / ds.name / "README.md").read_text()
        assert Path(DEFAULT_DATA_DIR / ds.name / ds.data_file).exists()
