"""Closed forms of geometrically growing exponents: γ_t = a·q^t + b + c·(−1)^t, exact.

Where a residual or a squared state multiplies exponents, they grow geometrically in t (the linear
toy's γ[f_t] = 3^{t−1}/2 under Init[B] at γ[η] = −1/2). Unrolling prints ever larger numbers; the
closed form states the whole sequence. At fixed rates, once the same monomials dominate, the
update is linear with a non-negative integer matrix, so each exponent satisfies a linear
recurrence; the forms found here (an integer ratio q ≥ 2, a constant, and a sign that alternates
with the parity of t, which a cycle of length 2 produces) are fitted exactly (rational a, b, c from
three steps) and **checked exactly against every unrolled step from ``from_step`` to
``checked_through``** (``horizon`` steps past the settling steps). A sequence of another shape
(an irrational spectral radius, longer periods) gets no closed form.

>>> form = fit_closed_form([None, Fraction(1, 2), Fraction(3, 2), Fraction(9, 2), Fraction(27, 2),
...                         Fraction(81, 2), Fraction(243, 2), Fraction(729, 2)])
>>> str(form), form.at(10)
('1/6·3^t (t >= 1)', Fraction(19683, 2))
>>> str(fit_closed_form([Fraction(v) for v in (0, 0, 2, 6, 20, 60, 182, 546, 1640, 4920)]))
'1/4·3^t − 1/2 + 1/4·(−1)^t (t >= 0)'
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

__all__ = ["ClosedForm", "fit_closed_form"]

#: The ratios tried (the integer spectral radii of small multiplicity-1-2 systems).
RATIOS = tuple(range(2, 17))
#: Steps a fitted form must match beyond the three it was fitted on.
MIN_CHECKS = 4


class ClosedForm(NamedTuple):
    """γ_t = a·q^t + b + c·(−1)^t for from_step ≤ t ≤ checked_through (checked exactly)."""

    a: Fraction
    q: int
    b: Fraction
    c: Fraction
    from_step: int
    checked_through: int

    def at(self, t: int) -> Fraction:
        return self.a * Fraction(self.q) ** t + self.b + self.c * (-1) ** t

    def __str__(self) -> str:
        return f"{self.written('t')} (t >= {self.from_step})"

    def written(self, t: object) -> str:
        """The formula with ``t`` written in (``1/6·3^500``): how a trace shows a huge value."""
        parts = [f"{_coef(self.a)}{self.q}^{t}"]
        if self.b:
            parts.append(f"{'−' if self.b < 0 else '+'} {abs(self.b)}")
        if self.c:
            sign = self.c if not isinstance(t, int) else self.c * (-1) ** t
            shown = "(−1)^t" if not isinstance(t, int) else ""
            parts.append(
                f"{'−' if sign < 0 else '+'} {_coef(abs(self.c)) if shown else abs(self.c)}{shown}"
            )
        return " ".join(parts)

    def to_json(self) -> dict:
        return {
            "formula": "a*q^t + b + c*(-1)^t",
            "a": _text(self.a),
            "q": self.q,
            "b": _text(self.b),
            "c": _text(self.c),
            "from_step": self.from_step,
            "checked_through": self.checked_through,
        }


def _coef(x: Fraction) -> str:
    return "" if x == 1 else f"{x}·"


def _text(x: Fraction) -> str:
    return str(x)


def fit_closed_form(
    values: Sequence[Fraction | None], *, start_within: int = 40
) -> ClosedForm | None:
    """The closed form that matches ``values[t0:]`` exactly for the smallest t0 (None marks −∞
    or a non-constant value), with at least ``MIN_CHECKS`` steps checked beyond the fit; t0 is
    sought among the first ``start_within`` steps (every step is checked)."""
    last = len(values) - 1
    for t0 in range(min(len(values), start_within)):
        if last - t0 + 1 < 3 + MIN_CHECKS:
            return None
        window = values[t0:]
        if any(v is None for v in window):
            continue
        for q in RATIOS:
            form = _solve(values, t0, q)
            if (
                form is not None
                and form.a > 0
                and all(form.at(t) == values[t] for t in range(t0, last + 1))
            ):
                return form._replace(checked_through=last)
    return None


def _solve(values, t0: int, q: int) -> ClosedForm | None:
    """a, b, c from steps t0, t0 + 1, t0 + 2 (Cramer's rule on exact rationals)."""
    rows = [
        (Fraction(q) ** t, Fraction(1), Fraction((-1) ** t), values[t]) for t in range(t0, t0 + 3)
    ]
    det = _det3([r[:3] for r in rows])
    if det == 0:
        return None
    sol = []
    for k in range(3):
        m = [tuple(r[3] if j == k else r[j] for j in range(3)) for r in rows]
        sol.append(_det3(m) / det)
    return ClosedForm(sol[0], q, sol[1], sol[2], t0, t0 + 2)


def _det3(m) -> Fraction:
    (a, b, c), (d, e, f), (g, h, i) = m
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
