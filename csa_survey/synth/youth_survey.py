"""Synthetic nationally representative survey of 16-21-year-olds (figures Y1-Y5).

A finite population of 16-21-year-olds in England (region x sex x single year of age,
approximate ONS-like shares; see :func:`youth_population`) is sampled in two stages:
in each region (stratum) a simple random sample of primary sampling units (PSUs, think
postcode sectors) with equal allocation across regions, so small regions are
over-sampled, then a simple random sample of young people within each PSU. Design
weights are inverse inclusion probabilities; ``weight`` additionally post-stratifies
them to the population's sex x age totals (a single ratio adjustment per cell; general
raking is ``cs.rake``).

Having ever seen pornography follows a probit model with region, sex and age effects
and a PSU random effect; its intercept is solved so that the population proportion is
exactly 64% (Y1). Age at first exposure among the exposed has a fixed distribution
with mean 13 and 10%/27%/50% by ages 9/11/13 (Y2, Y3), supported on ages 6-16 so every
respondent (aged 16 or over) is past it; the unexposed are right-censored at their
current age. Violent content before 18 (Y4, 79% of exposed 18-21s) and accidental first
exposure (Y5, 38% of the exposed) are Bernoulli with those probabilities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from csa_survey.codebook import Codebook, Variable
from csa_survey.exceptions import InvalidValueError
from csa_survey.synth._common import check_n, mcar_missing, nullable

__all__ = [
    "DEFAULT_N",
    "SEED",
    "youth_population",
    "youth_survey",
    "youth_survey_codebook",
    "youth_survey_truth",
]

DEFAULT_N = 1000
SEED = 1

#: Region code -> (name, share of England's 16-21 population, probit effect on exposure).
REGIONS: dict[int, tuple[str, float, float]] = {
    1: ("North East", 0.046, 0.10),
    2: ("North West", 0.130, 0.06),
    3: ("Yorkshire and The Humber", 0.100, 0.04),
    4: ("East Midlands", 0.085, 0.02),
    5: ("West Midlands", 0.108, 0.00),
    6: ("East of England", 0.106, -0.02),
    7: ("London", 0.160, -0.12),
    8: ("South East", 0.160, -0.02),
    9: ("South West", 0.105, 0.05),
}
#: Sex code -> (label, population share, probit effect).
SEXES: dict[int, tuple[str, float, float]] = {1: ("Male", 0.51, 0.20), 2: ("Female", 0.49, -0.20)}
#: Age -> population share among 16-21s.
AGE_SHARES: dict[int, float] = {16: 0.162, 17: 0.163, 18: 0.166, 19: 0.168, 20: 0.170, 21: 0.171}
AGE_EFFECT = 0.03  # probit effect per year of age, centred at 18.5
POPULATION_16_21 = 3_900_000  # approximate number of 16-21-year-olds in England
PSU_MEAN_SIZE = 250  # mean number of 16-21-year-olds per PSU
PSU_SIZE_CV = 0.4
PSU_SD = np.sqrt(0.05)  # PSU random effect on the probit latent (total latent variance 1)
CLUSTER_SIZE = 10  # respondents per PSU for small samples

#: Age at first seeing pornography among the exposed (Y2, Y3): pmf on ages 6-16.
FIRST_AGE_PMF: dict[int, float] = {
    6: 0.01, 7: 0.02, 8: 0.03, 9: 0.04,
    10: 0.07, 11: 0.10,
    12: 0.10, 13: 0.13,
    14: 0.16, 15: 0.17, 16: 0.17,
}  # fmt: skip
P_SEEN = 0.64  # Y1
P_VIOLENT_BEFORE_18 = 0.79  # Y4, exposed respondents aged 18-21
P_ACCIDENTAL = 0.38  # Y5, exposed respondents
NONRESPONSE = {
    "seen_porn": 0.02,
    "age_first_seen": 0.04,
    "violent_before_18": 0.05,
    "first_accidental": 0.03,
}


def youth_population() -> pd.DataFrame:
    """Population counts of 16-21-year-olds by region, sex and age (the sampling frame).

    Returns
    -------
    pandas.DataFrame
        Columns ``region``, ``sex``, ``age``, ``age_group``, ``population``,
        ``p_seen`` (population probability of having seen pornography in the cell).

    Examples
    --------
    >>> pop = youth_population()
    >>> int(pop["population"].sum())
    3900000
    >>> round(float((pop["population"] * pop["p_seen"]).sum() / pop["population"].sum()), 6)
    0.64
    """
    reg, sex, age = np.meshgrid(list(REGIONS), list(SEXES), list(AGE_SHARES), indexing="ij")
    reg, sex, age = reg.ravel(), sex.ravel(), age.ravel()
    share = (
        np.array([REGIONS[r][1] for r in reg])
        * np.array([SEXES[s][1] for s in sex])
        * np.array([AGE_SHARES[a] for a in age])
    )
    raw = share / share.sum() * POPULATION_16_21
    counts = np.floor(raw).astype(np.int64)
    short = POPULATION_16_21 - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    effect = (
        np.array([REGIONS[r][2] for r in reg])
        + np.array([SEXES[s][2] for s in sex])
        + AGE_EFFECT * (age - 18.5)
    )
    weights = counts / counts.sum()

    def gap(mu: float) -> float:
        return float(weights @ stats.norm.cdf(mu + effect)) - P_SEEN

    mu0 = optimize.brentq(gap, -3.0, 3.0, xtol=1e-14)
    return pd.DataFrame(
        {
            "region": reg.astype(np.int8),
            "sex": sex.astype(np.int8),
            "age": age.astype(np.int16),
            "age_group": _age_group(age),
            "population": counts,
            "p_seen": stats.norm.cdf(mu0 + effect),
        }
    )


def _age_group(age: np.ndarray) -> np.ndarray:
    return np.select([age <= 17, age <= 19], [1, 2], 3).astype(np.int8)


def youth_survey_codebook() -> Codebook:
    """Codebook of the synthetic youth survey.

    Examples
    --------
    >>> youth_survey_codebook().design
    {'weights': 'weight', 'strata': 'region', 'psu': 'psu'}
    """
    yes_no = {0: "No", 1: "Yes"}
    v = [
        Variable("respondent_id", "id", "Respondent identifier", dtype="Int32"),
        Variable(
            "region",
            "design",
            "Region of England (sampling stratum)",
            labels={k: r[0] for k, r in REGIONS.items()},
            dtype="Int8",
        ),
        Variable(
            "psu",
            "design",
            "Primary sampling unit, numbered within region (PSUs are nested in strata)",
            dtype="Int32",
        ),
        Variable(
            "stratum_psus",
            "design",
            "Number of PSUs in the region's sampling frame (for a finite population "
            "correction, fpc=)",
            dtype="Int32",
        ),
        Variable(
            "design_weight",
            "weight",
            "Design weight: inverse of the two-stage inclusion probability",
            dtype="float64",
        ),
        Variable(
            "weight",
            "weight",
            "Analysis weight: design weight post-stratified to population sex x age totals",
            dtype="float64",
        ),
        Variable("age", "age", "Age in years at interview", min=16, max=21, dtype="Int16"),
        Variable(
            "age_group",
            "single",
            "Age group at interview",
            labels={1: "16-17", 2: "18-19", 3: "20-21"},
            dtype="Int8",
        ),
        Variable("sex", "single", "Sex", labels={k: s[0] for k, s in SEXES.items()}, dtype="Int8"),
        Variable(
            "seen_porn",
            "single",
            "Have you ever seen pornography online?",
            labels=yes_no,
            base="all respondents",
            dtype="Int8",
        ),
        Variable(
            "age_first_seen",
            "age",
            "How old were you when you first saw pornography online?",
            universe="seen_porn == 1",
            base="respondents who have seen pornography",
            min=4,
            max=21,
            dtype="Int16",
        ),
        Variable(
            "seen_event",
            "numeric",
            "Event indicator for survival analysis: 1 = has seen pornography (event), "
            "0 = not yet (censored at current age)",
            min=0,
            max=1,
            dtype="Int8",
        ),
        Variable(
            "seen_time",
            "age",
            "Time for survival analysis: age first seen if seen_event = 1, else current age",
            min=4,
            max=21,
            dtype="Int16",
        ),
        Variable(
            "violent_before_18",
            "single",
            "Had you encountered violent pornography before you were 18?",
            labels=yes_no,
            universe="seen_porn == 1 & age >= 18",
            base="respondents aged 18-21 who have seen pornography",
            dtype="Int8",
        ),
        Variable(
            "first_accidental",
            "single",
            "The first time you saw pornography, did you come across it by accident?",
            labels=yes_no,
            universe="seen_porn == 1",
            base="respondents who have seen pornography",
            dtype="Int8",
        ),
    ]
    return Codebook(
        v,
        dataset="youth_survey",
        title="Synthetic nationally representative survey of 16-21-year-olds in England",
        description=(
            "SYNTHETIC data with the design of a stratified two-stage sample (regions x "
            "PSUs) of 16-21-year-olds, calibrated to figures Y1-Y5. Not real responses. "
            "Use the weights, strata and PSUs for estimation."
        ),
        id="respondent_id",
        design={"weights": "weight", "strata": "region", "psu": "psu"},
    )


def youth_survey(
    n: int = DEFAULT_N, seed: int | None = SEED, *, poststratify: bool = True
) -> pd.DataFrame:
    """Generate the synthetic youth survey by two-stage stratified sampling.

    Parameters
    ----------
    n : int
        Number of respondents (at least 9 x 2 x the cluster size, so every region
        has two PSUs).
    seed : int or None
        Seed of :func:`numpy.random.default_rng`.
    poststratify : bool
        Post-stratify ``weight`` to the population sex x age totals (else
        ``weight`` equals ``design_weight``).

    Returns
    -------
    pandas.DataFrame
        One row per respondent; see :func:`youth_survey_codebook`.

    Examples
    --------
    >>> df = youth_survey(n=1000, seed=2)
    >>> sorted(df["region"].unique().tolist()) == list(range(1, 10))
    True
    >>> bool((df["seen_time"] <= df["age"]).all())
    True
    """
    n = check_n(n, minimum=len(REGIONS) * 2 * CLUSTER_SIZE)
    rng = np.random.default_rng(seed)
    pop = youth_population()
    n_regions = len(REGIONS)
    region_pop = pop.groupby("region")["population"].sum().to_numpy()
    frame_psus = np.round(region_pop / PSU_MEAN_SIZE).astype(np.int64)
    # respondents per PSU: at least CLUSTER_SIZE, and never more than half a region's PSUs
    max_psus = int(frame_psus.min() // 2) * n_regions
    k = max(CLUSTER_SIZE, int(np.ceil(n / max_psus)))
    m_total = int(np.ceil(n / k))
    m_h = np.full(n_regions, m_total // n_regions)
    m_h[: m_total % n_regions] += 1
    psu_region = np.repeat(np.arange(1, n_regions + 1), m_h)
    psu_number = np.concatenate([np.arange(1, m + 1) for m in m_h])
    takes = np.full(m_total, n // m_total)
    takes[: n % m_total] += 1
    shape = 1 / PSU_SIZE_CV**2
    sizes = np.maximum(
        np.round(rng.gamma(shape, PSU_MEAN_SIZE / shape, size=m_total)).astype(np.int64), takes
    )
    psu_weight = frame_psus[psu_region - 1] / m_h[psu_region - 1] * sizes / takes
    psu_effect = rng.normal(0.0, PSU_SD, size=m_total)

    row_psu = np.repeat(np.arange(m_total), takes)
    region = psu_region[row_psu]
    # age x sex of each respondent drawn from the region's population distribution
    cell_index = np.empty(n, dtype=np.int64)
    for r in range(1, n_regions + 1):
        rows = np.flatnonzero(region == r)
        cells = pop.index[pop["region"] == r].to_numpy()
        p = pop.loc[cells, "population"].to_numpy(float)
        cell_index[rows] = rng.choice(cells, size=rows.size, p=p / p.sum())
    age = pop["age"].to_numpy()[cell_index]
    sex = pop["sex"].to_numpy()[cell_index]
    p_seen = pop["p_seen"].to_numpy()[cell_index]

    # probit: latent = PSU effect + individual noise, total variance 1
    latent = psu_effect[row_psu] + rng.normal(0.0, np.sqrt(1 - PSU_SD**2), size=n)
    seen = (latent < stats.norm.ppf(p_seen)).astype(np.int8)
    seen_miss = mcar_missing(rng, n, NONRESPONSE["seen_porn"])
    exposed = (seen == 1) & ~seen_miss

    ages = np.array(list(FIRST_AGE_PMF), dtype=np.int16)
    first = rng.choice(ages, size=n, p=list(FIRST_AGE_PMF.values()))
    first_miss = ~exposed | mcar_missing(rng, n, NONRESPONSE["age_first_seen"])
    violent = (rng.random(n) < P_VIOLENT_BEFORE_18).astype(np.int8)
    violent_miss = ~(exposed & (age >= 18)) | mcar_missing(
        rng, n, NONRESPONSE["violent_before_18"]
    )
    accidental = (rng.random(n) < P_ACCIDENTAL).astype(np.int8)
    accidental_miss = ~exposed | mcar_missing(rng, n, NONRESPONSE["first_accidental"])

    design_weight = psu_weight[row_psu]
    weight = design_weight.copy()
    if poststratify:
        cell = (sex.astype(np.int64) - 1) * 100 + age
        totals = pop.assign(cell=(pop["sex"].astype(np.int64) - 1) * 100 + pop["age"])
        totals = totals.groupby("cell")["population"].sum()
        sample = pd.Series(design_weight).groupby(cell).sum()
        empty = sorted(set(totals.index) - set(sample.index))
        if empty:
            raise InvalidValueError(
                f"youth_survey: sex x age cell(s) {empty} have no respondents; "
                "use a larger n or poststratify=False"
            )
        weight = design_weight * (totals / sample).reindex(cell).to_numpy()

    event_miss = seen_miss
    time = np.where(exposed, first, age).astype(np.int16)
    time_miss = seen_miss | (exposed & first_miss)
    return pd.DataFrame(
        {
            "respondent_id": pd.array(np.arange(1, n + 1, dtype=np.int32), dtype="Int32"),
            "region": pd.array(region.astype(np.int8), dtype="Int8"),
            "psu": pd.array(psu_number[row_psu].astype(np.int32), dtype="Int32"),
            "stratum_psus": pd.array(frame_psus[region - 1].astype(np.int32), dtype="Int32"),
            "design_weight": np.round(design_weight, 6),
            "weight": np.round(weight, 6),
            "age": pd.array(age.astype(np.int16), dtype="Int16"),
            "age_group": pd.array(_age_group(age), dtype="Int8"),
            "sex": pd.array(sex.astype(np.int8), dtype="Int8"),
            "seen_porn": nullable(seen, seen_miss),
            "age_first_seen": nullable(first, first_miss, "Int16"),
            "seen_event": nullable(seen, event_miss),
            "seen_time": nullable(time, time_miss, "Int16"),
            "violent_before_18": nullable(violent, violent_miss),
            "first_accidental": nullable(accidental, accidental_miss),
        }
    )


def youth_survey_truth() -> pd.DataFrame:
    """Published figures Y1-Y5 beside the population truth of the generator.

    Examples
    --------
    >>> t = youth_survey_truth()
    >>> t.loc[t["figure"] == "Y2", "truth"].round(6).tolist()
    [13.0]
    """
    cb = youth_survey_codebook()
    pop = youth_population()
    p1 = float((pop["population"] * pop["p_seen"]).sum() / pop["population"].sum())
    ages = np.array(list(FIRST_AGE_PMF))
    pmf = np.array(list(FIRST_AGE_PMF.values()))
    mean_age = float(ages @ pmf)
    base_first = cb.base_description("age_first_seen")
    note_model = "exact population value of the generator"
    rows = [
        (
            "Y1",
            "Ever seen online pornography",
            "seen_porn",
            0.64,
            p1,
            "proportion",
            cb.base_description("seen_porn") + " (weighted)",
            "probit intercept solved",
        ),
        (
            "Y2",
            "Mean age at first seeing pornography",
            "age_first_seen",
            13.0,
            mean_age,
            "years",
            base_first,
            note_model,
        ),
    ]
    for a, published in ((9, 0.10), (11, 0.27), (13, 0.50)):
        rows.append(
            (
                "Y3",
                f"Seen by age {a}",
                "age_first_seen",
                published,
                float(pmf[ages <= a].sum()),
                "proportion",
                base_first,
                f"age_first_seen <= {a}; " + note_model,
            )
        )
    rows += [
        ("Y4", "Encountered violent pornography before age 18", "violent_before_18", 0.79,
         P_VIOLENT_BEFORE_18, "proportion", cb.base_description("violent_before_18"),
         note_model),
        ("Y5", "First came across pornography accidentally", "first_accidental", 0.38,
         P_ACCIDENTAL, "proportion", cb.base_description("first_accidental"), note_model),
    ]  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["figure", "item", "variable", "published", "truth", "unit", "base", "note"],
    )


def youth_survey_estimates(df: pd.DataFrame, weights: str = "weight") -> pd.Series:
    """Weighted sample values of the truth-table items, aligned with the truth rows.

    Examples
    --------
    >>> est = youth_survey_estimates(youth_survey(n=2000, seed=1))
    >>> len(est) == len(youth_survey_truth())
    True
    """
    cb = youth_survey_codebook()
    w = df[weights].to_numpy(float)

    def wmean(var: str, x: np.ndarray | None = None) -> float:
        base = cb.base_mask(df, var).to_numpy()
        vals = df[var].to_numpy(float) if x is None else x
        return float(np.sum(w[base] * vals[base]) / np.sum(w[base]))

    first = df["age_first_seen"].to_numpy(float)
    values = [wmean("seen_porn"), wmean("age_first_seen")]
    values += [wmean("age_first_seen", (first <= a).astype(float)) for a in (9, 11, 13)]
    values += [wmean("violent_before_18"), wmean("first_accidental")]
    return pd.Series(values, name="sample")
