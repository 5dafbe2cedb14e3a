"""Readers and writers: CSV, Parquet, SPSS (with MR sets), Stata, Qualtrics-style CSV."""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from csa_survey import io
from csa_survey.codebook import Codebook
from csa_survey.exceptions import ColumnError, InvalidValueError
from csa_survey.synth import csam_users, csam_users_codebook, youth_survey, youth_survey_codebook


@pytest.fixture
def csam():
    return csam_users(n=300, seed=1), csam_users_codebook()


def _labels(cb: Codebook, col: str) -> dict:
    v = cb[col]
    return {**v.labels, **v.missing}


def test_csv_with_sidecar_codebook(tmp_path, csam):
    df, cb = csam
    df.to_csv(tmp_path / "survey.csv", index=False)
    cb.to_yaml(tmp_path / "survey.codebook.yaml")
    back, cb2 = io.read_csv(tmp_path / "survey.csv")
    pd.testing.assert_frame_equal(back, df)
    assert cb2 == cb


def test_csv_without_codebook_infers_one(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,x\n,y\n")
    df, cb = io.read_csv(tmp_path / "x.csv")
    assert cb.names == ["a", "b"] and cb["a"].type == "numeric" and cb["b"].type == "text"


def test_csv_bad_value_for_codebook_dtype(tmp_path, csam):
    df, cb = csam
    bad = df.astype({"gender": "float64"})
    bad.loc[5, "gender"] = 1.5
    bad.to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(InvalidValueError, match=r"'gender'.*1\.5.*row 5"):
        io.read_csv(tmp_path / "s.csv", cb)


def test_missing_file():
    with pytest.raises(InvalidValueError, match="does not exist"):
        io.read_csv("/nonexistent/file.csv")


def test_parquet_round_trip_embeds_codebook(tmp_path, csam):
    df, cb = csam
    io.write_parquet(df, tmp_path / "s.parquet", cb)
    back, cb2 = io.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(back, df)
    assert cb2 == cb


def test_spss_round_trip_values_labels_missing_and_mr_sets(tmp_path, csam):
    df, cb = csam
    path = io.write_spss(df, tmp_path / "s.sav", cb)
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    assert set(meta.mr_sets) == set(cb.sets)  # the file itself carries SPSS MR sets
    back, cb2 = io.read_spss(path)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert cb2["gender"].labels == cb["gender"].labels
    assert cb2["gender"].missing == {9: "Prefer not to say"}
    assert cb2["seen_surface_web"].question == cb["seen_surface_web"].question
    for name, s in cb.sets.items():
        assert cb2.sets[name].items == s.items
        assert cb2.sets[name].label == s.label
        assert cb2.item_labels(name) == cb.item_labels(name)
    # the codebook read from SPSS drives bases as the original does
    assert cb2.base(back, "sm_platform").n == 0 or cb2.answered_mask(back, "sm_platform").sum() > 0
    assert (cb2.answered_mask(back, "msg_app") == cb.answered_mask(df, "msg_app")).all()


def test_spss_category_and_counted_value_sets(tmp_path):
    df = pd.DataFrame(
        {
            "mention1": [1.0, 2.0, np.nan, 3.0],
            "mention2": [3.0, np.nan, np.nan, np.nan],
            "d1": [2.0, 1.0, 2.0, np.nan],
            "d2": [1.0, 1.0, 2.0, np.nan],
        }
    )
    pyreadstat.write_sav(
        df,
        str(tmp_path / "c.sav"),
        variable_value_labels={
            "mention1": {1.0: "Instagram", 2.0: "Facebook", 3.0: "Discord"},
            "mention2": {1.0: "Instagram", 2.0: "Facebook", 3.0: "Discord"},
        },
        column_labels={"d1": "Telegram", "d2": "Signal"},
    )
    data = (tmp_path / "c.sav").read_bytes()
    pos, _ = io._sav_records(data)
    text = b"$plat=C 9 Platforms mention1 mention2\n$apps=D1 2 4 Apps d1 d2\n"
    record = struct.pack("<iiii", 7, 7, 1, len(text)) + text
    (tmp_path / "c.sav").write_bytes(data[:pos] + record + data[pos:])
    back, cb = io.read_spss(tmp_path / "c.sav")
    assert cb.sets["plat"].items == ("plat_1", "plat_2", "plat_3")
    assert cb.item_labels("plat") == {
        "plat_1": "Instagram",
        "plat_2": "Facebook",
        "plat_3": "Discord",
    }
    assert back["plat_3"].tolist() == [1, 0, pd.NA, 1]
    assert back["d1"].tolist() == [1, 0, 1, pd.NA]  # counted value 2 -> 1
    assert cb.item_labels("apps") == {"d1": "Telegram", "d2": "Signal"}
    assert cb.validate(back).ok


def test_stata_round_trip_with_declared_sets(tmp_path, csam):
    df, cb = csam
    path = io.write_stata(df, tmp_path / "s.dta", cb)
    sets = {name: list(s.items) for name, s in cb.sets.items()}
    back, cb2 = io.read_stata(path, multi_select=sets)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert _labels(cb2, "gender") == _labels(cb, "gender")
    assert cb2["language"].labels == cb["language"].labels
    assert cb2.sets["msg_app"].items == cb.sets["msg_app"].items
    assert cb2.item_labels("msg_app") == cb.item_labels("msg_app")
    with pytest.raises(ColumnError, match="nope"):
        io.read_stata(path, multi_select={"x": ["nope"]})


def test_stata_weighted_survey_values(tmp_path):
    df, cb = youth_survey(n=400, seed=2), youth_survey_codebook()
    back, cb2 = io.read_stata(io.write_stata(df, tmp_path / "y.dta", cb))
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    back2, _ = io.read_stata(tmp_path / "y.dta", cb)  # with the codebook: dtypes restored
    pd.testing.assert_frame_equal(back2, df)


QUALTRICS = (
    "ResponseId,Q1,Q7,Q8\n"
    "Response ID,Age,Which platforms? - Selected Choice,Apps\n"
    '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}","{""ImportId"":""QID7""}",'
    '"{""ImportId"":""QID8""}"\n'
    'R_1,34,"1,3,5",2\n'
    'R_2,27,,"1,2"\n'
    "R_3,,2,\n"
)


def test_qualtrics_explodes_multi_select(tmp_path):
    (tmp_path / "q.csv").write_text(QUALTRICS)
    labels = {1: "Instagram", 2: "Facebook", 3: "Discord", 4: "TikTok", 5: "Snapchat"}
    df, cb = io.read_qualtrics(tmp_path / "q.csv", {"Q7": labels, "Q8": None})
    assert df.columns.tolist() == [
        "ResponseId", "Q1", "Q7_1", "Q7_2", "Q7_3", "Q7_4", "Q7_5", "Q8_1", "Q8_2",
    ]  # fmt: skip
    assert df["Q7_1"].tolist() == [1, pd.NA, 0]
    assert df["Q7_5"].tolist() == [1, pd.NA, 0]
    assert df["Q7_2"].tolist() == [0, pd.NA, 1]
    assert df["Q8_2"].tolist() == [1, 1, pd.NA]
    assert df["Q1"].tolist() == [34, 27, pd.NA]
    assert cb.sets["Q7"].label == "Which platforms? - Selected Choice"
    assert cb.item_labels("Q7")["Q7_4"] == "TikTok"
    assert cb["Q1"].question == "Age"
    assert cb.validate(df).ok
    assert cb.base(df, "Q7").n == 2


def test_qualtrics_autodetects_and_rejects_unknown_codes(tmp_path):
    (tmp_path / "q.csv").write_text('id,Q7\n1,"1,3"\n2,\n3,2\n')
    df, cb = io.read_qualtrics(tmp_path / "q.csv")
    assert list(cb.sets) == ["Q7"] and cb.sets["Q7"].items == ("Q7_1", "Q7_2", "Q7_3")
    with pytest.raises(InvalidValueError, match=r"'Q7'.*code 3.*row 0"):
        io.read_qualtrics(tmp_path / "q.csv", {"Q7": {1: "a", 2: "b"}})
    (tmp_path / "b.csv").write_text('id,Q7\n1,"1,x"\n')
    with pytest.raises(InvalidValueError, match=r"'Q7'.*'x'"):
        io.read_qualtrics(tmp_path / "b.csv", {"Q7": None})
