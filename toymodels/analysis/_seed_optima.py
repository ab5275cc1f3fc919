"""Figure 2 per seed: each seed's interpolated optimal rate, and exponents bootstrapped over seeds.

The seed-mean optimum of ``_analysis.optimal_rates`` is the argmin of a grid; here every seed gets
its own optimum η*, the vertex of the parabola in log η through its three best grid points
(``toymodels.core.interpolated_optimum``). An optimum on the grid's first or last point, or next
to a diverged run, is a bound, not an estimate: it is listed by kind and left out of the fit
(NaN). η*(n) ∝ n^k is fitted per init with a bootstrap over seeds; k_A − k_B (which is the slope of
η*_A/η*_B) with the paired bootstrap, since both inits at one seed share data and frozen weights.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from toymodels.analysis._edge import MIN_SEEDS, N_BOOT, _axes, cell_grid, exponents
from toymodels.core import interpolated_optimum
from toymodels.core._bootstrap import MIN_WIDTHS
from toymodels.sweeps._losses import loss_at
from toymodels.sweeps._refine import COARSE, FINE, stage_view
from toymodels.sweeps._store import completed_cells


def seed_optima(
    ds: xr.Dataset, metric: str, step: int | None, *, window: int, stage: str = FINE
) -> dict:
    """Per init: ``rates`` [W, S] (NaN unless interior) and ``where`` [W][S] (the kinds); a
    two-stage store is read over its ``stage`` (default: the fine window)."""
    ds = stage_view(ds, stage)
    inits, widths, n_seeds = _axes(ds)
    losses = loss_at(ds, metric, step, window=window)
    done = completed_cells(ds)
    table = {}
    for init in inits:
        rates, kinds = [], []
        for width in widths:
            if (init, width) not in done:
                rates.append([math.nan] * n_seeds)
                kinds.append(["not_run"] * n_seeds)
                continue
            grid = cell_grid(ds, init, width)
            if grid.size < 3:  # a parabola needs three rates: no per-seed estimate, not an error
                rates.append([math.nan] * n_seeds)
                kinds.append(["too_few_rates"] * n_seeds)
                continue
            cell = losses.sel(init=init, width=width).transpose("seed", "lr").values
            optima = [interpolated_optimum(grid, row) for row in cell]
            rates.append([o.rate if o.interior else math.nan for o in optima])
            kinds.append([o.where for o in optima])
        table[init] = {"rates": np.array(rates, dtype=np.float64), "where": kinds}
    return table


def seed_summary(
    ds: xr.Dataset, metric: str, step: int, *, window: int, n_boot: int = N_BOOT
) -> dict:
    """The per-seed fields of the equal-rate summary (``seeds``, ``seed_optimum``,
    ``seed_optimum_bounds``, ``seed_exponent``, ``exponent_difference``, and the same exponents at
    half the horizon from the same runs); exponents are None below 2 seeds or 3 widths."""
    _, width_list, n_seeds = _axes(ds)
    widths = np.array(width_list)
    fits = n_seeds >= MIN_SEEDS and len(width_list) >= MIN_WIDTHS

    def at(t: int, stage: str = FINE) -> tuple[dict, dict]:
        table = seed_optima(ds, metric, t, window=window, stage=stage)
        rates = {init: t_["rates"] for init, t_ in table.items()}
        if not fits:
            return table, {"fitted_exponent": dict.fromkeys(rates), "exponent_difference": None}
        return table, exponents(widths, rates, n_boot=n_boot)

    table, fitted = at(step)
    half = step // 2  # the loss window may reach back to step 0 there; it is the same runs
    sensitivity = {"step": half, **at(half)[1]} if half >= 1 else None
    # The first stage of a two-stage grid alone: one fixed, unscaled grid for every width.
    fixed_grid = at(step, COARSE)[1] if "stage" in ds.coords else None
    return {
        "seeds": n_seeds,
        "seed_optimum": {
            init: {
                str(w): [float(r) if math.isfinite(r) else None for r in row]
                for w, row in zip(width_list, t["rates"], strict=True)
            }
            for init, t in table.items()
        },
        "seed_optimum_bounds": {
            init: {
                str(w): [k for k in kinds if k not in ("interior", "not_run")]
                for w, kinds in zip(width_list, t["where"], strict=True)
            }
            for init, t in table.items()
        },
        "seed_exponent": fitted["fitted_exponent"],
        "exponent_difference": fitted["exponent_difference"],
        "horizon_sensitivity": sensitivity,
        "fixed_grid_sensitivity": fixed_grid,
    }
