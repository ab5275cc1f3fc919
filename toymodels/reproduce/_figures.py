"""The papers' figures, drawn from results stores (docs/architecture.md, "Results store").

Every function takes a loaded store (``toymodels.load_results``), returns a matplotlib ``Figure``
and leaves saving to :func:`save_figure` (PNG and PDF). Colours: ``theory.style.INIT_COLORS`` for
the inits (the same in every figure of the project), other Okabe-Ito colours for everything else,
viridis
for the heatmaps: all colour-blind safe. Each figure carries a grey footer naming the experiment,
preset and device its data came from, so a quick-preset figure can never pass for a paper one.
"""

from __future__ import annotations

from pathlib import Path

# No matplotlib.use() here: importing the package must never switch a notebook's backend (even
# force=False switches it before pyplot is imported). The CLIs choose Agg at their entry point.
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib import patheffects
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

import theory
from theory._phase import plot_phase_diagram
from theory.style import INIT_COLORS, OKABE_ITO, REFERENCE_STYLES
from toymodels.core import INIT_LABELS, MODELS, bootstrap_exponent, geometric_means
from toymodels.reproduce import _figure_data as data
from toymodels.reproduce import _heatmap_seeds as hs

#: The theory model of the Init paper's teacher-student model, whose optimal rates Figure 2 shows.
ADAM_LAYER = MODELS["teacher-student"].theory_model
#: The best pair and the best equal pair (and the η_A = η_B line) in LoRA+ Figure 2.
BEST_COLOR, EQUAL_COLOR = OKABE_ITO[0], OKABE_ITO[1]
SEED_STYLES = ("-", "--", ":", "-.")


def _footer(fig: Figure, results: xr.Dataset) -> None:
    # Keep the bottom strip free of axes so the footer never covers a tick label.
    fig.get_layout_engine().set(rect=(0, 0.025, 1, 0.975))
    fig.text(
        0.995, 0.003, data.provenance(results), ha="right", va="bottom", fontsize=7, color="0.45"
    )


def _sci(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.3g}" if 1e-2 <= abs(x) < 1e3 else f"{x:.2e}"


def _width_axis(ax, widths) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(
        list(widths), [f"$2^{{{int(np.log2(w))}}}$" if w & (w - 1) == 0 else str(w) for w in widths]
    )
    ax.set_xlabel("width $n$ (LoRA layer fan-in, log scale)")


def seed_points(ax, x: np.ndarray, values: np.ndarray, color, offset: float, *, size=3.5):
    """Every seed's value (small, translucent points; ``values`` is (len(x), seeds), NaN where a
    seed has none) and the geometric mean over seeds at each x (large points), shifted by
    ×2^offset so that two inits side by side stay apart. Returns the means (NaN where none)."""
    shifted = np.repeat(x[:, None], values.shape[1], axis=1) * 2.0**offset
    ok = np.isfinite(values)
    ax.plot(shifted[ok], values[ok], "o", color=color, ms=size, alpha=0.45, mew=0)
    means = geometric_means(values)
    has = np.isfinite(means)
    ax.plot(x[has] * 2.0**offset, means[has], "o", color=color, ms=2 * size, mec="white")
    return means


def power_law_band(ax, x: np.ndarray, means: np.ndarray, ci, color):
    """The band that the slope interval ``ci`` spans, pivoted at the centre of the data in
    log-log. Returns ``(grid, through)``: points spanning x's range, and ``through(k)``, the power
    law of slope k through that centre evaluated on them."""
    has = np.isfinite(means)
    centre_x, centre_y = np.log(x[has]).mean(), np.log(means[has]).mean()
    span = np.linspace(np.log(x.min()), np.log(x.max()), 50)

    def through(k):
        return np.exp(centre_y + float(k) * (span - centre_x))

    low, high = through(ci[0]), through(ci[1])
    ax.fill_between(
        np.exp(span), np.minimum(low, high), np.maximum(low, high), color=color, alpha=0.18
    )
    return np.exp(span), through


def _seed_scaling(
    ax, widths, tables: dict[str, np.ndarray], symbol: str, *, predicts: bool, from_width=None
) -> None:
    """Per init: every seed's value (small points), the per-width geometric mean (large points),
    the fitted power law with the band its seed-bootstrap interval of the slope spans (pivoted at
    the centre of the data), and the slope of the largest stable rate (the theorems) through the
    same centre (grey).

    ``predicts``: whether the theorems predict the plotted quantity (the stability edge) or the
    grey line is only a comparison (the loss-optimal rate, which the theorems bound but do not
    predict); the legend says which. ``from_width``: also draw the fit over widths >= it (dotted).
    """
    for offset, (init, values) in zip((-0.04, 0.04), tables.items(), strict=False):
        color = INIT_COLORS.get(init, OKABE_ITO[0])
        label = INIT_LABELS.get(init, init)
        means = seed_points(ax, widths, values, color, offset)
        if np.isfinite(means).sum() < 3 or values.shape[1] < 2:
            continue
        fit = bootstrap_exponent(widths, values)
        grid, through = power_law_band(ax, widths, means, fit.ci, color)
        predicted = theory.predicted_rate_exponent(ADAM_LAYER, init)
        claim = f" (theory $n^{{{predicted}}}$)" if predicts else ""
        ax.plot(
            grid,
            through(fit.value),
            "-",
            color=color,
            lw=1.6,
            label=f"{label}: ${symbol} \\propto n^{{{fit.value:.2f}}}$ "
            f"[{fit.ci[0]:.2f}, {fit.ci[1]:.2f}], all widths{claim}",
        )
        upper = widths >= from_width if from_width is not None else np.zeros_like(widths, bool)
        if upper.sum() >= 3 and np.isfinite(means[upper]).sum() >= 3:
            part = bootstrap_exponent(widths[upper], values[upper])
            span = np.geomspace(widths[upper].min(), widths[upper].max(), 50)
            has = upper & np.isfinite(means)
            centre_x, centre_y = np.log(widths[has]).mean(), np.log(means[has]).mean()
            ax.plot(
                span,
                np.exp(centre_y + part.value * (np.log(span) - centre_x)),
                ":",
                color=color,
                lw=2.0,
                label=f"{label}: ${symbol} \\propto n^{{{part.value:.2f}}}$ "
                f"[{part.ci[0]:.2f}, {part.ci[1]:.2f}], n ≥ {int(from_width)}",
            )
        what = "theory" if predicts else "largest stable rate's slope (theorems), for comparison"
        ax.plot(
            grid,
            through(predicted),
            REFERENCE_STYLES.get(str(predicted), "--"),
            color="0.35",
            lw=1.1,
            label=f"{what}: $n^{{{predicted}}}$ (through {label}'s data)",
        )


def _seed_legend(ax, n_seeds: int) -> None:
    handles, labels = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], marker="o", ls="", color="0.4", ms=3.5, alpha=0.6),
        Line2D([], [], marker="o", ls="", color="0.4", ms=7, mec="white"),
        Patch(color="0.5", alpha=0.3),
    ]
    labels += [
        f"one seed ({n_seeds} per width)",
        "geometric mean over seeds",
        "95% seed-bootstrap interval of the slope",
    ]
    # Below the axes, not over them (with eight or more entries no corner of the plot is empty),
    # and to the left, clear of the provenance footer on the right.
    ax.figure.legend(handles, labels, fontsize=7, loc="outside lower left", ncol=1)


def plot_optimal_rates(results: xr.Dataset, *, loss: str = "train_loss") -> Figure:
    """Initialization paper, Figure 2: optimal learning rate against width, both inits.

    Each seed's optimum is the parabola vertex in log η through its three best grid points
    (``interpolated_optimum``); an optimum on the grid's edge is a bound and is not drawn (the
    title counts them). Per init: the per-seed points, their geometric mean per width, the fitted
    power law over all widths with its seed-bootstrap band, the fit over n >= 2^9 (the range of the
    paper's claim E2(b)), and the largest stable rate's slope as a grey comparison line.
    """
    tables = data.figure2_seed_optima(results, loss)
    widths = np.asarray(results["width"].values, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(7.2, 7.6), layout="constrained")
    # The theorems bound the largest stable rate, not the loss optimum: the grey lines compare.
    _seed_scaling(ax, widths, tables, "\\eta^*", predicts=False, from_width=512)
    _width_axis(ax, widths.astype(int))
    ax.set_yscale("log")
    ax.set_ylabel(f"optimal learning rate $\\eta^*$ (per seed, {loss.replace('_', ' ')})")
    bounds = sum(int(np.isnan(v).sum()) for v in tables.values())
    plural = "optimum" if bounds == 1 else "optima"
    note = f"\n{bounds} seed {plural} on a grid edge (a bound) not drawn" if bounds else ""
    ax.set_title(f"Optimal learning rate against width (teacher-student, AdamW){note}", fontsize=10)
    _seed_legend(ax, results.sizes["seed"])
    ax.grid(True, which="major", alpha=0.3)
    _footer(fig, results)
    return fig


def plot_stability_edge(results: xr.Dataset, *, level: float | None = None) -> Figure:
    """The stability edge η_edge(n): the first rate at which max_t RMS(Z_B) reaches ``level``
    (default ``toymodels.analysis._edge.DEFAULT_LEVEL``), per seed, both inits, with the fitted
    power laws, their seed-bootstrap bands and the theory's slopes."""
    from toymodels.analysis._edge import DEFAULT_LEVEL

    level = DEFAULT_LEVEL if level is None else level
    tables = data.edge_seed_rates(results, level)
    widths = np.asarray(results["width"].values, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(7.2, 7.2), layout="constrained")
    _seed_scaling(ax, widths, tables, "\\eta_{edge}", predicts=True)
    _width_axis(ax, widths.astype(int))
    ax.set_yscale("log")
    horizon = int(results["step"][-1])
    ax.set_ylabel(
        f"$\\eta_{{edge}}$: first rate with $\\max_{{t\\leq {horizon}}}$ RMS$(Z_B) \\geq {level:g}$"
    )
    missing = sum(int(np.isnan(v).sum()) for v in tables.values())
    note = f"; {missing} seeds not bracketed" if missing else ""
    ax.set_title(f"Stability edge against width (teacher-student, AdamW{note})", fontsize=10)
    _seed_legend(ax, results.sizes["seed"])
    ax.grid(True, which="major", alpha=0.3)
    _footer(fig, results)
    return fig


def default_norm_widths(results: xr.Dataset) -> tuple[int, ...]:
    """Figure 3's widths: 128 and 8192 when present, else the smallest and largest in the store."""
    widths = [int(w) for w in results.width.values]
    paper = [w for w in (128, 8192) if w in widths]
    return tuple(paper) if len(paper) == 2 else tuple(sorted({min(widths), max(widths)}))


def plot_feature_norms(results: xr.Dataset, *, widths=None) -> Figure:
    """Initialization paper, Figure 3: N⁻¹Σᵢ‖Z_A(xᵢ)‖ and N⁻¹Σᵢ‖Z_B(xᵢ)‖ against step.

    One row per width, columns Z_A and Z_B; both inits in every panel (colours), one line per seed
    (line styles), each (init, width) at its optimal rate. Panel titles give each init's rate and
    seed-mean final train loss.
    """
    data.require(results, "norm_Z_A", "norm_Z_B", "train_loss")
    widths = tuple(widths) if widths is not None else default_norm_widths(results)
    inits = [str(i) for i in results.init.values]
    fig, axes = plt.subplots(
        len(widths), 2, figsize=(10, 3.3 * len(widths)), squeeze=False, layout="constrained"
    )
    steps = results.step.values
    # A line style per seed while they are few enough to tell apart; beyond, thin lines alike.
    styled = results.sizes["seed"] <= len(SEED_STYLES)
    for row, width in enumerate(widths):
        cells = {init: data.cell_at_optimum(results, init, width) for init in inits}
        window = data.analysis_window(results)
        over = f" (mean of the last {window} steps)" if window > 1 else ""
        summary = "\n".join(
            f"{INIT_LABELS.get(i, i)}: $\\eta$ = {_sci(float(c.eta_A))}, train loss "
            f"{_sci(float(data.loss_at(c, 'train_loss')))}{over}"
            for i, c in cells.items()
        )
        for col, name in enumerate(("norm_Z_A", "norm_Z_B")):
            ax = axes[row, col]
            for init, cell in cells.items():
                for s, seed in enumerate(cell.seed.values):
                    ax.plot(
                        steps,
                        cell[name].sel(seed=seed).values,
                        SEED_STYLES[s] if styled else "-",
                        color=INIT_COLORS.get(init, OKABE_ITO[0]),
                        lw=1.4 if styled else 0.8,
                        alpha=1.0 if styled else 0.6,
                    )
            symbol = name.removeprefix("norm_")
            ax.set_yscale("log")
            ax.set_xlabel("training step $t$")
            ax.set_ylabel(f"$N^{{-1}}\\sum_i \\|{symbol}(x_i)\\|$")
            ax.set_title(f"$n = {width}$, $|{symbol}|$\n{summary}", fontsize=8.5, loc="left")
            ax.grid(True, alpha=0.3)
    # The inits are told apart by colour only: a colour patch, not a line that is never drawn.
    handles = [Patch(color=INIT_COLORS.get(i, OKABE_ITO[0])) for i in inits]
    labels = [f"{INIT_LABELS.get(i, i)} (colour)" for i in inits]
    if styled:
        for s, seed in enumerate(results.seed.values):
            handles.append(Line2D([], [], color="0.3", ls=SEED_STYLES[s]))
            labels.append(f"seed {int(seed)}")
    else:
        handles.append(Line2D([], [], color="0.3", lw=0.8, alpha=0.6))
        labels.append(f"one line per seed ({results.sizes['seed']} seeds)")
    fig.legend(handles, labels, loc="outside upper center", ncols=len(labels), fontsize=9)
    _footer(fig, results)
    return fig


def _edges(axis: np.ndarray) -> np.ndarray:
    """Cell edges for a log-spaced axis (geometric midpoints, one half-step beyond each end)."""
    log = np.log10(axis)
    step = np.diff(log).mean() if log.size > 1 else 1.0
    mid = (log[1:] + log[:-1]) / 2
    return 10 ** np.concatenate([[log[0] - step / 2], mid, [log[-1] + step / 2]])


#: The heatmap's colour scale ends at this quantile of the finite losses of a panel (losses above
#: it share the top colour), so the stable region's variation is not spent on the unstable edge.
COLOR_QUANTILE = 0.75


def plot_rate_heatmaps(results: xr.Dataset, *, steps=(10, 200)) -> Figure:
    """LoRA+ Figure 2 (top), robust to one seed: loss over the (η_A, η_B) grid at two steps, and
    the fraction of seeds diverged.

    x is η_A (the rate of A, r × n), y is η_B (the rate of B, n × r). Rows 1-2: train and test
    loss, the seed median over the seeds that trained (grey where more than half diverged),
    colours clipped at the :data:`COLOR_QUANTILE` quantile; the star is the optimum of that median
    rule, the diamond the optimum of the "any seed diverged ⇒ +∞" rule, "+" the pairs within 1%
    of the median rule's best; the dashed line is η_A = η_B. Row 3: the fraction of seeds
    diverged by each step.
    """
    last = int(results.step.values[-1])
    steps = tuple(min(int(s), last) for s in steps)
    fig, axes = plt.subplots(
        3, len(steps), figsize=(5.4 * len(steps), 12.0), squeeze=False, layout="constrained"
    )
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.8", over="#fde725")
    n_seeds = results.sizes["seed"]
    for col, step in enumerate(steps):
        for row, loss in enumerate(("train_loss", "test_loss")):
            ax = axes[row, col]
            grids = hs.seed_grids(results, loss, step)
            median = hs.median_loss(grids)
            finite = np.isfinite(median)
            values = np.ma.masked_where(~finite, median)
            norm = None
            if finite.any():
                top = float(np.quantile(median[finite], COLOR_QUANTILE))
                norm = LogNorm(vmin=float(median[finite].min()), vmax=top)
            mesh = ax.pcolormesh(
                _edges(grids.eta_A), _edges(grids.eta_B), values, cmap=cmap, norm=norm
            )
            fig.colorbar(mesh, ax=ax, extend="max", label=f"{loss.replace('_', ' ')} (seed median)")
            best = hs.best_pair(median, grids)
            if best is not None:
                ii, jj = np.nonzero(finite & (median <= best[2] * (1 + data.NEAR_BEST)))
                ax.plot(
                    grids.eta_A[jj],
                    grids.eta_B[ii],
                    "+",
                    color="white",
                    ms=7,
                    mew=2,
                    zorder=3,
                    path_effects=[patheffects.withStroke(linewidth=3.5, foreground="black")],
                )
                # A hollow star above the "+" marks: the best cell's own "+" shows through it.
                ax.plot(
                    [best[0]],
                    [best[1]],
                    "*",
                    mec=BEST_COLOR,
                    mfc="none",
                    mew=1.6,
                    ms=21,
                    zorder=4,
                )
            any_best = hs.best_pair(hs.any_diverged_loss(grids), grids)
            if any_best is not None:
                ax.plot(
                    [any_best[0]], [any_best[1]], "D", mec=OKABE_ITO[5], mfc="none", ms=11, mew=2
                )
            ax.set_title(
                f"{loss.replace('_', ' ')} at $t = {step}$ (colours clipped at the "
                f"{COLOR_QUANTILE:.0%} quantile)",
                fontsize=10,
            )
        ax = axes[2, col]
        fraction = hs.diverged_fraction(hs.seed_grids(results, "train_loss", step))
        mesh = ax.pcolormesh(
            _edges(grids.eta_A), _edges(grids.eta_B), fraction, cmap="Greys", vmin=0, vmax=1
        )
        fig.colorbar(mesh, ax=ax, label=f"fraction of the {n_seeds} seeds diverged")
        ax.set_title(f"seeds diverged by $t = {step}$")
    for ax in axes.flat:
        ax.set_xscale("log")
        ax.set_yscale("log")
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        ax.plot([max(x0, y0), min(x1, y1)], [max(x0, y0), min(x1, y1)], "--", color=EQUAL_COLOR)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel(r"$\eta_A$ (learning rate of $A \in \mathbb{R}^{r\times n}$)")
        ax.set_ylabel(r"$\eta_B$ (learning rate of $B \in \mathbb{R}^{n\times r}$)")
    handles = [
        Line2D([], [], marker="+", ls="", color="white", mec="black", ms=7, mew=2),
        Line2D([], [], marker="*", ls="", mec=BEST_COLOR, mfc="none", mew=1.6, ms=14),
        Line2D([], [], marker="D", ls="", mec=OKABE_ITO[5], mfc="none", ms=9, mew=2),
        Line2D([], [], ls="--", color=EQUAL_COLOR, lw=2),
        Patch(color="0.8"),
    ]
    labels = [
        "within 1% of the best seed-median loss",
        "best pair (seed median, diverged seeds left out)",
        'best pair ("any seed diverged ⇒ +∞")',
        r"$\eta_A = \eta_B$",
        "more than half of the seeds diverged",
    ]
    fig.legend(handles, labels, loc="outside upper center", ncols=3, fontsize=9)
    _footer(fig, results)
    return fig


def plot_loss_curves(results: xr.Dataset, *, select_by: str = "test_loss") -> Figure:
    """LoRA+ Figure 2 (bottom): loss against step at the best pair with η_B > η_A and at the best
    equal pair, every seed (thin) and the seed median (thick).

    Both pairs are chosen by the seed-median ``select_by`` at the last step over the seeds that
    trained (pairs where at most half diverged). The title says when the overall best pair is the
    equal pair (the two curves then compare the best pair with the best one above the diagonal).
    """
    grids = hs.seed_grids(results, select_by)
    median = hs.median_loss(grids)
    above = hs.best_pair(median, grids, hs.above_diagonal(grids))
    equal = hs.best_pair(median, grids, hs.on_diagonal(grids))
    overall = hs.best_pair(median, grids)
    pairs = [
        (r"best pair with $\eta_B > \eta_A$", above, BEST_COLOR),
        ("best equal pair", equal, EQUAL_COLOR),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 5.0), layout="constrained")
    steps = results.step.values
    fraction = hs.diverged_fraction(grids)
    for ax, loss in zip(axes, ("train_loss", "test_loss"), strict=True):
        top = 0.0
        for label, pair, color in pairs:
            if pair is None:
                continue
            cell = data.select_pair(results, pair[0], pair[1])
            runs = cell[loss].squeeze(drop=True).transpose("seed", "step").values
            runs = np.where(np.isfinite(runs), runs, np.nan).astype(np.float64)
            trained = cell["diverged_step"].squeeze(drop=True).values < 0
            for seed_run in runs[trained]:
                ax.plot(steps, seed_run, "-", color=color, lw=0.7, alpha=0.45)
            median = np.nanmedian(runs[trained], axis=0)
            top = max(top, float(np.nanmax(median)))
            i = int(np.argmin(np.abs(np.log(grids.eta_B / pair[1]))))
            j = int(np.argmin(np.abs(np.log(grids.eta_A / pair[0]))))
            ax.plot(
                steps,
                median,
                "-",
                color=color,
                lw=2.2,
                label=f"{label}: $(\\eta_A, \\eta_B)$ = ({_sci(pair[0])}, {_sci(pair[1])}); "
                f"{fraction[i, j] * grids.seeds.size:.0f} of {grids.seeds.size} seeds "
                "diverged (not drawn)",
            )
        ax.set_yscale("log")
        if top > 0:
            ax.set_ylim(top=2 * top)
        ax.set_xlabel("training step $t$")
        ax.set_ylabel(f"{loss.replace('_', ' ')} (thin: each trained seed; thick: median)")
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=1, fontsize=9)
    note = ""
    if overall is not None and equal is not None and np.allclose(overall[:2], equal[:2]):
        note = "\nthe overall best pair is the equal pair: η_B > η_A does not win here"
    elif overall is not None and above is not None and np.allclose(overall[:2], above[:2]):
        note = "\nthe overall best pair is the η_B > η_A pair shown"
    fig.suptitle(
        f"LoRA+ toy MLP: pairs chosen by the seed-median {select_by.replace('_', ' ')} at the "
        f"last step ({grids.seeds.size} seeds){note}"
    )
    _footer(fig, results)
    return fig


def save_figure(fig: Figure, stem: str | Path, *, close: bool = True) -> tuple[Path, Path]:
    """Write ``stem.png`` (200 dpi) and ``stem.pdf``; returns both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = (stem.with_suffix(".png"), stem.with_suffix(".pdf"))
    fig.savefig(paths[0], dpi=200)
    fig.savefig(paths[1], metadata={"Creator": "lora-width-scaling"})
    if close:
        plt.close(fig)
    return paths


# --- All figures at once ---------------------------------------------------------------------

#: Output file stems, by figure. The stems are the names under figures/ and in docs/reproduction.md.
FIGURE_STEMS = {
    "figure2": ("init_fig2_optimal_lr",),
    "figure3": ("init_fig3_feature_norms",),
    "heatmap": ("loraplus_fig2_heatmaps", "loraplus_fig2_curves"),
    "edge": ("stability_edge",),
    "wide": ("running_exponents",),
}
#: Figures drawn from the Figure-2 store, with the wide store when there is one.
HORIZON_STEM = "optimum_vs_horizon"
#: Theory models whose phase diagrams (``theory``'s, both inits) are drawn beside the data figures.
PHASE_MODELS = ("adam", "gd-linear")


def phase_diagrams(out: Path) -> list[Path]:
    """The calculator's phase diagrams (``theory``), PNG and PDF, one file pair per model."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        plot_phase_diagram(model, out / f"phase_{model.replace('-', '_')}.{ext}")
        for model in PHASE_MODELS
        for ext in ("png", "pdf")
    ]


def make_figures(stores: dict, out: Path, *, phase: bool = False) -> list[Path]:
    """Draw every figure the given stores allow (and the phase diagrams with ``phase``).

    Returns the files written (PNG, PDF pairs).
    """
    draw = {
        "init_fig2_optimal_lr": lambda: plot_optimal_rates(stores["figure2"]),
        "init_fig3_feature_norms": lambda: plot_feature_norms(stores["figure3"]),
        "loraplus_fig2_heatmaps": lambda: plot_rate_heatmaps(stores["heatmap"]),
        "loraplus_fig2_curves": lambda: plot_loss_curves(stores["heatmap"]),
        "stability_edge": lambda: plot_stability_edge(stores["edge"]),
        "running_exponents": lambda: _horizon_figures().plot_running_exponents(stores["wide"]),
    }
    written: list[Path] = []
    for store in FIGURE_STEMS:
        if store in stores:
            for stem in FIGURE_STEMS[store]:
                written.extend(save_figure(draw[stem](), out / stem))
    if "figure2" in stores:
        figure = _horizon_figures().plot_optimum_vs_horizon(stores["figure2"], stores.get("wide"))
        written.extend(save_figure(figure, out / HORIZON_STEM))
    if phase:
        written.extend(phase_diagrams(out))
    return written


def _horizon_figures():
    # imported when drawn: the horizon figures import this module's helpers
    from toymodels.reproduce import _horizon_figures

    return _horizon_figures
