"""Per-seed tables ``[W, S]`` (width × seed) that the claim rules read, one per store and init.

The claims are decided on per-seed values, never on a seed mean alone, so that the bootstrap over
seeds and the null calibration (:mod:`toymodels.reproduce._rules`) have the seeds to resample.

- Figure 2: per seed, the optimal rate of each (init, width): the parabola in log η through the
  seed's grid minimum and its neighbours (``toymodels.analysis._seed_optima``); an optimum on the
  grid's edge or next to a diverged rate is a bound, not an estimate, and is NaN here (left out,
  and counted in ``where``). Also the seed's best train loss on the grid.
- Figure 3: per seed, a feature norm at the last step at each (init, width)'s rate.
- The stability edge: the per-seed edge rates of ``lora-sweep edge`` at a level C
  (``toymodels.analysis._edge.edge_table``).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import xarray as xr

from toymodels.analysis._seed_optima import seed_optima
from toymodels.reproduce import _figure_data as data
from toymodels.sweeps import _losses as losses


class SeedOptima(NamedTuple):
    """Figure 2 per seed: ``rate`` and ``loss`` map init → [W, S]; ``where`` init → [W][S]."""

    widths: np.ndarray
    seeds: np.ndarray
    rate: dict[str, np.ndarray]
    loss: dict[str, np.ndarray]
    where: dict[str, list[list[str]]]


def figure2_seed_optima(results: xr.Dataset, metric: str = "train_loss") -> SeedOptima:
    """Per seed, the interpolated optimal rate (``toymodels.analysis._seed_optima``, the one that
    ``lora-sweep figure2`` reports) and the best loss on the grid of each (init, width).

    The loss of a run is the preset's window mean at the last step, +inf if it diverged.
    """
    window = data.analysis_window(results)
    table = seed_optima(results, metric, None, window=window)
    loss = losses.loss_at(results, metric, window=window).transpose("init", "width", "seed", "lr")
    finite = np.where(np.isfinite(loss.values), loss.values, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell with no finite loss: NaN
        best = np.nanmin(finite, axis=-1)
    inits = [str(x) for x in results.init.values]
    return SeedOptima(
        results.width.values.astype(np.float64),
        results.seed.values,
        {init: table[init]["rates"] for init in inits},
        {init: best[i] for i, init in enumerate(inits)},
        {init: table[init]["where"] for init in inits},
    )


def figure3_final(results: xr.Dataset, name: str) -> dict[str, np.ndarray]:
    """Per init, ``name`` at the last step per seed [W, S] at each cell's best rate (NaN if a seed
    diverged)."""
    out = {}
    for init in (str(x) for x in results.init.values):
        rows = []
        for width in results.width.values:
            cell = data.cell_at_optimum(results, init, int(width))
            div = cell["diverged_step"].values
            final = cell[name].isel(step=-1).values.astype(np.float64)
            rows.append(np.where(div >= 0, np.nan, final))
        out[init] = np.array(rows)
    return out


class EdgeTables(NamedTuple):
    """The stability edge per seed: ``rate`` init → [W, S] (NaN: not found) at ``level``."""

    widths: np.ndarray
    rate: dict[str, np.ndarray]
    level: float
    horizon: int


def edge_seed_table(results: xr.Dataset, level: float | None = None) -> EdgeTables:
    """The per-seed stability edges of an ``edge`` store at ``level`` (default: the sweep's)."""
    from toymodels.analysis import _edge

    level = _edge.DEFAULT_LEVEL if level is None else float(level)
    table = _edge.edge_table(results, level)
    widths = results.width.values.astype(np.float64)
    horizon = int(results.step.values[-1])
    return EdgeTables(widths, {i: t["rates"] for i, t in table.items()}, level, horizon)
