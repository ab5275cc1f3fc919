"""Exact exponents: parsing, formatting, and the −∞ singleton."""

from __future__ import annotations

import pickle
from fractions import Fraction

import pytest

from theory import NEG_INF, ExponentError, format_exponent, parse_exponent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-1/2", Fraction(-1, 2)),
        ("-0.5", Fraction(-1, 2)),
        ("-1", Fraction(-1)),
        ("0", Fraction(0)),
        (" 3/4 ", Fraction(3, 4)),
        ("−1/2", Fraction(-1, 2)),
        ("-inf", NEG_INF),
        ("-∞", NEG_INF),
        (2, Fraction(2)),
        (Fraction(1, 3), Fraction(1, 3)),
    ],
    ids=repr,
)
def test_parse_exponent_accepts_exact_spellings(text, expected):
    assert parse_exponent(text) == expected
    assert type(parse_exponent(text)) is type(expected)


@pytest.mark.parametrize(
    "text", ["abc", "1/0", "", "inf", "+inf", "nan", "1/2/3", "eta", 0.5, True, None], ids=repr
)
def test_parse_exponent_rejects_malformed_input(text):
    with pytest.raises(ExponentError) as info:
        parse_exponent(text)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(-1, 2), "-1/2"), (Fraction(0), "0"), (Fraction(1), "1"), (NEG_INF, "-inf")],
    ids=repr,
)
def test_format_exponent_round_trips(value, text):
    assert format_exponent(value) == text
    assert parse_exponent(format_exponent(value)) == value


def test_format_exponent_keeps_growing_and_refuses_floats():
    assert format_exponent("growing") == "growing"
    with pytest.raises(ExponentError):
        format_exponent(0.5)


def test_neg_inf_is_an_exact_absorbing_bottom_not_a_float():
    assert not isinstance(NEG_INF, float)
    assert NEG_INF + Fraction(5) is NEG_INF
    assert Fraction(5) + NEG_INF is NEG_INF
    assert NEG_INF + NEG_INF is NEG_INF
    assert Fraction(-(10**9)) > NEG_INF
    assert max(NEG_INF, Fraction(-3)) == Fraction(-3)
    assert Fraction(0) != NEG_INF
    assert sorted([Fraction(1), NEG_INF, Fraction(-2)]) == [NEG_INF, Fraction(-2), Fraction(1)]
    assert pickle.loads(pickle.dumps(NEG_INF)) is NEG_INF
    with pytest.raises(ExponentError):
        _ = -NEG_INF
