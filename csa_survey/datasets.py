"""Load the committed synthetic datasets (``data/synthetic/``).

Examples
--------
>>> from csa_survey.datasets import list_datasets, load_dataset
>>> list_datasets()
['csam_users', 'youth_survey', 'police_recorded', 'scale_indicators']
>>> df, codebook = load_dataset("csam_users")
>>> len(df)
1528
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from csa_survey.codebook import Codebook
from csa_survey.exceptions import InvalidValueError
from csa_survey.io import read_csv
from csa_survey.synth._files import DATASETS, DEFAULT_DATA_DIR, dataset_paths

__all__ = ["DEFAULT_DATA_DIR", "list_datasets", "load_dataset", "load_truth"]


def list_datasets() -> list[str]:
    """Names of the synthetic datasets.

    Examples
    --------
    >>> "youth_survey" in list_datasets()
    True
    """
    return list(DATASETS)


def _paths(name: str, data_dir: str | Path | None) -> dict[str, Path]:
    if data_dir is None:
        # `csa-survey reproduce --data DIR` points every notebook at another dataset
        data_dir = os.environ.get("CSA_SURVEY_DATA_DIR") or None
    if name not in DATASETS:
        raise InvalidValueError(
            f"unknown dataset {name!r}; choose from {', '.join(list_datasets())}"
        )
    paths = dataset_paths(name, data_dir)
    for key in ("data", "codebook"):
        if not paths[key].exists():
            raise InvalidValueError(
                f"dataset {name!r}: {paths[key]} does not exist; regenerate it with "
                "`python -m csa_survey.synth` or pass data_dir="
            )
    return paths


def load_dataset(name: str, data_dir: str | Path | None = None) -> tuple[pd.DataFrame, Codebook]:
    """Read a committed synthetic dataset and its codebook.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`.
    data_dir : path, optional
        Root folder holding ``<name>/`` (default: ``$CSA_SURVEY_DATA_DIR`` if set, else
        ``data/synthetic`` of the checkout).

    Returns
    -------
    (pandas.DataFrame, Codebook)
        Columns typed as the codebook says (nullable integers for codes).

    Examples
    --------
    >>> df, cb = load_dataset("youth_survey")
    >>> cb.design
    {'weights': 'weight', 'strata': 'region', 'psu': 'psu'}
    """
    paths = _paths(name, data_dir)
    return read_csv(paths["data"], Codebook.from_yaml(paths["codebook"]))


def load_truth(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Read a dataset's committed truth table (published vs population truth).

    Examples
    --------
    >>> load_truth("csam_users").loc[0, "figure"]
    'P1'
    """
    paths = _paths(name, data_dir)
    return pd.read_csv(paths["truth"])
