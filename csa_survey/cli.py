"""Command-line entry point: ``csa-survey <command>`` (also ``python -m csa_survey``).

Commands
--------
synth
    Regenerate the committed synthetic datasets in ``data/synthetic/``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the csa-survey command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (without the program name); defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Process exit status.

    Examples
    --------
    >>> main(["--help"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(prog="csa-survey", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "synth",
        help="regenerate data/synthetic/ byte-for-byte (--out DIR, --seed N, --dataset NAME)",
        add_help=False,
    )
    args, rest = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "synth":
        from csa_survey.synth.__main__ import main as synth_main

        return int(synth_main(rest) or 0)
    parser.error(f"unknown command {args.command!r}")
    return 2
