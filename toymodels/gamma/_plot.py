"""The coordinate-check figure: RMS against width, log-log, with the predicted slope.

One panel per (quantity, compared step): the per-seed measured RMS as points, and a line of the
predicted slope drawn through the geometric mean of the points (so only the slope is a
prediction, not the prefactor). A quantity predicted to be exactly zero gets a panel that says
whether it was.
"""

from __future__ import annotations

import textwrap

import numpy as np

import theory
from theory.style import INIT_COLORS
from toymodels.gamma._report import CoordCheckReport

_PASS_COLOR, _FAIL_COLOR = "#000000", "#CC79A7"


def plot_coordcheck(report: CoordCheckReport, path) -> None:
    """Save the figure of ``report`` to ``path`` (format from the suffix: .png, .pdf, .svg).

    A bare :class:`~matplotlib.figure.Figure`, not pyplot: saving needs no GUI backend, and a
    notebook's or a script's backend is never switched. matplotlib is imported here, not with the
    package: the project runs (and its GPU check imports it) without matplotlib until a figure is
    drawn.
    """
    from matplotlib.figure import Figure

    quantities, steps = report.quantities, report.compared_steps
    cells = {(c.quantity, c.step): c for c in report.checks}
    widths = np.asarray(report.measurement.widths, dtype=np.float64)
    color = INIT_COLORS.get(report.setting["init"], INIT_COLORS["AB"])
    fig = Figure(
        figsize=(2.3 * len(quantities) + 0.6, 2.1 * len(steps) + 0.8), layout="constrained"
    )
    axes = fig.subplots(len(steps), len(quantities), squeeze=False)
    for row, step in enumerate(steps):
        for col, quantity in enumerate(quantities):
            ax = axes[row, col]
            check = cells[(quantity, step)]
            rms = report.measurement.rms[quantity][:, :, step]  # [W, S]
            ax.set_xscale("log", base=2)
            ax.set_title(f"{quantity}, t = {step}", fontsize=9)
            if row == len(steps) - 1:
                ax.set_xlabel("width n", fontsize=8)
            if col == 0:
                ax.set_ylabel("per-coordinate RMS", fontsize=8)
            ax.tick_params(labelsize=7)
            positive = np.isfinite(rms) & (rms > 0)
            if not positive.any():
                ax.set_xlim(widths[0] / 1.5, widths[-1] * 1.5)
                ax.set_yticks([])
                what = "exactly 0" if np.all(rms == 0) else "not finite"
                ax.text(
                    0.5,
                    0.5,
                    f"predicted {theory.format_exponent(check.predicted)}\nmeasured {what}",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=8,
                    color=_PASS_COLOR if check.passed else _FAIL_COLOR,
                )
                continue
            ax.set_yscale("log")
            x = np.broadcast_to(widths[:, None], rms.shape)
            ax.plot(x[positive], rms[positive], "o", ms=3, alpha=0.6, color=color, mec="none")
            if check.predicted != theory.NEG_INF and positive.all():
                log_x, log_y = np.log(x), np.log(rms)
                anchor = log_y.mean() - float(check.predicted) * log_x.mean()
                ax.plot(
                    widths,
                    np.exp(anchor + float(check.predicted) * np.log(widths)),
                    "-",
                    lw=1.2,
                    color="0.2",
                )
            label = f"pred {theory.format_exponent(check.predicted)}"
            if check.measured is not None:
                label += f"\nmeas {check.measured:+.2f}"
            elif check.note:  # e.g. some runs diverged: say so on the panel
                label += "\n" + textwrap.fill(check.note, 28)
            ax.text(
                0.03,
                0.97,
                label,
                ha="left",
                va="top",
                transform=ax.transAxes,
                fontsize=7,
                color=_PASS_COLOR if check.passed else _FAIL_COLOR,
            )
    setting = report.setting
    fig.suptitle(
        f"{setting['model']}, Init[{setting['init']}], "
        f"η_A ∝ n^({setting['eta_A_exponent']}), η_B ∝ n^({setting['eta_B_exponent']}): "
        f"{'PASS' if report.passed else 'FAIL'} at ±{setting['tolerance']:g}",
        fontsize=10,
    )
    fig.savefig(path, dpi=130)
