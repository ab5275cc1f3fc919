"""Running exponents: the local slope between neighbouring widths, read as a coordinate check is.

One power law fitted over all widths hides a slope that drifts: a rate that falls as n^-0.8 at
small n and bends onto n^-1/2 at large n fits to something in between. The running exponent
between neighbouring widths n_i < n_{i+1} is

    k_i = mean over seeds of  log(v_{i+1, s} / v_{i, s}) / log(n_{i+1} / n_i),

paired by seed (the two widths' runs at one seed share nothing but the seed's data, yet the pairing
costs nothing and removes the seeds' common offsets), with a percentile bootstrap over seeds. A
seed missing at either width is left out of that pair. Its **trend** is the least-squares slope of
k_i against log2 of the pair's geometric-mean width, bootstrapped with the same seed draws: a trend
above 0 means the exponent rises (toward −1/2 from below) as n grows.

>>> import numpy as np
>>> widths = 2.0 ** np.arange(7, 11)
>>> v = np.stack([widths ** -1.0, widths ** -1.0 * 1.1]).T  # [W, S], slope −1 at every step
>>> [round(r.value, 6) for r in running_exponents(widths, v, n_boot=50)]
[-1.0, -1.0, -1.0]
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from toymodels.core import UsageError

#: A running exponent needs at least this many widths (two neighbouring pairs: one trend).
MIN_RUNNING_WIDTHS = 3
CONFIDENCE = 0.95


class RunningExponent(NamedTuple):
    """The slope between two neighbouring widths, with its seed-bootstrap interval."""

    low: int
    high: int
    value: float
    ci: tuple[float, float]
    n_seeds: int


def _logs(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(values) & (values > 0), np.log(values), np.nan)


def _pair_slopes(widths: np.ndarray, logs: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """``[B, W − 1]``: per seed draw, the mean paired local slope of each neighbouring pair."""
    steps = np.diff(logs, axis=0) / np.diff(np.log(widths))[:, None]  # [W − 1, S]
    picked = steps[:, draws]  # [W − 1, B, S]
    present = np.isfinite(picked)
    counts = present.sum(-1)
    with np.errstate(invalid="ignore"):
        means = np.where(present, picked, 0.0).sum(-1) / np.where(counts > 0, counts, np.nan)
    return means.T


def _interval(samples: np.ndarray) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return (math.nan, math.nan)
    tail = 50 * (1 - CONFIDENCE)
    return tuple(float(x) for x in np.percentile(finite, [tail, 100 - tail]))


def _check(widths, values) -> tuple[np.ndarray, np.ndarray]:
    widths = np.asarray(widths, dtype=np.float64)
    if widths.size < MIN_RUNNING_WIDTHS:
        raise UsageError(
            f"a running exponent needs at least {MIN_RUNNING_WIDTHS} widths, got {widths.size}"
        )
    if np.any(np.diff(widths) <= 0):
        raise UsageError("running exponents need strictly increasing widths")
    logs = _logs(values)
    if logs.shape[0] != widths.size or logs.ndim != 2:
        raise ValueError(f"values must have shape [{widths.size}, S], got {logs.shape}")
    return widths, logs


def running_exponents(widths, values, *, n_boot: int = 2000) -> list[RunningExponent]:
    """The running exponents of ``values`` ``[W, S]`` over increasing ``widths``."""
    widths, logs = _check(widths, values)
    n_seeds = logs.shape[1]
    draws = np.random.default_rng(0).integers(0, n_seeds, size=(n_boot, n_seeds))
    point = _pair_slopes(widths, logs, np.arange(n_seeds)[None, :])[0]
    samples = _pair_slopes(widths, logs, draws)
    both = np.isfinite(logs[:-1]) & np.isfinite(logs[1:])
    return [
        RunningExponent(
            int(widths[i]),
            int(widths[i + 1]),
            float(point[i]),
            _interval(samples[:, i]),
            int(both[i].sum()),
        )
        for i in range(widths.size - 1)
    ]


def running_trend(widths, values, *, n_boot: int = 2000) -> tuple[float, tuple[float, float]]:
    """The change of the running exponent per octave of width, and its seed-bootstrap interval."""
    widths, logs = _check(widths, values)
    n_seeds = logs.shape[1]
    draws = np.random.default_rng(0).integers(0, n_seeds, size=(n_boot, n_seeds))
    x = np.log2(np.sqrt(widths[:-1] * widths[1:]))

    def trend(slopes: np.ndarray) -> np.ndarray:  # [B, W − 1] → [B]
        ok = np.isfinite(slopes)
        out = np.full(slopes.shape[0], math.nan)
        for b in range(slopes.shape[0]):
            if ok[b].sum() >= 2:
                out[b] = np.polyfit(x[ok[b]], slopes[b, ok[b]], 1)[0]
        return out

    point = trend(_pair_slopes(widths, logs, np.arange(n_seeds)[None, :]))[0]
    return float(point), _interval(trend(_pair_slopes(widths, logs, draws)))
