"""Phase diagrams over (γ[η_A], γ[η_B]): the exact regimes of a model, for both inits.

``phase_regimes`` is pure (exact regions); ``plot_phase_diagram`` draws them with matplotlib,
imported only here, lazily.

>>> [r.label for r in phase_regimes("adam", "A")]
['unstable', 'internal instability', 'stable', 'feature learning', 'efficient']
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

from theory._exponent import ExponentError
from theory._models import resolve_model
from theory._predict import derive
from theory._region import Region, compare
from theory._spec import Model
from theory.style import INIT_COLORS, REGIME_COLORS

__all__ = ["BOX", "LORA_PLUS_POINT", "Regime", "phase_regimes", "plot_phase_diagram"]

#: Plotted window (x0, x1, y0, y1) of (γ[η_A], γ[η_B]).
BOX = (Fraction(-2), Fraction(1), Fraction(-2), Fraction(1))
#: LoRA+'s recommendation η_A = Θ(n^{-1}), η_B = Θ(1).
LORA_PLUS_POINT = (Fraction(-1), Fraction(0))
AXES = ("eta_A", "eta_B")


class Regime(NamedTuple):
    label: str
    region: Region
    color: str
    area: bool  # a 2-D regime (shaded) or a lower-dimensional one (drawn as lines / points)
    meaning: str = ""


def phase_regimes(model: str | Model, init: str) -> list[Regime]:
    """The 2-D regimes partition the plane (growing in t, unstable, internal instability, stable);
    feature learning and efficiency are lower-dimensional and drawn on top. A model's regimes
    are those its conditions define (``stable``, ``internal_instability``, ``loraplus_stable``,
    ``feature_learning``, ``efficient``); the growth regime is its output's."""
    spec = resolve_model(model)
    d = derive(spec, init)
    missing = sorted({"stable", "feature_learning", "efficient"} - set(d.conditions))
    if missing:
        raise ExponentError(
            f"a phase diagram needs the condition {missing[0]!r}: {spec.name} has none"
        )
    c = dict(d.conditions)
    c.setdefault("loraplus_stable", c["stable"] & compare_steady(d, spec.internal))
    c.setdefault("internal_instability", c["stable"] - c["loraplus_stable"])
    grows = d.steady[spec.output].growing
    out, inner = spec.output, spec.internal
    regimes = [
        Regime("grows with t", grows, REGIME_COLORS["growing"], True, f"{out} → ∞ as t → ∞"),
        Regime(
            "unstable", ~c["stable"] - grows, REGIME_COLORS["unstable"], True, f"{out} grows with n"
        ),
        Regime(
            "internal instability",
            c["internal_instability"],
            REGIME_COLORS["internal"],
            True,
            f"{inner} grows with n, {out} = O(1)",
        ),
        Regime(
            "stable", c["loraplus_stable"], REGIME_COLORS["stable"], True, f"{inner}, {out} = O(1)"
        ),
        Regime(
            "feature learning",
            c["feature_learning"] - c["efficient"],
            REGIME_COLORS["feature_learning"],
            False,
            f"Δ{out} = Θ(1), not efficient",
        ),
        Regime("efficient", c["efficient"], REGIME_COLORS["efficient"], False, "δ¹, δ² = Θ(1)"),
    ]
    return [r for r in regimes if not r.region.is_empty()]


def compare_steady(d, quantity: str) -> Region:
    """Where ``quantity`` is O(1) in the steady state (bounded in t, exponent <= 0)."""
    s = d.steady[quantity]
    return ~s.growing & compare(s.value, "<=", 0)


def plot_phase_diagram(
    model: str | Model, out: str | Path, *, inits: tuple[str, ...] | None = None
) -> Path:
    """Write the phase diagram of ``model`` (one panel per init; default: all of the model's)
    to ``out`` (png, pdf or svg). The path is checked before anything is drawn."""
    from theory.cli import writable_file_problem

    spec = resolve_model(model)
    inits = tuple(spec.inits) if inits is None else inits
    path = Path(out)
    problem = writable_file_problem(path)
    if problem:
        raise ExponentError(f"cannot write the phase diagram to {path}: {problem}")
    for axis in AXES:
        if axis not in spec.rates:
            raise ExponentError(f"a phase diagram is drawn over {AXES}: {spec.name} has no {axis}")

    from matplotlib.figure import Figure  # lazy: the symbolic path never imports matplotlib
    from matplotlib.patches import Polygon

    fig = Figure(figsize=(5.2 * len(inits), 5.0), layout="constrained")
    axes = fig.subplots(1, len(inits), squeeze=False)[0]
    box = spec.window or BOX
    x0, x1, y0, y1 = (float(v) for v in box)
    for ax, init in zip(axes, inits, strict=True):
        for regime in phase_regimes(spec, init):
            shapes = [
                [(float(x), float(y)) for x, y in verts]
                for verts in regime.region.polygons(box, AXES)
                if verts
            ]
            if not shapes:
                continue
            if regime.area:
                # Opaque, pre-blended colour: pieces of one regime may overlap.
                face = _blend(regime.color, 0.45)
                for pts in shapes:
                    ax.add_patch(Polygon(pts, closed=True, facecolor=face, edgecolor="none"))
                largest = max(shapes, key=_area)
                cx = sum(p[0] for p in largest) / len(largest)
                cy = sum(p[1] for p in largest) / len(largest)
                ax.text(cx, cy, regime.label, ha="center", va="center", fontsize=8)
                ax.add_patch(Polygon([(0, 0)] * 3, facecolor=face, label=_legend(regime)))
            else:
                for i, pts in enumerate(shapes):
                    label = _legend(regime) if i == 0 else None
                    if len(pts) == 1:
                        ax.plot(*pts[0], "o", color=regime.color, ms=16, label=label, zorder=3)
                    else:
                        xs, ys = zip(*pts, strict=True)
                        ax.plot(xs, ys, color=regime.color, lw=3, label=label, zorder=3)
        ax.plot([x0, x1], [x0, x1], "--", color="black", lw=1, label="equal rates η_A = η_B")
        ax.plot(*(float(v) for v in LORA_PLUS_POINT), "*", mfc="white", mec="black", ms=12,
                zorder=4, label="LoRA+ (γ[η_A], γ[η_B]) = (−1, 0)")  # fmt: skip
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel("γ[η_A]")
        ax.set_ylabel("γ[η_B]")
        ax.set_title(f"{spec.name}, Init[{init}]", color=INIT_COLORS.get(init, "#000000"))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7)
        ax.set_aspect("equal")
    fig.savefig(path)
    return path


def _blend(color: str, alpha: float) -> tuple[float, float, float]:
    rgb = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return tuple(alpha * c + (1 - alpha) for c in rgb)  # type: ignore[return-value]


def _area(pts: list[tuple[float, float]]) -> float:
    n = len(pts)
    return (
        abs(
            sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n))
        )
        / 2
    )


def _legend(regime: Regime) -> str:
    return f"{regime.label} ({regime.meaning})" if regime.meaning else regime.label
