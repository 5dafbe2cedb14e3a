"""The published scale indicators of figure S1, with sources and definitions.

Not a sample: one row per published number, as quoted in the deck and the articles it
draws on. The values are the published ones (rounded as published); nothing is
simulated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csa_survey.codebook import Codebook, Variable
from csa_survey.exceptions import InvalidValueError

__all__ = ["scale_indicators", "scale_indicators_codebook", "scale_indicators_truth"]

COLUMNS = ["indicator", "source", "period", "year", "value", "unit", "definition", "note"]

_ROWS = [
    ("ncmec_reports", "NCMEC CyberTipline", "2023", 2023.0, 36_000_000.0, "reports",
     "Reports (referrals) of suspected child sexual exploitation received by NCMEC's "
     "CyberTipline in the calendar year", "published as '36 million referrals'"),
    ("caid_images", "UK Child Abuse Image Database (CAID)", "1990", 1990.0, 7_000.0,
     "images", "Indecent images of children held by UK policing (cumulative)",
     "approximate; collections before CAID existed"),
    ("caid_images", "UK Child Abuse Image Database (CAID)", "2020", 2020.0, 17_000_000.0,
     "images", "Unique indecent images of children in CAID (cumulative)", "approximate"),
    ("caid_images", "UK Child Abuse Image Database (CAID)", "mid-2021", 2021.5, 20_000_000.0,
     "images", "Unique indecent images of children in CAID (cumulative)",
     "published as '20+ million'"),
    ("caid_growth", "UK Child Abuse Image Database (CAID)", "2021", 2021.0, 250_000.0,
     "images per month", "Images added to CAID per month", "approximate"),
    ("caid_images", "UK Child Abuse Image Database (CAID)", "2022", 2022.0, 21_000_000.0,
     "images", "Unique indecent images of children in CAID (cumulative)", "approximate"),
    ("ceop_arrests", "NCA CEOP", "2012", 2012.0, 192.0, "arrests per year",
     "Arrests coordinated by CEOP in a year", "nine years before 2021"),
    ("offender_arrests", "UK policing (NPCC)", "2021", 2021.0, 850.0, "offenders per month",
     "Online CSA offenders arrested per month", "published as '850 arrests a month'"),
    ("children_safeguarded", "UK policing (NPCC)", "2021", 2021.0, 1_200.0,
     "children per month", "Children safeguarded per month", "approximate"),
    ("self_generated_share", "Deck and articles", "not stated", np.nan, 0.44, "proportion",
     "Share of new indecent images that are self-generated", "year not stated in the deck"),
]  # fmt: skip


def scale_indicators(n: int | None = None, seed: int | None = None) -> pd.DataFrame:
    """The S1 series as a tidy table.

    Parameters
    ----------
    n : None
        Accepted for a signature shared with the other generators; the series has a
        fixed number of rows, so only ``None`` (or that number) is allowed.
    seed : int or None
        Accepted for the shared signature; the series is published values, so nothing
        is random and the seed has no effect.

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator``, ``source``, ``period`` (as published), ``year`` (numeric,
        mid-year = .5; NaN if not stated), ``value``, ``unit``, ``definition``, ``note``.

    Examples
    --------
    >>> s = scale_indicators()
    >>> s.loc[s["indicator"] == "ncmec_reports", "value"].tolist()
    [36000000.0]
    """
    if n is not None and n != len(_ROWS):
        raise InvalidValueError(
            f"scale_indicators: n={n!r}, but the published series has {len(_ROWS)} rows"
        )
    df = pd.DataFrame(_ROWS, columns=COLUMNS)
    return df


def scale_indicators_codebook() -> Codebook:
    """Codebook of the S1 series.

    Examples
    --------
    >>> scale_indicators_codebook()["value"].type
    'numeric'
    """
    text = [
        ("indicator", "Indicator code"),
        ("source", "Publisher of the figure"),
        ("period", "Period as published"),
        ("unit", "Unit of the value"),
        ("definition", "What is counted"),
        ("note", "Rounding and caveats"),
    ]
    variables = [Variable(name, "text", q, dtype="str") for name, q in text[:3]]
    variables += [
        Variable("year", "numeric", "Year (mid-year = .5)", min=1990, max=2030, dtype="float64"),
        Variable("value", "numeric", "Published value", min=0, dtype="float64"),
    ]
    variables += [Variable(name, "text", q, dtype="str") for name, q in text[3:]]
    return Codebook(
        variables,
        dataset="scale_indicators",
        title="Published scale indicators (figure S1)",
        description="Published values with their sources; not simulated.",
    )


def scale_indicators_truth() -> pd.DataFrame:
    """S1 figures: published value = truth (nothing is sampled).

    Examples
    --------
    >>> t = scale_indicators_truth()
    >>> bool((t["published"] == t["truth"]).all())
    True
    """
    s = scale_indicators()
    item = s["indicator"] + " " + s["period"]
    return pd.DataFrame(
        {
            "figure": "S1",
            "item": item,
            "variable": "value",
            "published": s["value"],
            "truth": s["value"],
            "unit": s["unit"],
            "base": "series / counts",
            "note": s["note"],
        }
    )


def scale_indicators_estimates(df: pd.DataFrame) -> pd.Series:
    """The values column (the series is not sampled), aligned with the truth rows.

    Examples
    --------
    >>> scale_indicators_estimates(scale_indicators()).iloc[0]
    np.float64(36000000.0)
    """
    return pd.Series(df["value"].to_numpy(float), name="sample")
