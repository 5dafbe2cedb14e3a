"""environment.yml (conda users) and pyproject.toml (pip users) list the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names
CONDA_TO_PYPI: dict[str, str] = {}


def _split(requirement: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    assert m, requirement
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["dev"])
    return dict(_split(r) for r in reqs)


def _conda() -> tuple[dict[str, str], str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps: dict[str, str] = {}
    python = ""
    for item in env["dependencies"]:
        if isinstance(item, dict):  # the pip section installs the package itself
            assert item == {"pip": ["-e ."]}, item
            continue
        name, spec = _split(item)
        if name == "python":
            python = spec
        elif name != "pip":
            deps[CONDA_TO_PYPI.get(name, name)] = spec
    return deps, python


def test_same_dependencies_and_versions():
    conda, _ = _conda()
    pip = _pyproject()
    assert conda == pip, {
        "only in environment.yml": sorted(set(conda) - set(pip)),
        "only in pyproject.toml": sorted(set(pip) - set(conda)),
        "different versions": sorted(k for k in set(conda) & set(pip) if conda[k] != pip[k]),
    }


def test_same_python():
    _, python = _conda()
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert python == meta["requires-python"].replace(" ", "")
