"""Algebraic laws of exponent expressions and regions (hypothesis), and their soundness against
direct numeric evaluation at random rational points."""

from __future__ import annotations

import operator
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import NEG_INF, ExponentError, Expr, Region, compare, parse_expr
from theory._affine import Affine
from theory._expr import Term
from theory.testing import exponents as exponents_of

VARS = ("x", "y")
# Flat integer strategies: nested composite strategies cost more to draw than the laws to check.
COEFFS = (Fraction(-1), Fraction(0), Fraction(1), Fraction(2), Fraction(1, 2))
small = st.integers(-6, 6).map(lambda k: Fraction(k, 2))
_affine_data = st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(-6, 6))


def _affine(data: tuple[int, int, int]) -> Affine:
    i, j, k = data
    return Affine.make({"x": COEFFS[i], "y": COEFFS[j]}, Fraction(k, 2))


def affines():
    return _affine_data.map(_affine)


def exprs(max_terms: int = 3):
    return st.lists(_affine_data, max_size=max_terms).map(
        lambda rows: Expr(Term(_affine(r)) for r in rows)
    )


def points():
    return st.tuples(st.integers(-24, 24), st.integers(-24, 24)).map(
        lambda xy: {"x": Fraction(xy[0], 6), "y": Fraction(xy[1], 6)}
    )


exponents = exponents_of(denominator=2)  # theory.testing's strategy: −∞ and k/2 in [-3, 2]
COMPARISONS = {
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}


def direct(affs: list[Affine], point) -> object:
    """max of affine forms evaluated one by one (no canonical form involved)."""
    return max((a.evaluate(point) for a in affs), default=NEG_INF)


# -- exact exponents and expressions ---------------------------------------------------------
# Several laws share one test (each still runs on every example: 1000 under CI): hypothesis'
# per-example overhead, not the laws, dominates the cost of this file.
@given(exprs(2), exprs(2), exprs(2), exponents, exponents, exponents)
def test_semiring_laws_commutativity_associativity_distributivity(a, b, c, x, y, z):
    assert a | b == b | a and max(x, y) == max(y, x), "max is commutative"
    assert a + b == b + a and x + y == y + x, "+ is commutative"
    assert (a | b) | c == a | (b | c) and max(max(x, y), z) == max(x, max(y, z)), "max assoc."
    assert (a + b) + c == a + (b + c) and (x + y) + z == x + (y + z), "+ is associative"
    assert a + (b | c) == (a + b) | (a + c), "+ distributes over max"
    assert x + max(y, z) == max(x + y, x + z), "+ distributes over max (exponents)"
    assert x + NEG_INF is NEG_INF and max(x, NEG_INF) == x and x + 0 == x


@given(exprs())
def test_expr_identities_and_neg_inf_absorbing(a):
    zero, neg_inf = Expr.const(0), Expr.neg_inf()
    assert a | neg_inf == a, "-inf is the identity of max"
    assert a + zero == a, "0 is the identity of +"
    assert a + neg_inf == neg_inf and a + NEG_INF == neg_inf, "-inf absorbs +"
    assert a | a == a, "max is idempotent"


@given(
    st.lists(affines(), min_size=1, max_size=3), st.randoms(use_true_random=False), small, points()
)
def test_expr_canonical_form_ignores_order_and_dominated_terms_and_is_sound(
    affs, rnd, slack, point
):
    base = Expr(Term(a) for a in affs)
    shuffled = list(affs)
    rnd.shuffle(shuffled)
    # A convex combination of terms, lowered by a non-negative slack, is dominated everywhere.
    weights = [Fraction(rnd.randint(0, 3)) for _ in affs]
    total = sum(weights) or Fraction(1)
    combo = sum((a * (w / total) for a, w in zip(affs, weights, strict=True)), Affine.constant(0))
    dominated = combo - abs(slack) if any(weights) else affs[0] - abs(slack)
    assert Expr(Term(a) for a in [*shuffled, dominated]) == base
    # Canonicalisation never changes the function.
    assert base.evaluate(point) == direct(affs, point)


@given(exprs(2), exprs(2), points())
def test_expr_operations_and_substitution_agree_with_numeric_evaluation(a, b, point):
    va, vb = a.evaluate(point), b.evaluate(point)
    assert (a | b).evaluate(point) == max(va, vb)
    assert (a + b).evaluate(point) == va + vb
    assert (2 * a).evaluate(point) == (NEG_INF if va is NEG_INF else 2 * va)
    assert parse_expr(str(a)) == a, "the printout reads back"
    if any(t.affine.coeff("x") < 0 for t in a.terms) and len(b.terms) != 1:
        # -max(...) is a min and -(-inf) is +inf: neither is an exponent max.
        with pytest.raises(ExponentError):
            a.substitute({"x": b})
    else:
        assert a.substitute({"x": b}).evaluate(point) == a.evaluate({**point, "x": vb})


# -- regions -----------------------------------------------------------------------------------
def regions():
    return st.builds(compare, exprs(2), st.sampled_from(sorted(COMPARISONS)), exprs(1))


@given(exprs(2), st.sampled_from(sorted(COMPARISONS)), exprs(2), regions(), points())
def test_regions_and_set_operations_agree_with_numeric_evaluation(a, op, b, s, point):
    r = compare(a, op, b)
    inr, ins = r.contains(point), s.contains(point)
    assert inr == COMPARISONS[op](a.evaluate(point), b.evaluate(point))
    assert (r & s).contains(point) == (inr and ins)
    assert (r | s).contains(point) == (inr or ins)
    assert (~r).contains(point) == (not inr)
    assert (r - s).contains(point) == (inr and not ins)


_one_variable = st.lists(st.tuples(affines(), st.sampled_from(["<=", "<", "=="])), max_size=3)


@given(regions(), regions(), points(), _one_variable)
def test_region_equality_laws_canonical_printout_and_intervals(r, s, point, constraints):
    assert r == r | (r & s), "absorption"
    assert r & s == s & r, "commutativity"
    assert ~~r == r, "double complement"
    assert (r & ~r).is_empty()
    rebuilt = Region(r.pieces)
    assert str(rebuilt) == str(r), "the canonical form is a fixed point"
    assert rebuilt.contains(point) == r.contains(point)
    # One variable: the canonical intervals agree with membership.
    x = Affine.var("x")
    line = Region.empty()
    for a, rel in constraints:
        line = line | Region.where(Affine.make({}, a.const) + x * a.coeff("x"), rel)
    value = point["x"]
    inside = any(
        (lo is None or value > lo or (lc and value == lo))
        and (hi is None or value < hi or (hc and value == hi))
        for lo, lc, hi, hc in line.intervals("x")
    )
    assert inside == line.contains({"x": value})
