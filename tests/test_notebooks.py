"""Notebook hygiene: stored executed and clean, so nbval has outputs to compare against.

nbval (run by ``make test`` over ``notebooks/``) re-executes each notebook and compares the
outputs with the stored ones; a notebook stored without outputs would pass it vacuously.
These checks close that gap and keep the house rules of issue #7.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
MAX_CELL_LINES = 25


def _code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"00_quickstart", "01_platform_contact", "03_first_exposure_age"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_executed_in_order_without_errors(path: Path):
    cells = _code_cells(path)
    counts = [c.get("execution_count") for c in cells]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cells never executed"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not run top to bottom"
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: stored error output {errors[0].get('ename')}"
    assert any(c.get("outputs") for c in cells), f"{path.name}: no stored outputs at all"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_house_rules(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["cells"][0]["cell_type"] == "markdown", f"{path.name}: must open with its purpose"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in _code_cells(path):
        lines = "".join(cell["source"]).splitlines()
        assert len(lines) <= MAX_CELL_LINES, (
            f"{path.name}: a {len(lines)}-line cell: move logic to the package"
        )
        text = json.dumps(cell.get("outputs", []))
        assert "0x7f" not in text and " object at 0x" not in text, (
            f"{path.name}: memory address in output"
        )
