"""Fitted rate exponents as a file the calculator reads (``lora-sweep exponents``).

theory never opens netCDF, so ``lora-gamma transfer --rule measured`` reads a small JSON file
(``theory/_measured.py`` defines it). This module writes it from sweep results:

- a Figure-2 (or ``run``) file: the loss-optimal rate η*(n) ∝ n^k per init, each seed's
  interpolated optimum, the exponent bootstrapped over seeds (``seed_summary``: the numbers
  ``lora-sweep summary`` prints), with the preset's loss metric and window at the last step;
- an edge file: the stability edge η_edge(n) ∝ n^k per init at the default level C = 4
  (``summarize_edge``).

Each exponent carries its provenance: the results file's name and SHA-256, its experiment and
preset, widths, seeds, horizon, and the rule that produced the number.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import theory
from toymodels.core import MODELS, UsageError


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def exponents_from_results(path) -> list[theory.MeasuredExponent]:
    """The width exponents of one results file (see the module docstring)."""
    from toymodels.analysis import summarize_edge
    from toymodels.analysis._seed_optima import seed_summary
    from toymodels.sweeps._config import SweepConfig
    from toymodels.sweeps._presets import get_preset
    from toymodels.sweeps._store import load_results, stored_config

    path = Path(path)
    ds = load_results(path)
    raw = stored_config(ds)
    experiment = raw.get("experiment")
    if experiment not in ("figure2", "run", "edge"):
        raise UsageError(
            f"{path} is a {experiment} sweep: exponents come from figure2, run or edge sweeps"
        )
    config = SweepConfig.from_json(raw)
    horizon = int(ds["step"][-1])
    if experiment == "edge":
        summary = summarize_edge(ds)
        fitted, source = summary["fitted_exponent"], "edge"
        rule = f"first rate with max_t RMS(Z_B) >= {summary['level']:g}, per seed; bootstrap"
    else:
        preset = get_preset("figure2", config.preset) if config.preset else None
        metric = preset.metric if preset else "train_loss"
        window = preset.window if preset else 1
        fitted = seed_summary(ds, metric, horizon, window=window)["seed_exponent"]
        source = "optimum"
        rule = (f"per-seed interpolated minimum of {metric} (mean of the last {window} steps); "
                "bootstrap over seeds")  # fmt: skip
    provenance = {
        "file": str(path),
        "sha256": _sha256(path),
        "experiment": experiment,
        "preset": config.preset,
        "toy_model": config.model,
        "widths": list(config.widths),
        "seeds": len(config.seeds),
        "horizon": horizon,
        "rule": rule,
    }
    out = []
    for init, fit in fitted.items():
        if fit is None:
            continue
        out.append(
            theory.MeasuredExponent(
                model=MODELS[config.model].theory_model,
                init=init,
                source=source,
                exponent=round(fit["value"], 6),
                interval=(round(fit["ci"][0], 6), round(fit["ci"][1], 6)),
                level=0.95,
                provenance=provenance,
            )
        )
    if not out:
        raise UsageError(f"{path}: no init has an exponent (fewer than 3 widths with data)")
    return out
