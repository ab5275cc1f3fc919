"""What the rate-transfer sweep says: each rule's transfer penalty, per seed, with intervals.

Rules fixed in code before the paper run (issue 25):

- **Oracle.** At a target width n and horizon T the width's own grid search picks the setting of
  lowest seed-mean loss over both families' grids (``equal`` and ``pair``); a seed-mean with a
  diverged seed is +∞. An oracle on its family grid's first or last rate is a bound (flagged).
- **Penalty.** Per seed s, p_s = L_s(transferred rates) / L_s(oracle setting), the loss being the
  mean of the last W steps up to T. A transferred run that diverged by T counts as its loss at
  step 0 (training made no progress), so a diverged seed is a finite, large penalty and is also
  counted in ``diverged``: how often a rule lands beyond the divergence edge.
- **Interval.** The penalty is the geometric mean over seeds, exp(mean log p_s), with a 95 %
  bootstrap over seeds (``compare_per_width``); it is 1 when the rule finds the width's own optimum.
- **Against keeping the rates.** Each rule is compared, paired by seed, with its family's baseline
  (``none``; ``loraplus-fixed`` for the ``pair`` family, what a LoRA+ user keeps): "better" needs
  the interval of mean log(L_rule/L_baseline) wholly below 0, "worse" wholly above, else a tie.
  The named alternative is "no difference" (0); its null pass rate (seeds resampled, the two
  rules' labels swapped per seed) is reported beside each verdict.

>>> import numpy as np
>>> capped(np.array([[np.inf, 2.0]]), np.array([[5.0, 5.0]])).tolist()
[[5.0, 2.0]]
"""

from __future__ import annotations

import math

import numpy as np

from toymodels.reproduce._rules import (
    N_BOOT,
    SMALLER,
    compare_per_width,
    swap_null_pass_rate,
)
from toymodels.sweeps._transfer import completed, run_loss, tuned_rate
from toymodels.sweeps._transfer_config import FAMILIES, TransferSweep

BASELINE = {"equal": "none", "pair": "loraplus-fixed"}


def capped(losses: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """Losses with a diverged run (+∞) replaced by its loss at step 0."""
    return np.where(np.isinf(losses), initial, losses)


def _losses(ds, config: TransferSweep, init: str, width: int, t: int) -> tuple:
    """(loss [family, setting, seed] at horizon t, loss at step 0 of the same runs)."""
    window = config.windows[config.horizons.index(t)]
    cell = ds.sel(init=init, width=width).transpose("family", "setting", "seed", "step")
    loss = run_loss(cell["train_loss"].values, cell["diverged_step"].values, t, window)
    return loss, cell["train_loss"].values[..., 0].astype(np.float64)


def _oracle(config: TransferSweep, loss: np.ndarray) -> dict:
    n_grid = len(config.grid)
    grid = loss[:, :n_grid, :]
    with np.errstate(invalid="ignore"):
        mean = grid.mean(axis=-1)  # +inf if any seed diverged
    if not np.isfinite(mean).any():
        return {"family": None, "index": None, "where": "none", "per_seed": None}
    f, k = np.unravel_index(np.nanargmin(np.where(np.isfinite(mean), mean, np.nan)), mean.shape)
    where = "low_edge" if k == 0 else "high_edge" if k == n_grid - 1 else "interior"
    return {"family": FAMILIES[f], "index": int(k), "where": where, "per_seed": grid[f, k]}


def _number(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def summarize_transfer(ds, *, n_boot: int = N_BOOT, null: bool = True) -> dict:
    """The summary as plain JSON values (the CLI's ``--json``)."""
    from toymodels.sweeps._store import stored_config

    config = TransferSweep.from_json(stored_config(ds))
    done = completed(ds)
    settings = config.settings()
    tuned, oracle, rows = {}, {}, []
    for init in config.inits:
        for t in config.horizons:
            for family in FAMILIES:
                if (family, init, config.base_width) in done:
                    x, where = tuned_rate(ds, config, family, init, t)
                    eta_A, eta_B = config.pair(family, x)
                    tuned[f"{family}/{init}/{t}"] = {
                        "x": _number(x),
                        "where": where,
                        "eta_A": _number(eta_A),
                        "eta_B": _number(eta_B),
                    }
            for width in config.widths[1:]:
                if not all((f, init, width) in done for f in FAMILIES):
                    continue
                loss, initial = _losses(ds, config, init, width, t)
                best = _oracle(config, loss)
                key = f"{init}/{t}/{width}"
                oracle[key] = {k: v for k, v in best.items() if k != "per_seed"}
                if best["per_seed"] is None:
                    continue
                if best["index"] is not None:
                    f = FAMILIES.index(best["family"])
                    pair = ds["eta_A"].sel(family=best["family"], init=init, width=width)
                    oracle[key]["eta_A"] = float(pair.isel(setting=best["index"]))
                    oracle[key]["eta_B"] = float(
                        ds["eta_B"]
                        .sel(family=best["family"], init=init, width=width)
                        .isel(setting=best["index"])
                    )
                    oracle[key]["loss"] = float(np.mean(loss[f, best["index"]]))
                for f_index, family in enumerate(FAMILIES):
                    base = capped(
                        loss[f_index, settings.index((BASELINE[family], t))],
                        initial[f_index, settings.index((BASELINE[family], t))],
                    )
                    for rule in config.rules(family):
                        slot = settings.index((rule, t))
                        raw = loss[f_index, slot]
                        values = capped(raw, initial[f_index, slot])
                        penalty = compare_per_width([values], [best["per_seed"]], n_boot=n_boot)[0]
                        row = {
                            "family": family,
                            "init": init,
                            "horizon": t,
                            "width": int(width),
                            "rule": rule,
                            "eta_A": float(
                                ds["eta_A"]
                                .sel(family=family, init=init, width=width)
                                .isel(setting=slot)
                            ),
                            "eta_B": float(
                                ds["eta_B"]
                                .sel(family=family, init=init, width=width)
                                .isel(setting=slot)
                            ),
                            "penalty": math.exp(penalty.log_ratio),
                            "ci": [math.exp(v) for v in penalty.ci],
                            "per_seed": [float(v) for v in values / best["per_seed"]],
                            "diverged": int(np.isinf(raw).sum()),
                            "seeds": int(raw.size),
                        }
                        if rule != BASELINE[family]:
                            row["vs_baseline"] = _versus(values, base, n_boot, null)
                        rows.append(row)
    return {
        "experiment": "transfer",
        "model": config.model,
        "preset": config.preset,
        "base_width": config.base_width,
        "widths": list(config.widths),
        "seeds": len(config.seeds),
        "horizons": list(config.horizons),
        "windows": list(config.windows),
        "rules": {f: list(config.rules(f)) for f in FAMILIES},
        "measured": {
            i: {
                "exponent": m["exponent"],
                "interval": m["interval"],
                "file": m["provenance"].get("file"),
            }
            for i, m in config.measured.items()
        },
        "completed_cells": len(done),
        "cells": len(config.cells()),
        "tuned": tuned,
        "oracle": oracle,
        "penalties": rows,
    }


def _versus(values: np.ndarray, base: np.ndarray, n_boot: int, null: bool) -> dict:
    comparison = compare_per_width([values], [base], n_boot=n_boot)[0]
    out = {
        "outcome": {"smaller": "better", "larger": "worse"}.get(
            comparison.outcome, comparison.outcome
        ),
        "ratio": math.exp(comparison.log_ratio) if math.isfinite(comparison.log_ratio) else None,
        "ci": [math.exp(v) for v in comparison.ci] if math.isfinite(comparison.ci[0]) else None,
    }
    if null:

        def better(a, b) -> bool:
            return compare_per_width(a, b, n_boot=200)[0].outcome == SMALLER

        out["null_pass_rate"] = swap_null_pass_rate(better, [values], [base])
    return out


def render_transfer(s: dict) -> str:
    """The summary as text: the tuned rates, then a penalty table per horizon."""
    lines = [
        f"rate transfer, {s['model']} ({s['preset']}): tuned at n0 = {s['base_width']}, "
        f"targets {', '.join(map(str, s['widths'][1:]))}; {s['seeds']} seeds; "
        f"{s['completed_cells']}/{s['cells']} cells",
        "penalty = geometric mean over seeds of L(transferred) / L(width's own best grid rate); "
        "95% bootstrap over seeds; [k div] = seeds diverged",
    ]
    for i, m in s["measured"].items():
        lo, hi = m["interval"]
        lines.append(
            f"measured rule, Init[{i}]: k = {m['exponent']:+.3f} [{lo:+.3f}, {hi:+.3f}] "
            f"({m['file']})"
        )
    for key, tuned in s["tuned"].items():
        family, init, t = key.split("/")
        if tuned["x"] is not None:
            flag = "" if tuned["where"] == "interior" else f"  ({tuned['where']}: a bound)"
            lines.append(
                f"tuned at n0, {family:<5} Init[{init}] T = {t}: η_A = "
                f"{tuned['eta_A']:.3g}, η_B = {tuned['eta_B']:.3g}{flag}"
            )
    for t in s["horizons"]:
        lines.append(f"\nT = {t}")
        for row in (r for r in s["penalties"] if r["horizon"] == t):
            vs = row.get("vs_baseline")
            versus = ""
            if vs is not None:
                versus = f"  vs {BASELINE[row['family']]}: {vs['outcome']}"
                if "null_pass_rate" in vs:
                    versus += f" (null {vs['null_pass_rate']:.2f})"
            div = f" [{row['diverged']} div]" if row["diverged"] else ""
            lo, hi = row["ci"]
            lines.append(
                f"  {row['family']:<5} Init[{row['init']}] n = {row['width']:<5} "
                f"{row['rule']:<14} {row['penalty']:8.3g} [{lo:.3g}, {hi:.3g}]{div}{versus}"
            )
    edges = [k for k, o in s["oracle"].items() if o.get("where") not in ("interior", None)]
    if edges:
        lines.append(f"\noracle on a grid edge (a bound): {', '.join(edges)}")
    return "\n".join(lines)
