"""The notebook runner and reproduction report (csa_survey.reproduce).

One module-scoped run executes a tiny notebooks folder (one notebook saving rows, one
failing, one timing out) in real kernels; the other tests read its results.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from csa_survey import reproduction
from csa_survey.exceptions import InvalidValueError
from csa_survey.reproduce import (
    OK_STATUSES,
    NotebookRun,
    ReproductionRun,
    figure_summary,
    find_notebooks,
    headings,
    render_index,
    reproduce,
    resolve_section,
    run_notebook,
    section_anchor,
)

ROWS_NOTEBOOK = [
    new_markdown_cell("# Rows\n\nA notebook that saves three reproduction rows."),
    new_markdown_cell("## 2. Group-based offending"),
    new_markdown_cell("## P4: contact, Rao–Scott"),
    new_code_cell(
        "import os\n"
        "from pathlib import Path\n"
        "from csa_survey import reproduction\n"
        "where = f\"{os.environ.get('CSA_SURVEY_DATA_DIR')}|{Path.cwd().name}\""
    ),
    new_code_cell(
        "rows = [\n"
        "    reproduction.row('R5', 'group-based offending', 0.05, section='2. Group-based offending',\n"
        "                     note=where),\n"
        "    reproduction.row('P4', 'sought contact with a child',\n"
        "                     {'estimate': 0.41, 'ci_low': 0.38, 'ci_high': 0.44, 'n': 1500},\n"
        "                     section='p4-contact-rao-scott'),\n"
        "    reproduction.row('P7', 'Instagram',\n"
        "                     {'estimate': 0.60, 'ci_low': 0.55, 'ci_high': 0.65, 'n': 205}),\n"
        "]\n"
        "reproduction.save(reproduction.table(rows, notebook='01_rows'))"
    ),
]
FAIL_NOTEBOOK = [
    new_code_cell("x = 1"),
    new_code_cell("raise KeyError('boom')"),
    new_code_cell("y = 2"),
]
SLOW_NOTEBOOK = [new_code_cell("import time\ntime.sleep(60)")]
SAVED = {
    ("R5", "group-based offending"),
    ("P4", "sought contact with a child"),
    ("P7", "Instagram"),
}


def write_notebook(path: Path, cells: list) -> Path:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reproduce")
    nbdir = root / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "01_rows.ipynb", ROWS_NOTEBOOK)
    write_notebook(nbdir / "02_fail.ipynb", FAIL_NOTEBOOK)
    data = root / "other_data"
    data.mkdir()
    out = root / "out"
    (out / "reproduction").mkdir(parents=True)
    stale = reproduction.table(
        [reproduction.row("P1", reproduction.FIGURES[0].item, 0.77, ci_low=0.7, ci_high=0.8)],
        notebook="99_stale",
    )
    reproduction.save(stale, out / "reproduction")
    return {"root": root, "notebooks": nbdir, "data": data, "out": out}


@pytest.fixture(scope="module")
def run(folders: dict[str, Path]) -> ReproductionRun:
    before = {p.name: p.read_bytes() for p in folders["notebooks"].iterdir()}
    lines: list[str] = []
    result = reproduce(
        folders["notebooks"],
        folders["out"],
        data=folders["data"],
        timeout=120,
        quiet=True,
        log=lines.append,
    )
    after = {p.name: p.read_bytes() for p in folders["notebooks"].iterdir()}
    result.log_lines = lines  # type: ignore[attr-defined]
    result.unchanged = before == after  # type: ignore[attr-defined]
    return result


def test_html_written_for_every_notebook_and_sources_untouched(run, folders):
    out = folders["out"]
    for name in ("01_rows", "02_fail"):
        page = (out / f"{name}.html").read_text(encoding="utf-8")
        assert page.lstrip().lower().startswith("<!doctype html>")
    assert (out / "index.html").exists()
    assert run.index == out / "index.html"
    assert run.unchanged, "the stored notebooks must not be rewritten"
    assert sorted(p.name for p in folders["notebooks"].iterdir()) == [
        "01_rows.ipynb",
        "02_fail.ipynb",
    ]
    # the failing notebook's page shows the outputs up to the error
    assert "boom" in (out / "02_fail.html").read_text(encoding="utf-8")
    assert [line.split()[1] for line in run.log_lines] == ["01_rows", "02_fail"]


def test_notebook_outcomes(run):
    by_name = {nb.name: nb for nb in run.notebooks}
    assert by_name["01_rows"].ok and by_name["01_rows"].rows == 3
    assert by_name["01_rows"].n_cells == 2
    assert not by_name["02_fail"].ok
    assert "KeyError" in by_name["02_fail"].error and "boom" in by_name["02_fail"].error
    assert by_name["02_fail"].error.startswith("code cell 2: KeyError")
    assert [nb.name for nb in run.failed_notebooks] == ["02_fail"]


def test_rows_collected_and_missing_figures_detected(run):
    f = run.figures
    assert len(f) == len(reproduction.FIGURES)
    keyed = {(r.id, r.item): r for r in f.itertuples()}
    assert set(keyed) == {(fig.id, fig.item) for fig in reproduction.FIGURES}
    assert keyed[("R5", "group-based offending")].status == "exact"
    assert keyed[("P4", "sought contact with a child")].status == "covered"
    assert keyed[("P7", "Instagram")].status == "not covered"
    missing = {(r.id, r.item) for r in run.missing.itertuples()}
    assert missing == {(fig.id, fig.item) for fig in reproduction.FIGURES} - SAVED
    # the stale file from an earlier run was removed, so P1 is missing, not covered
    assert ("P1", reproduction.FIGURES[0].item) in missing
    assert not (run.out / "reproduction" / "99_stale.csv").exists()
    assert list(run.not_reproduced["item"]) == ["Instagram"]


def test_data_dir_and_cwd_reach_the_kernel(run, folders):
    note = run.figures.set_index("id").loc["R5", "note"]
    data_dir, cwd = note.split("|")
    assert Path(data_dir) == folders["data"].resolve()
    assert cwd == "notebooks"


def test_exit_code_and_problem_list(run):
    assert not run.ok and run.exit_code == 1
    problems = run.problems()
    assert problems[0].startswith("notebook 02_fail: code cell 2: KeyError")
    assert any(p.startswith("P7 Instagram: not covered") for p in problems)
    assert any(p.startswith("Y3 missing") and "by age 11" in p for p in problems)
    text = run.summary_text()
    n = len(reproduction.FIGURES)
    assert run.figure_counts() == {
        "figures": n,
        "reproduced": 2,
        "not reproduced": 1,
        "missing": n - 3,
        "rows": 3,
    }
    assert "2 notebooks run, 1 failed." in text
    assert f"{n} published figures: 2 reproduced, 1 not reproduced, {n - 3} missing" in text


def test_index_content(run):
    page = run.index.read_text(encoding="utf-8")
    nb_page = (run.out / "01_rows.html").read_text(encoding="utf-8")
    # self-contained: inline CSS, no scripts, no external resources
    assert "<style>" in page
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "http://" not in page and "https://" not in page
    # every published figure is listed, with its published text
    for fig in reproduction.FIGURES:
        assert html.escape(fig.item) in page
    # one status badge per row
    assert page.count('<span class="st missing">missing</span>') == len(run.missing)
    assert page.count('<span class="st fail">not covered</span>') == 1
    # the row with a section links to that section's anchor in the notebook page
    assert 'href="01_rows.html#2.-Group-based-offending"' in page
    assert "01_rows § 2. Group-based offending" in page
    # a slug (as JupyterLab makes them) resolves to nbconvert's anchor, used verbatim
    assert 'href="01_rows.html#P4:-contact,-Rao%E2%80%93Scott"' in page
    assert 'id="P4:-contact,-Rao%E2%80%93Scott"' in nb_page
    # a row without section links to the top of the notebook
    assert 'href="01_rows.html">01_rows</a>' in page
    assert 'id="2.-Group-based-offending"' in nb_page
    # reproduced value, interval and base as percentages and counts
    assert "60.0%" in page and "[55.0%, 65.0%]" in page and ">205<" in page
    # environment facts
    import csa_survey

    assert f"<dd>{csa_survey.__version__}</dd>" in page
    assert "Python" in page and html.escape(str(run.data)) in page


def test_cell_timeout_is_reported(tmp_path):
    path = write_notebook(tmp_path / "slow.ipynb", SLOW_NOTEBOOK)
    seen: list[tuple[int, int]] = []
    nb, error = run_notebook(path, timeout=1, on_cell=lambda k, n: seen.append((k, n)))
    assert error == "code cell 1: timed out"
    assert seen == [(1, 1)]
    assert nb.cells[0].cell_type == "code"


def test_progress_log_shows_errors(run):
    fail = next(line for line in run.log_lines if "02_fail" in line)
    assert "ERROR" in fail and "boom" in fail


# ------------------------------------------------------------------ fast unit tests
def test_find_notebooks_sorted_and_filtered(tmp_path):
    for name in ("10_b.ipynb", "02_a.ipynb", "00_quick.ipynb", "readme.md"):
        (tmp_path / name).write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    assert [p.name for p in find_notebooks(tmp_path)] == [
        "00_quick.ipynb",
        "02_a.ipynb",
        "10_b.ipynb",
    ]
    assert [p.stem for p in find_notebooks(tmp_path, "0[0-2]*")] == ["00_quick", "02_a"]
    assert [p.stem for p in find_notebooks(tmp_path, "quick")] == ["00_quick"]
    assert find_notebooks(tmp_path, "nothing*") == []
    with pytest.raises(InvalidValueError, match="does not exist"):
        find_notebooks(tmp_path / "absent")


def test_reproduce_rejects_bad_arguments(tmp_path):
    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    write_notebook(nbdir / "01.ipynb", [new_code_cell("1")])
    with pytest.raises(InvalidValueError, match="match 'zzz'"):
        reproduce(nbdir, tmp_path / "out", pattern="zzz")
    with pytest.raises(InvalidValueError, match="either data= or seed="):
        reproduce(nbdir, tmp_path / "out", data=tmp_path, seed=1)
    out = tmp_path / "out"
    (out / "reproduction").mkdir(parents=True)
    (out / "reproduction" / "keep.csv").write_text("x")
    with pytest.raises(InvalidValueError, match="does not exist"):
        reproduce(nbdir, out, data=tmp_path / "nowhere")
    assert (out / "reproduction" / "keep.csv").exists()  # nothing touched before the check


def test_reproduce_honours_callers_data_dir(tmp_path, monkeypatch):
    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    write_notebook(nbdir / "01.ipynb", [new_code_cell("1")])
    monkeypatch.setenv("CSA_SURVEY_DATA_DIR", str(tmp_path / "callers_dir"))
    with pytest.raises(InvalidValueError, match="callers_dir' does not exist"):
        reproduce(nbdir, tmp_path / "out")


@pytest.mark.parametrize(
    "heading",
    ["3. Platforms used", "Instagram vs Facebook (P7)", "45% of 75 <needs> care", "Ünïcode ok"],
)
def test_section_anchor_matches_nbconvert(heading):
    from nbconvert.filters.strings import add_anchor

    rendered = add_anchor(f"<h2>{html.escape(heading)}</h2>")
    nb_id = re.search(r'id="([^"]*)"', rendered).group(1)
    assert section_anchor(heading) == nb_id
    assert section_anchor("#" + nb_id) == nb_id


def test_resolve_section_accepts_text_anchor_and_slug():
    hs = [
        ("Data-and-design", "Data and design"),
        (
            "P7-and-P8:-platforms,-in-the-deck's-layout",
            "P7 and P8: platforms, in the deck's layout",
        ),
        ("5.-Y1-by-sex:-the-Rao%E2%80%93Scott-test", "5. Y1 by sex: the Rao–Scott test"),
    ]
    target = hs[1]
    for section in (
        "P7 and P8: platforms, in the deck's layout",
        "#P7-and-P8:-platforms,-in-the-deck's-layout",
        "p7-and-p8-platforms-in-the-decks-layout",
        "P7 and P8",  # a unique prefix
    ):
        assert resolve_section(section, hs) == target, section
    assert resolve_section("5. Y1 by sex: the Rao–Scott test", hs) == hs[2]
    assert resolve_section("y1-by-sex", hs) is None  # not a prefix of any heading
    assert resolve_section("Data", hs) == hs[0]
    assert resolve_section("", hs) is None
    assert resolve_section("raked to age group, sex, region", hs) is None


def test_headings_reads_nbconvert_output():
    from nbconvert.filters.strings import add_anchor

    page = "<p>x</p>" + add_anchor("<h2>Is Instagram ahead? (paired) – yes</h2>")
    assert headings(page) == [
        (
            section_anchor("Is Instagram ahead? (paired) – yes"),
            "Is Instagram ahead? (paired) – yes",
        )
    ]


def test_figure_summary_keeps_every_row_and_lists_missing():
    rows = reproduction.table(
        [
            reproduction.row("R5", "group-based offending", 0.05),
            reproduction.row("R5", "group-based offending", 0.07),
        ],
        notebook="04_police",
    )
    s = figure_summary(rows)
    r5 = s[s["id"] == "R5"]
    assert list(r5["status"]) == ["exact", "not exact"]
    assert len(s) == len(reproduction.FIGURES) + 1
    assert set(s.loc[s["id"] != "R5", "status"]) == {"missing"}
    # order follows FIGURES
    assert list(dict.fromkeys(s["id"])) == list(dict.fromkeys(f.id for f in reproduction.FIGURES))
    assert s["reproduced_ok"].sum() == 1
    run = ReproductionRun(notebooks=[], figures=s, out=Path("."), index=Path("index.html"))
    counts = run.figure_counts()
    assert (counts["not reproduced"], counts["reproduced"], counts["rows"]) == (1, 0, 2)
    assert run.exit_code == 1


def test_all_reproduced_gives_exit_code_zero_and_escapes_text(tmp_path):
    rows = [
        reproduction.row(
            f.id,
            f.item,
            {"estimate": f.published, "ci_low": 0.9 * f.published, "ci_high": 1.1 * f.published}
            if f.kind == "estimate"
            else f.published,
            note="<b>not html</b>" if i == 0 else "",
        )
        for i, f in enumerate(reproduction.FIGURES)
    ]
    figures = figure_summary(reproduction.table(rows, notebook="00_all"))
    assert figures["status"].isin(OK_STATUSES).all()
    run = ReproductionRun(
        notebooks=[NotebookRun("00_all", tmp_path / "00_all.ipynb", html=tmp_path / "x.html")],
        figures=figures,
        out=tmp_path,
        index=tmp_path / "index.html",
    )
    assert run.ok and run.exit_code == 0 and run.problems() == []
    page = render_index(run)
    assert "&lt;b&gt;not html&lt;/b&gt;" in page and "<b>not html</b>" not in page
    assert "Every published figure was reproduced" in page
    # a failing notebook alone makes the run fail
    run.notebooks[0].error = "cell 3: ValueError: x"
    assert run.exit_code == 1
    assert run.problems() == ["notebook 00_all: cell 3: ValueError: x"]
    assert pd.api.types.is_integer_dtype(figures["base_n"].dtype)
