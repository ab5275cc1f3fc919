"""The LoRA+ heatmap per seed: divergence as a fraction of seeds, and optima that one seed cannot
decide.

With the rule "any seed diverged ⇒ +∞" (:func:`toymodels.reproduce._figure_data.heatmap_grid`),
one diverged seed of three discarded every η_A ≥ 2e-2 in our first run, although the other seeds
trained there to a 2-4× lower loss (issue 12). So the optimum is reported by two rules, side by
side:

- **median** (the robust rule): the seed-median loss over the seeds that trained, at the pairs
  where at most half the seeds diverged (:data:`MAX_DIVERGED`; a pair that most seeds cannot train
  is not a candidate);
- **any diverged**: the seed mean, +∞ when any seed diverged (the rule of the first report);

and per seed, each seed's own optimum. The curves compare the best pair with η_B > η_A with the
best equal pair η_A = η_B.

>>> import numpy as np
>>> grid = SeedGrids(np.array([1.0, 2.0]), np.array([1.0, 2.0]),
...                  np.array([[[3.0, 2.0], [1.0, np.inf]], [[3.0, 2.0], [1.5, 0.5]]]),
...                  np.array([0, 1]))
>>> diverged_fraction(grid).tolist()
[[0.0, 0.0], [0.0, 0.5]]
>>> best_pair(median_loss(grid), grid)   # (η_A, η_B, loss): one diverged seed of two is allowed
(2.0, 2.0, 0.5)
>>> best_pair(any_diverged_loss(grid), grid)
(1.0, 2.0, 1.25)
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import xarray as xr

from toymodels.reproduce import _figure_data as data
from toymodels.sweeps import _losses as losses

#: A pair is a candidate for the median rule's optimum when at most this fraction of seeds diverged.
MAX_DIVERGED = 0.5


class SeedGrids(NamedTuple):
    """Per-seed loss on the 2-D grid: ``loss[s, i, j]`` at ``(eta_A[j], eta_B[i])``; +inf where
    the seed diverged, NaN where the pair was not run."""

    eta_A: np.ndarray  # [J], increasing
    eta_B: np.ndarray  # [I], increasing
    loss: np.ndarray  # [S, I, J]
    seeds: np.ndarray  # [S]


def seed_grids(results: xr.Dataset, loss: str = "test_loss", step: int | None = None) -> SeedGrids:
    """Unflatten a 2-D rate sweep into per-seed ``eta_B × eta_A`` grids of ``loss`` at ``step``."""
    per_run = losses.loss_at(results, loss, step, window=data.analysis_window(results))
    eta_A, eta_B = data.rates(results)
    for dim in ("init", "width"):
        if dim in per_run.dims:
            per_run = per_run.isel({dim: 0})
        if dim in eta_A.dims:
            eta_A, eta_B = eta_A.isel({dim: 0}), eta_B.isel({dim: 0})
    per_run = per_run.transpose("seed", "lr")
    a_axis, b_axis = np.unique(eta_A.values), np.unique(eta_B.values)
    grid = np.full((per_run.sizes["seed"], b_axis.size, a_axis.size), np.nan)
    rows, cols = np.searchsorted(b_axis, eta_B.values), np.searchsorted(a_axis, eta_A.values)
    grid[:, rows, cols] = per_run.values
    return SeedGrids(a_axis, b_axis, grid, results.seed.values)


def diverged_fraction(grids: SeedGrids) -> np.ndarray:
    """``[I, J]``: the fraction of the seeds that ran a pair and diverged (NaN: not run)."""
    ran = ~np.isnan(grids.loss)
    with np.errstate(invalid="ignore"):
        return np.isinf(grids.loss).sum(0) / np.where(ran.sum(0) > 0, ran.sum(0), np.nan)


def median_loss(grids: SeedGrids) -> np.ndarray:
    """``[I, J]``: the seed-median loss over the seeds that trained; +inf where more than
    :data:`MAX_DIVERGED` of the seeds diverged, NaN where not run."""
    finite = np.where(np.isfinite(grids.loss), grids.loss, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: pairs all diverged
        median = np.nanmedian(finite, axis=0)
    fraction = diverged_fraction(grids)
    return np.where(np.isnan(fraction), np.nan, np.where(fraction > MAX_DIVERGED, np.inf, median))


def any_diverged_loss(grids: SeedGrids) -> np.ndarray:
    """``[I, J]``: the seed mean, +inf when any seed diverged (the first report's rule)."""
    return grids.loss.mean(axis=0)


def best_pair(loss: np.ndarray, grids: SeedGrids, where=None) -> tuple[float, float, float] | None:
    """``(eta_A, eta_B, loss)`` of the lowest finite ``loss`` [I, J] (restricted to the pairs
    where ``where`` [I, J] is True); None when there is none."""
    ok = np.isfinite(loss) & (True if where is None else where)
    if not ok.any():
        return None
    i, j = np.unravel_index(np.argmin(np.where(ok, loss, np.inf)), loss.shape)
    return float(grids.eta_A[j]), float(grids.eta_B[i]), float(loss[i, j])


def above_diagonal(grids: SeedGrids) -> np.ndarray:
    """``[I, J]``: True where η_B > η_A (beyond rounding)."""
    return grids.eta_B[:, None] > grids.eta_A[None, :] * (1 + 1e-6)


def on_diagonal(grids: SeedGrids) -> np.ndarray:
    """``[I, J]``: True where η_B = η_A (to rounding)."""
    return np.isclose(grids.eta_B[:, None], grids.eta_A[None, :], rtol=1e-6)


class SeedComparison(NamedTuple):
    """One seed: its own optimum, its best pair with η_B > η_A and its best equal pair."""

    seed: int
    best: tuple[float, float, float] | None
    above: tuple[float, float, float] | None
    equal: tuple[float, float, float] | None

    @property
    def gain(self) -> float:
        """Best equal pair's loss over the best η_B > η_A pair's (> 1: η_B > η_A wins)."""
        if self.above is None or self.equal is None:
            return float("nan")
        return self.equal[2] / self.above[2]


def per_seed(grids: SeedGrids) -> list[SeedComparison]:
    """Each seed's optimum, best η_B > η_A pair and best equal pair (diverged runs excluded)."""
    out = []
    for s, seed in enumerate(grids.seeds):
        loss = grids.loss[s]
        out.append(
            SeedComparison(
                int(seed),
                best_pair(loss, grids),
                best_pair(loss, grids, above_diagonal(grids)),
                best_pair(loss, grids, on_diagonal(grids)),
            )
        )
    return out
