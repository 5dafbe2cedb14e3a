"""Published-table test for figures R1-R5 (police-recorded offences).

Recomputes every R reproduction row of ``notebooks/04_police_recorded_trends.ipynb``
from the committed synthetic ``police_recorded`` records with the package
(:mod:`csa_survey.trends`, :mod:`csa_survey.reproduction`) and asserts that each is
reproduced as its kind demands ("exact" at the published precision, "matched" within
tolerance). Independent checks: exact intervals against statsmodels' implementations,
bases against plain pandas counts, counts against the generator's truth table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson, confint_poisson_2indep

import csa_survey as cs
from csa_survey import reproduction, trends

NOTEBOOK = "04_police_recorded_trends"
STORED = Path(__file__).resolve().parents[1] / "reports" / "reproduction" / f"{NOTEBOOK}.csv"
CONTACT = "Contact sexual offence against a child"
OK = {"count": "exact", "approx": "matched", "estimate": "covered"}


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    df, _ = cs.load_dataset("police_recorded")
    return df


@pytest.fixture(scope="module")
def offences(records: pd.DataFrame) -> pd.DataFrame:
    _, codebook = cs.load_dataset("police_recorded")
    return codebook.decode(records, ["offence_type", "perp_age", "relationship", "group_based"])


@pytest.fixture(scope="module")
def results(offences: pd.DataFrame) -> dict[str, object]:
    """Every package result the R rows are built from."""
    y2022 = {"year": 2022}
    counts = trends.yearly_counts(offences).set_index("year")["count"]
    return {
        "count": trends.poisson_rate(int(counts[2022])),
        "change": trends.fold_change(offences, 2021, 2022),
        "fold": trends.fold_change(offences, 2012, 2022),
        "mix": trends.composition(offences, "offence_type", within=y2022),
        "child": trends.share(offences, "perp_age", "Under 18", within=y2022),
        "family": trends.share(
            offences,
            "relationship",
            "Family environment",
            within={**y2022, "offence_type": CONTACT},
        ),
        "group": trends.share(offences, "group_based", "Yes", within=y2022),
    }


@pytest.fixture(scope="module")
def table(results: dict) -> pd.DataFrame:
    c, ch, fo = results["count"], results["change"], results["fold"]
    mix = results["mix"].to_frame().set_index("category")
    rows = [
        reproduction.row("R1", "offences recorded in 2022", c.estimate,
                         ci_low=c.ci_low, ci_high=c.ci_high, base_n=c.count),
        reproduction.row("R1", "change 2021 to 2022", ch.change, ci_low=ch.ci_low - 1,
                         ci_high=ch.ci_high - 1, base_n=ch.count_start + ch.count_end),
        reproduction.row("R1", "fold change 2012 to 2022", fo.estimate, ci_low=fo.ci_low,
                         ci_high=fo.ci_high, base_n=fo.count_start + fo.count_end),
        reproduction.row("R2", "contact sexual offences", mix.loc[CONTACT]),
        reproduction.row("R2", "indecent images of children offences",
                         mix.loc["Indecent images of children"]),
    ]  # fmt: skip
    for fig, item, key in [
        ("R3", "child-on-child offending", "child"),
        ("R4", "contact offences in the family environment", "family"),
        ("R5", "group-based offending", "group"),
    ]:
        r = results[key]
        rows.append(
            reproduction.row(fig, item, r.estimate, ci_low=r.ci_low, ci_high=r.ci_high, base_n=r.n)
        )
    return reproduction.table(rows, notebook=NOTEBOOK)


R_FIGURES = [f for f in reproduction.FIGURES if f.id.startswith("R")]


def test_every_r_figure_has_a_row(table: pd.DataFrame) -> None:
    assert sorted(zip(table["id"], table["item"], strict=True)) == sorted(
        (f.id, f.item) for f in R_FIGURES
    )


@pytest.mark.parametrize("fig", R_FIGURES, ids=lambda f: f"{f.id}-{f.item}")
def test_r_figure_reproduced(table: pd.DataFrame, fig: reproduction.Figure) -> None:
    r = table[(table["id"] == fig.id) & (table["item"] == fig.item)].iloc[0]
    assert r["status"] == OK[fig.kind], (fig.item, r["reproduced"], fig.published)
    assert r["reproduced_ok"]
    assert r["ci_low"] <= r["reproduced"] <= r["ci_high"]


def test_counts_match_truth_table(offences: pd.DataFrame) -> None:
    truth = cs.load_truth("police_recorded")
    rows = truth[truth["item"].str.startswith("Offences recorded in")]
    expected = pd.Series(rows["truth"].to_numpy(), index=rows["item"].str[-4:].astype(int))
    got = trends.yearly_counts(offences).set_index("year")["count"]
    assert got.to_dict() == expected.astype(int).to_dict()
    assert set(rows.loc[rows["note"] == "interpolated", "item"].str[-4:].astype(int)) == set(
        range(2013, 2021)
    )


def test_interpolated_years_grow_at_one_rate(offences: pd.DataFrame) -> None:
    """The notebook's claim: 2012-2021 changes are all the interpolation's rate."""
    yoy = trends.year_on_year(offences).query("measure == 'change' and end <= 2021")
    counts = trends.yearly_counts(offences).set_index("year")["count"]
    rate = (counts[2021] / counts[2012]) ** (1 / 9) - 1
    np.testing.assert_allclose(yoy["estimate"], rate, atol=2e-5)


def test_bases_match_plain_counts(records: pd.DataFrame, results: dict) -> None:
    y = records[records["year"] == 2022]
    known_age = y["perp_age"] != 9
    contact = y["offence_type"] == 1
    assert (results["child"].n, results["child"].count) == (
        int(known_age.sum()),
        int((y["perp_age"] == 1).sum()),
    )
    assert results["child"].n_excluded == int((~known_age).sum())
    assert (results["family"].n, results["family"].count) == (
        int(contact.sum()),
        int((contact & (y["relationship"] == 1)).sum()),
    )
    assert (results["group"].n, results["group"].count) == (len(y), int(y["group_based"].sum()))
    mix = results["mix"].to_frame()
    assert mix["count"].tolist() == y["offence_type"].value_counts().sort_index().tolist()


def test_exact_intervals_match_statsmodels(results: dict) -> None:
    c = results["count"]
    np.testing.assert_allclose((c.ci_low, c.ci_high), confint_poisson(c.count, 1, "exact-c"))
    for key in ("change", "fold"):
        r = results[key]
        n = r.count_end + r.count_start
        p_lo, p_hi = proportion_confint(r.count_end, n, alpha=0.05, method="beta")
        np.testing.assert_allclose(
            (r.ci_low, r.ci_high), (p_lo / (1 - p_lo), p_hi / (1 - p_hi)), rtol=1e-9
        )
        # large counts: the score interval agrees closely with the exact one
        score = confint_poisson_2indep(r.count_end, 1, r.count_start, 1, method="score")
        np.testing.assert_allclose((r.ci_low, r.ci_high), score, rtol=1e-3)


def test_growth_model_is_negative_binomial(offences: pd.DataFrame) -> None:
    g = trends.growth_rate(offences)
    assert g.family == "negative_binomial"
    assert g.overdispersion_p_value < 0.05 and g.dispersion > 1
    assert g.ci_low < g.estimate < g.ci_high


@pytest.mark.skipif(
    not STORED.exists(), reason=f"{STORED.name} not written yet (run the notebook)"
)
def test_matches_notebook_table(table: pd.DataFrame) -> None:
    stored = pd.read_csv(STORED)
    assert stored[["id", "item", "status"]].values.tolist() == (
        table[["id", "item", "status"]].values.tolist()
    )
    for col in ("reproduced", "ci_low", "ci_high"):
        np.testing.assert_allclose(stored[col], table[col].astype(float), rtol=1e-9)
    assert stored["base_n"].tolist() == table["base_n"].astype(int).tolist()
