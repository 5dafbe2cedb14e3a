"""Profile-likelihood confidence interval for a proportion, ported from R's ``survey``.

This module reproduces, step by step, what R's
``svyciprop(~y, design, method = "likelihood", level = level, df = df)`` computes
(``survey`` 4.1.1 on R 4.2.2):

1. ``svyglm(y ~ 1, design, family = quasibinomial)`` -- a weighted ``glm.fit`` with the
   sampling weights rescaled to mean 1, whose variance is then replaced by the
   design-based one (``var_logit``, supplied by the caller).
2. ``survey:::confint.svyglm(method = "likelihood")`` -- the design effect
   ``lambda = var_logit / naive.cov`` turns the nominal level into an "unscaled" one,
   ``2 * alpha`` with ``alpha = pnorm(qt((1 - level) / 2, df) * sqrt(lambda)) / 2``.
3. ``survey:::MASSprofile_glm`` -- the signed root of the scaled deviance is evaluated
   on a grid of intercept values with step ``(zmax / 5) * SE``.
4. ``survey:::confint_profile`` -- ``stats::spline()`` (method ``"fmm"``) of the profile,
   then ``stats::approx()`` inverts it at ``qnorm(2 * alpha)`` and its mirror image.

Everything is hand-written (the IRLS of ``glm.fit``, the Forsythe-Malcolm-Moler spline
of R's ``spline_coef`` and ``spline_eval``, ``seq.int``, ``regularize.values`` and the
C ``approx1``) because the convenient library equivalents differ from R by more than the
1e-6 tolerance we promise: e.g. scipy's ``CubicSpline`` has no FMM end condition, and the
closed-form MLE ``logit(weighted mean)`` differs from R's converged IRLS iterate (and,
more importantly, R's ``naive.cov`` uses the IRLS weights of the *penultimate* iterate,
which can differ from ``1 / (n p (1 - p))`` by ~1e-4 relative; on the api reference
cases the closed-form shortcuts move the interval ends by up to 1.1e-3 relative).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from csa_survey.exceptions import InvalidValueError, WeightsError

__all__ = ["likelihood_ci"]

# Constants of R's C family code (src/library/stats/src/family.c).
_DBL_EPSILON = float(np.finfo(float).eps)
_THRESH = 30.0
_MTHRESH = -30.0
_INVEPS = 1.0 / _DBL_EPSILON

# glm.control() defaults.
_GLM_EPSILON = 1e-8
_GLM_MAXIT = 25

# MASSprofile_glm defaults.
_MAXSTEPS = 10


# --------------------------------------------------------------------------------------
# Binomial family with logit link, as R's C code evaluates it
# --------------------------------------------------------------------------------------
def _linkinv(eta: np.ndarray | float) -> np.ndarray:
    """``binomial()$linkinv`` (C ``logit_linkinv``): expit with R's +-30 clamping."""
    eta = np.asarray(eta, dtype=float)
    with np.errstate(over="ignore"):  # np.where evaluates exp() on the branches it discards
        tmp = np.where(eta < _MTHRESH, _DBL_EPSILON, np.where(eta > _THRESH, _INVEPS, np.exp(eta)))
    return tmp / (1.0 + tmp)


def _expit(eta: float) -> float:
    """``survey:::expit``: plain ``exp(eta) / (1 + exp(eta))`` (no clamping, as in R)."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.float64(eta))
        return float(e / (1.0 + e))


def _mu_eta(eta: np.ndarray | float) -> np.ndarray:
    """``binomial()$mu.eta`` (C ``logit_mu_eta``)."""
    eta = np.asarray(eta, dtype=float)
    opexp = 1.0 + np.exp(eta)
    out = np.exp(eta) / (opexp * opexp)
    return np.where((eta > _THRESH) | (eta < _MTHRESH), _DBL_EPSILON, out)


def _linkfun(mu: np.ndarray) -> np.ndarray:
    """``binomial()$linkfun`` (C ``logit_link``): ``log(mu / (1 - mu))``."""
    return np.log(mu / (1.0 - mu))


def _deviance(y: np.ndarray, mu: np.ndarray, wt: np.ndarray) -> float:
    """``sum(binomial()$dev.resids(y, mu, wt))`` (C ``binomial_dev_resids``).

    ``y_log_y(y, mu) = y * log(y / mu)`` for ``y != 0`` and 0 otherwise; R's ``sum()``
    accumulates in long double, approximated here by the exactly rounded ``math.fsum``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(y != 0.0, y * np.log(y / mu), 0.0)
        t2 = np.where(1.0 - y != 0.0, (1.0 - y) * np.log((1.0 - y) / (1.0 - mu)), 0.0)
    return math.fsum(2.0 * wt * (t1 + t2))


def _glm_fit_intercept(y: np.ndarray, wt: np.ndarray) -> tuple[float, float, float, bool]:
    """R's ``glm.fit(x = 1, y, weights = wt, family = quasibinomial())`` (IRLS).

    Returns
    -------
    coef : float
        The intercept at convergence (R's iterate, *not* the closed-form MLE).
    deviance : float
        ``deviance(fit)``.
    naive_cov : float
        ``summary(fit)$cov.unscaled``: ``1 / sum(w^2)`` with the working weights ``w`` of
        the last IRLS iteration, i.e. evaluated at the *previous* iterate's mean.
    converged : bool
        Whether the relative deviance change fell below ``glm.control()$epsilon``.
    """
    # binomial()$initialize for a 0/1 response
    mustart = (wt * y + 0.5) / (wt + 1.0)
    eta = _linkfun(mustart)
    mu = _linkinv(eta)
    devold = _deviance(y, mu, wt)
    coef = float("nan")
    naive_cov = float("nan")
    dev = devold
    for _ in range(_GLM_MAXIT):
        mu_eta = _mu_eta(eta)
        good = (wt > 0) & (mu_eta != 0)
        varmu = mu[good] * (1.0 - mu[good])
        z = eta[good] + (y[good] - mu[good]) / mu_eta[good]
        w2 = wt[good] * mu_eta[good] ** 2 / varmu
        # Weighted least squares of z on a column of ones (R: Householder QR, Cdqrls).
        sw2 = math.fsum(w2)
        coef = math.fsum(w2 * z) / sw2
        naive_cov = 1.0 / sw2
        eta = np.full_like(y, coef)
        mu = _linkinv(eta)
        dev = _deviance(y, mu, wt)
        if not math.isfinite(dev):
            return coef, dev, naive_cov, False
        if abs(dev - devold) / (abs(dev) + 0.1) < _GLM_EPSILON:
            return coef, dev, naive_cov, True
        devold = dev
    return coef, dev, naive_cov, False


# --------------------------------------------------------------------------------------
# stats::spline(method = "fmm") and stats::approx(), as in R's C sources
# --------------------------------------------------------------------------------------
def _regularize_values(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``stats:::regularize.values(x, y, ties = mean)``: drop NA, sort by x, mean ties."""
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if np.any(np.diff(x) < 0):
        o = np.argsort(x, kind="stable")
        x, y = x[o], y[o]
    ux, start = np.unique(x, return_index=True)
    if len(ux) < len(x):
        bounds = np.append(start, len(x))
        y = np.array([np.mean(y[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
        x = ux
    return x, y


def _fmm_spline_coef(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of R's ``fmm_spline`` (Forsythe, Malcolm & Moler 1977).

    A hand-written, statement-by-statement port of ``fmm_spline()`` in R's
    ``src/library/stats/src/splines.c``. The end conditions match the third derivative
    at each end to that of the cubic through the first (last) four points -- they are not
    any of ``scipy.interpolate.CubicSpline``'s ``bc_type`` options, hence the port.

    The spline on ``[x[i], x[i+1]]`` is
    ``y[i] + b[i]*dx + c[i]*dx**2 + d[i]*dx**3`` with ``dx = u - x[i]``.
    """
    n = len(x)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n < 2:
        raise ValueError("fmm spline needs at least two points")
    if n < 3:
        t = y[1] - y[0]
        b[0] = t / (x[1] - x[0])
        b[1] = b[0]
        return b, c, d
    nm1 = n - 1  # 0-based index of the last point
    # Set up tridiagonal system: b = diagonal, d = off-diagonal, c = right-hand side.
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, nm1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    # End conditions: third derivatives at x[0] and x[n-1] from divided differences.
    b[0] = -d[0]
    b[nm1] = -d[nm1 - 1]
    c[0] = 0.0
    c[nm1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[nm1] = c[nm1 - 1] / (x[nm1] - x[nm1 - 2]) - c[nm1 - 2] / (x[nm1 - 1] - x[nm1 - 3])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[nm1] = -c[nm1] * d[nm1 - 1] * d[nm1 - 1] / (x[nm1] - x[nm1 - 3])
    # Gaussian elimination.
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    # Backward substitution.
    c[nm1] = c[nm1] / b[nm1]
    for i in range(nm1 - 1, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    # c[i] is now sigma[i] of the text; compute the polynomial coefficients.
    b[nm1] = (y[nm1] - y[nm1 - 1]) / d[nm1 - 1] + d[nm1 - 1] * (c[nm1 - 1] + 2.0 * c[nm1])
    for i in range(nm1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[nm1] = 3.0 * c[nm1]
    d[nm1] = d[nm1 - 1]
    return b, c, d


def _spline_eval(
    u: np.ndarray, x: np.ndarray, y: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray
) -> np.ndarray:
    """R's C ``spline_eval`` for a non-periodic, non-natural (fmm) spline."""
    n = len(x)
    v = np.empty(len(u))
    i = 0
    for k, ul in enumerate(u):
        if ul < x[i] or (i < n - 1 and x[i + 1] < ul):
            # reset i such that x[i] <= ul <= x[i+1]
            i = 0
            j = n
            while True:
                m = (i + j) // 2
                if ul < x[m]:
                    j = m
                else:
                    i = m
                if j <= i + 1:
                    break
        dx = ul - x[i]
        v[k] = y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))
    return v


def _seq_length_out(start: float, stop: float, length_out: int) -> np.ndarray:
    """``seq.int(start, stop, length.out = n)`` as R 4.2's C ``do_seq`` computes it.

    ``start + i * by`` for ``i < n - 1`` and exactly ``stop`` last (checked bit for bit
    against R 4.2.2 in the tests).
    """
    if length_out < 2:
        return np.full(length_out, start)
    out = start + np.arange(length_out, dtype=float) * ((stop - start) / (length_out - 1))
    out[0] = start
    out[-1] = stop
    return out


def _spline_fmm(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``stats::spline(x, y)`` with its defaults (``method = "fmm"``, ``n = 3 * length(x)``).

    ``n`` is a lazily evaluated default, so it is three times the number of points left
    after ``regularize.values`` (ties collapsed).
    """
    x, y = _regularize_values(x, y)
    xout = _seq_length_out(float(x.min()), float(x.max()), 3 * len(x))
    if len(x) < 2:  # R: C fmm_spline sets EDOM and returns; all xout equal x[0]
        return xout, np.full(len(xout), y[0])
    b, c, d = _fmm_spline_coef(x, y)
    return xout, _spline_eval(xout, x, y, b, c, d)


def _approx_linear(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """``stats::approx(x, y, xout)$y`` (``rule = 1``: NaN outside ``range(x)``; C ``approx1``)."""
    x, y = _regularize_values(x, y)
    if len(x) < 2:  # R stops: "need at least two non-NA values to interpolate"
        return np.full(len(xout), np.nan)
    out = np.empty(len(xout))
    for k, v in enumerate(xout):
        if np.isnan(v) or v < x[0] or v > x[-1]:
            out[k] = np.nan
            continue
        i, j = 0, len(x) - 1
        while i < j - 1:
            m = (i + j) // 2
            if v < x[m]:
                j = m
            else:
                i = m
        if v == x[j]:
            out[k] = y[j]
        elif v == x[i]:
            out[k] = y[i]
        else:
            out[k] = y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i]))
    return out


# --------------------------------------------------------------------------------------
# The interval
# --------------------------------------------------------------------------------------
def _validate(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    w = np.asarray(w, dtype=float).ravel()
    if y.shape != w.shape:
        raise InvalidValueError(
            f"y and w must have the same length; got {y.size} outcomes and {w.size} weights."
        )
    if y.size < 2:
        raise InvalidValueError(
            f"the likelihood interval needs at least 2 rows; got {y.size}. "
            "Check the domain definition."
        )
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        raise InvalidValueError(
            f"y must be 0/1 (non-missing); {int(bad.sum())} row(s) are not, e.g. row "
            f"{int(np.flatnonzero(bad)[0])} = {y[bad][0]!r}. Drop missing rows first."
        )
    badw = ~np.isfinite(w) | (w <= 0)
    if badw.any():
        raise WeightsError(
            f"weights must be finite and > 0; {int(badw.sum())} row(s) are not, e.g. row "
            f"{int(np.flatnonzero(badw)[0])} = {w[badw][0]!r}. Pass only the domain's rows."
        )
    return y, w


def _profile(
    y: np.ndarray, wt: np.ndarray, coef: float, dev0: float, se: float, disp: float, zmax: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """``survey:::MASSprofile_glm`` for the intercept-only model.

    Returns the intercept values and signed root deviances sorted by the latter, or
    ``None`` where R stops with an error (non-finite deviance, or a better fit found).
    """
    delta = zmax / 5.0
    betas = [coef]
    zs = [0.0]
    for sgn in (-1.0, 1.0):
        step = 0
        z = 0.0
        while True:
            step += 1
            if not (step < _MAXSTEPS and abs(z) < zmax):
                break
            bi = coef + sgn * step * delta * se
            # glm.fit with an empty model matrix: eta = offset, deviance at mu = expit(bi).
            mu = _linkinv(np.full_like(y, bi))
            zz = (_deviance(y, mu, wt) - dev0) / disp
            if not zz > -0.001:  # R: NaN -> "missing value" error; < -0.001 -> stop()
                return None
            zz = max(zz, 0.0)
            z = sgn * math.sqrt(zz)
            betas.append(bi)
            zs.append(z)
    zarr = np.array(zs)
    order = np.argsort(zarr, kind="stable")
    return np.array(betas)[order], zarr[order]


def likelihood_ci(
    y: np.ndarray,
    w: np.ndarray,
    var_logit: float,
    df: float,
    level: float = 0.95,
    weight_mean: float | None = None,
) -> tuple[float, float]:
    """Design-based profile-likelihood confidence interval for a proportion.

    Ports ``svyciprop(~y, design, method = "likelihood", level = level, df = df)`` of R's
    ``survey`` 4.1.1 exactly (see the module docstring for the chain of R functions).

    Parameters
    ----------
    y : numpy.ndarray
        0/1 outcomes (float) of the rows in the model: the domain's non-missing rows.
    w : numpy.ndarray
        Their sampling weights (> 0). They are rescaled to mean 1 here, as ``svyglm``
        does (``rescale = TRUE``); the result does not depend on their scale.
    var_logit : float
        Design-based variance of the intercept of ``svyglm(y ~ 1, design,
        family = quasibinomial)``, i.e. its ``vcov``. For this model it equals
        ``var(p_hat) / (p_hat * (1 - p_hat))**2`` with ``var(p_hat)`` the ``svymean``
        variance (in R the two differ by up to ~5e-8 relative, from IRLS convergence; either
        reproduces R's interval to better than 1e-6).
    df : float
        Denominator degrees of freedom (R's ``ddf = df``, by default ``degf(design)``);
        ``numpy.inf`` gives the normal-theory version.
    level : float, default 0.95
        Confidence level, in (0, 1).
    weight_mean : float, optional
        The mean weight by which ``svyglm`` normalises (``rescale = TRUE``): the mean over
        *all* rows of the (domain) design, including rows whose ``y`` is missing, which the
        glm then drops. Default ``mean(w)`` (no missing values). It matters because it
        scales the naive variance, hence R's Rao--Scott ``lambda``.

    Returns
    -------
    tuple of float
        ``(lower, upper)`` on the proportion scale (``expit`` of the profile interval of
        the logit). Ends are NaN where R gives NA (the cutoff falls outside the profiled
        range) and both are NaN where R stops with an error:

        * ``df <= 0`` (R: "zero or negative denomintor df");
        * all ``y`` equal, i.e. ``p_hat`` is 0 or 1: the IRLS diverges and R's profile
          stops with "profiling has found a better solution, so original fit had not
          converged" or, if the design variance is 0 too, "missing value where
          TRUE/FALSE needed";
        * ``var_logit`` negative or not finite (R would give NaN as well);
        * ``var_logit == 0`` (e.g. a proportion fixed by stratification): every grid
          point coincides and R's ``approx()`` stops with "need at least two non-NA
          values to interpolate";
        * the profile finds a better fit than the IRLS one (R: "profiling has found a
          better solution").

    Notes
    -----
    Steps, with ``n = len(y)`` and ``w`` rescaled to mean 1:

    1. IRLS as in ``glm.fit`` gives the intercept ``b0``, deviance ``D0`` and
       ``naive_cov`` (``summary.glm``'s ``cov.unscaled``, from the working weights of the
       last iteration). ``lambda = var_logit / naive_cov``.
    2. ``alpha = pnorm(qt((1 - level)/2, df) * sqrt(lambda)) / 2`` and
       ``zmax = sqrt(qf(alpha, 1, n - 1, lower.tail = FALSE))`` (quasibinomial: "tau").
    3. ``summary.svyglm`` reports the *design-based* standard error
       ``sqrt(var_logit)`` (it is the grid unit) and, as dispersion, the design-weighted
       variance of the Pearson residuals times ``n/(n-1)`` (``svyvar``), which is
       ``n/(n-1)`` up to IRLS convergence error -- not the quasibinomial Pearson
       ``chi^2/df``.
    4. The grid ``b0 +- k * (zmax/5) * SE`` (``k = 1..9``, stopping once ``|z| >= zmax``)
       gives ``z = sign * sqrt((D(b) - D0) / dispersion)``.
    5. ``spline()`` (FMM, hand-ported) of ``z`` on ``b`` at ``3 * len(grid)`` even points,
       then linear ``approx()`` of ``b`` on the spline values at
       ``qnorm(2 * alpha)`` and ``qnorm(2 * alpha, lower.tail = FALSE)``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    >>> w = np.array([2.0, 1.0, 1.0, 3.0, 2.0, 1.0, 1.0, 2.0, 1.0, 2.0])
    >>> p = np.average(y, weights=w)
    >>> var_logit = 0.05 / (p * (1 - p)) ** 2 / 10  # illustrative design variance
    >>> lo, hi = likelihood_ci(y, w, var_logit, df=9)
    >>> bool(lo < p < hi)
    True
    """
    y, w = _validate(y, w)
    nan = (float("nan"), float("nan"))
    if not (0.0 < level < 1.0):
        raise InvalidValueError(f"level must be in (0, 1); got {level!r}.")
    if math.isnan(df) or df <= 0:
        return nan
    if not (math.isfinite(var_logit) and var_logit >= 0):
        return nan
    if np.all(y == y[0]):
        return nan

    n = y.size
    wt = w / (np.mean(w) if weight_mean is None else weight_mean)  # svyglm: w / mean(w)
    coef, dev0, naive_cov, _converged = _glm_fit_intercept(y, wt)
    if not (math.isfinite(coef) and math.isfinite(dev0)):
        return nan
    mu = float(_linkinv(coef))

    # summary.svyglm: dispersion = svyvar(pearson residuals); Pearson residuals are
    # (y - mu) * sqrt(prior.wt / rescaled.sampling.wt) / sqrt(mu (1 - mu)), the ratio being 1.
    # With missing y, svyglm's prior weights are normalised over all rows of the design
    # (``weight_mean``) but residuals.svyglm divides by the weights normalised over the rows
    # kept, so the residuals carry sqrt(mean(w) / weight_mean).
    ratio = 1.0 if weight_mean is None else float(np.mean(w)) / weight_mean
    r = (y - mu) * math.sqrt(ratio) / math.sqrt(mu * (1.0 - mu))
    rbar = math.fsum(wt * r) / math.fsum(wt)
    disp = math.fsum(wt * ((r - rbar) ** 2 * n / (n - 1))) / math.fsum(wt)
    se = math.sqrt(var_logit)

    # confint.svyglm(method = "likelihood")
    lam = var_logit / naive_cov
    half = (1.0 - level) / 2.0
    q = stats.norm.ppf(half) if math.isinf(df) else stats.t.ppf(half, df)
    alpha = float(stats.norm.cdf(q * math.sqrt(lam))) / 2.0
    zmax = math.sqrt(float(stats.f.isf(alpha, 1, n - 1)))

    prof = _profile(y, wt, coef, dev0, se, disp, zmax)
    if prof is None:
        return nan
    betas, zs = prof

    # confint_profile
    sx, sy = _spline_fmm(betas, zs)
    cutoff = np.array([stats.norm.ppf(2.0 * alpha), stats.norm.isf(2.0 * alpha)])
    lo, hi = _approx_linear(sy, sx, cutoff)
    return _expit(lo), _expit(hi)
