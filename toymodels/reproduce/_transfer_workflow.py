"""The rate-transfer sweep in the reproduction workflow: run or load, summarize, tabulate, draw.

Notebook 06 calls these (``LORA_PRESET=smoke`` or ``LORA_QUICK=1``: a smaller preset into the
quick folder; else the paper preset into ``results/`` and ``figures/``). Finished cells are never
rerun, so on the committed files nothing trains.
"""

from __future__ import annotations

import os
from pathlib import Path

from toymodels.reproduce._workflow import preset, results_dir

#: The transfer sweeps' models: Adam (teacher-student) and gradient descent (the linear toy).
TRANSFER_MODELS = ("teacher-student", "linear")
#: Figure stems per model, under figures/.
TRANSFER_FIGURE_STEMS = {"teacher-student": "transfer", "linear": "transfer_gd"}


def transfer_results_path(model: str, folder: Path | None = None) -> Path:
    """``results/transfer-MODEL.nc`` (or the quick folder's)."""
    return (Path(folder) if folder is not None else results_dir()) / f"transfer-{model}.nc"


def transfer_sweep(model: str, preset_name: str | None = None, *, folder: Path | None = None):
    """Run (or resume) the transfer sweep of ``model`` at ``preset_name`` (default
    :func:`preset`); return ``(results, summary)``. ``LORA_LOAD_ONLY=1`` trains nothing."""
    from toymodels.reproduce._transfer_analysis import summarize_transfer
    from toymodels.sweeps import load_results
    from toymodels.sweeps._transfer import run_transfer_sweep
    from toymodels.sweeps._transfer_config import (
        MEASURED_FILE,
        measured_exponents,
        transfer_config,
    )

    path = transfer_results_path(model, folder)
    if os.environ.get("LORA_LOAD_ONLY", "") in ("", "0"):
        from toymodels.reproduce._workflow import project_root

        measured = measured_exponents(model, project_root() / MEASURED_FILE)
        config = transfer_config(model, preset_name or preset(), measured=measured)
        path.parent.mkdir(parents=True, exist_ok=True)
        run_transfer_sweep(config, path, quiet=True)
    results = load_results(path)
    return results, summarize_transfer(results)


def transfer_table(summary: dict, horizon: int | None = None) -> str:
    """One Markdown row per (family, init, rule): the penalty at each target width (95 % CI),
    the seeds diverged, and the verdict against keeping the rates at the largest width."""
    horizon = summary["horizons"][-1] if horizon is None else horizon
    widths = summary["widths"][1:]
    rows = [
        "| family | init | rule | "
        + " | ".join(f"n = {w}" for w in widths)
        + f" | vs keeping (n = {widths[-1]}) |",
        "| --- | --- | --- | " + " | ".join("---" for _ in widths) + " | --- |",
    ]
    picked = [r for r in summary["penalties"] if r["horizon"] == horizon]
    keys = dict.fromkeys((r["family"], r["init"], r["rule"]) for r in picked)
    for family, init, rule in keys:
        cells, last = [], None
        for w in widths:
            row = next((r for r in picked if (r["family"], r["init"], r["rule"], r["width"])
                        == (family, init, rule, w)), None)  # fmt: skip
            if row is None:
                cells.append("—")
                continue
            div = f", {row['diverged']}/{row['seeds']} div" if row["diverged"] else ""
            cells.append(f"{row['penalty']:.3g} [{row['ci'][0]:.3g}, {row['ci'][1]:.3g}]{div}")
            last = row
        vs = (last or {}).get("vs_baseline")
        verdict = "baseline" if vs is None else (
            f"{vs['outcome']} (null {vs.get('null_pass_rate', float('nan')):.2f})")  # fmt: skip
        rows.append(
            f"| {family} | Init[{init}] | {rule} | " + " | ".join(cells) + f" | {verdict} |"
        )
    return "\n".join(rows)


def transfer_figure(model: str, summary: dict, out: Path) -> Path:
    """Draw the penalties into ``out`` (PNG and PDF); returns the PNG."""
    from toymodels.reproduce._transfer_figures import plot_transfer

    return plot_transfer(summary, Path(out) / TRANSFER_FIGURE_STEMS[model])[0]
