"""Benchmark csa_survey side by side with svy, samplics and R's survey (issue #8).

Run from the repository root::

    .venv/bin/python benchmarks/run.py                      # everything, ~15 min
    .venv/bin/python benchmarks/run.py --sizes 1e4 --workloads W1 W2 --peers svy

For every size and workload: the median wall time of ``--repeat`` runs of the estimation
call only (design and data built beforehand, data in memory), the peak memory of one more
run, the ratio of each peer's time to csa_survey's, and the largest relative difference of
the estimates and SEs against R (and against svy/samplics where they compute the same
statistic). Then the scaling exponents, and a JSON file of everything (``--out``).
See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks import data, workloads  # noqa: E402

ALL_WORKLOADS = list(workloads.WORKLOADS)
ALL_PEERS = ["svy", "samplics", "R"]
R_SCRIPT = Path(__file__).resolve().parent / "peers" / "r_workloads.R"


# ----------------------------------------------------------------------------- memory
def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def measure_memory(fn: Callable[[], Any], traced: bool = True) -> dict[str, float]:
    """Peak memory of one call: tracemalloc (Python + NumPy allocations) and RSS growth.

    ``rss_mib`` is the growth of the process's resident high-water mark during the call
    (``/proc/self/clear_refs`` resets it first); it also sees allocations tracemalloc
    cannot (Rust/polars in svy, BLAS buffers).
    """
    gc.collect()
    can_reset = _reset_hwm()
    before = _rss_kib("VmRSS")
    peak = float("nan")
    if traced:
        tracemalloc.start()
    try:
        result = fn()
        if traced:
            _, peak = tracemalloc.get_traced_memory()
    finally:
        if traced:
            tracemalloc.stop()
    hwm = _rss_kib("VmHWM")
    del result
    gc.collect()
    return {
        "traced_mib": peak / 2**20,
        "rss_mib": (hwm - before) / 1024 if can_reset else float("nan"),
    }


# ---------------------------------------------------------------------------- timing
def time_runs(fn: Callable[[], Any], repeat: int, max_seconds: float) -> tuple[list[float], Any]:
    """Wall times of up to ``repeat`` calls (a call slower than ``max_seconds`` is not repeated)."""
    times: list[float] = []
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if times[-1] > max_seconds:
            break
    return times, result


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Largest relative differences of estimates and SEs on the keys both have."""
    keys = sorted(set(a) & set(b))
    out: dict[str, Any] = {"n_compared": len(keys), "only_here": len(set(a) - set(b))}
    for i, name in ((0, "est"), (1, "se")):
        diffs = []
        for k in keys:
            x, y = float(a[k][0 + i]), float(b[k][0 + i])
            if y is None or not (math.isfinite(x) and math.isfinite(y)):
                continue
            diffs.append(abs(x - y) / max(abs(y), 1e-300))
        out[f"max_rel_{name}"] = max(diffs) if diffs else None
    return out


def _load_peer(name: str) -> Any:
    if name == "svy":
        from benchmarks.peers import svy_workloads as mod
    elif name == "samplics":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from benchmarks.peers import samplics_workloads as mod
    else:
        raise ValueError(name)
    return mod


def python_peers(names: list[str]) -> dict[str, Any]:
    found = {}
    for name in names:
        if name == "R":
            continue
        try:
            found[name] = _load_peer(name)
        except ImportError as exc:
            print(f"  peer {name} not installed ({exc}); skipped", flush=True)
    return found


# ------------------------------------------------------------------------------- R
def run_r(
    df: pd.DataFrame, wls: list[str], repeat: int, max_seconds: float, tmp: Path
) -> dict[str, Any] | None:
    """Write the data for R and run ``peers/r_workloads.R``; its JSON, or None."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("  R: Rscript not found; skipped", flush=True)
        return None
    wls = [w for w in wls if w in workloads.RUNNERS]
    if not wls:
        return None
    import pyarrow as pa
    import pyarrow.csv as pacsv

    cols = [c for c in df.columns if not c.startswith("rw")]
    table = pa.Table.from_pandas(df[cols], preserve_index=False)
    table = table.append_column("jkgroup", pa.array(data.jk_groups(df)))
    csv_path, spec_path, out_path = tmp / "data.csv", tmp / "spec.json", tmp / "r_out.json"
    pacsv.write_csv(table, csv_path)
    margins = {k: {str(c): v for c, v in m.items()} for k, m in data.rake_margins(df).items()}
    spec = {"workloads": wls, "repeats": repeat, "max_seconds": max_seconds, "margins": margins}
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [rscript, str(R_SCRIPT), str(csv_path), str(spec_path), str(out_path)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print("  R failed:\n" + proc.stderr[-2000:], flush=True)
        return None
    return json.loads(out_path.read_text())


# ------------------------------------------------------------------------------ W8
def run_w8(n: int, repeat: int, max_seconds: float) -> dict[str, Any]:
    """csam_users at ``n`` rows, each run in a fresh process (clean peak RSS)."""
    # VmHWM of the child's own address space (ru_maxrss would include the parent's RSS,
    # which Linux carries across fork + exec)
    code = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
        "def kib(f):\n"
        "    return next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith(f))\n"
        "import csa_survey as cs\n"
        "base = kib('VmRSS:')\n"
        f"t = time.perf_counter(); df = cs.synth.csam_users(n={n}, seed=1)\n"
        "el = time.perf_counter() - t\n"
        "print(el, kib('VmHWM:'), base, df.memory_usage(deep=True).sum())\n"
    )
    times, peaks = [], []
    frame = base = 0.0
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        el, peak, base, frame = (float(x) for x in proc.stdout.split())
        times.append(el)
        peaks.append(peak / 2**20)  # KiB -> GiB
        if el > max_seconds:
            break
    return {
        "n": n,
        "times": times,
        "median": float(np.median(times)),
        "peak_rss_gib": max(peaks),
        "baseline_rss_gib": base / 2**20,
        "frame_mib": frame / 2**20,
        "target_met": float(np.median(times)) < 60 and max(peaks) < 4,
    }


# -------------------------------------------------------------------------- scaling
def scaling_grid(n: int, repeat: int) -> dict[str, Any]:
    """csa_survey time of W2-type calls over items x domains at ``n`` rows; log-log slope."""
    import csa_survey as cs

    items_grid, domains_grid = (5, 10, 20, 40), (1, 3, 6, 12)
    df = data.make_frame(n, n_items=max(items_grid))
    dom = df["dom"].to_numpy()
    df["dom3"] = (dom + 1) // 2
    df["dom12"] = (dom - 1) * 2 + df["sex"].to_numpy()
    d = workloads.taylor_design(df)
    rows = []
    for k in items_grid:
        names = [f"y{j + 1}" for j in range(k)]
        for g in domains_grid:
            by = {1: None, 3: "dom3", 6: "dom", 12: "dom12"}[g]
            times, _ = time_runs(lambda names=names, by=by: cs.mean(d, names, by=by), repeat, 60)
            rows.append({"items": k, "domains": g, "median": float(np.median(times))})
    x = np.log([r["items"] * r["domains"] for r in rows])
    y = np.log([r["median"] for r in rows])
    slope = float(np.polyfit(x, y, 1)[0])
    return {"n": n, "grid": rows, "exponent_items_x_domains": slope}


def slope(sizes: list[int], medians: list[float]) -> float | None:
    ok = [(s, t) for s, t in zip(sizes, medians, strict=True) if t and t > 0]
    if len(ok) < 2:
        return None
    x, y = np.log([s for s, _ in ok]), np.log([t for _, t in ok])
    return float(np.polyfit(x, y, 1)[0])


# ----------------------------------------------------------------------------- main
def run_size(n: int, args: argparse.Namespace, peers: dict[str, Any]) -> dict[str, Any]:
    print(f"\n== n = {n:,} ==", flush=True)
    df = data.make_frame(n, seed=args.seed)
    wanted = [w for w in args.workloads if w != "W8"]
    rep_df = data.add_replicates(df, seed=args.seed) if "W5" in wanted else None
    sizes = {"frame_mib": data.frame_mib(df)}
    if rep_df is not None:
        sizes["frame_with_replicates_mib"] = data.frame_mib(rep_df)
    out: dict[str, Any] = {"n": n, **sizes, "load_before": os.getloadavg()[0], "workloads": {}}

    runnable = []
    for w in wanted:
        ok, where = workloads.available(w)
        if not ok:
            print(f"  {w}: skipped — {where}", flush=True)
            out["workloads"][w] = {"skipped": where}
        else:
            runnable.append(w)

    r_json = None
    if "R" in args.peers and runnable:
        with tempfile.TemporaryDirectory(prefix="csa_bench_") as tmp:
            print(f"  R: running {', '.join(runnable)} …", flush=True)
            r_json = run_r(df, runnable, args.repeat, args.max_seconds, Path(tmp))

    for w in runnable:
        frame = rep_df if w == "W5" else df
        entry: dict[str, Any] = {"input_mib": data.frame_mib(frame), "libs": {}}
        ok, where = workloads.available(w)
        if where:
            entry["note"] = where
        libs: list[tuple[str, Any]] = [("csa_survey", workloads.RUNNERS[w])]
        libs += [(name, mod.RUNNERS[w]) for name, mod in peers.items() if w in mod.RUNNERS]
        numbers: dict[str, Any] = {}
        for name, (setup, run, extract) in libs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                state = setup(frame)
                times, result = time_runs(
                    lambda run=run, state=state: run(state), args.repeat, args.max_seconds
                )
                numbers[name] = extract(state, result)
                del result
                mem = (
                    measure_memory(
                        lambda run=run, state=state: run(state), traced=name == "csa_survey"
                    )
                    if args.memory and (name == "csa_survey" or times[-1] < args.max_seconds)
                    else {}
                )
            del state
            gc.collect()
            entry["libs"][name] = {"times": times, "median": float(np.median(times)), **mem}
        if r_json is not None and w in r_json["workloads"]:
            rw = r_json["workloads"][w]
            times = rw["times"] if isinstance(rw["times"], list) else [rw["times"]]
            entry["libs"]["R"] = {
                "times": times,
                "median": float(np.median(times)),
                "r_max_used_mib": rw.get("peak_mb"),
            }
            numbers["R"] = {k: (_num(v[0]), _num(v[1])) for k, v in rw["numbers"].items()}
        ref = numbers["csa_survey"]
        entry["agreement"] = {
            peer: compare(ref, nums) for peer, nums in numbers.items() if peer != "csa_survey"
        }
        base = entry["libs"]["csa_survey"]["median"]
        for lib in entry["libs"].values():
            lib["ratio"] = lib["median"] / base if base > 0 else None
        out["workloads"][w] = entry
        _print_entry(w, entry)
    out["load_after"] = os.getloadavg()[0]
    print(
        f"  (1-min load average {out['load_before']:.1f} before, {out['load_after']:.1f} after "
        f"on {os.cpu_count()} CPUs: other processes share the machine)",
        flush=True,
    )
    return out


def _num(x: Any) -> float:
    """A number from R's JSON (jsonlite writes NA as the string "NA")."""
    return float(x) if isinstance(x, int | float) else float("nan")


def _print_entry(w: str, e: dict[str, Any]) -> None:
    libs = e["libs"]
    parts = [
        f"{name} {lib['median']:.3f}s"
        + ("" if name == "csa_survey" else f" ({lib['ratio']:.1f}x)")
        for name, lib in libs.items()
    ]
    agree = ", ".join(
        f"{p}: est {_fmt(a['max_rel_est'])} se {_fmt(a['max_rel_se'])} ({a['n_compared']})"
        for p, a in e["agreement"].items()
    )
    mem = libs["csa_survey"]
    print(
        f"  {w}: " + "; ".join(parts) + f" | mem {mem.get('traced_mib', float('nan')):.0f}"
        f"/{mem.get('rss_mib', float('nan')):.0f} MiB vs input {e['input_mib']:.0f} MiB"
        + (f" | rel diff {agree}" if agree else ""),
        flush=True,
    )


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1e}"


def render_table(result: dict[str, Any]) -> str:
    """Markdown tables of the run (used for RESULTS.md)."""
    lines = [
        "| n | workload | csa_survey s | svy s (×) | samplics s (×) | R s (×) | "
        "max rel diff vs R est / se | vs svy | vs samplics | csa peak MiB (traced / RSS) | "
        "input MiB | peak / input |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in result["sizes"]:
        for w, e in size["workloads"].items():
            if "skipped" in e:
                lines.append(f"| {size['n']:,} | {w} | {e['skipped']} | | | | | | | | | |")
                continue
            libs, ag = e["libs"], e["agreement"]

            def cell(name: str, libs: dict = libs) -> str:
                if name not in libs:
                    return "–"
                lib = libs[name]
                runs = "" if len(lib["times"]) >= 3 else f" [{len(lib['times'])} run]"
                return f"{lib['median']:.3f} ({lib['ratio']:.1f}×){runs}"

            def agree(name: str, ag: dict = ag) -> str:
                if name not in ag:
                    return "–"
                a = ag[name]
                return f"{_fmt(a['max_rel_est'])} / {_fmt(a['max_rel_se'])}"

            c = libs["csa_survey"]
            lines.append(
                f"| {size['n']:,} | {w} | {c['median']:.3f} | {cell('svy')} | {cell('samplics')} "
                f"| {cell('R')} | {agree('R')} | {agree('svy')} | {agree('samplics')} | "
                f"{c.get('traced_mib', float('nan')):.0f} / {c.get('rss_mib', float('nan')):.0f} "
                f"| {e['input_mib']:.0f} | {_peak(c) / e['input_mib']:.2f} |"
            )
    notes = sorted(
        {
            f"{w}: {e['note']}"
            for size in result["sizes"]
            for w, e in size["workloads"].items()
            if e.get("note")
        }
    )
    if notes:
        lines += ["", "Features used from their module: " + "; ".join(notes) + "."]
    return "\n".join(lines)


def _peak(lib: dict[str, Any]) -> float:
    """csa_survey's peak memory of a call: the larger of tracemalloc and RSS growth."""
    vals = [lib.get("traced_mib", float("nan")), lib.get("rss_mib", float("nan"))]
    vals = [v for v in vals if v == v]
    return max(vals) if vals else float("nan")


def render_report(result: dict[str, Any]) -> str:
    """The whole Markdown report of a run: table, W8, exponents, scaling grid."""
    out = [render_table(result), ""]
    if "W8" in result:
        w8 = result["W8"]
        out.append(
            f"W8 `csam_users(n={w8['n']:,})`: median {w8['median']:.1f} s over "
            f"{len(w8['times'])} runs ({', '.join(f'{t:.1f}' for t in w8['times'])}), peak RSS "
            f"{w8['peak_rss_gib']:.2f} GiB (fresh process; {w8['baseline_rss_gib']:.2f} GiB "
            f"before generating), DataFrame {w8['frame_mib']:.0f} MiB; target < 60 s and "
            f"< 4 GiB met: {w8['target_met']}."
        )
        out.append("")
    out.append("Exponent of time vs rows (log-log slope over the sizes):")
    out.append("")
    out.append("| workload | " + " | ".join(["csa_survey", "svy", "samplics", "R"]) + " |")
    out.append("|---|---|---|---|---|")
    for w, d in result.get("exponent_rows", {}).items():
        if d:
            cells = [
                _fmt2(d.get(k)) if k in d else "–" for k in ("csa_survey", "svy", "samplics", "R")
            ]
            out.append(f"| {w} | " + " | ".join(cells) + " |")
    if "scaling" in result:
        sc = result["scaling"]
        out.append("")
        out.append(
            f"csa_survey `cs.mean` at n = {sc['n']:,}, time (s) by items × domains; "
            f"exponent of time vs items × domains: **{sc['exponent_items_x_domains']:.2f}**"
        )
        out.append("")
        doms = sorted({r["domains"] for r in sc["grid"]})
        out.append("| items \\ domains | " + " | ".join(map(str, doms)) + " |")
        out.append("|---" * (len(doms) + 1) + "|")
        for k in sorted({r["items"] for r in sc["grid"]}):
            row = {r["domains"]: r["median"] for r in sc["grid"] if r["items"] == k}
            out.append(f"| {k} | " + " | ".join(f"{row[g]:.3f}" for g in doms) + " |")
    loads = [(s["n"], s.get("load_before"), s.get("load_after")) for s in result["sizes"]]
    out.append("")
    out.append(
        "1-minute load average (before, after) per size: "
        + "; ".join(f"{n:,}: {a:.1f}, {b:.1f}" for n, a, b in loads if a is not None)
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=float,
        default=[1e4, 1e5, 1e6],
        help="numbers of rows (default 1e4 1e5 1e6)",
    )
    parser.add_argument("--workloads", nargs="+", default=ALL_WORKLOADS, choices=ALL_WORKLOADS)
    parser.add_argument(
        "--peers",
        nargs="*",
        default=ALL_PEERS,
        choices=ALL_PEERS,
        help="peers to run beside csa_survey (default: all; none: --peers)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=30.0,
        help="a run slower than this is not repeated (slow peers at 10^6)",
    )
    parser.add_argument("--seed", type=int, default=20240801)
    parser.add_argument("--w8-rows", type=int, default=10_000_000)
    parser.add_argument(
        "--scaling-rows",
        type=int,
        default=100_000,
        help="rows for the items x domains scaling grid (0: skip it)",
    )
    parser.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="skip the extra run that measures peak memory",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/latest.json")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="print the Markdown report of an earlier run's JSON and exit",
    )
    args = parser.parse_args(argv)
    if args.render is not None:
        print(render_report(json.loads(args.render.read_text())))
        return 0
    sizes = sorted(int(s) for s in args.sizes)

    import csa_survey

    peers = python_peers(args.peers)
    result: dict[str, Any] = {
        "command": "benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "versions": {
            "csa_survey": csa_survey.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
        "repeat": args.repeat,
        "sizes": [],
    }
    for name in peers:
        result["versions"][name] = __import__(name).__version__
    started = time.perf_counter()
    for n in sizes:
        result["sizes"].append(run_size(n, args, peers))

    # scaling in rows: log-log slope of the median time over the sizes
    exps: dict[str, dict[str, float | None]] = {}
    for w in args.workloads:
        per_lib: dict[str, list[float]] = {}
        for size in result["sizes"]:
            e = size["workloads"].get(w, {})
            for name, lib in e.get("libs", {}).items():
                per_lib.setdefault(name, []).append(lib["median"])
        exps[w] = {name: slope(sizes, t) for name, t in per_lib.items() if len(t) == len(sizes)}
    result["exponent_rows"] = exps
    if "W8" in args.workloads:
        print(f"\n== W8: csam_users(n={args.w8_rows:,}) ==", flush=True)
        result["W8"] = run_w8(args.w8_rows, args.repeat, 120.0)
        w8 = result["W8"]
        print(
            f"  {w8['median']:.1f} s, peak RSS {w8['peak_rss_gib']:.2f} GiB, frame "
            f"{w8['frame_mib']:.0f} MiB; target (<60 s, <4 GiB) met: {w8['target_met']}",
            flush=True,
        )
    if args.scaling_rows:
        print(f"\n== scaling: items x domains at n = {args.scaling_rows:,} ==", flush=True)
        result["scaling"] = scaling_grid(args.scaling_rows, args.repeat)
    result["elapsed_s"] = time.perf_counter() - started
    result["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    print("\n" + render_report(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=float))
    print(f"\nwrote {args.out} ({result['elapsed_s']:.0f} s)")
    return 0


def _fmt2(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    sys.exit(main())
