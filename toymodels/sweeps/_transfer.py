"""Running the rate-transfer sweep: its results file, the tuning at n₀, the transfers, resume.

The results file has dims ``family × init × width × setting × seed × step`` (``train_loss``) and
``diverged_step`` without ``step``; ``setting`` indexes the grid's rates and then one slot per
(rule, horizon) (coordinates ``rule``, ``horizon`` on ``setting``; ``"grid"`` and 0 for the grid);
the rates a cell ran are the coordinates ``eta_A``, ``eta_B`` on ``family × init × width ×
setting`` (NaN where nothing ran: the transfer slots at n₀, a rule a family does not use). A cell
is ``(family, init, width)``; ``completed_cells`` lists ``[family, init, width]``. The width
store's guarantees hold, with its functions: the configuration is checked on resume and before
every save, each cell is sealed with a checksum and saved atomically before the next one trains,
one writer holds the file's lock, and a stop request abandons the cell in progress.

The tuned rate of (family, init, horizon T) is the minimum over n₀'s grid of the seed-mean loss
at T (a diverged seed makes a rate +∞, as in ``optimal_rates``), refined by the parabola through
the three best points in (log x, log loss) (``interpolated_optimum``); an optimum on the grid's
edge or next to a diverged rate is kept as it is and flagged (``tuned_rate``'s ``where``).

>>> import numpy as np
>>> run_loss(np.array([[[1.0, 0.5, 0.25, 0.2]]]), np.array([[-1]]), 3, 2)
array([[0.225]])
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

import theory
from toymodels.core import interpolated_optimum
from toymodels.sweeps import _checksums
from toymodels.sweeps._transfer_config import (
    TransferCell,
    TransferSweep,
    measured_exponent,
)

NOT_RUN = -2  # as the width store's (``_store.NOT_RUN``)


def run_loss(loss: np.ndarray, diverged: np.ndarray, horizon: int, window: int) -> np.ndarray:
    """The loss of each run at ``horizon``: the mean of its last ``window`` steps up to it,
    +∞ when the run diverged by then (or its loss is not finite), NaN when it did not run.
    ``loss`` is ``[..., T + 1]``, ``diverged`` the matching ``[...]``."""
    mean = np.asarray(loss, np.float64)[..., horizon - window + 1 : horizon + 1].mean(-1)
    div = np.asarray(diverged)
    gone = ((div >= 0) & (div <= horizon)) | (~np.isfinite(mean) & (div != NOT_RUN))
    return np.where(div == NOT_RUN, np.nan, np.where(gone, np.inf, mean))


def tuned_rate(ds, config: TransferSweep, family: str, init: str, horizon: int):
    """(x̂, where) at n₀: the interpolated minimum of the seed-mean loss at ``horizon``."""
    window = config.windows[config.horizons.index(horizon)]
    n_grid = len(config.grid)
    cell = ds.sel(family=family, init=init, width=config.base_width).isel(setting=slice(0, n_grid))
    losses = run_loss(cell["train_loss"].values, cell["diverged_step"].values, horizon, window)
    mean = losses.mean(axis=1)  # over seeds; +inf if any seed diverged
    rates = np.asarray(config.grid)
    with np.errstate(divide="ignore"):
        optimum = interpolated_optimum(rates, np.log(mean))
    return optimum.rate, optimum.where


def transfers(ds, config: TransferSweep, cell: TransferCell) -> dict[int, tuple[float, float]]:
    """setting index → (η_A, η_B) that each rule of the cell's family transfers to its width."""
    index = {s: k for k, s in enumerate(config.settings())}
    out = {}
    for t in config.horizons:
        x, _ = tuned_rate(ds, config, cell.family, cell.init, t)
        if not math.isfinite(x):
            continue  # every rate diverged at n₀: nothing to transfer
        eta_A, eta_B = config.pair(cell.family, x)
        for rule in config.rules(cell.family):
            moved = theory.transfer(
                cell.init, model=config.theory_model, from_width=config.base_width,
                to_width=cell.width, eta_A=eta_A, eta_B=eta_B, rule=rule, ratio=config.ratio,
                measured=measured_exponent(config, cell.init) if rule == "measured" else None,
            )  # fmt: skip
            out[index[rule, t]] = moved.rates
    return out


def empty_dataset(config: TransferSweep):
    import xarray as xr

    from toymodels.sweeps import _store

    settings = config.settings()
    coords = {
        "family": np.asarray(["equal", "pair"], dtype=str),
        "init": np.asarray(config.inits, dtype=str),
        "width": np.asarray(config.widths, dtype=np.int32),
        "setting": np.arange(len(settings), dtype=np.int32),
        "seed": np.asarray(config.seeds, dtype=np.int32),
        "step": np.arange(config.steps + 1, dtype=np.int32),
    }
    shape = tuple(len(v) for v in coords.values())
    dims = tuple(coords)
    ds = xr.Dataset(
        {
            "train_loss": (dims, np.full(shape, np.nan, np.float32)),
            "diverged_step": (dims[:-1], np.full(shape[:-1], NOT_RUN, np.int32)),
        },
        coords=coords,
    )
    rate = np.full(shape[:4], np.nan)
    ds = ds.assign_coords(
        rule=("setting", np.asarray([r for r, _ in settings], dtype=str)),
        horizon=("setting", np.asarray([0 if r == "grid" else t for r, t in settings], np.int32)),
        eta_A=(dims[:4], rate.copy()),
        eta_B=(dims[:4], rate.copy()),
    )
    ds.attrs = {
        "config": json.dumps(config.to_json(), sort_keys=True),
        "versions": json.dumps(_store.package_versions(), sort_keys=True),
        "completed_cells": "[]",
        _checksums.ATTR: "[]",
    }
    return ds


def completed(ds) -> set[TransferCell]:
    """The cells whose runs are all in ``ds``."""
    return {TransferCell(str(f), str(i), int(n)) for f, i, n in json.loads(
        ds.attrs["completed_cells"])}  # fmt: skip


def _with_cell(ds, cell: TransferCell, slots: list[int], rates, loss, diverged):
    ds = ds.copy(deep=True)
    at = (
        list(ds["family"].values).index(cell.family),
        list(ds["init"].values).index(cell.init),
        list(ds["width"].values).index(cell.width),
    )
    for name, values in zip(("eta_A", "eta_B"), rates, strict=True):
        ds[name].values[(*at, slots)] = values
    ds["train_loss"].values[(*at, slots)] = np.asarray(loss, np.float32)
    ds["diverged_step"].values[(*at, slots)] = np.asarray(diverged, np.int32)
    done = sorted(list(c) for c in completed(ds) | {cell})
    ds.attrs["completed_cells"] = json.dumps(done)
    where = {"family": cell.family, "init": cell.init, "width": cell.width}
    return _checksums.seal_cell(ds, where)


def cell_cost(config: TransferSweep, cell: TransferCell) -> float:
    """A relative cost for the progress bar: O(N·n) per run and step, and the runs of the cell."""
    runs = len(config.grid) + (0 if cell.width == config.base_width else len(config.settings()))
    return float(runs * (cell.width + 64))


def run_transfer_sweep(
    config: TransferSweep,
    out,
    *,
    overwrite: bool = False,
    quiet: bool = False,
    trainer: Callable | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_cell: Callable[[TransferCell], None] | None = None,
    saving: Callable | None = None,
):
    """Train every cell of ``config`` not yet in ``out`` (n₀ first); return the results Dataset.
    ``should_stop``, ``on_cell`` and ``saving`` as in ``run_rank_sweep``."""
    from toymodels.sweeps import _lock, _store
    from toymodels.sweeps._progress import progress_bar
    from toymodels.sweeps._run import SweepStopped

    should_stop = should_stop or (lambda: False)
    saving = saving or contextlib.nullcontext
    out = Path(out)
    train_configs = {cell: config.train_config(cell) for cell in config.cells()}  # validates all
    stored = config.to_json()
    with _store.writable_directory(out), _lock.exclusive_writer(out):
        ds = _store.open_for_resume(out, stored, overwrite=overwrite)
        _store.remove_stale_temporaries(out)
        done = completed(ds) if ds is not None else set()
        todo = [cell for cell in config.cells() if cell not in done]
        ds = empty_dataset(config) if ds is None else ds
        trainer = trainer or _default_trainer()
        total, saved = len(config.cells()), 0
        with progress_bar(
            total=math.fsum(cell_cost(config, c) for c in todo),
            cells=total,
            done=len(done),
            quiet=quiet,
        ) as bar:
            for cell in todo:
                if should_stop():
                    raise SweepStopped(len(done) + saved, total)
                bar.describe(f"{cell.init}, {cell.family} rates", cell.width)
                pairs = [config.pair(cell.family, x) for x in config.grid_at(cell.width)]
                slots = list(range(len(pairs)))
                if cell.width != config.base_width:
                    moved = transfers(ds, config, cell)
                    slots += list(moved)
                    pairs += list(moved.values())
                eta_A, eta_B = (np.asarray(v, np.float64) for v in zip(*pairs, strict=True))
                result = trainer(train_configs[cell], eta_A, eta_B, np.asarray(config.seeds))
                if should_stop():  # a stop means now, not after a save
                    raise SweepStopped(len(done) + saved, total)
                ds = _with_cell(ds, cell, slots, (eta_A, eta_B),
                                result.metrics["train_loss"], result.diverged_step)  # fmt: skip
                with saving():
                    if not overwrite or saved:
                        _store.check_file_config(out, stored)
                    _store.save_atomically(ds, out)
                    saved += 1
                    if on_cell is not None:
                        on_cell(cell)
                bar.advance(cell_cost(config, cell))
    return ds


def _default_trainer() -> Callable:
    from toymodels.core import train_grid

    return train_grid
