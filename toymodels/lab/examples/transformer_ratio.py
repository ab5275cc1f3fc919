"""Does the loss-optimal LoRA+ ratio λ* = η_B/η_A of the transformer testbed grow with width?

The rule, fixed before the run: Init[A] (redrawn), Adam, T = 20 steps; at each width a grid of
η_A = 2^-14 … 2^-4 (every octave) × λ = 2^0, 2^2, … 2^10; per seed the profile
L(λ) = min over η_A of loss_T, and λ* its minimum refined by a parabola in log λ
(``toymodels.core.interpolated_optimum``); a λ* on the grid's edge or next to a diverged profile
is a bound, never fitted. The exponent of λ*(n) ∝ n^k comes with a seed bootstrap
(``toymodels.core.bootstrap_exponent``). LoRA+ (η_A = Θ(n^-1), η_B = Θ(1)) predicts k = 1; the
named alternative is k = 0 (a ratio that does not depend on the width).

``python -m toymodels.lab.examples.transformer_ratio`` writes ``results/transformer_ratio.json``.

>>> len(ETA_A), len(RATIOS)
(11, 6)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from toymodels.lab.examples import transformer
from toymodels.lab.examples.transformer_study import config, versions, write_json

ETA_A = 2.0 ** np.arange(-14, -3)
RATIOS = 2.0 ** np.arange(0, 11, 2)
WIDTHS = (64, 128, 256, 512)
SEEDS = (0, 1, 2, 3)
STEPS = 20


def run_ratio(results: Path, widths=WIDTHS, seeds=SEEDS, steps=STEPS) -> dict:
    from toymodels.core import bootstrap_exponent, interpolated_optimum
    from toymodels.lab._adapt import bind, find_layers
    from toymodels.lab._train import make_runner, train_runs

    started = time.perf_counter()
    grid_A, grid_ratio = np.meshgrid(ETA_A, RATIOS, indexing="ij")  # [A, λ]
    per_width = {}
    optima = []
    for width in widths:
        bound = bind(transformer.factory, width)
        layers = find_layers(list(bound.shapes))
        runner = make_runner(bound, layers, data=transformer.data, steps=steps, init="A")
        runs = [(a, a * r, s) for a, r in zip(grid_A.ravel(), grid_ratio.ravel(), strict=True)
                for s in seeds]  # fmt: skip
        eta_A, eta_B, run_seeds = (np.array(v) for v in zip(*runs, strict=True))
        out = train_runs(runner, eta_A, eta_B, run_seeds, layers, chunk=2 * len(seeds) * 6)
        loss = out["loss"][:, -1].reshape(len(ETA_A), len(RATIOS), len(seeds))
        loss = np.where(np.isfinite(loss), loss, np.inf)
        profile = loss.min(axis=0)  # [λ, S]
        rows = []
        for s in range(len(seeds)):
            opt = interpolated_optimum(RATIOS, profile[:, s])
            rows.append((opt.rate if opt.interior else np.nan, opt.where))
        optima.append([r for r, _ in rows])
        per_width[str(width)] = {
            "ratio_star": [None if not np.isfinite(r) else float(r) for r, _ in rows],
            "where": [w for _, w in rows],
            "profile": np.where(np.isfinite(profile), profile, -1.0).tolist(),
        }
        print(f"n = {width}: log2 λ* = {[round(float(np.log2(r)), 2) for r, _ in rows]} "
              f"({[w for _, w in rows]})", flush=True)  # fmt: skip
    values = np.array(optima)
    fit = None
    if int(np.sum(np.isfinite(values).any(axis=1))) >= 3:
        b = bootstrap_exponent(np.array(widths), values, n_boot=2000)
        fit = {"value": float(b.value), "ci": [float(b.ci[0]), float(b.ci[1])]}
    payload = {
        "experiment": "transformer_ratio",
        "model": config(),
        "versions": versions(),
        "rule": "Init[A], Adam, T = 20; λ* = argmin over λ of min over η_A of loss_T, parabola in "
        "log λ; edges are bounds; prediction k = 1, alternative k = 0",
        "eta_A_grid": ETA_A.tolist(),
        "ratio_grid": RATIOS.tolist(),
        "widths": list(widths),
        "seeds": list(seeds),
        "steps": steps,
        "per_width": per_width,
        "exponent": fit,
        "seconds": time.perf_counter() - started,
    }
    write_json(results, payload)
    print(json.dumps({"exponent": fit, "seconds": payload["seconds"]}))
    return payload


if __name__ == "__main__":
    run_ratio(Path(sys.argv[1] if len(sys.argv) > 1 else "results/transformer_ratio.json"))
