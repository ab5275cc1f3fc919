"""The summary printed at the end of a sweep: a JSON-ready dict per experiment, and its table.

- Equal-rate sweeps (``figure2``, ``run --lr``): per (init, width) the optimal rate η*, the band of
  rates within 1% of the best, the best loss, the largest rate that trains; per init the fitted
  exponent of η*(n) beside the theory's prediction.
- ``figure3``: per (init, width) the rate, the final train loss, |Z_A| and |Z_B| (mean over seeds).
- 2-D sweeps (``heatmap``, ``run --eta-A --eta-B``): per reported step and loss, the best pair, the
  best equal pair, and how many pairs lie within 1% of the best (and how many have η_B > η_A).

Summaries never hold NaN: a loss that diverged is the string ``"diverged"`` in text and ``null`` in
JSON (``"inf"`` for an infinite confidence bound), a cell that has not run is ``"pending"`` in text
and ``null`` in JSON, told apart by ``status[init][width]`` (``"done"`` or ``"pending"``).
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

import theory
from toymodels.analysis._edge import _fmt_fit
from toymodels.analysis._seed_optima import seed_summary
from toymodels.core import INIT_LABELS, MODELS, PowerLawFit, fit_power_law
from toymodels.sweeps import _losses as losses
from toymodels.sweeps._store import completed_cells, stored_config


def _predicted_rate_exponent(model: str, init: str):
    """``theory.predicted_rate_exponent`` of the toy model's theory model; None where the theory
    predicts no single rate (``AB``, or no single exponent learns features)."""
    if init not in theory.INITS or model not in MODELS:
        return None
    try:
        return theory.predicted_rate_exponent(MODELS[model].theory_model, init)
    except theory.ExponentError:
        return None


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _bound(value: float) -> float | str:
    return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def _per_cell(table: xr.DataArray) -> dict[str, dict[str, float | None]]:
    return {
        str(init): {
            str(int(width)): _number(table.sel(init=init, width=width))
            for width in table["width"].values
        }
        for init in table["init"].values
    }


def _status(ds: xr.Dataset) -> dict[str, dict[str, str]]:
    """``"done"`` or ``"pending"`` (not run yet) per cell, keyed like :func:`_per_cell`."""
    done = completed_cells(ds)
    return {
        str(init): {
            str(int(width)): "done" if (str(init), int(width)) in done else "pending"
            for width in ds["width"].values
        }
        for init in ds["init"].values
    }


def _is_two_d(ds: xr.Dataset) -> bool:
    return bool(np.any(ds["eta_A"].values != ds["eta_B"].values))


def summarize(ds: xr.Dataset, *, metric: str, window: int, steps) -> dict:
    """The summary of ``ds`` as plain JSON values (see the module docstring)."""
    config = stored_config(ds)
    last = int(ds["step"][-1])
    # A preset's reported steps (heatmap: 10 and 200) beyond a shorter run mean its last step.
    steps = tuple(dict.fromkeys(last if s is None or s > last else int(s) for s in steps))
    base = {
        "experiment": config["experiment"],
        "preset": config.get("preset"),
        "metric": metric,
        "window": window,
        "completed_cells": len(completed_cells(ds)),
        "cells": ds.sizes["init"] * ds.sizes["width"],
        "status": _status(ds),
    }
    if config["experiment"] == "figure3":
        return {**base, **_figure3(ds, window)}
    if _is_two_d(ds):
        return {**base, **_two_d(ds, window, steps)}
    return {**base, **_equal_rates(ds, config["model"], metric, window, steps[0])}


def _equal_rates(ds, model, metric, window, step) -> dict:
    optimal = losses.optimal_rates(ds, metric, step, window=window)
    fitted, predicted = {}, {}
    for init, fit in fit_rate_exponent(optimal).items():
        fitted[init] = (
            None
            if fit is None
            else {
                "value": fit.exponent,
                "ci": [_bound(fit.ci[0]), _bound(fit.ci[1])],
                "n_widths": fit.n_points,
            }
        )
        exponent = _predicted_rate_exponent(model, init)
        predicted[init] = None if exponent is None else theory.format_exponent(exponent)
    band = {
        init: {
            width: (
                None
                if low is None
                else [
                    low,
                    _number(optimal["band_eta_A"].sel(init=init, width=int(width), bound="high")),
                ]
            )
            for width, low in row.items()
        }
        for init, row in _per_cell(optimal["band_eta_A"].sel(bound="low", drop=True)).items()
    }
    at_edge = {
        str(init): [
            int(w) for w in optimal["width"].values[optimal["at_edge"].sel(init=init).values]
        ]
        for init in optimal["init"].values
    }
    return {
        "step": int(optimal.attrs["step"]),
        "optimal_lr": _per_cell(optimal["eta_A"]),
        "band": band,
        "best_loss": _per_cell(optimal["loss"]),
        "max_stable_lr": _per_cell(optimal["max_stable_eta_A"]),
        "at_edge": at_edge,
        "fitted_exponent": fitted,
        "predicted_exponent": predicted,
        **seed_summary(ds, metric, int(optimal.attrs["step"]), window=window),
    }


def _figure3(ds, window) -> dict:
    step = int(ds["step"][-1])
    out = {"step": step, "rate": _per_cell(ds["eta_A"].isel(lr=0))}
    for name in ("train_loss", "norm_Z_A", "norm_Z_B"):
        if name in ds:
            values = losses.loss_at(ds, name, step, window=1).isel(lr=0).mean("seed", skipna=False)
            out[name] = _per_cell(values)
    return out


def _two_d(ds, window, steps) -> dict:
    reports = []
    for step in steps:
        for metric in (m for m in ("train_loss", "test_loss") if m in ds):
            mean = losses.mean_loss(ds, metric, step, window=window)
            best = losses.optimal_rates(ds, metric, step, window=window)
            equal = ds["eta_A"] == ds["eta_B"]
            within = np.isfinite(mean) & (mean <= best["loss"] * 1.01)
            b_larger = within & (ds["eta_B"] > ds["eta_A"])
            entry = {
                "metric": metric,
                "step": int(best.attrs["step"]),
                "best": _pair(mean, ds, mean.fillna(np.inf)),
                "best_equal": _pair(mean, ds, mean.where(equal, np.inf).fillna(np.inf))
                if bool(equal.any())
                else None,
                "n_within_1pct": int(within.sum()),
                "n_within_1pct_eta_B_larger": int(b_larger.sum()),
                "n_pairs": int(ds.sizes["lr"]),
            }
            reports.append(entry)
    return {"heatmap": reports}


def _pair(mean: xr.DataArray, ds: xr.Dataset, ranked: xr.DataArray) -> dict:
    flat = ranked.stack(cell=("init", "width", "lr"))
    index = int(np.argmin(flat.values))
    init, width, lr = (flat["cell"].values[index][k] for k in range(3))
    sel = {"init": init, "width": width, "lr": lr}
    eta = {name: float(ds[name].broadcast_like(mean).sel(sel)) for name in ("eta_A", "eta_B")}
    return {**eta, "loss": _number(mean.sel(sel))}


# --- Text -----------------------------------------------------------------------------------------


def _fmt(value, spec: str = ".3g", missing: str = "—") -> str:
    return missing if value is None else format(value, spec)


def render(summary: dict) -> str:
    """The summary as the table printed at the end of a sweep."""
    lines = [
        f"{summary['experiment']} ({summary.get('preset') or 'custom'}): "
        f"{summary['completed_cells']}/{summary['cells']} cells done; "
        f"results in {summary['results']}"
    ]
    if "heatmap" in summary:
        lines += _render_two_d(summary)
    elif "norm_Z_A" in summary or summary["experiment"] == "figure3":
        lines += _render_figure3(summary)
    else:
        lines += _render_equal_rates(summary)
    return "\n".join(lines)


def _render_equal_rates(s: dict) -> list[str]:
    first = max(0, s["step"] - s["window"] + 1)  # the mean is clipped at step 0 (loss_at)
    window = f", mean of steps {first}..{s['step']}" if s["step"] > first else ""
    lines = [
        f"optimal learning rate η* by mean {s['metric']} over seeds at step {s['step']}{window}",
        f"{'init':<8} {'width':>6} {'η*':>9} {'within 1% of best':>21} {'best loss':>10} "
        f"{'largest stable':>15}",
    ]
    for init, row in s["optimal_lr"].items():
        for width, rate in row.items():
            band = s["band"][init][width]
            loss = s["best_loss"][init][width]
            if s.get("status", {}).get(init, {}).get(width) == "pending":
                loss_text = "pending"
            elif rate is None and loss is None and s["max_stable_lr"][init][width] is None:
                loss_text = "diverged" if band is None else "—"
            else:
                loss_text = _fmt(loss, ".3e", "diverged")
            edge = "  (at grid edge)" if int(width) in s["at_edge"][init] else ""
            lines.append(
                f"{INIT_LABELS.get(init, init):<8} {width:>6} {_fmt(rate, '.3e'):>9} "
                f"{'—' if band is None else f'[{band[0]:.2e}, {band[1]:.2e}]':>21} "
                f"{loss_text:>10} {_fmt(s['max_stable_lr'][init][width], '.3e'):>15}{edge}"
            )
    lines.append("exponent k of η*(n) ∝ n^k (log-log least squares, 95% CI) vs theory:")
    for init, fit in s["fitted_exponent"].items():
        theory = s["predicted_exponent"].get(init) or "no prediction"
        if fit is None:
            lines.append(
                f"  {INIT_LABELS.get(init, init):<8} k = —  (fewer than two widths)  "
                f" theory: {theory}"
            )
            continue
        low, high = (f"{b:+.2f}" if isinstance(b, float) else b for b in fit["ci"])
        lines.append(
            f"  {INIT_LABELS.get(init, init):<8} k = {fit['value']:+.2f}  [{low}, {high}]  "
            f" theory: {theory}"
        )
    if s.get("exponent_difference") is not None:
        lines.append(f"per-seed interpolated optima, bootstrap over {s['seeds']} seeds (95%):")
        for init, fit in s["seed_exponent"].items():
            if fit is not None:
                lines.append(
                    f"  {INIT_LABELS.get(init, init):<8} k = {fit['value']:+.3f}  "
                    f"[{fit['ci'][0]:+.3f}, {fit['ci'][1]:+.3f}]"
                )
        diff = s["exponent_difference"]
        lines.append(
            f"  k_A − k_B (slope of η*_A/η*_B, paired) = {diff['value']:+.3f}  "
            f"[{diff['ci'][0]:+.3f}, {diff['ci'][1]:+.3f}]"
        )
        bounds = sum(len(k) for row in s["seed_optimum_bounds"].values() for k in row.values())
        if bounds:
            what = (
                "optimum on a grid edge is a bound"
                if bounds == 1
                else "optima on a grid edge are bounds"
            )
            lines.append(f"  {bounds} seed {what}, left out of the fit")
        sensitivities = (
            ("horizon_sensitivity", "at step {step} (the same runs)"),
            ("fixed_grid_sensitivity", "on the coarse fixed grid alone"),
        )
        for key, label in sensitivities:
            other = s.get(key)
            if other and other.get("exponent_difference"):
                fits = "  ".join(
                    f"k_{init} = {_fmt_fit(fit)}"
                    for init, fit in other["fitted_exponent"].items()
                    if fit is not None
                )
                lines.append(
                    f"  {label.format(step=other.get('step'))}: {fits}  "
                    f"k_A − k_B = {_fmt_fit(other['exponent_difference'])}"
                )
    if any(s["at_edge"].values()):
        lines.append("note: an optimum at the grid edge is only a bound; widen --lr to bracket it")
    return lines


def _render_figure3(s: dict) -> list[str]:
    lines = [
        f"at step {s['step']}, mean over seeds",
        f"{'init':<8} {'width':>6} {'rate':>10} {'train loss':>11} {'|Z_A|':>10} {'|Z_B|':>10}",
    ]
    for init, row in s["rate"].items():
        for width, rate in row.items():
            cells = [
                s.get(name, {}).get(init, {}).get(width)
                for name in ("train_loss", "norm_Z_A", "norm_Z_B")
            ]
            pending = s.get("status", {}).get(init, {}).get(width) == "pending"
            missing = "pending" if pending else "diverged"
            lines.append(
                f"{INIT_LABELS.get(init, init):<8} {width:>6} {_fmt(rate, '.3e'):>10} "
                + " ".join(f"{_fmt(v, '.3e', missing):>10}" for v in cells)
            )
    return lines


def _render_two_d(s: dict) -> list[str]:
    lines = [
        f"{'loss':<11} {'step':>5} {'best (η_A, η_B)':>22} {'loss':>10} {'best equal η':>13} "
        f"{'loss':>10}  within 1%: η_B > η_A / all"
    ]
    for e in s["heatmap"]:
        best, equal = e["best"], e["best_equal"]
        pair = "({:.2e}, {:.2e})".format(best["eta_A"], best["eta_B"])
        equal_rate = "—" if equal is None else "{:.2e}".format(equal["eta_A"])
        equal_loss = "—" if equal is None else _fmt(equal["loss"], ".3e", "diverged")
        lines.append(
            f"{e['metric']:<11} {e['step']:>5} {pair:>22} "
            f"{_fmt(best['loss'], '.3e', 'diverged'):>10} {equal_rate:>13} {equal_loss:>10}  "
            f"{e['n_within_1pct_eta_B_larger']} / {e['n_within_1pct']}"
        )
    return lines


def fit_rate_exponent(optimal: xr.Dataset, *, rate: str = "eta_A") -> dict[str, PowerLawFit | None]:
    """Per init, the log-log least-squares fit η*(n) ≈ C n^k over the widths with an optimum.

    ``None`` for an init with fewer than two such widths.

    >>> import numpy as np, xarray as xr
    >>> widths = np.array([128, 256, 512, 1024])
    >>> opt = xr.Dataset({"eta_A": (("init", "width"), [0.3 * widths ** -0.5])},
    ...                  coords={"init": ["A"], "width": widths})
    >>> round(fit_rate_exponent(opt)["A"].exponent, 6)
    -0.5
    """
    fits = {}
    for init in optimal["init"].values:
        rates = optimal[rate].sel(init=init)
        keep = np.isfinite(rates.values) & (rates.values > 0)
        widths = optimal["width"].values[keep]
        fits[str(init)] = fit_power_law(widths, rates.values[keep]) if len(widths) >= 2 else None
    return fits
