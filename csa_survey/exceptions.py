"""Errors and warnings raised by csa_survey.

Every error is a :class:`SurveyError`, itself a :class:`ValueError`, so callers can
catch one class. Messages name the column, the offending value and the rows (or how
many rows), and say what to do about it.

Warnings are subclasses of :class:`SurveyWarning` so they can be filtered as a group
(``warnings.filterwarnings("ignore", category=cs.SurveyWarning)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "CodebookError",
    "ColumnError",
    "ConvergenceWarning",
    "DegreesOfFreedomWarning",
    "DesignError",
    "EmptyDomainError",
    "InvalidValueError",
    "LonelyPSUError",
    "MarginsError",
    "SurveyError",
    "SurveyWarning",
    "WeightsError",
    "describe_rows",
    "describe_value",
]


class SurveyError(ValueError):
    """Base class of every error raised for bad input to csa_survey."""


class ColumnError(SurveyError):
    """A column named in a call does not exist (or has the wrong type)."""


class WeightsError(SurveyError):
    """Weights are missing, negative or not finite."""


class DesignError(SurveyError):
    """The design specification is inconsistent (fpc, strata, PSUs, replicates)."""


class LonelyPSUError(DesignError):
    """A stratum has a single PSU and ``lonely_psu="fail"``."""


class EmptyDomainError(SurveyError):
    """A domain (subset or ``by=`` level) has no rows."""


class InvalidValueError(SurveyError):
    """A variable holds a value that the operation cannot accept."""


class MarginsError(SurveyError):
    """Calibration margins do not match the data's categories or cannot be met."""


class CodebookError(SurveyError):
    """A codebook is malformed or a DataFrame does not conform to it."""


class SurveyWarning(UserWarning):
    """Base class of warnings issued by csa_survey."""


class ConvergenceWarning(SurveyWarning):
    """An iterative algorithm stopped before meeting its tolerance."""


class DegreesOfFreedomWarning(SurveyWarning):
    """The design has no residual degrees of freedom; intervals are undefined (NaN)."""


def describe_value(value: Any) -> str:
    """``repr`` of a value for an error message, without numpy's type wrappers.

    Examples
    --------
    >>> import numpy as np
    >>> describe_value(np.float64(2.0)), describe_value("x")
    ('2.0', "'x'")
    """
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    return repr(value)


def describe_rows(labels: Iterable[Any], limit: int = 5) -> str:
    """Describe a set of row labels for an error message.

    Parameters
    ----------
    labels : iterable
        Row labels (DataFrame index values) to mention.
    limit : int
        How many labels to list before summarising the rest as a count.

    Returns
    -------
    str
        For example ``"rows 3, 7 and 12"`` or ``"rows 3, 7, 12, 15, 20 (and 41 more; 46 in all)"``.

    Examples
    --------
    >>> describe_rows([4])
    'row 4'
    >>> describe_rows(range(8), limit=3)
    'rows 0, 1, 2 (and 5 more; 8 in all)'
    """
    labels = list(labels)
    n = len(labels)
    if n == 0:
        return "no rows"
    if n == 1:
        return f"row {labels[0]!r}" if isinstance(labels[0], str) else f"row {labels[0]}"
    shown = ", ".join(repr(x) if isinstance(x, str) else str(x) for x in labels[:limit])
    if n <= limit:
        head, _, last = shown.rpartition(", ")
        return f"rows {head} and {last}"
    return f"rows {shown} (and {n - limit} more; {n} in all)"
