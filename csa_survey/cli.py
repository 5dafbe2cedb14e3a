"""Command-line entry point: ``csa-survey <command>`` (also ``python -m csa_survey``).

Commands
--------
synth
    Regenerate the committed synthetic datasets in ``data/synthetic/``.
reproduce
    Run every notebook, render it to HTML and write the reproduction report
    ``reports/index.html``; the exit status is non-zero if a notebook fails or a published
    figure is not reproduced.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from csa_survey.exceptions import SurveyError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``csa-survey``.

    Examples
    --------
    >>> args = build_parser().parse_args(["reproduce", "--seed", "3", "--quiet"])
    >>> args.command, args.seed, args.quiet, str(args.out)
    ('reproduce', 3, True, 'reports')
    """
    parser = argparse.ArgumentParser(prog="csa-survey", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "synth",
        help="regenerate data/synthetic/ byte-for-byte (--out DIR, --seed N, --dataset NAME)",
        add_help=False,
    )
    rep = sub.add_parser(
        "reproduce",
        help="run the notebooks and write the reproduction report (reports/index.html)",
        description=(
            "Execute every notebook of the notebooks folder in a fresh kernel, render each to "
            "OUT/<notebook>.html and write OUT/index.html with every published figure beside "
            "its reproduced value. Exit status 1 if a notebook fails or a figure is not "
            "reproduced or missing."
        ),
    )
    rep.add_argument(
        "--out", type=Path, default=Path("reports"), help="output folder (default: reports/)"
    )
    source = rep.add_mutually_exclusive_group()
    source.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="dataset folder with the layout of data/synthetic (sets $CSA_SURVEY_DATA_DIR)",
    )
    source.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="regenerate the synthetic data with this seed into a temporary folder and use it",
    )
    rep.add_argument(
        "--notebooks",
        default=None,
        metavar="PATTERN",
        help="only notebooks whose name matches this glob (or contains this text)",
    )
    rep.add_argument(
        "--notebooks-dir",
        type=Path,
        default=Path("notebooks"),
        metavar="DIR",
        help="folder holding the notebooks (default: notebooks/)",
    )
    rep.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="time allowed per cell (default 600; 0 = no limit)",
    )
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _reproduce(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from csa_survey.reproduce import reproduce

    def log(line: str) -> None:
        tqdm.write(line, file=sys.stdout)

    try:
        run = reproduce(
            args.notebooks_dir,
            args.out,
            data=args.data,
            seed=args.seed,
            pattern=args.notebooks,
            timeout=args.timeout if args.timeout and args.timeout > 0 else None,
            quiet=args.quiet,
            log=log,
        )
    except SurveyError as err:
        print(f"csa-survey reproduce: error: {err}", file=sys.stderr)
        return 2
    print(run.summary_text())
    return run.exit_code


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
    parser = build_parser()
    args, rest = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "synth":
        from csa_survey.synth.__main__ import main as synth_main

        return int(synth_main(rest) or 0)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "reproduce":
        return _reproduce(args)
    parser.error(f"unknown command {args.command!r}")
    return 2
