"""Measured against predicted width exponents: the fit, the verdict and the report.

Pure functions over numpy arrays and exact exponents; no JAX and no training here (that is
:mod:`toymodels.gamma._measure`). A measurement is the per-coordinate RMS of each quantity at each
width, seed and step; at a step t the measured γ is the slope of log RMS against log n, fitted by
:func:`~toymodels.core.fit_power_law` with every seed an observation. The prediction is the exact
exponent from ``theory.predict(...).trajectory[t]``.

Verdict for one (quantity, step) cell, at tolerance τ:

- predicted −∞ (the quantity is exactly zero in the theory): pass iff the measured RMS is exactly
  0.0 at every width and seed. No fit is made; a tiny non-zero value fails.
- predicted finite: pass iff every run is finite and non-zero and |γ̂ − γ| ≤ τ, with γ̂ the fitted
  slope. The confidence interval is reported, not used for the verdict: with many seeds a CI
  shrinks below any finite-width bias, with few it would pass anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

import theory
from toymodels.core import fit_power_law

#: Notes explaining a cell that has no fitted slope.
NOTE_ZERO = "exactly zero"
NOTE_PARTLY_ZERO = "zero at some widths or seeds"
NOTE_DIVERGED = "diverged (not finite)"


@dataclass(frozen=True)
class WidthMeasurement:
    """Per-coordinate RMS of tracked quantities over widths, seeds and steps.

    Attributes:
      widths: the widths n, shape ``[W]``, strictly increasing.
      seeds: the seeds, shape ``[S]``.
      rms: quantity name → float64 array ``[W, S, T + 1]`` (t = 0..T, t = 0 the initialization).
    """

    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    rms: Mapping[str, np.ndarray]

    def __post_init__(self):
        shape = (len(self.widths), len(self.seeds))
        frozen = {}
        for name, values in self.rms.items():
            values = np.array(values, dtype=np.float64)
            if values.ndim != 3 or values.shape[:2] != shape:
                raise ValueError(
                    f"rms[{name!r}] must have shape [W, S, T + 1] with [W, S] = {shape}, "
                    f"got {values.shape}"
                )
            values.setflags(write=False)
            frozen[name] = values
        object.__setattr__(self, "rms", MappingProxyType(frozen))

    @property
    def steps(self) -> int:
        """T, the number of optimizer updates recorded."""
        return next(iter(self.rms.values())).shape[2] - 1


@dataclass(frozen=True)
class GammaCheck:
    """The verdict for one quantity at one step.

    ``measured`` is the fitted slope, or ``None`` when there is no slope to fit (``note`` says why);
    ``ci`` is its confidence interval, ``None`` likewise.
    """

    quantity: str
    step: int
    predicted: Any  # Fraction or theory.NEG_INF
    measured: float | None
    ci: tuple[float, float] | None
    passed: bool
    note: str = ""

    @property
    def difference(self) -> float | None:
        """measured − predicted, or ``None`` when either side is not a finite number."""
        if self.measured is None or self.predicted == theory.NEG_INF:
            return None
        return self.measured - float(self.predicted)

    def to_json(self) -> dict:
        return {
            "predicted": theory.format_exponent(self.predicted),
            "measured": self.measured,
            "ci": None if self.ci is None else [_json_float(c) for c in self.ci],
            "difference": self.difference,
            "pass": self.passed,
            **({"note": self.note} if self.note else {}),
        }


def check_cell(widths, rms, predicted, *, quantity: str, step: int, tolerance: float) -> GammaCheck:
    """Fit the width exponent of one quantity at one step and judge it against ``predicted``.

    Args:
      widths: shape ``[W]``.
      rms: per-coordinate RMS, shape ``[W, S]`` (S seeds, each one observation).
      predicted: the exact exponent (``Fraction`` or ``theory.NEG_INF``).

    >>> from fractions import Fraction
    >>> widths = [128, 256, 512, 1024]
    >>> rms = [[n ** -0.5, 1.1 * n ** -0.5] for n in widths]
    >>> check_cell(widths, rms, Fraction(-1, 2), quantity="B", step=1, tolerance=0.15).passed
    True
    >>> check_cell(widths, rms, Fraction(0), quantity="B", step=1, tolerance=0.15).passed
    False
    """
    rms = np.asarray(rms, dtype=np.float64)
    cell = {"quantity": quantity, "step": step, "predicted": predicted}
    finite = np.isfinite(rms).all(axis=1)
    if not finite.all():
        bad = np.asarray(widths)[~finite]
        note = f"{NOTE_DIVERGED} at {bad.size} of {finite.size} widths, from n = {int(bad.min())}"
        return GammaCheck(**cell, measured=None, ci=None, passed=False, note=note)
    is_zero = rms == 0.0
    if predicted == theory.NEG_INF:
        if is_zero.all():
            return GammaCheck(**cell, measured=None, ci=None, passed=True, note=NOTE_ZERO)
    elif is_zero.all():
        return GammaCheck(**cell, measured=None, ci=None, passed=False, note=NOTE_ZERO)
    if is_zero.any():
        return GammaCheck(**cell, measured=None, ci=None, passed=False, note=NOTE_PARTLY_ZERO)
    fit = fit_power_law(widths, rms)
    passed = predicted != theory.NEG_INF and abs(fit.exponent - float(predicted)) <= tolerance
    return GammaCheck(**cell, measured=fit.exponent, ci=fit.ci, passed=passed)


def compare(
    measurement: WidthMeasurement,
    trajectory: Sequence[Mapping[str, Any]],
    *,
    quantities: Sequence[str],
    steps: Sequence[int],
    tolerance: float,
) -> tuple[GammaCheck, ...]:
    """Judge every (quantity, step) pair; ``trajectory[t][quantity]`` is the exact prediction.

    Returns the checks ordered by quantity, then step.
    """
    if tolerance < 0 or not math.isfinite(tolerance):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance}")
    widths = np.asarray(measurement.widths, dtype=np.float64)
    checks = []
    for quantity in quantities:
        for step in steps:
            checks.append(
                check_cell(
                    widths,
                    measurement.rms[quantity][:, :, step],
                    trajectory[step][quantity],
                    quantity=quantity,
                    step=step,
                    tolerance=tolerance,
                )
            )
    return tuple(checks)


@dataclass(frozen=True)
class CoordCheckReport:
    """The empirical-γ check of one setting: the setting, the measurement and every verdict.

    ``setting`` holds JSON-ready values (model, init, exponent strings, eta0, widths, seeds,
    steps, tolerance, ...). ``passed`` is true when every cell passes.
    """

    setting: Mapping[str, Any]
    checks: tuple[GammaCheck, ...]
    measurement: WidthMeasurement = field(repr=False)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def quantities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(check.quantity for check in self.checks))

    @property
    def compared_steps(self) -> tuple[int, ...]:
        return tuple(sorted({check.step for check in self.checks}))

    def to_json(self) -> dict:
        """One JSON-ready object; see ``docs/empirical-gamma.md`` for the schema.

        Per quantity, the top-level ``predicted``, ``measured``, ``ci``, ``difference``, ``pass``
        describe the last compared step (where the recursion has reached its fixed point);
        ``steps`` maps every compared step (as a string) to the same fields.
        """
        quantities = {}
        for quantity in self.quantities:
            cells = [c for c in self.checks if c.quantity == quantity]
            last = max(cells, key=lambda c: c.step)
            quantities[quantity] = {
                **last.to_json(),
                "step": last.step,
                "steps": {str(c.step): c.to_json() for c in cells},
            }
        return {
            **self.setting,
            "compared_steps": list(self.compared_steps),
            "quantities": quantities,
            "pass": self.passed,
        }

    def format_table(self) -> str:
        """Plain text: one row per (quantity, step) with predicted, measured ± CI, diff, verdict."""
        header = ("quantity", "step", "predicted", "measured ± CI", "diff", "verdict")
        rows = [header]
        for check in self.checks:
            rows.append(
                (
                    check.quantity,
                    str(check.step),
                    theory.format_exponent(check.predicted),
                    _format_measured(check),
                    "" if check.difference is None else f"{check.difference:+.3f}",
                    "pass" if check.passed else "FAIL",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        n_pass = sum(check.passed for check in self.checks)
        verdict = "PASS" if self.passed else "FAIL"
        tolerance = self.setting["tolerance"]
        lines.append(
            f"overall: {verdict} ({n_pass}/{len(self.checks)} cells within ±{tolerance:g})"
        )
        return "\n".join(lines)


def _format_measured(check: GammaCheck) -> str:
    if check.measured is None:
        return check.note
    half = (check.ci[1] - check.ci[0]) / 2
    return f"{check.measured:+.3f} ± {half:.3f}"


def _json_float(value: float) -> float | None:
    """JSON has no infinities: an unbounded CI end (two widths only) becomes null."""
    return value if math.isfinite(value) else None


__all__ = [
    "NOTE_DIVERGED",
    "NOTE_PARTLY_ZERO",
    "NOTE_ZERO",
    "CoordCheckReport",
    "GammaCheck",
    "WidthMeasurement",
    "check_cell",
    "compare",
]
