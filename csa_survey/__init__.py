"""csa_survey: design-based analysis of survey data on online child sexual abuse.

Design-based estimates with honest uncertainty (agreeing with R's ``survey`` package),
"select all that apply" questions, routed question bases, synthetic datasets calibrated
to published figures, and notebooks that reproduce them.

Examples
--------
>>> import pandas as pd, csa_survey as cs
>>> df = pd.DataFrame({"seen": [1, 0, 1, 1], "w": [1.0, 2.0, 1.0, 1.0]})
>>> d = cs.SurveyDesign(df, weights="w")
>>> round(float(cs.proportion(d, "seen").to_frame()["estimate"].iloc[0]), 2)
0.6
"""

from csa_survey import render, reproduction, synth, trends
from csa_survey.codebook import Codebook, MultiSelectSet, ValidationReport, Variable
from csa_survey.datasets import list_datasets, load_dataset, load_truth
from csa_survey.design import ReplicateDesign, SurveyDesign
from csa_survey.estimators import CI_METHODS, mean, proportion, total
from csa_survey.exceptions import (
    CodebookError,
    ColumnError,
    ConvergenceWarning,
    DegreesOfFreedomWarning,
    DesignError,
    EmptyDomainError,
    InvalidValueError,
    LonelyPSUError,
    MarginsError,
    SurveyError,
    SurveyWarning,
    WeightsError,
)
from csa_survey.io import (
    read_csv,
    read_parquet,
    read_qualtrics,
    read_spss,
    read_stata,
    write_parquet,
    write_spss,
    write_stata,
)
from csa_survey.multiresponse import (
    ItemComparison,
    MultiResponse,
    MultiResponseTable,
    funnel_counts,
)
from csa_survey.regression import ModelResult, glm
from csa_survey.results import Estimate, TestResult
from csa_survey.survival import SURVIVAL_CI_METHODS, survival, survival_quantiles
from csa_survey.tables import Crosstab, crosstab
from csa_survey.weighting import (
    RakingCalibration,
    effective_sample_size,
    kish_deff,
    rake,
    trim_weights,
    weight_summary,
)

__version__ = "0.1.0"

__all__ = [
    "RakingCalibration",
    "ModelResult",
    "Crosstab",
    "CI_METHODS",
    "SURVIVAL_CI_METHODS",
    "Codebook",
    "MultiSelectSet",
    "ValidationReport",
    "Variable",
    "list_datasets",
    "load_dataset",
    "load_truth",
    "read_csv",
    "read_parquet",
    "read_qualtrics",
    "read_spss",
    "read_stata",
    "render",
    "reproduction",
    "survival",
    "survival_quantiles",
    "synth",
    "trends",
    "write_parquet",
    "write_spss",
    "write_stata",
    "CodebookError",
    "ColumnError",
    "ConvergenceWarning",
    "DegreesOfFreedomWarning",
    "DesignError",
    "EmptyDomainError",
    "Estimate",
    "InvalidValueError",
    "ItemComparison",
    "LonelyPSUError",
    "MarginsError",
    "MultiResponse",
    "MultiResponseTable",
    "ReplicateDesign",
    "SurveyDesign",
    "SurveyError",
    "SurveyWarning",
    "TestResult",
    "WeightsError",
    "__version__",
    "weight_summary",
    "trim_weights",
    "rake",
    "kish_deff",
    "glm",
    "effective_sample_size",
    "crosstab",
    "funnel_counts",
    "mean",
    "proportion",
    "total",
]
