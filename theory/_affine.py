"""Affine forms with rational coefficients, and exact feasibility of linear systems.

An ``Affine`` is c + Σ aᵢ xᵢ over named variables. ``feasible`` decides whether a finite system of
``f ≤ 0`` / ``f < 0`` constraints has a real solution (Fourier–Motzkin elimination, exact): the
workhorse of canonical forms and regions. Exponent problems have 1-4 variables, where elimination is
instant.

>>> eta = Affine.var("eta")
>>> f = 2 * eta + Fraction(1)
>>> f, f.evaluate({"eta": Fraction(-1, 2)})
(Affine('2*eta + 1'), Fraction(0, 1))
>>> feasible([(eta + 1, "<="), (-eta - 1, "<")])   # eta <= -1 and eta > -1
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from numbers import Rational
from typing import Literal, NamedTuple

__all__ = ["Affine", "Strictness", "feasible"]

Strictness = Literal["<=", "<"]


class Affine(NamedTuple):
    """c + Σ aᵢ xᵢ; ``coeffs`` sorted by name, no zero coefficients (so ``==`` is equality)."""

    coeffs: tuple[tuple[str, Fraction], ...]
    const: Fraction

    @classmethod
    def constant(cls, value: Rational) -> Affine:
        return cls((), Fraction(value))

    @classmethod
    def var(cls, name: str, coeff: Rational = 1) -> Affine:
        return cls.make({name: Fraction(coeff)}, Fraction(0))

    @classmethod
    def make(cls, coeffs: Mapping[str, Rational], const: Rational = 0) -> Affine:
        items = tuple(sorted((k, Fraction(v)) for k, v in coeffs.items() if v != 0))
        return cls(items, Fraction(const))

    def coeff(self, name: str) -> Fraction:
        for key, value in self.coeffs:
            if key == name:
                return value
        return Fraction(0)

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(k for k, _ in self.coeffs)

    @property
    def slope(self) -> tuple[tuple[str, Fraction], ...]:
        return self.coeffs

    def __add__(self, other: object) -> Affine:  # type: ignore[override]
        if isinstance(other, Rational):
            return Affine(self.coeffs, self.const + Fraction(other))
        if not isinstance(other, Affine):
            return NotImplemented
        merged = dict(self.coeffs)
        for key, value in other.coeffs:
            merged[key] = merged.get(key, Fraction(0)) + value
        return Affine.make(merged, self.const + other.const)

    __radd__ = __add__

    def __neg__(self) -> Affine:
        return Affine(tuple((k, -v) for k, v in self.coeffs), -self.const)

    def __sub__(self, other: object) -> Affine:
        if isinstance(other, Rational):
            return self + (-Fraction(other))
        if not isinstance(other, Affine):
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other: object) -> Affine:
        return (-self) + other

    def __mul__(self, factor: object) -> Affine:  # type: ignore[override]
        if not isinstance(factor, Rational):
            return NotImplemented
        factor = Fraction(factor)
        if factor == 0:
            return Affine((), Fraction(0))
        return Affine(tuple((k, v * factor) for k, v in self.coeffs), self.const * factor)

    __rmul__ = __mul__

    def substitute(self, values: Mapping[str, Affine]) -> Affine:
        """Replace variables by affine forms (variables not in ``values`` stay)."""
        out = Affine.constant(self.const)
        for key, value in self.coeffs:
            out = out + (values[key] * value if key in values else Affine.var(key, value))
        return out

    def evaluate(self, point: Mapping[str, Rational]) -> Fraction:
        return self.const + sum((v * Fraction(point[k]) for k, v in self.coeffs), Fraction(0))

    def normalized(self) -> Affine:
        """Scaled by a positive factor so the first coefficient is ±1 (a canonical direction)."""
        if not self.coeffs:
            return self
        return self * (1 / abs(self.coeffs[0][1]))

    def __repr__(self) -> str:
        return f"Affine({self.format()!r})"

    def format(
        self, names: Mapping[str, str] | None = None, *, const: bool = True, times: str = "*"
    ) -> str:
        """``2*eta_A - eta_B + 1``; ``names`` renames variables (e.g. for LaTeX)."""
        parts: list[str] = []
        for key, value in self.coeffs:
            name = names.get(key, key) if names else key
            sign = "-" if value < 0 else "+"
            mag = abs(value)
            body = name if mag == 1 else f"{_fmt(mag)}{times}{name}"
            parts.append(f"{sign} {body}")
        if const and (self.const != 0 or not parts):
            parts.append(f"{'-' if self.const < 0 else '+'} {_fmt(abs(self.const))}")
        text = " ".join(parts)
        return text[2:] if text.startswith("+ ") else "-" + text[2:]


def _fmt(value: Fraction) -> str:
    return str(value)


def feasible(constraints: Iterable[tuple[Affine, Strictness]]) -> bool:
    """Whether some real point satisfies every ``f <= 0`` / ``f < 0`` (exact Fourier–Motzkin).

    >>> x, y = Affine.var("x"), Affine.var("y")
    >>> feasible([(x + y, "<="), (-x, "<"), (-y, "<=")])   # x + y <= 0, x > 0, y >= 0
    False
    """
    system = _dedupe(constraints)
    while True:
        if system is None:
            return False
        variables = sorted({k for f, _ in system for k, _ in f.coeffs})
        if not variables:
            return True
        # Eliminate the variable that creates the fewest new constraints.
        best = min(variables, key=lambda v: _cost(system, v))
        system = _dedupe(_eliminate(system, best))


def _cost(system: list[tuple[Affine, Strictness]], name: str) -> int:
    pos = sum(1 for f, _ in system if f.coeff(name) > 0)
    neg = sum(1 for f, _ in system if f.coeff(name) < 0)
    return pos * neg - pos - neg


def _eliminate(
    system: list[tuple[Affine, Strictness]], name: str
) -> list[tuple[Affine, Strictness]]:
    pos, neg, rest = [], [], []
    for f, kind in system:
        a = f.coeff(name)
        (pos if a > 0 else neg if a < 0 else rest).append((f * (1 / abs(a)) if a else f, kind))
    for fp, kp in pos:
        for fn, kn in neg:
            rest.append((fp + fn, "<" if "<" in (kp, kn) else "<="))
    return rest


def _dedupe(
    constraints: Iterable[tuple[Affine, Strictness]],
) -> list[tuple[Affine, Strictness]] | None:
    """Normalise, drop trivially true constraints, keep the tightest per direction; None if a
    constant constraint is violated."""
    tightest: dict[tuple, tuple[Fraction, Strictness]] = {}
    for f, kind in constraints:
        if not f.coeffs:
            if f.const > 0 or (f.const == 0 and kind == "<"):
                return None
            continue
        g = f.normalized()
        key = g.coeffs
        old = tightest.get(key)
        # g = slope + c <= 0: a larger c is tighter; at equal c, strict is tighter.
        if old is None or g.const > old[0] or (g.const == old[0] and kind == "<"):
            tightest[key] = (g.const, kind)
    return [(Affine(k, c), kind) for k, (c, kind) in tightest.items()]
