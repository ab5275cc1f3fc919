"""The rank sweep's analysis: the stability edge and the optimal rate against r, and the theory.

The rules are the width edge's and Figure 2's, fixed before the data (``toymodels.analysis._edge``,
``toymodels.core._bootstrap``), with the rank r in place of the width n:

- **edge**: per seed, the first rate of the grid at which the peak feature size
  ``max_{t ≤ T} RMS`` of the model's feature (Z_B for the LoRA layer, the output f for the linear
  toy) reaches the level C = 4, log-log interpolated (``crossing_rate``);
- **optimum**: per seed, the minimum over rates of the train loss averaged over the last
  ``window`` steps, refined by a parabola in log η (``interpolated_optimum``); only interior
  optima are estimates (the others are left out of the fit and counted);
- **exponent**: η(r) ∝ r^b at the fixed width, and η(n) ∝ n^k along r = n^κ, fitted by least
  squares in log-log with a bootstrap over seeds (``bootstrap_exponent``, 95 % percentile
  interval).

**Prediction**: the calculator's maximal stable equal rate c(κ, s)
(``theory.max_stable_rate_exponent``; for Adam also the feature-learning rate). Along r = n^κ the
prediction is c(κ, s). At a fixed width n the rank exponent is b = (c(κ₁, s) − c(0, s)) / κ₁ with
κ₁ = log r_max / log n (c is affine in κ for every model and s of the sweeps: b is its slope). A
line passes when its interval contains the prediction and excludes every **named alternative**: the
other multiplier's prediction, and for Adam with Init[B] Assumption K's per-coordinate reading.

>>> predicted_rank_slope("adam", "A", "1/2", Fraction(4, 5))
Fraction(-1, 4)
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

import theory
from toymodels.analysis._edge import DEFAULT_LEVEL, N_BOOT
from toymodels.core import (
    MODELS,
    bootstrap_exponent,
    crossing_rate,
    interpolated_optimum,
    theory_model_of,
)
from toymodels.sweeps._rank import completed, pair_index
from toymodels.sweeps._store import NOT_DIVERGED, NOT_RUN, stored_config

#: The multiplier whose prediction is each one's named alternative.
ALTERNATIVE = {"1/2": "1", "1": "1/2"}


def _theory_model(name: str):
    if name == "adam-per-coordinate":
        return theory_model_of("adam", "per-coordinate")
    if name == "adam":  # the aligned reading (the built-in judges Z_B per entry: §12)
        return theory_model_of("adam", "aligned")
    return name


def rate_exponent(theory_model: str, init: str, kappa, s) -> Fraction:
    """The calculator's maximal stable equal rate's exponent c(κ, s)."""
    return theory.max_stable_rate_exponent(
        _theory_model(theory_model), init, rank_exponent=kappa, multiplier=s
    )


def predicted_rank_slope(theory_model: str, init: str, s: str, kappa_max: Fraction) -> Fraction:
    """b in η_max ∝ r^b at fixed n: the slope of the calculator's c(κ, s) over [0, κ_max]."""
    c = [rate_exponent(theory_model, init, k, s) for k in (Fraction(0), kappa_max)]
    return (c[1] - c[0]) / kappa_max


def alternatives(theory_model: str, init: str, s: str, value) -> dict[str, Fraction]:
    """The named alternatives of a prediction: the other multiplier's, and for Adam with Init[B]
    the per-coordinate reading's. ``value(model, s)`` computes one prediction."""
    other = ALTERNATIVE.get(s, "0")
    named = {f"s = {other}": value(theory_model, other)}
    if theory_model == "adam" and init == "B":
        named["per-coordinate"] = value("adam-per-coordinate", s)
    return named


def _log2_fraction(value: int) -> Fraction:
    exponent = Fraction(math.log2(value)).limit_denominator(1000)
    if 2**exponent.numerator != value**exponent.denominator:
        raise ValueError(f"{value} is not an integer power of two")
    return exponent


def peak_feature_size(ds, metric: str, horizon: int | None = None):
    """``max_{t = 1..T'}`` of ``metric`` per run; diverged by T' → +inf; not run → NaN."""
    import xarray as xr

    horizon = int(ds["step"][-1]) if horizon is None else int(horizon)
    peak = ds[metric].sel(step=slice(1, horizon)).astype(np.float64).max("step", skipna=False)
    div = ds["diverged_step"]
    diverged = (div != NOT_DIVERGED) & (div <= horizon) & (div != NOT_RUN)
    peak = xr.where(diverged | ~np.isfinite(peak), np.inf, peak)
    return xr.where(div == NOT_RUN, np.nan, peak)


def windowed_loss(ds, window: int):
    """The train loss averaged over the last ``window`` steps; a diverged run → +inf."""
    import xarray as xr

    last = int(ds["step"][-1])
    loss = ds["train_loss"].sel(step=slice(last - window + 1, last)).astype(np.float64)
    mean = loss.mean("step", skipna=False)
    return xr.where(ds["diverged_step"] >= 0, np.inf, mean)


def _per_seed(ds, values, s, r, init, n, rule):
    rates = np.asarray(ds["eta_A"].values, dtype=np.float64)
    where = {"multiplier": s, "pair": pair_index(ds, r, n), "init": init}
    cell = values.sel(where).transpose("seed", "lr").values
    return [rule(rates, row) for row in cell]


def _edge_rule(level):
    def rule(rates, row):
        crossing = crossing_rate(rates, row, level)
        return crossing.rate if crossing.bracketed else math.nan, crossing.where

    return rule


def _optimum_rule(rates, row):
    optimum = interpolated_optimum(rates, row)
    return optimum.rate if optimum.interior else math.nan, optimum.where


def _fit(xs, table) -> dict | None:
    table = np.asarray(table, dtype=np.float64)
    if int(np.sum(np.isfinite(table).any(axis=1))) < 3:
        return None
    fit = bootstrap_exponent(np.asarray(xs, dtype=np.float64), table, n_boot=N_BOOT)
    if not math.isfinite(fit.value):
        return None
    return {"value": float(fit.value), "ci": [float(fit.ci[0]), float(fit.ci[1])]}


#: A deterministic toy gives a zero-width interval: it "contains" a value within this slack.
SLACK = 1e-3


def _inside(value, ci) -> bool:
    return bool(ci[0] - SLACK <= value <= ci[1] + SLACK)


def _verdict(fit, predicted: Fraction, named: dict) -> dict:
    if fit is None:
        return {"contains_prediction": None, "contains": None, "pass": None}
    contains = {name: _inside(v, fit["ci"]) for name, v in named.items()}
    inside = _inside(predicted, fit["ci"])
    return {"contains_prediction": inside, "contains": contains,
            "pass": inside and not any(contains.values())}  # fmt: skip


def _line(ds, xs, cells, s, init, rules, predicted, named):
    """One fitted line (per measure: per-seed values, fit, verdict) over the cells ``(r, n)``."""
    done = {tuple(c) for c in completed(ds)}
    out = {"x": [int(x) for x in xs], "predicted": theory.format_exponent(predicted),
           "alternatives": {k: theory.format_exponent(v) for k, v in named.items()}}  # fmt: skip
    for measure, (values, rule) in rules.items():
        table, kinds = [], []
        for r, n in cells:
            if (s, r, init, n) not in done:
                table.append([math.nan] * ds.sizes["seed"])
                kinds.append(["not_run"] * ds.sizes["seed"])
                continue
            found = _per_seed(ds, values, s, r, init, n, rule)
            table.append([v for v, _ in found])
            kinds.append([k for _, k in found])
        fit = _fit(xs, table)
        out[measure] = {
            "per_seed": [[None if not math.isfinite(v) else v for v in row] for row in table],
            "where": kinds,
            "fit": fit,
            **_verdict(fit, predicted, named),
        }
    return out


def summarize_rank(
    ds, *, level: float = DEFAULT_LEVEL, window: int = 5, min_rank: int = 1, step: int = 1
) -> dict:
    """Per multiplier and init: the edge and the optimum against r (fixed width) and against n
    along r = n^κ, each with its bootstrap fit, the calculator's prediction and the verdict; and
    the update at a fixed rate at step ``step`` (:func:`update_exponents`). ``min_rank``: fit the
    fixed-width lines over ranks ≥ this only (a diagnostic; the rule fits every rank)."""
    config = stored_config(ds)
    model = config["model"]
    theory_model = MODELS[model].theory_model
    metric = "f" if model == "linear" else "Z_B"
    rules = {
        "edge": (peak_feature_size(ds, metric), _edge_rule(level)),
        "optimum": (windowed_loss(ds, window), _optimum_rule),
    }
    width = config["width"]
    fixed = sorted(r for r, n in config["pairs"] if n == width)
    kappa_max = _log2_fraction(max(fixed)) / _log2_fraction(width)
    fixed = [r for r in fixed if r >= min_rank]
    lines = []
    for s in config["multipliers"]:
        for init in config["inits"]:

            def slope(model, m, init=init):
                return predicted_rank_slope(model, init, m, kappa_max)

            line = _line(
                ds, fixed, [(r, width) for r in fixed], s, init, rules,
                slope(theory_model, s), alternatives(theory_model, init, s, slope),
            )  # fmt: skip
            lines.append({"multiplier": s, "init": init, "against": "rank", "width": width,
                          **line})  # fmt: skip
            for kappa, widths in config["kappas"].items():

                def joint(model, m, init=init, kappa=kappa):
                    return rate_exponent(model, init, kappa, m)

                cells = [(round(n ** float(Fraction(kappa))), n) for n in widths]
                line = _line(
                    ds, widths, cells, s, init, rules,
                    joint(theory_model, s), alternatives(theory_model, init, s, joint),
                )  # fmt: skip
                lines.append({"multiplier": s, "init": init, "against": "width", "kappa": kappa,
                              **line})  # fmt: skip
    return {
        "experiment": "rank",
        "model": model,
        "theory_model": theory_model,
        "level": level,
        "window": window,
        "feature": metric,
        "steps": int(ds["step"][-1]),
        "seeds": [int(s) for s in ds["seed"].values],
        "min_rank": min_rank,
        "lines": lines,
        "updates": update_exponents(ds, step=step, level=level, min_rank=min_rank),
    }


def _fmt(fit) -> str:
    if fit is None:
        return "no fit (fewer than 3 points with data)"
    return f"{fit['value']:+.2f} [{fit['ci'][0]:+.2f}, {fit['ci'][1]:+.2f}]"


def _mark(verdict) -> str:
    if verdict["pass"] is None:
        return "—"
    if verdict["pass"]:
        return "PASS"
    inside = [name for name, hit in verdict["contains"].items() if hit]
    head = "prediction outside" if not verdict["contains_prediction"] else "prediction inside"
    return f"fail: {head}" + (f", contains {', '.join(inside)}" if inside else "")


def line_axis(line: dict) -> str:
    """What a summary line is fitted against: the rank at its fixed width, or the width along
    r = n^κ.

    >>> line_axis({"against": "rank", "width": 1024})
    'r at n = 1024'
    """
    if line["against"] == "rank":
        return f"r at n = {line['width']}"
    return f"n, r = n^{line['kappa']}"


def named_alternatives(entry: dict) -> str:
    """The alternatives a line's interval must exclude, as text.

    >>> named_alternatives({"alternatives": {"s = 1": "0"}})
    '0 (s = 1)'
    """
    return ", ".join(f"{v} ({k})" for k, v in entry["alternatives"].items())


def render_rank(summary: dict) -> str:
    """The summary as text: one line per (multiplier, init, axis, measure)."""
    rows = [
        f"rank sweep: {summary['model']} (theory model {summary['theory_model']}); "
        f"edge: max_t RMS({summary['feature']}) reaches {summary['level']:g}; "
        f"optimum: train loss, mean of the last {summary['window']} of {summary['steps']} steps; "
        f"{len(summary['seeds'])} seeds; 95% bootstrap intervals",
        "s    init against        measure fitted exponent       predicted | alternatives: verdict",
    ]
    for line in summary["lines"]:
        axis, named = line_axis(line), named_alternatives(line)
        for measure in ("edge", "optimum"):
            m = line[measure]
            rows.append(
                f"{line['multiplier']:<4} {line['init']:<4} {axis:<14} {measure:<7} "
                f"{_fmt(m['fit']):<21} {line['predicted']:<9} | {named}: {_mark(m)}"
            )
    for u in summary.get("updates", []):
        if u is summary["updates"][0]:
            rows.append(
                f"the update {u['quantity']} at step {u['step']} and a fixed rate (the largest "
                f"grid rate below every rank's edge) against r at n = {u['width']}:"
            )
        named = named_alternatives(u)
        rows.append(
            f"{u['multiplier']:<4} {u['init']:<4} η = {u['rate']:<9.3g} {_fmt(u['fit']):<21} "
            f"{u['predicted']:<9} | {named}: {_mark(u)}"
        )
    if summary.get("min_rank", 1) > 1:
        rows.append(f"(fixed-width fits over ranks >= {summary['min_rank']} only: a diagnostic)")
    return "\n".join(rows)


# --- The update at a fixed rate: does ΔZ_B collapse, stay Θ(1) or blow up as r grows? ------------

#: The quantity whose size against r answers the rsLoRA question: the LoRA layer's update ΔZ_B, and
#: the linear toy's output f (f₀ = 0, so f₁ is its first update).
UPDATE = {"adam": "dZ_B", "gd-linear": "f"}


def fixed_rate(ds, s: str, init: str, level: float = DEFAULT_LEVEL) -> int | None:
    """The index of the largest grid rate below every rank's edge at the fixed width: no run of
    any seed diverged and every peak feature size stays below ``level``; None if there is none."""
    config = stored_config(ds)
    feature = "f" if config["model"] == "linear" else "Z_B"
    peaks = peak_feature_size(ds, feature)
    width = config["width"]
    pairs = [pair_index(ds, r, n) for r, n in config["pairs"] if n == width]
    below = (peaks.sel(multiplier=s, init=init, pair=pairs) < level).all(("pair", "seed")).values
    good = np.flatnonzero(below)
    return int(good[-1]) if good.size else None


def update_exponents(
    ds, *, step: int = 1, level: float = DEFAULT_LEVEL, min_rank: int = 1
) -> list[dict]:
    """Per multiplier and init: the update (:data:`UPDATE`) at step ``step`` and the fixed rate of
    :func:`fixed_rate`, against r at the fixed width: per-seed values, bootstrap fit, the
    calculator's rank exponent (the slope over [0, κ₁] of its exponent at t = ``step`` with the
    rate exponent held at the κ = 0 maximal stable one) and the named alternatives."""
    config = stored_config(ds)
    theory_model = MODELS[config["model"]].theory_model
    quantity = UPDATE[theory_model]
    width = config["width"]
    fixed = sorted(r for r, n in config["pairs"] if n == width)
    kappa_max = _log2_fraction(max(fixed)) / _log2_fraction(width)
    fixed = [r for r in fixed if r >= min_rank]
    rates = np.asarray(ds["eta_A"].values, dtype=np.float64)
    out = []
    for s in config["multipliers"]:
        for init in config["inits"]:
            index = fixed_rate(ds, s, init, level)
            if index is None:
                continue
            c0 = rate_exponent(theory_model, init, 0, s)

            def slope(model, m, init=init, c0=c0):
                exps = [
                    theory.predict(_theory_model(model), init, eta_A=c0, eta_B=c0, steps=step,
                                   rank_exponent=k, multiplier=m).trajectory[step][quantity]
                    for k in (Fraction(0), kappa_max)
                ]  # fmt: skip
                return (exps[1] - exps[0]) / kappa_max

            values = np.array([
                ds[quantity].sel(multiplier=s, init=init, pair=pair_index(ds, r, width),
                                 step=step).isel(lr=index).values
                for r in fixed
            ], dtype=np.float64)  # fmt: skip
            fit = _fit(fixed, values)
            predicted, named = slope(theory_model, s), alternatives(theory_model, init, s, slope)
            out.append({
                "multiplier": s, "init": init, "quantity": quantity, "step": step,
                "rate": float(rates[index]), "ranks": fixed, "width": width,
                "per_seed": values.tolist(), "fit": fit,
                "predicted": theory.format_exponent(predicted),
                "alternatives": {k: theory.format_exponent(v) for k, v in named.items()},
                **_verdict(fit, predicted, named),
            })  # fmt: skip
    return out
