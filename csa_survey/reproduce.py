"""Run every notebook and build the reproduction report (``csa-survey reproduce``).

Each notebook in ``notebooks/`` is executed in a fresh ``python3`` kernel (nbclient, with
the notebooks folder as working directory) and rendered to ``<out>/<notebook>.html``
(nbconvert). The executed notebooks are *not* written back: the stored ones are nbval's
reference. While they run, ``$CSA_SURVEY_REPORT_DIR`` points at the output folder, so each
notebook's ``reproduction.save(table)`` lands in ``<out>/reproduction/<notebook>.csv``;
``$CSA_SURVEY_DATA_DIR`` points them at another dataset folder when asked
(:func:`reproduce` ``data=`` or ``seed=``).

The rows are then matched to every published figure of
:data:`csa_survey.reproduction.FIGURES` and written as one self-contained HTML page,
``<out>/index.html``: published value, reproduced value, 95% CI, base n, status, and a
link to the section of the notebook that computed it. A figure no notebook reproduced is
listed as ``missing``. Nothing here computes a statistic; it only runs, collects and
renders.

Examples
--------
>>> from csa_survey.reproduce import figure_summary
>>> import pandas as pd
>>> summary = figure_summary(pd.DataFrame())  # no notebook saved a row
>>> summary["status"].unique().tolist()
['missing']
"""

from __future__ import annotations

import fnmatch
import html
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pandas as pd

from csa_survey import reproduction
from csa_survey.exceptions import InvalidValueError

__all__ = [
    "OK_STATUSES",
    "NotebookRun",
    "ReproductionRun",
    "figure_summary",
    "find_notebooks",
    "reproduce",
    "headings",
    "render_index",
    "resolve_section",
    "run_notebook",
    "section_anchor",
]

#: statuses that count as reproduced
OK_STATUSES = ("covered", "exact", "matched")
#: status of a published figure for which no notebook saved a row
MISSING = "missing"
#: characters nbconvert leaves unquoted in heading anchors
_SAFE = "?/:@!$&'()*+,;="

SUMMARY_COLUMNS = (
    "id", "item", "source", "base", "published", "published_text", "reproduced", "ci_low",
    "ci_high", "base_n", "kind", "status", "reproduced_ok", "section", "note", "notebook",
)  # fmt: skip


# ------------------------------------------------------------------------------ results
@dataclass
class NotebookRun:
    """The outcome of executing one notebook.

    Attributes
    ----------
    name : str
        File stem (``"01_platform_contact"``).
    path : Path
        The notebook that was executed (left unchanged on disk).
    html : Path or None
        The rendered HTML (written also when the notebook failed, up to the failing cell).
    seconds : float
        Wall time, kernel start included.
    n_cells : int
        Number of code cells.
    error : str or None
        ``None`` when every cell ran; otherwise a one-line description of the failure.
    rows : int
        Number of reproduction rows the notebook saved.
    headings : list of (anchor, text)
        The markdown headings of the rendered notebook, for the report's links.
    """

    name: str
    path: Path
    html: Path | None = None
    seconds: float = 0.0
    n_cells: int = 0
    error: str | None = None
    rows: int = 0
    headings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every cell ran without error."""
        return self.error is None


@dataclass
class ReproductionRun:
    """Everything ``csa-survey reproduce`` produced.

    Attributes
    ----------
    notebooks : list of NotebookRun
    figures : pandas.DataFrame
        One row per published figure and notebook row (:func:`figure_summary`).
    out : Path
        Output folder.
    index : Path
        The summary page, ``<out>/index.html``.
    data : str
        Which data the notebooks read (for the report).
    seconds : float
        Wall time of the whole run.
    environment : dict
        Package and interpreter versions shown in the report.
    """

    notebooks: list[NotebookRun]
    figures: pd.DataFrame
    out: Path
    index: Path
    data: str = "committed synthetic data (data/synthetic)"
    seconds: float = 0.0
    environment: dict[str, str] = field(default_factory=dict)
    selection: str | None = None

    @property
    def failed_notebooks(self) -> list[NotebookRun]:
        """Notebooks that raised an error."""
        return [nb for nb in self.notebooks if not nb.ok]

    @property
    def not_reproduced(self) -> pd.DataFrame:
        """Rows whose status is neither reproduced nor missing (e.g. ``not covered``)."""
        f = self.figures
        return f[~f["status"].isin((*OK_STATUSES, MISSING))]

    @property
    def missing(self) -> pd.DataFrame:
        """Published figures for which no notebook saved a row."""
        return self.figures[self.figures["status"] == MISSING]

    @property
    def ok(self) -> bool:
        """True when every notebook ran and every published figure was reproduced."""
        return not self.failed_notebooks and self.not_reproduced.empty and self.missing.empty

    @property
    def exit_code(self) -> int:
        """0 when :attr:`ok`, else 1."""
        return 0 if self.ok else 1

    def problems(self) -> list[str]:
        """One line per failed notebook, figure not reproduced and figure missing."""
        lines = [f"notebook {nb.name}: {nb.error}" for nb in self.failed_notebooks]
        for _, r in self.not_reproduced.iterrows():
            value = _format_value(r["reproduced"], _is_share(r["published_text"]))
            ci = _format_ci(r)
            lines.append(
                f"{r['id']} {r['item']}: {r['status']} (published {r['published_text']}, "
                f"reproduced {value or 'nothing'}{' ' + ci if ci else ''}; {r['notebook']})"
            )
        missing = self.missing
        for fig_id in missing["id"].drop_duplicates():
            items = missing.loc[missing["id"] == fig_id, "item"].tolist()
            lines.append(f"{fig_id} missing (no notebook saved a row): {'; '.join(items)}")
        return lines

    def figure_counts(self) -> dict[str, int]:
        """Published figures (id and item) by outcome.

        A figure is ``reproduced`` when every row saved for it is, ``missing`` when no
        notebook saved one, else ``not reproduced``.
        """
        f = self.figures
        ok = f["status"].isin(OK_STATUSES)
        by_figure = ok.groupby([f["id"], f["item"]], sort=False).all()
        n_missing = len(self.missing)
        n_ok = int(by_figure.sum())
        return {
            "figures": len(by_figure),
            "reproduced": n_ok,
            "not reproduced": len(by_figure) - n_ok - n_missing,
            "missing": n_missing,
            "rows": int((f["status"] != MISSING).sum()),
        }

    def summary_text(self) -> str:
        """The plain-text summary printed by the command line."""
        c = self.figure_counts()
        lines = [
            f"{len(self.notebooks)} notebooks run, {len(self.failed_notebooks)} failed. "
            f"{c['figures']} published figures: {c['reproduced']} reproduced, "
            f"{c['not reproduced']} not reproduced, {c['missing']} missing "
            f"({c['rows']} rows saved by the notebooks).",
        ]
        problems = self.problems()
        if problems:
            lines.append("Problems:")
            lines += [f"  - {p}" for p in problems]
        if self.selection and not self.missing.empty:
            lines.append(
                f"(only notebooks matching {self.selection!r} were run, so figures reproduced "
                "by other notebooks are listed as missing)"
            )
        lines.append(f"Report: {self.index} ({self.seconds:.1f} s)")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ running
def find_notebooks(folder: str | Path, pattern: str | None = None) -> list[Path]:
    """The notebooks of ``folder``, sorted by name, optionally filtered.

    Parameters
    ----------
    folder : path
        Folder holding ``*.ipynb`` files (checkpoints are ignored).
    pattern : str, optional
        A glob matched against the file name or its stem (``"0[0-2]*"``); without glob
        characters, a substring of the stem (``"quickstart"``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in ("02_b.ipynb", "01_a.ipynb", "notes.txt"):
    ...     _ = (d / n).write_text("{}")
    >>> [p.name for p in find_notebooks(d)]
    ['01_a.ipynb', '02_b.ipynb']
    >>> [p.name for p in find_notebooks(d, "b")]
    ['02_b.ipynb']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidValueError(f"notebooks folder {str(folder)!r} does not exist.")
    paths = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if pattern:
        if any(c in pattern for c in "*?["):
            paths = [
                p
                for p in paths
                if fnmatch.fnmatch(p.name, pattern) or fnmatch.fnmatch(p.stem, pattern)
            ]
        else:
            paths = [p for p in paths if pattern in p.stem]
    return paths


def _short_error(err: BaseException, cell_index: int | None) -> str:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    where = f"code cell {cell_index}: " if cell_index is not None else ""
    if isinstance(err, CellExecutionError):
        value = " ".join(str(getattr(err, "evalue", "") or "").split())
        text = f"{err.ename}: {value}" if value else str(err.ename)
        return f"{where}{text[:157] + '...' if len(text) > 160 else text}"
    if isinstance(err, CellTimeoutError):
        return f"{where}timed out"
    if isinstance(err, DeadKernelError):
        return f"{where}the kernel died"
    first = (str(err).strip().splitlines() or [""])[0]
    return f"{where}{type(err).__name__}: {first}".rstrip(": ")


def run_notebook(
    path: str | Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float | None = 600,
    kernel_name: str = "python3",
    on_cell: Callable[[int, int], None] | None = None,
) -> tuple[Any, str | None]:
    """Execute a notebook in memory in a fresh kernel.

    Parameters
    ----------
    path : path
        The notebook; it is read, never written.
    env : dict, optional
        Environment of the kernel process (default: this process's).
    timeout : float, optional
        Seconds allowed per cell (``None``: no limit).
    kernel_name : str
        Jupyter kernel to start.
    on_cell : callable, optional
        ``on_cell(position, n_code_cells)`` is called before each code cell runs
        (``position`` counts code cells from 1); used for the progress bar.

    Returns
    -------
    (nbformat.NotebookNode, str or None)
        The executed notebook (up to the failing cell) and ``None`` or the error.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    position = {cell_index: k + 1 for k, cell_index in enumerate(code_cells)}
    state: dict[str, int | None] = {"cell": None}

    def cell_start(cell: Any, cell_index: int, **_: Any) -> None:
        state["cell"] = cell_index
        if on_cell is not None and cell_index in position:
            on_cell(position[cell_index], len(code_cells))

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent.resolve())}},
        record_timing=False,
        on_cell_start=cell_start,
    )
    error = None
    try:
        # the kernel's own stderr (transport warnings) is noise; cell errors come via iopub
        client.execute(env=dict(os.environ if env is None else env), stderr=subprocess.DEVNULL)
    except Exception as err:  # a failing notebook is reported, not raised
        cell = state["cell"]
        error = _short_error(err, None if cell is None else position.get(cell))
    return nb, error


def _write_html(nb: Any, path: Path) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    # an offline report: no require.js/MathJax from a CDN (the notebooks need neither)
    exporter.require_js_url = exporter.mathjax_url = exporter.jquery_url = ""
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r"<script[^>]*\bsrc=\"\"[^>]*>\s*</script>", "", body)
    path.write_text(body, encoding="utf-8")
    return body


_HEADING = re.compile(r"<h([1-6])[^>]*\bid=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S | re.I)


def headings(page: str) -> list[tuple[str, str]]:
    """``(anchor, text)`` of every heading with an id in an HTML page.

    Examples
    --------
    >>> headings('<h2 id="P7-and-P8:-platforms">P7 and P8: platforms<a href="#">¶</a></h2>')
    [('P7-and-P8:-platforms', 'P7 and P8: platforms')]
    """
    out = []
    for _, anchor, inner in _HEADING.findall(page):
        inner = re.sub(r"<a\b[^>]*class=\"anchor-link\"[^>]*>.*?</a>", "", inner, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).replace("¶", "").strip()
        out.append((html.unescape(anchor), text))
    return out


@contextmanager
def _progress(total: int, quiet: bool) -> Iterator[Any]:
    from tqdm.auto import tqdm

    disable = quiet or not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
    bar = tqdm(total=total, unit="cell", file=sys.stderr, disable=disable, leave=False)
    try:
        yield bar
    finally:
        bar.close()


def _regenerate(seed: int, folder: Path) -> None:
    cmd = [sys.executable, "-m", "csa_survey.synth", "--out", str(folder), "--seed", str(seed)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InvalidValueError(
            f"regenerating the synthetic data with seed {seed} failed:\n{done.stderr.strip()}"
        )


def _environment(kernel_name: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import csa_survey

    env = {
        "csa_survey": csa_survey.__version__,
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "platform": platform.platform(terse=True),
        "kernel": kernel_name,
    }
    for pkg in ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "nbclient"):
        try:
            env[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            env[pkg] = "not installed"
    return env


def reproduce(
    notebooks: str | Path = "notebooks",
    out: str | Path = "reports",
    *,
    data: str | Path | None = None,
    seed: int | None = None,
    pattern: str | None = None,
    timeout: float | None = 600,
    quiet: bool = False,
    kernel_name: str = "python3",
    log: Callable[[str], None] | None = None,
) -> ReproductionRun:
    """Execute the notebooks, render them to HTML and write the reproduction report.

    Parameters
    ----------
    notebooks : path
        Folder of ``*.ipynb`` files, run in name order, each in a fresh kernel whose
        working directory is this folder.
    out : path
        Output folder: ``<notebook>.html``, ``reproduction/<notebook>.csv`` and
        ``index.html``. Earlier ``reproduction/*.csv`` files there are removed first so
        that only this run's rows count.
    data : path, optional
        Dataset folder with the layout of ``data/synthetic`` (passed to the notebooks as
        ``$CSA_SURVEY_DATA_DIR``, which :func:`csa_survey.load_dataset` honours). Default:
        ``$CSA_SURVEY_DATA_DIR`` if set, else the committed synthetic data.
    seed : int, optional
        Regenerate the synthetic data with this seed into a temporary folder first
        (``python -m csa_survey.synth --out TMP --seed N``) and run on it. With another
        seed than the committed ones some figures may legitimately not be covered.
    pattern : str, optional
        Only the notebooks matching it (see :func:`find_notebooks`).
    timeout : float, optional
        Seconds allowed per cell.
    quiet : bool
        No progress bar (it is off anyway when stderr is not a terminal).
    kernel_name : str
        Jupyter kernel.
    log : callable, optional
        Called with one line per notebook as it finishes.

    Returns
    -------
    ReproductionRun
        ``.exit_code`` is 0 only if every notebook ran and every published figure was
        reproduced.
    """
    if data is not None and seed is not None:
        raise InvalidValueError("give either data= or seed=, not both.")
    if data is None and seed is None and os.environ.get("CSA_SURVEY_DATA_DIR"):
        data = os.environ["CSA_SURVEY_DATA_DIR"]  # the caller's own setting is honoured
    data_path = None if data is None else Path(data).resolve()
    if data_path is not None and not data_path.is_dir():
        raise InvalidValueError(f"data folder {str(data)!r} does not exist.")
    started = time.perf_counter()
    paths = find_notebooks(notebooks, pattern)
    if not paths:
        raise InvalidValueError(
            f"no notebooks in {str(notebooks)!r}" + (f" match {pattern!r}." if pattern else ".")
        )
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows_dir = out / "reproduction"
    if rows_dir.is_dir():
        for old in rows_dir.glob("*.csv"):
            old.unlink()

    tmp: Path | None = None
    try:
        env = dict(os.environ)
        env["CSA_SURVEY_REPORT_DIR"] = str(out)
        env.pop("CSA_SURVEY_DATA_DIR", None)
        data_text = "committed synthetic data (data/synthetic)"
        if seed is not None:
            tmp = Path(tempfile.mkdtemp(prefix="csa_survey_seed_"))
            _regenerate(seed, tmp)
            env["CSA_SURVEY_DATA_DIR"] = str(tmp)
            data_text = f"synthetic data regenerated with seed {seed} (temporary folder)"
        elif data_path is not None:
            env["CSA_SURVEY_DATA_DIR"] = str(data_path)
            data_text = str(data_path)
        # the package the kernel imports must be this one, also from a source checkout
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env.pop("MPLBACKEND", None)

        total = sum(_count_code_cells(p) for p in paths)
        runs: list[NotebookRun] = []
        with _progress(total, quiet) as bar:
            for path in paths:
                before = _csv_state(rows_dir)
                runs.append(
                    _run_one(path, out, env=env, timeout=timeout, kernel=kernel_name, bar=bar)
                )
                runs[-1].rows = _new_rows(rows_dir, before)
                if log is not None:
                    log(_notebook_line(runs[-1]))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    rows = _collect_rows(rows_dir)
    run = ReproductionRun(
        notebooks=runs,
        figures=figure_summary(rows),
        out=out,
        index=out / "index.html",
        data=data_text,
        environment=_environment(kernel_name),
        selection=pattern,
    )
    run.seconds = time.perf_counter() - started
    run.index.write_text(render_index(run), encoding="utf-8")
    return run


def _notebook_line(r: NotebookRun) -> str:
    status = "ok   " if r.ok else "ERROR"
    extra = "" if r.ok else f"  {r.error}"
    return f"  {status} {r.name:<34} {r.seconds:6.1f} s {r.rows:4d} rows{extra}"


def _csv_state(folder: Path) -> dict[str, int]:
    if not folder.is_dir():
        return {}
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.csv")}


def _new_rows(folder: Path, before: dict[str, int]) -> int:
    """Rows in the CSV files a notebook wrote or rewrote."""
    count = 0
    for name, mtime in _csv_state(folder).items():
        if before.get(name) != mtime:
            try:
                count += len(pd.read_csv(folder / name))
            except (OSError, ValueError, pd.errors.ParserError):
                pass
    return count


def _count_code_cells(path: Path) -> int:
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # an unreadable notebook is reported by _run_one
        return 0
    return sum(c.cell_type == "code" for c in nb.cells)


def _run_one(
    path: Path, out: Path, *, env: dict[str, str], timeout: float | None, kernel: str, bar: Any
) -> NotebookRun:
    run = NotebookRun(name=path.stem, path=path)
    bar.set_description(path.stem)
    t0 = time.perf_counter()
    done = {"cells": 0}

    def on_cell(k: int, n: int) -> None:  # called when code cell k of n starts
        bar.update(k - 1 - done["cells"])
        done["cells"] = k - 1
        bar.set_postfix_str(f"cell {k}/{n}")

    try:
        nb, run.error = run_notebook(
            path, env=env, timeout=timeout, kernel_name=kernel, on_cell=on_cell
        )
        run.n_cells = sum(c.cell_type == "code" for c in nb.cells)
        run.html = out / f"{path.stem}.html"
        run.headings = headings(_write_html(nb, run.html))
    except Exception as err:  # unreadable notebook, missing kernel, ...
        run.error = _short_error(err, None)
    bar.update(_count_code_cells(path) - done["cells"])  # also the cells a failure skipped
    run.seconds = time.perf_counter() - t0
    return run


def _collect_rows(rows_dir: Path) -> pd.DataFrame:
    """Read the reproduction rows the notebooks saved."""
    frames = []
    for csv in sorted(rows_dir.glob("*.csv")) if rows_dir.is_dir() else []:
        text = {c: str for c in ("id", "item", "status", "section", "note", "notebook")}
        frame = pd.read_csv(csv, dtype={"base_n": "Int64", **text})
        for c in ("section", "note"):
            frame[c] = frame[c].fillna("") if c in frame else ""
        if "notebook" not in frame:
            frame["notebook"] = csv.stem
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(reproduction.COLUMNS))
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------ summary
def figure_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Every published figure with the rows the notebooks saved for it.

    Parameters
    ----------
    rows : pandas.DataFrame
        Concatenated reproduction tables (:func:`csa_survey.reproduction.table`).

    Returns
    -------
    pandas.DataFrame
        In the order of :data:`~csa_survey.reproduction.FIGURES`, one row per notebook row
        of a figure (a figure reproduced by two notebooks appears twice) and one row with
        status ``"missing"`` for a figure without any. Columns as the notebooks' tables.

    Examples
    --------
    >>> from csa_survey import reproduction
    >>> t = reproduction.table([reproduction.row("R5", "group-based offending", 0.05)],
    ...                        notebook="04_police")
    >>> s = figure_summary(t)
    >>> s.loc[s["id"] == "R5", ["status", "notebook"]].values.tolist()
    [['exact', '04_police']]
    >>> int((s["status"] == "missing").sum()) == len(reproduction.FIGURES) - 1
    True
    """
    out = []
    for fig in reproduction.FIGURES:
        if len(rows) and {"id", "item"} <= set(rows.columns):
            mine = rows[(rows["id"] == fig.id) & (rows["item"] == fig.item)]
        else:
            mine = rows.iloc[0:0]
        if mine.empty:
            out.append(
                {
                    "id": fig.id,
                    "item": fig.item,
                    "source": fig.source,
                    "base": fig.base,
                    "published": fig.published,
                    "published_text": fig.text,
                    "kind": fig.kind,
                    "status": MISSING,
                    "reproduced_ok": False,
                    "section": "",
                    "note": "",
                    "notebook": "",
                }
            )
        else:
            for _, r in mine.iterrows():
                d = {c: r.get(c) for c in SUMMARY_COLUMNS}
                d["reproduced_ok"] = str(r.get("status")) in OK_STATUSES
                out.append(d)
    frame = pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))
    frame["base_n"] = pd.array(frame["base_n"], dtype="Int64")
    for c in ("published", "reproduced", "ci_low", "ci_high"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    for c in ("section", "note", "notebook"):
        frame[c] = frame[c].fillna("").astype(str)
    return frame


def section_anchor(section: str) -> str:
    """The HTML anchor nbconvert gives a markdown heading.

    Give the heading text (``"3. Platforms used"``), or an anchor as it appears in the
    notebook's HTML prefixed with ``#`` (kept as it is).

    Examples
    --------
    >>> section_anchor("3. Platforms used")
    '3.-Platforms-used'
    >>> section_anchor("Why 45% of 75 needs care")
    'Why-45%25-of-75-needs-care'
    >>> section_anchor("#3.-Platforms-used")
    '3.-Platforms-used'
    """
    text = section.strip()
    if text.startswith("#"):
        return text.lstrip("#").strip().replace(" ", "-")
    # nbconvert.filters.strings._convert_header_id (private, so restated here)
    return quote(text.replace(" ", "-"), safe=_SAFE)


def _squash(text: str) -> str:
    text = unicodedata.normalize("NFKD", unquote(text)).lower()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def resolve_section(section: str, headings: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The heading of a notebook that a row's ``section`` refers to.

    ``section`` may be the heading text (``"P7 and P8: platforms"``), nbconvert's anchor
    (``"#P7-and-P8:-platforms"``) or a slug as JupyterLab or GitHub make them
    (``"p7-and-p8-platforms"``); letters and digits are compared, ignoring case, spaces
    and punctuation, and a unique prefix is accepted.

    Returns
    -------
    (anchor, text) or None
        ``None`` when no heading matches (the report then links to the top of the notebook).

    Examples
    --------
    >>> hs = [("Data", "Data"), ("P7-and-P8:-platforms,-in-the-deck's-layout",
    ...        "P7 and P8: platforms, in the deck's layout")]
    >>> resolve_section("p7-and-p8-platforms-in-the-decks-layout", hs)[0]
    "P7-and-P8:-platforms,-in-the-deck's-layout"
    >>> resolve_section("nothing like it", hs) is None
    True
    """
    if not section or not section.strip():
        return None
    for candidate in (section.strip().lstrip("#").strip(), section_anchor(section)):
        for anchor, text in headings:
            if candidate == anchor:
                return anchor, text
    key = _squash(section)
    if not key:
        return None
    for anchor, text in headings:
        if key in (_squash(anchor), _squash(text)):
            return anchor, text
    prefixed = [(a, t) for a, t in headings if len(key) >= 4 and _squash(t).startswith(key)]
    return prefixed[0] if len(prefixed) == 1 else None


# ------------------------------------------------------------------------------ HTML
def _is_share(published_text: Any) -> bool:
    return isinstance(published_text, str) and published_text.rstrip().endswith("%")


def _format_value(v: Any, share: bool) -> str:
    if v is None or pd.isna(v):
        return ""
    v = float(v)
    if share:
        return f"{100 * v:.1f}%"
    if v == round(v):
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.3g}"


def _format_ci(r: pd.Series) -> str:
    lo, hi = r.get("ci_low"), r.get("ci_high")
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return ""
    share = _is_share(r.get("published_text"))
    return f"[{_format_value(lo, share)}, {_format_value(hi, share)}]"


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1f2933;background:#fff;margin:0;padding:28px 36px;font-size:14px;line-height:1.45}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
p.lead{color:#52606d;margin:0 0 18px}
.cards{display:flex;gap:14px;flex-wrap:wrap;margin:14px 0 6px}
.card{border:1px solid #d9e2ec;border-radius:8px;padding:10px 16px;min-width:150px}
.card .n{font-size:24px;font-weight:600}.card .l{color:#52606d;font-size:12px}
.card.good .n{color:#1e7a34}.card.bad .n{color:#b42318}.card.warn .n{color:#9a6700}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}
th,td{border-bottom:1px solid #e4e7eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f5f7fa;font-weight:600;font-size:12.5px;color:#3e4c59;
 border-bottom:2px solid #cbd2d9}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.src{background:#fafbfc;color:#3e4c59;font-size:12.5px;width:17%}
td.fig{font-weight:600;white-space:nowrap}
.base{display:block;color:#7b8794;font-size:12px}
.note{display:block;color:#7b8794;font-size:12px;font-style:italic}
.st{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
 white-space:nowrap}
.st.ok{background:#e3f5e7;color:#1e7a34}.st.fail{background:#fde8e7;color:#b42318}
.st.missing{background:#fff4d6;color:#9a6700}
tr.bad td{background:#fff8f7}tr.missing td{background:#fffcf2}
ul.problems{background:#fff8f7;border:1px solid #f5c2bf;border-radius:8px;
 padding:10px 10px 10px 30px}
a{color:#1d5fa7;text-decoration:none}
dl.env{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0}
dl.env dt{color:#52606d}dl.env dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace}
.legend{color:#52606d;font-size:12.5px}
"""


def _esc(x: Any) -> str:
    return html.escape("" if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x))


def _status_badge(status: str) -> str:
    cls = "ok" if status in OK_STATUSES else MISSING if status == MISSING else "fail"
    return f'<span class="st {cls}">{_esc(status)}</span>'


def _figure_rows(run: ReproductionRun) -> str:
    f = run.figures
    pages = {nb.name: nb for nb in run.notebooks if nb.html is not None}
    src_span = f["source"].groupby(f["source"], sort=False).size()
    seen: set[str] = set()
    out = []
    for _, r in f.iterrows():
        share = _is_share(r["published_text"])
        status = str(r["status"])
        cls = "" if status in OK_STATUSES else MISSING if status == MISSING else "bad"
        cells = []
        if r["source"] not in seen:
            seen.add(r["source"])
            cells.append(
                f'<td class="src" rowspan="{src_span[r["source"]]}">{_esc(r["source"])}</td>'
            )
        note = f'<span class="note">{_esc(r["note"])}</span>' if r["note"] else ""
        notebook = str(r["notebook"])
        if notebook and notebook in pages:
            target = resolve_section(str(r["section"]), pages[notebook].headings)
            anchor = f"#{target[0]}" if target else ""  # verbatim, as nbconvert's own links
            label = notebook + (f" § {target[1]}" if target else "")
            link = f'<a href="{_esc(quote(notebook) + ".html" + anchor)}">{_esc(label)}</a>'
        else:
            link = _esc(notebook)
        base_n = "" if pd.isna(r["base_n"]) else f"{int(r['base_n']):,}"
        cells += [
            f'<td class="fig">{_esc(r["id"])}</td>',
            f'<td>{_esc(r["item"])}<span class="base">of {_esc(r["base"])}</span>{note}</td>',
            f'<td class="num">{_esc(r["published_text"])}</td>',
            f'<td class="num">{_esc(_format_value(r["reproduced"], share))}</td>',
            f'<td class="num">{_esc(_format_ci(r))}</td>',
            f'<td class="num">{base_n}</td>',
            f"<td>{_status_badge(status)}</td>",
            f"<td>{link}</td>",
        ]
        out.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    return "\n".join(out)


def _notebook_rows(run: ReproductionRun) -> str:
    out = []
    for nb in run.notebooks:
        name = (
            f'<a href="{_esc(quote(nb.name) + ".html")}">{_esc(nb.name)}</a>'
            if nb.html is not None
            else _esc(nb.name)
        )
        status = (
            '<span class="st ok">ran</span>'
            if nb.ok
            else f'<span class="st fail">error</span> {_esc(nb.error)}'
        )
        out.append(
            f'<tr class="{"" if nb.ok else "bad"}"><td>{name}</td><td>{status}</td>'
            f'<td class="num">{nb.n_cells}</td><td class="num">{nb.rows}</td>'
            f'<td class="num">{nb.seconds:.1f} s</td></tr>'
        )
    return "\n".join(out)


def render_index(run: ReproductionRun) -> str:
    """The self-contained HTML summary page (inline CSS, no scripts, no external URLs).

    Parameters
    ----------
    run : ReproductionRun

    Returns
    -------
    str
        A complete HTML document.
    """
    c = run.figure_counts()
    n_bad, n_missing = c["not reproduced"], c["missing"]
    n_failed = len(run.failed_notebooks)
    verdict = (
        "Every published figure was reproduced and every notebook ran."
        if run.ok
        else "Not everything was reproduced: see the problems below."
    )
    cards = [
        (
            "good" if c["reproduced"] else "bad",
            c["reproduced"],
            f"published figures reproduced (of {c['figures']})",
        ),
        ("bad" if n_bad else "good", n_bad, "figures not reproduced"),
        ("warn" if n_missing else "good", n_missing, "figures missing"),
        ("bad" if n_failed else "good", n_failed, f"notebooks failed (of {len(run.notebooks)})"),
    ]
    cards_html = "".join(
        f'<div class="card {c}"><div class="n">{n}</div><div class="l">{_esc(label)}</div></div>'
        for c, n, label in cards
    )
    problems = run.problems()
    problems_html = (
        '<h2>Problems</h2><ul class="problems">'
        + "".join(f"<li>{_esc(p)}</li>" for p in problems)
        + "</ul>"
        if problems
        else ""
    )
    env_rows = {"data": run.data, **run.environment}
    if run.selection:
        env_rows["notebooks run"] = f"matching {run.selection!r}"
    env_rows["run time"] = f"{run.seconds:.1f} s"
    env_html = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in env_rows.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>csa_survey reproduction report</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Reproduction report</h1>
<p class="lead">Each published figure beside the value the notebooks reproduced from the data,
with its 95% confidence interval and base. {_esc(verdict)}</p>
<div class="cards">{cards_html}</div>
{problems_html}
<h2>Published figures</h2>
<table>
<thead><tr><th>Source</th><th>Figure</th><th>Item (base)</th><th class="num">Published</th>
<th class="num">Reproduced</th><th class="num">95% CI</th><th class="num">Base n</th>
<th>Status</th><th>Notebook</th></tr></thead>
<tbody>
{_figure_rows(run)}
</tbody>
</table>
<p class="legend"><b>covered</b>: the 95% CI of the estimate contains the published value;
<b>exact</b>: a count or a share of a complete count equals the published value at the precision
it was published with; <b>matched</b>: agreement within the stated tolerance (figures published
as "nearly four times" or a range); <b>missing</b>: no notebook saved a row for the figure.</p>
<h2>Notebooks</h2>
<table>
<thead><tr><th>Notebook</th><th>Status</th><th class="num">Code cells</th>
<th class="num">Rows saved</th><th class="num">Time</th></tr></thead>
<tbody>
{_notebook_rows(run)}
</tbody>
</table>
<h2>Environment</h2>
<dl class="env">{env_html}</dl>
</body>
</html>
"""
