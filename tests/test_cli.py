"""The ``csa-survey`` command line: argument parsing, ``synth`` passthrough, ``reproduce``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import csa_survey.reproduce as rp
import csa_survey.synth.__main__ as synth_main
from csa_survey import cli
from csa_survey.exceptions import InvalidValueError

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ parsing
def test_reproduce_defaults():
    args = cli.build_parser().parse_args(["reproduce"])
    assert args.command == "reproduce"
    assert args.out == Path("reports")
    assert args.notebooks_dir == Path("notebooks")
    assert args.data is None and args.seed is None and args.notebooks is None
    assert args.timeout == 600.0 and args.quiet is False


def test_reproduce_options():
    args = cli.build_parser().parse_args(
        ["reproduce", "--out", "o", "--data", "d", "--notebooks", "0[1-3]*"]
        + ["--timeout", "30", "--quiet"]
    )
    assert (args.out, args.data, args.notebooks) == (Path("o"), Path("d"), "0[1-3]*")
    assert args.timeout == 30.0 and args.quiet


@pytest.mark.parametrize(
    "argv",
    [
        ["reproduce", "--data", "d", "--seed", "2"],  # mutually exclusive
        ["reproduce", "--seed", "two"],
        ["reproduce", "--unknown"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "usage: csa-survey" in capsys.readouterr().err


# ------------------------------------------------------------------ synth passthrough
def test_synth_passes_every_other_argument_through(monkeypatch):
    seen = []
    monkeypatch.setattr(synth_main, "main", lambda argv: seen.append(list(argv)) or 0)
    argv = ["synth", "--out", "/x/y", "--seed", "3", "--dataset", "csam_users"]
    assert cli.main(argv) == 0
    assert seen == [["--out", "/x/y", "--seed", "3", "--dataset", "csam_users"]]
    # its --help is synth's own, not the top-level parser's
    assert cli.main(["synth", "--help"]) == 0
    assert seen[-1] == ["--help"]


def test_synth_writes_a_dataset(tmp_path):
    assert cli.main(["synth", "--out", str(tmp_path), "--dataset", "scale_indicators"]) == 0
    assert (tmp_path / "scale_indicators" / "scale_indicators.csv").exists()


# ------------------------------------------------------------------ reproduce wiring
class FakeRun:
    def __init__(self, code: int):
        self.exit_code = code

    def summary_text(self) -> str:
        return f"summary with exit {self.exit_code}"


@pytest.mark.parametrize("code", [0, 1])
def test_reproduce_arguments_reach_the_runner(monkeypatch, capsys, code):
    calls = []

    def fake(notebooks, out, **kw):
        calls.append(SimpleNamespace(notebooks=notebooks, out=out, **kw))
        return FakeRun(code)

    monkeypatch.setattr(rp, "reproduce", fake)
    argv = ["reproduce", "--out", "o", "--seed", "7", "--notebooks", "1*", "--timeout", "5"]
    assert cli.main([*argv, "--quiet", "--notebooks-dir", "nbs"]) == code
    (c,) = calls
    assert (c.notebooks, c.out, c.seed, c.data, c.pattern) == (
        Path("nbs"),
        Path("o"),
        7,
        None,
        "1*",
    )
    assert c.timeout == 5.0 and c.quiet is True and callable(c.log)
    assert f"summary with exit {code}" in capsys.readouterr().out


def test_reproduce_timeout_zero_means_no_limit_and_data_is_a_path(monkeypatch):
    calls = []
    monkeypatch.setattr(rp, "reproduce", lambda nb, out, **kw: calls.append(kw) or FakeRun(0))
    assert cli.main(["reproduce", "--timeout", "0", "--data", "somewhere"]) == 0
    assert calls[0]["timeout"] is None and calls[0]["data"] == Path("somewhere")


def test_reproduce_usage_errors_exit_2(monkeypatch, capsys):
    def boom(*a, **k):
        raise InvalidValueError("no notebooks in 'nbs' match 'zzz'.")

    monkeypatch.setattr(rp, "reproduce", boom)
    assert cli.main(["reproduce", "--notebooks", "zzz"]) == 2
    assert "match 'zzz'" in capsys.readouterr().err


def test_python_dash_m_help():
    done = subprocess.run(
        [sys.executable, "-m", "csa_survey", "reproduce", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for option in ("--out", "--data", "--seed", "--notebooks", "--timeout", "--quiet"):
        assert option in done.stdout


# ------------------------------------------------------------------ end to end
ALL_ROWS = """\
import os
from csa_survey import reproduction
rows = [
    reproduction.row(
        f.id, f.item,
        {"estimate": f.published, "ci_low": 0.9 * f.published, "ci_high": 1.1 * f.published}
        if f.kind == "estimate" else f.published,
        note=os.environ["CSA_SURVEY_DATA_DIR"],
    )
    for f in reproduction.FIGURES
]
reproduction.save(reproduction.table(rows, notebook="00_all"))
"""


def test_reproduce_end_to_end_with_seed(monkeypatch, tmp_path, capsys):
    """`--seed` regenerates into a temporary folder, the notebooks see it, it is removed."""
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell(ALL_ROWS)]), nbdir / "00_all.ipynb")
    nbformat.write(new_notebook(cells=[new_code_cell("1/0")]), nbdir / "01_other.ipynb")
    regenerated = []

    def fake_regenerate(seed, folder):  # the real one takes ~7 s (python -m csa_survey.synth)
        regenerated.append((seed, folder))
        (folder / "marker").write_text("x")

    monkeypatch.setattr(rp, "_regenerate", fake_regenerate)
    monkeypatch.delenv("CSA_SURVEY_DATA_DIR", raising=False)
    out = tmp_path / "out"
    argv = ["reproduce", "--notebooks-dir", str(nbdir), "--out", str(out), "--seed", "11"]
    assert cli.main([*argv, "--notebooks", "00_*", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "00_all" in printed and "01_other" not in printed
    assert "1 notebooks run, 0 failed." in printed and " 0 missing" in printed
    ((seed, folder),) = regenerated
    assert seed == 11 and not folder.exists()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "regenerated with seed 11" in page
    assert str(folder) in page  # the notebook saw the temporary folder (row notes)
    assert not (out / "01_other.html").exists()
    assert "CSA_SURVEY_DATA_DIR" not in os.environ
