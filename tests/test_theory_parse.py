"""Exponent expressions from text: the grammar, its errors, and recursions stated as strings."""

from __future__ import annotations

from fractions import Fraction

import pytest

from theory import ExponentError, Expr, Recursion, parse_expr, predict

s = Expr.symbol


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("eta", s("eta")),
        ("-1/2", Expr.const(Fraction(-1, 2))),
        ("0.25", Expr.const(Fraction(1, 4))),
        ("-inf", Expr.neg_inf()),
        ("max(eta + 1, 0)", (s("eta") + 1) | Expr.const(0)),
        ("2*b + aTx - 1", 2 * s("b") + s("aTx") - 1),
        ("b*2", 2 * s("b")),
        ("max(a, max(b, c))", Expr.max(s("a"), s("b"), s("c"))),
        ("eta_A + 1 + support(B)", (s("eta_A") + 1) + s("B").support()),
        ("max(eta, -inf)", s("eta")),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_parse_expr_grammar(text, expected):
    assert parse_expr(text) == expected


def test_parse_expr_negates_a_single_affine_term():
    point = {"x": Fraction(1, 3), "y": Fraction(-2)}
    assert parse_expr("-(x + y) + 2").evaluate(point) == Fraction(11, 3)


@pytest.mark.parametrize(
    "text",
    ["", "eta +", "max()", "(x", "1/0", "abc def", "x * y", "eta - max(a, b)", "0*x", "x $ y"],
)
def test_parse_expr_rejects_malformed_text_in_one_line(text):
    with pytest.raises(ExponentError) as info:
        parse_expr(text)
    assert "\n" not in str(info.value)


def test_a_recursion_stated_as_text_matches_the_builtin_model():
    """gd-linear written as strings gives the built-in steady state and growth region."""
    text = Recursion(
        "gd-linear (text)",
        ("eta_A", "eta_B"),
        {"b": "eta_B + aTx", "aTx": "eta_A + b + 1"},
        {"f": "b + aTx", "delta1": "b_prev + Delta_aTx", "delta2": "Delta_b + aTx_prev"},
    )
    steady = text.steady_state({"b": "-inf", "aTx": "0"})
    assert str(steady["f"].value) == "eta_B"
    assert str(steady["f"].growing) == "eta_A + eta_B > -1"
    bound = text.bind({"eta_A": -1, "eta_B": 0}).iterate({"b": "-inf", "aTx": "0"}, 4)
    builtin = predict("gd-linear", "A", eta_A=-1, eta_B=0, steps=4).trajectory
    for step, expected in zip(bound, builtin, strict=True):
        assert step.values["f"].constant_value() == expected["f"]
