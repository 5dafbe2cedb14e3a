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
    p_synth = sub.add_parser("synth", help="regenerate data/synthetic/ byte-for-byte")
    p_synth.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "synth":
        from csa_survey.synth.__main__ import main as synth_main

        return int(synth_main(args.rest) or 0)
    parser.error(f"unknown command {args.command!r}")
    return 2
