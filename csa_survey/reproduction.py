"""Reproduction rows: a published figure beside the value a notebook reproduced.

Every published number the notebooks reproduce is typed once, here, in
:data:`FIGURES` (from ``DESIGN.md``: P1–P9, Y1–Y5, R1–R5, S1). A notebook computes its
estimates with the package, turns each into a row with :func:`row` (which looks up the
published value and decides whether it is reproduced), and ends with::

    table = reproduction.table(rows, notebook="01_platform_contact")
    reproduction.save(table)
    table

:func:`save` writes ``<report dir>/reproduction/<notebook>.csv`` (the report directory
is ``$CSA_SURVEY_REPORT_DIR`` or ``reports/``); ``csa-survey reproduce`` collects those
files into its summary. No statistics are computed here: only comparisons.

Status of a row
---------------
``covered``      an estimate's confidence interval contains the published value;
``exact``        a count or a share of a complete count equals the published value at the
                 precision it was published with;
``matched``      a value agrees within a stated tolerance (for figures given as
                 "nearly four times" or "item bases range from 75 to 1,528");
``not covered`` / ``not exact`` / ``not matched`` otherwise.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from csa_survey.exceptions import InvalidValueError

__all__ = ["FIGURES", "Figure", "figure", "report_dir", "row", "save", "table"]

SOURCES = {
    "P": "Protect Children (2024), dark-web CSAM-user survey 'Help us to help you'",
    "Y": "Children's Commissioner for England (2023), survey of ~1,000 people aged 16–21",
    "R": "National analysis of police-recorded CSA and exploitation crimes, England and Wales, 2022",
    "S": "NCMEC, UK Child Abuse Image Database (CAID), CEOP/NCA, as quoted in the deck",
}


@dataclass(frozen=True)
class Figure:
    """A published figure.

    Attributes
    ----------
    id : str
        ``"P7"``, ``"Y3"``, ...
    item : str
        Which number of the figure (``"Instagram"``, ``"by age 11"``).
    published : float
        The value as a number (shares as fractions: 45% -> 0.45).
    text : str
        The value as published (``"45%"``, ``"almost 107,000"``).
    base : str
        Who the percentage is of (DESIGN.md; our documented assumption where the source is
        silent).
    kind : {"estimate", "count", "approx"}
        How reproduction is judged: CI coverage, exact at the published precision, or
        agreement within ``tolerance``.
    decimals : int
        Precision of the published value for ``kind="count"`` (2 for 0.75; -3 for 107,000).
    tolerance : float
        Allowed absolute difference for ``kind="approx"``.
    """

    id: str
    item: str
    published: float
    text: str
    base: str
    kind: str = "estimate"
    decimals: int = 2
    tolerance: float = 0.0

    @property
    def source(self) -> str:
        return SOURCES[self.id[0]]


def _f(id: str, item: str, published: float, text: str, base: str, **kw: Any) -> Figure:
    return Figure(id, item, published, text, base, **kw)


_ALL = "all respondents answering"
_CONTACT_ONLINE = "respondents who sought contact online"
FIGURES: tuple[Figure, ...] = (
    _f("P1", "encountered CSAM or links to CSAM on the surface web", 0.77, "77%", _ALL),
    _f("P2", "used social media to search for, view or share CSAM", 0.32, "32%", _ALL),
    _f("P3", "used messaging apps to search for, view or share CSAM", 0.29, "29%", _ALL),
    _f("P4", "sought contact with a child", 0.40, "40%", _ALL),
    _f("P5", "sought contact online", 0.70, "70%", "respondents who sought contact"),
    _f("P6", "via social media", 0.48, "48%", _CONTACT_ONLINE),
    _f("P6", "via an online game", 0.41, "41%", _CONTACT_ONLINE),
    _f("P6", "via a messaging app", 0.37, "37%", _CONTACT_ONLINE),
    *(
        _f(
            "P7",
            name,
            v,
            f"{round(100 * v)}%",
            "respondents who contacted a child via social media",
        )
        for name, v in [
            ("Instagram", 0.45),
            ("Facebook", 0.30),
            ("Discord", 0.26),
            ("TikTok", 0.25),
            ("Snapchat", 0.23),
            ("Twitter/X", 0.22),
        ]
    ),
    *(
        _f(
            "P8",
            name,
            v,
            f"{round(100 * v)}%",
            "respondents who contacted a child via a messaging app",
        )
        for name, v in [
            ("Telegram", 0.45),
            ("WhatsApp", 0.41),
            ("Signal", 0.28),
            ("Wickr Me", 0.25),
        ]
    ),
    _f(
        "P9",
        "smallest item base",
        75,
        "75",
        "respondents answering an item",
        kind="approx",
        tolerance=10,
    ),
    _f(
        "P9",
        "largest item base",
        1528,
        "1,528",
        "respondents answering an item",
        kind="count",
        decimals=0,
    ),
    _f("Y1", "have ever seen online pornography", 0.64, "64%", "all respondents (weighted)"),
    _f(
        "Y2", "average age at first seeing pornography", 13.0, "13", "respondents who have seen it"
    ),
    _f("Y3", "had seen it by age 9", 0.10, "10%", "respondents who have seen it"),
    _f("Y3", "had seen it by age 11", 0.27, "27%", "respondents who have seen it"),
    _f("Y3", "had seen it by age 13", 0.50, "50%", "respondents who have seen it"),
    _f(
        "Y4",
        "encountered violent pornography before 18",
        0.79,
        "79%",
        "respondents aged 18–21 who have seen it",
    ),
    _f("Y5", "first came across it accidentally", 0.38, "38%", "respondents who have seen it"),
    _f(
        "R1",
        "offences recorded in 2022",
        107_000,
        "almost 107,000",
        "offences",
        kind="count",
        decimals=-3,
    ),
    _f("R1", "change 2021 to 2022", 0.076, "+7.6%", "offences", kind="count", decimals=3),
    _f(
        "R1",
        "fold change 2012 to 2022",
        4.0,
        "nearly four times",
        "offences",
        kind="approx",
        tolerance=0.5,
    ),
    _f("R2", "contact sexual offences", 0.75, "~75%", "offences", kind="count"),
    _f("R2", "indecent images of children offences", 0.25, "~25%", "offences", kind="count"),
    _f(
        "R3",
        "child-on-child offending",
        0.52,
        "52%",
        "offences with a known perpetrator age",
        kind="count",
    ),
    _f(
        "R4",
        "contact offences in the family environment",
        0.33,
        "~33%",
        "contact offences",
        kind="count",
    ),
    _f("R5", "group-based offending", 0.05, "5%", "offences", kind="count"),
    _f("S1", "NCMEC referrals, 2023", 36e6, "36 million", "referrals", kind="count", decimals=-6),
    _f("S1", "CAID images, 1990", 7_000, "~7,000", "images", kind="count", decimals=-3),
    _f("S1", "CAID images, 2020", 17e6, "17 million", "images", kind="count", decimals=-6),
    _f("S1", "CAID images, mid-2021", 20e6, "20 million", "images", kind="count", decimals=-6),
    _f(
        "S1",
        "CAID images added a month, 2021",
        250_000,
        "+~250,000 a month",
        "images added to CAID",
        kind="count",
        decimals=-4,
    ),
    _f("S1", "CAID images, 2022", 21e6, "~21 million", "images", kind="count", decimals=-6),
    _f(
        "S1",
        "CEOP-coordinated arrests a year, nine years before 2021",
        192,
        "192",
        "arrests",
        kind="count",
        decimals=0,
    ),
    _f(
        "S1", "offenders arrested a month, 2021", 850, "~850", "arrests", kind="count", decimals=-1
    ),
    _f(
        "S1", "children safeguarded a month", 1200, "~1,200", "children", kind="count", decimals=-2
    ),
    _f(
        "S1",
        "share of new indecent images self-generated",
        0.44,
        "44%",
        "new images",
        kind="count",
    ),
)


def figure(id: str, item: str) -> Figure:
    """Look up a published figure by id and item.

    Examples
    --------
    >>> figure("P7", "Instagram").published
    0.45
    """
    for f in FIGURES:
        if f.id == id and f.item == item:
            return f
    items = [f.item for f in FIGURES if f.id == id]
    raise InvalidValueError(
        f"no published figure {id!r} / {item!r}; items of {id}: {items or 'none (unknown id)'}."
    )


def _value(x: Any, key: str) -> float | None:
    if x is None:
        return None
    if isinstance(x, Mapping | pd.Series):
        v = x.get(key) if isinstance(x, Mapping) else x.get(key, None)
        return None if v is None or pd.isna(v) else float(v)
    return float(x)


def row(
    id: str,
    item: str,
    reproduced: float | Mapping[str, Any] | pd.Series,
    *,
    ci_low: float | None = None,
    ci_high: float | None = None,
    base_n: int | None = None,
    section: str = "",
    note: str = "",
) -> dict[str, Any]:
    """One reproduction row.

    Parameters
    ----------
    id, item : str
        The figure (see :data:`FIGURES`).
    reproduced : float or a row of ``Estimate.to_frame()``
        The reproduced value; given a frame row (Series or dict with ``estimate``,
        ``ci_low``, ``ci_high``, ``n``) the interval and base come from it.
    ci_low, ci_high : float, optional
        The 95% interval (overrides the row's).
    base_n : int, optional
        Unweighted base (overrides the row's ``n``).
    section : str
        Anchor of the notebook section that computed it (for the report's link).
    note : str
        Anything the reader should know (e.g. "count from records; no sampling error").

    Returns
    -------
    dict

    Examples
    --------
    >>> r = row("P7", "Instagram", {"estimate": 0.47, "ci_low": 0.40, "ci_high": 0.54, "n": 205})
    >>> r["status"], r["base_n"]
    ('covered', 205)
    """
    fig = figure(id, item)
    scalar = isinstance(reproduced, numbers.Real)  # a plain number (numpy scalars included)
    value = float(reproduced) if scalar else _value(reproduced, "estimate")
    lo = ci_low if ci_low is not None or scalar else _value(reproduced, "ci_low")
    hi = ci_high if ci_high is not None or scalar else _value(reproduced, "ci_high")
    n = base_n
    if n is None and isinstance(reproduced, Mapping | pd.Series):
        nv = reproduced.get("n")
        n = None if nv is None or pd.isna(nv) else int(nv)
    if value is None or math.isnan(value):
        status = "not reproduced"
    elif fig.kind == "estimate":
        if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
            status = "no interval"
        else:
            status = "covered" if lo <= fig.published <= hi else "not covered"
    elif fig.kind == "count":
        same = round(value, fig.decimals) == round(fig.published, fig.decimals)
        status = "exact" if same else "not exact"
    else:
        status = "matched" if abs(value - fig.published) <= fig.tolerance else "not matched"
    return {
        "id": fig.id,
        "item": fig.item,
        "source": fig.source,
        "base": fig.base,
        "published": fig.published,
        "published_text": fig.text,
        "reproduced": value,
        "ci_low": lo,
        "ci_high": hi,
        "base_n": n,
        "kind": fig.kind,
        "status": status,
        "reproduced_ok": status in ("covered", "exact", "matched"),
        "section": section,
        "note": note,
    }


COLUMNS = (
    "id", "item", "source", "base", "published", "published_text", "reproduced", "ci_low",
    "ci_high", "base_n", "kind", "status", "reproduced_ok", "section", "note", "notebook",
)  # fmt: skip


def table(rows: Iterable[Mapping[str, Any]], *, notebook: str) -> pd.DataFrame:
    """Collect rows into the tidy reproduction table of a notebook.

    Examples
    --------
    >>> t = table([row("R5", "group-based offending", 0.0500)], notebook="04_police")
    >>> t.loc[0, "status"]
    'exact'
    """
    frame = pd.DataFrame(list(rows))
    frame["notebook"] = notebook
    frame["base_n"] = pd.array(frame["base_n"], dtype="Int64")
    return frame.loc[:, list(COLUMNS)]


def report_dir() -> Path:
    """``$CSA_SURVEY_REPORT_DIR`` if set, else ``reports/`` in the current directory's project.

    Examples
    --------
    >>> isinstance(report_dir(), Path)
    True
    """
    env = os.environ.get("CSA_SURVEY_REPORT_DIR")
    if env:
        return Path(env)
    here = Path.cwd()
    for parent in (here, *here.parents):
        if (parent / "pyproject.toml").exists() and (parent / "csa_survey").is_dir():
            return parent / "reports"
    return here / "reports"


def save(frame: pd.DataFrame, out_dir: str | Path | None = None) -> Path:
    """Write a notebook's reproduction table to ``<report dir>/reproduction/<notebook>.csv``.

    Returns the path written. The file is deterministic (fixed column order, full
    precision), so a re-run writes the same bytes.
    """
    if frame.empty:
        raise InvalidValueError("the reproduction table is empty.")
    notebook = str(frame["notebook"].iloc[0])
    folder = Path(out_dir) if out_dir is not None else report_dir() / "reproduction"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.csv"
    frame.to_csv(path, index=False, float_format="%.10g")
    return path


def display(frame: pd.DataFrame) -> Any:
    """A styled view for notebooks: published vs reproduced, 95% CI, base and status.

    Shares are shown as percentages; nothing is recomputed.
    """

    def fmt(v: Any, pct: bool) -> str:
        if v is None or pd.isna(v):
            return ""
        if pct:
            return f"{100 * v:.1f}%"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"

    out = []
    for _, r in frame.iterrows():
        pct = r["published_text"].rstrip().endswith("%")
        ci = (
            f"{fmt(r['ci_low'], pct)} to {fmt(r['ci_high'], pct)}"
            if not pd.isna(r["ci_low"]) and not pd.isna(r["ci_high"])
            else ""
        )
        out.append(
            {
                "figure": r["id"],
                "item": r["item"],
                "published": r["published_text"],
                "reproduced": fmt(r["reproduced"], pct),
                "95% CI": ci,
                "base n": "" if pd.isna(r["base_n"]) else f"{int(r['base_n']):,}",
                "status": r["status"],
            }
        )
    return pd.DataFrame(out)
