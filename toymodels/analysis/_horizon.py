"""The loss-optimal rate as a function of the horizon, from one set of runs.

A run at a constant rate records its loss at every step, so the loss-optimal rate η*(n; T') at
every horizon T' ≤ T comes from the same runs as η*(n; T). Per seed, η* is the vertex of the
parabola in log η through the three best grid points (``toymodels.core.interpolated_optimum``)
of the loss at T'; the loss at T' is the mean of steps T' − w + 1 … T' with the window
w = ⌈T'/10⌉ (:func:`horizon_window`: 15 at T' = 150, Figure 2's own window; 1 at T' ≤ 10). An
optimum on the first or last grid point, or next to a diverged run, is a **bound**: it is counted
and left out of every fit, never used as a point.

A two-stage store (Figure 2's: a coarse octave grid and a fine window moved to the T = 150
optimum) is read over the union of both stages' rates, so a short horizon whose optimum lies
outside the fine window is still bracketed by the coarse grid.

The horizons reported by default, :data:`HORIZONS`, are 5, 10, 25, 50, 100, 150 and the run's
own T (those beyond the run are dropped; a horizon asked for beyond the run is an error).

>>> import numpy as np, xarray as xr
>>> rates = 2.0 ** np.arange(-8, 0)
>>> T = 4
>>> # loss at step t is minimal at rate 2^(-2 - t/2): the optimum falls with the horizon
>>> loss = np.stack([(np.log2(rates) + 2 + t / 2) ** 2 + 1 for t in range(T + 1)], -1)
>>> ds = xr.Dataset(
...     {"train_loss": (("init", "width", "lr", "seed", "step"), loss[None, None, :, None, :]
...                     .repeat(2, 3)),
...      "diverged_step": (("init", "width", "lr", "seed"), np.full((1, 1, 8, 2), -1))},
...     coords={"init": ["A"], "width": [128], "eta_A": ("lr", rates), "eta_B": ("lr", rates),
...             "step": np.arange(T + 1)},
...     attrs={"completed_cells": '[["A", 128]]'})
>>> tables = optimum_tables(ds, horizons=(2, 4))
>>> [round(float(np.log2(tables[h]["A"]["rates"][0, 0])), 3) for h in (2, 4)]
[-3.0, -4.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import xarray as xr

from toymodels.analysis._edge import _axes
from toymodels.core import UsageError, interpolated_optimum
from toymodels.sweeps._losses import loss_at
from toymodels.sweeps._store import completed_cells

#: The horizons T' of the report, fixed before the horizon runs were read (issue 24).
HORIZONS = (5, 10, 25, 50, 100, 150)


def horizon_window(horizon: int) -> int:
    """The loss window at horizon T': ⌈T'/10⌉ steps.

    >>> [horizon_window(t) for t in (5, 10, 25, 150)]
    [1, 1, 3, 15]
    """
    return max(1, math.ceil(horizon / 10))


def check_horizons(horizons, last_step: int) -> tuple[int, ...]:
    """The horizons as sorted ints within the run; :class:`UsageError` for one beyond it.

    >>> check_horizons((10, 5), 25)
    (5, 10)
    >>> check_horizons((50,), 25)
    Traceback (most recent call last):
    toymodels.core._errors.UsageError: horizon 50 is beyond the run (its last step is 25)
    """
    out = []
    for h in horizons:
        if isinstance(h, bool) or not float(h).is_integer() or int(h) < 1:
            raise UsageError(f"a horizon must be an integer >= 1, got {h!r}")
        if int(h) > last_step:
            raise UsageError(f"horizon {int(h)} is beyond the run (its last step is {last_step})")
        out.append(int(h))
    return tuple(sorted(set(out)))


def default_horizons(last_step: int) -> tuple[int, ...]:
    """:data:`HORIZONS` within the run, and the run's own T."""
    return tuple(sorted({h for h in HORIZONS if h <= last_step} | {last_step}))


def _union_grid(ds: xr.Dataset, init: str, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The cell's rates over every stage, increasing, each once, and the ``lr`` index of each."""
    eta = ds["eta_A"]
    where = {d: v for d, v in (("init", init), ("width", width)) if d in eta.dims}
    rates = np.asarray(eta.sel(where).values, dtype=np.float64)
    order = np.argsort(rates, kind="stable")
    keep = np.concatenate([[True], np.diff(rates[order]) > 0])
    return rates[order][keep], order[keep]


def optimum_tables(
    ds: xr.Dataset,
    horizons: Sequence[int] | None = None,
    *,
    metric: str = "train_loss",
) -> dict[int, dict[str, dict]]:
    """``{T': {init: {"rates": [W, S] (NaN unless interior), "where": [W][S]}}}``."""
    last = int(ds["step"][-1])
    horizons = default_horizons(last) if horizons is None else check_horizons(horizons, last)
    full = ds.drop_vars("stage") if "stage" in ds.coords else ds
    inits, widths, n_seeds = _axes(full)
    done = completed_cells(full)
    out: dict[int, dict[str, dict]] = {}
    for horizon in horizons:
        losses = loss_at(full, metric, horizon, window=horizon_window(horizon))
        out[horizon] = {}
        for init in inits:
            rates, kinds = [], []
            for width in widths:
                if (init, width) not in done:
                    rates.append([math.nan] * n_seeds)
                    kinds.append(["not_run"] * n_seeds)
                    continue
                grid, index = _union_grid(full, init, width)
                cell = losses.sel(init=init, width=width).transpose("seed", "lr").values[:, index]
                optima = [interpolated_optimum(grid, row) for row in cell]
                rates.append([o.rate if o.interior else math.nan for o in optima])
                kinds.append([o.where for o in optima])
            out[horizon][init] = {"rates": np.array(rates, dtype=np.float64), "where": kinds}
    return out


def bounds_count(table: dict) -> int:
    """How many per-seed optima of one ``{"where": ...}`` table are bounds (not interior)."""
    return sum(k not in ("interior", "not_run") for row in table["where"] for k in row)


def upper_half(widths) -> np.ndarray:
    """The widths from the lower median on, as a mask: the larger half and the middle width
    (for an even count, the larger half and one more: six of ten).

    >>> upper_half([128, 256, 512, 1024, 2048]).tolist()
    [False, False, True, True, True]
    """
    widths = np.asarray(widths)
    return widths >= np.sort(widths)[(widths.size - 1) // 2]
