"""Codebooks: questions, response labels, multi-select sets, universes and validation.

A :class:`Codebook` is data (YAML beside each dataset). It says, for every variable,
the question text, its type, the response labels and missing-value codes, which items
form each "select all that apply" set, and each question's *universe*: the respondents
it was asked of, written as an expression over other variables
(``"sought_contact_online == 1"``) plus the survey wave from which it was asked. Bases in
every table come from the codebook (:meth:`Codebook.base`), so "% of whom" is never
guessed, and :meth:`Codebook.validate` checks a DataFrame against it.

Universe expressions are parsed with :mod:`ast` and only comparisons, boolean
operators, names, literals and lists are accepted; they are then evaluated with
:meth:`pandas.DataFrame.eval`. No Python code is ever executed.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from csa_survey.exceptions import CodebookError, ColumnError, describe_rows

__all__ = [
    "VARIABLE_TYPES",
    "Base",
    "Codebook",
    "MultiSelectSet",
    "ValidationReport",
    "Variable",
]

#: The variable types a codebook knows.
#:
#: ``single`` single-choice question (labelled codes); ``multi_item`` one item (0/1) of a
#: multi-select set; ``numeric`` a number; ``age`` an age in years; ``id`` the respondent
#: or record identifier; ``weight`` a survey weight; ``design`` a design or bookkeeping
#: variable (strata, PSU, wave, fpc); ``text`` free text.
VARIABLE_TYPES: tuple[str, ...] = (
    "single",
    "multi_item",
    "numeric",
    "age",
    "id",
    "weight",
    "design",
    "text",
)

_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.BinOp,
    ast.BitAnd,
    ast.BitOr,
    ast.UnaryOp,
    ast.Not,
    ast.Invert,
    ast.USub,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
)

FINDING_COLUMNS = ["check", "severity", "variable", "value", "n_rows", "rows", "message"]


def _expression_names(expr: str, where: str) -> set[str]:
    """Parse a universe expression safely and return the variable names it uses."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as err:
        raise CodebookError(
            f"{where}: universe {expr!r} is not a valid expression ({err.msg})"
        ) from err
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise CodebookError(
                f"{where}: universe {expr!r} uses {type(node).__name__}; only comparisons, "
                "and/or/not (&, |, ~), variable names, literals and lists are allowed"
            )
        if isinstance(node, ast.Name):
            names.add(node.id)
    return names


def _clean_mapping(mapping: Mapping[Any, Any] | None) -> dict[Any, str]:
    if not mapping:
        return {}
    return {k: str(v) for k, v in mapping.items()}


@dataclass(frozen=True)
class Variable:
    """One variable of a codebook.

    Parameters
    ----------
    name : str
        Column name.
    type : str
        One of :data:`VARIABLE_TYPES`.
    question : str
        Question text (or definition for non-question variables).
    labels : mapping
        Response code -> label (e.g. ``{0: "No", 1: "Yes"}``).
    missing : mapping
        Missing-value code -> label (e.g. ``{9: "Prefer not to say"}``); these codes are
        treated as "not answered".
    universe : str, optional
        Expression over other variables selecting who was asked
        (``"sought_contact == 1"``). ``None`` = everyone (for a multi-select item:
        the set's universe).
    wave : int, optional
        First survey wave in which the question was asked (``None`` = all waves).
    base : str, optional
        Human description of the universe ("respondents who sought contact").
    min, max : float, optional
        Valid range of a numeric or age variable.
    set : str, optional
        Name of the multi-select set a ``multi_item`` belongs to.
    label : str, optional
        Short label ("Instagram"), used for multi-select items in tables.
    dtype : str, optional
        pandas dtype the column is read as (``"Int8"``, ``"float64"``, ``"string"``).

    Examples
    --------
    >>> v = Variable("sought_contact", "single", "Have you sought contact with a child?",
    ...              labels={0: "No", 1: "Yes"})
    >>> v.valid_codes
    (0, 1)
    """

    name: str
    type: str
    question: str = ""
    labels: Mapping[Any, str] = field(default_factory=dict)
    missing: Mapping[Any, str] = field(default_factory=dict)
    universe: str | None = None
    wave: int | None = None
    base: str | None = None
    min: float | None = None
    max: float | None = None
    set: str | None = None
    label: str | None = None
    dtype: str | None = None

    def __post_init__(self) -> None:
        if self.type not in VARIABLE_TYPES:
            raise CodebookError(
                f"variable {self.name!r}: type {self.type!r} is not one of {', '.join(VARIABLE_TYPES)}"
            )
        object.__setattr__(self, "labels", _clean_mapping(self.labels))
        object.__setattr__(self, "missing", _clean_mapping(self.missing))
        if self.type == "multi_item" and not self.labels:
            object.__setattr__(self, "labels", {0: "Not selected", 1: "Selected"})

    @property
    def valid_codes(self) -> tuple[Any, ...]:
        """Codes that are valid answers (labels that are not missing codes)."""
        return tuple(k for k in self.labels if k not in self.missing)

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML-ready mapping (without the name; empty fields left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "name":
                continue
            value = getattr(self, f.name)
            if value is None or (isinstance(value, Mapping) and not value) or value == "":
                continue
            if f.name == "labels" and self.type == "multi_item":
                if dict(value) == {0: "Not selected", 1: "Selected"}:
                    continue
            out[f.name] = dict(value) if isinstance(value, Mapping) else value
        return out


@dataclass(frozen=True)
class MultiSelectSet:
    """A "select all that apply" question whose items are 0/1 variables.

    Parameters
    ----------
    name : str
        Set name (``"sm_platform"``).
    label : str
        Short label of the set ("Social media platform used").
    items : sequence of str
        Item variable names, in questionnaire order.
    question : str
        Question text.
    universe : str, optional
        Expression selecting who was asked; ``None`` = everyone.
    wave : int, optional
        First wave in which the set was asked.
    base : str, optional
        Human description of the universe.

    Examples
    --------
    >>> s = MultiSelectSet("msg_app", "Messaging app used", ("app_telegram", "app_whatsapp"))
    >>> s.items
    ('app_telegram', 'app_whatsapp')
    """

    name: str
    label: str
    items: tuple[str, ...]
    question: str = ""
    universe: str | None = None
    wave: int | None = None
    base: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        if not self.items:
            raise CodebookError(f"multi-select set {self.name!r} has no items")

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML-ready mapping (without the name)."""
        out: dict[str, Any] = {"label": self.label, "items": list(self.items)}
        for key in ("question", "universe", "wave", "base"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        return out


@dataclass(frozen=True)
class Base:
    """The base of a question: who was asked and answered.

    Attributes
    ----------
    name : str
        Question or multi-select set name.
    mask : pandas.Series
        Boolean, aligned with the DataFrame: in the universe and answered.
    description : str
        Human description, e.g. "respondents who contacted a child via social media".
    n : int
        Number of rows in the base.
    """

    name: str
    mask: pd.Series
    description: str
    n: int


@dataclass(frozen=True)
class ValidationReport:
    """Findings of :meth:`Codebook.validate`.

    Attributes
    ----------
    findings : pandas.DataFrame
        One row per finding with columns ``check`` (``unknown_code``, ``out_of_range``,
        ``routing``, ``multi_select_value``, ``duplicate_id``, ``missing_id``,
        ``invalid_weight``, ``not_numeric``, ``missing_column``, ``undocumented_column``,
        ``partial_set``), ``severity`` (``error``/``warning``), ``variable``, ``value``,
        ``n_rows``, ``rows`` (row ids: the id variable's values, else index labels)
        and ``message``.
    dataset : str
        Codebook dataset name.
    """

    findings: pd.DataFrame
    dataset: str = ""

    @property
    def errors(self) -> pd.DataFrame:
        """Findings of severity ``error``."""
        return self.findings[self.findings["severity"] == "error"].reset_index(drop=True)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return bool((self.findings["severity"] != "error").all())

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the findings table."""
        return self.findings.copy()

    def raise_if_errors(self) -> None:
        """Raise :class:`~csa_survey.exceptions.CodebookError` listing the errors, if any."""
        errors = self.errors
        if len(errors) == 0:
            return
        shown = "\n".join(f"- {m}" for m in errors["message"].head(10))
        more = f"\n(and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise CodebookError(
            f"data do not conform to codebook {self.dataset!r}: {len(errors)} error(s)\n"
            f"{shown}{more}"
        )

    def __str__(self) -> str:
        if len(self.findings) == 0:
            return f"Validation of {self.dataset!r}: no findings"
        lines = [f"Validation of {self.dataset!r}: {len(self.findings)} finding(s)"]
        lines += [f"[{r.severity}] {r.message}" for r in self.findings.itertuples()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        shown = self.findings.drop(columns=["rows"])
        return f"<p>Validation of <b>{self.dataset}</b>: {len(shown)} finding(s)</p>" + (
            shown.to_html(index=False)
        )


class Codebook:
    """Questions, labels, multi-select sets and universes of one dataset.

    Parameters
    ----------
    variables : iterable of Variable
        The variables, in column order.
    sets : iterable of MultiSelectSet
        Multi-select sets; every ``multi_item`` variable must belong to one.
    dataset : str
        Dataset name.
    title, description : str
        Free text.
    id : str, optional
        Name of the respondent/record id variable.
    wave : str, optional
        Name of the survey-wave variable used by ``Variable.wave``.
    design : mapping, optional
        Design columns as keyword arguments for ``cs.SurveyDesign``
        (``{"weights": "weight", "strata": "region", "psu": "psu"}``).

    Examples
    --------
    >>> cb = Codebook(
    ...     [Variable("q1", "single", "Seen it?", labels={0: "No", 1: "Yes"}),
    ...      Variable("q2", "single", "Online?", labels={0: "No", 1: "Yes"},
    ...               universe="q1 == 1", base="respondents who have seen it")],
    ...     dataset="demo")
    >>> df = pd.DataFrame({"q1": [1, 0, 1], "q2": [1, None, 0]})
    >>> cb.base(df, "q2").n
    2
    >>> Codebook.from_yaml(cb.to_yaml()) == cb
    True
    """

    def __init__(
        self,
        variables: Iterable[Variable],
        sets: Iterable[MultiSelectSet] = (),
        *,
        dataset: str = "",
        title: str = "",
        description: str = "",
        id: str | None = None,
        wave: str | None = None,
        design: Mapping[str, str] | None = None,
    ) -> None:
        self.variables: dict[str, Variable] = {}
        for v in variables:
            if v.name in self.variables:
                raise CodebookError(f"variable {v.name!r} is defined twice in the codebook")
            self.variables[v.name] = v
        self.sets: dict[str, MultiSelectSet] = {}
        for s in sets:
            if s.name in self.sets or s.name in self.variables:
                raise CodebookError(f"multi-select set name {s.name!r} is not unique")
            self.sets[s.name] = s
        self.dataset = dataset
        self.title = title
        self.description = description
        self.id = id
        self.wave = wave
        self.design: dict[str, str] = dict(design or {})
        self._check()

    # ------------------------------------------------------------------ construction
    def _check(self) -> None:
        for ref, what in ((self.id, "id"), (self.wave, "wave")):
            if ref is not None and ref not in self.variables:
                raise CodebookError(f"codebook {self.dataset!r}: {what} variable {ref!r} unknown")
        for key, col in self.design.items():
            if col not in self.variables:
                raise CodebookError(
                    f"codebook {self.dataset!r}: design {key}={col!r} is not a variable"
                )
        in_sets: dict[str, str] = {}
        for s in self.sets.values():
            for item in s.items:
                v = self.variables.get(item)
                if v is None or v.type != "multi_item":
                    raise CodebookError(
                        f"multi-select set {s.name!r}: item {item!r} is not a multi_item variable"
                    )
                if item in in_sets:
                    raise CodebookError(
                        f"item {item!r} belongs to sets {in_sets[item]!r} and {s.name!r}"
                    )
                in_sets[item] = s.name
        for v in self.variables.values():
            if v.type != "multi_item":
                continue
            if v.name not in in_sets:
                raise CodebookError(f"multi_item variable {v.name!r} belongs to no set")
            if v.set is not None and v.set != in_sets[v.name]:
                raise CodebookError(
                    f"variable {v.name!r} says set {v.set!r} but is listed in {in_sets[v.name]!r}"
                )
        if any(v.wave is not None for v in self.variables.values()) or any(
            s.wave is not None for s in self.sets.values()
        ):
            if self.wave is None:
                raise CodebookError(
                    f"codebook {self.dataset!r} gives question waves but no wave variable"
                )
        for name in list(self.variables) + list(self.sets):
            expr = self.universe(name)
            if expr is None:
                continue
            unknown = _expression_names(expr, f"{name!r}") - set(self.variables)
            if unknown:
                raise CodebookError(
                    f"{name!r}: universe {expr!r} refers to unknown variable(s) "
                    f"{', '.join(sorted(unknown))}"
                )

    # ------------------------------------------------------------------ access
    def __getitem__(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise ColumnError(f"variable {name!r} is not in codebook {self.dataset!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.variables or name in self.sets

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Codebook) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:  # codebooks are mutable containers
        raise TypeError("Codebook is not hashable")

    def __repr__(self) -> str:
        return (
            f"Codebook({self.dataset!r}: {len(self.variables)} variables, "
            f"{len(self.sets)} multi-select sets)"
        )

    @property
    def names(self) -> list[str]:
        """Variable names in codebook order."""
        return list(self.variables)

    def set_of(self, item: str) -> MultiSelectSet | None:
        """Return the multi-select set an item belongs to (or None)."""
        for s in self.sets.values():
            if item in s.items:
                return s
        return None

    def item_labels(self, set_name: str) -> dict[str, str]:
        """Item variable -> short label for a multi-select set.

        Examples
        --------
        >>> from csa_survey.synth import csam_users_codebook
        >>> csam_users_codebook().item_labels("msg_app")["app_telegram"]
        'Telegram'
        """
        s = self._set(set_name)
        return {i: self.variables[i].label or i for i in s.items}

    def _set(self, name: str) -> MultiSelectSet:
        try:
            return self.sets[name]
        except KeyError:
            raise ColumnError(
                f"multi-select set {name!r} is not in codebook {self.dataset!r}"
            ) from None

    def _entry(self, name: str) -> Variable | MultiSelectSet:
        if name in self.sets:
            return self.sets[name]
        return self[name]

    def universe(self, name: str) -> str | None:
        """The full universe expression of a question or set (condition and wave).

        Examples
        --------
        >>> from csa_survey.synth import csam_users_codebook
        >>> csam_users_codebook().universe("sm_platform")
        '(contact_social_media == 1) & (wave >= 3)'
        """
        entry = self._entry(name)
        parent = self.set_of(name) if isinstance(entry, Variable) else None
        cond = entry.universe or (parent.universe if parent else None)
        wave = entry.wave if entry.wave is not None else (parent.wave if parent else None)
        parts = []
        if cond:
            parts.append(cond)
        if wave is not None and wave > 1:
            parts.append(f"{self.wave} >= {int(wave)}")
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return " & ".join(f"({p})" for p in parts)

    # ------------------------------------------------------------------ masks
    def set_missing(self, df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Return a copy of ``df`` with every missing-value code replaced by NA.

        Parameters
        ----------
        df : pandas.DataFrame
            Data; not modified.
        columns : sequence of str, optional
            Restrict to these columns (default: all codebook variables present).

        Examples
        --------
        >>> cb = Codebook([Variable("g", "single", labels={1: "Man", 2: "Woman"},
        ...                         missing={9: "Prefer not to say"})])
        >>> cb.set_missing(pd.DataFrame({"g": [1, 9]}))["g"].isna().tolist()
        [False, True]
        """
        out = df.copy()
        cols = [c for c in (columns or self.variables) if c in out.columns and c in self.variables]
        for c in cols:
            codes = list(self.variables[c].missing)
            if codes:
                out[c] = out[c].mask(out[c].isin(codes))
        return out

    def _answered(self, df: pd.DataFrame, var: str) -> pd.Series:
        if var not in df.columns:
            raise ColumnError(f"column {var!r} (codebook {self.dataset!r}) is not in the data")
        s = df[var]
        ok = s.notna()
        codes = list(self.variables[var].missing) if var in self.variables else []
        if codes:
            ok &= ~s.isin(codes)
        return ok.astype(bool)

    def answered_mask(self, df: pd.DataFrame, name: str) -> pd.Series:
        """Rows that answered a question (non-missing) or a set (any item non-missing)."""
        if name in self.sets:
            mask = pd.Series(False, index=df.index)
            for item in self.sets[name].items:
                mask |= self._answered(df, item)
            return mask
        self[name]
        return self._answered(df, name)

    def universe_mask(self, df: pd.DataFrame, name: str) -> pd.Series:
        """Rows in the universe of a question or set (whether or not they answered).

        The expression is evaluated with :meth:`pandas.DataFrame.eval` on the referenced
        columns after missing-value codes are set to NA; comparisons with missing values
        are False.

        Examples
        --------
        >>> cb = Codebook([Variable("q1", "single", labels={0: "No", 1: "Yes"}),
        ...                Variable("q2", "single", universe="q1 == 1")])
        >>> cb.universe_mask(pd.DataFrame({"q1": [1, 0, None]}), "q2").tolist()
        [True, False, False]
        """
        expr = self.universe(name)
        if expr is None:
            return pd.Series(True, index=df.index)
        names = _expression_names(expr, repr(name))
        missing = [c for c in sorted(names) if c not in df.columns]
        if missing:
            raise ColumnError(
                f"universe of {name!r} ({expr}) needs column(s) {', '.join(missing)}, "
                "which are not in the data"
            )
        sub = self.set_missing(df[sorted(names)])
        try:
            result = sub.eval(expr, engine="python")
        except Exception as err:  # pandas raises many types for bad expressions
            raise CodebookError(
                f"universe of {name!r} ({expr}) could not be evaluated: {err}"
            ) from err
        if np.isscalar(result):
            return pd.Series(bool(result), index=df.index)
        return pd.Series(result, index=df.index).fillna(False).astype(bool)

    def base_description(self, name: str) -> str:
        """Human description of the base of a question or set.

        The base itself (:meth:`base`) is always those in the universe who answered.

        Examples
        --------
        >>> from csa_survey.synth import csam_users_codebook
        >>> csam_users_codebook().base_description("msg_app")
        'respondents who contacted a child via a messaging app (asked from wave 3)'
        """
        entry = self._entry(name)
        parent = self.set_of(name) if isinstance(entry, Variable) else None
        text = entry.base or (parent.base if parent else None)
        cond = entry.universe or (parent.universe if parent else None)
        wave = entry.wave if entry.wave is not None else (parent.wave if parent else None)
        if not text:
            text = f"respondents with {cond}" if cond else "all respondents"
        if wave is not None and wave > 1:
            text += f" (asked from wave {int(wave)})"
        return text

    def base(self, df: pd.DataFrame, name: str) -> Base:
        """Respondents in the universe of a question or set who answered it.

        Parameters
        ----------
        df : pandas.DataFrame
            Data; not modified.
        name : str
            Variable or multi-select set name.

        Returns
        -------
        Base
            ``mask`` (boolean Series), ``description`` and ``n``.

        Examples
        --------
        >>> from csa_survey.synth import csam_users, csam_users_codebook
        >>> b = csam_users_codebook().base(csam_users(n=2000, seed=1), "sm_platform")
        >>> b.description
        'respondents who contacted a child via social media (asked from wave 3)'
        """
        mask = self.universe_mask(df, name) & self.answered_mask(df, name)
        mask = mask.astype(bool)
        mask.name = name
        return Base(name, mask, self.base_description(name), int(mask.sum()))

    def base_mask(self, df: pd.DataFrame, name: str) -> pd.Series:
        """Boolean mask of :meth:`base` (in the universe and answered)."""
        return self.base(df, name).mask

    # ------------------------------------------------------------------ recoding
    def dtypes(self) -> dict[str, str]:
        """Column -> pandas dtype for variables that declare one."""
        return {n: v.dtype for n, v in self.variables.items() if v.dtype}

    def decode(
        self, df: pd.DataFrame, columns: Sequence[str] | None = None, *, missing_as_na: bool = True
    ) -> pd.DataFrame:
        """Return a copy of ``df`` with labelled codes replaced by their labels.

        Labelled columns become ordered-as-listed :class:`pandas.Categorical`.

        Examples
        --------
        >>> cb = Codebook([Variable("g", "single", labels={1: "Man", 2: "Woman"})])
        >>> cb.decode(pd.DataFrame({"g": [2, 1]}))["g"].tolist()
        ['Woman', 'Man']
        """
        out = df.copy()
        cols = columns or [c for c in self.variables if c in df.columns]
        for c in cols:
            v = self[c]
            if not v.labels or v.type == "multi_item":
                continue
            labels = {k: lab for k, lab in v.labels.items()}
            if not missing_as_na:
                labels.update(v.missing)
            cats = list(dict.fromkeys(labels.values()))
            out[c] = pd.Categorical(out[c].map(labels), categories=cats)
        return out

    # ------------------------------------------------------------------ validation
    def validate(self, df: pd.DataFrame, *, raise_on_error: bool = False) -> ValidationReport:
        """Check a DataFrame against the codebook.

        Checks: columns present; single-choice codes known (labels or missing codes);
        numeric/age values numeric and within ``[min, max]``; multi-select items 0/1 or
        missing; answers only inside each question's universe (routing, including the
        wave); set items answered all-or-none (warning); ids unique and present; weights
        positive and finite. Missing-value codes count as "not answered".

        Parameters
        ----------
        df : pandas.DataFrame
            Data; not modified.
        raise_on_error : bool
            Raise :class:`~csa_survey.exceptions.CodebookError` if any error is found.

        Returns
        -------
        ValidationReport

        Examples
        --------
        >>> from csa_survey.synth import csam_users, csam_users_codebook
        >>> df = csam_users(n=500, seed=3)
        >>> csam_users_codebook().validate(df).ok
        True
        """
        findings: list[dict[str, Any]] = []
        if self.id is not None and self.id in df.columns:
            ids = df[self.id]
        else:
            ids = pd.Series(df.index, index=df.index)

        def add(
            check: str,
            var: str,
            value: Any,
            rows: pd.Series,
            message: str,
            severity: str = "error",
        ) -> None:
            row_ids = ids[rows].tolist()
            findings.append(
                {
                    "check": check,
                    "severity": severity,
                    "variable": var,
                    "value": value,
                    "n_rows": len(row_ids),
                    "rows": row_ids,
                    "message": f"{message} ({describe_rows(row_ids)})" if row_ids else message,
                }
            )

        def by_value(check: str, var: str, bad: pd.Series, text: str) -> None:
            values = df[var][bad]
            for value in pd.unique(values):
                rows = bad & (df[var] == value).fillna(False).astype(bool)
                shown = value.item() if isinstance(value, np.generic) else value
                add(check, var, shown, rows, text.format(var=var, value=shown))

        for name, v in self.variables.items():
            if name not in df.columns:
                add(
                    "missing_column",
                    name,
                    None,
                    pd.Series(False, index=df.index),
                    f"{name!r}: column is in codebook {self.dataset!r} but not in the data",
                )
                continue
            s = df[name]
            present = s.notna() & ~s.isin(list(v.missing)) if v.missing else s.notna()
            present = present.astype(bool)
            if v.type in ("numeric", "age", "weight", "multi_item") or (
                v.type in ("single", "design")
                and v.labels
                and all(isinstance(k, (int, float)) for k in v.labels)
            ):
                numeric = pd.to_numeric(s.where(present), errors="coerce")
                bad = present & numeric.isna()
                if bad.any():
                    by_value("not_numeric", name, bad, "{var!r}: value {value!r} is not a number")
                    present &= ~bad
                    s = numeric
                elif not pd.api.types.is_numeric_dtype(s):
                    s = numeric
            if v.type in ("single", "design") and v.labels:
                bad = present & ~s.isin(list(v.labels))
                if bad.any():
                    by_value(
                        "unknown_code",
                        name,
                        bad,
                        "{var!r}: code {value!r} has no label in the codebook",
                    )
            elif v.type == "multi_item":
                bad = present & ~s.isin([0, 1])
                if bad.any():
                    by_value(
                        "multi_select_value",
                        name,
                        bad,
                        "{var!r}: multi-select item holds {value!r}; expected 0, 1 or missing",
                    )
            elif v.type in ("numeric", "age"):
                lo = -math.inf if v.min is None else v.min
                hi = math.inf if v.max is None else v.max
                bad = present & ~s.between(lo, hi).fillna(False).astype(bool)
                if bad.any():
                    by_value(
                        "out_of_range",
                        name,
                        bad,
                        "{var!r}: value {value!r} is outside the valid range "
                        f"[{v.min}, {v.max}]",
                    )
            elif v.type == "weight":
                vals = pd.to_numeric(s, errors="coerce").astype(float)
                bad = (~np.isfinite(vals) | (vals <= 0)).fillna(True).astype(bool)
                if bad.any():
                    by_value(
                        "invalid_weight",
                        name,
                        bad,
                        "{var!r}: weight {value!r} is not a positive finite number",
                    )
            if v.type == "id":
                missing_id = s.isna()
                if missing_id.any():
                    add(
                        "missing_id",
                        name,
                        None,
                        missing_id,
                        f"{name!r}: {int(missing_id.sum())} row(s) have no id",
                    )
                dup = s.duplicated(keep=False) & s.notna()
                if dup.any():
                    by_value(
                        "duplicate_id",
                        name,
                        dup.astype(bool),
                        "{var!r}: id {value!r} occurs more than once",
                    )
            if self.universe(name) is not None:
                try:
                    universe = self.universe_mask(df, name)
                except ColumnError as err:
                    add(
                        "missing_column",
                        name,
                        None,
                        pd.Series(False, index=df.index),
                        f"{name!r}: cannot check routing: {err}",
                    )
                    continue
                bad = present & ~universe
                if bad.any():
                    by_value(
                        "routing",
                        name,
                        bad,
                        "{var!r}: answered ({value!r}) outside its universe "
                        f"[{self.universe(name)}]",
                    )
        for s in self.sets.values():
            items = [i for i in s.items if i in df.columns]
            if len(items) < 2:
                continue
            answered = pd.DataFrame({i: self._answered(df, i) for i in items})
            partial = answered.any(axis=1) & ~answered.all(axis=1)
            if partial.any():
                add(
                    "partial_set",
                    s.name,
                    None,
                    partial,
                    f"set {s.name!r}: some items answered and others missing",
                    "warning",
                )
        extra = [c for c in df.columns if c not in self.variables]
        for c in extra:
            add(
                "undocumented_column",
                str(c),
                None,
                pd.Series(False, index=df.index),
                f"{c!r}: column is not in codebook {self.dataset!r}",
                "warning",
            )
        table = pd.DataFrame(findings, columns=FINDING_COLUMNS)
        table["value"] = table["value"].astype(object)
        table["rows"] = table["rows"].astype(object)
        report = ValidationReport(table, self.dataset)
        if raise_on_error:
            report.raise_if_errors()
        return report

    # ------------------------------------------------------------------ (de)serialise
    def to_dict(self) -> dict[str, Any]:
        """Return the codebook as plain data (the YAML layout)."""
        out: dict[str, Any] = {"dataset": self.dataset}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        if self.id:
            out["id"] = self.id
        if self.wave:
            out["wave"] = self.wave
        if self.design:
            out["design"] = dict(self.design)
        out["variables"] = {n: v.to_dict() for n, v in self.variables.items()}
        out["sets"] = {n: s.to_dict() for n, s in self.sets.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Codebook:
        """Build a codebook from :meth:`to_dict` data.

        Examples
        --------
        >>> cb = Codebook([Variable("q1", "numeric", min=0, max=10)], dataset="d")
        >>> Codebook.from_dict(cb.to_dict()) == cb
        True
        """
        if not isinstance(data, Mapping) or "variables" not in data:
            raise CodebookError("a codebook needs a 'variables' mapping")
        known = {f.name for f in fields(Variable)} - {"name"}
        variables = []
        for name, spec in (data.get("variables") or {}).items():
            spec = dict(spec or {})
            unknown = set(spec) - known
            if unknown:
                raise CodebookError(
                    f"variable {name!r}: unknown codebook field(s) {', '.join(sorted(unknown))}"
                )
            if "type" not in spec:
                raise CodebookError(f"variable {name!r}: no type given")
            variables.append(Variable(name=str(name), **spec))
        sets = []
        for name, spec in (data.get("sets") or {}).items():
            spec = dict(spec or {})
            if "items" not in spec:
                raise CodebookError(f"multi-select set {name!r}: no items given")
            spec.setdefault("label", str(name))
            sets.append(MultiSelectSet(name=str(name), **spec))
        return cls(
            variables,
            sets,
            dataset=str(data.get("dataset", "")),
            title=str(data.get("title", "")),
            description=str(data.get("description", "")),
            id=data.get("id"),
            wave=data.get("wave"),
            design=data.get("design"),
        )

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Return the codebook as YAML text (and write it to ``path`` if given).

        Examples
        --------
        >>> cb = Codebook([Variable("q1", "single", "Seen?", labels={0: "No", 1: "Yes"})])
        >>> print(cb.to_yaml().splitlines()[3])
            type: single
        """
        text = yaml.safe_dump(
            self.to_dict(), sort_keys=False, allow_unicode=True, width=88, default_flow_style=False
        )
        if path is not None:
            Path(path).write_text(text, encoding="utf-8", newline="\n")
        return text

    @classmethod
    def from_yaml(cls, source: str | Path) -> Codebook:
        """Read a codebook from YAML text or from a ``.yaml``/``.yml`` file path.

        Examples
        --------
        >>> Codebook.from_yaml("dataset: d\\nvariables:\\n  x: {type: numeric}\\n").names
        ['x']
        """
        if isinstance(source, Path) or (
            isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))
        ):
            text = Path(source).read_text(encoding="utf-8")
        else:
            text = str(source)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise CodebookError(f"codebook YAML could not be parsed: {err}") from err
        return cls.from_dict(data)

    @classmethod
    def infer(cls, df: pd.DataFrame, *, dataset: str = "") -> Codebook:
        """A minimal codebook for data that came without one.

        Numeric columns become ``numeric`` and everything else ``text``; no labels,
        universes or sets are guessed.

        Examples
        --------
        >>> Codebook.infer(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))["b"].type
        'text'
        """
        variables = []
        for c in df.columns:
            kind = "numeric" if pd.api.types.is_numeric_dtype(df[c]) else "text"
            variables.append(Variable(str(c), kind))
        return cls(variables, dataset=dataset)
