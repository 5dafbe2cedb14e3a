"""Smoke test of the benchmark suite (benchmarks/): the workloads run at 10^3 rows and every
peer that is installed computes the same estimates and SEs as csa_survey.

No timing assertions: the suite itself (benchmarks/run.py) is not part of the test run.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import data, run, workloads  # noqa: E402

N = 1_000
RTOL_EST, RTOL_SE = 1e-8, 1e-6


@pytest.fixture(scope="module")
def frame():
    return data.add_replicates(data.make_frame(N))


def _csa(w, frame):
    setup, fn, extract = workloads.RUNNERS[w]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = setup(frame)
        return extract(state, fn(state))


def _assert_same(ours, theirs, rtol_se=RTOL_SE):
    common = set(ours) & set(theirs)
    assert common == set(theirs), sorted(set(theirs) ^ common)[:5]
    for k in sorted(common):
        np.testing.assert_allclose(ours[k][0], theirs[k][0], rtol=RTOL_EST, err_msg=k)
        if np.isfinite(theirs[k][1]):
            np.testing.assert_allclose(ours[k][1], theirs[k][1], rtol=rtol_se, err_msg=k)


def test_data_is_deterministic():
    a, b = data.make_frame(500, seed=3), data.make_frame(500, seed=3)
    assert a.equals(b)
    assert not a.equals(data.make_frame(500, seed=4))
    assert a["psu"].nunique() <= data.N_PSU
    assert (a.groupby("psu")["stratum"].nunique() == 1).all()  # PSUs nested in strata


def test_replicate_columns_are_a_grouped_jackknife(frame):
    rw = frame[data.REPWEIGHTS].to_numpy()
    w = frame["w"].to_numpy()
    zero = rw == 0
    assert (zero.sum(axis=1) == 1).all()  # each row dropped from exactly one replicate
    np.testing.assert_allclose(rw[~zero], np.repeat(w, rw.shape[1] - 1) * 80 / 79)


@pytest.mark.parametrize("w", list(workloads.RUNNERS))
def test_workload_runs(w, frame):
    ok, where = workloads.available(w)
    if not ok:
        pytest.skip(where)
    numbers = _csa(w, frame)
    assert numbers
    values = np.array([v[0] for v in numbers.values()])
    assert np.isfinite(values).all()


def test_w1_w2_agree_with_each_other(frame):
    """Domain estimates of W2 are 6 sets of W1-type estimates: the overall proportion lies
    within the range of its domain proportions."""
    w1, w2 = _csa("W1", frame), _csa("W2", frame)
    for y in data.ITEMS:
        doms = [w2[f"{y}|dom={g}"][0] for g in range(1, 7)]
        assert min(doms) <= w1[y][0] <= max(doms)


@pytest.mark.parametrize("peer", ["svy", "samplics"])
@pytest.mark.parametrize("w", ["W1", "W2", "W5"])
def test_python_peers_compute_the_same_statistic(peer, w, frame):
    if importlib.util.find_spec(peer) is None:
        pytest.skip(f"{peer} not installed")
    mod = run._load_peer(peer)
    setup, fn, extract = mod.RUNNERS[w]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = setup(frame)
        theirs = extract(state, fn(state))
    _assert_same(_csa(w, frame), theirs)


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_r_computes_the_same_statistics(frame, tmp_path):
    wls = [w for w in workloads.RUNNERS if workloads.available(w)[0]]
    proc = subprocess.run(
        [shutil.which("Rscript"), "-e", "library(survey); library(data.table)"],
        capture_output=True,
    )
    if proc.returncode != 0:
        pytest.skip("R packages survey/data.table not installed")
    out = run.run_r(frame, wls, 1, 30.0, tmp_path)
    assert out is not None
    for w in wls:
        theirs = {
            k: (run._num(v[0]), run._num(v[1])) for k, v in out["workloads"][w]["numbers"].items()
        }
        # svyglm's IRLS stops at its own tolerance: SEs agree to ~1e-7 there
        _assert_same(_csa(w, frame), theirs, rtol_se=1e-6)
    json.dumps(out)  # the runner stores it as JSON
