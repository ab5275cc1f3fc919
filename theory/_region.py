"""Exact regions of rate-exponent space: finite unions of convex polyhedra, rational constraints.

A condition between exponent expressions (``compare(e1, "<=", e2)``) is a region. Regions support
``&`` (intersection), ``|`` (union), ``~`` (complement), ``-`` (difference), membership, emptiness,
semantic ``==``, a canonical printout, and 1-D intervals / 2-D polygons for plotting.

>>> from theory._expr import Expr
>>> eta = Expr.symbol("eta")
>>> stable = compare(eta + ((eta + 1) | Expr.const(0)), "<=", Expr.const(0))
>>> print(stable)
eta <= -1/2
>>> Fraction(-1) in stable, Fraction(0) in stable
(True, False)
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Literal, NamedTuple

from theory._affine import Affine, feasible
from theory._exponent import ExponentError, parse_exponent
from theory._expr import Expr

__all__ = ["Constraint", "Polyhedron", "Region", "compare"]

Relation = Literal["<=", "<", "=="]
Comparison = Literal["<=", "<", "==", ">=", ">"]


class Constraint(NamedTuple):
    """``affine <rel> 0``, scaled so the slope is a primitive integer vector."""

    affine: Affine
    rel: Relation

    @classmethod
    def make(cls, affine: Affine, rel: Relation) -> Constraint:
        if not affine.coeffs:
            return cls(affine, rel)
        den = math.lcm(*(v.denominator for _, v in affine.coeffs))
        num = math.gcd(*(int(v * den) for _, v in affine.coeffs))
        scale = Fraction(den, num)
        if rel == "==" and affine.coeffs[0][1] < 0:
            scale = -scale
        return cls(affine * scale, rel)

    def holds(self, point: Mapping[str, Fraction]) -> bool:
        value = self.affine.evaluate(point)
        return value <= 0 if self.rel == "<=" else value < 0 if self.rel == "<" else value == 0

    def as_strict_system(self) -> list[tuple[Affine, Literal["<=", "<"]]]:
        if self.rel == "==":
            return [(self.affine, "<="), (-self.affine, "<=")]
        return [(self.affine, self.rel)]

    def negations(self) -> list[Constraint]:
        """Constraints whose union is the complement of this one."""
        return _negations(self)

    def _negations(self) -> list[Constraint]:
        if self.rel == "<=":
            return [Constraint.make(-self.affine, "<")]
        if self.rel == "<":
            return [Constraint.make(-self.affine, "<=")]
        return [Constraint.make(self.affine, "<"), Constraint.make(-self.affine, "<")]

    def format(self) -> str:
        f, rel = self.affine, self.rel
        if rel != "==" and f.coeffs and f.coeffs[0][1] < 0:
            f, op = -f, (">=" if rel == "<=" else ">")
        else:
            op = {"<=": "<=", "<": "<", "==": "="}[rel]
        lhs = Affine(f.coeffs, Fraction(0)).format(const=False)
        return f"{lhs} {op} {-f.const}"


@functools.lru_cache(maxsize=65536)
def _negations(c: Constraint) -> list[Constraint]:
    return c._negations()


def _system(constraints: Iterable[Constraint]) -> list:
    return [item for c in constraints for item in c.as_strict_system()]


class Polyhedron(NamedTuple):
    """A conjunction of constraints, in canonical form (see ``_canonical_polyhedron``)."""

    constraints: tuple[Constraint, ...]

    def holds(self, point: Mapping[str, Fraction]) -> bool:
        return all(c.holds(point) for c in self.constraints)

    def is_subset(self, other: Polyhedron) -> bool:
        if set(other.constraints) <= set(self.constraints):
            return True
        return all(
            not feasible(_system((*self.constraints, neg)))
            for c in other.constraints
            for neg in c.negations()
        )

    def format(self) -> str:
        """Constraints joined by commas; two bounds on one variable as ``-1 < eta <= -1/2``."""
        cons = list(self.constraints)
        by_var: dict[str, list[Constraint]] = {}
        for c in cons:
            if len(c.affine.coeffs) == 1 and c.rel != "==":
                by_var.setdefault(c.affine.coeffs[0][0], []).append(c)
        parts: list[str] = []
        chained: set[Constraint] = set()
        for c in cons:
            if c in chained:
                continue
            group = by_var.get(c.affine.coeffs[0][0], []) if len(c.affine.coeffs) == 1 else []
            if len(group) == 2 and c in group:
                lower, upper = sorted(group, key=lambda g: g.affine.coeffs[0][1])  # a < 0: lower
                name = c.affine.coeffs[0][0]
                lo = -lower.affine.const / lower.affine.coeffs[0][1]
                hi = -upper.affine.const / upper.affine.coeffs[0][1]
                lo_op = "<=" if lower.rel == "<=" else "<"
                hi_op = "<=" if upper.rel == "<=" else "<"
                parts.append(f"{lo} {lo_op} {name} {hi_op} {hi}")
                chained.update(group)
            else:
                parts.append(c.format())
        return ", ".join(parts) or "true"


@functools.lru_cache(maxsize=32768)
def _canonical_polyhedron(constraints: frozenset[Constraint]) -> Polyhedron | None:
    """Equalities in reduced echelon form (pivot: the last variable), substituted into the
    inequalities; implicit equalities made explicit; redundant inequalities dropped. None if
    empty."""
    cons = [Constraint.make(c.affine, c.rel) for c in constraints]
    if not feasible(_system(cons)):
        return None
    # Make implicit equalities explicit: f <= 0 with no point where f < 0.
    cons = [
        Constraint(c.affine, "==")
        if c.rel == "<=" and not feasible(_system([*cons, Constraint(c.affine, "<")]))
        else c
        for c in cons
    ]
    equalities = [c.affine for c in cons if c.rel == "=="]
    pivots: dict[str, Affine] = {}
    for f in equalities:
        f = f.substitute(pivots)
        if not f.coeffs:
            continue
        name, coeff = f.coeffs[-1]
        solution = (Affine.var(name) - f * (1 / coeff)).substitute({})  # name = solution
        solution = Affine.make({k: v for k, v in solution.coeffs if k != name}, solution.const)
        pivots = {k: v.substitute({name: solution}) for k, v in pivots.items()}
        pivots[name] = solution
    eqs = [Constraint.make(Affine.var(k) - v, "==") for k, v in sorted(pivots.items())]
    ineqs: list[Constraint] = []
    for c in cons:
        if c.rel == "==":
            continue
        g = Constraint.make(c.affine.substitute(pivots), c.rel)
        if not g.affine.coeffs:
            continue  # constant and (by feasibility) true
        ineqs.append(g)
    ineqs = sorted(set(ineqs), key=lambda c: (c.affine.coeffs, c.affine.const, c.rel))
    i = 0
    while i < len(ineqs):
        others = [*eqs, *ineqs[:i], *ineqs[i + 1 :]]
        negated = ineqs[i].negations()[0]
        if not feasible(_system([*others, negated])):
            del ineqs[i]
        else:
            i += 1
    ordered = sorted(eqs, key=lambda c: c.affine.coeffs) + sorted(
        ineqs, key=lambda c: ([k for k, _ in c.affine.coeffs], c.affine.coeffs, c.affine.const)
    )
    return Polyhedron(tuple(ordered))


class Region:
    """A finite union of convex polyhedra over named rate exponents. Immutable.

    ``==`` is semantic equality (same point set); the printout lists the pieces in canonical
    form, joined by ``or``. Set operations work on the raw (feasible, not yet simplified) pieces;
    the canonical form is computed once, when first asked for.
    """

    __slots__ = ("_canonical", "_raw")
    _raw: tuple[frozenset[Constraint], ...]

    def __init__(self, pieces: Iterable[Polyhedron | Iterable[Constraint]] = ()) -> None:
        raw = []
        for p in pieces:
            cons = frozenset(p.constraints if isinstance(p, Polyhedron) else p)
            if feasible(_system(cons)):
                raw.append(cons)
        object.__setattr__(self, "_raw", tuple(dict.fromkeys(raw)))
        object.__setattr__(self, "_canonical", None)

    @property
    def pieces(self) -> tuple[Polyhedron, ...]:
        """The canonical pieces: simplified, none contained in another, sorted."""
        if self._canonical is None:
            canon = [q for q in map(_canonical_polyhedron, self._raw) if q is not None]
            object.__setattr__(self, "_canonical", _drop_contained(canon))
        return self._canonical

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Region is immutable")

    __hash__ = None  # type: ignore[assignment]  # equality is semantic

    @classmethod
    def universe(cls) -> Region:
        return cls([()])

    @classmethod
    def empty(cls) -> Region:
        return cls([])

    @classmethod
    def where(cls, affine: Affine, rel: Comparison) -> Region:
        """The half-space / hyperplane ``affine <rel> 0``."""
        if rel in (">=", ">"):
            affine, rel = -affine, ("<=" if rel == ">=" else "<")
        return cls([(Constraint.make(affine, rel),)])

    @property
    def variables(self) -> frozenset[str]:
        """Variables of the canonical form (a constraint that always holds names none)."""
        return frozenset(k for p in self.pieces for c in p.constraints for k, _ in c.affine.coeffs)

    def is_empty(self) -> bool:
        return not self._raw

    def __bool__(self) -> bool:
        return not self.is_empty()

    def __and__(self, other: Region) -> Region:
        mine, theirs = self._raw, other._raw
        if len(mine) * len(theirs) > 4:  # a product of unions: multiply canonical pieces only
            mine, theirs = self._canonical_raw(), other._canonical_raw()
        return Region(a | b for a, b in itertools.product(mine, theirs))

    def _canonical_raw(self) -> tuple[frozenset[Constraint], ...]:
        return tuple(frozenset(p.constraints) for p in self.pieces)

    def __or__(self, other: Region) -> Region:
        return Region((*self._raw, *other._raw))

    def __invert__(self) -> Region:
        return Region.universe() - self

    def __sub__(self, other: Region) -> Region:
        return Region(rest for p in self._raw for rest in _subtract(tuple(p), other))

    def issubset(self, other: Region) -> bool:
        return all(not _subtract(tuple(p), other) for p in self._raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Region):
            return NotImplemented
        return self.issubset(other) and other.issubset(self)

    def contains(self, point: Mapping[str, object]) -> bool:
        """Membership of a point given as exponents (missing variables raise ExponentError)."""
        values = {k: parse_exponent(v) for k, v in point.items()}
        raw_names = {k for p in self._raw for c in p for k, _ in c.affine.coeffs}
        if raw_names <= values.keys():
            return any(all(c.holds(values) for c in p) for p in self._raw)
        missing = self.variables - values.keys()
        if missing:
            raise ExponentError(f"no value for {sorted(missing)}")
        return any(p.holds(values) for p in self.pieces)

    def __contains__(self, point: object) -> bool:
        """``x in region`` for a one-variable region; a mapping for any region."""
        if isinstance(point, Mapping):
            return self.contains(point)
        names = self.variables
        if len(names) > 1:
            raise ExponentError(f"a point of {sorted(names)} must be a mapping")
        return self.contains({next(iter(names)): point} if names else {})

    def __repr__(self) -> str:
        return f"Region({self.format()!r})"

    def __str__(self) -> str:
        return self.format()

    def format(self) -> str:
        """``eta <= -1/2``; ``eta_A + eta_B = -1, eta_A <= -1``; pieces joined by `` or ``."""
        if not self.pieces:
            return "empty"
        return " or ".join(p.format() for p in self.pieces)

    # -- geometry for plots and one-variable answers --------------------------------------------
    def intervals(
        self, name: str | None = None
    ) -> list[tuple[Fraction | None, bool, Fraction | None, bool]]:
        """Disjoint sorted intervals ``(lo, lo_closed, hi, hi_closed)`` (None = unbounded) of a
        region in one variable."""
        names = self.variables
        if len(names) > 1:
            raise ExponentError(f"intervals need a region in one variable, not {sorted(names)}")
        name = name or (next(iter(names)) if names else "x")
        raw = [_interval(p, name) for p in self.pieces]
        return _merge_intervals(raw)

    def polygons(self, box: tuple[Fraction, Fraction, Fraction, Fraction], names: tuple[str, str]):
        """Each piece clipped to ``box = (x0, x1, y0, y1)`` as a list of exact vertices (closure of
        the piece: strict inequalities drawn as their boundary)."""
        from theory._geometry import clip_polyhedron

        return [clip_polyhedron(p, box, names) for p in self.pieces]


def _subtract(piece: tuple[Constraint, ...], other: Region) -> list[tuple[Constraint, ...]]:
    """piece minus a union, as disjoint feasible conjunctions (not yet canonical).

    P \\ Q = ∪ᵢ (P ∩ c₁ ∩ … ∩ cᵢ₋₁ ∩ ¬cᵢ) for Q = c₁ ∩ … ∩ cₖ; empty parts are pruned as soon as
    they appear, which keeps differences (and so subset tests and complements) small.
    """
    current = [piece]
    # Subtract the canonical pieces (no redundant constraint, none inside another): with raw
    # pieces the parts multiply with every redundant constraint. Each part is simplified as it
    # is formed, so the systems the feasibility tests see stay small.
    for q in (p.constraints for p in other.pieces):
        current = [_simplified(rest) for rest in current]
        following: list[tuple[Constraint, ...]] = []
        for rest in current:
            prefix: tuple[Constraint, ...] = ()
            for c in q:
                for neg in c.negations():
                    candidate = (*rest, *prefix, neg)
                    if feasible(_system(candidate)):
                        following.append(candidate)
                prefix = (*prefix, c)
        current = following
        if not current:
            break
    return current


def _simplified(part: tuple[Constraint, ...]) -> tuple[Constraint, ...]:
    """A feasible conjunction with its redundant constraints dropped (its canonical form); kept
    as it is when short."""
    if len(part) <= 4:
        return part
    canonical = _canonical_polyhedron(frozenset(part))
    return part if canonical is None else canonical.constraints


def _interval(piece: Polyhedron, name: str):
    lo, lo_closed, hi, hi_closed = None, False, None, False
    for c in piece.constraints:
        a, b = c.affine.coeff(name), c.affine.const
        bound = -b / a
        if c.rel == "==":
            return (bound, True, bound, True)
        closed = c.rel == "<="
        if a > 0 and (hi is None or bound < hi or (bound == hi and not closed)):
            hi, hi_closed = bound, closed
        elif a < 0 and (lo is None or bound > lo or (bound == lo and not closed)):
            lo, lo_closed = bound, closed
    return (lo, lo_closed, hi, hi_closed)


def _merge_intervals(intervals):
    def start_key(iv):
        lo, lo_closed = iv[0], iv[1]
        return (lo is not None, lo if lo is not None else 0, not lo_closed)

    merged: list = []
    for iv in sorted(intervals, key=start_key):
        if merged:
            lo, lc, hi, hc = merged[-1]
            touches = hi is None or iv[0] is None or iv[0] < hi or (iv[0] == hi and (hc or iv[1]))
            if touches:
                if hi is None or (iv[2] is not None and (iv[2] < hi or (iv[2] == hi and hc))):
                    continue
                merged[-1] = (lo, lc, iv[2], iv[3])
                continue
        merged.append(iv)
    return merged


def _drop_contained(pieces: list[Polyhedron]) -> tuple[Polyhedron, ...]:
    unique = sorted(set(pieces), key=lambda p: (len(p.constraints), _key(p)))
    kept: list[Polyhedron] = []
    for i, p in enumerate(unique):
        if any(p.is_subset(q) for j, q in enumerate(unique) if j != i and (q in kept or j > i)):
            continue
        kept.append(p)
    if (
        len(kept) > 1
        and len(frozenset(k for p in kept for c in p.constraints for k, _ in c.affine.coeffs)) == 1
    ):
        kept = _one_variable_canonical(kept)
    return tuple(sorted(kept, key=_key))


def _key(p: Polyhedron) -> tuple:
    return tuple((c.rel, c.affine.coeffs, c.affine.const) for c in p.constraints)


def _one_variable_canonical(pieces: list[Polyhedron]) -> list[Polyhedron]:
    """In one variable, the canonical form is the list of maximal disjoint intervals."""
    name = next(k for p in pieces for c in p.constraints for k, _ in c.affine.coeffs)
    x = Affine.var(name)
    out = []
    for lo, lc, hi, hc in _merge_intervals([_interval(p, name) for p in pieces]):
        cons = []
        if lo is not None and hi is not None and lo == hi:
            cons.append(Constraint.make(x - lo, "=="))
        else:
            if lo is not None:
                cons.append(Constraint.make(lo - x, "<=" if lc else "<"))
            if hi is not None:
                cons.append(Constraint.make(x - hi, "<=" if hc else "<"))
        canon = _canonical_polyhedron(frozenset(cons))
        if canon is not None:
            out.append(canon)
    return out


def compare(lhs: object, op: Comparison, rhs: object) -> Region:
    """The region where ``lhs <op> rhs`` for exponent expressions (tropical polynomials).

    max P <= max Q  ⟺  every p ∈ P is <= some q ∈ Q (−∞ <= anything; nothing finite <= −∞).

    >>> from theory._expr import Expr
    >>> a, b = Expr.symbol("eta_A"), Expr.symbol("eta_B")
    >>> print(compare(a + b + 1, "==", 0) & compare(a, "<=", -1))
    eta_A + eta_B = -1, eta_A <= -1
    """
    left, right = Expr.lift(lhs), Expr.lift(rhs)
    for e in (left, right):
        if any(t.gate for t in e.terms):
            raise ExponentError(f"cannot compare the gated expression {e}")
    if op == "==":
        return compare(left, "<=", right) & compare(right, "<=", left)
    if op in (">=", ">"):
        return compare(right, "<=" if op == ">=" else "<", left)
    if op not in ("<=", "<"):
        raise ExponentError(f"unknown comparison {op!r}")
    if not right.terms:  # nothing finite is below -inf; -inf <= -inf but not -inf < -inf
        return Region.universe() if (op == "<=" and not left.terms) else Region.empty()
    out = Region.universe()
    for p in left.terms:
        out = out & Region((Constraint.make(p.affine - q.affine, op),) for q in right.terms)
    return out
