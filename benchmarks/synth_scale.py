"""Time and peak memory of the csam_users generator at scale.

Run: ``.venv/bin/python benchmarks/synth_scale.py [--n 10000000] [--seed 1]``.
Prints wall time, peak resident memory of the process (``ru_maxrss``) and the size of
the resulting DataFrame. The target is 10^7 rows in under 60 s and 4 GiB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from csa_survey.synth import csam_users


def main(argv: list[str] | None = None) -> int:
    """Generate ``--n`` rows and print time and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    df = csam_users(n=args.n, seed=args.seed)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    frame_mib = df.memory_usage(deep=True).sum() / 2**20
    print(f"csam_users n={args.n:,}: {elapsed:.1f} s")
    print(f"peak RSS {peak_kib / 2**20:.2f} GiB (before generating: {base / 2**20:.2f} GiB)")
    print(f"DataFrame {frame_mib:,.0f} MiB, {df.shape[1]} columns")
    ok = elapsed < 60 and peak_kib / 2**20 < 4
    print("within target (60 s, 4 GiB):", ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
