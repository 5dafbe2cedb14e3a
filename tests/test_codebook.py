"""Codebook: YAML round trip, safe universes, bases, recoding, validation."""

from __future__ import annotations

import pandas as pd
import pytest

from csa_survey.codebook import Codebook, MultiSelectSet, Variable
from csa_survey.exceptions import CodebookError, ColumnError
from csa_survey.synth import (
    csam_users,
    csam_users_codebook,
    police_recorded_codebook,
    youth_survey_codebook,
)


def _small() -> Codebook:
    return Codebook(
        [
            Variable("id", "id"),
            Variable("wave", "design", labels={1: "W1", 2: "W2"}),
            Variable("q1", "single", "Seen?", labels={0: "No", 1: "Yes"}, missing={9: "Refused"}),
            Variable("a", "multi_item", set="s", label="Apple"),
            Variable("b", "multi_item", set="s", label="Banana"),
            Variable("age", "age", min=10, max=20),
        ],
        [MultiSelectSet("s", "Fruit", ("a", "b"), universe="q1 == 1", wave=2,
                        base="respondents who have seen it")],
        dataset="small",
        id="id",
        wave="wave",
    )  # fmt: skip


@pytest.mark.parametrize(
    "cb", [csam_users_codebook(), youth_survey_codebook(), police_recorded_codebook(), _small()]
)
def test_yaml_round_trip(cb, tmp_path):
    text = cb.to_yaml(tmp_path / "cb.yaml")
    back = Codebook.from_yaml(text)
    assert back == cb
    assert Codebook.from_yaml(tmp_path / "cb.yaml") == cb
    assert back.to_yaml() == text
    assert back.sets.keys() == cb.sets.keys()


def test_yaml_contents_readable():
    text = csam_users_codebook().to_yaml()
    assert "universe: contact_social_media == 1" in text
    assert "label: Instagram" in text


@pytest.mark.parametrize(
    "expr",
    ["__import__('os').system('echo hi')", "q1.sum() > 0", "q1 == @x", "lambda: 1", "q1 = 1"],
)
def test_unsafe_or_invalid_universe_is_rejected(expr):
    with pytest.raises(CodebookError, match="universe"):
        Codebook([Variable("q1", "numeric"), Variable("q2", "numeric", universe=expr)])


def test_universe_with_unknown_variable_is_rejected():
    with pytest.raises(CodebookError, match="unknown variable.*nope"):
        Codebook([Variable("q2", "numeric", universe="nope == 1")])


def test_malformed_codebooks():
    with pytest.raises(CodebookError, match="belongs to no set"):
        Codebook([Variable("a", "multi_item")])
    with pytest.raises(CodebookError, match="type 'choice'"):
        Variable("a", "choice")
    with pytest.raises(CodebookError, match="not a multi_item"):
        Codebook([Variable("a", "single")], [MultiSelectSet("s", "S", ("a",))])
    with pytest.raises(CodebookError, match="no wave variable"):
        Codebook([Variable("a", "single", wave=2)])
    with pytest.raises(CodebookError, match="unknown codebook field"):
        Codebook.from_dict({"variables": {"a": {"type": "single", "colour": "red"}}})
    with pytest.raises(CodebookError, match="defined twice"):
        Codebook([Variable("a", "numeric"), Variable("a", "numeric")])


def test_bases_and_descriptions():
    cb = _small()
    df = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "wave": [1, 2, 2, 2, 2, 2],
            "q1": [1, 1, 0, 9, 1, 1],
            "a": [None, 1, None, None, 0, None],
            "b": [None, 0, None, None, 0, None],
            "age": [10, 11, 12, 13, 14, None],
        }
    )
    before = df.copy()
    base = cb.base(df, "s")
    assert base.mask.tolist() == [False, True, False, False, True, False]
    assert base.n == 2
    assert base.description == "respondents who have seen it (asked from wave 2)"
    assert cb.universe_mask(df, "a").tolist() == [False, True, False, False, True, True]
    assert cb.base(df, "q1").n == 5  # code 9 is a missing code
    assert cb.base_description("q1") == "all respondents"
    assert cb.universe("b") == "(q1 == 1) & (wave >= 2)"
    assert cb.item_labels("s") == {"a": "Apple", "b": "Banana"}
    pd.testing.assert_frame_equal(df, before)


def test_universe_needs_its_columns():
    cb = _small()
    with pytest.raises(ColumnError, match="q1"):
        cb.universe_mask(pd.DataFrame({"wave": [1]}), "s")
    with pytest.raises(ColumnError, match="'zzz'"):
        cb.base(pd.DataFrame({"wave": [1]}), "zzz")


def test_set_missing_and_decode():
    cb = _small()
    df = pd.DataFrame({"q1": [0, 1, 9], "wave": [1, 2, 2]})
    assert cb.set_missing(df)["q1"].isna().tolist() == [False, False, True]
    decoded = cb.decode(df)
    assert decoded["q1"].tolist()[:2] == ["No", "Yes"] and pd.isna(decoded["q1"].iloc[2])
    assert cb.decode(df, missing_as_na=False)["q1"].tolist() == ["No", "Yes", "Refused"]
    assert df["q1"].tolist() == [0, 1, 9]


def test_validation_report_shape_and_raise():
    cb = _small()
    df = pd.DataFrame(
        {
            "id": [1, 1, None],
            "wave": [1, 2, 3],
            "q1": [0, 5, 1],
            "a": [1, 2, 0],
            "b": [None, 0, 0],
            "age": [9, 15, "x"],
            "extra": [1, 2, 3],
        }
    )
    report = cb.validate(df)
    f = report.findings
    assert f.columns.tolist() == [
        "check", "severity", "variable", "value", "n_rows", "rows", "message",
    ]  # fmt: skip
    checks = set(f["check"])
    assert {
        "duplicate_id",
        "missing_id",
        "unknown_code",
        "multi_select_value",
        "routing",
        "out_of_range",
        "not_numeric",
        "undocumented_column",
        "partial_set",
    } <= checks
    assert not report.ok
    wave3 = f[(f["variable"] == "wave") & (f["check"] == "unknown_code")].iloc[0]
    assert wave3["value"] == 3 and "'wave'" in wave3["message"] and "code 3" in wave3["message"]
    assert "Validation of 'small'" in str(report)
    assert "<table" in report._repr_html_()
    with pytest.raises(CodebookError, match="error"):
        cb.validate(df, raise_on_error=True)


def test_missing_column_reported():
    cb = _small()
    report = cb.validate(pd.DataFrame({"id": [1]}))
    assert "missing_column" in set(report.findings["check"])


def test_weights_checked():
    cb = youth_survey_codebook()
    from csa_survey.synth import youth_survey

    df = youth_survey(n=500, seed=3)
    df.loc[0, "weight"] = -1.0
    f = cb.validate(df).findings
    assert ("invalid_weight", "weight") in set(zip(f["check"], f["variable"], strict=True))


def test_validation_fast_on_large_data():
    df = csam_users(n=200_000, seed=1)
    assert csam_users_codebook().validate(df).ok
