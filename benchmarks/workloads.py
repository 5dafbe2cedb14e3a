"""The benchmark workloads, as csa_survey runs them.

Each workload is three functions:

* ``setup(df) -> state`` — untimed: build the design (and anything else the call needs),
* ``run(state) -> result`` — **the timed estimation call**,
* ``extract(state, result) -> dict[key, (estimate, se)]`` — untimed: the numbers compared
  with the peers (keys are shared with :mod:`benchmarks.peers`).

Workloads whose csa_survey function does not exist yet (``cs.crosstab``, ``cs.glm``,
``cs.MultiResponse``, ``cs.rake``) are reported as "not available" by :func:`available`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import csa_survey as cs
from benchmarks import data

Numbers = dict[str, tuple[float, float]]

GLM_FORMULA = "outcome ~ " + " + ".join(data.COVARIATES)

#: where each optional feature may live: the public name first, then its module
_FEATURES = {
    "crosstab": ("crosstab", "csa_survey.tables"),
    "glm": ("glm", "csa_survey.regression"),
    "MultiResponse": ("MultiResponse", "csa_survey.multiresponse"),
    "rake": ("rake", "csa_survey.weighting"),
}


def feature(name: str) -> tuple[Any, str]:
    """``(object, where)`` for a csa_survey feature, or ``(None, reason)``."""
    attr, module = _FEATURES[name]
    if hasattr(cs, attr):
        return getattr(cs, attr), f"cs.{attr}"
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None, f"cs.{attr} not available (no {module})"
    if hasattr(mod, attr):
        return getattr(mod, attr), f"{module}.{attr} (not yet exported as cs.{attr})"
    return None, f"cs.{attr} not available"


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    needs: str | None  # csa_survey feature it needs (see ``feature``), if any
    replicates: bool = False  # needs the 80 replicate-weight columns
    synthetic: bool = False  # W8: generates its own data, top size only


WORKLOADS = {
    "W1": Workload("W1", "10 proportions overall (linearised SEs)", None),
    "W2": Workload("W2", "10 proportions x 6 domains", None),
    "W3": Workload("W3", "4x5 crosstab + Rao-Scott F", "crosstab"),
    "W4": Workload("W4", "logistic GLM, 8 covariates", "glm"),
    "W5": Workload("W5", "W2 under 80 JK1 replicates", None, replicates=True),
    "W6": Workload("W6", "12-item multiple response + all pairs", "MultiResponse"),
    "W7": Workload("W7", "raking to 3 margins", "rake"),
    "W8": Workload("W8", "csam_users synthetic data, 10^7 rows", None, synthetic=True),
}


def available(name: str) -> tuple[bool, str]:
    """Whether csa_survey can run workload ``name`` now, and where the feature lives."""
    need = WORKLOADS[name].needs
    if need is None:
        return True, ""
    obj, where = feature(need)
    return obj is not None, where


# --------------------------------------------------------------------------- helpers
def taylor_design(df: pd.DataFrame) -> cs.SurveyDesign:
    """The benchmark design: strata, PSUs (with replacement), weights."""
    return cs.SurveyDesign(df, weights="w", strata="stratum", psu="psu")


def _frame_numbers(frame: pd.DataFrame, by: str | None = None) -> Numbers:
    out: Numbers = {}
    for row in frame.itertuples(index=False):
        r = row._asdict()
        key = str(r["variable"])
        if by is not None:
            key = f"{key}|{by}={int(r[by])}"
        out[key] = (float(r["estimate"]), float(r["se"]))
    return out


def _first(frame: pd.DataFrame, *names: str) -> str | None:
    for n in names:
        if n in frame.columns:
            return n
    return None


# ------------------------------------------------------------------------- workloads
def setup_w1(df: pd.DataFrame) -> Any:
    return taylor_design(df)


def run_w1(d: Any) -> Any:
    return cs.mean(d, data.ITEMS)


def extract_w1(d: Any, res: Any) -> Numbers:
    return _frame_numbers(res.to_frame())


def run_w2(d: Any) -> Any:
    return cs.mean(d, data.ITEMS, by="dom")


def extract_w2(d: Any, res: Any) -> Numbers:
    return _frame_numbers(res.to_frame(), by="dom")


def setup_w5(df: pd.DataFrame) -> Any:
    return cs.ReplicateDesign(df, weights="w", repweights=data.REPWEIGHTS, type="JK1")


def run_w3(d: Any) -> Any:
    crosstab, _ = feature("crosstab")
    ct = crosstab(d, "r4", "c5")
    return ct, ct.test(statistic="F")


def extract_w3(d: Any, res: Any) -> Numbers:
    ct, test = res
    out: Numbers = {
        "F": (float(test.statistic), float("nan")),
        "p": (float(test.p_value), float("nan")),
    }
    table = ct.table
    est, se = _first(table, "estimate", "proportion"), _first(table, "se")
    if "kind" in table.columns:
        table = table[table["kind"] == "cell"]  # joint cell proportions (R: svymean of cells)
    if est is not None and {"r4", "c5"} <= set(table.columns):
        for row in table.to_dict("records"):
            try:
                key = f"cell|r4={int(row['r4'])},c5={int(row['c5'])}"
            except (TypeError, ValueError):
                continue  # margins or totals
            out[key] = (float(row[est]), float(row[se]) if se else float("nan"))
    return out


def run_w4(d: Any) -> Any:
    glm, _ = feature("glm")
    return glm(d, GLM_FORMULA, family="binomial")


def extract_w4(d: Any, res: Any) -> Numbers:
    return {f"coef|{k}": (float(res.params[k]), float(res.bse[k])) for k in res.params.index}


def run_w6(d: Any) -> Any:
    mr_cls, _ = feature("MultiResponse")
    mr = mr_cls(d, data.MR_ITEMS)
    return mr.table(), mr.compare()


def extract_w6(d: Any, res: Any) -> Numbers:
    table, comp = res
    out: Numbers = {}
    t = table.to_frame() if hasattr(table, "to_frame") else table
    item = _first(t, "item", "variable")
    est, se = _first(t, "estimate", "percent", "proportion"), _first(t, "se")
    if item and est and se:
        for row in t.to_dict("records"):
            if row[item] in data.MR_ITEMS:
                out[f"item|{row[item]}"] = (float(row[est]), float(row[se]))
    c = comp.to_frame() if hasattr(comp, "to_frame") else comp
    a, b = _first(c, "item_1", "item_a"), _first(c, "item_2", "item_b")
    est, se = _first(c, "difference", "estimate", "diff"), _first(c, "se")
    if a and b and est and se:
        for row in c.to_dict("records"):
            out[f"diff|{row[a]}-{row[b]}"] = (float(row[est]), float(row[se]))
    return out


def setup_w7(df: pd.DataFrame) -> Any:
    return taylor_design(df), data.rake_margins(df)


def run_w7(state: Any) -> Any:
    rake, _ = feature("rake")
    d, margins = state
    return rake(d, margins)


def extract_w7(state: Any, raked: Any) -> Numbers:
    # untimed: estimates from the raked design (the calibration must reach the SEs)
    out = _frame_numbers(cs.mean(raked, data.ITEMS[:3]).to_frame())
    w = raked.weights
    out["weights|sum_sq"] = (float(np.sum(w * w)), float("nan"))
    return out


def run_w8(n: int, seed: int = 1) -> Any:
    return cs.synth.csam_users(n=n, seed=seed)


RUNNERS: dict[str, tuple[Callable, Callable, Callable]] = {
    "W1": (setup_w1, run_w1, extract_w1),
    "W2": (setup_w1, run_w2, extract_w2),
    "W3": (setup_w1, run_w3, extract_w3),
    "W4": (setup_w1, run_w4, extract_w4),
    "W5": (setup_w5, run_w2, extract_w2),
    "W6": (setup_w1, run_w6, extract_w6),
    "W7": (setup_w7, run_w7, extract_w7),
}
