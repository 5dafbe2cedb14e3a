"""Result objects: :class:`Estimate` and :class:`TestResult`.

Results hold numbers, never formatted text; formatting happens only when a result is
rendered (``_repr_html_``, ``__repr__``). ``Estimate.to_frame()`` is the one tidy shape
that tables, plots and notebooks consume; its columns are fixed by the API contract.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csa_survey.exceptions import InvalidValueError

__all__ = ["Estimate", "TestResult", "t_quantile"]

ESTIMATE_COLUMNS = ("variable", "level", "estimate", "se", "ci_low", "ci_high", "n", "deff")


def t_quantile(level: float, df: float) -> float:
    """Two-sided critical value ``t_{df}(1 - (1 - level)/2)``; normal when ``df`` is infinite.

    Returns NaN when ``df <= 0`` (no degrees of freedom: intervals are undefined).

    Examples
    --------
    >>> round(t_quantile(0.95, float("inf")), 6)
    1.959964
    """
    if not 0 < level < 1:
        raise InvalidValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}.")
    q = 1 - (1 - level) / 2
    if df is None or np.isinf(df):
        return float(stats.norm.ppf(q))
    if not df > 0:
        return float("nan")
    return float(stats.t.ppf(q, df))


@dataclass(frozen=True, repr=False, eq=False)
class Estimate:
    """Design-based estimates with their joint covariance.

    Attributes
    ----------
    statistic : str
        ``"mean"``, ``"total"``, ``"proportion"``, ``"contrast"``, ``"survival"``, ...
    level : float
        Confidence level of ``ci_low``/``ci_high``.
    df : float
        Degrees of freedom used for t-based intervals.
    ci_method : str
        How the intervals were made (``"t"`` for estimate ± t × se, else the method name).
    by : tuple of str
        Names of the domain columns (leading columns of the frame).
    lead : tuple of str
        All columns before ``variable`` (the ``by`` columns, then e.g. ``time``).

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> d = cs.SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3, 4]}))
    >>> est = cs.mean(d, "y")
    >>> list(est.to_frame().columns)
    ['variable', 'level', 'estimate', 'se', 'ci_low', 'ci_high', 'n', 'deff']
    >>> float(est.to_frame()["estimate"].iloc[0])
    2.5
    """

    _frame: pd.DataFrame
    _vcov: np.ndarray
    statistic: str
    level: float
    df: float
    ci_method: str = "t"
    by: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    # ----------------------------------------------------------------- access
    def to_frame(self) -> pd.DataFrame:
        """A new DataFrame, one row per estimate.

        Columns: the ``by`` columns (and e.g. ``time``), ``variable``, ``level``,
        ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n`` (unweighted count of rows with a
        non-missing value in the domain), ``deff`` (design effect; NaN where undefined).
        """
        return self._frame.copy()

    @property
    def labels(self) -> list[str]:
        """One readable, unique label per estimate (the index of :attr:`vcov`)."""
        f = self._frame
        out = []
        for i in range(len(f)):
            row = f.iloc[i]
            lab = str(row["variable"])
            if row["level"] != "":
                lab += f"[{row['level']}]"
            extra = [f"{c}={row[c]}" for c in self.lead]
            if extra:
                lab += " | " + ", ".join(extra)
            out.append(lab)
        return out

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of all estimates, rows and columns in ``to_frame()`` order."""
        labels = self.labels
        return pd.DataFrame(self._vcov.copy(), index=labels, columns=labels)

    @property
    def coef(self) -> pd.Series:
        """Point estimates as a Series indexed by :attr:`labels`."""
        return pd.Series(self._frame["estimate"].to_numpy(), index=self.labels, name="estimate")

    @property
    def se(self) -> pd.Series:
        """Standard errors as a Series indexed by :attr:`labels`."""
        return pd.Series(self._frame["se"].to_numpy(), index=self.labels, name="se")

    def __len__(self) -> int:
        return len(self._frame)

    # --------------------------------------------------------------- contrasts
    def contrast(
        self,
        coefficients: Sequence[float] | np.ndarray | Mapping[str, Any],
        *,
        level: float | None = None,
    ) -> Estimate:
        """Linear combinations of the estimates, with standard errors from :attr:`vcov`.

        Parameters
        ----------
        coefficients : sequence, 2-D array or mapping
            * a sequence of ``len(self)`` numbers: one contrast named ``"contrast"``;
            * a 2-D array (m x ``len(self)``): m contrasts named ``contrast1``, ...;
            * a mapping from estimate label (see :attr:`labels`) or row position to
              coefficient (others 0): one contrast;
            * a mapping from contrast name to either of the above: several contrasts.
        level : float, optional
            Confidence level (default: this estimate's level).

        Returns
        -------
        Estimate
            ``statistic="contrast"``; intervals are estimate ± t(df) × se, with this
            estimate's df (R's ``svycontrast`` + ``confint(df=degf(design))``).

        Examples
        --------
        >>> import pandas as pd, csa_survey as cs
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": ["a", "a", "b", "b"]})
        >>> est = cs.mean(cs.SurveyDesign(df), "y", by="g")
        >>> float(est.contrast([-1, 1]).to_frame()["estimate"].iloc[0])
        2.0
        """
        k = len(self)
        names, matrix = self._contrast_matrix(coefficients, k)
        theta = self._frame["estimate"].to_numpy(dtype=float)
        est = matrix @ theta
        v = matrix @ self._vcov @ matrix.T
        se = np.sqrt(np.clip(np.diag(v), 0, None))
        lev = self.level if level is None else level
        q = t_quantile(lev, self.df)
        frame = pd.DataFrame(
            {
                "variable": names,
                "level": [""] * len(names),
                "estimate": est,
                "se": se,
                "ci_low": est - q * se,
                "ci_high": est + q * se,
                "n": pd.array([pd.NA] * len(names), dtype="Int64"),
                "deff": np.full(len(names), np.nan),
            }
        )
        return Estimate(frame, v, "contrast", lev, self.df, "t")

    def _contrast_matrix(self, coefficients: Any, k: int) -> tuple[list[str], np.ndarray]:
        labels = self.labels

        def one(spec: Any) -> np.ndarray:
            if isinstance(spec, Mapping):
                row = np.zeros(k)
                for key, value in spec.items():
                    if isinstance(key, int | np.integer) and not isinstance(key, bool):
                        if not 0 <= key < k:
                            raise InvalidValueError(
                                f"contrast position {key} is out of range 0..{k - 1}."
                            )
                        row[int(key)] = float(value)
                    elif key in labels:
                        row[labels.index(key)] = float(value)
                    else:
                        raise InvalidValueError(
                            f"contrast names {key!r}, which is not an estimate; labels are {labels}."
                        )
                return row
            arr = np.asarray(spec, dtype=float)
            if arr.shape != (k,):
                raise InvalidValueError(
                    f"a contrast needs {k} coefficients (one per estimate); got shape {arr.shape}."
                )
            return arr

        if isinstance(coefficients, Mapping):
            values = list(coefficients.values())
            nested = values and all(
                isinstance(v, Mapping) or (np.ndim(v) == 1 and not isinstance(v, str))
                for v in values
            )
            keys_are_labels = all(
                (isinstance(key, str) and key in labels) or isinstance(key, int | np.integer)
                for key in coefficients
            )
            if nested and not keys_are_labels:
                return [str(n) for n in coefficients], np.vstack([one(v) for v in values])
            return ["contrast"], one(coefficients)[None, :]
        arr = np.asarray(coefficients, dtype=float)
        if arr.ndim == 2:
            if arr.shape[1] != k:
                raise InvalidValueError(
                    f"a contrast matrix needs {k} columns; got {arr.shape[1]}."
                )
            return [f"contrast{i + 1}" for i in range(arr.shape[0])], arr
        return ["contrast"], one(arr)[None, :]

    # ---------------------------------------------------------------- display
    def _display_frame(self) -> pd.DataFrame:
        f = self._frame.copy()
        pct = self.statistic in ("proportion", "survival")
        for col in ("estimate", "se", "ci_low", "ci_high"):
            if pct:
                f[col] = f[col].map(lambda v: "" if pd.isna(v) else f"{100 * v:.1f}%")
            else:
                f[col] = f[col].map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
        f["deff"] = f["deff"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        return f

    def _title(self) -> str:
        what = {"proportion": "Proportions", "mean": "Means", "total": "Totals"}.get(
            self.statistic, self.statistic.capitalize()
        )
        ci = "" if self.ci_method == "t" else f", {self.ci_method} intervals"
        df = "∞" if np.isinf(self.df) else f"{self.df:g}"
        return f"{what} ({100 * self.level:g}% CI{ci}; df = {df})"

    def __repr__(self) -> str:
        return self._title() + "\n" + self._display_frame().to_string(index=False)

    def _repr_html_(self) -> str:
        body = self._display_frame().to_html(index=False, escape=True, border=0)
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return f"<div><p><strong>{html.escape(self._title())}</strong></p>{body}{notes}</div>"


@dataclass(frozen=True)
class TestResult:
    """Result of a hypothesis test.

    Unpacks to ``(statistic, p_value)`` like statsmodels' newer results.

    Attributes
    ----------
    statistic : float
    df : float
        Numerator degrees of freedom (may be fractional).
    df_denom : float or None
        Denominator degrees of freedom for an F reference distribution; None for chi-square.
    p_value : float
    method : str
        A sentence naming the test.
    table : pandas.DataFrame or None
        Per-item details where the test has them.

    Examples
    --------
    >>> r = TestResult(3.2, 1.0, None, 0.07, "example")
    >>> stat, p = r
    >>> p
    0.07
    """

    __test__ = False  # not a pytest test class

    statistic: float
    df: float
    df_denom: float | None
    p_value: float
    method: str
    table: pd.DataFrame | None = None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.statistic, self.p_value))

    def __repr__(self) -> str:
        dfd = "" if self.df_denom is None else f", {self.df_denom:.4g}"
        return f"{self.method}: statistic = {self.statistic:.4g}, df = ({self.df:.4g}{dfd}), p = {self.p_value:.4g}"

    def _repr_html_(self) -> str:
        out = f"<p>{html.escape(repr(self))}</p>"
        if self.table is not None:
            out += self.table.to_html(index=False, border=0)
        return out
