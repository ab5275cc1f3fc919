"""The stability edge over a set of levels, and the divergence edge.

The feature edge η_edge(C) is the first rate at which max_{t ≤ T'} RMS(Z_B) reaches the level C
(:mod:`toymodels.analysis._edge`). Its width exponent k(C) moves with C a little, and a verdict
read at one C hinges on that choice. Here one rule covers a *set* of levels fixed beforehand,
:data:`EDGE_LEVELS` = {1, 2, 4, 8, 16}:

- the estimate is the median over the levels of the per-level exponents k(C);
- the interval is a percentile interval of a *mixture* bootstrap: each replicate draws a level
  uniformly from the set and resamples the seeds (one seed draw shared by every level and, for
  k_A − k_B, by both inits), and takes that level's slope on those seeds. The interval therefore
  spans the spread over levels as well as over seeds; at one level it is the seed bootstrap.

Two more definitions of the edge come from the same runs, so no claim rests on Z_B alone:

- the loss edge: the largest rate whose train loss at T' ends below half its start
  (``_edge.loss_edge``);
- the **divergence edge**: the largest rate whose train loss stays finite through T' and ends
  below its start, i.e. the up-crossing of the loss ratio loss_T'/loss_0 through 1 past its
  minimum (a diverged run has ratio +∞).

>>> import numpy as np
>>> widths = 2.0 ** np.arange(7, 12)
>>> noise = np.exp(np.random.default_rng(0).normal(0, 0.05, (5, 8)))
>>> by_level = {c: c ** 0.5 * widths[:, None] ** -0.5 * noise for c in EDGE_LEVELS}
>>> fit = level_exponent(widths, by_level, n_boot=400)
>>> round(fit.value, 2), fit.ci[0] < -0.5 < fit.ci[1]
(-0.5, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import xarray as xr

from toymodels.analysis._edge import N_BOOT, edge_table, loss_edge_table
from toymodels.core import UsageError, bootstrap_exponent, bootstrap_exponent_difference

#: The levels C of the edge rule, fixed before the wide run was read (issue 24): two octaves on
#: either side of the old default C = 4.
EDGE_LEVELS = (1.0, 2.0, 4.0, 8.0, 16.0)
#: The divergence edge: the loss ratio loss_T'/loss_0 whose up-crossing defines it.
DIVERGENCE_FRACTION = 1.0
CONFIDENCE = 0.95


def check_levels(levels) -> tuple[float, ...]:
    """A level set as floats; :class:`UsageError` for an empty set or a non-positive, non-finite
    or repeated level.

    >>> check_levels("1,2,4")
    (1.0, 2.0, 4.0)
    >>> check_levels([1, -2])
    Traceback (most recent call last):
    toymodels.core._errors.UsageError: level set: every level must be finite and > 0, got -2
    """
    items = levels.split(",") if isinstance(levels, str) else list(levels)
    values = []
    for item in items:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise UsageError(f"level set: {item!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise UsageError(f"level set: every level must be finite and > 0, got {item}")
        values.append(value)
    if not values:
        raise UsageError("level set: give at least one level")
    if len(set(values)) != len(values):
        raise UsageError("level set: a level is given twice")
    return tuple(sorted(values))


def level_tables(
    ds: xr.Dataset, levels: Sequence[float] = EDGE_LEVELS, horizon: int | None = None
) -> dict[float, dict[str, np.ndarray]]:
    """``{C: {init: [W, S] edge rates}}`` (NaN: not bracketed) for every level of the set."""
    return {
        float(c): {i: t["rates"] for i, t in edge_table(ds, c, horizon).items()}
        for c in check_levels(levels)
    }


def divergence_edge_table(ds: xr.Dataset, horizon: int | None = None) -> dict[str, np.ndarray]:
    """Per init the divergence edge ``[W, S]``: the largest rate whose loss stays finite through
    T' and ends below its start (NaN: the grid does not bracket it)."""
    return loss_edge_table(ds, horizon, DIVERGENCE_FRACTION)


class LevelExponent(NamedTuple):
    """An exponent read across a level set: the median of the per-level exponents, the mixture
    interval (levels and seeds), and each level's own exponent and seed interval."""

    value: float
    ci: tuple[float, float]
    per_level: dict[float, tuple[float, tuple[float, float]]]

    def contains(self, x: float) -> bool:
        return self.ci[0] <= x <= self.ci[1]

    def describe(self) -> str:
        """``-0.49 [levels and seeds -0.55, -0.43]``."""
        return f"{self.value:+.3f} [levels and seeds {self.ci[0]:+.3f}, {self.ci[1]:+.3f}]"


def _mixture(samples: Mapping[float, np.ndarray], values: Mapping[float, float], n_boot: int):
    levels = list(samples)
    rng = np.random.default_rng(1)  # which level each replicate reads (the seeds' draw is seed 0)
    pick = rng.integers(0, len(levels), size=n_boot)
    stacked = np.stack([samples[c] for c in levels])  # [L, B]
    mixed = stacked[pick, np.arange(n_boot)]
    finite = mixed[np.isfinite(mixed)]
    tail = 50 * (1 - CONFIDENCE)
    ci = (
        tuple(float(x) for x in np.percentile(finite, [tail, 100 - tail]))
        if finite.size
        else (
            math.nan,
            math.nan,
        )
    )
    point = [v for v in values.values() if math.isfinite(v)]
    return (float(np.median(point)) if point else math.nan), ci


def level_exponent(
    widths, by_level: Mapping[float, np.ndarray], *, n_boot: int = N_BOOT
) -> LevelExponent:
    """The width exponent of ``by_level`` ``{C: [W, S]}`` across its levels (module docstring)."""
    fits = {c: bootstrap_exponent(widths, v, n_boot=n_boot, seed=0) for c, v in by_level.items()}
    value, ci = _mixture(
        {c: f.samples for c, f in fits.items()}, {c: f.value for c, f in fits.items()}, n_boot
    )
    return LevelExponent(value, ci, {c: (f.value, f.ci) for c, f in fits.items()})


def level_difference(
    widths, a_by_level: Mapping[float, np.ndarray], b_by_level, *, n_boot: int = N_BOOT
) -> LevelExponent:
    """k_a − k_b across the levels, the seeds paired between the two (both inits at one seed
    share data and frozen weights) and the level drawn once for both."""
    fits = {
        c: bootstrap_exponent_difference(widths, a_by_level[c], b_by_level[c], n_boot=n_boot)
        for c in a_by_level
    }
    value, ci = _mixture(
        {c: f.samples for c, f in fits.items()}, {c: f.value for c, f in fits.items()}, n_boot
    )
    return LevelExponent(value, ci, {c: (f.value, f.ci) for c, f in fits.items()})
