"""Reductions of a results store to what the figures and the claims checker read.

A results store (docs/architecture.md) is an ``xarray.Dataset`` with dims
``init × width × lr × seed × step``, the rates ``eta_A`` / ``eta_B`` as coordinates on ``lr``
(or on ``width × lr``), one variable per metric and ``diverged_step``. Everything here is a pure
function of such a Dataset; nothing trains.

The losses, optima and bands come from :mod:`toymodels.sweeps._losses`:
a rate at which any seed diverged is never optimal (+inf), cells not run yet are NaN and drop out,
and the loss is averaged over the last ``window`` steps that the sweep's preset names (Adam at a
large constant rate oscillates; see docs/sweeps.md).
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np
import xarray as xr

from toymodels.core import UsageError
from toymodels.sweeps import _losses as losses

#: Relative tolerance of the "within 1% of the best loss" markers (LoRA+ Figure 2).
NEAR_BEST = 0.01


def require(results: xr.Dataset, *names: str) -> None:
    """Raise :class:`UsageError` naming the first variable or coordinate ``results`` lacks."""
    for name in names:
        if name not in results.variables:
            raise UsageError(
                f"results have no {name!r} (found: {', '.join(sorted(results.variables))})"
            )


def rates(results: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """``(eta_A, eta_B)`` broadcast to the store's ``init``, ``width``, ``lr`` dims (that order).

    A sweep stores the rates on ``lr``, on ``width × lr`` when they scale with width, or on
    ``init × width × lr`` when each cell runs at its own optimum (Figure 3).
    """
    require(results, "eta_A", "eta_B")
    dims = [d for d in ("init", "width", "lr") if d in results.dims]
    eta_A, eta_B, *_ = xr.broadcast(results["eta_A"], results["eta_B"], *(results[d] for d in dims))
    return eta_A.transpose(*dims), eta_B.transpose(*dims)


def analysis_window(results: xr.Dataset) -> int:
    """The loss window of the preset that wrote ``results`` (1 for a custom or unknown sweep)."""
    from toymodels.sweeps import get_preset

    config = attrs_json(results, "config")
    try:
        return int(get_preset(config["experiment"], config["preset"]).window)
    except (KeyError, TypeError, UsageError):
        return 1


def loss_at(results: xr.Dataset, loss: str = "train_loss", step: int | None = None) -> xr.DataArray:
    """Seed-mean ``loss`` at ``step`` (default: the last) over the preset's window.

    +inf where a seed diverged, NaN where the cell has not run; dims those of ``results`` minus
    ``seed`` and ``step``.
    """
    require(results, loss)
    return losses.mean_loss(results, loss, step, window=analysis_window(results))


class Optimum(NamedTuple):
    """The best rate per ``init × width`` (all arrays have dims ``init × width``).

    ``eta`` is the rate at the lowest seed-mean loss (NaN where nothing trained or the cell has not
    run); ``band_low``/``band_high`` span the rates whose loss is within ``NEAR_BEST`` of it (the
    uncertainty band of Figure 2); ``loss`` is that best loss; ``at_grid_edge`` is True when the
    optimum is the grid's smallest or largest rate (the true optimum may lie outside the grid);
    ``max_stable`` is the largest rate at which no seed diverged.
    """

    eta: xr.DataArray
    band_low: xr.DataArray
    band_high: xr.DataArray
    loss: xr.DataArray
    at_grid_edge: xr.DataArray
    max_stable: xr.DataArray


def figure2_optimum(
    results: xr.Dataset, loss: str = "train_loss", step: int | None = None
) -> Optimum:
    """The optimal equal learning rate per ``init × width`` of a Figure-2 sweep (η = η_A = η_B):
    :func:`toymodels.sweeps.optimal_rates` with the figure's window and tolerance, as arrays."""
    require(results, loss)
    opt = losses.optimal_rates(
        results, loss, step, window=analysis_window(results), tolerance=NEAR_BEST
    )
    band = opt["band_eta_A"]
    return Optimum(
        eta=opt["eta_A"],
        band_low=band.sel(bound="low", drop=True),
        band_high=band.sel(bound="high", drop=True),
        loss=opt["loss"],
        at_grid_edge=opt["at_edge"],
        max_stable=opt["max_stable_eta_A"],
    )


def figure2_seed_optima(
    results: xr.Dataset, loss: str = "train_loss", step: int | None = None
) -> dict[str, np.ndarray]:
    """Per init, every seed's interpolated optimum ``[W, S]`` (NaN where it is only a bound: on
    the grid's edge or next to a diverged run), with the preset's window."""
    from toymodels.analysis._seed_optima import seed_optima

    require(results, loss)
    table = seed_optima(results, loss, step, window=analysis_window(results))
    return {init: t["rates"] for init, t in table.items()}


def edge_seed_rates(
    results: xr.Dataset, level: float, horizon: int | None = None
) -> dict[str, np.ndarray]:
    """Per init, every seed's stability edge ``[W, S]`` at ``level`` (NaN: not found)."""
    from toymodels.analysis._edge import edge_table

    require(results, "Z_B")
    return {init: t["rates"] for init, t in edge_table(results, level, horizon).items()}


def cell_at_optimum(results: xr.Dataset, init: str, width: int) -> xr.Dataset:
    """The runs of one (init, width) at its best rate by seed-mean final train loss (no ``lr``).

    A Figure-3 store holds one rate per cell, which this returns as is.
    """
    cell = results.sel(init=init, width=width)
    if cell.sizes["lr"] == 1:
        return cell.isel(lr=0)
    return cell.isel(lr=int(loss_at(cell, "train_loss").argmin("lr")))


class HeatmapGrid(NamedTuple):
    """A seed-mean loss on the 2-D rate grid: ``loss[i, j]`` at ``(eta_A[j], eta_B[i])``."""

    eta_A: np.ndarray  # [J], increasing
    eta_B: np.ndarray  # [I], increasing
    loss: np.ndarray  # [I, J], +inf where a seed diverged, NaN where the pair was not run


def heatmap_grid(
    results: xr.Dataset, loss: str = "test_loss", step: int | None = None, init: str | None = None
) -> HeatmapGrid:
    """Unflatten the ``lr`` dim of a 2-D rate sweep into an ``eta_B × eta_A`` grid of mean loss.

    ``init`` (and the single width) are selected when the store has those dims.
    """
    mean = loss_at(results, loss, step)
    eta_A, eta_B = rates(results)
    if "init" in mean.dims:
        init = init if init is not None else str(mean.init.values[0])
        mean, eta_A, eta_B = (a.sel(init=init) for a in (mean, eta_A, eta_B))
    if "width" in mean.dims:
        if mean.sizes["width"] != 1:
            raise UsageError("a heatmap needs results at a single width")
        mean = mean.isel(width=0)
        eta_A, eta_B = eta_A.isel(width=0), eta_B.isel(width=0)
    a_vals, b_vals = eta_A.values, eta_B.values
    a_axis, b_axis = np.unique(a_vals), np.unique(b_vals)
    grid = np.full((b_axis.size, a_axis.size), np.nan)
    grid[np.searchsorted(b_axis, b_vals), np.searchsorted(a_axis, a_vals)] = mean.values
    return HeatmapGrid(a_axis, b_axis, grid)


def best_pairs(grid: HeatmapGrid) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """``((eta_A*, eta_B*), (eta, eta) | None)``: the best pair and the best equal pair."""
    if not np.any(np.isfinite(grid.loss)):
        raise UsageError("no rate pair in the grid trained without diverging")
    i, j = np.unravel_index(np.nanargmin(grid.loss), grid.loss.shape)
    best = (float(grid.eta_A[j]), float(grid.eta_B[i]))
    equal_i, equal_j = np.nonzero(np.isclose(grid.eta_B[:, None], grid.eta_A[None, :], rtol=1e-6))
    diag = grid.loss[equal_i, equal_j]
    if diag.size == 0 or not np.any(np.isfinite(diag)):
        return best, None
    k = int(np.nanargmin(diag))
    return best, (float(grid.eta_A[equal_j[k]]), float(grid.eta_B[equal_i[k]]))


def select_pair(results: xr.Dataset, eta_A: float, eta_B: float) -> xr.Dataset:
    """The runs of one ``(eta_A, eta_B)`` pair (``lr`` dropped)."""
    a, b = rates(results)
    for dim in ("init", "width"):
        if dim in a.dims:
            a, b = a.isel({dim: 0}), b.isel({dim: 0})
    hit = np.nonzero(
        np.isclose(a.values, eta_A, rtol=1e-6) & np.isclose(b.values, eta_B, rtol=1e-6)
    )
    if hit[0].size == 0:
        raise UsageError(f"no run at eta_A={eta_A:g}, eta_B={eta_B:g}")
    return results.isel(lr=int(hit[0][0]))


def attrs_json(results: xr.Dataset, name: str) -> dict:
    """A JSON attribute of the store (``config``, ``versions``) as a dict, ``{}`` when absent."""
    raw = results.attrs.get(name)
    if raw is None:
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (ValueError, TypeError) as err:
        raise UsageError(f"results attribute {name!r} is not valid JSON: {err}") from None
    return value if isinstance(value, dict) else {}


def provenance(results: xr.Dataset) -> str:
    """One line naming the experiment, preset and device a results store came from.

    >>> import xarray as xr
    >>> provenance(xr.Dataset(attrs={"config": '{"experiment": "figure2", "preset": "quick"}'}))
    'figure2 · preset quick · device not recorded'
    """
    config, versions = attrs_json(results, "config"), attrs_json(results, "versions")
    parts = [
        str(config[k]) if k == "experiment" else f"{k} {config[k]}"
        for k in ("experiment", "preset")
        if config.get(k) is not None
    ]
    device = next(
        (
            str(src[k])
            for src in (versions, config)
            for k in ("device", "cpu", "platform")
            if src.get(k)
        ),
        "not recorded",
    )
    parts.append(f"device {device}")
    cells = results.attrs.get("completed_cells")
    if cells is not None and "init" in results.dims and "width" in results.dims:
        done, total = len(json.loads(cells)), results.sizes["init"] * results.sizes["width"]
        if done < total:  # a partial sweep must say so on every figure drawn from it
            parts.append(f"PARTIAL: {done}/{total} cells")
    return " · ".join(parts)
