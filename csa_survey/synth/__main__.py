"""Regenerate the committed synthetic datasets: ``python -m csa_survey.synth``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from csa_survey.synth._files import DATASETS, DEFAULT_DATA_DIR, write_dataset, write_datasets


def main(argv: Sequence[str] | None = None) -> int:
    """Write the synthetic datasets (data, codebook, truth table, datasheet).

    Parameters
    ----------
    argv : sequence of str, optional
        ``--out DIR`` (default ``data/synthetic`` of the checkout), ``--seed N``
        (override every committed seed), ``--dataset NAME`` (repeatable; default all).

    Returns
    -------
    int
        Exit status (0 on success).

    Examples
    --------
    >>> main(["--out", "/tmp/csa_synth_example", "--dataset", "scale_indicators"])
    0
    """
    parser = argparse.ArgumentParser(
        prog="python -m csa_survey.synth",
        description="Regenerate the committed synthetic datasets byte for byte.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_DATA_DIR, help="output folder")
    parser.add_argument("--seed", type=int, default=None, help="override the committed seeds")
    parser.add_argument(
        "--dataset", action="append", choices=sorted(DATASETS), help="only this dataset"
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.dataset:
        args.out.mkdir(parents=True, exist_ok=True)
        for name in args.dataset:
            write_dataset(name, args.out, seed=args.seed)
    else:
        write_datasets(args.out, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
