"""Synthetic police-recorded CSA offences, England and Wales 2012-2022 (figures R1-R5).

Offence-level records. Yearly totals are fixed, not sampled: 107,000 in 2022 (R1),
2022/1.076 in 2021 (+7.6%), 27,500 in 2012 (our choice for "nearly four times the
number ten years earlier": 107,000 / 27,500 = 3.89), and the years 2013-2020
interpolated geometrically between 2012 and 2021 (labelled "interpolated" in the truth
table). Every year has the published 2022 composition (R2-R5), allocated to exact
counts by largest remainders: 75% contact offences / 25% indecent images of children
(IIOC); perpetrator age known for 70% of offences, of which 52% under 18 (child-on-
child); 33% of contact offences in the family environment; 5% group-based. The
composition before 2022 is not published; holding it constant is our assumption.
Police force is drawn at random in proportion to approximate force populations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csa_survey.codebook import Codebook, Variable
from csa_survey.synth._common import check_n

__all__ = [
    "DEFAULT_N",
    "SEED",
    "police_recorded",
    "police_recorded_codebook",
    "police_recorded_truth",
    "yearly_totals",
]

#: Offences recorded in 2022 (R1).
DEFAULT_N = 107_000
SEED = 2022
FIRST_YEAR, LAST_YEAR = 2012, 2022
GROWTH_2021_2022 = 0.076
#: 2012 count for n = 107,000: "nearly four times" read as 107,000 / 27,500 = 3.89.
COUNT_2012 = 27_500

OFFENCE_TYPES = {1: "Contact sexual offence against a child", 2: "Indecent images of children"}
P_CONTACT = 0.75
P_PERP_KNOWN = {1: 0.72, 2: 0.64}  # by offence type; overall 0.70
P_CHILD_GIVEN_KNOWN = {1: 0.55, 2: 0.41875}  # by offence type; overall 0.52 of known
PERP_AGE = {1: "Under 18", 2: "18 or over"}
PERP_UNKNOWN = {9: "Not known"}
RELATIONSHIPS = {
    1: "Family environment",
    2: "Known to the child, outside the family",
    3: "Not known to the child (including online-only contact)",
    4: "Not recorded",
}
P_RELATIONSHIP = {1: 0.33, 2: 0.30, 3: 0.17, 4: 0.20}  # contact offences
P_GROUP = 0.05

#: Police forces of England and Wales with approximate shares of the population.
FORCES: dict[int, tuple[str, float]] = {
    1: ("Avon and Somerset", 1.75), 2: ("Bedfordshire", 0.68), 3: ("Cambridgeshire", 0.87),
    4: ("Cheshire", 1.07), 5: ("City of London", 0.01), 6: ("Cleveland", 0.57),
    7: ("Cumbria", 0.50), 8: ("Derbyshire", 1.05), 9: ("Devon and Cornwall", 1.81),
    10: ("Dorset", 0.78), 11: ("Durham", 0.65), 12: ("Dyfed-Powys", 0.53),
    13: ("Essex", 1.86), 14: ("Gloucestershire", 0.65), 15: ("Greater Manchester", 2.87),
    16: ("Gwent", 0.60), 17: ("Hampshire", 2.00), 18: ("Hertfordshire", 1.19),
    19: ("Humberside", 0.94), 20: ("Kent", 1.86), 21: ("Lancashire", 1.53),
    22: ("Leicestershire", 1.10), 23: ("Lincolnshire", 0.77), 24: ("Merseyside", 1.43),
    25: ("Metropolitan Police", 8.80), 26: ("Norfolk", 0.92), 27: ("North Wales", 0.70),
    28: ("North Yorkshire", 0.83), 29: ("Northamptonshire", 0.79), 30: ("Northumbria", 1.46),
    31: ("Nottinghamshire", 1.17), 32: ("South Wales", 1.33), 33: ("South Yorkshire", 1.41),
    34: ("Staffordshire", 1.13), 35: ("Suffolk", 0.77), 36: ("Surrey", 1.21),
    37: ("Sussex", 1.72), 38: ("Thames Valley", 2.43), 39: ("Warwickshire", 0.60),
    40: ("West Mercia", 1.31), 41: ("West Midlands", 2.93), 42: ("West Yorkshire", 2.34),
    43: ("Wiltshire", 0.73),
}  # fmt: skip


def yearly_totals(n: int = DEFAULT_N) -> pd.DataFrame:
    """Recorded offences per year for a 2022 total of ``n``.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``offences``, ``source`` ("published", "derived: 2022/1.076",
        "assumed: nearly four times fewer than 2022", "interpolated").

    Examples
    --------
    >>> t = yearly_totals()
    >>> t.loc[t["year"].isin([2012, 2021, 2022]), "offences"].tolist()
    [27500, 99442, 107000]
    """
    n = check_n(n)
    c2022 = float(n)
    c2021 = c2022 / (1 + GROWTH_2021_2022)
    c2012 = c2022 * COUNT_2012 / DEFAULT_N
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    t = (years - FIRST_YEAR) / (2021 - FIRST_YEAR)
    counts = c2012 * (c2021 / c2012) ** t
    counts[-1] = c2022
    source = ["interpolated"] * len(years)
    source[0] = "assumed: 'nearly four times' fewer than 2022"
    source[-2] = "derived: 2022 / 1.076"
    source[-1] = "published"
    return pd.DataFrame(
        {"year": years, "offences": np.round(counts).astype(np.int64), "source": source}
    )


def _exact_counts(probs: np.ndarray, total: int) -> np.ndarray:
    """Largest-remainder allocation of ``total`` to cells with probabilities ``probs``."""
    raw = probs / probs.sum() * total
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts), kind="stable")[: total - counts.sum()]] += 1
    return counts


def _composition() -> pd.DataFrame:
    """Joint distribution of offence type x perpetrator age x relationship x group flag."""
    rows = []
    for off in OFFENCE_TYPES:
        p_off = P_CONTACT if off == 1 else 1 - P_CONTACT
        perp = {
            1: P_PERP_KNOWN[off] * P_CHILD_GIVEN_KNOWN[off],
            2: P_PERP_KNOWN[off] * (1 - P_CHILD_GIVEN_KNOWN[off]),
            9: 1 - P_PERP_KNOWN[off],
        }
        rel = P_RELATIONSHIP if off == 1 else {0: 1.0}
        for a, pa in perp.items():
            for r, pr in rel.items():
                for g, pg in ((0, 1 - P_GROUP), (1, P_GROUP)):
                    rows.append((off, a, r, g, p_off * pa * pr * pg))
    return pd.DataFrame(
        rows, columns=["offence_type", "perp_age", "relationship", "group_based", "p"]
    )


def police_recorded_codebook() -> Codebook:
    """Codebook of the synthetic police-recorded offences.

    Examples
    --------
    >>> police_recorded_codebook()["perp_age"].missing
    {9: 'Not known'}
    """
    return Codebook(
        [
            Variable(
                "year",
                "numeric",
                "Year the offence was recorded",
                min=FIRST_YEAR,
                max=LAST_YEAR,
                dtype="Int16",
            ),
            Variable(
                "force",
                "single",
                "Police force that recorded the offence",
                labels={k: f[0] for k, f in FORCES.items()},
                dtype="Int8",
            ),
            Variable(
                "offence_type",
                "single",
                "Offence type",
                labels=OFFENCE_TYPES,
                base="offences",
                dtype="Int8",
            ),
            Variable(
                "perp_age",
                "single",
                "Age of the (main) perpetrator at the offence",
                labels=PERP_AGE,
                missing=PERP_UNKNOWN,
                base="offences",
                dtype="Int8",
            ),
            Variable(
                "relationship",
                "single",
                "Relationship of the perpetrator to the child (contact offences)",
                labels=RELATIONSHIPS,
                universe="offence_type == 1",
                base="contact offences",
                dtype="Int8",
            ),
            Variable(
                "group_based",
                "single",
                "Group-based offending (two or more perpetrators acting together)",
                labels={0: "No", 1: "Yes"},
                base="offences",
                dtype="Int8",
            ),
        ],
        dataset="police_recorded",
        title="Synthetic police-recorded child sexual abuse offences, England and Wales",
        description=(
            "SYNTHETIC offence-level records whose yearly totals and composition match "
            "figures R1-R5. Not real crime records. Years 2013-2020 are interpolated."
        ),
    )


def police_recorded(n: int = DEFAULT_N, seed: int | None = SEED) -> pd.DataFrame:
    """Generate offence-level records for 2012-2022.

    Parameters
    ----------
    n : int
        Offences in 2022 (other years scale with it; see :func:`yearly_totals`).
    seed : int or None
        Seed for the allocation of records to police forces.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``force``, ``offence_type``, ``perp_age``, ``relationship``
        (``<NA>`` for image offences), ``group_based``; sorted by year, force and the
        other columns (row order carries no meaning).

    Examples
    --------
    >>> df = police_recorded(n=10_700, seed=1)
    >>> int((df["year"] == 2022).sum())
    10700
    >>> round(float((df.loc[df["year"] == 2022, "offence_type"] == 1).mean()), 3)
    0.75
    """
    n = check_n(n)
    rng = np.random.default_rng(seed)
    comp = _composition()
    p = comp["p"].to_numpy()
    force_codes = np.array(list(FORCES), dtype=np.int8)
    force_p = np.array([f[1] for f in FORCES.values()])
    force_p /= force_p.sum()
    parts = []
    for year, total in yearly_totals(n)[["year", "offences"]].itertuples(index=False):
        counts = _exact_counts(p, int(total))
        cells = np.repeat(np.arange(len(comp)), counts)
        block = comp.iloc[cells][["offence_type", "perp_age", "relationship", "group_based"]]
        block = block.reset_index(drop=True).assign(
            year=year, force=rng.choice(force_codes, size=int(total), p=force_p)
        )
        parts.append(block)
    df = pd.concat(parts, ignore_index=True)
    order = ["year", "force", "offence_type", "perp_age", "relationship", "group_based"]
    df = df[order].sort_values(order, kind="stable").reset_index(drop=True)
    out = pd.DataFrame(
        {
            "year": pd.array(df["year"].to_numpy(np.int16), dtype="Int16"),
            "force": pd.array(df["force"].to_numpy(np.int8), dtype="Int8"),
            "offence_type": pd.array(df["offence_type"].to_numpy(np.int8), dtype="Int8"),
            "perp_age": pd.array(df["perp_age"].to_numpy(np.int8), dtype="Int8"),
            "relationship": pd.array(df["relationship"].to_numpy(np.int8), dtype="Int8"),
            "group_based": pd.array(df["group_based"].to_numpy(np.int8), dtype="Int8"),
        }
    )
    out.loc[out["offence_type"] != 1, "relationship"] = pd.NA
    return out


def police_recorded_truth(n: int = DEFAULT_N) -> pd.DataFrame:
    """Published figures R1-R5 beside the generator's values.

    Examples
    --------
    >>> t = police_recorded_truth()
    >>> t.loc[t["item"] == "Child-on-child offending", "truth"].round(4).tolist()
    [0.52]
    """
    cb = police_recorded_codebook()
    totals = yearly_totals(n)
    rows = []
    for year, count, source in totals.itertuples(index=False):
        published = {2022: 107_000.0}.get(int(year), np.nan)
        rows.append(("R1", f"Offences recorded in {year}", "year", published, float(count),
                     "offences", "offences", source))  # fmt: skip
    c = totals.set_index("year")["offences"]
    comp = _composition()
    p = comp["p"].to_numpy()
    known = comp["perp_age"] != 9
    contact = comp["offence_type"] == 1
    rows += [
        ("R1", "Increase 2021 to 2022", "year", 0.076, c[2022] / c[2021] - 1, "proportion",
         "offences", "rounded counts"),
        ("R1", "Ratio 2022 to 2012", "year", 4.0, c[2022] / c[2012], "ratio", "offences",
         "published as 'nearly four times'; 27,500 in 2012 is our assumption"),
        ("R2", "Contact sexual offences against children", "offence_type", 0.75,
         p[contact].sum(), "proportion", cb.base_description("offence_type"),
         "2022 composition, held constant over years (assumption)"),
        ("R2", "Indecent images of children offences", "offence_type", 0.25,
         p[~contact].sum(), "proportion", cb.base_description("offence_type"),
         "2022 composition, held constant over years (assumption)"),
        ("R3", "Child-on-child offending", "perp_age", 0.52,
         p[known & (comp["perp_age"] == 1)].sum() / p[known].sum(), "proportion",
         "offences with a known perpetrator age", "perpetrator aged under 18"),
        ("R4", "Contact offences in the family environment", "relationship", 0.33,
         p[contact & (comp["relationship"] == 1)].sum() / p[contact].sum(), "proportion",
         cb.base_description("relationship"), "2022 composition"),
        ("R5", "Group-based offending", "group_based", 0.05,
         p[comp["group_based"] == 1].sum(), "proportion", cb.base_description("group_based"),
         "2022 composition"),
    ]  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["figure", "item", "variable", "published", "truth", "unit", "base", "note"],
    )


def police_recorded_estimates(df: pd.DataFrame) -> pd.Series:
    """Values of the truth-table items in a set of records, aligned with the truth rows.

    Examples
    --------
    >>> est = police_recorded_estimates(police_recorded(n=10_700, seed=1))
    >>> len(est) == len(police_recorded_truth(10_700))
    True
    """
    cb = police_recorded_codebook()
    counts = df["year"].value_counts()
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    values = [float(counts.get(y, 0)) for y in years]
    values += [counts[2022] / counts[2021] - 1, counts[2022] / counts[2012]]
    last = df[df["year"] == LAST_YEAR]

    def share(var: str, code: int) -> float:
        base = cb.base_mask(last, var)
        return float((last.loc[base, var] == code).mean())

    values += [
        share("offence_type", 1),
        share("offence_type", 2),
        share("perp_age", 1),
        share("relationship", 1),
        share("group_based", 1),
    ]
    return pd.Series(values, name="sample")
