"""The transformer testbed's measurements: the width check in three rate settings, the edge.

``python -m toymodels.lab.examples.transformer_study coordcheck --preset full`` writes
``results/transformer_coordcheck.json`` and one figure per setting under ``figures/``;
``... edge --preset full`` writes ``results/transformer_edge.json`` and
``figures/transformer_edge.png``.
The quick presets are the same runs at fewer widths, seeds and steps (for tests and notebooks).
The JSON holds the full configuration, the package versions, every per-seed RMS and every
verdict, so notebooks/07_transformer.ipynb redraws everything without training.

>>> [s.slug for s in SETTINGS]
['A_m1_2', 'B_m1', 'A_loraplus', 'A_loraplus_small']
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from toymodels.lab.examples import transformer


class Setting(NamedTuple):
    init: str
    eta_A_exponent: str
    eta_B_exponent: str
    label: str
    slug: str
    eta0: float = 1.0


#: The papers' three settings at η₀ = 1 (the built-in check's prefactor), and LoRA+ again at
#: η₀ = 2^-4: with η_B = η₀ = 1 an Adam step moves B by ~1 per entry, far outside the small-step
#: regime, so the fourth setting asks whether a departure at η₀ = 1 is the large step's.
SETTINGS = (
    Setting("A", "-1/2", "-1/2", "Init[A], η ∝ n^-1/2", "A_m1_2"),
    Setting("B", "-1", "-1", "Init[B], η ∝ n^-1", "B_m1"),
    Setting("A", "-1", "0", "Init[A], LoRA+: η_A ∝ n^-1, η_B ∝ n^0", "A_loraplus"),
    Setting("A", "-1", "0", "Init[A], LoRA+ at η₀ = 2^-4", "A_loraplus_small", 2.0**-4),
)

#: preset → (widths, seeds, steps) of the width check.
COORDCHECK_PRESETS = {
    "full": (transformer.WIDTHS, 4, 3),
    "quick": ((64, 128, 256), 4, 3),
    "smoke": ((32, 64), 2, 2),
}
#: The settings a preset runs when none are named: the smoke preset (the notebook's test, compile
#: bound) runs the first one only.
PRESET_SETTINGS = {"smoke": ("A_m1_2",)}


def _record(report) -> dict:
    out = report.to_json()
    out["rms"] = {k: np.asarray(v).tolist() for k, v in report.measurement.rms.items()}
    return out


def versions() -> dict:
    from toymodels.sweeps._store import package_versions

    return package_versions()


def config() -> dict:
    """The testbed's constants (everything that defines the model and the data)."""
    names = ("VOCAB", "LENGTH", "POINTS", "OUT", "DEPTH", "HEAD", "RANK", "MLP_RATIO",
             "TEACHER_SCALE", "PRETRAINED", "TEACHER")  # fmt: skip
    return {name.lower(): getattr(transformer, name) for name in names}


def run_coordcheck(
    preset: str, results: Path, figures: Path | None, *, progress=True, only=None
) -> dict:
    """The width check in every :data:`SETTINGS` (or those whose slug is in ``only``, merged into
    the record already in ``results`` when it is of the same preset); returns (and writes) the
    JSON record."""
    from toymodels.lab import check_model, plot_model_check

    widths, seeds, steps = COORDCHECK_PRESETS[preset]
    records = []
    only = PRESET_SETTINGS.get(preset) if only is None else only
    settings = [s for s in SETTINGS if only is None or s.slug in only]
    for i, setting in enumerate(settings):
        t0 = time.perf_counter()
        report = check_model(
            transformer.factory, transformer.data, widths=widths,
            eta_A_exponent=setting.eta_A_exponent, eta_B_exponent=setting.eta_B_exponent,
            eta0=setting.eta0, init=setting.init, seeds=seeds, steps=steps,
            name="toymodels.lab.examples.transformer:factory", progress=progress,
            echo=print if i == 0 else None,
        )  # fmt: skip
        record = _record(report)
        record["label"], record["slug"] = setting.label, setting.slug
        record["seconds"] = time.perf_counter() - t0
        records.append(record)
        n_pass = sum(c.passed for c in report.checks)
        cells = f"{n_pass}/{len(report.checks)} cells"
        print(f"{setting.label}: {cells} pass ({record['seconds']:.0f} s)", flush=True)
        if figures is not None:
            title = (
                f"transformer (pre-norm, depth 2): {setting.label}, η₀ = {setting.eta0:g}, Adam, "
                f"{seeds} seeds"
            )
            plot_model_check(report, figures / f"transformer_coordcheck_{setting.slug}.png",
                             title=title)  # fmt: skip
    if only is not None and Path(results).is_file():
        kept = json.loads(Path(results).read_text())
        if kept.get("preset") == preset:
            done = {r["slug"] for r in records}
            records = [r for r in kept["settings"] if r["slug"] not in done] + records
            records.sort(key=lambda r: [s.slug for s in SETTINGS].index(r["slug"]))
    payload = {
        "experiment": "transformer_coordcheck",
        "preset": preset,
        "model": config(),
        "versions": versions(),
        "seconds": sum(r["seconds"] for r in records),
        "settings": records,
    }
    write_json(results, payload)
    return payload


def report_of(record: dict):
    """A setting's record (from the JSON) back as a ``CoordCheckReport``, for plots and tables."""
    import theory
    from toymodels.gamma._report import CoordCheckReport, GammaCheck, WidthMeasurement

    checks = []
    for quantity, cell in record["quantities"].items():
        for step, c in cell["steps"].items():
            predicted = theory.parse_exponent(c["predicted"])
            ci = None if c["ci"] is None else tuple(np.nan if v is None else v for v in c["ci"])
            checks.append(GammaCheck(quantity, int(step), predicted, c["measured"], ci, c["pass"],
                                     c.get("note", "")))  # fmt: skip
    checks.sort(key=lambda c: (c.quantity, c.step))
    setting_keys = [k for k in record if k not in ("quantities", "rms", "compared_steps", "pass")]
    measurement = WidthMeasurement(
        widths=tuple(record["widths"]), seeds=tuple(record["seeds"]),
        rms={k: np.asarray(v, dtype=float) for k, v in record["rms"].items()},
    )  # fmt: skip
    return CoordCheckReport({k: record[k] for k in setting_keys}, tuple(checks), measurement)


def layer_table(record: dict, step: int | None = None) -> str:
    """Per layer the measured exponent ± half its 95% interval at ``step`` (default: the last),
    the prediction in the header, ``*`` where the cell fails."""
    step = max(record["compared_steps"]) if step is None else step
    quantities = ("Z_A", "Z_B", "dZ_A", "dZ_B")
    layers = list(dict.fromkeys(name.rsplit(":", 1)[0] for name in record["quantities"]))
    header = ["layer"] + [
        f"{q} (pred {record['quantities'][f'{layers[0]}:{q}']['steps'][str(step)]['predicted']})"
        for q in quantities
    ]
    rows = [header]
    for layer in layers:
        row = [layer]
        for q in quantities:
            c = record["quantities"][f"{layer}:{q}"]["steps"][str(step)]
            if c["measured"] is None:
                text = c.get("note", "")
            else:
                half = (c["ci"][1] - c["ci"][0]) / 2 if None not in c["ci"] else float("inf")
                text = f"{c['measured']:+.2f} ± {half:.2f}"
            row.append(text + ("" if c["pass"] else " *"))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    return (
        f"{record['label']}, step t = {step} (* = fails ±{record['tolerance']:g}):\n"
        + "\n".join(lines)
    )


def load_or_run(what: str, preset: str, results: Path, figures: Path | None) -> dict:
    """The record in ``results`` when it is of ``preset`` (``"committed"``: whatever preset),
    else run it (the notebook's smoke test runs the smoke preset into a scratch folder)."""
    path = Path(results) / f"transformer_{what}.json"
    if path.is_file():
        record = json.loads(path.read_text())
        if preset in ("committed", record.get("preset")):
            return record
    if preset == "committed":
        raise FileNotFoundError(f"no committed {path}: run the study, or set LORA_PRESET=smoke")
    if what == "coordcheck":
        return run_coordcheck(preset, path, figures, progress=False)
    from toymodels.lab.examples.transformer_edge import run_edge

    return run_edge(preset, path, figures, progress=False)


def write_json(path: Path, payload: dict) -> None:
    """Atomically: a half-written file never replaces a good one."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, allow_nan=False, default=_nan_to_none))
    tmp.replace(path)


def _nan_to_none(value):
    raise TypeError(f"not JSON: {type(value).__name__}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toymodels.lab.examples.transformer_study")
    parser.add_argument("what", choices=("coordcheck", "edge"))
    parser.add_argument("--preset", default="quick", choices=("full", "reduced", "quick", "smoke"))
    parser.add_argument(
        "--results", default=None, help="JSON path (default results/transformer_<what>.json)"
    )
    parser.add_argument("--figures", default="figures", help="folder of the figures ('' for none)")
    parser.add_argument(
        "--only", nargs="+", default=None, help="coordcheck: only these settings (slugs), merged"
    )
    args = parser.parse_args(argv)
    results = Path(args.results or f"results/transformer_{args.what}.json")
    figures = Path(args.figures) if args.figures else None
    if args.what == "coordcheck":
        run_coordcheck(args.preset, results, figures, only=args.only)
    else:
        from toymodels.lab.examples.transformer_edge import run_edge

        run_edge(args.preset, results, figures)
    print(f"results: {results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
