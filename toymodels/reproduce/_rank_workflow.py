"""The rank sweeps in the reproduction workflow: run or load, summarize, tabulate, draw.

Notebook 05 calls these (``LORA_QUICK=1``: the quick presets into ``demo-output/``; else the paper
presets into ``results/`` and ``figures/``, as every notebook). Finished cells are never rerun.
"""

from __future__ import annotations

import os
from pathlib import Path

from toymodels.reproduce._workflow import preset, results_dir

#: The rank sweeps' models: Adam (the calculator's `adam`) and gradient descent (`gd-linear`).
RANK_MODELS = ("teacher-student", "linear")
#: Figure stems per model, under figures/.
RANK_FIGURE_STEMS = {"teacher-student": "rank_scaling", "linear": "rank_scaling_gd"}


def rank_results_path(model: str, folder: Path | None = None) -> Path:
    """``results/rank-MODEL.nc`` (or the quick folder's), the file the workflow reads and writes."""
    return (Path(folder) if folder is not None else results_dir()) / f"rank-{model}.nc"


def rank_sweep(model: str, preset_name: str | None = None, *, folder: Path | None = None):
    """Run (or resume) the rank sweep of ``model`` at preset ``preset_name`` (default
    :func:`preset`); return ``(results, summary)``. ``LORA_SWEEP_STEPS`` caps the steps (CI);
    ``LORA_LOAD_ONLY=1`` loads the file as it is and trains nothing."""
    from toymodels.analysis._rank import summarize_rank
    from toymodels.sweeps import load_results
    from toymodels.sweeps._rank import rank_config, run_rank_sweep

    path = rank_results_path(model, folder)
    if os.environ.get("LORA_LOAD_ONLY", "") in ("", "0"):
        config = rank_config(model, preset_name or preset())
        if os.environ.get("LORA_SWEEP_STEPS"):
            steps = min(config.steps, int(os.environ["LORA_SWEEP_STEPS"]))
            config = rank_config(model, preset_name or preset(), steps=steps)
        path.parent.mkdir(parents=True, exist_ok=True)
        run_rank_sweep(config, path, quiet=True)
    results = load_results(path)
    window = min(5, int(results["step"][-1]))
    return results, summarize_rank(results, window=window)


def rank_table(summary: dict) -> str:
    """One Markdown row per (multiplier, init, axis, measure): fit, prediction, verdict."""
    from toymodels.analysis._rank import line_axis, named_alternatives

    rows = [
        "| s | init | against | measure | fitted exponent [95% CI] | calculator | alternatives "
        "| verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for line in summary["lines"]:
        axis, named = line_axis(line), named_alternatives(line)
        for measure in ("edge", "optimum"):
            m = line[measure]
            fit = m["fit"]
            text = "no fit" if fit is None else (
                f"{fit['value']:+.2f} [{fit['ci'][0]:+.2f}, {fit['ci'][1]:+.2f}]"
            )  # fmt: skip
            verdict = "—" if m["pass"] is None else ("pass" if m["pass"] else "FAIL")
            rows.append(
                f"| {line['multiplier']} | Init[{line['init']}] | {axis} | {measure} | {text} "
                f"| {line['predicted']} | {named} | {verdict} |"
            )
    return "\n".join(rows)


def rank_figure(model: str, results, summary: dict, out: Path) -> Path:
    """Draw :func:`~toymodels.reproduce._rank_figures.plot_rank_scaling` into ``out`` (PNG and
    PDF); returns the PNG."""
    from toymodels.reproduce._figures import save_figure
    from toymodels.reproduce._rank_figures import plot_rank_scaling

    png, _ = save_figure(plot_rank_scaling(summary, results), Path(out) / RANK_FIGURE_STEMS[model])
    return png
