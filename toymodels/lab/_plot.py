"""The width-check figure of a user's model: per quantity and step, every LoRA layer against width.

In the style of the built-in coordcheck figure (``toymodels.gamma.plot_coordcheck``): log-log
panels of per-coordinate RMS against width, one row per quantity (Z_A, Z_B, ΔZ_A, ΔZ_B), one
column per compared step; here each panel holds one line per LoRA layer (the geometric mean over
seeds, seeds as faint points), and the predicted slope as a dashed line through the geometric
mean of all layers (only the slope is a prediction). The panel's text gives the prediction and how
many layers pass; a layer that fails is drawn with open markers.
"""

from __future__ import annotations

import numpy as np

import theory
from toymodels.gamma._report import CoordCheckReport
from toymodels.lab._check import by_layer

_PASS_COLOR, _FAIL_COLOR = "#000000", "#CC79A7"
_LABELS = {"Z_A": "Z_A", "Z_B": "Z_B", "dZ_A": "ΔZ_A", "dZ_B": "ΔZ_B"}


def plot_model_check(report: CoordCheckReport, path, *, title: str | None = None) -> None:
    """Save the figure of a model check (``toymodels.lab.check_model``) to ``path``; ``title``
    replaces the setting's description, the pass count is always added."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    table = by_layer(report)
    layers = list(table)
    quantities = [q for q in _LABELS if q in next(iter(table.values()))]
    steps = report.compared_steps
    widths = np.asarray(report.measurement.widths, dtype=np.float64)
    cmap = colormaps["viridis"]
    colors = {layer: cmap(i / max(1, len(layers) - 1) * 0.9) for i, layer in enumerate(layers)}
    fig = Figure(
        figsize=(2.6 * len(steps) + 2.4, 2.0 * len(quantities) + 0.8), layout="constrained"
    )
    axes = fig.subplots(len(quantities), len(steps), squeeze=False)
    for row, quantity in enumerate(quantities):
        for col, step in enumerate(steps):
            ax = axes[row, col]
            ax.set_xscale("log", base=2)
            ax.set_title(f"{_LABELS[quantity]}, t = {step}", fontsize=9)
            ax.tick_params(labelsize=7)
            if row == len(quantities) - 1:
                ax.set_xlabel("width n", fontsize=8)
            if col == 0:
                ax.set_ylabel("per-coordinate RMS", fontsize=8)
            checks = [table[layer][quantity][step] for layer in layers]
            predicted = checks[0].predicted
            n_pass = sum(c.passed for c in checks)
            text = f"pred {theory.format_exponent(predicted)}; {n_pass}/{len(checks)} pass"
            logs = []
            for layer, check in zip(layers, checks, strict=True):
                rms = report.measurement.rms[f"{layer}:{quantity}"][:, :, step]  # [W, S]
                good = np.isfinite(rms) & (rms > 0)
                if not good.all():
                    continue
                mean = np.exp(np.log(rms).mean(axis=1))
                logs.append(np.log(mean))
                x = np.broadcast_to(widths[:, None], rms.shape)
                ax.plot(x.ravel(), rms.ravel(), ".", ms=2, alpha=0.3, color=colors[layer])
                ax.plot(widths, mean, "-o", ms=3, lw=1, color=colors[layer],
                        mfc=colors[layer] if check.passed else "white", label=layer)  # fmt: skip
            if logs and predicted != theory.NEG_INF:
                ax.set_yscale("log")
                log_mean = np.mean(logs)
                anchor = log_mean - float(predicted) * np.log(widths).mean()
                ax.plot(widths, np.exp(anchor + float(predicted) * np.log(widths)), "--",
                        lw=1.4, color="0.2", label="predicted slope")  # fmt: skip
            elif logs:
                ax.set_yscale("log")
            else:
                ax.set_yticks([])
                zero = all(c.note == "exactly zero" for c in checks)
                text += "\nmeasured " + ("exactly 0" if zero else "not finite or partly 0")
            ax.text(0.03, 0.97, text, ha="left", va="top", transform=ax.transAxes, fontsize=7,
                    color=_PASS_COLOR if n_pass == len(checks) else _FAIL_COLOR)  # fmt: skip
    handles, labels = [], []
    for ax in axes.ravel():
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    fig.legend(handles, labels, loc="outside right center", fontsize=7, title="LoRA layer",
               title_fontsize=8)  # fmt: skip
    s = report.setting
    title = title or (
        f"{s['model']}: Init[{s['init']}], {s['optimizer']}, η_A ∝ n^({s['eta_A_exponent']}), "
        f"η_B ∝ n^({s['eta_B_exponent']}), {len(s['seeds'])} seeds"
    )
    fig.suptitle(
        f"{title}: {sum(c.passed for c in report.checks)}/{len(report.checks)} cells pass at "
        f"±{s['tolerance']:g} (open marker: layer fails)",
        fontsize=9,
    )
    fig.savefig(path, dpi=100)


__all__ = ["plot_model_check"]
