"""R references for rake, svychisq and svyglm (``tests/reference/models.json``), shared by
test_weighting, test_tables and test_regression: the JSON, the tolerances and the designs."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd

import csa_survey as cs
from csa_survey.weighting import rake

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "models.json").read_text())
RTOL_EST = 1e-8
RTOL_SE = 1e-6


@functools.cache
def reference_data(file: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / file)


@functools.cache
def build(name: str, replicate: str | None = None, raked: str | None = None) -> cs.SurveyDesign:
    """The reference design ``name``, optionally raked (a case of REF["rake"]) and/or
    converted to replicate weights. Designs are immutable, so caching them is safe."""
    spec = REF["designs"][name]
    d = cs.SurveyDesign(
        reference_data(spec["data"]),
        weights=spec.get("weights"),
        strata=spec.get("strata"),
        psu=spec.get("psu"),
        fpc=spec.get("fpc"),
    )
    if raked:
        d = rake(d, REF["rake"][raked]["margins"])
    if replicate:
        d = d.with_replicates(replicate)
    return d
