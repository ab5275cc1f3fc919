"""The rank-scaling figure: the stability edge and the optimal rate against the LoRA rank r.

Drawn from a rank sweep's summary (``toymodels.analysis._rank.summarize_rank``), so the
figure shows exactly the numbers the report prints: one column per multiplier s, one row per
measure (edge, optimum); in each panel both inits, every seed's value (small points), the
geometric mean per rank (large points), the fitted r^b with the band its seed-bootstrap interval
spans, the calculator's slope (grey dashes) and the named alternatives (grey dots), all through
the centre of the data. Colours: ``theory.style.INIT_COLORS``; a grey footer names the
experiment, preset and device.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from theory.style import INIT_COLORS, OKABE_ITO
from toymodels.core import INIT_LABELS
from toymodels.reproduce._figures import _footer, power_law_band, seed_points

_MEASURES = {"edge": "stability edge $\\eta_{edge}$", "optimum": "optimal rate $\\eta^*$"}


def _fraction(text: str) -> float:
    from fractions import Fraction

    return float(Fraction(text))


def _panel(ax, lines: list[dict], measure: str) -> None:
    for offset, line in zip((-0.05, 0.05), lines, strict=False):
        init = line["init"]
        color = INIT_COLORS.get(init, OKABE_ITO[0])
        xs = np.asarray(line["x"], dtype=float)
        values = np.array(
            [[np.nan if v is None else v for v in row] for row in line[measure]["per_seed"]]
        )
        means = seed_points(ax, xs, values, color, offset, size=3)
        fit = line[measure]["fit"]
        if fit is None or np.isfinite(means).sum() < 2:
            continue
        grid, through = power_law_band(ax, xs, means, fit["ci"], color)
        label = INIT_LABELS.get(init, init)
        interval = f"[{fit['ci'][0]:+.2f}, {fit['ci'][1]:+.2f}]"
        ax.plot(grid, through(fit["value"]), "-", color=color, lw=1.5,
                label=f"{label}: $r^{{{fit['value']:+.2f}}}$ {interval}, "
                f"theory $r^{{{line['predicted']}}}$")  # fmt: skip
        ax.plot(grid, through(_fraction(line["predicted"])), "--", color=color, lw=1,
                label=f"{label}, calculator: $r^{{{line['predicted']}}}$ (dashed)")  # fmt: skip
        for name, value in line["alternatives"].items():
            if name == "per-coordinate":
                ax.plot(grid, through(_fraction(value)), ":", color=color, lw=1.3,
                        label=f"{label}, per-coordinate reading: $r^{{{value}}}$")  # fmt: skip


def plot_rank_scaling(summary: dict, results) -> Figure:
    """Edge and optimum against r at the fixed width, one column per multiplier."""
    rank_lines = [line for line in summary["lines"] if line["against"] == "rank"]
    multipliers = list(dict.fromkeys(line["multiplier"] for line in rank_lines))
    fig, axes = plt.subplots(
        2, len(multipliers), figsize=(5.2 * len(multipliers), 8), layout="constrained",
        squeeze=False, sharex=True,
    )  # fmt: skip
    for col, s in enumerate(multipliers):
        lines = [line for line in rank_lines if line["multiplier"] == s]
        for row, measure in enumerate(_MEASURES):
            ax = axes[row, col]
            _panel(ax, lines, measure)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log", base=2)
            ranks = lines[0]["x"]
            ax.set_xticks(ranks, [f"$2^{{{int(np.log2(r))}}}$" for r in ranks])
            ax.set_title(f"{_MEASURES[measure]}, multiplier $\\alpha\\, r^{{-{s}}}$", fontsize=10)
            ax.set_ylabel("learning rate (log scale)")
            if row == 1:
                ax.set_xlabel(f"rank $r$ at width $n = {lines[0]['width']}$")
            ax.legend(fontsize=6.5, loc="best")
    optimizer = "Adam" if summary["theory_model"] == "adam" else "gradient descent"
    fig.suptitle(
        f"Rates against the LoRA rank ({summary['model']}, {optimizer}; edge: first rate with "
        f"max$_{{t\\leq {summary['steps']}}}$ RMS({summary['feature']}) "
        f"$\\geq {summary['level']:g}$; "
        f"{len(summary['seeds'])} seeds, 95% seed-bootstrap bands)",
        fontsize=10,
    )
    _footer(fig, results)
    return fig
