"""Read (and write) survey exports as ``(DataFrame, Codebook)``.

Every reader returns the data and a :class:`~csa_survey.codebook.Codebook`:

- :func:`read_csv` - CSV; the codebook is a given one, the ``codebook.yaml`` (or
  ``<stem>.codebook.yaml``) beside the file, or inferred;
- :func:`read_parquet` - Parquet; a codebook written by :func:`write_parquet` travels
  in the file's metadata;
- :func:`read_spss` - SPSS ``.sav``: variable labels become question texts, value
  labels the response labels, user-missing values the missing codes, and SPSS
  multiple-response sets (``mr_sets``) multi-select sets;
- :func:`read_stata` - Stata ``.dta``: variable and value labels (Stata has no
  multiple-response sets; declare them with ``multi_select=``);
- :func:`read_qualtrics` - a Qualtrics-style CSV whose multi-select answers sit in one
  cell (``"1,3,5"``), exploded into 0/1 items (a blank cell = the set was not answered).

The writers (:func:`write_spss`, :func:`write_stata`, :func:`write_parquet`) carry a
codebook into those formats, so a synthetic dataset can be handed to SPSS or Stata
users and read back unchanged.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat

from csa_survey.codebook import Codebook, MultiSelectSet, Variable
from csa_survey.exceptions import CodebookError, ColumnError, InvalidValueError, describe_rows

__all__ = [
    "read_csv",
    "read_parquet",
    "read_qualtrics",
    "read_spss",
    "read_stata",
    "write_parquet",
    "write_spss",
    "write_stata",
]

PathLike = str | Path
_PARQUET_KEY = b"csa_survey.codebook"


# --------------------------------------------------------------------------- helpers
def _resolve_codebook(codebook: Codebook | PathLike | None) -> Codebook | None:
    if codebook is None or isinstance(codebook, Codebook):
        return codebook
    return Codebook.from_yaml(Path(codebook))


def _sidecar(path: Path) -> Codebook | None:
    stem = path.name.split(".")[0]
    for cand in (path.with_name(f"{stem}.codebook.yaml"), path.with_name("codebook.yaml")):
        if cand.exists():
            return Codebook.from_yaml(cand)
    return None


def _apply_dtypes(df: pd.DataFrame, codebook: Codebook, source: str) -> pd.DataFrame:
    """Cast columns to the codebook's declared dtypes (a new frame)."""
    out = df.copy()
    for col, dtype in codebook.dtypes().items():
        if col not in out.columns:
            continue
        try:
            out[col] = out[col].astype(dtype)
        except (TypeError, ValueError) as err:
            s = out[col]
            if dtype.lower().startswith(("int", "uint")):
                num = pd.to_numeric(s, errors="coerce")
                bad = (s.notna() & (num.isna() | (num != np.round(num)))).to_numpy()
            else:
                bad = np.zeros(len(s), dtype=bool)
            rows = list(out.index[bad])
            value = s[bad].iloc[0] if rows else None
            raise InvalidValueError(
                f"{source}: column {col!r} cannot be read as {dtype} (codebook "
                f"{codebook.dataset!r}): value {value!r} in {describe_rows(rows)}"
            ) from err
    return out


def _check_path(path: PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise InvalidValueError(f"file {str(p)!r} does not exist")
    return p


# --------------------------------------------------------------------------- CSV
def read_csv(
    path: PathLike, codebook: Codebook | PathLike | None = None, **kwargs: Any
) -> tuple[pd.DataFrame, Codebook]:
    """Read a CSV (or ``.csv.gz``) file and its codebook.

    Parameters
    ----------
    path : path
        The CSV file.
    codebook : Codebook or path, optional
        The codebook. If omitted, ``<stem>.codebook.yaml`` or ``codebook.yaml`` beside
        the file is used, else a minimal one is inferred (:meth:`Codebook.infer`).
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    (pandas.DataFrame, Codebook)
        Columns are cast to the codebook's dtypes (nullable integers for codes).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
    >>> _ = open(p, "w").write("a,b\\n1,x\\n2,y\\n")
    >>> df, cb = read_csv(p)
    >>> cb["a"].type, df.shape
    ('numeric', (2, 2))
    """
    p = _check_path(path)
    cb = _resolve_codebook(codebook) or _sidecar(p)
    df = pd.read_csv(p, **kwargs)
    if cb is None:
        return df, Codebook.infer(df, dataset=p.name.split(".")[0])
    return _apply_dtypes(df, cb, str(p)), cb


# --------------------------------------------------------------------------- Parquet
def write_parquet(df: pd.DataFrame, path: PathLike, codebook: Codebook | None = None) -> Path:
    """Write Parquet, storing the codebook (YAML) in the file's metadata.

    Examples
    --------
    >>> import tempfile, os
    >>> from csa_survey.synth import csam_users, csam_users_codebook
    >>> p = os.path.join(tempfile.mkdtemp(), "x.parquet")
    >>> _ = write_parquet(csam_users(n=50, seed=1), p, csam_users_codebook())
    >>> read_parquet(p)[1].dataset
    'csam_users'
    """
    table = pa.Table.from_pandas(df, preserve_index=False)
    if codebook is not None:
        meta = dict(table.schema.metadata or {})
        meta[_PARQUET_KEY] = codebook.to_yaml().encode("utf-8")
        table = table.replace_schema_metadata(meta)
    pq.write_table(table, Path(path))
    return Path(path)


def read_parquet(
    path: PathLike, codebook: Codebook | PathLike | None = None
) -> tuple[pd.DataFrame, Codebook]:
    """Read Parquet and its codebook (given, embedded by :func:`write_parquet`, beside
    the file, or inferred).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.parquet")
    >>> _ = write_parquet(pd.DataFrame({"a": [1, 2]}), p)
    >>> read_parquet(p)[1].names
    ['a']
    """
    p = _check_path(path)
    table = pq.read_table(p)
    df = table.to_pandas()
    cb = _resolve_codebook(codebook)
    if cb is None:
        meta = table.schema.metadata or {}
        if _PARQUET_KEY in meta:
            cb = Codebook.from_yaml(meta[_PARQUET_KEY].decode("utf-8"))
        else:
            cb = _sidecar(p)
    if cb is None:
        return df, Codebook.infer(df, dataset=p.name.split(".")[0])
    return _apply_dtypes(df, cb, str(p)), cb


# --------------------------------------------------------------------------- SPSS / Stata
def _code(value: Any) -> Any:
    """Value-label keys as ints where they are whole numbers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _integral_to_nullable(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s):
        vals = s.dropna()
        if len(vals) and np.all(np.isfinite(vals)) and np.all(vals == np.round(vals)):
            return s.astype("Int64")
    return s


def _codebook_from_meta(
    df: pd.DataFrame,
    meta: Any,
    *,
    dataset: str,
    missing_codes: Mapping[str, list[Any]],
    sets: Mapping[str, tuple[str, Sequence[str]]],
) -> Codebook:
    """Build a codebook from pyreadstat metadata."""
    labels_all = meta.variable_value_labels or {}
    questions = meta.column_names_to_labels or {}
    in_set = {item: name for name, (_, items) in sets.items() for item in items}
    variables = []
    for col in df.columns:
        value_labels = {_code(k): v for k, v in labels_all.get(col, {}).items()}
        miss_codes = [_code(c) for c in missing_codes.get(col, [])]
        missing = {c: value_labels.get(c, "Missing") for c in miss_codes}
        labels = {k: v for k, v in value_labels.items() if k not in missing}
        question = questions.get(col) or ""
        if col in in_set:
            variables.append(
                Variable(col, "multi_item", question, set=in_set[col], label=question or col)
            )
        elif labels:
            variables.append(Variable(col, "single", question, labels=labels, missing=missing))
        elif pd.api.types.is_numeric_dtype(df[col]):
            variables.append(Variable(col, "numeric", question, missing=missing))
        else:
            variables.append(Variable(col, "text", question))
    multi = [
        MultiSelectSet(name, label or name, tuple(items)) for name, (label, items) in sets.items()
    ]
    return Codebook(variables, multi, dataset=dataset, title=getattr(meta, "file_label", "") or "")


def _explode_category_set(
    df: pd.DataFrame, name: str, columns: Sequence[str], labels: Mapping[Any, str]
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """SPSS category MR set: columns hold codes -> one 0/1 item per code."""
    block = df[list(columns)]
    codes = sorted({_code(v) for v in pd.unique(block.to_numpy().ravel()) if pd.notna(v)})
    answered = block.notna().any(axis=1)
    items, item_labels, new = [], {}, {}
    for code in codes:
        item = f"{name}_{code}"
        hit = (block == code).any(axis=1).astype("Int8")
        new[item] = hit.mask(~answered)
        items.append(item)
        item_labels[item] = labels.get(code, str(code))
    out = df.drop(columns=list(columns))
    out = pd.concat([out, pd.DataFrame(new, index=df.index)], axis=1)
    return out, items, item_labels


def read_spss(
    path: PathLike, codebook: Codebook | PathLike | None = None
) -> tuple[pd.DataFrame, Codebook]:
    """Read an SPSS ``.sav`` file with its labels, missing codes and MR sets.

    User-missing values are kept as their codes and listed as the codebook's missing
    codes. Multiple-dichotomy sets become multi-select sets (items recoded to 0/1 if
    the counted value is not 1); multiple-category sets are exploded into one 0/1 item
    per code, named ``<set>_<code>``.

    Parameters
    ----------
    path : path
        The ``.sav``/``.zsav`` file.
    codebook : Codebook or path, optional
        Use this codebook instead of the file's metadata (dtypes are applied).

    Returns
    -------
    (pandas.DataFrame, Codebook)

    Examples
    --------
    >>> import tempfile, os
    >>> from csa_survey.synth import csam_users, csam_users_codebook
    >>> p = os.path.join(tempfile.mkdtemp(), "x.sav")
    >>> _ = write_spss(csam_users(n=100, seed=1), p, csam_users_codebook())
    >>> df, cb = read_spss(p)
    >>> cb.item_labels("msg_app")["app_wickr"]
    'Wickr Me'
    """
    p = _check_path(path)
    df, meta = pyreadstat.read_sav(str(p), user_missing=True)
    given = _resolve_codebook(codebook)
    if given is not None:
        return _apply_dtypes(df, given, str(p)), given
    missing: dict[str, list[Any]] = {}
    for col, ranges in (meta.missing_ranges or {}).items():
        codes = []
        for r in ranges:
            if r["lo"] != r["hi"]:
                lo, hi = r["lo"], r["hi"]
                vals = df[col][(df[col] >= lo) & (df[col] <= hi)]
                codes += sorted(pd.unique(vals).tolist())
            else:
                codes.append(r["lo"])
        missing[col] = codes
    sets: dict[str, tuple[str, list[str]]] = {}
    for name, mr in (meta.mr_sets or {}).items():
        items = list(mr["variable_list"])
        if mr.get("is_dichotomy", mr.get("type") == "D"):
            counted = _code(mr.get("counted_value", 1))
            for item in items:
                s = df[item]
                if counted != 1:
                    df[item] = (s == counted).astype(float).where(s.notna())
                meta.variable_value_labels.pop(item, None)
            sets[name] = (mr.get("label") or name, items)
        else:
            value_labels = meta.variable_value_labels.get(items[0], {})
            df, new_items, item_labels = _explode_category_set(
                df, name, items, {_code(k): v for k, v in value_labels.items()}
            )
            for item in items:
                meta.column_names_to_labels.pop(item, None)
            meta.column_names_to_labels.update(item_labels)
            sets[name] = (mr.get("label") or name, new_items)
    df = df.apply(_integral_to_nullable)
    cb = _codebook_from_meta(df, meta, dataset=p.stem, missing_codes=missing, sets=sets)
    return df, cb


def read_stata(
    path: PathLike,
    codebook: Codebook | PathLike | None = None,
    *,
    multi_select: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, Codebook]:
    """Read a Stata ``.dta`` file with its variable and value labels.

    Parameters
    ----------
    path : path
        The ``.dta`` file.
    codebook : Codebook or path, optional
        Use this codebook instead of the file's metadata.
    multi_select : mapping, optional
        ``{set_name: [item columns]}``: Stata has no multiple-response sets, so declare
        them here (items must be 0/1/missing).

    Returns
    -------
    (pandas.DataFrame, Codebook)

    Examples
    --------
    >>> import tempfile, os
    >>> from csa_survey.synth import youth_survey, youth_survey_codebook
    >>> p = os.path.join(tempfile.mkdtemp(), "x.dta")
    >>> _ = write_stata(youth_survey(n=200, seed=1), p, youth_survey_codebook())
    >>> read_stata(p)[1]["sex"].labels
    {1: 'Male', 2: 'Female'}
    """
    p = _check_path(path)
    df, meta = pyreadstat.read_dta(str(p))
    given = _resolve_codebook(codebook)
    if given is not None:
        return _apply_dtypes(df, given, str(p)), given
    sets: dict[str, tuple[str, list[str]]] = {}
    for name, items in (multi_select or {}).items():
        absent = [i for i in items if i not in df.columns]
        if absent:
            raise ColumnError(
                f"multi-select set {name!r}: column(s) {', '.join(absent)} not in {p.name}"
            )
        sets[name] = (name, list(items))
        for item in items:
            (meta.variable_value_labels or {}).pop(item, None)
    df = df.apply(_integral_to_nullable)
    cb = _codebook_from_meta(df, meta, dataset=p.stem, missing_codes={}, sets=sets)
    return df, cb


def _labelled_export(df: pd.DataFrame, codebook: Codebook) -> tuple[pd.DataFrame, dict, dict]:
    """Numeric float columns (NA-safe) plus variable and value labels for pyreadstat."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            out[col] = s.astype("float64")
        else:
            out[col] = s.astype(object).where(s.notna(), "")
    questions = {}
    value_labels: dict[str, dict[float, str]] = {}
    for col in df.columns:
        if col not in codebook:
            continue
        v = codebook[col]
        questions[col] = (v.label if v.type == "multi_item" and v.label else v.question) or None
        labels = {**v.labels, **v.missing} if v.type != "multi_item" else {}
        if labels and all(isinstance(k, (int, float)) for k in labels):
            value_labels[col] = {float(k): lab for k, lab in labels.items()}
    return out, questions, value_labels


def _sav_records(data: bytes) -> tuple[int, dict[str, str]]:
    """Offset of the dictionary-termination record and the short -> long name map."""
    pos = 176
    short_to_long: dict[str, str] = {}
    while True:
        (rec,) = struct.unpack_from("<i", data, pos)
        if rec == 2:
            _, _, has_label, n_missing = struct.unpack_from("<iiii", data, pos)
            nxt = pos + 32
            if has_label:
                (length,) = struct.unpack_from("<i", data, nxt)
                nxt += 4 + (length + 3) // 4 * 4
            pos = nxt + abs(n_missing) * 8
        elif rec == 3:
            (count,) = struct.unpack_from("<i", data, pos + 4)
            nxt = pos + 8
            for _ in range(count):
                nxt += 8 + (data[nxt + 8] + 1 + 7) // 8 * 8
            pos = nxt
        elif rec == 4:
            (count,) = struct.unpack_from("<i", data, pos + 4)
            pos += 8 + 4 * count
        elif rec == 6:
            (count,) = struct.unpack_from("<i", data, pos + 4)
            pos += 8 + 80 * count
        elif rec == 7:
            sub, size, count = struct.unpack_from("<iii", data, pos + 4)
            body = data[pos + 16 : pos + 16 + size * count]
            if sub == 13:
                for pair in body.decode("utf-8").split("\t"):
                    short, _, long = pair.partition("=")
                    short_to_long[short] = long
            pos += 16 + size * count
        elif rec == 999:
            return pos, short_to_long
        else:  # pragma: no cover - pyreadstat writes only the records above
            raise CodebookError(f"unexpected SPSS record type {rec} at byte {pos}")


def _add_mr_sets(path: Path, codebook: Codebook, columns: Sequence[str]) -> None:
    """Insert an SPSS multiple-response-set record (type 7, subtype 7) into a .sav file."""
    sets = [s for s in codebook.sets.values() if all(i in columns for i in s.items)]
    if not sets:
        return
    data = path.read_bytes()
    pos, short_to_long = _sav_records(data)
    long_to_short = {v: k for k, v in short_to_long.items()}
    lines = []
    for s in sets:
        label = s.label.encode("utf-8")
        names = " ".join(long_to_short.get(i, i) for i in s.items)
        if not re.fullmatch(r"[A-Za-z@#$][\w.@#$]*", s.name):
            raise CodebookError(f"multi-select set name {s.name!r} is not a valid SPSS name")
        lines.append(
            f"${s.name}=D1 1 {len(label)} ".encode() + label + b" " + names.encode() + b"\n"
        )
    text = b"".join(lines)
    record = struct.pack("<iiii", 7, 7, 1, len(text)) + text
    path.write_bytes(data[:pos] + record + data[pos:])


def write_spss(df: pd.DataFrame, path: PathLike, codebook: Codebook) -> Path:
    """Write an SPSS ``.sav`` file carrying the codebook.

    Question texts become variable labels, response labels and missing codes become
    value labels and user-missing values (at most three per variable, SPSS's limit),
    and multi-select sets become SPSS multiple-dichotomy sets (counted value 1).

    Examples
    --------
    >>> import tempfile, os
    >>> from csa_survey.synth import csam_users, csam_users_codebook
    >>> p = write_spss(csam_users(n=20, seed=1), os.path.join(tempfile.mkdtemp(), "x.sav"),
    ...                csam_users_codebook())
    >>> p.suffix
    '.sav'
    """
    p = Path(path)
    out, questions, value_labels = _labelled_export(df, codebook)
    missing = {}
    for col in df.columns:
        if col in codebook and codebook[col].missing:
            codes = [float(c) for c in codebook[col].missing]
            if len(codes) > 3:
                raise CodebookError(
                    f"{col!r}: SPSS allows at most 3 discrete missing codes; got {codes}"
                )
            missing[col] = codes
    measure = {}
    for col in df.columns:
        if col in codebook:
            kind = codebook[col].type
            measure[col] = "nominal" if kind in ("single", "multi_item", "id") else "scale"
    pyreadstat.write_sav(
        out,
        str(p),
        file_label=codebook.title[:64],
        column_labels=questions,
        variable_value_labels=value_labels,
        missing_ranges=missing or None,
        variable_measure=measure,
    )
    _add_mr_sets(p, codebook, list(df.columns))
    return p


def write_stata(df: pd.DataFrame, path: PathLike, codebook: Codebook) -> Path:
    """Write a Stata ``.dta`` file with variable and value labels.

    Stata has no multiple-response sets or user-missing codes: missing codes are kept
    as labelled values, and sets must be declared again with
    ``read_stata(multi_select=...)``.

    Examples
    --------
    >>> import tempfile, os
    >>> from csa_survey.synth import youth_survey, youth_survey_codebook
    >>> p = write_stata(youth_survey(n=200, seed=1),
    ...                 os.path.join(tempfile.mkdtemp(), "x.dta"), youth_survey_codebook())
    >>> p.exists()
    True
    """
    p = Path(path)
    out, questions, value_labels = _labelled_export(df, codebook)
    questions = {k: (v or "")[:80] for k, v in questions.items()}
    pyreadstat.write_dta(
        out,
        str(p),
        file_label=codebook.title[:80],
        column_labels=questions,
        variable_value_labels=value_labels,
    )
    return p


# --------------------------------------------------------------------------- Qualtrics
def _is_qualtrics_meta(row: pd.Series) -> bool:
    return any(str(v).startswith('{"ImportId"') for v in row.tolist())


def read_qualtrics(
    path: PathLike,
    multi_select: Mapping[str, Mapping[int, str] | Sequence[int] | None] | None = None,
    *,
    sep: str = ",",
) -> tuple[pd.DataFrame, Codebook]:
    """Read a Qualtrics-style CSV, exploding one-cell multi-select answers into items.

    A Qualtrics export has three header rows (column names, question texts, ImportId
    JSON); both that layout and a plain one-header CSV are accepted. A multi-select
    column holds the selected codes in one cell (``"1,3,5"``); it becomes one 0/1
    item per code, named ``<column>_<code>``, and a blank cell makes every item
    missing (the set was not answered).

    Parameters
    ----------
    path : path
        The CSV file.
    multi_select : mapping, optional
        ``{column: {code: label}}`` (or a list of codes, or None to take the codes
        found in the data). If omitted, every column with a comma-separated list of
        integers in some cell is treated as multi-select.
    sep : str
        Field separator.

    Returns
    -------
    (pandas.DataFrame, Codebook)

    Raises
    ------
    InvalidValueError
        A multi-select cell holds a code that is not an integer or not among the
        declared codes (the message names the column, value and rows).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "q.csv")
    >>> _ = open(p, "w").write('id,Q7\\n1,"1,3"\\n2,\\n3,2\\n')
    >>> df, cb = read_qualtrics(p, {"Q7": {1: "Instagram", 2: "Facebook", 3: "Discord"}})
    >>> df["Q7_3"].tolist()
    [1, <NA>, 0]
    >>> cb.item_labels("Q7")["Q7_1"]
    'Instagram'
    """
    p = _check_path(path)
    raw = pd.read_csv(p, dtype=str, keep_default_na=False, sep=sep)
    questions: dict[str, str] = {}
    if len(raw) >= 2 and _is_qualtrics_meta(raw.iloc[1]):
        questions = {c: str(raw.iloc[0][c]) for c in raw.columns}
        raw = raw.iloc[2:].reset_index(drop=True)
    elif len(raw) >= 1 and _is_qualtrics_meta(raw.iloc[0]):
        raw = raw.iloc[1:].reset_index(drop=True)
    pattern = re.compile(r"^\s*-?\d+(\s*,\s*-?\d+)*\s*$")
    if multi_select is None:
        multi_select = {
            c: None
            for c in raw.columns
            if raw[c].str.contains(",", regex=False).any()
            and raw[c].map(lambda x: x.strip() == "" or bool(pattern.match(x))).all()
        }
    unknown = [c for c in multi_select if c not in raw.columns]
    if unknown:
        raise ColumnError(f"multi-select column(s) {', '.join(unknown)} not in {p.name}")
    columns: dict[str, pd.Series] = {}
    variables: list[Variable] = []
    sets: list[MultiSelectSet] = []
    for col in raw.columns:
        cells = raw[col]
        blank = cells.str.strip() == ""
        if col in multi_select:
            spec = multi_select[col]
            tokens = cells.where(~blank, "").str.split(",")
            exploded = tokens.explode().str.strip()
            exploded = exploded[exploded != ""]
            codes_found = pd.to_numeric(exploded, errors="coerce")
            bad = codes_found.isna()
            if bad.any():
                value = exploded[bad].iloc[0]
                rows = sorted(set(exploded.index[exploded == value]))
                raise InvalidValueError(
                    f"{col!r}: multi-select code {value!r} is not an integer ({describe_rows(rows)})"
                )
            codes_found = codes_found.astype(int)
            if isinstance(spec, Mapping):
                labels = {int(k): str(v) for k, v in spec.items()}
            elif spec is not None:
                labels = {int(k): str(k) for k in spec}
            else:
                labels = {int(k): str(k) for k in sorted(codes_found.unique())}
            bad = ~codes_found.isin(list(labels))
            if bad.any():
                value = int(codes_found[bad].iloc[0])
                rows = sorted(set(codes_found.index[codes_found == value]))
                raise InvalidValueError(
                    f"{col!r}: multi-select code {value} is not one of the declared codes "
                    f"{sorted(labels)} ({describe_rows(rows)})"
                )
            chosen = pd.crosstab(codes_found.index, codes_found).reindex(
                index=raw.index, columns=list(labels), fill_value=0
            )
            items = []
            for code, label in labels.items():
                item = f"{col}_{code}"
                values = (chosen[code] > 0).astype("int8")
                columns[item] = pd.array(values, dtype="Int8")
                columns[item][blank.to_numpy()] = pd.NA
                variables.append(
                    Variable(item, "multi_item", f"{questions.get(col, col)}: {label}",
                             set=col, label=label, dtype="Int8")
                )  # fmt: skip
                items.append(item)
            sets.append(MultiSelectSet(col, questions.get(col, col), tuple(items),
                                       questions.get(col, "")))  # fmt: skip
            continue
        numeric = pd.to_numeric(cells.where(~blank), errors="coerce")
        if not (numeric.isna() & ~blank).any() and (~blank).any():
            integral = bool((numeric.dropna() == np.round(numeric.dropna())).all())
            columns[col] = numeric.astype("Int64") if integral else numeric.astype("float64")
            variables.append(
                Variable(col, "numeric", questions.get(col, ""),
                         dtype="Int64" if integral else "float64")
            )  # fmt: skip
        else:
            columns[col] = cells.where(~blank).astype("string")
            variables.append(Variable(col, "text", questions.get(col, ""), dtype="string"))
    df = pd.DataFrame(columns, index=raw.index)
    return df, Codebook(variables, sets, dataset=p.stem)
