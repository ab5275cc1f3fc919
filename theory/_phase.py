"""Phase diagrams over (γ[η_A], γ[η_B]): the exact regimes of a model, for both inits.

``phase_regimes`` is pure (exact regions); ``plot_phase_diagram`` draws them with matplotlib,
imported only here, lazily.

>>> [r.label for r in phase_regimes("adam", "A")]
['unstable', 'internal instability', 'stable', 'feature learning', 'efficient']

Over the rank (docs/theory.md §12): ``rank_phase_rows`` gives, at each exact κ of a grid, the
regimes on the line of equal rates as intervals of γ[η]; ``plot_rank_phase_diagram`` draws them
over (γ[η], κ), one panel per init and multiplier exponent s.

>>> rows = rank_phase_rows("adam", "A", multiplier=0, kappas=[Fraction(1, 2)])
>>> [(r.label, [(str(lo), str(hi)) for lo, hi in r.spans]) for r in rows[0][1]][-2:]
[('stable', [('-2', '-1')]), ('efficient', [('-3/4', '-3/4')])]
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

from theory._exponent import ExponentError
from theory._expr import Expr
from theory._models import resolve_model
from theory._predict import EQUAL_RATE, derive
from theory._region import Region, compare
from theory._spec import Model
from theory.style import INIT_COLORS, REGIME_COLORS

__all__ = [
    "BOX",
    "LORA_PLUS_POINT",
    "RankBand",
    "Regime",
    "phase_regimes",
    "plot_phase_diagram",
    "plot_rank_phase_diagram",
    "rank_phase_rows",
]

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


def phase_regimes(model: str | Model, init: str, *, equal_rates: bool = False) -> list[Regime]:
    """The 2-D regimes partition the plane (growing in t, unstable, internal instability, stable);
    feature learning and efficiency are lower-dimensional and drawn on top. A model's regimes
    are those its conditions define (``stable``, ``internal_instability``, ``loraplus_stable``,
    ``feature_learning``, ``efficient``); the growth regime is its output's. ``equal_rates``:
    the same regimes on the line η_A = η_B = Θ(n^eta), as regions of ``eta``."""
    spec = resolve_model(model)
    if equal_rates:
        eta = Expr.symbol(EQUAL_RATE)
        d = derive(spec, init, eta_A=eta, eta_B=eta)
    else:
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
    aligned = c.get("feature_learning_aligned")
    if aligned is not None and aligned != c["feature_learning"]:
        # The loss-relevant update (docs/theory.md §12): drawn where it differs from per entry.
        regimes.append(
            Regime(
                "feature learning along u",
                aligned,
                REGIME_COLORS["feature_learning_aligned"],
                False,
                f"Δ{out}'s component along the loss gradient = Θ(1)",
            )
        )
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


class RankBand(NamedTuple):
    """One regime at one κ: its spans (lo, hi) of γ[η] inside the window (lo == hi: a point)."""

    label: str
    color: str
    area: bool
    spans: tuple[tuple[Fraction, Fraction], ...]


def rank_phase_rows(
    model: str | Model,
    init: str,
    *,
    multiplier: object,
    kappas: tuple[Fraction, ...] | list[Fraction],
    window: tuple[Fraction, Fraction] = (BOX[0], BOX[1]),
) -> list[tuple[Fraction, list[RankBand]]]:
    """At each κ: the equal-rate regimes (``phase_regimes(..., equal_rates=True)``) as spans of
    γ[η] clipped to ``window``."""
    lo_w, hi_w = window
    rows = []
    for kappa in kappas:
        spec = resolve_model(model, rank_exponent=kappa, multiplier=multiplier)
        bands = []
        for regime in phase_regimes(spec, init, equal_rates=True):
            spans = []
            for lo, _, hi, _ in regime.region.intervals(EQUAL_RATE):
                lo = lo_w if lo is None else max(lo, lo_w)
                hi = hi_w if hi is None else min(hi, hi_w)
                if lo <= hi:
                    spans.append((lo, hi))
            bands.append(RankBand(regime.label, regime.color, regime.area, tuple(spans)))
        rows.append((Fraction(kappa), bands))
    return rows


def plot_rank_phase_diagram(
    model: str | Model,
    out: str | Path,
    *,
    multipliers: tuple[object, ...] = ("0", "1/2", "1"),
    inits: tuple[str, ...] | None = None,
    kappa_steps: int = 24,
) -> Path:
    """Write the phase diagrams over (γ[η], κ) at equal rates, κ = k/kappa_steps in [0, 1), one
    panel per (init, s). Each regime is exact at the grid's κ; between two grid rows it is drawn
    as the band between them (exponents are piecewise affine in κ)."""
    from theory.cli import writable_file_problem

    spec = resolve_model(model)
    if "kappa" not in spec.parameter_info:
        raise ExponentError(f"{spec.name} declares no rank parameter kappa: no diagram over κ")
    inits = tuple(spec.inits) if inits is None else inits
    path = Path(out)
    problem = writable_file_problem(path)
    if problem:
        raise ExponentError(f"cannot write the phase diagram to {path}: {problem}")
    from matplotlib.figure import Figure  # lazy, as for plot_phase_diagram
    from matplotlib.patches import Polygon

    kappas = [Fraction(k, kappa_steps) for k in range(kappa_steps)]
    x0, x1 = float(BOX[0]), float(BOX[1])
    fig = Figure(figsize=(4.2 * len(multipliers), 3.8 * len(inits)), layout="constrained")
    axes = fig.subplots(len(inits), len(multipliers), squeeze=False)
    for row, init in enumerate(inits):
        for col, s in enumerate(multipliers):
            ax = axes[row][col]
            rows = rank_phase_rows(spec, init, multiplier=s, kappas=kappas)
            labelled: set[str] = set()
            for (k0, bands0), (k1, bands1) in zip(rows, [*rows[1:], (None, None)], strict=True):
                top = float(k1) if k1 is not None else float(k0) + 1 / kappa_steps
                nxt = {b.label: b for b in bands1 or []}
                for band in bands0:
                    label = None if band.label in labelled else band.label
                    labelled.add(band.label)
                    after = nxt.get(band.label)
                    pairs = (
                        zip(band.spans, after.spans, strict=True)
                        if after is not None and len(after.spans) == len(band.spans)
                        else ((sp, sp) for sp in band.spans)
                    )
                    for (lo, hi), (lo1, hi1) in pairs:
                        if band.area:
                            pts = [(float(lo), float(k0)), (float(hi), float(k0)),
                                   (float(hi1), top), (float(lo1), top)]  # fmt: skip
                            face = _blend(band.color, 0.45)
                            patch = Polygon(pts, facecolor=face, edgecolor=face, lw=0.6)
                            patch.set_label(label)
                            ax.add_patch(patch)
                        else:
                            ax.plot([float(lo), float(lo1)], [float(k0), top], color=band.color,
                                    lw=3, zorder=3, label=label)  # fmt: skip
                        label = None
            ax.set_xlim(x0, x1)
            ax.set_ylim(0, 1)
            ax.set_xlabel("γ[η] (η_A = η_B)")
            ax.set_ylabel("κ (r = Θ(n^κ))")
            ax.set_title(
                f"{spec.name}, Init[{init}], multiplier α·r^(−{s})",
                color=INIT_COLORS.get(init, "#000000"),
                fontsize=9,
            )
            ax.legend(loc="lower left", fontsize=6)
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
