"""The reproduction as one workflow: theory verdicts, sweeps, figures, fitted exponents, claims.

`make demo` (quick presets) and the notebooks (``LORA_QUICK=1`` for quick, ``LORA_PRESET=smoke``
in the test suite, the ``paper`` presets otherwise) call these functions; no logic lives in
notebook cells.
"""

from __future__ import annotations

import os
from pathlib import Path

import theory
from toymodels.analysis import render, summarize
from toymodels.core import MODELS
from toymodels.sweeps import load_results, run_sweep, sweep_config


def preset() -> str:
    """The preset the notebooks and the workflow run: ``LORA_PRESET`` (``paper``, ``quick`` or
    ``smoke``) when set, else ``quick`` under ``LORA_QUICK=1``, else ``paper``."""
    from toymodels.core import UsageError
    from toymodels.sweeps import PRESETS

    chosen = os.environ.get("LORA_PRESET", "").strip().lower()
    if chosen:
        if chosen not in PRESETS:
            raise UsageError(f"LORA_PRESET={chosen!r}: expected one of {', '.join(PRESETS)}")
        return chosen
    quick = os.environ.get("LORA_QUICK", "").strip().lower() not in ("", "0", "false", "no")
    return "quick" if quick else "paper"


def quick_mode() -> bool:
    """Whether a smaller preset than ``paper`` runs (``LORA_QUICK=1`` or ``LORA_PRESET``)."""
    return preset() != "paper"


def project_root() -> Path:
    """The nearest folder at or above the working directory holding ``pyproject.toml``.

    Relative to the working directory (``..`` from ``notebooks/``), so that notebook outputs name
    ``../results``, not a path on the machine that ran them.
    """
    here = Path.cwd().resolve()
    root = next((p for p in (here, *here.parents) if (p / "pyproject.toml").is_file()), here)
    return Path(os.path.relpath(root, here))


def results_dir() -> Path:
    """``LORA_RESULTS``, else ``results/`` (paper) or ``demo-output/results/`` (quick).

    Quick and paper runs never share a folder: a quick file must not pass for a paper one.
    """
    if os.environ.get("LORA_RESULTS"):
        return Path(os.environ["LORA_RESULTS"])
    root = project_root()
    return root / "results" if preset() == "paper" else root / "demo-output" / "results"


def figures_dir() -> Path:
    """``LORA_FIGURES``, else ``figures/`` (paper) or ``demo-output/`` (quick)."""
    if os.environ.get("LORA_FIGURES"):
        return Path(os.environ["LORA_FIGURES"])
    root = project_root()
    return root / "figures" if preset() == "paper" else root / "demo-output"


def sweep(
    experiment: str,
    preset_name: str | None = None,
    *,
    folder: Path | None = None,
    quiet: bool = True,
    file: str | None = None,
    **overrides,
):
    """Run (or resume) the sweep ``experiment`` of preset ``preset_name`` (default
    :func:`preset`) into :func:`results_dir`, print its summary as ``lora-sweep`` does, and load
    it. ``overrides`` go to
    :func:`toymodels.sweeps.sweep_config` (e.g. ``steps=30``).

    Finished cells are skipped, so on finished results this only loads the file.
    ``LORA_SWEEP_STEPS`` (e.g. ``30``) overrides the steps of every sweep: the notebook test uses
    it to keep CI fast. The sweep refuses to mix such a run into an existing file of another
    configuration. ``LORA_LOAD_ONLY=1`` loads the file as it is (partial results included) and
    trains nothing. ``file`` names the results file (default ``EXPERIMENT.nc``).
    """
    preset_name = preset_name or preset()
    folder = Path(folder) if folder is not None else results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (file or f"{experiment}.nc")
    if os.environ.get("LORA_LOAD_ONLY", "") not in ("", "0"):
        return load_results(path)
    if experiment == "figure3":
        overrides.setdefault("optimal_from", folder / "figure2.nc")
    if os.environ.get("LORA_SWEEP_STEPS"):
        overrides.setdefault("steps", int(os.environ["LORA_SWEEP_STEPS"]))
    config, settings = sweep_config(experiment, preset_name, **overrides)
    run_sweep(config, path, quiet=quiet)
    results = load_results(path)
    if experiment == "edge":  # the edge summary `lora-sweep edge` prints, not a loss optimum of Z_B
        from toymodels.analysis._edge import render_edge, summarize_edge

        summary = summarize_edge(results)
        summary["results"] = str(path)
        print(render_edge(summary))
        return results
    # The summary `lora-sweep` prints; at the last step when the steps are overridden.
    steps = (None,) if "steps" in overrides else settings.summary_steps
    summary = summarize(results, metric=settings.metric, window=settings.window, steps=steps)
    summary["results"] = str(path)
    print(render(summary))
    return results


def wide_preset() -> str:
    """The edge preset of the wide run (results/edge-wide.nc): ``wide`` for the paper, else the
    smaller preset chosen (:func:`preset`), so a quick notebook run stays quick."""
    return "wide" if preset() == "paper" else preset()


def describe(results) -> str:
    """One line: what a results store holds (experiment, preset, device, widths, rates, seeds)."""
    from toymodels.reproduce._figure_data import provenance

    sizes = ", ".join(
        f"{d} {results.sizes[d]}"
        for d in ("init", "width", "lr", "seed", "step")
        if d in results.sizes
    )
    widths = ", ".join(str(int(w)) for w in results.width.values) if "width" in results else ""
    return f"{provenance(results)} · {sizes} · widths {widths}"


def exponent_table(figure2, *, loss: str = "train_loss") -> str:
    """The exponent of η*(n) per init and k_A − k_B, beside the theory's (Markdown).

    Per-seed interpolated optima with their two intervals (seed bootstrap; fit across widths), as
    the claims read them, over all widths and over n >= 2^9; the least-squares fit of the
    seed-mean argmin (the first report's statistic) last.
    """
    import numpy as np

    from toymodels.core import fit_power_law
    from toymodels.reproduce import _rules as rules
    from toymodels.reproduce._claims import LARGE_WIDTH
    from toymodels.reproduce._figure_data import figure2_optimum
    from toymodels.reproduce._seed_tables import figure2_seed_optima

    per_seed = figure2_seed_optima(figure2, loss)
    widths = per_seed.widths
    subsets = (np.ones(widths.size, bool), widths >= LARGE_WIDTH)

    def evidence(values) -> list[str]:
        return [
            rules.exponent_evidence(widths[use], values[use]).describe()
            if use.sum() >= 3
            else "fewer than 3 widths"
            for use in subsets
        ]

    opt = figure2_optimum(figure2, loss)
    rows = [
        "| init | k, per-seed optima, all widths [seeds; fit] | k, n >= 2^9 | k, seed-mean argmin "
        "(least squares) | theory |",
        "| --- | --- | --- | --- | --- |",
    ]
    theory_model = MODELS["teacher-student"].theory_model
    for init, values in per_seed.rate.items():
        eta = opt.eta.sel(init=init).values
        ok = np.isfinite(eta)
        fit = fit_power_law(widths[ok], eta[ok]) if ok.sum() >= 2 else None
        argmin = "—" if fit is None else f"{fit.exponent:+.3f} [{fit.ci[0]:+.2f}, {fit.ci[1]:+.2f}]"
        predicted = theory.format_exponent(theory.predicted_rate_exponent(theory_model, init))
        rows.append(f"| Init[{init}] | {' | '.join(evidence(values))} | {argmin} | {predicted} |")
    if {"A", "B"} <= set(per_seed.rate):
        a, b = per_seed.rate["A"], per_seed.rate["B"]
        cells = [
            rules.difference_evidence(widths[use], a[use], b[use]).describe()
            if use.sum() >= 3
            else "fewer than 3 widths"
            for use in subsets
        ]
        rows.append(f"| k_A − k_B (paired) | {' | '.join(cells)} | | +1/2 |")
    return "\n".join(rows)


#: The empirical-γ settings of the protocol (issue 6, docs/empirical-gamma.md): (model, init, c_A,
#: c_B) with η = η₀·n^c. Init paper Thms 1-2 at c ∈ {−1/2, −1}, LoRA+ rates (−1, 0) for both inits,
#: and the linear toy of LoRA+ Props 1-2.
GAMMA_SETTINGS = (
    ("teacher-student", "A", "-1/2", "-1/2"),
    ("teacher-student", "A", "-1", "-1"),
    ("teacher-student", "B", "-1/2", "-1/2"),
    ("teacher-student", "B", "-1", "-1"),
    ("teacher-student", "A", "-1", "0"),
    ("teacher-student", "B", "-1", "0"),
    ("linear", "A", "-1/2", "-1/2"),
    ("linear", "B", "-1/2", "-1/2"),
    ("linear", "A", "-1", "0"),
    ("linear", "B", "-1", "0"),
)
#: Quick mode measures two widths only: a smoke run of the check, not a measurement to quote; the
#: smoke preset two small ones (the check runs, its verdicts mean nothing).
QUICK_GAMMA_WIDTHS = (128, 1024)
SMOKE_GAMMA_WIDTHS = (32, 64)


def empirical_gamma(out: Path | None = None, settings=GAMMA_SETTINGS) -> list:
    """Run the empirical-γ check for ``settings``; plot each (PNG + PDF) into ``out`` if given.

    Returns the coordcheck reports (``.format_table()``, ``.passed``). Quick mode uses
    :data:`QUICK_GAMMA_WIDTHS`, the full mode the check's default widths 2^7..2^13, the smoke
    preset :data:`SMOKE_GAMMA_WIDTHS` and the last setting of each model only.
    """
    from toymodels.gamma import DEFAULT_WIDTHS, coordcheck, plot_coordcheck

    chosen = preset()
    widths = {"paper": DEFAULT_WIDTHS, "quick": QUICK_GAMMA_WIDTHS}.get(chosen, SMOKE_GAMMA_WIDTHS)
    if chosen == "smoke":  # one setting per model: the check runs end to end, nothing more
        settings = tuple({model: setting for setting in settings for model in setting[:1]}.values())
    reports = []
    for model, init, c_A, c_B in settings:
        report = coordcheck(model, init, eta_A_exponent=c_A, eta_B_exponent=c_B, widths=widths)
        reports.append(report)
        if out is not None:
            Path(out).mkdir(parents=True, exist_ok=True)
            rates = "_".join(c.replace("-", "m").replace("/", "_") for c in (c_A, c_B))
            stem = f"empirical_gamma_{model.replace('-', '_')}_{init}_{rates}"
            for ext in ("png", "pdf"):
                plot_coordcheck(report, Path(out) / f"{stem}.{ext}")
    return reports


def gamma_summary(reports) -> str:
    """One Markdown row per setting: model, init, rates, cells passed, overall verdict."""
    rows = [
        "| model | init | c_A | c_B | widths | cells passed | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for report in reports:
        s = report.setting
        passed = sum(c.passed for c in report.checks)
        widths = f"{min(s['widths'])}..{max(s['widths'])}"
        rows.append(
            f"| {s['model']} | Init[{s['init']}] | {s['eta_A_exponent']} | "
            f"{s['eta_B_exponent']} | {widths} | {passed}/{len(report.checks)} | "
            f"{'pass' if report.passed else 'FAIL'} |"
        )
    return "\n".join(rows)
