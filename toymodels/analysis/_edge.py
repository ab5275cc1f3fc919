"""The stability edge: the rate η_edge(n) at which the feature size Z_B reaches a fixed level.

The papers' stability condition is Z_B = O(1) (per coordinate). For one run at rate η (η_A = η_B),
the *peak feature size* is ``max_{t = 1..T} RMS(Z_B)_t`` (``metrics["Z_B"]``); a run that diverged
by step T has peak +∞ (above every level). Per seed, η_edge is the first rate of the grid at which
the peak reaches the level C, log-log interpolated between the bracketing grid points
(``toymodels.core.crossing_rate``); a seed whose grid does not bracket the crossing has no edge
("not found", NaN in the tables, left out of the fit). η_edge(n) ∝ n^k is fitted per init with a
bootstrap over seeds (``bootstrap_exponent``), and k_A − k_B with the paired bootstrap
(``bootstrap_exponent_difference``): the two inits at one seed share data and frozen weights.

The sweep behind it is an ordinary equal-rate sweep (``experiment = "edge"``) with ``record`` on,
so the store keeps Z_B per step: every level C and every horizon T' ≤ T is computed from the
stored runs without training again (rates are constant, so step t does not depend on T).

Why C = 4 by default (docs/sweeps.md, "The stability edge"): trained to its loss optimum, Z_B
reaches ≈ 0.2–0.6 (Init[A]) and ≈ 1–6 (Init[B]), so a level C = 1 lies inside the learned
feature size and its crossing mixes "has learned" with "is unstable". C = 4 lies above Init[A]'s
trained size, not Init[B]'s: at its loss optimum Init[B]'s peak Z_B is 2.7-4.5 (Figure 3's runs,
median per width), so its C = 4 crossing is partly a learned size (docs/reproduction.md).

>>> import numpy as np
>>> rates = 2.0 ** np.arange(-8, 0)
>>> peaks = np.stack([4.0 * rates**0.5, 4.0 * rates])  # two seeds
>>> [round(float(np.log2(r)), 3) for r in seed_edges(rates, peaks, 1.0)[0]]
[-4.0, -2.0]
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

import theory
from toymodels.core import (
    INIT_LABELS,
    UsageError,
    bootstrap_exponent,
    bootstrap_exponent_difference,
    crossing_rate,
)
from toymodels.core._bootstrap import MIN_WIDTHS
from toymodels.sweeps._config import SweepConfig
from toymodels.sweeps._store import NOT_DIVERGED, NOT_RUN, completed_cells, stored_config

#: The default level C (above the trained feature size of both inits; module docstring).
DEFAULT_LEVEL = 4.0
#: Levels reported beside the chosen one, from the same runs (C = 1 is the issue's suggestion).
REPORTED_LEVELS = (1.0, 4.0, 10.0)
#: The loss-based edge: the largest rate whose train loss at T ends below this fraction of step 0's.
LOSS_FRACTION = 0.5
#: Bootstrap resamples of every reported interval.
N_BOOT = 2000
MIN_SEEDS = 2


def check_level(level) -> float:
    """``level`` as a float; :class:`UsageError` unless finite and > 0.

    >>> check_level("4")
    4.0
    """
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise UsageError(f"--level must be a number, got {level!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"--level must be finite and > 0, got {level}")
    return value


def check_edge_sweep(config: SweepConfig) -> None:
    """:class:`UsageError` for an edge sweep that cannot give an exponent (before anything runs)."""
    if len(config.seeds) < MIN_SEEDS:
        raise UsageError(
            f"the edge needs at least {MIN_SEEDS} seeds for a bootstrap, got {len(config.seeds)}"
        )
    if len(config.widths) < MIN_WIDTHS:
        raise UsageError(
            f"the edge needs at least {MIN_WIDTHS} widths for a fit, got {len(config.widths)}"
        )
    if config.model == "linear" or not config.train.get("record", True):
        raise UsageError("the edge needs Z_B per step: a LoRA-layer model with record on")


def seed_edges(rates, peaks, level: float) -> tuple[np.ndarray, list[str]]:
    """Per seed (rows of ``peaks`` [S, L]) the crossing rate of ``level`` and its kind."""
    crossings = [crossing_rate(rates, row, level) for row in np.asarray(peaks)]
    return np.array([c.rate for c in crossings]), [c.where for c in crossings]


def peak_feature_size(ds: xr.Dataset, horizon: int | None = None) -> xr.DataArray:
    """``max_{t = 1..T'} Z_B`` per run ``[init, width, lr, seed]``; diverged by T' → +inf,
    a cell not run → NaN. ``horizon`` T' defaults to the last recorded step."""
    last = int(ds["step"][-1])
    horizon = last if horizon is None else int(horizon)
    if not 1 <= horizon <= last:
        raise UsageError(f"horizon {horizon} is outside the recorded steps 1..{last}")
    peak = ds["Z_B"].sel(step=slice(1, horizon)).astype(np.float64).max("step", skipna=False)
    div = ds["diverged_step"]
    diverged = (div != NOT_DIVERGED) & (div <= horizon) & (div != NOT_RUN)
    peak = xr.where(diverged | ~np.isfinite(peak), np.inf, peak)
    return xr.where(div == NOT_RUN, np.nan, peak)


def loss_ratio(ds: xr.Dataset, horizon: int | None = None) -> xr.DataArray:
    """``train_loss[T'] / train_loss[0]`` per run; diverged → +inf."""
    horizon = int(ds["step"][-1]) if horizon is None else int(horizon)
    loss = ds["train_loss"].astype(np.float64)
    ratio = loss.sel(step=horizon) / loss.sel(step=0)
    div = ds["diverged_step"]
    diverged = (div != NOT_DIVERGED) & (div <= horizon) & (div != NOT_RUN)
    return xr.where(diverged | ~np.isfinite(ratio), np.inf, ratio)


def loss_edge(rates, ratios, fraction: float = LOSS_FRACTION) -> float:
    """The largest rate whose loss ratio stays below ``fraction`` (default
    :data:`LOSS_FRACTION`): the first up-crossing of the fraction past the ratio's minimum,
    log-log interpolated; NaN when not bracketed.

    >>> rates = 2.0 ** np.arange(-6, 0)
    >>> round(float(np.log2(loss_edge(rates, [0.9, 0.6, 0.3, 0.25, 0.5, 4.0]))), 3)
    -2.0
    """
    ratios = np.asarray(ratios, dtype=np.float64)
    best = int(np.argmin(np.where(np.isfinite(ratios), ratios, np.inf)))
    if best >= len(ratios) - 1 or not ratios[best] < fraction:
        return math.nan
    crossing = crossing_rate(np.asarray(rates)[best:], ratios[best:], fraction)
    return crossing.rate if crossing.bracketed else math.nan


def cell_grid(ds: xr.Dataset, init: str, width: int) -> np.ndarray:
    """The equal-rate grid ``[L]`` of one cell, from the store's ``eta_A`` coordinate."""
    eta = ds["eta_A"]
    where = {d: v for d, v in (("init", init), ("width", width)) if d in eta.dims}
    return np.asarray(eta.sel(where).values, dtype=np.float64)


def _axes(ds: xr.Dataset) -> tuple[list[str], list[int], int]:
    return (
        [str(i) for i in ds["init"].values],
        [int(w) for w in ds["width"].values],
        int(ds.sizes["seed"]),
    )


def edge_table(ds: xr.Dataset, level: float, horizon: int | None = None) -> dict:
    """Per init: ``rates`` [W, S] (NaN: not found) and ``where`` (per width, per seed)."""
    inits, widths, n_seeds = _axes(ds)
    peaks = peak_feature_size(ds, horizon)
    done = completed_cells(ds)
    table = {}
    for init in inits:
        rates, kinds = [], []
        for width in widths:
            if (init, width) not in done:
                rates.append(np.full(n_seeds, np.nan))
                kinds.append(["not_run"] * n_seeds)
                continue
            grid = cell_grid(ds, init, width)
            cell = peaks.sel(init=init, width=width).transpose("seed", "lr").values
            found, where = seed_edges(grid, cell, level)
            rates.append(found)
            kinds.append(where)
        table[init] = {"rates": np.array(rates), "where": kinds}
    return table


def loss_edge_table(
    ds: xr.Dataset, horizon: int | None = None, fraction: float = LOSS_FRACTION
) -> dict[str, np.ndarray]:
    """Per init the loss-based edge [W, S] at ``fraction`` of the start's loss (NaN: not found)."""
    inits, widths, n_seeds = _axes(ds)
    ratios = loss_ratio(ds, horizon)
    done = completed_cells(ds)
    table = {}
    for init in inits:
        rows = []
        for width in widths:
            if (init, width) not in done:
                rows.append(np.full(n_seeds, np.nan))
                continue
            grid = cell_grid(ds, init, width)
            cell = ratios.sel(init=init, width=width).transpose("seed", "lr").values
            rows.append(np.array([loss_edge(grid, row, fraction) for row in cell]))
        table[init] = np.array(rows)
    return table


def _interval(fit) -> dict | None:
    if fit is None or not math.isfinite(fit.value):
        return None
    return {"value": float(fit.value), "ci": [float(fit.ci[0]), float(fit.ci[1])]}


def _has_fit(values: np.ndarray) -> bool:
    return int(np.sum(np.isfinite(values).any(axis=1))) >= MIN_WIDTHS


def exponents(widths, tables: dict[str, np.ndarray], *, n_boot: int = N_BOOT) -> dict:
    """``fitted_exponent`` (init → {value, ci}) and ``exponent_difference`` (k_A − k_B, paired)
    of per-init ``[W, S]`` tables; None where fewer than 3 widths have data."""
    fitted = {
        init: _interval(bootstrap_exponent(widths, v, n_boot=n_boot)) if _has_fit(v) else None
        for init, v in tables.items()
    }
    difference = None
    if {"A", "B"} <= tables.keys() and _has_fit(tables["A"]) and _has_fit(tables["B"]):
        difference = _interval(
            bootstrap_exponent_difference(widths, tables["A"], tables["B"], n_boot=n_boot)
        )
    return {"fitted_exponent": fitted, "exponent_difference": difference}


def _per_width(widths, values: np.ndarray) -> dict[str, list[float | None]]:
    return {
        str(int(w)): [float(v) if math.isfinite(v) else None for v in row]
        for w, row in zip(widths, values, strict=True)
    }


def _predicted(model: str, init: str) -> str | None:
    # The figure-2 summary's prediction (imported here: _summary imports this module's helpers).
    from toymodels.analysis._summary import _predicted_rate_exponent

    exponent = _predicted_rate_exponent(model, init)
    return None if exponent is None else theory.format_exponent(exponent)


def summarize_edge(
    ds: xr.Dataset,
    *,
    level: float = DEFAULT_LEVEL,
    horizon: int | None = None,
    levels=REPORTED_LEVELS,
    n_boot: int = N_BOOT,
) -> dict:
    """The edge summary as plain JSON values: per-seed edges, exponents with bootstrap intervals,
    the prediction, the other levels and the loss-based edge, all from the stored runs."""
    level = check_level(level)
    config = SweepConfig.from_json(stored_config(ds))
    widths = np.array(config.widths)
    horizon = int(ds["step"][-1]) if horizon is None else int(horizon)
    table = edge_table(ds, level, horizon)
    rates = {init: t["rates"] for init, t in table.items()}
    not_found = {
        init: {
            str(w): [k for k in kinds if not k.startswith("bracketed") and k != "not_run"]
            for w, kinds in zip(config.widths, t["where"], strict=True)
        }
        for init, t in table.items()
    }
    other_levels = {}
    for other in levels:
        if float(other) != level:
            other_rates = {i: t["rates"] for i, t in edge_table(ds, other, horizon).items()}
            other_levels[f"{float(other):g}"] = {
                **exponents(widths, other_rates, n_boot=n_boot),
                "edge": {i: _per_width(widths, v) for i, v in other_rates.items()},
            }
    losses = loss_edge_table(ds, horizon)
    return {
        "experiment": "edge",
        "preset": config.preset,
        "level": level,
        "horizon": horizon,
        "seeds": len(config.seeds),
        "widths": list(config.widths),
        "completed_cells": len(completed_cells(ds)),
        "cells": len(config.cells()),
        **exponents(widths, rates, n_boot=n_boot),
        "predicted_exponent": {init: _predicted(config.model, init) for init in config.inits},
        "edge": {init: _per_width(widths, v) for init, v in rates.items()},
        "not_found": not_found,
        "levels": other_levels,
        "loss_edge": {
            "fraction": LOSS_FRACTION,
            **exponents(widths, losses, n_boot=n_boot),
            "edge": {init: _per_width(widths, v) for init, v in losses.items()},
        },
    }


def _fmt_fit(fit: dict | None) -> str:
    if fit is None:
        return "—  (fewer than 3 widths with an edge)"
    return f"{fit['value']:+.3f}  [{fit['ci'][0]:+.3f}, {fit['ci'][1]:+.3f}]"


def render_edge(s: dict) -> str:
    """The edge summary as the table printed at the end of the sweep."""
    lines = [
        f"edge ({s.get('preset') or 'custom'}): {s['completed_cells']}/{s['cells']} cells done; "
        f"results in {s.get('results')}",
        f"η_edge: first rate where max_(t ≤ {s['horizon']}) RMS(Z_B) reaches C = {s['level']:g} "
        f"(log2, per seed; — = not found)",
    ]
    for init, row in s["edge"].items():
        for width, values in row.items():
            text = " ".join("    —" if v is None else f"{math.log2(v):+5.2f}" for v in values)
            lines.append(f"  {INIT_LABELS.get(init, init):<8} {width:>6}  {text}")
    lines.append(f"exponent k of η_edge(n) ∝ n^k (seed bootstrap, 95%; {s['seeds']} seeds):")
    for init, fit in s["fitted_exponent"].items():
        theory_k = s["predicted_exponent"].get(init) or "no prediction"
        lines.append(f"  {INIT_LABELS.get(init, init):<8} k = {_fmt_fit(fit)}  theory: {theory_k}")
    lines.append(f"  k_A − k_B (paired) = {_fmt_fit(s['exponent_difference'])}")
    for other, result in s["levels"].items():
        fits = result["fitted_exponent"]
        lines.append(
            f"  at C = {other}: k_A = {_fmt_fit(fits.get('A'))}, k_B = {_fmt_fit(fits.get('B'))}, "
            f"k_A − k_B = {_fmt_fit(result['exponent_difference'])}"
        )
    loss = s["loss_edge"]
    lines.append(
        f"  loss edge (loss_T < {loss['fraction']:g}·loss_0): "
        + ", ".join(f"k_{init} = {_fmt_fit(fit)}" for init, fit in loss["fitted_exponent"].items())
        + f", k_A − k_B = {_fmt_fit(loss['exponent_difference'])}"
    )
    return "\n".join(lines)
