"""Survey designs: who was sampled, how, and with what weights.

:class:`SurveyDesign` describes a stratified, clustered (single-stage, with-replacement
or with a finite population correction) sample and uses Taylor linearisation for
variances. :class:`ReplicateDesign` carries replicate weights (supplied, or made by
:meth:`SurveyDesign.with_replicates`) and uses the replicate-weight variance.

Both are immutable: methods such as :meth:`SurveyDesign.subset` return new designs,
and the caller's DataFrame is never modified. Validation happens once, here; the
estimators and the variance engine (:mod:`csa_survey._variance`) trust these arrays.

The conventions follow R's ``survey`` package (Lumley): ``svydesign(nest=TRUE)``,
``degf()``, ``subset()``, ``as.svrepdesign()`` and ``svrepdesign()``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.linalg

from csa_survey.exceptions import (
    ColumnError,
    DesignError,
    EmptyDomainError,
    LonelyPSUError,
    WeightsError,
    describe_rows,
    describe_value,
)

__all__ = ["ReplicateDesign", "SurveyDesign"]

LonelyPSU = Literal["fail", "remove", "adjust", "certainty"]
_LONELY = ("fail", "remove", "adjust", "certainty")
ReplicateType = Literal["JK1", "JKn", "bootstrap", "BRR", "Fay", "other"]


def _require_column(data: pd.DataFrame, column: Any, role: str) -> pd.Series:
    if not isinstance(column, str | int) or column not in data.columns:
        known = ", ".join(map(str, list(data.columns)[:12]))
        more = " …" if data.shape[1] > 12 else ""
        raise ColumnError(f"{role} column {column!r} is not in the data (columns: {known}{more}).")
    return data[column]


def _numeric_column(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    s = _require_column(data, column, role)
    if s.dtype == bool or not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        bad = s.index[s.map(lambda v: not isinstance(v, int | float | np.number))]
        example = s.loc[bad[0]] if len(bad) else s.iloc[0]
        raise WeightsError(
            f"{role} column {column!r} must be numeric; it holds {describe_value(example)} "
            f"({describe_rows(bad) if len(bad) else 'dtype ' + str(s.dtype)})."
        )
    values = s.to_numpy(dtype=float, na_value=np.nan)
    return values


def _read_weights(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """A weight column as floats, refusing missing, non-finite and negative values."""
    w = _numeric_column(data, column, role)
    bad = ~np.isfinite(w)
    if bad.any():
        raise WeightsError(
            f"{role} column {column!r} has missing or non-finite values "
            f"({describe_value(w[bad][0])} in {describe_rows(data.index[bad])})."
        )
    neg = w < 0
    if neg.any():
        raise WeightsError(
            f"{role} column {column!r} has negative values ({describe_value(w[neg][0])} in "
            f"{describe_rows(data.index[neg])}); sampling weights must be >= 0."
        )
    return w


def _codes(data: pd.DataFrame, column: str, role: str) -> tuple[np.ndarray, int]:
    s = _require_column(data, column, role)
    missing = s.isna().to_numpy()
    if missing.any():
        raise DesignError(
            f"{role} column {column!r} has missing values in {describe_rows(s.index[missing])}; "
            "every row needs a {role} id.".replace("{role}", role)
        )
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.int64), len(uniques)


class _BaseDesign:
    """State and behaviour shared by Taylor and replicate designs."""

    _data: pd.DataFrame
    _w: np.ndarray  # base weights (n,), full sample
    _mask: np.ndarray  # (n,) bool: rows in the current domain
    _df: float
    _calibration: Any

    # ------------------------------------------------------------------ basics
    @property
    def data(self) -> pd.DataFrame:
        """The DataFrame the design was built on (not a copy: do not modify it)."""
        return self._data

    @property
    def n(self) -> int:
        """Number of rows in the data (the full sample, including rows outside a domain)."""
        return int(self._w.shape[0])

    @property
    def weights(self) -> np.ndarray:
        """Current weights as a float array in row order (zero outside a ``subset()`` domain).

        After :func:`csa_survey.rake` these are the calibrated weights.
        """
        return np.where(self._mask, self._w, 0.0)

    @property
    def df(self) -> float:
        """Design degrees of freedom, as R's ``degf()``.

        For a Taylor design: number of PSUs minus number of strata (counting rows with a
        non-zero weight); for a replicate design: the rank of the replicate weights minus 1.
        A ``subset()`` design keeps the full design's value (see :meth:`subset`).
        """
        return self._df

    @property
    def domain_mask(self) -> np.ndarray:
        """Boolean array: which rows are in the current domain (all True unless subset)."""
        return self._mask.copy()

    @property
    def is_replicate(self) -> bool:
        return False

    def _with(self, **changes: Any) -> Any:
        new = copy.copy(self)
        for key, value in changes.items():
            setattr(new, key, value)
        return new

    def _domain_from(self, mask_or_query: Any) -> np.ndarray:
        data = self._data
        if isinstance(mask_or_query, str):
            try:
                result = data.eval(mask_or_query)
            except Exception as exc:  # pandas raises many kinds here
                raise DesignError(
                    f"could not evaluate the subset expression {mask_or_query!r}: {exc}"
                ) from exc
            mask = result
        else:
            mask = mask_or_query
        if isinstance(mask, pd.Series):
            if not mask.index.equals(data.index):
                raise DesignError(
                    "the subset mask's index does not match the data's index; pass a mask "
                    "built from the same DataFrame (or a numpy array in row order)."
                )
            na = mask.isna().to_numpy()
            if na.any():
                raise DesignError(
                    f"the subset condition is missing (NA) in {describe_rows(data.index[na])}; "
                    "decide whether those rows are in the domain (e.g. `.fillna(False)`)."
                )
            mask = mask.to_numpy()
        mask = np.asarray(mask)
        if mask.shape != (self.n,):
            raise DesignError(
                f"the subset mask has shape {mask.shape}; it must have one value per row ({self.n})."
            )
        if mask.dtype != bool:
            raise DesignError(
                f"the subset mask must be boolean, not {mask.dtype}; compare explicitly "
                "(e.g. `df['x'] == 1`)."
            )
        return mask

    def subset(self, mask_or_query: Any) -> Any:
        """Restrict estimation to a domain while keeping the full design for variances.

        Parameters
        ----------
        mask_or_query : array-like of bool or str
            A boolean mask in row order (numpy array or a Series on the data's index), or a
            :meth:`pandas.DataFrame.eval` expression such as ``"sought_contact == 1"``.

        Returns
        -------
        SurveyDesign or ReplicateDesign
            A design whose estimates use only the selected rows. Rows outside the domain
            stay in the design with zero contribution, so standard errors reflect that the
            domain size is random (R's ``subset.survey.design``). Degrees of freedom stay
            those of the full design.

        Raises
        ------
        EmptyDomainError
            If no row is selected.

        Examples
        --------
        >>> import pandas as pd, csa_survey as cs
        >>> df = pd.DataFrame({"y": [1, 0, 1, 1], "g": ["a", "a", "b", "b"]})
        >>> cs.SurveyDesign(df).subset("g == 'b'").weights
        array([0., 0., 1., 1.])
        """
        mask = self._domain_from(mask_or_query)
        new_mask = self._mask & mask
        if not new_mask.any():
            what = mask_or_query if isinstance(mask_or_query, str) else "the mask"
            raise EmptyDomainError(
                f"the domain selected by {what!r} has no rows"
                + (" within the current subset" if not self._mask.all() else "")
                + "."
            )
        return self._with(_mask=new_mask)

    def _summary_lines(self) -> list[str]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return "\n".join(self._summary_lines())

    def _repr_html_(self) -> str:
        lines = self._summary_lines()
        items = "".join(f"<li>{line}</li>" for line in lines[1:])
        return f"<div><strong>{lines[0]}</strong><ul>{items}</ul></div>"


class SurveyDesign(_BaseDesign):
    """A complex survey design analysed by Taylor linearisation.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent. Never modified.
    weights : str, optional
        Column of sampling weights (inverse inclusion probabilities). ``None`` gives equal
        weights of 1 (a simple random sample) or, when ``fpc`` is given, the weights it
        implies, ``N_h / n_h`` (as R's ``svydesign``).
    strata : str, optional
        Column identifying strata.
    psu : str, optional
        Column identifying primary sampling units (clusters). PSU ids are nested within
        strata (R's ``nest=TRUE``): PSU 1 in stratum A and PSU 1 in stratum B are different
        PSUs. ``None`` makes each row its own PSU.
    fpc : str, optional
        Column giving, for each row, either the population number of PSUs in its stratum
        (values > 1) or the sampling fraction (all values <= 1), as R's ``svydesign(fpc=)``.
        Must be constant within a stratum.
    lonely_psu : {"fail", "remove", "adjust", "certainty"}
        What to do with a stratum that has a single PSU (R's ``survey.lonely.psu``, but
        per design rather than global): ``"fail"`` raises; ``"remove"`` and
        ``"certainty"`` let it contribute nothing to the variance; ``"adjust"`` centres
        its PSU total at zero (the grand mean of the influence functions) instead of at
        the stratum mean.

    Notes
    -----
    The variance of an estimate with influence functions :math:`z_i` is

    .. math:: V = \\sum_h (1 - f_h) \\frac{n_h}{n_h - 1} \\sum_{i \\in h} (z_{hi} - \\bar z_h)^2

    where :math:`z_{hi}` are PSU totals in stratum *h*, :math:`n_h` its number of PSUs and
    :math:`f_h` its sampling fraction (0 without ``fpc``): with-replacement sampling of
    PSUs at the first stage (the "ultimate cluster" approximation), as in R's
    ``svyrecvar``, Stata's ``svy`` and SUDAAN. See :mod:`csa_survey._variance`.

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> df = pd.DataFrame({"y": [1, 0, 1, 1, 0, 1], "w": [2.0, 2, 1, 1, 3, 3],
    ...                    "s": [1, 1, 1, 2, 2, 2]})
    >>> d = cs.SurveyDesign(df, weights="w", strata="s")
    >>> d.df
    4.0
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | None = None,
        strata: str | None = None,
        psu: str | None = None,
        fpc: str | None = None,
        lonely_psu: LonelyPSU = "fail",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DesignError(f"data must be a pandas DataFrame, not {type(data).__name__}.")
        if len(data) == 0:
            raise EmptyDomainError("the data has no rows.")
        if lonely_psu not in _LONELY:
            raise DesignError(
                f"lonely_psu must be one of {', '.join(map(repr, _LONELY))}; got {lonely_psu!r}."
            )
        n = len(data)
        self._data = data
        self._spec = {"weights": weights, "strata": strata, "psu": psu, "fpc": fpc}
        self.lonely_psu: LonelyPSU = lonely_psu
        self._calibration = None

        # ---- weights
        w = np.ones(n) if weights is None else _read_weights(data, weights, "weights")
        if not (w > 0).any():
            raise WeightsError(f"weights column {weights!r} is zero in every row.")
        self._w = w
        self._mask = np.ones(n, dtype=bool)

        # ---- strata and PSUs (PSU codes ordered so each stratum's PSUs are contiguous)
        if strata is None:
            s_codes, n_strata = np.zeros(n, dtype=np.int64), 1
        else:
            s_codes, n_strata = _codes(data, strata, "strata")
        if psu is None:
            p_raw = np.arange(n, dtype=np.int64)
            n_raw = n
        else:
            p_raw, n_raw = _codes(data, psu, "psu")
        key = s_codes * np.int64(n_raw) + p_raw
        uniq_keys, psu_codes = np.unique(key, return_inverse=True)
        self._stratum = s_codes
        self._psu = psu_codes.astype(np.int64)
        self._n_strata = int(n_strata)
        self._n_psu = int(uniq_keys.shape[0])
        self._psu_stratum = (uniq_keys // np.int64(n_raw)).astype(np.int64)
        self._n_h = np.bincount(self._psu_stratum, minlength=self._n_strata)
        # start index of each stratum's block of PSUs (PSUs are sorted by stratum)
        self._stratum_start = np.concatenate([[0], np.cumsum(self._n_h)[:-1]])
        # when each PSU's rows are contiguous (as survey files usually are), PSU sums are
        # segment sums (np.add.reduceat), much cheaper than a scattered np.bincount
        change = np.flatnonzero(self._psu[1:] != self._psu[:-1]) + 1
        if change.size + 1 == self._n_psu:
            self._run_starts = np.concatenate([[0], change])
            self._run_psu = self._psu[self._run_starts]
        else:
            self._run_starts = self._run_psu = None

        # ---- finite population correction: fraction sampled (n_h / N_h) per stratum
        self._fpc_fraction = None
        if fpc is not None:
            self._fpc_fraction = self._read_fpc(data, fpc, s_codes)

        if weights is None and self._fpc_fraction is not None:
            # as R's svydesign: without weights, an fpc implies weights N_h / n_h
            self._w = (1.0 / self._fpc_fraction)[s_codes]

        # ---- lonely PSUs
        lonely = self._n_h == 1
        if self._fpc_fraction is not None:
            # a stratum sampled in full contributes no variance (R: all f < 1e-7 -> 0)
            lonely &= (1.0 - self._fpc_fraction) >= 1e-7
        if lonely.any() and lonely_psu == "fail":
            labels = self._stratum_labels()[lonely]
            col = strata if strata is not None else "(no strata)"
            raise LonelyPSUError(
                f"strata column {col!r}: stratum {labels[0]!r} has only one PSU"
                + (
                    f" (as do {int(lonely.sum()) - 1} other strata: {list(labels[1:6])})"
                    if lonely.sum() > 1
                    else ""
                )
                + "; its variance cannot be estimated. Choose lonely_psu='remove', "
                "'certainty' or 'adjust' (see SurveyDesign's docstring), or merge strata."
            )
        self._lonely = lonely

        # ---- degrees of freedom (R's degf: PSUs and strata among rows with weight > 0)
        pos = self._w > 0
        n_psu_pos = np.unique(self._psu[pos]).shape[0]
        n_strata_pos = np.unique(self._stratum[pos]).shape[0]
        self._df = float(n_psu_pos - n_strata_pos)

    # -------------------------------------------------------------- internals
    def _stratum_labels(self) -> np.ndarray:
        col = self._spec["strata"]
        if col is None:
            return np.array(["(all)"], dtype=object)
        _, uniques = pd.factorize(self._data[col], sort=True)
        return np.asarray(uniques, dtype=object)

    def _read_fpc(self, data: pd.DataFrame, fpc: str, s_codes: np.ndarray) -> np.ndarray:
        values = _numeric_column(data, fpc, "fpc")
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            raise DesignError(
                f"fpc column {fpc!r} must be positive and finite; it holds {describe_value(values[bad][0])} "
                f"in {describe_rows(data.index[bad])}."
            )
        lo = np.full(self._n_strata, np.inf)
        hi = np.full(self._n_strata, -np.inf)
        np.minimum.at(lo, s_codes, values)
        np.maximum.at(hi, s_codes, values)
        varies = hi != lo
        if varies.any():
            h = int(np.flatnonzero(varies)[0])
            rows = data.index[s_codes == h]
            raise DesignError(
                f"fpc column {fpc!r} varies within stratum {self._stratum_labels()[h]!r} "
                f"(from {describe_value(lo[h])} to {describe_value(hi[h])} across {describe_rows(rows)}); it must be one "
                "value per stratum."
            )
        is_count = bool((values > 1).any())
        if is_count and (values < 1).any():
            small = values < 1
            raise DesignError(
                f"fpc column {fpc!r} mixes population counts (> 1) and sampling fractions "
                f"(< 1, e.g. {describe_value(values[small][0])} in {describe_rows(data.index[small])}); "
                "use one or the other."
            )
        n_h = self._n_h.astype(float)
        if is_count:
            too_small = lo < n_h
            if too_small.any():
                h = int(np.flatnonzero(too_small)[0])
                raise DesignError(
                    f"fpc column {fpc!r}: stratum {self._stratum_labels()[h]!r} has "
                    f"{int(n_h[h])} sampled PSUs but a population of only {describe_value(lo[h])}."
                )
            return n_h / lo
        # fractions: R computes popsize = n_h / fraction and then (N - n)/N; same value
        popsize = n_h / lo
        return n_h / popsize

    # ---------------------------------------------------------------- public
    @property
    def n_psu(self) -> int:
        """Number of PSUs in the full design."""
        return self._n_psu

    @property
    def n_strata(self) -> int:
        """Number of strata in the full design."""
        return self._n_strata

    def _summary_lines(self) -> list[str]:
        spec = self._spec
        kind = "Stratified" if spec["strata"] else "Unstratified"
        clus = f"{self._n_psu} PSUs ({spec['psu']!r})" if spec["psu"] else "no clustering"
        lines = [f"SurveyDesign: {kind}, {clus}, Taylor linearisation"]
        lines.append(f"{self.n} rows; {self._n_strata} strata; df = {self._df:g}")
        wt = self.weights[self._mask]
        lines.append(
            f"weights: {spec['weights'] or 'equal (1)'}; range {wt.min():.4g} to {wt.max():.4g}; "
            f"sum {wt.sum():.6g}"
        )
        if spec["fpc"]:
            lines.append(f"finite population correction: {spec['fpc']!r}")
        if self._lonely.any():
            lines.append(
                f"{int(self._lonely.sum())} single-PSU strata: lonely_psu={self.lonely_psu!r}"
            )
        if self._calibration is not None:
            lines.append(f"calibrated: {self._calibration}")
        if not self._mask.all():
            lines.append(f"domain: {int(self._mask.sum())} of {self.n} rows")
        return lines

    def with_replicates(
        self,
        type: ReplicateType = "JKn",
        replicates: int | None = None,
        seed: int | None = None,
        mse: bool = False,
    ) -> ReplicateDesign:
        """Convert to a replicate-weight design, as R's ``as.svrepdesign``.

        Parameters
        ----------
        type : {"JK1", "JKn", "bootstrap", "BRR"}
            ``"JK1"`` (delete-one-PSU jackknife; unstratified designs only), ``"JKn"``
            (stratified jackknife), ``"bootstrap"`` (R's ``bootweights``: resampling
            ``n_h`` PSUs with replacement in each stratum), ``"BRR"`` (balanced repeated
            replication from a Sylvester Hadamard matrix; exactly 2 PSUs per stratum).
        replicates : int, optional
            Number of bootstrap replicates (default 50, as R). Ignored for other types.
        seed : int, optional
            Seed for the bootstrap's random draws (``numpy.random.default_rng``).
        mse : bool
            Centre replicate estimates at the full-sample estimate rather than at their mean.

        Returns
        -------
        ReplicateDesign

        Notes
        -----
        Scales follow R: JK1 ``scale = (1 - f)(n - 1)/n``; JKn ``rscales_h = (1 - f_h)
        (n_h - 1)/n_h``; bootstrap ``scale = m/((m - 1)(R - 1))`` with ``m`` the harmonic
        mean of PSUs per stratum; BRR ``scale = 1/R``. The design's ``fpc`` is carried into
        the jackknife scales (``fpc`` is dropped for BRR, as R does, and for the bootstrap,
        where R would draw differently). R's bootstrap and BRR draws cannot be reproduced
        replicate for replicate (different random numbers; different Hadamard matrices);
        their variance estimators are the same.

        Examples
        --------
        >>> import pandas as pd, csa_survey as cs
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "c": [1, 1, 2, 2, 3, 3]})
        >>> rd = cs.SurveyDesign(df, psu="c").with_replicates("JK1")
        >>> rd.n_replicates, rd.scale
        (3, 0.6666666666666666)
        """
        if not self._mask.all():
            raise DesignError(
                "with_replicates() needs the full design: call it before subset(), then "
                "subset the replicate design."
            )
        if self._calibration is not None:
            raise DesignError(
                "with_replicates() of a calibrated (raked) design is not supported: make the "
                "replicate design first and calibrate it."
            )
        has_strata = self._spec["strata"] is not None
        frac = self._fpc_fraction
        n_h = self._n_h
        hstart = self._stratum_start
        ps = self._psu_stratum
        rscales: np.ndarray
        if type == "JK1":
            if has_strata:
                raise DesignError(
                    "JK1 replicates ignore strata; for a stratified design use type='JKn' "
                    "(R's as.svrepdesign refuses JK1 here too)."
                )
            m = self._n_psu
            if m < 2:
                raise DesignError("JK1 needs at least 2 PSUs.")
            mult = np.full((m, m), m / (m - 1.0))
            np.fill_diagonal(mult, 0.0)
            f = 1.0 if frac is None else 1.0 - float(frac[0])
            scale = f * (m - 1.0) / m
            rscales = np.ones(m)
        elif type == "JKn":
            if not has_strata:
                raise DesignError("JKn needs strata; use type='JK1' for an unstratified design.")
            cols, rs = [], []
            m_total = self._n_psu
            n_strata = self._n_strata
            for h in range(n_strata):
                nh = int(n_h[h])
                f_h = 1.0 if frac is None else 1.0 - float(frac[h])
                if nh == 1 and f_h != 0:
                    if self.lonely_psu in ("remove", "certainty"):
                        continue
                    if self.lonely_psu == "adjust":
                        col = np.where(ps == h, 0.0, n_strata / (n_strata - 1.0))
                        cols.append(col[:, None])
                        rs.append(np.array([(n_strata - 1.0) / n_strata]))
                        continue
                    raise LonelyPSUError(
                        f"stratum {self._stratum_labels()[h]!r} has only one PSU."
                    )
                block = np.ones((m_total, nh))
                start = int(hstart[h])
                sub = np.full((nh, nh), nh / (nh - 1.0)) if nh > 1 else np.zeros((1, 1))
                np.fill_diagonal(sub, 0.0)
                block[start : start + nh, :] = sub
                cols.append(block)
                rs.append(np.full(nh, f_h * (nh - 1.0) / nh if nh > 1 else 0.0))
            if not cols:
                raise DesignError(
                    "every stratum was sampled in full: there is no sampling variance."
                )
            mult = np.hstack(cols)
            rscales = np.concatenate(rs)
            scale = 1.0
        elif type == "bootstrap":
            reps = 50 if replicates is None else int(replicates)
            if reps < 2:
                raise DesignError("bootstrap needs at least 2 replicates.")
            rng = np.random.default_rng(seed)
            m_total = self._n_psu
            mult = np.zeros((m_total, reps))
            # draw n_h PSUs with replacement within each stratum, for every replicate at once
            u = rng.random((m_total, reps))
            start_of = hstart[ps]  # per drawn slot: its stratum's first PSU
            pick = start_of[:, None] + np.floor(u * n_h[ps][:, None]).astype(np.int64)
            rep_idx = np.broadcast_to(np.arange(reps), pick.shape)
            np.add.at(mult, (pick.ravel(), rep_idx.ravel()), 1.0)
            harmonic = 1.0 / np.mean(1.0 / n_h)
            scale = harmonic / ((harmonic - 1.0) * (reps - 1.0))
            rscales = np.ones(reps)
        elif type == "BRR":
            if not has_strata or not np.all(n_h == 2):
                bad = np.flatnonzero(n_h != 2)
                raise DesignError(
                    "BRR needs exactly 2 PSUs in every stratum"
                    + (
                        f"; stratum {self._stratum_labels()[bad[0]]!r} has {int(n_h[bad[0]])}"
                        if len(bad)
                        else ""
                    )
                    + ". Use type='JKn' or 'bootstrap'."
                )
            size = 1 << int(math.ceil(math.log2(self._n_strata + 1)))
            had = scipy.linalg.hadamard(size)[:, 1 : self._n_strata + 1]  # R x H of +-1
            first = np.arange(self._n_psu) == hstart[ps]  # first PSU of each stratum
            sign = np.where(first[:, None], had.T[ps, :], -had.T[ps, :])
            mult = np.where(sign > 0, 2.0, 0.0)
            scale = 1.0 / size
            rscales = np.ones(size)
        else:
            raise DesignError(f"type must be 'JK1', 'JKn', 'bootstrap' or 'BRR'; got {type!r}.")
        return ReplicateDesign._from_psu_multipliers(
            self, mult, type=type, scale=scale, rscales=rscales, mse=mse
        )


class ReplicateDesign(_BaseDesign):
    """A design whose variances come from replicate weights (R's ``svrepdesign``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent. Never modified.
    weights : str, optional
        Full-sample weight column (``None`` = 1 for every row).
    repweights : list of str
        Replicate weight columns. They are full weights (R's ``combined.weights=TRUE``),
        not multipliers.
    type : {"BRR", "Fay", "JK1", "JKn", "bootstrap", "other"}
        Sets the default ``scale``/``rscales`` as R does: BRR ``1/R``; Fay
        ``1/(R (1 - rho)^2)``; JK1 ``(R - 1)/R``; bootstrap ``1/(R - 1)``; JKn needs
        ``rscales``; other ``1``.
    scale, rscales : float, array-like, optional
        Overall and per-replicate multipliers of the squared deviations.
    mse : bool
        Centre the replicates at the full-sample estimate (``True``) or at their mean.
    rho : float, optional
        Fay's coefficient (``type="Fay"`` only).

    Notes
    -----
    ``V = scale * sum_r rscales_r (theta_r - c)(theta_r - c)'`` with ``c`` the mean of the
    replicates (over those with ``rscales > 0``) or the full-sample estimate when ``mse``.
    Degrees of freedom are the rank of the replicate weights minus one (R's ``degf``).

    Examples
    --------
    >>> import pandas as pd, csa_survey as cs
    >>> df = pd.DataFrame({"y": [1.0, 2, 3], "w": [1.0, 1, 1],
    ...                    "r1": [0, 1.5, 1.5], "r2": [1.5, 0, 1.5], "r3": [1.5, 1.5, 0]})
    >>> rd = cs.ReplicateDesign(df, weights="w", repweights=["r1", "r2", "r3"], type="JK1")
    >>> rd.scale, rd.df
    (0.6666666666666666, 2.0)
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | None = None,
        repweights: Sequence[str] | None = None,
        type: ReplicateType = "other",
        scale: float | None = None,
        rscales: Sequence[float] | np.ndarray | None = None,
        mse: bool = False,
        rho: float | None = None,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DesignError(f"data must be a pandas DataFrame, not {type(data).__name__}.")
        if len(data) == 0:
            raise EmptyDomainError("the data has no rows.")
        if repweights is None or isinstance(repweights, str) or len(repweights) == 0:
            raise DesignError("repweights must be a non-empty list of replicate-weight columns.")
        n = len(data)
        self._data = data
        self._calibration = None
        w = np.ones(n) if weights is None else _read_weights(data, weights, "weights")
        reps = [_read_weights(data, col, "replicate weights") for col in repweights]
        self._w = w
        self._mask = np.ones(n, dtype=bool)
        self._repw = np.column_stack(reps)  # (n, R) full replicate weights
        self._mult = None
        self._psu_of_row = None
        self._spec = {"weights": weights, "repweights": list(repweights)}
        self._init_scales(type, scale, rscales, mse, rho, self._repw.shape[1])
        self._df = float(_rank(self._repw) - 1)

    def _init_scales(
        self,
        type: str,
        scale: float | None,
        rscales: Any,
        mse: bool,
        rho: float | None,
        n_rep: int,
    ) -> None:
        types = ("BRR", "Fay", "JK1", "JKn", "bootstrap", "other")
        if type not in types:
            raise DesignError(f"type must be one of {', '.join(map(repr, types))}; got {type!r}.")
        if type == "Fay" and rho is None:
            raise DesignError("type='Fay' needs rho (Fay's coefficient).")
        if type == "JKn" and rscales is None:
            raise DesignError("type='JKn' needs rscales (one per replicate), as R's svrepdesign.")
        if scale is None:
            scale = {
                "BRR": 1.0 / n_rep,
                "Fay": 1.0 / (n_rep * (1.0 - (rho or 0.0)) ** 2),
                "JK1": (n_rep - 1.0) / n_rep,
                "bootstrap": 1.0 / (n_rep - 1.0) if n_rep > 1 else np.nan,
            }.get(type, 1.0)
        rs = np.ones(n_rep) if rscales is None else np.asarray(rscales, dtype=float)
        if rs.shape != (n_rep,):
            raise DesignError(
                f"rscales must have one value per replicate ({n_rep}); got {rs.shape}."
            )
        self.type = type
        self.scale = float(scale)
        self.rscales = rs
        self.mse = bool(mse)
        self.rho = rho

    @classmethod
    def _from_psu_multipliers(
        cls,
        parent: SurveyDesign,
        mult: np.ndarray,
        *,
        type: str,
        scale: float,
        rscales: np.ndarray,
        mse: bool,
    ) -> ReplicateDesign:
        self = cls.__new__(cls)
        self._data = parent._data
        self._calibration = None
        self._w = parent._w
        self._mask = np.ones(parent.n, dtype=bool)
        self._repw = None
        self._mult = np.ascontiguousarray(mult, dtype=float)  # (n_psu, R) multipliers
        self._psu_of_row = parent._psu
        self._spec = dict(parent._spec, replicates=type)
        self.type = type
        self.scale = float(scale)
        self.rscales = np.asarray(rscales, dtype=float)
        self.mse = bool(mse)
        self.rho = None
        # rank of the n x R replicate weights = rank of the distinct PSU rows (weights > 0)
        pos_psu = np.unique(parent._psu[parent._w > 0])
        self._df = float(_rank(self._mult[pos_psu]) - 1)
        return self

    @property
    def is_replicate(self) -> bool:
        return True

    @property
    def n_replicates(self) -> int:
        """Number of replicates."""
        return int((self._mult if self._mult is not None else self._repw).shape[1])

    def replicate_weights(self) -> np.ndarray:
        """The (n x R) full replicate weights (zero outside a ``subset()`` domain).

        Examples
        --------
        >>> import pandas as pd, csa_survey as cs
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "c": [1, 1, 2, 2]})
        >>> cs.SurveyDesign(df, psu="c").with_replicates("JK1").replicate_weights()[:, 0]
        array([0., 0., 2., 2.])
        """
        if self._repw is not None:
            full = self._repw
        else:
            full = self._w[:, None] * self._mult[self._psu_of_row]
        return np.where(self._mask[:, None], full, 0.0)

    def _summary_lines(self) -> list[str]:
        lines = [f"ReplicateDesign: {self.type}, {self.n_replicates} replicates"]
        lines.append(
            f"{self.n} rows; df = {self._df:g}; scale = {self.scale:.6g}; mse = {self.mse}"
        )
        if not self._mask.all():
            lines.append(f"domain: {int(self._mask.sum())} of {self.n} rows")
        return lines


def _rank(matrix: np.ndarray, tol: float = 1e-5) -> int:
    """Numerical rank of a tall matrix, as R's ``qr(x, tol=1e-5)$rank`` for full-rank cases.

    Uses the singular values of the Gram matrix (cheap for n >> R): a direction counts when
    its singular value exceeds ``tol`` times the largest.
    """
    m = np.asarray(matrix, dtype=float)
    if m.size == 0:
        return 0
    gram = m.T @ m
    ev = np.linalg.eigvalsh(gram)
    sv = np.sqrt(np.clip(ev, 0.0, None))
    if sv.max() == 0:
        return 0
    return int((sv > tol * sv.max()).sum())
