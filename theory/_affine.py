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

import functools
import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from numbers import Rational
from typing import Literal

__all__ = ["Affine", "Strictness", "feasible"]

Strictness = Literal["<=", "<"]


class Affine:
    """c + Σ aᵢ xᵢ; ``coeffs`` sorted by name, no zero coefficients (so ``==`` is equality).

    Immutable, with its hash computed once: affine forms key the caches of every exact check.
    """

    __slots__ = ("_hash", "_ints", "coeffs", "const")
    coeffs: tuple[tuple[str, Fraction], ...]
    const: Fraction

    def __init__(self, coeffs: tuple[tuple[str, Fraction], ...], const: Fraction) -> None:
        object.__setattr__(self, "coeffs", coeffs)
        object.__setattr__(self, "const", const)
        object.__setattr__(self, "_hash", hash((coeffs, const)))
        object.__setattr__(self, "_ints", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Affine is immutable")

    def __reduce__(self) -> tuple:
        return (Affine, (self.coeffs, self.const))

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Affine):
            return NotImplemented
        same = self.coeffs == other.coeffs and self.const == other.const
        return self._hash == other._hash and same

    def __hash__(self) -> int:
        return self._hash

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

    def __add__(self, other: object) -> Affine:
        if isinstance(other, Rational):
            return Affine(self.coeffs, self.const + Fraction(other))
        if not isinstance(other, Affine):
            return NotImplemented
        # Fast paths: a constant on either side keeps the other's (sorted, non-zero) slope.
        if not other.coeffs:
            return Affine(self.coeffs, self.const + other.const)
        if not self.coeffs:
            return Affine(other.coeffs, self.const + other.const)
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

    def __mul__(self, factor: object) -> Affine:
        if not isinstance(factor, Rational):
            return NotImplemented
        if factor == 1:
            return self
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

    def integer_form(self) -> tuple[dict[str, int], int]:
        """This form scaled by a positive integer so every coefficient is an int (computed once:
        exact checks run on ints, which are far faster than Fractions)."""
        if self._ints is None:
            den = math.lcm(self.const.denominator, *(v.denominator for _, v in self.coeffs))
            ints = ({k: int(v * den) for k, v in self.coeffs}, int(self.const * den))
            object.__setattr__(self, "_ints", ints)
        return self._ints

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
    forms = [(f.integer_form(), kind == "<") for f, kind in constraints]
    names = sorted({k for (coeffs, _), _ in forms for k in coeffs})
    rows = frozenset(
        ((*(coeffs.get(n, 0) for n in names), const), strict) for (coeffs, const), strict in forms
    )
    return _feasible_rows(rows, len(names))


@functools.lru_cache(maxsize=65536)
def _feasible_rows(rows: frozenset[tuple[tuple[int, ...], bool]], n: int) -> bool:
    system = _tighten(rows, n)
    while system is not None:
        live = [j for j in range(n) if any(r[j] for r, _ in system)]
        if not live:
            return True
        # Eliminate the variable that creates the fewest new rows.
        j = min(live, key=lambda j: _cost(system, j))
        system = _tighten(_eliminate(system, j), n)
    return False


def _cost(system, j: int) -> int:
    pos = sum(1 for r, _ in system if r[j] > 0)
    neg = sum(1 for r, _ in system if r[j] < 0)
    return pos * neg - pos - neg


def _eliminate(system, j: int):
    pos = [(r, s) for r, s in system if r[j] > 0]
    neg = [(r, s) for r, s in system if r[j] < 0]
    out = [(r, s) for r, s in system if r[j] == 0]
    for rp, sp in pos:
        for rn, sn in neg:
            a, b = rp[j], -rn[j]
            out.append((tuple(b * x + a * y for x, y in zip(rp, rn, strict=True)), sp or sn))
    return out


def _tighten(rows, n: int):
    """Drop trivially true rows, keep the tightest row per direction; None if a constant row is
    violated."""
    tightest: dict[tuple[int, ...], tuple[int, int, bool]] = {}
    for row, strict in rows:
        g = math.gcd(*row[:n])
        c = row[n]
        if g == 0:
            if c > 0 or (c == 0 and strict):
                return None
            continue
        key = tuple(x // g for x in row[:n])
        old = tightest.get(key)
        # key·x + c/g <= 0: a larger c/g is tighter; at equal c/g, strict is tighter.
        if old is None:
            tightest[key] = (c, g, strict)
            continue
        lhs, rhs = c * old[1], old[0] * g
        if lhs > rhs or (lhs == rhs and strict):
            tightest[key] = (c, g, strict)
    out = []
    for key, (c, g, strict) in tightest.items():
        h = math.gcd(g, c)
        out.append(((*(x * (g // h) for x in key), c // h), strict))
    return out
