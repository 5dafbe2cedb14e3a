"""The benchmark workloads in svy (polars + Rust), computing the same statistics.

Same design as csa_survey: strata, PSUs with replacement (``wr=True``), weights. Missing
values: ``drop_nulls=True``, which in svy keeps a row with a missing y in the design with
zero weight (out of domain), each item on its own non-missing rows — R's ``na.rm=TRUE``.
Replicates: ``JackknifeWgts(kind="jk1")`` over the same 80 full replicate-weight columns,
coefficient (R-1)/R, centred at the replicate mean (``variance_center="rep_mean"``).
The polars frame and the ``Sample`` are built in ``setup`` (untimed); svy caches the
factorised design inside the Sample after its first call, so repeated runs reuse it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from benchmarks import data

Numbers = dict[str, tuple[float, float]]
WORKLOADS = ("W1", "W2", "W5")


def _sample(df: pd.DataFrame, replicates: bool = False) -> Any:
    import polars as pl
    import svy

    kwargs: dict[str, Any] = {"stratum": "stratum", "psu": "psu", "wgt": "w", "wr": True}
    if replicates:
        kwargs = {
            "wgt": "w",
            "rep_wgts": svy.JackknifeWgts(prefix="rw", n_reps=data.N_REPLICATES, kind="jk1"),
        }
    cols = ["stratum", "psu", "w", "dom", *data.ITEMS]
    if replicates:
        cols += data.REPWEIGHTS
    return svy.Sample(pl.from_pandas(df[cols]), svy.Design(**kwargs))


def _numbers(results: Any, by: str | None = None) -> Numbers:
    out: Numbers = {}
    for y, est in zip(data.ITEMS, results, strict=True):
        frame = est.to_polars()
        for row in frame.iter_rows(named=True):
            key = y if by is None else f"{y}|{by}={int(row[by])}"
            out[key] = (float(row["est"]), float(row["se"]))
    return out


def setup_w1(df: pd.DataFrame) -> Any:
    return _sample(df)


def run_w1(s: Any) -> Any:
    return s.estimation.mean(data.ITEMS, drop_nulls=True)


def extract_w1(s: Any, res: Any) -> Numbers:
    return _numbers(res)


def run_w2(s: Any) -> Any:
    return s.estimation.mean(data.ITEMS, by="dom", drop_nulls=True)


def extract_w2(s: Any, res: Any) -> Numbers:
    return _numbers(res, by="dom")


def setup_w5(df: pd.DataFrame) -> Any:
    return _sample(df, replicates=True)


def run_w5(s: Any) -> Any:
    return s.estimation.mean(data.ITEMS, by="dom", drop_nulls=True, method="replication")


RUNNERS = {
    "W1": (setup_w1, run_w1, extract_w1),
    "W2": (setup_w1, run_w2, extract_w2),
    "W5": (setup_w5, run_w5, extract_w2),
}
