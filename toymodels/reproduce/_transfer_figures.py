"""The rate-transfer figure: each rule's penalty against the target width.

One panel per (family, init, horizon): the penalty L(transferred)/L(width's own best) on a log
axis against the target width; per rule the geometric mean over seeds (line), its 95 % bootstrap
interval (band) and every seed (points, nudged sideways per rule so they do not hide each other).
A penalty of 1 (dotted) means the rule found the width's own optimum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: One colour per rule (Okabe-Ito, in the order the summary lists them).
RULE_COLORS = {
    "none": "#000000",
    "edge": "#0072B2",
    "loraplus": "#009E73",
    "measured": "#D55E00",
    "loraplus-fixed": "#CC79A7",
}
FAMILY_TITLES = {"equal": "equal rates η_A = η_B", "pair": "LoRA+ pairs η_B = 16 η_A"}


def plot_transfer(summary: dict, out) -> list[Path]:
    """Draw ``summary`` (``summarize_transfer``) to ``out`` (.png and .pdf); return the paths."""
    import matplotlib.pyplot as plt

    inits = sorted({r["init"] for r in summary["penalties"]})
    families = [f for f in summary["rules"] if any(r["family"] == f for r in summary["penalties"])]
    horizons = summary["horizons"]
    columns = [(i, t) for i in inits for t in horizons]
    size = (3.2 * len(columns), 3.0 * len(families))
    fig, axes = plt.subplots(
        len(families), len(columns), figsize=size, sharex=True, sharey=True, squeeze=False
    )
    for row, family in enumerate(families):
        rules = summary["rules"][family]
        for col, (init, t) in enumerate(columns):
            ax = axes[row][col]
            for k, rule in enumerate(rules):
                picked = [
                    r for r in summary["penalties"]
                    if (r["family"], r["init"], r["horizon"], r["rule"]) == (family, init, t, rule)
                ]  # fmt: skip
                if not picked:
                    continue
                widths = np.array([r["width"] for r in picked], dtype=float)
                color = RULE_COLORS[rule]
                label = rule if col == 0 else None
                ax.plot(widths, [r["penalty"] for r in picked], "-", color=color, label=label)
                ax.fill_between(widths, [r["ci"][0] for r in picked], [r["ci"][1] for r in picked],
                                color=color, alpha=0.15, linewidth=0)  # fmt: skip
                nudge = 2.0 ** (0.06 * (k - (len(rules) - 1) / 2))
                for r in picked:
                    seeds = np.asarray(r["per_seed"], dtype=float)
                    ax.plot(np.full(seeds.size, r["width"] * nudge), seeds, ".", color=color,
                            markersize=3, alpha=0.6)  # fmt: skip
            ax.axhline(1.0, color="0.5", linestyle=":", linewidth=1)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_title(f"Init[{init}], T = {t}", fontsize=9)
            if col == 0:
                ax.set_ylabel(f"{FAMILY_TITLES[family]}\npenalty", fontsize=9)
                ax.legend(fontsize=7, loc="upper left")
            if row == len(families) - 1:
                ax.set_xlabel("target width n")
    n0 = summary["base_width"]
    preset = f" ({summary['preset']})" if summary.get("preset") else ""
    fig.suptitle(f"Rate transfer from n0 = {n0}, {summary['model']}{preset}: loss at the "
                 "transferred rates / the width's own best\nlines: geometric mean over seeds; "
                 "bands: 95% bootstrap interval; points: seeds", fontsize=10)  # fmt: skip
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in (".png", ".pdf"):
        path = out.with_suffix(suffix)
        fig.savefig(path, dpi=150)
        paths.append(path)
    plt.close(fig)
    return paths
