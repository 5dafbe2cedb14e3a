"""Committed datasets load with their codebooks and match the generators."""

from __future__ import annotations

import pandas as pd
import pytest

from csa_survey.codebook import Codebook
from csa_survey.datasets import list_datasets, load_dataset, load_truth
from csa_survey.exceptions import InvalidValueError
from csa_survey.synth import DATASETS


def test_list_datasets():
    assert list_datasets() == ["csam_users", "youth_survey", "police_recorded", "scale_indicators"]


@pytest.mark.parametrize(
    "name", ["csam_users", "youth_survey", "police_recorded", "scale_indicators"]
)
def test_load_equals_generator(name):
    df, cb = load_dataset(name)
    assert isinstance(cb, Codebook) and cb.dataset == name
    ds = DATASETS[name]
    expected = ds.generate() if ds.n is None else ds.generate(n=ds.n, seed=ds.seed)
    pd.testing.assert_frame_equal(df, expected)
    assert cb.validate(df).ok
    truth = load_truth(name)
    pd.testing.assert_frame_equal(truth, ds.truth(), check_dtype=False)


def test_unknown_dataset_and_missing_dir(tmp_path):
    with pytest.raises(InvalidValueError, match="unknown dataset 'nope'"):
        load_dataset("nope")
    with pytest.raises(InvalidValueError, match="does not exist"):
        load_dataset("csam_users", data_dir=tmp_path)
