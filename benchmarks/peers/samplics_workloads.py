"""The benchmark workloads in samplics (archived predecessor of svy), same statistics.

``TaylorEstimator(PopParam.mean)`` with strata, PSUs and weights (samplics always treats
PSUs as sampled with replacement unless ``fpc`` is given). Missing values: samplics'
``remove_nan=True`` would physically drop rows (and could drop whole PSUs), so instead
each item is estimated as a *domain*: y is set to 1 where missing (any value would do; 0 makes samplics divide by 0 for the unused domain) and the domain label
of a missing row is ``0`` (the domain is read off for labels >= 1). That keeps every row
in the design with zero contribution outside the domain — R's ``na.rm=TRUE``.
Replicates: ``ReplicateEstimator("jackknife")`` with ``rep_coefs=(R-1)/R``, centred at
the replicate mean (``conservative=False``). Inputs are numpy arrays built in ``setup``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from benchmarks import data

Numbers = dict[str, tuple[float, float]]
WORKLOADS = ("W1", "W2", "W5")

warnings.filterwarnings("ignore", message=".*samplics is archived.*", category=FutureWarning)


def _arrays(df: pd.DataFrame, replicates: bool = False) -> dict[str, Any]:
    st: dict[str, Any] = {
        "w": df["w"].to_numpy(),
        "stratum": df["stratum"].to_numpy(),
        "psu": df["psu"].to_numpy(),
        "dom": df["dom"].to_numpy(),
        "y": {y: df[y].to_numpy() for y in data.ITEMS},
    }
    if replicates:
        st["rep"] = df[data.REPWEIGHTS].to_numpy()
    return st


def _estimate(st: dict[str, Any], by: bool, replicates: bool = False) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics import PopParam, ReplicateEstimator, RepMethod, TaylorEstimator

    out = {}
    for y in data.ITEMS:
        v = st["y"][y]
        valid = ~np.isnan(v)
        label = st["dom"] if by else np.ones(v.shape[0], dtype=np.int64)
        domain = np.where(valid, label, 0)
        y0 = np.where(valid, v, 1.0)  # any finite value: outside the domain it is unused
        if replicates:
            r = st["rep"].shape[1]
            est = ReplicateEstimator(RepMethod.jackknife, PopParam.mean)
            est.estimate(
                y0,
                samp_weight=st["w"],
                rep_weights=st["rep"],
                rep_coefs=np.full(r, (r - 1) / r),
                domain=domain,
            )
        else:
            est = TaylorEstimator(PopParam.mean)
            est.estimate(
                y0, samp_weight=st["w"], stratum=st["stratum"], psu=st["psu"], domain=domain
            )
        out[y] = est
    return out


def _numbers(res: dict[str, Any], by: bool) -> Numbers:
    out: Numbers = {}
    for y, est in res.items():
        for dom, value in est.point_est.items():
            if int(dom) == 0:
                continue
            key = f"{y}|dom={int(dom)}" if by else y
            out[key] = (float(value), float(est.stderror[dom]))
    return out


def setup_w1(df: pd.DataFrame) -> Any:
    return _arrays(df)


def setup_w5(df: pd.DataFrame) -> Any:
    return _arrays(df, replicates=True)


RUNNERS = {
    "W1": (setup_w1, lambda st: _estimate(st, False), lambda st, r: _numbers(r, False)),
    "W2": (setup_w1, lambda st: _estimate(st, True), lambda st, r: _numbers(r, True)),
    "W5": (setup_w5, lambda st: _estimate(st, True, True), lambda st, r: _numbers(r, True)),
}
