"""Exponent expressions: tropical polynomials over ℚ, i.e. maxima of affine forms, exactly.

The γ-rules (γ[0] = −∞, γ[vv'] = γ[v] + γ[v'], γ[v + v'] = max(γ[v], γ[v'])) make every exponent
in the papers a max over affine forms in the rate exponents: ``Expr``. Product is ``+``, sum is
``|`` (max), zero is the empty max ``Expr.neg_inf()``. Expressions are kept in canonical form
(duplicate slopes merged, terms dominated everywhere removed), so equal functions compare equal.

A term may carry a *gate*: a set of variables whose value must be finite for the term to exist.
That is how an Adam-normalised gradient is written: Θ(1) (exponent 0) when the raw gradient is
non-zero, exactly zero (−∞) when a factor of it is zero.

>>> eta = Expr.symbol("eta")
>>> z_a = (eta + 1) | Expr.const(0)
>>> z_a
Expr('max(eta + 1, 0)')
>>> (eta + z_a) | (2 * eta + 1)          # the second term is already in the first
Expr('max(2*eta + 1, eta)')
>>> z_a.evaluate({"eta": Fraction(-1, 2)})
Fraction(1, 2)
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from numbers import Rational
from typing import NamedTuple

from theory._affine import Affine, _feasible_rows
from theory._exponent import NEG_INF, Exponent, ExponentError, parse_exponent

__all__ = ["Expr", "Term"]


class Term(NamedTuple):
    """One affine piece of a max; present only when every variable in ``gate`` is finite."""

    affine: Affine
    gate: frozenset[str] = frozenset()

    def evaluate(self, point: Mapping[str, Exponent]) -> Exponent:
        if any(point[name] is NEG_INF for name in self.gate):
            return NEG_INF
        value: Exponent = self.affine.const
        for name, coeff in self.affine.coeffs:
            x = point[name]
            if x is NEG_INF:
                if coeff < 0:
                    raise ExponentError(f"{name} = -inf with negative coefficient {coeff}")
                return NEG_INF
            value = value + coeff * x
        return value

    def sort_key(self) -> tuple:
        # Terms with rate dependence first (``max(eta + 1, 0)``), larger slopes first.
        slope = [(k, -v) for k, v in self.affine.coeffs]
        return (tuple(sorted(self.gate)), -len(slope), slope, -self.affine.const)


class Expr:
    """A canonical max of gated affine terms; the empty max is −∞. Immutable and hashable."""

    __slots__ = ("_hash", "_variables", "terms")
    terms: tuple[Term, ...]

    def __init__(self, terms: Iterable[Term] = ()) -> None:
        object.__setattr__(self, "terms", _canonical(frozenset(terms)))
        object.__setattr__(self, "_hash", hash(self.terms))
        object.__setattr__(self, "_variables", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Expr is immutable")

    def __reduce__(self) -> tuple:
        return (Expr, (self.terms,))

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def neg_inf(cls) -> Expr:
        """γ[0]: the empty max."""
        return cls(())

    @classmethod
    def const(cls, value: object) -> Expr:
        """A fixed exponent (Fraction, int, ``NEG_INF`` or a string such as ``"-1/2"``)."""
        exponent = parse_exponent(value)
        if exponent is NEG_INF:
            return cls(())
        return cls((Term(Affine.constant(exponent)),))

    @classmethod
    def symbol(cls, name: str) -> Expr:
        """A free exponent such as ``eta_A``."""
        return cls((Term(Affine.var(name)),))

    @classmethod
    def lift(cls, value: object) -> Expr:
        return value if isinstance(value, Expr) else cls.const(value)

    def gated(self, *names: str) -> Expr:
        """This expression where all of ``names`` are finite, −∞ otherwise."""
        return Expr(Term(t.affine, t.gate | frozenset(names)) for t in self.terms)

    def support(self) -> Expr:
        """0 where this expression is finite, −∞ where it is −∞ (an Adam-normalised factor)."""
        return Expr(Term(Affine.constant(0), t.gate | t.affine.variables) for t in self.terms)

    # -- algebra ------------------------------------------------------------------------------
    def __add__(self, other: object) -> Expr:
        if isinstance(other, Rational | str) or other is NEG_INF:
            other = Expr.const(other)
        if not isinstance(other, Expr):
            return NotImplemented
        return Expr(
            Term(a.affine + b.affine, a.gate | b.gate)
            for a, b in itertools.product(self.terms, other.terms)
        )

    __radd__ = __add__

    def __sub__(self, other: object) -> Expr:
        if isinstance(other, Rational):
            return self + (-Fraction(other))
        return NotImplemented

    def __or__(self, other: object) -> Expr:
        if isinstance(other, Rational | str) or other is NEG_INF:
            other = Expr.const(other)
        if not isinstance(other, Expr):
            return NotImplemented
        return Expr(self.terms + other.terms)

    __ror__ = __or__

    def __mul__(self, factor: object) -> Expr:
        """Tropical power: k·max(...) = max(k·...), for rational k > 0 (k = 2 squares a term)."""
        if not isinstance(factor, Rational) or isinstance(factor, bool):
            return NotImplemented
        if factor <= 0:
            raise ExponentError(
                f"only positive multiples of an exponent max are defined, not {factor}"
            )
        return Expr(Term(t.affine * factor, t.gate) for t in self.terms)

    __rmul__ = __mul__

    @staticmethod
    def max(*exprs: object) -> Expr:
        """max of exponents; ``Expr.max()`` is −∞."""
        return Expr(t for e in exprs for t in Expr.lift(e).terms)

    # -- queries ------------------------------------------------------------------------------
    @property
    def is_neg_inf(self) -> bool:
        return not self.terms

    @property
    def variables(self) -> frozenset[str]:
        if self._variables is None:
            names = frozenset(v for t in self.terms for v in t.affine.variables | t.gate)
            object.__setattr__(self, "_variables", names)
        return self._variables

    @property
    def is_constant(self) -> bool:
        return not self.variables

    def constant_value(self) -> Exponent:
        """The exponent of a variable-free expression."""
        if self.variables:
            raise ExponentError(f"{self} depends on {sorted(self.variables)}")
        return self.terms[0].affine.const if self.terms else NEG_INF

    def evaluate(self, point: Mapping[str, object]) -> Exponent:
        """The exponent at a point (every variable given as an exponent; −∞ allowed)."""
        values = {k: parse_exponent(v) for k, v in point.items() if k in self.variables}
        missing = self.variables - values.keys()
        if missing:
            raise ExponentError(f"no value for {sorted(missing)} in {self}")
        return max((t.evaluate(values) for t in self.terms), default=NEG_INF)

    def substitute(self, values: Mapping[str, object]) -> Expr:
        """Replace variables by expressions (tropical composition; positive coefficients only for
        a multi-term or −∞ value)."""
        env = {k: Expr.lift(values[k]) for k in self.variables if k in values}
        if not env:
            return self
        return Expr(t for term in self.terms for t in _substitute_term(term, env))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rational | str) or other is NEG_INF:
            try:
                other = Expr.const(other)
            except ExponentError:
                return False
        return isinstance(other, Expr) and self.terms == other.terms

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Expr({self.format()!r})"

    def __str__(self) -> str:
        return self.format()

    def format(self, names: Mapping[str, str] | None = None) -> str:
        """``max(eta + 1, 0)``, ``-1/2`` or ``-inf``; gated terms print as ``[B≠-inf] …``."""
        if not self.terms:
            return "-inf"
        parts = [_format_term(t, names) for t in self.terms]
        return parts[0] if len(parts) == 1 else f"max({', '.join(parts)})"


def _format_term(term: Term, names: Mapping[str, str] | None) -> str:
    body = term.affine.format(names)
    if not term.gate:
        return body
    gate = ",".join(names.get(g, g) if names else g for g in sorted(term.gate))
    return f"[{gate} finite] {body}"


def _substitute_term(term: Term, env: Mapping[str, Expr]) -> list[Term]:
    gate = set()
    for name in term.gate:
        if name not in env:
            gate.add(name)
            continue
        value = env[name]
        if value.is_neg_inf:
            return []
        if any(t.gate for t in value.terms):
            raise ExponentError(f"cannot gate on {name} = {value}, itself gated")
    if not any(k in env for k, _ in term.affine.coeffs):
        return [Term(term.affine, frozenset(gate))]
    # Dropping entries keeps the slope sorted and non-zero: no need to renormalise.
    base = Affine(tuple((k, v) for k, v in term.affine.coeffs if k not in env), term.affine.const)
    pieces: list[list[Term]] = [[Term(base, frozenset(gate))]]
    for name, coeff in term.affine.coeffs:
        if name not in env:
            continue
        value = env[name]
        if len(value.terms) != 1 and coeff < 0:
            raise ExponentError(
                f"{coeff}*{name} with {name} = {value} is a min or +inf, not an exponent"
            )
        pieces.append([Term(t.affine * coeff, t.gate) for t in value.terms])
    return [
        Term(
            sum((p.affine for p in combo[1:]), combo[0].affine),
            frozenset().union(*(p.gate for p in combo)),
        )
        for combo in itertools.product(*pieces)
    ]


def _can_exceed(dense, i: int, others: list[int], n: int) -> bool:
    """Whether term i is strictly above every term in ``others`` somewhere (exact: the integer
    rows u − t < 0 go to the Fourier–Motzkin core)."""
    rows = frozenset(
        (tuple(a - b for a, b in zip(dense[j], dense[i], strict=True)), True) for j in others
    )
    return _feasible_rows(rows, n)


def _witnessed(dense, rivals: list[list[int]], n: int) -> set[int]:
    """Indices of terms strictly above all their rivals at one of a few fixed sample points."""
    if len(dense) < 3:
        return set()
    out: set[int] = set()
    for point in _sample_points(n):
        values = [sum(c * x for c, x in zip(row, point, strict=True)) for row in dense]
        for i, others in enumerate(rivals):
            if i not in out and all(values[i] > values[j] for j in others):
                out.add(i)
    return out


@functools.lru_cache(maxsize=64)
def _sample_points(n: int) -> tuple[tuple[int, ...], ...]:
    """Twelve fixed points with distinct, generic coordinates in [-3, 1], as sevenths: each is
    (7·x_1, …, 7·x_n, 7), to be dotted with a dense row."""
    return tuple(
        (*((37 * j + 11 * i * i + 5 * i) % 29 - 21 for i in range(n)), 7) for j in range(12)
    )


@functools.lru_cache(maxsize=65536)
def _canonical(terms: frozenset[Term]) -> tuple[Term, ...]:
    # 1. One term per (slope, gate): the largest constant wins everywhere.
    best: dict[tuple, Term] = {}
    for t in terms:
        key = (t.affine.coeffs, t.gate)
        if key not in best or t.affine.const > best[key].affine.const:
            best[key] = t
    kept = sorted(best.values(), key=Term.sort_key)
    # 2. Drop a term that never strictly exceeds the others that exist whenever it does. A term
    # strictly above its rivals at a sample point is kept at once (no elimination needed).
    n = len(kept)
    rivals = [[j for j in range(n) if j != i and kept[j].gate <= kept[i].gate] for i in range(n)]
    names = sorted({k for t in kept for k, _ in t.affine.coeffs})
    # Every term as integers over ``names`` then the constant, all scaled by one positive factor:
    # differences and sample values without Fractions.
    scale = math.lcm(
        *(v.denominator for t in kept for v in (t.affine.const, *dict(t.affine.coeffs).values()))
    )
    dense = [
        (*(int(t.affine.coeff(k) * scale) for k in names), int(t.affine.const * scale))
        for t in kept
    ]
    witnessed = _witnessed(dense, rivals, len(names))
    alive = set(range(n))
    for i in range(n):
        if i in witnessed:
            continue
        current = [j for j in rivals[i] if j in alive]
        if current and not _can_exceed(dense, i, current, len(names)):
            alive.discard(i)
    kept = [kept[i] for i in sorted(alive)]
    return tuple(kept)
