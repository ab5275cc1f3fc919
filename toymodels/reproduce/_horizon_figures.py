"""The horizon figures: the loss optimum's width exponents against the horizon T', and running
exponents against width (issue 24).

``optimum_vs_horizon``: k_A(T'), k_B(T') (left) and k_A − k_B (right) of the per-seed loss
optimum, each with its seed-bootstrap interval, over all widths (filled) and over the upper half
(open), for the Figure-2 run (T ≤ 150, n ≤ 2^13) and the wide run (T ≤ 25, n ≤ 2^16) when given.
The edge theorems' exponents are drawn as reference lines and labelled as such: they predict the
largest stable rate, not the loss optimum.

``running_exponents``: per init, the local slope between neighbouring widths of the loss optimum
at T' = 25, of the feature edge at C = 4 and of the divergence edge (wide run), with intervals.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from theory.style import INIT_COLORS
from toymodels.analysis import _horizon, _levels, _running
from toymodels.analysis._edge import DEFAULT_LEVEL
from toymodels.core import INIT_LABELS, bootstrap_exponent, bootstrap_exponent_difference
from toymodels.reproduce._figures import _footer

PREDICTED = {"A": -0.5, "B": -1.0}
DIFFERENCE_COLOR = "0.25"


def _fits(ds: xr.Dataset, keep: np.ndarray, horizons=None) -> dict:
    """Per horizon: k_A, k_B, k_A − k_B as (value, low, high) over the widths ``keep``."""
    widths = ds.width.values.astype(np.float64)[keep]
    out = {}
    for horizon, table in _horizon.optimum_tables(ds, horizons).items():
        a, b = table["A"]["rates"][keep], table["B"]["rates"][keep]
        fits = {
            "A": bootstrap_exponent(widths, a),
            "B": bootstrap_exponent(widths, b),
            "diff": bootstrap_exponent_difference(widths, a, b),
        }
        out[horizon] = {k: (f.value, *f.ci) for k, f in fits.items()}
    return out


def _draw(ax, horizons, values, *, color, marker, filled, shift, label=None):
    x = np.asarray(horizons, dtype=np.float64) * shift
    y = np.array([v[0] for v in values])
    err = np.abs(np.array([[v[1] for v in values], [v[2] for v in values]]) - y)
    ax.errorbar(
        x,
        y,
        yerr=err,
        color=color,
        marker=marker,
        ls="-" if filled else "--",
        lw=1.2,
        mfc=color if filled else "white",
        capsize=2.5,
        label=label,
    )


def plot_optimum_vs_horizon(figure2: xr.Dataset, wide: xr.Dataset | None = None) -> Figure:
    """The loss optimum's width exponents against the horizon (module docstring)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2), layout="constrained")
    runs = [("Figure-2 run", figure2, "o", 1.0)]
    if wide is not None:
        runs.append(("wide run", wide, "s", 1.06))
    for name, ds, marker, shift in runs:
        widths = ds.width.values
        upper = _horizon.upper_half(widths)
        ranges = (
            (np.ones_like(upper), True, f"{name}, n = {widths[0]} … {widths[-1]}"),
            (upper, False, f"{name}, n = {widths[upper][0]} … {widths[-1]}"),
        )
        for keep, filled, label in ranges:
            if keep.sum() < 3:  # no width exponent (a smoke run's upper half)
                continue
            fits = _fits(ds, keep)
            horizons = list(fits)
            for init in ("A", "B"):
                _draw(
                    left,
                    horizons,
                    [fits[h][init] for h in horizons],
                    color=INIT_COLORS[init],
                    marker=marker,
                    filled=filled,
                    shift=shift,
                    label=f"{INIT_LABELS[init]}: {label}",
                )
            _draw(
                right,
                horizons,
                [fits[h]["diff"] for h in horizons],
                color=DIFFERENCE_COLOR,
                marker=marker,
                filled=filled,
                shift=shift,
                label=label,
            )
    for init, k in PREDICTED.items():
        left.axhline(
            k,
            color=INIT_COLORS[init],
            lw=0.8,
            ls=":",
            label=f"largest stable rate's exponent, {INIT_LABELS[init]} (theorems): {k:g}",
        )
    right.axhline(
        0.5, color="0.5", lw=0.8, ls=":", label="largest stable rates' difference (theorems): +1/2"
    )
    right.axhline(0.0, color="black", lw=0.8, label="no difference: 0")
    for ax, ylabel in (
        (left, "width exponent $k$ of the loss optimum $\\eta^*$"),
        (right, "$k_A - k_B$ (seeds paired)"),
    ):
        ax.set_xscale("log")
        ax.set_xlabel(
            "horizon $T'$ (steps; the loss is the mean of the last $\\lceil T'/10\\rceil$)"
        )
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)
    left.set_title("Loss optimum: width exponent per init (95% seed bootstrap)", fontsize=10)
    right.set_title(
        "Loss optimum: Init[A] − Init[B]; filled: all widths, open: upper half", fontsize=10
    )
    _footer(fig, figure2)
    return fig


def _series(wide: xr.Dataset, horizon: int) -> dict[str, dict[str, np.ndarray]]:
    optimum = _horizon.optimum_tables(wide, (horizon,))[horizon]
    edge = _levels.level_tables(wide, (DEFAULT_LEVEL,), horizon)[DEFAULT_LEVEL]
    divergence = _levels.divergence_edge_table(wide, horizon)
    return {
        f"loss optimum $\\eta^*$ ($T' = {horizon}$)": {i: t["rates"] for i, t in optimum.items()},
        f"feature edge, $C = {DEFAULT_LEVEL:g}$": edge,
        "divergence edge": divergence,
    }


def plot_running_exponents(wide: xr.Dataset, *, horizon: int = 25) -> Figure:
    """Running exponents of the optimum and the edges, per init, against width (wide run)."""
    widths = wide.width.values.astype(np.float64)
    series = _series(wide, min(horizon, int(wide.step[-1])))
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), layout="constrained", sharey=True)
    markers = ("o", "^", "s")
    for ax, init in zip(axes, ("A", "B"), strict=True):
        for offset, (marker, (label, tables)) in enumerate(
            zip(markers, series.items(), strict=True)
        ):
            steps = _running.running_exponents(widths, tables[init])
            x = np.log2([np.sqrt(r.low * r.high) for r in steps]) + 0.08 * (offset - 1)
            y = np.array([r.value for r in steps])
            err = np.abs(np.array([[r.ci[0] for r in steps], [r.ci[1] for r in steps]]) - y)
            ax.errorbar(
                x,
                y,
                yerr=err,
                marker=marker,
                color=INIT_COLORS[init],
                mfc=("white" if offset else INIT_COLORS[init]),
                alpha=1.0 - 0.25 * offset,
                ls="-",
                lw=1.0,
                capsize=2.5,
                label=label,
            )
        ax.axhline(
            PREDICTED[init],
            color="black",
            lw=0.9,
            ls=":",
            label=f"largest stable rate's exponent (theorems): {PREDICTED[init]:g}",
        )
        ax.set_title(f"{INIT_LABELS[init]}: local slope between neighbouring widths", fontsize=10)
        ax.set_xlabel("$\\log_2$ width (geometric mean of the pair)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    axes[0].set_ylabel("running exponent $d\\log\\eta / d\\log n$ (95% seed bootstrap)")
    _footer(fig, wide)
    return fig
