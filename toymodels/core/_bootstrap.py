"""Bootstrap over seeds: width exponents, their difference, per-seed optima and edges, null rates.

The unit of replication in every sweep is the seed: one seed fixes the student's frozen weights
and the LoRA initialization of every cell of a width. So the one honest resampling is over seeds:
draw S seed indices with replacement, recompute the statistic, repeat B times, and read the
percentile interval. Widths are never resampled; they are the design.

**Point estimate.** Per width, the mean of log y over the seeds with a finite value (the
geometric mean), then the log-log least-squares slope of those means (:func:`fit_power_law`).
With no missing values this is exactly the pooled fit of all (width, seed) points, since least
squares on a balanced design only sees each width's mean; the bootstrap of a mean is smooth,
whereas the median of 8 seeds takes only a handful of values and makes a lumpy, too-short
interval. A seed that is an outlier at one width moves the estimate by 1/S of its log excess;
outliers of other kinds (a cell that never reached the edge) are NaN and are left out.

**The difference k_A − k_B.** In this project's sweeps a seed gives both inits the same data
(``data_seed``) and the same frozen weights, while the LoRA factor each init draws comes from its
own sub-key; so the two inits' values at one seed are correlated through the frozen weights.
Paired resampling (one draw of seed indices applied to both inits) keeps that correlation and is
the default; independent resampling ignores it and is valid only for unrelated seeds.

**Per-seed summaries.** :func:`interpolated_optimum` puts a parabola in log η through the grid
minimum and its two neighbours; a minimum on the grid edge or next to a diverged rate is a
bound, flagged, never interpolated. :func:`crossing_rate` finds where a curve first reaches a
level, interpolated linearly in log-log between the bracketing grid points.

**Null calibration.** :func:`null_pass_rate` runs a decision rule on data whose width labels are
permuted (and seeds resampled): the fraction of "reproduced" is the rule's false-pass rate under
"no width dependence". A seed-bootstrap interval alone passes such data often (it measures the
seeds' spread, not the misfit of a line through permuted widths); a rule that also asks the
t-interval of ``fit_power_law(widths, geometric_means(values))`` to agree rarely does.

>>> widths = np.array([128, 256, 512, 1024])
>>> values = widths[:, None] ** -0.5 * np.array([1.0, 1.2, 0.9])  # 3 seeds, exact slope -1/2
>>> fit = bootstrap_exponent(widths, values, n_boot=200)
>>> round(fit.value, 6), [round(c, 6) for c in fit.ci]
(-0.5, [-0.5, -0.5])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from toymodels.core._fit import log_log_slopes

#: Fewest widths a resample needs for its slope to count (two points always fit a line exactly).
MIN_WIDTHS = 3


class ExponentBootstrap(NamedTuple):
    """A width exponent (or a difference of two) with its percentile interval over seeds.

    ``samples`` holds the B bootstrap replicates (NaN where a resample had fewer than
    :data:`MIN_WIDTHS` widths with data); ``n_seeds`` is S.
    """

    value: float
    ci: tuple[float, float]
    samples: np.ndarray
    n_seeds: int

    def excludes(self, alternative: float) -> bool:
        """Whether the interval lies wholly on one side of ``alternative``."""
        return not self.ci[0] <= alternative <= self.ci[1]


def _log_values(widths, values) -> tuple[np.ndarray, np.ndarray]:
    widths = np.asarray(widths, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if widths.ndim != 1 or values.ndim != 2 or values.shape[0] != widths.size:
        raise ValueError(f"values must have shape [{widths.size}, S], got {values.shape}")
    if values.shape[1] < 2:
        raise ValueError(f"a bootstrap over seeds needs at least 2 seeds, got {values.shape[1]}")
    if np.unique(widths).size < MIN_WIDTHS:
        raise ValueError(f"a width exponent needs at least {MIN_WIDTHS} widths")
    # Zero, negative, infinite or NaN values are missing cells (a rate never found).
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(np.isfinite(values) & (values > 0), np.log(values), np.nan)
    return widths, logs


def _mean_logs(logs: np.ndarray) -> np.ndarray:
    """Per-row mean of ``logs`` [W, S] over its finite entries; NaN for a row with none."""
    present = np.isfinite(logs)
    counts = present.sum(axis=1)
    with np.errstate(invalid="ignore"):
        return np.where(present, logs, 0.0).sum(axis=1) / np.where(counts > 0, counts, np.nan)


def geometric_means(values) -> np.ndarray:
    """Per width, the geometric mean over the seeds of ``values`` [W, S] (missing cells left out).

    The point estimate's data: ``fit_power_law(widths, geometric_means(values))`` is the fitted
    exponent, and its t-interval (dof W − 2) measures how well one power law fits across widths,
    which the seed bootstrap does not see (see :func:`null_pass_rate`).

    >>> geometric_means([[1.0, 4.0], [2.0, np.nan], [np.nan, 0.0]]).tolist()
    [2.0, 2.0, nan]
    """
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(np.isfinite(values) & (values > 0), np.log(values), np.nan)
    return np.exp(_mean_logs(logs))


def _slopes(widths: np.ndarray, logs: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The slope for each row of seed indices ``draws`` [B, S]: per-width mean of the drawn
    ``logs`` [W, S] (NaN = missing), fitted in one call; NaN for a draw with too few widths."""
    picked = logs[:, draws]  # [W, B, S]
    present = np.isfinite(picked)
    counts = present.sum(axis=-1)
    with np.errstate(invalid="ignore"):
        means = np.where(present, picked, 0.0).sum(axis=-1) / np.where(counts > 0, counts, np.nan)
    slopes = log_log_slopes(np.log(widths), means)
    unique, index = np.unique(widths, return_inverse=True)
    has = np.isfinite(means)
    distinct = sum(has[index == k].any(axis=0) for k in range(unique.size))
    return np.where(distinct >= MIN_WIDTHS, slopes, math.nan)


def _slope(widths: np.ndarray, logs: np.ndarray) -> float:
    """Slope of the per-width mean of ``logs`` [W, S] (NaN = missing); NaN if too few widths."""
    return float(_slopes(widths, logs, np.arange(logs.shape[1])[None, :])[0])


def _interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return (math.nan, math.nan)
    tail = 50 * (1 - confidence)
    low, high = np.percentile(finite, [tail, 100 - tail])
    return (float(low), float(high))


def _check(n_boot: int, confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")


def bootstrap_exponent(
    widths, values, *, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> ExponentBootstrap:
    """Fit ``values ∝ widths^k`` and bootstrap ``k`` over seeds.

    Args:
      widths: ``[W]`` positive, at least :data:`MIN_WIDTHS` distinct.
      values: ``[W, S]`` per-seed values (e.g. edge rates); NaN, inf or ≤ 0 marks a missing cell.
      n_boot: B, the number of resamples.
      confidence: level of the two-sided percentile interval.
      seed: the resampling generator's seed (the result is a pure function of the inputs).

    >>> widths = np.array([128, 256, 512, 1024])
    >>> noise = np.exp(np.random.default_rng(1).normal(0, 0.1, (4, 8)))
    >>> fit = bootstrap_exponent(widths, widths[:, None] ** -1.0 * noise)
    >>> fit.excludes(-0.5), fit.excludes(-1.0), fit.samples.shape
    (True, False, (2000,))
    """
    _check(n_boot, confidence)
    widths, logs = _log_values(widths, values)
    rng = np.random.default_rng(seed)
    n_seeds = logs.shape[1]
    draws = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    samples = _slopes(widths, logs, draws)
    return ExponentBootstrap(_slope(widths, logs), _interval(samples, confidence), samples, n_seeds)


def bootstrap_exponent_difference(
    widths,
    values_a,
    values_b,
    *,
    paired: bool = True,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ExponentBootstrap:
    """``k_a − k_b`` for two ``[W, S]`` arrays over the same widths, bootstrapped over seeds.

    ``paired=True`` (the default; the two arrays' columns must be the same seeds) applies one
    draw of seed indices to both; ``paired=False`` draws for each separately (then the seed
    counts may differ).

    >>> widths = np.array([128, 256, 512, 1024])
    >>> noise = np.exp(np.random.default_rng(2).normal(0, 0.1, (4, 8)))
    >>> diff = bootstrap_exponent_difference(
    ...     widths, widths[:, None] ** -0.5 * noise, widths[:, None] ** -1.0 * noise)
    >>> round(diff.value, 6), diff.ci[0] > 0
    (0.5, True)
    """
    _check(n_boot, confidence)
    widths, logs_a = _log_values(widths, values_a)
    _, logs_b = _log_values(widths, values_b)
    if paired and logs_a.shape != logs_b.shape:
        raise ValueError(
            f"paired resampling needs equal shapes, got {logs_a.shape}, {logs_b.shape}"
        )
    rng = np.random.default_rng(seed)
    draws_a = rng.integers(0, logs_a.shape[1], size=(n_boot, logs_a.shape[1]))
    draws_b = (
        draws_a if paired else rng.integers(0, logs_b.shape[1], size=(n_boot, logs_b.shape[1]))
    )
    samples = _slopes(widths, logs_a, draws_a) - _slopes(widths, logs_b, draws_b)
    value = _slope(widths, logs_a) - _slope(widths, logs_b)
    n_seeds = min(logs_a.shape[1], logs_b.shape[1])
    return ExponentBootstrap(value, _interval(samples, confidence), samples, n_seeds)


class Optimum(NamedTuple):
    """A per-seed optimal rate.

    ``where`` is ``"interior"`` (parabola vertex; ``rate`` is interpolated), ``"low_edge"`` or
    ``"high_edge"`` (the grid minimum is the first or last grid point: the true optimum is ≤ or
    ≥ ``rate``), ``"next_to_divergence"`` (a neighbour of the minimum diverged:
    ``rate`` is the grid minimum, a lower bound at the stability edge) or ``"none"`` (no finite
    loss; ``rate`` is NaN). Only ``"interior"`` is an estimate; the others are bounds to report
    as such, or reasons to extend the grid.
    """

    rate: float
    loss: float
    where: str

    @property
    def interior(self) -> bool:
        return self.where == "interior"


def interpolated_optimum(rates, losses) -> Optimum:
    """The minimum of ``losses`` over increasing ``rates``, refined by a parabola in log η.

    The parabola passes through the grid minimum and its two neighbours (for a unimodal curve,
    the three best points); its vertex lies between the neighbours. A non-finite loss is a
    diverged run.

    >>> rates = 2.0 ** np.arange(-6, 0)
    >>> losses = (np.log2(rates) + 3.3) ** 2  # minimum at 2^-3.3
    >>> opt = interpolated_optimum(rates, losses)
    >>> opt.where, round(float(np.log2(opt.rate)), 6)
    ('interior', -3.3)
    >>> interpolated_optimum(rates, -np.log2(rates)).where  # still falling at the largest rate
    'high_edge'
    >>> interpolated_optimum(rates, [5, 4, 3, 2, np.inf, np.inf]).where
    'next_to_divergence'
    """
    rates = np.asarray(rates, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if rates.ndim != 1 or rates.shape != losses.shape or rates.size < 3:
        raise ValueError("rates and losses must be 1-D of equal length >= 3")
    if not (np.all(rates > 0) and np.all(np.diff(rates) > 0)):
        raise ValueError("rates must be positive and strictly increasing")
    finite = np.isfinite(losses)
    if not finite.any():
        return Optimum(math.nan, math.nan, "none")
    best = int(np.nanargmin(np.where(finite, losses, np.nan)))
    rate, loss = float(rates[best]), float(losses[best])
    if best == 0:
        return Optimum(rate, loss, "low_edge")
    if best == rates.size - 1:
        return Optimum(rate, loss, "high_edge")
    if not (finite[best - 1] and finite[best + 1]):
        return Optimum(rate, loss, "next_to_divergence")
    x = np.log(rates[best - 1 : best + 2])
    y = losses[best - 1 : best + 2]
    curvature, slope, intercept = np.polyfit(x, y, 2)
    if curvature <= 0:  # three equal losses: no vertex, the grid point is as good as any
        return Optimum(rate, loss, "interior")
    vertex = -slope / (2 * curvature)
    vertex_loss = intercept - slope**2 / (4 * curvature)
    return Optimum(float(math.exp(vertex)), float(vertex_loss), "interior")


class Crossing(NamedTuple):
    """Where a curve first reaches a level.

    ``where``: ``"bracketed"`` (``rate`` interpolated in log-log), ``"bracketed_by_divergence"``
    (the first point at or above the level diverged, so no log-log line exists: ``rate`` is the
    geometric midpoint of the bracket), ``"above_at_lowest"`` or ``"below_at_highest"``
    (not bracketed by the grid; ``rate`` is NaN).
    """

    rate: float
    where: str

    @property
    def bracketed(self) -> bool:
        return self.where.startswith("bracketed")


def crossing_rate(rates, values, level: float) -> Crossing:
    """The rate at which ``values`` (over increasing ``rates``) first reaches ``level``.

    A non-finite value (a diverged run) counts as above every level.

    >>> rates = 2.0 ** np.arange(-8, 0)
    >>> crossing = crossing_rate(rates, 4.0 * rates**0.5, 1.0)  # 4 η^½ = 1 at η = 2^-4
    >>> crossing.where, float(np.log2(crossing.rate))
    ('bracketed', -4.0)
    >>> crossing_rate(rates, np.ones(8) * 2, 1.0).where
    'above_at_lowest'
    """
    rates = np.asarray(rates, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if rates.ndim != 1 or rates.shape != values.shape or rates.size < 2:
        raise ValueError("rates and values must be 1-D of equal length >= 2")
    if not (np.all(rates > 0) and np.all(np.diff(rates) > 0)):
        raise ValueError("rates must be positive and strictly increasing")
    if not (math.isfinite(level) and level > 0):
        raise ValueError(f"level must be finite and > 0, got {level}")
    reached = ~(values < level)  # NaN and inf count as reached
    if not reached.any():
        return Crossing(math.nan, "below_at_highest")
    first = int(np.argmax(reached))
    if first == 0:
        return Crossing(math.nan, "above_at_lowest")
    low_rate, high_rate = np.log(rates[first - 1 : first + 1])
    low_value, high_value = values[first - 1 : first + 1]
    if not (math.isfinite(high_value) and low_value > 0):
        return Crossing(float(math.exp((low_rate + high_rate) / 2)), "bracketed_by_divergence")
    fraction = math.log(level / low_value) / math.log(high_value / low_value)
    return Crossing(float(math.exp(low_rate + fraction * (high_rate - low_rate))), "bracketed")


def null_pass_rate(
    rule: Callable[..., bool], datasets: Sequence, *, n_null: int = 200, seed: int = 0
) -> float:
    """How often ``rule(*datasets)`` passes when width has no effect: the rule's null pass rate.

    Each draw resamples the seeds (columns, one draw shared by all datasets, so pairs stay
    paired) and permutes the width labels (rows) of each dataset independently, which destroys
    any width dependence while keeping the values' spread. ``datasets`` are ``[W, S]`` arrays
    of one experiment (e.g. the Init[A] and Init[B] edges); ``rule`` closes over the widths.

    A rule that only asks for a falling power law passes about half the time with no width
    effect at all: the seed bootstrap sees the seeds' spread, not how badly a line fits permuted
    widths. Asking the interval to contain the predicted −1 is far stricter:

    >>> widths = 2.0 ** np.arange(7, 12)
    >>> edges = widths[:, None] ** -1.0 * np.exp(np.random.default_rng(0).normal(0, 0.2, (5, 8)))
    >>> interval = lambda v: bootstrap_exponent(widths, v, n_boot=50).ci
    >>> falls = lambda v: interval(v)[1] < 0
    >>> near_minus_one = lambda v: interval(v)[0] <= -1 <= interval(v)[1]
    >>> falls(edges), null_pass_rate(falls, [edges], n_null=20)
    (True, 0.4)
    >>> near_minus_one(edges), null_pass_rate(near_minus_one, [edges], n_null=20)
    (True, 0.0)

    The t-interval of the fit to :func:`geometric_means` widens with the misfit across widths:

    >>> from toymodels.core import fit_power_law
    >>> falls_and_fits = lambda v: falls(v) and fit_power_law(widths, geometric_means(v)).ci[1] < 0
    >>> falls_and_fits(edges), null_pass_rate(falls_and_fits, [edges], n_null=20)
    (True, 0.0)
    """
    if n_null < 1:
        raise ValueError(f"n_null must be >= 1, got {n_null}")
    arrays = [np.asarray(data, dtype=np.float64) for data in datasets]
    if not arrays or len({array.shape for array in arrays}) != 1 or arrays[0].ndim != 2:
        raise ValueError("datasets must be one or more [W, S] arrays of one shape")
    n_widths, n_seeds = arrays[0].shape
    rng = np.random.default_rng(seed)
    passes = 0
    for _ in range(n_null):
        columns = rng.integers(0, n_seeds, size=n_seeds)
        shuffled = [array[rng.permutation(n_widths)][:, columns] for array in arrays]
        passes += bool(rule(*shuffled))
    return passes / n_null
