"""Counts over time: police-recorded trends, composition and admin scale indicators.

Three kinds of figure appear in the deck's opening slides and each gets honest
uncertainty of its own kind:

* **Police-recorded counts** (offences per year, figure R1). A recorded count is
  treated as one Poisson realisation of an underlying yearly rate, so a change
  between two years gets an *exact* confidence interval for the ratio of rates
  (:func:`fold_change`, :func:`year_on_year`), and the average annual growth a
  log-linear Poisson or negative-binomial GLM on year (:func:`growth_rate`), with a
  test for a change of slope at a named year (:func:`break_test`).
* **Composition** of the recorded offences (R2-R5): shares of categories with
  simultaneous multinomial intervals (:func:`composition`) and one share within a
  subgroup with its base printed (:func:`share`).
* **Admin series** (S1: CAID image counts, arrests). These are published totals,
  not samples, so they get exact arithmetic (:func:`growth_factor`) and a
  descriptive OLS fit on the log scale (:func:`loglinear_trend`), labelled as such,
  and refuse to mix units (``"per month"`` vs ``"per year"``) unless converted
  explicitly with :func:`convert_rate`.

Every function that takes yearly counts accepts the same three shapes of ``data``:

* a :class:`pandas.Series` of counts indexed by year;
* a DataFrame of counts with a ``year`` column and a ``count=`` column (rows with
  the same year are added, so a year-by-category table gives yearly totals);
* a record-level DataFrame (one row per offence) with ``count=None``: rows are
  counted per year (:func:`yearly_counts` does the same aggregation explicitly).

The caller's DataFrame is never changed. Results are frozen dataclasses whose
``to_frame()`` returns a tidy DataFrame with ``estimate``, ``ci_low``, ``ci_high``
and ``level`` columns; nothing is rounded. Shares and growth rates are proportions
(0.076 means +7.6%).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.stats.proportion import multinomial_proportions_confint
from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from csa_survey.exceptions import (
    ColumnError,
    ConvergenceWarning,
    DegreesOfFreedomWarning,
    EmptyDomainError,
    InvalidValueError,
    SurveyWarning,
)

__all__ = [
    "BreakTestResult",
    "CompositionResult",
    "DefinitionWarning",
    "GrowthFactor",
    "GrowthResult",
    "LogLinearTrend",
    "PoissonRate",
    "RateRatio",
    "ShareResult",
    "UnitsError",
    "break_test",
    "composition",
    "convert_rate",
    "fold_change",
    "growth_factor",
    "growth_rate",
    "loglinear_trend",
    "poisson_rate",
    "rate_ratio",
    "share",
    "year_on_year",
    "yearly_counts",
]

CountData = pd.Series | pd.DataFrame
Family = Literal["auto", "poisson", "negative_binomial", "quasipoisson"]

#: How many of each unit make one year (used by :func:`convert_rate`).
RATE_UNITS: dict[str, float] = {
    "per day": 365.25,
    "per week": 365.25 / 7,
    "per month": 12.0,
    "per quarter": 4.0,
    "per year": 1.0,
}


class UnitsError(InvalidValueError):
    """Two points of a series are in different units (e.g. per month vs per year)."""


class DefinitionWarning(SurveyWarning):
    """A series mixes definitions (e.g. "images" vs "unique files")."""


# --------------------------------------------------------------------------- helpers


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise InvalidValueError(
            f"level must be a number strictly between 0 and 1 (e.g. 0.95); got {level!r}"
        )
    return float(level)


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def _fmt_label(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return repr(x) if isinstance(x, str) else str(x)


def _describe_years(labels: Iterable[Any], limit: int = 5, noun: str = "year") -> str:
    labels = list(dict.fromkeys(labels))
    shown = [_fmt_label(x) for x in labels[:limit]]
    if len(labels) == 1:
        return f"{noun} {shown[0]}"
    if len(labels) <= limit:
        return f"{noun}s {', '.join(shown[:-1])} and {shown[-1]}"
    return f"{noun}s {', '.join(shown)} (and {len(labels) - limit} more; {len(labels)} in all)"


def _require_columns(df: pd.DataFrame, columns: Iterable[str | None], what: str = "") -> None:
    for col in columns:
        if col is not None and col not in df.columns:
            avail = ", ".join(repr(c) for c in list(df.columns)[:20])
            raise ColumnError(
                f"column {col!r}{' (' + what + ')' if what else ''} is not in the data; "
                f"available columns: {avail}"
            )


def _numeric_years(values: pd.Series, column: str, *, integer: bool) -> np.ndarray:
    """Validate a year column (or index) and return it as a float array."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if integer:
            raise InvalidValueError(
                f"column {column!r} holds dates; counts need whole calendar years "
                f"(use the .dt.year of the dates)"
            )
        return _decimal_year(values)
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        raise InvalidValueError(
            f"column {column!r} must hold numeric years (e.g. 2022); got dtype {values.dtype}"
        )
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = values.index[bad]
        raise InvalidValueError(
            f"column {column!r} has a missing or non-finite year in "
            f"{_describe_years(rows, noun='row')}; drop or fill those rows first"
        )
    if integer:
        frac = arr != np.round(arr)
        if frac.any():
            raise InvalidValueError(
                f"column {column!r} has non-whole year {_fmt_label(arr[frac][0])} "
                f"({_describe_years(values.index[frac], noun='row')}); yearly counts need "
                f"whole years"
            )
    return arr


def _decimal_year(values: pd.Series) -> np.ndarray:
    """Dates as decimal years (1 July 2021 -> about 2021.5)."""
    dt = pd.to_datetime(values)
    if dt.isna().any():
        raise InvalidValueError(
            f"column {values.name!r} has a missing date in "
            f"{_describe_years(values.index[dt.isna()], noun='row')}"
        )
    year = dt.dt.year.to_numpy(dtype=float)
    days = np.where(dt.dt.is_leap_year.to_numpy(), 366.0, 365.0)
    return year + (dt.dt.day_of_year.to_numpy(dtype=float) - 1) / days


def _check_counts(
    values: pd.Series, column: str, years: Sequence[Any], noun: str = "year"
) -> np.ndarray:
    """Counts must be finite, non-negative whole numbers. ``years`` labels each value."""
    years = list(years)
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        raise InvalidValueError(
            f"column {column!r} must hold numeric counts; got dtype {values.dtype}"
        )
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    checks = [
        (~np.isfinite(arr), "a missing or non-finite count"),
        (np.isfinite(arr) & (arr < 0), "a negative count"),
        (np.isfinite(arr) & (arr != np.round(arr)), "a non-integer count"),
    ]
    for bad, what in checks:
        if bad.any():
            where = [y for y, b in zip(years, bad, strict=True) if b]
            first = arr[bad][0]
            raise InvalidValueError(
                f"column {column!r} has {what} ({_fmt_label(first)}) for "
                f"{_describe_years(where, noun=noun)}; counts must be whole numbers >= 0"
                + (" (rates or estimates are not counts)" if "integer" in what else "")
            )
    return arr


def _year_counts(
    data: CountData, *, year: str = "year", count: str | None = None
) -> tuple[pd.Series, str, str]:
    """Normalise any accepted input to a Series of counts indexed by (int) year.

    Returns the series, the name of the year column and of the count column (for
    messages).
    """
    if isinstance(data, pd.Series):
        col = str(data.name) if data.name is not None else "count"
        ycol = str(data.index.name) if data.index.name is not None else "index (year)"
        years = _numeric_years(data.index.to_series(index=data.index), ycol, integer=True)
        _check_counts(data, col, years.astype(int))
        s = pd.Series(data.to_numpy(dtype=float), index=years.astype(int))
    elif isinstance(data, pd.DataFrame):
        _require_columns(data, [year], "year")
        years = _numeric_years(data[year], year, integer=True).astype(int)
        if count is None:
            col = "count"
            s = pd.Series(1.0, index=years)
        else:
            _require_columns(data, [count], "count")
            col = count
            vals = _check_counts(data[count], count, years)
            s = pd.Series(vals, index=years)
        ycol = year
    else:
        raise InvalidValueError(
            f"data must be a pandas Series of counts indexed by year or a DataFrame; "
            f"got {type(data).__name__}"
        )
    s = s.groupby(level=0).sum().sort_index()
    s.index = s.index.astype(int)
    s.index.name = "year"
    s.name = "count"
    if s.empty:
        raise EmptyDomainError(f"no rows in column {ycol!r}: nothing to count")
    return s.astype(np.int64), ycol, col


def _require_consecutive(s: pd.Series, year_col: str, why: str) -> None:
    years = s.index.to_numpy()
    full = np.arange(years.min(), years.max() + 1)
    missing = np.setdiff1d(full, years)
    if missing.size:
        raise InvalidValueError(
            f"column {year_col!r} has no entry for {_describe_years(missing.tolist())} "
            f"(between {years.min()} and {years.max()}); {why} needs consecutive years. "
            f"If the count is zero, add the year with count 0 "
            f"(yearly_counts(..., years=range({years.min()}, {years.max() + 1})))"
        )


def _get_year(s: pd.Series, y: Any, year_col: str) -> int:
    if isinstance(y, bool) or not isinstance(y, int | float | np.integer | np.floating):
        raise InvalidValueError(f"year must be a number; got {y!r}")
    if float(y) != round(float(y)) or int(y) not in s.index:
        avail = f"{s.index.min()}-{s.index.max()}"
        raise InvalidValueError(
            f"column {year_col!r} has no year {_fmt_label(y)} (years present: {avail})"
        )
    return int(y)


# --------------------------------------------------------------------------- counts


def yearly_counts(
    records: pd.DataFrame,
    year: str = "year",
    by: str | Sequence[str] | None = None,
    *,
    count: str | None = None,
    years: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Count records (or add up a ``count`` column) per year, optionally by category.

    Parameters
    ----------
    records : DataFrame
        One row per record (offence), or rows carrying a ``count`` column.
    year : str
        Column holding the (whole) year.
    by : str or list of str, optional
        Category columns. Missing categories are kept as their own (NaN) group, and
        every combination of observed year and category appears (zero if absent).
    count : str, optional
        Column of counts to add up instead of counting rows.
    years : iterable of int, optional
        Years to report. Years with no records get count 0 (use this when you know
        the series covers those years; otherwise a gap stays a gap).

    Returns
    -------
    DataFrame
        Columns ``year``, the ``by`` columns, ``count`` (int64), sorted by year.

    Examples
    --------
    >>> rec = pd.DataFrame({"year": [2021, 2021, 2022], "type": ["contact", "image", "image"]})
    >>> yearly_counts(rec, by="type")["count"].tolist()
    [1, 1, 0, 1]
    """
    if not isinstance(records, pd.DataFrame):
        raise InvalidValueError(f"records must be a DataFrame; got {type(records).__name__}")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    _require_columns(records, [year], "year")
    _require_columns(records, by_cols, "by")
    _require_columns(records, [count], "count")
    yrs = _numeric_years(records[year], year, integer=True).astype(np.int64)
    if count is None:
        n = np.ones(len(records), dtype=float)
    else:
        n = _check_counts(records[count], count, yrs)
    work = pd.DataFrame({"year": yrs, "count": n}, index=records.index)
    for c in by_cols:
        work[c] = records[c]
    if by_cols:
        out = work.groupby(["year", *by_cols], dropna=False, observed=True)["count"].sum()
        year_index = pd.Index(
            sorted(set(years)) if years is not None else sorted(set(yrs)), name="year"
        )
        cats = [
            pd.Index(work[c].drop_duplicates().sort_values(na_position="last"), name=c)
            for c in by_cols
        ]
        full = pd.MultiIndex.from_product([year_index, *cats])
        out = out.reindex(full, fill_value=0)
    else:
        out = work.groupby("year")["count"].sum()
        if years is not None:
            out = out.reindex(pd.Index(sorted(set(years)), name="year"), fill_value=0)
    frame = out.reset_index()
    frame["count"] = frame["count"].astype(np.int64)
    return frame[["year", *by_cols, "count"]]


@dataclass(frozen=True)
class PoissonRate:
    """Exact (Garwood) confidence interval for a Poisson count or rate.

    Attributes
    ----------
    count : int
        Observed count.
    exposure : float
        Exposure the count accrued over (population, person-years); 1 for a plain count.
    per : float
        Rates are reported per ``per`` units of exposure (e.g. 1000 children).
    estimate, ci_low, ci_high : float
        ``count / exposure * per`` and its exact interval.
    level : float
        Confidence level.
    method : str
        ``"exact (Garwood)"``.
    """

    count: int
    exposure: float
    per: float
    estimate: float
    ci_low: float
    ci_high: float
    level: float
    method: str = "exact (Garwood)"

    def to_frame(self) -> pd.DataFrame:
        """One row: ``count, exposure, per, estimate, ci_low, ci_high, level, method``."""
        return pd.DataFrame([{k: getattr(self, k) for k in self.__dataclass_fields__}])


def poisson_rate(
    count: int, *, exposure: float = 1.0, per: float = 1.0, level: float = 0.95
) -> PoissonRate:
    """Exact confidence interval for a count treated as a Poisson realisation.

    Parameters
    ----------
    count : int
        Observed count (whole number >= 0).
    exposure : float
        Exposure (> 0), e.g. the child population.
    per : float
        Report the rate per this many units of exposure.
    level : float
        Confidence level.

    Returns
    -------
    PoissonRate

    Notes
    -----
    Garwood's interval, ``chi2.ppf((1-level)/2, 2k)/2`` to
    ``chi2.ppf((1+level)/2, 2k+2)/2``, is the Poisson analogue of Clopper-Pearson.

    Examples
    --------
    >>> r = poisson_rate(107_000, exposure=12_000_000, per=1000)
    >>> round(r.estimate, 2), round(r.ci_low, 2), round(r.ci_high, 2)
    (8.92, 8.86, 8.97)
    """
    level = _check_level(level)
    k = _check_counts(pd.Series([count]), "count", ["(argument)"])[0]
    if not exposure > 0 or not math.isfinite(exposure):
        raise InvalidValueError(f"exposure must be a positive number; got {exposure!r}")
    a = 1 - level
    low = 0.0 if k == 0 else stats.chi2.ppf(a / 2, 2 * k) / 2
    high = stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2
    f = per / exposure
    return PoissonRate(
        int(k), float(exposure), float(per), float(k * f), float(low * f), float(high * f), level
    )


@dataclass(frozen=True)
class RateRatio:
    """Ratio of two Poisson rates (``end`` over ``start``) with an exact interval.

    Attributes
    ----------
    start, end : int
        The two years compared (``end`` is the numerator).
    count_start, count_end : int
        The counts in those years.
    exposure_start, exposure_end : float
        Exposures (1.0 for plain counts).
    estimate : float
        Rate ratio ``(count_end/exposure_end) / (count_start/exposure_start)``:
        the fold change (1.076 = 7.6% up; 3.9 = "nearly four times").
    ci_low, ci_high : float
        Exact conditional interval (see Notes). ``ci_high`` is ``inf`` when
        ``count_start`` is 0.
    p_value : float
        Exact two-sided conditional test of equal rates.
    level : float
        Confidence level.
    method : str
        Description of the interval.

    Notes
    -----
    Given the total ``n = count_end + count_start``, ``count_end`` is
    Binomial(n, p) with ``p = R t1 / (R t1 + t0)`` (R the rate ratio, t1/t0 the
    exposures). The Clopper-Pearson interval for p is mapped to R by
    ``R = p / (1 - p) * t0 / t1``. The interval is conservative (coverage >= level).
    """

    start: int
    end: int
    count_start: int
    count_end: int
    exposure_start: float
    exposure_end: float
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float
    method: str = "exact conditional binomial (Clopper-Pearson)"

    @property
    def change(self) -> float:
        """Relative change ``estimate - 1`` (0.076 = +7.6%)."""
        return self.estimate - 1

    def to_frame(self) -> pd.DataFrame:
        """Two rows, ``measure`` = ``"ratio"`` (fold change) and ``"change"`` (ratio - 1).

        Columns: ``start, end, count_start, count_end, measure, estimate, ci_low,
        ci_high, p_value, level, method``.
        """
        base = {
            "start": self.start,
            "end": self.end,
            "count_start": self.count_start,
            "count_end": self.count_end,
        }
        tail = {"p_value": self.p_value, "level": self.level, "method": self.method}
        rows = [
            {**base, "measure": "ratio", "estimate": self.estimate, "ci_low": self.ci_low,
             "ci_high": self.ci_high, **tail},
            {**base, "measure": "change", "estimate": self.estimate - 1,
             "ci_low": self.ci_low - 1, "ci_high": self.ci_high - 1, **tail},
        ]  # fmt: skip
        return pd.DataFrame(rows)


def rate_ratio(
    count_end: int,
    count_start: int,
    *,
    exposure_end: float = 1.0,
    exposure_start: float = 1.0,
    start: int = 0,
    end: int = 1,
    level: float = 0.95,
) -> RateRatio:
    """Exact confidence interval for the ratio of two Poisson counts (or rates).

    Parameters
    ----------
    count_end, count_start : int
        Numerator and denominator counts.
    exposure_end, exposure_start : float
        Exposures (e.g. child population) if comparing rates; 1 for counts.
    start, end : int
        Labels (years) stored in the result.
    level : float
        Confidence level.

    Returns
    -------
    RateRatio

    Examples
    --------
    >>> r = rate_ratio(107_000, 99_443, start=2021, end=2022)
    >>> round(r.change, 3), round(r.ci_low, 3), round(r.ci_high, 3)
    (0.076, 1.067, 1.085)
    """
    level = _check_level(level)
    k1, k0 = _check_counts(pd.Series([count_end, count_start]), "count", [end, start])
    for name, e in (("exposure_end", exposure_end), ("exposure_start", exposure_start)):
        if not (isinstance(e, int | float | np.number) and math.isfinite(e) and e > 0):
            raise InvalidValueError(f"{name} must be a positive number; got {e!r}")
    k1, k0 = int(k1), int(k0)
    n = k1 + k0
    if n == 0:
        raise InvalidValueError(
            f"both counts are 0 (years {_fmt_label(start)} and {_fmt_label(end)}); "
            f"their ratio is undefined"
        )
    t1, t0 = float(exposure_end), float(exposure_start)
    bt = stats.binomtest(k1, n, p=t1 / (t1 + t0))
    ci = bt.proportion_ci(confidence_level=level, method="exact")

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * t0 / t1

    est = math.inf if k0 == 0 else (k1 / t1) / (k0 / t0)
    return RateRatio(
        start=start,
        end=end,
        count_start=k0,
        count_end=k1,
        exposure_start=t0,
        exposure_end=t1,
        estimate=est,
        ci_low=to_ratio(ci.low),
        ci_high=to_ratio(ci.high),
        p_value=float(bt.pvalue),
        level=level,
    )


def fold_change(
    data: CountData,
    start: int,
    end: int,
    *,
    year: str = "year",
    count: str | None = None,
    level: float = 0.95,
) -> RateRatio:
    """Fold change in yearly counts from ``start`` to ``end``, with an exact CI.

    Parameters
    ----------
    data : Series or DataFrame
        Counts indexed by year, a counts table (``year`` + ``count`` columns) or
        records (``count=None``; one row per offence).
    start, end : int
        Years to compare; the ratio is ``end / start``.
    year : str
        Year column (DataFrame input).
    count : str, optional
        Count column; ``None`` counts rows.
    level : float
        Confidence level.

    Returns
    -------
    RateRatio
        ``estimate`` is the ratio, ``change`` the relative change; see
        :func:`rate_ratio` for the method.

    Examples
    --------
    >>> s = pd.Series({2012: 27_500, 2021: 99_443, 2022: 107_000})
    >>> round(fold_change(s, 2012, 2022).estimate, 2)
    3.89
    """
    level = _check_level(level)
    s, ycol, _ = _year_counts(data, year=year, count=count)
    a, b = _get_year(s, start, ycol), _get_year(s, end, ycol)
    return rate_ratio(int(s[b]), int(s[a]), start=a, end=b, level=level)


def year_on_year(
    data: CountData,
    *,
    lag: int = 1,
    year: str = "year",
    count: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Change over ``lag`` years for every year of a consecutive series.

    Parameters
    ----------
    data : Series or DataFrame
        As for :func:`fold_change`. Years must be consecutive (a gap raises
        :class:`~csa_survey.exceptions.InvalidValueError` naming the missing year).
    lag : int
        1 for year-on-year change; 10 for "versus ten years before".
    year, count, level
        As for :func:`fold_change`.

    Returns
    -------
    DataFrame
        ``RateRatio.to_frame()`` rows stacked: for each year ``end`` with
        ``end - lag`` in the series, a ``"ratio"`` and a ``"change"`` row.

    Examples
    --------
    >>> s = pd.Series({2020: 90_000, 2021: 99_443, 2022: 107_000})
    >>> t = year_on_year(s)
    >>> t.loc[t.measure == "change", ["end", "estimate"]].round(3).values.tolist()
    [[2021.0, 0.105], [2022.0, 0.076]]
    """
    level = _check_level(level)
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 1:
        raise InvalidValueError(f"lag must be a whole number of years >= 1; got {lag!r}")
    s, ycol, _ = _year_counts(data, year=year, count=count)
    _require_consecutive(s, ycol, "year-on-year change")
    frames = [
        rate_ratio(int(s[y]), int(s[y - lag]), start=y - lag, end=y, level=level).to_frame()
        for y in s.index
        if y - lag in s.index
    ]
    if not frames:
        raise InvalidValueError(
            f"column {ycol!r} spans {s.index.min()}-{s.index.max()}: no pair of years {lag} apart"
        )
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- GLM growth


@dataclass(frozen=True)
class _CountFit:
    result: Any
    family: str
    reason: str
    dispersion: float
    ct_statistic: float
    ct_p_value: float
    nb_alpha: float


def _glm(y: np.ndarray, X: np.ndarray, family: Any, scale: str | None = None) -> Any:
    """Fit a GLM by IRLS. A perfect fit (e.g. a constant series) is not an
    identification problem for a log-linear trend on year, so statsmodels'
    PerfectSeparationWarning is silenced here; non-convergence is not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        return sm.GLM(y, X, family=family).fit(scale=scale)


def _nb_alpha_ml(y: np.ndarray, X: np.ndarray) -> tuple[float, bool]:
    """NB2 alpha by maximising the profile log-likelihood over log(alpha).

    For each alpha the GLM (IRLS) gives the coefficients; Brent's method on
    ``log(alpha)`` in [1e-10, 1e3] finds the maximum. Returns (alpha, ok); ``ok`` is
    False if the maximum is at the Poisson boundary (no overdispersion to estimate).
    """
    lo, hi = math.log(1e-10), math.log(1e3)

    def negll(log_alpha: float) -> float:
        fam = sm.families.NegativeBinomial(alpha=math.exp(log_alpha))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SMConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            return -float(_glm(y, X, fam).llf)

    opt = optimize.minimize_scalar(
        negll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-8}
    )
    # alpha -> 0 is the Poisson limit: if the profile likelihood is no better there
    # than Poisson's, the maximum is on the boundary and alpha is not identified.
    ll_pois = float(_glm(y, X, sm.families.Poisson()).llf)
    gain = -float(opt.fun) - ll_pois
    ok = bool(opt.success) and math.isfinite(opt.fun) and gain > 1e-6
    return math.exp(opt.x), ok


def _fit_counts(
    y: np.ndarray, X: np.ndarray, family: Family, overdispersion_p: float
) -> _CountFit:
    """Fit a log-linear count GLM, choosing Poisson or negative binomial if asked."""
    if family not in ("auto", "poisson", "negative_binomial", "quasipoisson"):
        raise InvalidValueError(
            f"family must be 'auto', 'poisson', 'negative_binomial' or 'quasipoisson'; "
            f"got {family!r}"
        )
    pois = _glm(y, X, sm.families.Poisson())
    df_resid = len(y) - X.shape[1]
    dispersion = float(pois.pearson_chi2 / df_resid) if df_resid > 0 else math.nan
    # Cameron & Trivedi (1990): regress ((y-mu)^2 - y)/mu on mu, no constant; H1: alpha > 0
    mu = np.asarray(pois.mu)
    aux = ((y - mu) ** 2 - y) / mu
    ct = sm.OLS(aux, mu[:, None]).fit()
    ct_t = float(ct.tvalues[0]) if ct.df_resid > 0 else math.nan
    ct_p = float(stats.t.sf(ct_t, df=ct.df_resid)) if ct.df_resid > 0 else math.nan
    test_txt = (
        f"Cameron-Trivedi overdispersion test t = {ct_t:.3g}, one-sided p = {ct_p:.3g}; "
        f"Pearson chi2/df of the Poisson fit = {dispersion:.3g}"
    )
    chosen: str = family
    if family == "auto":
        if ct_p < overdispersion_p:
            chosen = "negative_binomial"
            reason = f"auto: {test_txt} (p < {overdispersion_p}) -> negative binomial"
        else:
            chosen = "poisson"
            reason = f"auto: {test_txt} (p >= {overdispersion_p}) -> Poisson"
    else:
        reason = f"requested by caller; {test_txt}"
    alpha = math.nan
    if chosen == "poisson":
        res = pois
    elif chosen == "quasipoisson":
        res = _glm(y, X, sm.families.Poisson(), scale="X2")
    else:
        alpha, ok = _nb_alpha_ml(y, X)
        if not ok:
            warnings.warn(
                "negative-binomial dispersion (alpha) could not be estimated by maximum "
                "likelihood (the profile likelihood peaks at alpha = 0); using quasi-Poisson "
                "instead (Poisson GLM with Pearson-estimated scale)",
                ConvergenceWarning,
                stacklevel=3,
            )
            chosen = "quasipoisson"
            reason += "; negative binomial did not converge -> quasi-Poisson"
            res = _glm(y, X, sm.families.Poisson(), scale="X2")
            alpha = math.nan
        else:
            res = _glm(y, X, sm.families.NegativeBinomial(alpha=alpha))
    return _CountFit(res, chosen, reason, dispersion, ct_t, ct_p, alpha)


def _refit_same_family(fit: _CountFit, y: np.ndarray, X: np.ndarray) -> Any:
    if fit.family == "negative_binomial":
        return _glm(y, X, sm.families.NegativeBinomial(alpha=fit.nb_alpha))
    return _glm(y, X, sm.families.Poisson())


def _doubling(slope: float, low: float, high: float) -> tuple[float, float, float]:
    """Doubling time (years) from a log-scale slope and its CI."""
    ln2 = math.log(2)
    if not slope > 0:
        return math.nan, math.nan, math.nan
    return (
        ln2 / slope,
        (ln2 / high if high > 0 else math.nan),
        (ln2 / low if low > 0 else math.inf),
    )


def _fitted_frame(
    res: Any, X: np.ndarray, years: np.ndarray, y: np.ndarray, level: float
) -> pd.DataFrame:
    pred = res.get_prediction(X).summary_frame(alpha=1 - level)
    return pd.DataFrame(
        {
            "year": years,
            "count": y,
            "fitted": pred["mean"].to_numpy(),
            "ci_low": pred["mean_ci_lower"].to_numpy(),
            "ci_high": pred["mean_ci_upper"].to_numpy(),
        }
    )


def _prepare_glm(
    data: CountData, year: str, count: str | None, min_years: int, what: str
) -> tuple[pd.Series, np.ndarray, np.ndarray, float]:
    s, ycol, ccol = _year_counts(data, year=year, count=count)
    if len(s) < min_years:
        raise InvalidValueError(
            f"column {ycol!r} has {len(s)} year(s) ({s.index.min()}-{s.index.max()}); "
            f"{what} needs at least {min_years}"
            + ("; for two years use fold_change()" if min_years == 3 else "")
        )
    if (s == 0).all():
        raise InvalidValueError(f"column {ccol!r} is 0 in every year: no trend to fit")
    years = s.index.to_numpy()
    return s, years, s.to_numpy(dtype=float), float(years.mean())


@dataclass(frozen=True, eq=False)
class GrowthResult:
    """Average annual growth from a log-linear count GLM on year.

    The model is ``log E[count_t] = b0 + b1 (t - centre)``; the average (compound)
    annual growth is ``exp(b1) - 1`` and the doubling time ``log(2) / b1`` years.

    Attributes
    ----------
    estimate, ci_low, ci_high : float
        Annual growth rate as a proportion (0.145 = 14.5% a year) and its Wald CI
        (``exp(b1 +- z se) - 1``).
    level : float
        Confidence level.
    family : str
        ``"poisson"``, ``"negative_binomial"`` (NB2, alpha by maximum likelihood) or
        ``"quasipoisson"``.
    family_reason : str
        Why that family was used (the overdispersion test and its result).
    dispersion : float
        Pearson chi2 / df of the Poisson fit (1 if counts were Poisson).
    overdispersion_statistic, overdispersion_p_value : float
        Cameron-Trivedi t statistic and one-sided p-value (H1: NB2 overdispersion).
    nb_alpha : float
        NB2 dispersion parameter (NaN unless negative binomial).
    slope, slope_se : float
        ``b1`` (log scale) and its standard error.
    doubling_time, doubling_ci_low, doubling_ci_high : float
        Years to double, with the CI mapped from the slope's CI (``inf`` upper limit
        if the growth CI includes 0; all NaN if the series is not growing).
    centre : float
        Year at which the intercept is centred (mean year).
    fitted : DataFrame
        ``year, count, fitted, ci_low, ci_high`` (fitted mean and its CI) for plots.
    """

    estimate: float
    ci_low: float
    ci_high: float
    level: float
    family: str
    family_reason: str
    dispersion: float
    overdispersion_statistic: float
    overdispersion_p_value: float
    nb_alpha: float
    slope: float
    slope_se: float
    doubling_time: float
    doubling_ci_low: float
    doubling_ci_high: float
    centre: float
    fitted: pd.DataFrame = field(repr=False)

    @property
    def years(self) -> tuple[int, int]:
        """First and last year of the fit."""
        return int(self.fitted["year"].iloc[0]), int(self.fitted["year"].iloc[-1])

    def to_frame(self) -> pd.DataFrame:
        """Rows ``measure`` = ``"annual_growth"`` and ``"doubling_time"`` (years).

        Columns: ``measure, estimate, ci_low, ci_high, level, family, start, end``.
        """
        start, end = self.years
        common = {"level": self.level, "family": self.family, "start": start, "end": end}
        return pd.DataFrame(
            [
                {"measure": "annual_growth", "estimate": self.estimate,
                 "ci_low": self.ci_low, "ci_high": self.ci_high, **common},
                {"measure": "doubling_time", "estimate": self.doubling_time,
                 "ci_low": self.doubling_ci_low, "ci_high": self.doubling_ci_high, **common},
            ]
        )  # fmt: skip


def growth_rate(
    data: CountData,
    *,
    year: str = "year",
    count: str | None = None,
    family: Family = "auto",
    overdispersion_p: float = 0.05,
    level: float = 0.95,
) -> GrowthResult:
    """Average annual (compound) growth of yearly counts, from a log-linear GLM.

    Parameters
    ----------
    data : Series or DataFrame
        Counts indexed by year, a counts table, or records (see module docs). At
        least three years; gaps are allowed (a missing year is left out, not zero).
    year, count : str
        Column names for DataFrame input.
    family : {"auto", "poisson", "negative_binomial", "quasipoisson"}
        ``"auto"`` fits Poisson, runs the Cameron-Trivedi test for overdispersion,
        and switches to a negative-binomial (NB2) GLM when its one-sided p-value is
        below ``overdispersion_p``. Recorded-crime totals are nearly always
        overdispersed (year-to-year variation far beyond Poisson noise), and a Poisson
        fit would then give intervals that are much too narrow.
    overdispersion_p : float
        Significance level of that test.
    level : float
        Confidence level.

    Returns
    -------
    GrowthResult

    Notes
    -----
    The NB2 alpha is estimated by maximum likelihood (profile likelihood of
    ``statsmodels.GLM(family=NegativeBinomial(alpha))`` maximised over alpha) and
    then held fixed; coefficients equal the joint ML fit. Intervals are Wald
    intervals on the log scale (alpha treated as known), transformed.

    Examples
    --------
    >>> s = pd.Series([100, 121, 146, 177, 214], index=range(2018, 2023))
    >>> g = growth_rate(s)
    >>> g.family, round(g.estimate, 3), round(g.doubling_time, 2)
    ('poisson', 0.21, 3.64)
    """
    level = _check_level(level)
    s, years, y, centre = _prepare_glm(data, year, count, 3, "a growth-rate fit")
    X = sm.add_constant(years - centre)
    fit = _fit_counts(y, X, family, overdispersion_p)
    res = fit.result
    b, se = float(res.params[1]), float(res.bse[1])
    z = _z(level)
    lo, hi = b - z * se, b + z * se
    d, dlo, dhi = _doubling(b, lo, hi)
    return GrowthResult(
        estimate=math.expm1(b),
        ci_low=math.expm1(lo),
        ci_high=math.expm1(hi),
        level=level,
        family=fit.family,
        family_reason=fit.reason,
        dispersion=fit.dispersion,
        overdispersion_statistic=fit.ct_statistic,
        overdispersion_p_value=fit.ct_p_value,
        nb_alpha=fit.nb_alpha,
        slope=b,
        slope_se=se,
        doubling_time=d,
        doubling_ci_low=dlo,
        doubling_ci_high=dhi,
        centre=centre,
        fitted=_fitted_frame(res, X, years, y, level),
    )


@dataclass(frozen=True, eq=False)
class BreakTestResult:
    """Test for a change of slope at ``break_year`` in a log-linear count model.

    Model: ``log E[count_t] = b0 + b1 (t - centre) + b2 max(t - break_year, 0)`` (a
    continuous "hinge": the trend bends at ``break_year``, with no jump).

    Attributes
    ----------
    break_year : int
        Last year of the "before" segment.
    statistic, df, p_value : float
        Test of ``b2 = 0`` (chi-square with 1 df): likelihood ratio (``test="lr"``,
        scaled by the Pearson dispersion for quasi-Poisson) or Wald (``"wald"``).
    test : str
        ``"lr"`` or ``"wald"``.
    growth_before, growth_after : tuple of float
        ``(estimate, ci_low, ci_high)`` annual growth before and after the break.
    slope_change : tuple of float
        ``(estimate, ci_low, ci_high)`` of ``exp(b2)``: the ratio of the yearly growth
        factors after vs before (1 = no change).
    level, family, family_reason, dispersion, nb_alpha
        As in :class:`GrowthResult` (family chosen on the segmented model).
    fitted : DataFrame
        ``year, count, fitted, ci_low, ci_high`` from the segmented model.
    """

    break_year: int
    statistic: float
    df: int
    p_value: float
    test: str
    growth_before: tuple[float, float, float]
    growth_after: tuple[float, float, float]
    slope_change: tuple[float, float, float]
    level: float
    family: str
    family_reason: str
    dispersion: float
    nb_alpha: float
    fitted: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Rows ``growth_before``, ``growth_after``, ``slope_change``.

        Columns: ``measure, estimate, ci_low, ci_high, level, break_year, statistic,
        p_value, test, family`` (the test columns repeat on every row).
        """
        rows = [
            {"measure": m, "estimate": v[0], "ci_low": v[1], "ci_high": v[2]}
            for m, v in (
                ("growth_before", self.growth_before),
                ("growth_after", self.growth_after),
                ("slope_change", self.slope_change),
            )
        ]
        out = pd.DataFrame(rows)
        out["level"] = self.level
        out["break_year"] = self.break_year
        out["statistic"] = self.statistic
        out["p_value"] = self.p_value
        out["test"] = self.test
        out["family"] = self.family
        return out


def break_test(
    data: CountData,
    break_year: int,
    *,
    year: str = "year",
    count: str | None = None,
    test: Literal["lr", "wald"] = "lr",
    family: Family = "auto",
    overdispersion_p: float = 0.05,
    level: float = 0.95,
) -> BreakTestResult:
    """Did the growth rate change after ``break_year``? (segmented log-linear GLM).

    Parameters
    ----------
    data : Series or DataFrame
        As for :func:`growth_rate`.
    break_year : int
        The last year on the old trend; the slope may change from the next year on.
        Needs at least two years up to and including it and one after (and one
        residual degree of freedom: four years in all).
    test : {"lr", "wald"}
        Likelihood-ratio test against the unbroken trend (same family and, for the
        negative binomial, the same alpha), or a Wald test on ``b2``.
    family, overdispersion_p, level
        As for :func:`growth_rate`; the family is chosen on the segmented model.

    Returns
    -------
    BreakTestResult

    Examples
    --------
    >>> s = pd.Series([100, 110, 121, 133, 200, 300, 450], index=range(2016, 2023))
    >>> bt = break_test(s, 2019, family="poisson")
    >>> bt.p_value < 0.001, round(bt.growth_after[0], 2)
    (True, 0.5)
    """
    level = _check_level(level)
    if test not in ("lr", "wald"):
        raise InvalidValueError(f"test must be 'lr' or 'wald'; got {test!r}")
    s, years, y, centre = _prepare_glm(data, year, count, 4, "a break test")
    ycol = year if isinstance(data, pd.DataFrame) else "index (year)"
    if isinstance(break_year, bool) or not isinstance(break_year, int | np.integer):
        raise InvalidValueError(f"break_year must be a whole year; got {break_year!r}")
    n_before = int((years <= break_year).sum())
    n_after = int((years > break_year).sum())
    if n_before < 2 or n_after < 1:
        raise InvalidValueError(
            f"break_year {break_year} leaves {n_before} year(s) up to it and {n_after} "
            f"after it in column {ycol!r} ({years.min()}-{years.max()}); need at least 2 "
            f"and 1"
        )
    hinge = np.maximum(years - break_year, 0).astype(float)
    X1 = np.column_stack([np.ones_like(y), years - centre, hinge])
    X0 = X1[:, :2]
    fit = _fit_counts(y, X1, family, overdispersion_p)
    res1 = fit.result
    if test == "wald":
        stat = float((res1.params[2] / res1.bse[2]) ** 2)
    else:
        res0 = _refit_same_family(fit, y, X0)
        if fit.family == "quasipoisson":
            stat = float((res0.deviance - res1.deviance) / res1.scale)
        else:
            stat = float(2 * (res1.llf - res0.llf))
        stat = max(stat, 0.0)
    p = float(stats.chi2.sf(stat, 1))
    z = _z(level)
    V = np.asarray(res1.cov_params())
    b = np.asarray(res1.params)

    def interval(c: np.ndarray) -> tuple[float, float, float]:
        est = float(c @ b)
        se = float(np.sqrt(c @ V @ c))
        return math.expm1(est), math.expm1(est - z * se), math.expm1(est + z * se)

    before = interval(np.array([0.0, 1.0, 0.0]))
    after = interval(np.array([0.0, 1.0, 1.0]))
    ch = interval(np.array([0.0, 0.0, 1.0]))
    return BreakTestResult(
        break_year=int(break_year),
        statistic=stat,
        df=1,
        p_value=p,
        test=test,
        growth_before=before,
        growth_after=after,
        slope_change=(ch[0] + 1, ch[1] + 1, ch[2] + 1),
        level=level,
        family=fit.family,
        family_reason=fit.reason,
        dispersion=fit.dispersion,
        nb_alpha=fit.nb_alpha,
        fitted=_fitted_frame(res1, X1, years, y, level),
    )


# --------------------------------------------------------------------------- composition


def _filter_within(df: pd.DataFrame, within: Mapping[str, Any] | None) -> pd.DataFrame:
    if not within:
        return df
    _require_columns(df, list(within), "within")
    mask = np.ones(len(df), dtype=bool)
    for col, val in within.items():
        if isinstance(val, list | tuple | set | frozenset | pd.Index | np.ndarray):
            mask &= df[col].isin(list(val)).to_numpy(dtype=bool, na_value=False)
        else:
            mask &= (df[col] == val).to_numpy(dtype=bool, na_value=False)
    return df.loc[mask]


def _describe_within(within: Mapping[str, Any] | None) -> str:
    if not within:
        return ""
    parts = []
    for col, val in within.items():
        if isinstance(val, list | tuple | set | frozenset | pd.Index | np.ndarray):
            parts.append(f"{col} in {sorted(map(_fmt_label, val))}")
        else:
            parts.append(f"{col} = {_fmt_label(val)}")
    return " and ".join(parts)


def _tally(
    data: CountData,
    column: str | None,
    *,
    count: str | None,
    within: Mapping[str, Any] | None,
    exclude: Sequence[Hashable],
) -> tuple[pd.Series, int, str]:
    """Counts per category, plus how many were missing/excluded, plus column name."""
    if isinstance(data, pd.Series):
        if within:
            raise InvalidValueError(
                "within= needs record-level or counts DataFrame input, not a Series"
            )
        col = column or (str(data.name) if data.name is not None else "count")
        labels = list(data.index)
        vals = _check_counts(data, col, labels, noun="category")
        s = pd.Series(vals, index=data.index)
        s = s.groupby(level=0, sort=False, dropna=False).sum()
        name = str(data.index.name) if data.index.name is not None else "category"
    elif isinstance(data, pd.DataFrame):
        if column is None:
            raise InvalidValueError("column= is required for DataFrame input")
        _require_columns(data, [column], "category")
        _require_columns(data, [count], "count")
        sub = _filter_within(data, within)
        if count is None:
            weights = pd.Series(1.0, index=sub.index)
        else:
            vals = _check_counts(sub[count], count, list(sub.index), noun="row")
            weights = pd.Series(vals, index=sub.index)
        s = weights.groupby(sub[column], sort=True, dropna=False, observed=False).sum()
        name = column
    else:
        raise InvalidValueError(
            f"data must be a Series of counts or a DataFrame; got {type(data).__name__}"
        )
    missing = pd.isna(s.index) | s.index.isin(list(exclude))
    n_out = int(s[missing].sum())
    s = s[~missing].astype(np.int64)
    s.index.name = name
    return s, n_out, name


@dataclass(frozen=True, eq=False)
class CompositionResult:
    """Shares of categories among counted records, with two kinds of interval.

    Attributes
    ----------
    column : str
        The category column.
    n : int
        Base: records with a known (non-missing, non-excluded) category.
    n_excluded : int
        Records left out of the base (missing category or in ``exclude``).
    method : str
        Simultaneous interval method (statsmodels' ``multinomial_proportions_confint``).
    level : float
        Confidence level.
    base : str
        Description of the base, e.g. ``"Base: offences recorded in 2022, n = 107,000"``.
    table : DataFrame
        See :meth:`to_frame`.
    """

    column: str
    n: int
    n_excluded: int
    method: str
    level: float
    base: str
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per category.

        Columns: ``category, count, n, estimate, ci_low, ci_high`` (simultaneous,
        ``method``), ``ci_low_exact, ci_high_exact`` (per-category Clopper-Pearson),
        ``level, method``.
        """
        return self.table.copy()


def composition(
    data: CountData,
    column: str | None = None,
    *,
    count: str | None = None,
    within: Mapping[str, Any] | None = None,
    exclude: Sequence[Hashable] = (),
    method: str = "goodman",
    base_label: str | None = None,
    level: float = 0.95,
) -> CompositionResult:
    """Composition of counts by category (R2: 75% contact / 25% images).

    Parameters
    ----------
    data : Series or DataFrame
        Counts indexed by category; a counts table (``column`` + ``count``); or
        records (``count=None``).
    column : str
        Category column (DataFrame input).
    count : str, optional
        Count column; ``None`` counts rows.
    within : mapping, optional
        Restrict to rows where each column equals the value (or is in the list),
        e.g. ``{"year": 2022, "offence_type": "contact"}``.
    exclude : sequence
        Category values left out of the base like missing values (e.g.
        ``["unknown"]`` for "offences with a known perpetrator age"). Missing values
        (NaN) are always left out; both are counted in ``n_excluded``.
    method : str
        ``"goodman"`` (default) or ``"sison-glaz"``: simultaneous intervals from
        ``statsmodels.stats.proportion.multinomial_proportions_confint``.
    base_label : str, optional
        Words for the base ("offences recorded in 2022"); default describes the filter.
    level : float
        Confidence level.

    Returns
    -------
    CompositionResult

    Examples
    --------
    >>> c = composition(pd.Series({"contact": 80_250, "images": 26_750}))
    >>> c.to_frame()[["category", "estimate"]].values.tolist()
    [['contact', 0.75], ['images', 0.25]]
    >>> c.base
    'Base: all records, n = 107,000'
    """
    level = _check_level(level)
    if method not in ("goodman", "sison-glaz"):
        raise InvalidValueError(f"method must be 'goodman' or 'sison-glaz'; got {method!r}")
    s, n_out, name = _tally(data, column, count=count, within=within, exclude=exclude)
    n = int(s.sum())
    if n == 0:
        raise EmptyDomainError(
            f"no records with a known {name!r}"
            + (f" where {_describe_within(within)}" if within else "")
        )
    counts = s.to_numpy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sim = multinomial_proportions_confint(counts, alpha=1 - level, method=method)
    except (ValueError, NotImplementedError) as err:
        raise InvalidValueError(
            f"{method} intervals are not available for column {name!r} with "
            f"{len(counts)} categories: {err}"
        ) from err
    exact = [
        stats.binomtest(int(k), n).proportion_ci(confidence_level=level, method="exact")
        for k in counts
    ]
    table = pd.DataFrame(
        {
            "category": list(s.index),
            "count": counts,
            "n": n,
            "estimate": counts / n,
            "ci_low": sim[:, 0],
            "ci_high": sim[:, 1],
            "ci_low_exact": [c.low for c in exact],
            "ci_high_exact": [c.high for c in exact],
            "level": level,
            "method": method,
        }
    )
    base = _base_text(base_label, within, name, n, n_out)
    return CompositionResult(name, n, n_out, method, level, base, table)


def _base_text(
    label: str | None, within: Mapping[str, Any] | None, column: str, n: int, n_out: int
) -> str:
    if label is None:
        label = f"records with {_describe_within(within)}" if within else "all records"
    text = f"Base: {label}, n = {n:,}"
    if n_out:
        text += f" ({n_out:,} with missing or excluded {column} left out)"
    return text


@dataclass(frozen=True)
class ShareResult:
    """One share within a subgroup, with its base (R4: 33% of contact offences).

    Attributes
    ----------
    column : str
        Column whose value is counted.
    value : object
        The value counted ("family", True, ...).
    count, n : int
        Records with the value, and the base (records in the subgroup with a known,
        non-excluded ``column``).
    n_excluded : int
        Subgroup records left out for a missing or excluded ``column``.
    estimate, ci_low, ci_high : float
        ``count / n`` and its binomial interval.
    level : float
        Confidence level.
    method : str
        ``"exact"`` (Clopper-Pearson), ``"wilson"`` or ``"wilsoncc"``.
    base : str
        ``"Base: contact offences recorded in 2022, n = 80,250"``.
    within : tuple
        The subgroup filter as ``((column, value), ...)``.
    """

    column: str
    value: Any
    count: int
    n: int
    n_excluded: int
    estimate: float
    ci_low: float
    ci_high: float
    level: float
    method: str
    base: str
    within: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        return (
            f"{self.column} = {_fmt_label(self.value)}: {self.estimate:.1%} "
            f"({self.level:.0%} CI {self.ci_low:.1%} to {self.ci_high:.1%}). {self.base}"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``column, value, count, n, estimate, ci_low, ci_high, level, method, base``."""
        keys = ["column", "value", "count", "n", "estimate", "ci_low", "ci_high", "level"]
        return pd.DataFrame([{k: getattr(self, k) for k in [*keys, "method", "base"]}])


def share(
    data: pd.DataFrame,
    column: str,
    value: Any,
    *,
    count: str | None = None,
    within: Mapping[str, Any] | None = None,
    exclude: Sequence[Hashable] = (),
    base_label: str | None = None,
    method: Literal["exact", "wilson", "wilsoncc"] = "exact",
    level: float = 0.95,
) -> ShareResult:
    """Share of records with ``column == value`` within a subgroup, base stated.

    Parameters
    ----------
    data : DataFrame
        Records (``count=None``) or a counts table with a ``count`` column.
    column : str
        Column to look at (e.g. ``"environment"``).
    value : object
        Value whose share is wanted (e.g. ``"family"``).
    count : str, optional
        Count column; ``None`` counts rows.
    within : mapping, optional
        The subgroup (denominator), e.g. ``{"offence_type": "contact", "year": 2022}``.
    exclude : sequence
        Values of ``column`` treated as unknown and left out of the base.
    base_label : str, optional
        Words for the base; ``"contact offences recorded in 2022"`` gives
        ``"Base: contact offences recorded in 2022, n = 80,250"``.
    method : {"exact", "wilson", "wilsoncc"}
        Binomial interval (scipy's ``binomtest(...).proportion_ci``).
    level : float
        Confidence level.

    Returns
    -------
    ShareResult

    Examples
    --------
    >>> rec = pd.DataFrame({"type": ["contact"] * 3 + ["image"], "env": ["family", "other", "other", "other"]})
    >>> r = share(rec, "env", "family", within={"type": "contact"}, base_label="contact offences")
    >>> r.count, r.n, r.base
    (1, 3, 'Base: contact offences, n = 3')
    """
    level = _check_level(level)
    if method not in ("exact", "wilson", "wilsoncc"):
        raise InvalidValueError(f"method must be 'exact', 'wilson' or 'wilsoncc'; got {method!r}")
    if not isinstance(data, pd.DataFrame):
        raise InvalidValueError(f"data must be a DataFrame; got {type(data).__name__}")
    s, n_out, name = _tally(data, column, count=count, within=within, exclude=exclude)
    n = int(s.sum())
    if n == 0:
        raise EmptyDomainError(
            f"no records with a known {column!r}"
            + (f" where {_describe_within(within)}" if within else "")
        )
    hit = np.array([bool(c == value) for c in s.index], dtype=bool)
    k = int(s.to_numpy()[hit].sum())
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method=method)
    return ShareResult(
        column=column,
        value=value,
        count=k,
        n=n,
        n_excluded=n_out,
        estimate=k / n,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        level=level,
        method=method,
        base=_base_text(base_label, within, name, n, n_out),
        within=tuple((within or {}).items()),
    )


# --------------------------------------------------------------------------- admin series


def _admin_frame(
    data: CountData,
    *,
    time: str,
    value: str,
    definition: str | None,
    unit: str | None,
) -> pd.DataFrame:
    """Normalise an admin series to columns time, value, definition, unit, row."""
    if isinstance(data, pd.Series):
        tname = str(data.index.name) if data.index.name is not None else "index (time)"
        idx = data.index.to_series(index=data.index)
        t = _numeric_years(idx, tname, integer=False)
        vname = str(data.name) if data.name is not None else "value"
        v = data
        out = pd.DataFrame({"time": t, "value": v.to_numpy(dtype=float, na_value=np.nan)})
        out["definition"] = None
        out["unit"] = None
        out["label"] = t
        out.attrs = {"time": tname, "value": vname, "definition": None, "unit": None}
        _check_admin_values(out, vname)
        return out
    if not isinstance(data, pd.DataFrame):
        raise InvalidValueError(
            f"data must be a Series indexed by time or a DataFrame; got {type(data).__name__}"
        )
    _require_columns(data, [time], "time")
    _require_columns(data, [value], "value")
    _require_columns(data, [definition], "definition")
    _require_columns(data, [unit], "unit")
    if definition is None and "definition" in data.columns:
        definition = "definition"
    if unit is None and "unit" in data.columns:
        unit = "unit"
    if pd.api.types.is_bool_dtype(data[value].dtype) or not pd.api.types.is_numeric_dtype(
        data[value].dtype
    ):
        raise InvalidValueError(f"column {value!r} must be numeric; got dtype {data[value].dtype}")
    t = _numeric_years(data[time], time, integer=False)
    out = pd.DataFrame(
        {
            "time": t,
            "value": data[value].to_numpy(dtype=float, na_value=np.nan),
            "definition": data[definition].to_numpy(dtype=object) if definition else None,
            "unit": data[unit].to_numpy(dtype=object) if unit else None,
            "label": t,
        }
    )
    out.attrs = {"time": time, "value": value, "definition": definition, "unit": unit}
    _check_admin_values(out, value)
    return out.sort_values("time", kind="stable").reset_index(drop=True)


def _check_admin_values(out: pd.DataFrame, vname: str) -> None:
    v = out["value"].to_numpy()
    for bad, what in (
        (~np.isfinite(v), "a missing or non-finite value"),
        (np.isfinite(v) & (v < 0), "a negative value"),
    ):
        if bad.any():
            raise InvalidValueError(
                f"column {vname!r} has {what} at {_describe_years(out['label'][bad])}"
            )


def _distinct(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(v for v in values if v is not None and not pd.isna(v)))


def _check_units(frame: pd.DataFrame, context: str) -> str | None:
    ucol = frame.attrs.get("unit")
    units = _distinct(frame["unit"])
    if ucol and frame["unit"].isna().any():
        rows = frame.loc[frame["unit"].isna(), "label"]
        raise UnitsError(f"column {ucol!r} is missing at {_describe_years(rows)}")
    if len(units) > 1:
        where = "; ".join(
            f"{u!r} at {_describe_years(frame.loc[frame['unit'] == u, 'label'])}" for u in units
        )
        raise UnitsError(
            f"column {ucol!r} mixes units ({where}); {context} across different units is "
            f"refused. Convert explicitly first, e.g. convert_rate(data, to='per year'), "
            f"or select rows with one unit"
        )
    return units[0] if units else None


def _definition_note(frame: pd.DataFrame) -> str:
    dcol = frame.attrs.get("definition")
    defs = _distinct(frame["definition"])
    if len(defs) <= 1:
        return ""
    where = "; ".join(
        f"{d!r} at {_describe_years(frame.loc[frame['definition'] == d, 'label'])}" for d in defs
    )
    note = (
        f"column {dcol!r} mixes definitions ({where}): changes between them are partly "
        f"changes of definition, not of volume"
    )
    warnings.warn(note, DefinitionWarning, stacklevel=3)
    return note


def convert_rate(
    data: pd.DataFrame, to: str = "per year", *, value: str = "value", unit: str = "unit"
) -> pd.DataFrame:
    """Explicitly convert rate values between time units (e.g. per month -> per year).

    Parameters
    ----------
    data : DataFrame
        Series with a ``value`` and a ``unit`` column. Units must be among
        ``RATE_UNITS`` ("per day", "per week", "per month", "per quarter",
        "per year"); rows already in ``to`` are unchanged.
    to : str
        Target unit.
    value, unit : str
        Column names.

    Returns
    -------
    DataFrame
        A copy with ``value`` rescaled (per month x 12 = per year: a flow at a
        constant rate), ``unit`` set to ``to`` and a ``converted_from`` column
        holding the original unit (None where unchanged).

    Examples
    --------
    >>> arrests = pd.DataFrame({"year": [2012, 2021], "value": [192, 850], "unit": ["per year", "per month"]})
    >>> convert_rate(arrests)["value"].tolist()
    [192.0, 10200.0]
    """
    if not isinstance(data, pd.DataFrame):
        raise InvalidValueError(f"data must be a DataFrame; got {type(data).__name__}")
    _require_columns(data, [value], "value")
    _require_columns(data, [unit], "unit")
    if to not in RATE_UNITS:
        raise UnitsError(f"to must be one of {sorted(RATE_UNITS)}; got {to!r}")
    units = data[unit]
    unknown = ~units.isin(list(RATE_UNITS))
    if unknown.any():
        raise UnitsError(
            f"column {unit!r} has unit {units[unknown].iloc[0]!r} in "
            f"{_describe_rows(data.index[unknown])}, which is not a rate; only "
            f"{sorted(RATE_UNITS)} can be converted (a stock such as a database total "
            f"cannot be turned into a rate)"
        )
    factor = units.map(lambda u: RATE_UNITS[u] / RATE_UNITS[to]).astype(float)
    out = data.copy()
    out[value] = data[value].astype(float) * factor
    out["converted_from"] = pd.Series(
        [None if u == to else u for u in units], index=data.index, dtype=object
    )
    out[unit] = to
    return out


def _describe_rows(labels: Iterable[Any]) -> str:
    return _describe_years(labels, noun="row")


@dataclass(frozen=True)
class GrowthFactor:
    """Exact arithmetic between two points of a published series (no sampling error).

    Attributes
    ----------
    start, end : float
        Times (decimal years; mid-2021 = 2021.5).
    value_start, value_end : float
        Published values.
    years_elapsed : float
        ``end - start``.
    factor : float
        ``value_end / value_start`` (growth factor).
    linear_per_year, linear_per_month : float
        Average absolute increase per year / per month (difference / elapsed time).
    compound_per_year, compound_per_month : float
        Constant compound rate that turns ``value_start`` into ``value_end``.
    unit : str or None
        Common unit of the two points.
    definitions_differ : bool
        True if the two points use different definitions (a warning was issued).
    note : str
        Explanation when ``definitions_differ``.
    kind : str
        ``"count"``: these are published figures, not estimates; there is no CI.
    """

    start: float
    end: float
    value_start: float
    value_end: float
    years_elapsed: float
    factor: float
    linear_per_year: float
    linear_per_month: float
    compound_per_year: float
    compound_per_month: float
    unit: str | None
    definitions_differ: bool
    note: str
    kind: str = "count"

    def to_frame(self) -> pd.DataFrame:
        """Rows per ``measure`` (factor, linear/compound per year/month).

        Columns: ``start, end, measure, estimate, ci_low, ci_high, unit, kind``;
        ``ci_low``/``ci_high`` are NaN because published counts carry no sampling
        interval.
        """
        rows = [
            {"start": self.start, "end": self.end, "measure": m, "estimate": getattr(self, m)}
            for m in (
                "factor",
                "linear_per_year",
                "linear_per_month",
                "compound_per_year",
                "compound_per_month",
            )
        ]
        out = pd.DataFrame(rows)
        out["ci_low"] = np.nan
        out["ci_high"] = np.nan
        out["unit"] = self.unit
        out["kind"] = self.kind
        return out


def growth_factor(
    data: CountData,
    start: float,
    end: float,
    *,
    time: str = "year",
    value: str = "value",
    definition: str | None = None,
    unit: str | None = None,
) -> GrowthFactor:
    """Growth between two points of an admin series (CAID images, arrests).

    Parameters
    ----------
    data : Series or DataFrame
        Values indexed by time, or a DataFrame with ``time`` (decimal years or
        dates) and ``value`` columns, optionally ``definition`` and ``unit``.
    start, end : float
        Times of the two points (exactly as in the data: 2021.5 for mid-2021).
    time, value : str
        Column names.
    definition, unit : str, optional
        Columns naming the definition ("images", "unique files") and unit
        ("images", "per month", "per year"). By default columns called
        ``definition`` and ``unit`` are used if present.

    Returns
    -------
    GrowthFactor

    Raises
    ------
    UnitsError
        If the two points have different units (convert with :func:`convert_rate`).

    Warns
    -----
    DefinitionWarning
        If the two points have different definitions.

    Examples
    --------
    >>> caid = pd.DataFrame({"year": [2020, 2021.5], "value": [17e6, 20e6], "unit": "images"})
    >>> g = growth_factor(caid, 2020, 2021.5)
    >>> round(g.factor, 3), round(g.linear_per_month)
    (1.176, 166667)
    """
    frame = _admin_frame(data, time=time, value=value, definition=definition, unit=unit)
    tname = frame.attrs["time"]
    picked = []
    for t in (start, end):
        hit = frame[np.isclose(frame["time"], float(t), rtol=0, atol=1e-9)]
        if hit.empty:
            raise InvalidValueError(
                f"column {tname!r} has no point at {_fmt_label(t)} "
                f"(times present: {', '.join(_fmt_label(x) for x in frame['label'])})"
            )
        if len(hit) > 1:
            raise InvalidValueError(
                f"column {tname!r} has {len(hit)} points at {_fmt_label(t)}; select one "
                f"(e.g. by definition) first"
            )
        picked.append(hit)
    pair = pd.concat(picked, ignore_index=True)
    pair.attrs = frame.attrs
    u = _check_units(pair, "a growth factor")
    note = _definition_note(pair)
    v0, v1 = float(pair["value"].iloc[0]), float(pair["value"].iloc[1])
    t0, t1 = float(pair["time"].iloc[0]), float(pair["time"].iloc[1])
    dt = t1 - t0
    if dt <= 0:
        raise InvalidValueError(
            f"end ({_fmt_label(end)}) must be after start ({_fmt_label(start)})"
        )
    if v0 == 0:
        raise InvalidValueError(
            f"column {frame.attrs['value']!r} is 0 at {_fmt_label(start)}: no growth factor"
        )
    factor = v1 / v0
    cy = factor ** (1 / dt) - 1
    return GrowthFactor(
        start=t0,
        end=t1,
        value_start=v0,
        value_end=v1,
        years_elapsed=dt,
        factor=factor,
        linear_per_year=(v1 - v0) / dt,
        linear_per_month=(v1 - v0) / (12 * dt),
        compound_per_year=cy,
        compound_per_month=factor ** (1 / (12 * dt)) - 1,
        unit=u,
        definitions_differ=bool(note),
        note=note,
    )


@dataclass(frozen=True, eq=False)
class LogLinearTrend:
    """Descriptive log-linear (OLS on log values) trend of an admin series.

    ``log(value_t) = a + b (t - centre) + e``; the compound growth is ``exp(b) - 1``
    a year and ``exp(b / 12) - 1`` a month.

    Attributes
    ----------
    estimate, ci_low, ci_high : float
        Compound annual growth and its t interval (NaN with a warning if fewer than
        three points).
    monthly, monthly_ci_low, monthly_ci_high : float
        The same per month.
    doubling_time, doubling_ci_low, doubling_ci_high : float
        Years to double.
    slope, slope_se, df_resid : float
        OLS slope on log values, its SE and residual df.
    level : float
        Confidence level.
    unit : str or None
        Unit of the series.
    note : str
        Interpretation note (and mixed-definition note if any).
    fitted : DataFrame
        ``time, value, definition, fitted, ci_low, ci_high`` for plots.

    Notes
    -----
    Admin totals are not Poisson samples: the interval describes how well one
    exponential describes the published points, not sampling error.
    """

    estimate: float
    ci_low: float
    ci_high: float
    monthly: float
    monthly_ci_low: float
    monthly_ci_high: float
    doubling_time: float
    doubling_ci_low: float
    doubling_ci_high: float
    slope: float
    slope_se: float
    df_resid: float
    level: float
    unit: str | None
    note: str
    fitted: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Rows ``annual_growth``, ``monthly_growth``, ``doubling_time``.

        Columns: ``measure, estimate, ci_low, ci_high, level, unit, kind``
        (``kind = "descriptive fit"``).
        """
        rows = [
            ("annual_growth", self.estimate, self.ci_low, self.ci_high),
            ("monthly_growth", self.monthly, self.monthly_ci_low, self.monthly_ci_high),
            ("doubling_time", self.doubling_time, self.doubling_ci_low, self.doubling_ci_high),
        ]
        out = pd.DataFrame(rows, columns=["measure", "estimate", "ci_low", "ci_high"])
        out["level"] = self.level
        out["unit"] = self.unit
        out["kind"] = "descriptive fit"
        return out


def loglinear_trend(
    data: CountData,
    *,
    time: str = "year",
    value: str = "value",
    definition: str | None = None,
    unit: str | None = None,
    level: float = 0.95,
) -> LogLinearTrend:
    """Fit ``log(value) ~ time`` by OLS (statsmodels) to an admin series.

    Parameters
    ----------
    data, time, value, definition, unit
        As for :func:`growth_factor`. All points must share one unit; values must
        be positive.
    level : float
        Confidence level (t distribution on the residual df).

    Returns
    -------
    LogLinearTrend

    Examples
    --------
    >>> caid = pd.DataFrame({"year": [2020, 2021.5, 2022], "value": [17e6, 20e6, 21e6]})
    >>> round(loglinear_trend(caid).estimate, 3)
    0.112
    """
    level = _check_level(level)
    frame = _admin_frame(data, time=time, value=value, definition=definition, unit=unit)
    vname = frame.attrs["value"]
    u = _check_units(frame, "a log-linear trend")
    note = _definition_note(frame)
    if (frame["value"] <= 0).any():
        rows = frame.loc[frame["value"] <= 0, "label"]
        raise InvalidValueError(
            f"column {vname!r} is 0 at {_describe_years(rows)}; a log-linear trend needs "
            f"positive values"
        )
    if len(frame) < 2 or frame["time"].nunique() < 2:
        raise InvalidValueError(
            f"column {frame.attrs['time']!r}: a trend needs at least two distinct times"
        )
    t = frame["time"].to_numpy()
    centre = float(t.mean())
    X = sm.add_constant(t - centre)
    res = sm.OLS(np.log(frame["value"].to_numpy()), X).fit()
    b = float(res.params[1])
    df = float(res.df_resid)
    if df > 0:
        se = float(res.bse[1])
        q = float(stats.t.ppf(0.5 + level / 2, df))
        lo, hi = b - q * se, b + q * se
        pred = res.get_prediction(X).summary_frame(alpha=1 - level)
        f_lo, f_hi = np.exp(pred["mean_ci_lower"]), np.exp(pred["mean_ci_upper"])
    else:
        warnings.warn(
            "two points leave no residual degrees of freedom: the trend is exact "
            "arithmetic and its interval is undefined (NaN)",
            DegreesOfFreedomWarning,
            stacklevel=2,
        )
        se = lo = hi = math.nan
        f_lo = f_hi = np.full(len(t), np.nan)
    d, dlo, dhi = _doubling(b, lo, hi) if df > 0 else (_doubling(b, b, b)[0], math.nan, math.nan)
    interp = (
        "Descriptive fit to published totals (not a sample): the interval shows how "
        "closely one exponential trend describes the points, not sampling error."
    )
    fitted = pd.DataFrame(
        {
            "time": t,
            "value": frame["value"].to_numpy(),
            "definition": frame["definition"].to_numpy(),
            "fitted": np.exp(res.fittedvalues),
            "ci_low": np.asarray(f_lo),
            "ci_high": np.asarray(f_hi),
        }
    )
    return LogLinearTrend(
        estimate=math.expm1(b),
        ci_low=math.expm1(lo),
        ci_high=math.expm1(hi),
        monthly=math.expm1(b / 12),
        monthly_ci_low=math.expm1(lo / 12),
        monthly_ci_high=math.expm1(hi / 12),
        doubling_time=d,
        doubling_ci_low=dlo,
        doubling_ci_high=dhi,
        slope=b,
        slope_se=se,
        df_resid=df,
        level=level,
        unit=u,
        note=interp + (" " + note if note else ""),
        fitted=fitted,
    )
