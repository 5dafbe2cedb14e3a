"""Synthetic datasets calibrated to the published figures.

Four generators, each ``generator(n=..., seed=...) -> DataFrame`` with a codebook
function and a truth-table function (published value beside the generator's
population value):

============================  ==========================  ==============================
dataset                       generator                   figures
============================  ==========================  ==============================
``csam_users``                :func:`csam_users`          P1-P9 (survey of CSAM users)
``youth_survey``              :func:`youth_survey`        Y1-Y5 (16-21-year-olds, weighted)
``police_recorded``           :func:`police_recorded`     R1-R5 (offence-level records)
``scale_indicators``          :func:`scale_indicators`    S1 (published series)
============================  ==========================  ==============================

:data:`DATASETS` registers them; ``python -m csa_survey.synth`` rewrites the committed
files in ``data/synthetic/`` byte for byte (:func:`write_datasets`).

Examples
--------
>>> from csa_survey import synth
>>> df = synth.csam_users(n=1000, seed=1)
>>> synth.truth_table("csam_users").columns.tolist()[:5]
['figure', 'item', 'variable', 'published', 'truth']
"""

from __future__ import annotations

from csa_survey.synth._common import equicorrelation, latent_threshold_items
from csa_survey.synth._files import (
    DATASETS,
    SyntheticDataset,
    dataset_paths,
    truth_table,
    write_dataset,
    write_datasets,
)
from csa_survey.synth.csam_users import (
    csam_users,
    csam_users_codebook,
    csam_users_estimates,
    csam_users_truth,
)
from csa_survey.synth.police_recorded import (
    police_recorded,
    police_recorded_codebook,
    police_recorded_estimates,
    police_recorded_truth,
    yearly_totals,
)
from csa_survey.synth.scale_indicators import (
    scale_indicators,
    scale_indicators_codebook,
    scale_indicators_estimates,
    scale_indicators_truth,
)
from csa_survey.synth.youth_survey import (
    youth_population,
    youth_survey,
    youth_survey_codebook,
    youth_survey_estimates,
    youth_survey_truth,
)

__all__ = [
    "DATASETS",
    "SyntheticDataset",
    "csam_users",
    "csam_users_codebook",
    "csam_users_estimates",
    "csam_users_truth",
    "dataset_paths",
    "equicorrelation",
    "latent_threshold_items",
    "police_recorded",
    "police_recorded_codebook",
    "police_recorded_estimates",
    "police_recorded_truth",
    "scale_indicators",
    "scale_indicators_codebook",
    "scale_indicators_estimates",
    "scale_indicators_truth",
    "truth_table",
    "write_dataset",
    "write_datasets",
    "yearly_totals",
    "youth_population",
    "youth_survey",
    "youth_survey_codebook",
    "youth_survey_estimates",
    "youth_survey_truth",
]
