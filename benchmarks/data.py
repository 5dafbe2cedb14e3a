"""Deterministic benchmark data: a stratified, clustered sample of any size.

The layout follows issue #8: 30 strata, 2,000 PSUs (nested in strata, sampled with
replacement), unequal weights, 10 binary items with ~3% missing each (independently), a
6-level domain, a 4 x 5 pair of categorical variables, 8 covariates and a binary outcome
for a logistic model, a 12-item multiple-response set (~3% of respondents skip the whole
set) and three margins for raking. Replicate weights (80 JK1 groups of PSUs) are added on
request. Everything comes from ``numpy.random.default_rng(seed)``, so the same ``n`` and
``seed`` give the same frame, byte for byte.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_STRATA = 30
N_PSU = 2_000
N_ITEMS = 10
N_DOMAINS = 6
N_MR = 12
N_COVARIATES = 8
N_REPLICATES = 80

ITEMS = [f"y{j + 1}" for j in range(N_ITEMS)]
MR_ITEMS = [f"m{j + 1}" for j in range(N_MR)]
COVARIATES = [f"x{j + 1}" for j in range(N_COVARIATES)]
REPWEIGHTS = [f"rw{r + 1}" for r in range(N_REPLICATES)]


def make_frame(n: int, seed: int = 20240801, n_items: int = N_ITEMS) -> pd.DataFrame:
    """The benchmark sample with ``n`` rows.

    Columns: ``stratum`` (1..30), ``psu`` (1..2000, each PSU in one stratum), ``w``
    (weights), ``y1..y10`` (0/1 floats, NaN = missing), ``dom`` (1..6), ``r4`` (1..4),
    ``c5`` (1..5), ``sex`` (1..2), ``x1..x8`` (covariates), ``outcome`` (0/1),
    ``m1..m12`` (0/1, NaN for the whole set when skipped).
    """
    rng = np.random.default_rng([seed, n])
    # PSUs: ids 1..N_PSU, each in one stratum (a random, fixed assignment); rows spread
    # over PSUs with unequal cluster sizes
    psu_stratum = rng.permutation(np.arange(N_PSU) % N_STRATA) + 1
    size = rng.gamma(4.0, 1.0, N_PSU)
    psu = rng.choice(N_PSU, size=n, p=size / size.sum())
    psu[:N_PSU] = np.arange(min(n, N_PSU))  # every PSU has at least one row
    psu = np.sort(psu)  # rows grouped by PSU, as data files usually are
    stratum = psu_stratum[psu]
    psu_effect = rng.normal(0.0, 0.5, N_PSU)[psu]
    w = rng.lognormal(3.0, 0.6, n)

    cols: dict[str, np.ndarray] = {
        "stratum": stratum.astype(np.int64),
        "psu": (psu + 1).astype(np.int64),
        "w": w,
    }
    dom = rng.integers(1, N_DOMAINS + 1, n)
    base = rng.uniform(0.1, 0.6, n_items)
    for j in range(n_items):
        eta = np.log(base[j] / (1 - base[j])) + psu_effect + 0.15 * (dom - 3.5)
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
        y[rng.random(n) < 0.03] = np.nan
        cols[f"y{j + 1}"] = y
    cols["dom"] = dom.astype(np.int64)
    r4 = rng.integers(1, 5, n)
    cols["r4"] = r4.astype(np.int64)
    # c5 associated with r4 (30% of rows: c5 = r4), no empty cells
    cols["c5"] = np.where(rng.random(n) < 0.3, r4, rng.integers(1, 6, n)).astype(np.int64)
    cols["sex"] = rng.integers(1, 3, n).astype(np.int64)
    x = rng.normal(size=(n, N_COVARIATES))
    x[:, N_COVARIATES - 2 :] = (x[:, N_COVARIATES - 2 :] > 0.3).astype(float)  # 2 binary
    beta = np.linspace(-0.6, 0.6, N_COVARIATES)
    p = 1 / (1 + np.exp(-(-0.4 + x @ beta + psu_effect)))
    for j in range(N_COVARIATES):
        cols[f"x{j + 1}"] = x[:, j]
    cols["outcome"] = (rng.random(n) < p).astype(float)
    # multiple response: latent normal thresholds with a shared factor (positive dependence)
    common = rng.normal(size=n)
    skip = rng.random(n) < 0.03
    thresholds = np.linspace(0.2, 1.6, N_MR)
    for j in range(N_MR):
        m = ((0.6 * common + 0.8 * rng.normal(size=n)) > thresholds[j]).astype(float)
        m[skip] = np.nan
        cols[f"m{j + 1}"] = m
    return pd.DataFrame(cols)


def jk_groups(df: pd.DataFrame, seed: int = 20240801) -> np.ndarray:
    """Jackknife group (0..79) of each row: its PSU's group, PSUs shuffled with a fixed seed."""
    rng = np.random.default_rng([seed, N_REPLICATES])
    psu_codes = df["psu"].to_numpy() - 1
    group_of_psu = rng.permutation(np.arange(N_PSU) % N_REPLICATES)
    return group_of_psu[psu_codes]


def add_replicates(df: pd.DataFrame, seed: int = 20240801) -> pd.DataFrame:
    """A new frame with 80 JK1 replicate weights ``rw1..rw80`` (full weights).

    PSUs are shuffled (fixed seed) into 80 groups; replicate *r* drops group *r* and
    multiplies the other rows' weights by 80/79: a grouped delete-a-group jackknife
    (R's ``svrepdesign(type="JK1")``, scale (R-1)/R).
    """
    group = jk_groups(df, seed)
    w = df["w"].to_numpy()
    factor = N_REPLICATES / (N_REPLICATES - 1.0)
    reps = {name: np.where(group == r, 0.0, w * factor) for r, name in enumerate(REPWEIGHTS)}
    return pd.concat([df, pd.DataFrame(reps, index=df.index)], axis=1)


def rake_margins(df: pd.DataFrame) -> dict[str, dict[int, float]]:
    """Population totals for raking ``dom``, ``r4`` and ``sex`` (deterministic, consistent).

    Each margin is the weighted count by category, tilted by a fixed pattern and rescaled
    to a common grand total, so raking has to move the weights.
    """
    w = df["w"].to_numpy()
    total = float(w.sum()) * 1.05
    out: dict[str, dict[int, float]] = {}
    for name, tilt in (("dom", 0.08), ("r4", -0.06), ("sex", 0.05)):
        codes = df[name].to_numpy()
        levels = np.unique(codes)
        counts = np.array([w[codes == lev].sum() for lev in levels])
        shaped = counts * (1 + tilt * (np.arange(levels.size) - (levels.size - 1) / 2))
        shaped *= total / shaped.sum()
        out[name] = {int(lev): float(v) for lev, v in zip(levels, shaped, strict=True)}
    return out


def frame_mib(df: pd.DataFrame) -> float:
    """In-memory size of a frame in MiB (deep)."""
    return float(df.memory_usage(deep=True).sum()) / 2**20
