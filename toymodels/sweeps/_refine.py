"""Two-stage rate grids: a coarse pass over a fixed grid, then a fine window around the optimum.

Stage 1 trains a cell on a **coarse grid** shared by every width and never scaled with it (factor
2 apart in the Figure-2 presets). Its centre c is the coarse rate whose seed-median loss is
lowest: the median, not the mean, so one seed that diverges does not move the window.

Stage 2 trains the **window** c·2^(j/q), j = o − h … o + h (q rates per octave, M = 2h + 1 rates,
offset o = 0 at first). Then, while some seed's lowest loss lies on the window's first or last
rate, the window **moves** towards it by up to q steps (one octave), as far as it can without
pushing another seed's best rate to the opposite edge, and the rates not trained yet are trained;
at most ``max_moves`` times. A window rate that is also a coarse rate reuses the coarse runs. A
seed whose optimum still lies on the window's edge is a bound, and ``interpolated_optimum`` flags
it (``low_edge`` / ``high_edge``); it is never reported as an estimate. The rates a move drops
stay trained but are not stored: the store keeps the coarse grid and the final window, ``K + M``
rates per cell, with the coordinate ``stage`` on ``lr`` ("coarse" or "fine") and the cell's rates
in ``eta_A``/``eta_B`` over ``init, width, lr``.

Analyses read one stage at a time through :func:`stage_view`: the fine window for the optimum,
the coarse grid for the sensitivity to a fixed unscaled grid.

>>> refinement = Refinement(per_octave=4, half_width=2)
>>> [round(float(r), 4) for r in window_rates(0.5, refinement)]
[0.3536, 0.4204, 0.5, 0.5946, 0.7071]
>>> losses = lambda eta: (np.log2(eta)[:, None] + [2.6, 3.0]) ** 2  # seeds' optima 2^-2.6, 2^-3
>>> # the window 2^-3.5 … 2^-2.5 has the first seed's best rate on its edge: it moves up a step
>>> rates, _, moves = refine(lambda eta: eta, 2.0 ** np.arange(-6, 1), refinement, losses)
>>> moves, [round(float(np.log2(r)), 2) for r in rates[7:]]
(1, [-3.25, -3.0, -2.75, -2.5, -2.25])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

#: The ``stage`` labels of a two-stage store's ``lr`` entries.
COARSE, FINE = "coarse", "fine"


@dataclasses.dataclass(frozen=True)
class Refinement:
    """The fine stage of a two-stage grid: ``2·half_width + 1`` rates ``2^(1/per_octave)`` apart,
    moved at most ``max_moves`` times; optima judged by ``metric`` averaged over the last
    ``window`` steps (the summary's own loss)."""

    per_octave: int = 4
    half_width: int = 6
    max_moves: int = 4
    metric: str = "train_loss"
    window: int = 1

    @property
    def size(self) -> int:
        return 2 * self.half_width + 1

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Refinement | None:
        return None if data is None else cls(**data)


def window_rates(centre: float, refinement: Refinement, offset: int = 0) -> np.ndarray:
    """The window's ``M`` rates ``centre·2^(j/q)``, j = offset − h … offset + h, increasing."""
    steps = np.arange(offset - refinement.half_width, offset + refinement.half_width + 1)
    return np.array([_rate(centre, j, refinement.per_octave) for j in steps])


def _rate(centre: float, step: int, per_octave: int) -> float:
    # One formula per step index, so a rate trained before a move is found again after it.
    return float(centre * 2.0 ** (step / per_octave))


def _median_argmin(losses: np.ndarray) -> int:
    """The rate index ``[L, S] → L`` whose seed-median loss is lowest (+inf: diverged)."""
    return int(np.argmin(np.median(np.where(np.isnan(losses), np.inf, losses), axis=1)))


def _move(best: np.ndarray, refinement: Refinement) -> int:
    """How many steps the window moves (0: it stays) given each seed's best index ``[S]``."""
    last = refinement.size - 1
    low, high = int(best.min()), int(best.max())
    if low == 0 and high < last:  # down, keeping the highest best rate inside the window
        return -min(refinement.per_octave, last - 1 - high)
    if high == last and low > 0:
        return min(refinement.per_octave, low - 1)
    return 0


def refine(
    train: Callable[[np.ndarray], Any],
    coarse,
    refinement: Refinement,
    losses: Callable[[Any], np.ndarray],
    *,
    concatenate: Callable[[list], Any] | None = None,
):
    """Train the coarse grid, then the window (moved while it does not bracket every seed).

    ``train(rates [L])`` trains one batch of equal rates and returns its runs; ``losses(runs)``
    gives their loss ``[L, S]`` (+inf: diverged); ``concatenate([runs, ...])`` joins batches along
    the rate axis (default: ``np.concatenate``). Returns ``(rates [K + M], runs, moves)``: the
    coarse grid then the final window, their runs in that order, and how often the window moved.
    """
    concatenate = concatenate or (lambda parts: np.concatenate(parts, axis=0))
    coarse = np.asarray(coarse, dtype=np.float64)
    coarse_runs = train(coarse)
    centre = float(coarse[_median_argmin(losses(coarse_runs))])
    per_octave = refinement.per_octave
    trained: dict[int, tuple[Any, int]] = {}  # step index → (its batch, row in the batch)
    rate_of: dict[int, float] = {}
    # A window rate that is a coarse rate (to its printed digits) is that coarse run, not a rerun.
    for row, rate in enumerate(coarse):
        j = round(per_octave * np.log2(rate / centre))
        if np.isclose(_rate(centre, j, per_octave), rate, rtol=1e-5):
            trained[j], rate_of[j] = (coarse_runs, row), float(rate)
    offset, moves = 0, 0

    def train_window(offset: int) -> list[int]:
        steps = list(range(offset - refinement.half_width, offset + refinement.half_width + 1))
        new = [j for j in steps if j not in trained]
        for j in new:
            rate_of[j] = _rate(centre, j, per_octave)
        if new:
            batch = train(np.array([rate_of[j] for j in new]))
            trained.update({j: (batch, row) for row, j in enumerate(new)})
        return steps

    steps = train_window(offset)
    while True:
        window = concatenate([_row(*trained[j]) for j in steps])
        if moves == refinement.max_moves:
            break
        loss = losses(window)
        seeds = np.isfinite(loss).any(axis=0)
        if not seeds.any():
            break
        best = np.argmin(np.where(np.isfinite(loss), loss, np.inf)[:, seeds], axis=0)
        shift = _move(best, refinement)
        if shift == 0:
            break
        offset, moves = offset + shift, moves + 1
        steps = train_window(offset)
    rates = np.concatenate([coarse, [rate_of[j] for j in steps]])
    return rates, concatenate([coarse_runs, window]), moves


def _row(batch, row: int):
    """Run ``row`` of a batch, keeping its leading rate axis (length 1)."""
    if hasattr(batch, "_fields"):  # a NamedTuple of arrays, as the sweeps' CellResult
        return type(batch)(*(_row(part, row) for part in batch))
    if isinstance(batch, dict):
        return {name: _row(values, row) for name, values in batch.items()}
    return np.asarray(batch)[row : row + 1]


def stage_view(ds, stage: str = FINE):
    """The runs of one stage of a two-stage store, as a plain results dataset (``lr`` renumbered,
    ``stage`` dropped); any other store is returned as it is."""
    if "stage" not in ds.coords:
        return ds
    if stage not in (COARSE, FINE):
        raise ValueError(f"stage must be {COARSE!r} or {FINE!r}, not {stage!r}")
    index = np.flatnonzero(ds["stage"].values == stage)
    view = ds.isel(lr=index).drop_vars("stage")
    return view.assign_coords(lr=np.arange(index.size, dtype=view["lr"].dtype))
