"""Power-law fits in log-log space: the one place where a width exponent is estimated.

Both the optimal-rate fit (η*(n) ∝ n^k) and the empirical-γ check (RMS(n) ∝ n^γ) use
:func:`fit_power_law`. It is ordinary least squares of log y on log x with a Student-t
confidence interval on the slope; repeated measurements at one x (seeds) count as separate
observations.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import stats


class PowerLawFit(NamedTuple):
    """y ≈ prefactor · x^exponent, with a confidence interval on the exponent."""

    exponent: float
    ci: tuple[float, float]
    prefactor: float
    n_points: int

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the confidence interval."""
        return self.ci[0] <= value <= self.ci[1]


def log_log_slopes(log_x, log_y) -> np.ndarray:
    """Least-squares slopes of each column of ``log_y`` ``[P, B]`` on ``log_x`` ``[P]``, at once.

    A NaN entry is left out of its column's fit; a column with fewer than two distinct points
    gives NaN. :func:`fit_power_law`'s exponent is this slope, and the seed bootstrap
    (``toymodels.core._bootstrap``) fits all its resamples with one call.

    >>> log_log_slopes(np.log([1.0, 2.0, 4.0]), np.log([[1.0, 8.0], [0.5, np.nan], [0.25, 2.0]]))
    array([-1., -1.])
    """
    log_x = np.asarray(log_x, dtype=np.float64)[:, None]
    log_y = np.asarray(log_y, dtype=np.float64)
    present = np.isfinite(log_y)
    counts = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean = np.where(present, log_x, 0.0).sum(axis=0) / counts
        y_mean = np.where(present, log_y, 0.0).sum(axis=0) / counts
        dx = np.where(present, log_x - x_mean, 0.0)
        dy = np.where(present, log_y - y_mean, 0.0)
        sxx = (dx * dx).sum(axis=0)
        slopes = (dx * dy).sum(axis=0) / sxx
    return np.where((counts >= 2) & (sxx > 0), slopes, np.nan)


def fit_power_law(x, y, *, confidence: float = 0.95) -> PowerLawFit:
    """Fit ``y = C x^k`` by least squares on ``log y = log C + k log x``.

    Args:
      x: positive abscissae, shape ``[P]`` (e.g. widths).
      y: positive values, shape ``[P]`` or ``[P, S]`` (``S`` repeated measurements per x,
        e.g. seeds; each is one observation).
      confidence: level of the two-sided interval on ``k``.

    Returns:
      The fitted exponent ``k`` with its interval (infinite when there are only two
      distinct points, since a line through two points has no residual to estimate from).

    >>> fit = fit_power_law([128, 256, 512, 1024], [4.0, 2.0, 1.0, 0.5])
    >>> round(fit.exponent, 6), round(fit.prefactor, 3)
    (-1.0, 512.0)
    >>> fit.contains(-1.0)
    True
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be one-dimensional, got shape {x.shape}")
    if y.shape[0] != x.shape[0] or y.ndim not in (1, 2):
        raise ValueError(f"y must have shape [{x.shape[0]}] or [{x.shape[0]}, S], got {y.shape}")
    if y.ndim == 2:
        x = np.repeat(x, y.shape[1])
        y = y.reshape(-1)
    if not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise ValueError("x must be finite and positive for a log-log fit")
    if not (np.all(np.isfinite(y)) and np.all(y > 0)):
        raise ValueError("y must be finite and positive for a log-log fit")
    if np.unique(x).size < 2:
        raise ValueError("a power-law fit needs at least two distinct x values")

    log_x, log_y = np.log(x), np.log(y)
    slope = float(log_log_slopes(log_x, log_y[:, None])[0])
    intercept = float(log_y.mean() - slope * log_x.mean())
    dof = log_x.size - 2
    if dof <= 0:
        half_width = math.inf
    else:
        residuals = log_y - (slope * log_x + intercept)
        sigma2 = float(residuals @ residuals) / dof
        sxx = float(((log_x - log_x.mean()) ** 2).sum())
        half_width = float(stats.t.ppf(0.5 + confidence / 2, dof)) * math.sqrt(sigma2 / sxx)
    slope = float(slope)
    return PowerLawFit(
        exponent=slope,
        ci=(slope - half_width, slope + half_width),
        prefactor=float(math.exp(intercept)),
        n_points=int(log_x.size),
    )
