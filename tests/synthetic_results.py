"""Small results stores with a known answer, in the layout of docs/architecture.md.

The figure and claims tests plot and check these: the optimal rate, the best pair and the feature
norms are planted, so a test can assert that the code finds them.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

#: Planted optimum η*(n) = PREFACTOR[init] · n^EXPONENT[init].
EXPONENT = {"A": -0.7, "B": -1.0}
PREFACTOR = {"A": 2.0, "B": 4.0}


def _attrs(experiment: str, inits, widths) -> dict:
    return {
        "config": json.dumps({"experiment": experiment, "preset": "synthetic"}),
        "versions": json.dumps({"python": "3", "device": "synthetic CPU"}),
        "completed_cells": json.dumps([[i, int(w)] for i in inits for w in widths]),
    }


def figure2_store(
    widths=(128, 256, 512, 1024, 2048),
    steps: int = 20,
    seeds: int = 2,
    diverge_above: float = 8.0,
) -> xr.Dataset:
    """An equal-rate sweep whose seed-mean final loss is minimal exactly at the planted η*(n).

    Loss is a parabola in log η around log η*(n), Init[A] lower than Init[B]; runs with
    η > diverge_above · η*(n) diverge (NaN from step 3, ``diverged_step`` = 3).
    """
    inits = ["A", "B"]
    lr = np.logspace(-5, 0, 21)
    t = np.arange(steps + 1)
    shape = (len(inits), len(widths), lr.size, seeds, t.size)
    loss = np.empty(shape)
    norm_A, norm_B = np.empty(shape), np.empty(shape)
    diverged = np.full(shape[:4], -1, dtype=np.int32)
    for i, init in enumerate(inits):
        for w, n in enumerate(widths):
            star = PREFACTOR[init] * n ** EXPONENT[init]
            for s in range(seeds):
                final = (0.1 if init == "A" else 0.2) + (np.log10(lr / star)) ** 2 + 0.001 * s
                decay = np.exp(-t / 5.0)
                loss[i, w, :, s, :] = final[:, None] + decay[None, :]
                growth = (n / 128.0) ** 0.5 if init == "A" else 0.1
                norm_A[i, w, :, s, :] = growth * (1 - decay)[None, :] * (1 + 0.01 * s)
                shrink = (n / 128.0) ** -0.2 if init == "A" else 1.0
                norm_B[i, w, :, s, :] = shrink * (1 - decay)[None, :]
                bad = lr > diverge_above * star
                loss[i, w, bad, s, 3:] = np.nan
                norm_A[i, w, bad, s, 3:] = np.nan
                diverged[i, w, bad, s] = 3
    dims = ("init", "width", "lr", "seed", "step")
    return xr.Dataset(
        {
            "train_loss": (dims, loss.astype(np.float32)),
            "test_loss": (dims, (loss * 1.1).astype(np.float32)),
            "norm_Z_A": (dims, norm_A.astype(np.float32)),
            "norm_Z_B": (dims, norm_B.astype(np.float32)),
            "diverged_step": (dims[:4], diverged),
        },
        coords={
            "init": inits,
            "width": list(widths),
            "lr": np.arange(lr.size),
            "seed": np.arange(seeds),
            "step": t,
            "eta_A": ("lr", lr),
            "eta_B": ("lr", lr),
        },
        attrs=_attrs("figure2", inits, widths),
    )


def figure3_store(widths=(128, 2048), steps: int = 20, seeds: int = 2) -> xr.Dataset:
    """The Figure-3 runs: the figure2 store reduced to each (init, width)'s planted optimum."""
    full = figure2_store(widths=widths, steps=steps, seeds=seeds)
    picked = []
    for init in ("A", "B"):
        per_width = []
        for n in widths:
            star = PREFACTOR[init] * n ** EXPONENT[init]
            k = int(np.argmin(np.abs(np.log(full.eta_A.values / star))))
            cell = full.sel(init=init, width=n).isel(lr=[k])
            per_width.append(
                cell.drop_vars(["eta_A", "eta_B"])
                .assign_coords(lr=[0])
                .assign(eta_A=("lr", cell.eta_A.values), eta_B=("lr", cell.eta_B.values))
            )
        picked.append(xr.concat(per_width, "width"))
    out = xr.concat(picked, "init")
    out = out.set_coords(["eta_A", "eta_B"])
    out.attrs = _attrs("figure3", ("A", "B"), widths)
    return out


#: Planted best pair of the heatmap store (η_B ≫ η_A, as LoRA+ claims).
BEST_PAIR = (1e-3, 1e-1)


def heatmap_store(steps: int = 200, seeds: int = 3) -> xr.Dataset:
    """A 2-D rate sweep (flattened on ``lr``) whose loss is minimal at :data:`BEST_PAIR`.

    Pairs with η_B > 3 · BEST_PAIR[1] diverge: the best pair sits at the edge of stability.
    """
    axis = np.logspace(-4, 0, 9)
    eta_A, eta_B = (g.ravel() for g in np.meshgrid(axis, axis))
    t = np.arange(steps + 1)
    dist = np.log10(eta_A / BEST_PAIR[0]) ** 2 + np.log10(eta_B / BEST_PAIR[1]) ** 2
    final = 0.05 + 0.1 * dist
    loss = (
        final[:, None, None]
        + np.exp(-t / 30.0)[None, None, :]
        + 0.0 * np.arange(seeds)[None, :, None]
    )
    diverged = np.full((eta_A.size, seeds), -1, dtype=np.int32)
    bad = eta_B > 3 * BEST_PAIR[1]
    loss[bad, :, 5:] = np.nan
    diverged[bad] = 5
    dims = ("init", "width", "lr", "seed", "step")
    return xr.Dataset(
        {
            "train_loss": (dims, loss[None, None].astype(np.float32)),
            "test_loss": (dims, (1.2 * loss)[None, None].astype(np.float32)),
            "diverged_step": (dims[:4], diverged[None, None]),
        },
        coords={
            "init": ["AB"],
            "width": [100],
            "lr": np.arange(eta_A.size),
            "seed": np.arange(seeds),
            "step": t,
            "eta_A": ("lr", eta_A),
            "eta_B": ("lr", eta_B),
        },
        attrs=_attrs("heatmap", ["AB"], [100]),
    )
