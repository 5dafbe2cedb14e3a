"""Shared machinery of the synthetic-data generators.

The latent multivariate-normal threshold model: for a set of binary items with target
margins ``p_j`` and a positive-definite latent correlation matrix ``R`` (unit
diagonal), draw ``Z ~ N(0, R)`` and set item ``j`` to 1 when ``Z_j < norm.ppf(p_j)``.
Each latent margin is standard normal, so ``P(item_j = 1) = p_j`` exactly in the
population, while the positive latent correlations make the items positively
dependent as answers to "select all that apply" questions are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from csa_survey.exceptions import InvalidValueError

__all__ = [
    "equicorrelation",
    "latent_threshold_items",
    "mcar_missing",
    "nullable",
    "check_n",
]


def check_n(n: int, *, minimum: int = 1, name: str = "n") -> int:
    """Validate a requested number of rows."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise InvalidValueError(f"{name} must be an integer >= {minimum}; got {n!r}")
    return int(n)


def equicorrelation(k: int, rho: float) -> np.ndarray:
    """A ``k x k`` correlation matrix with every off-diagonal entry equal to ``rho``.

    Examples
    --------
    >>> equicorrelation(3, 0.3)[0, 1]
    np.float64(0.3)
    """
    r = np.full((k, k), float(rho))
    np.fill_diagonal(r, 1.0)
    return r


def latent_threshold_items(
    rng: np.random.Generator, margins: Sequence[float], corr: np.ndarray, size: int
) -> np.ndarray:
    """Draw correlated binary items whose population margins equal ``margins`` exactly.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator (consumed).
    margins : sequence of float
        Target probabilities of answering 1, each in (0, 1).
    corr : ndarray
        Latent correlation matrix (unit diagonal, positive definite).
    size : int
        Number of rows.

    Returns
    -------
    ndarray of int8, shape (size, len(margins))

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = latent_threshold_items(rng, [0.45, 0.30], equicorrelation(2, 0.4), 200_000)
    >>> np.round(x.mean(axis=0), 2).tolist()
    [0.45, 0.3]
    """
    margins = np.asarray(margins, dtype=float)
    corr = np.asarray(corr, dtype=float)
    k = len(margins)
    if corr.shape != (k, k) or not np.allclose(np.diag(corr), 1.0):
        raise InvalidValueError("corr must be a square correlation matrix matching margins")
    chol = np.linalg.cholesky(corr)
    thresholds = stats.norm.ppf(margins)
    z = rng.standard_normal((size, k))
    z = z @ chol.T
    return (z < thresholds).astype(np.int8)


def mcar_missing(rng: np.random.Generator, size: int, rate: float) -> np.ndarray:
    """Item non-response completely at random: True marks a missing answer."""
    if rate <= 0:
        return np.zeros(size, dtype=bool)
    return rng.random(size) < rate


def nullable(
    values: np.ndarray, missing: np.ndarray, dtype: str = "Int8"
) -> pd.api.extensions.ExtensionArray:
    """A pandas nullable integer array from values and a missing mask.

    Examples
    --------
    >>> nullable(np.array([1, 0]), np.array([False, True])).isna().tolist()
    [False, True]
    """
    np_dtype = pd.api.types.pandas_dtype(dtype).numpy_dtype
    vals = np.where(missing, 0, values).astype(np_dtype)
    return pd.arrays.IntegerArray(vals, np.asarray(missing, dtype=bool))
