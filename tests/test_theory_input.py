"""Hardened input: exponent size is bounded before anything is built, errors never echo a huge
input, an output path is checked before plotting, and random text never escapes as anything but
the usage error (``ExponentError``). Timing: benchmarks/parse_exponent.py, never asserted here."""

from __future__ import annotations

import os
import shlex
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import ExponentError, parse_exponent, parse_expr
from theory.cli import main

HUGE = {
    "billion-digit power": "1e999999999",
    "past the int-to-string limit": "1e4400",
    "tiny": "1e-5000",
    "5000-digit integer": "9" * 5000,
    "5000-digit denominator": "1/" + "7" * 5000,
    "long decimal": "0." + "3" * 500,
}


def run(capsys, command: list[str]) -> tuple[int, str, str]:
    code = main(command)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("text", HUGE.values(), ids=HUGE.keys())
def test_a_huge_exponent_is_refused_at_once_in_one_short_line(capsys, text):
    code, out, err = run(capsys, ["point", "--model", "adam", "--init", "A", "--eta", text])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and len(err) < 300, err
    assert "exponent" in err


@pytest.mark.parametrize("text", ["1e60", "-1e-60", "1" * 60, "1/" + "3" * 60, "-0.25"])
def test_exponents_at_the_bound_are_exact(text):
    from fractions import Fraction

    assert parse_exponent(text) == Fraction(text)


def test_huge_steps_are_refused_without_echoing_them(capsys):
    code, _, err = run(capsys, ["derive", "--model", "adam", "--init", "A", "--steps", "9" * 5000])
    assert code == 2 and len(err) < 300 and "--steps" in err


def test_a_huge_formula_is_refused_without_echoing_it():
    with pytest.raises(ExponentError, match="characters") as info:
        parse_expr("x + " * 2000)
    assert len(str(info.value)) < 200
    with pytest.raises(ExponentError, match="nests"):
        parse_expr("(" * 500 + "x" + ")" * 500)


def test_phase_refuses_an_existing_directory_before_plotting(capsys, tmp_path):
    target = tmp_path / "x.png"
    target.mkdir()
    code, out, err = run(capsys, ["phase", "--model", "adam", "--out", str(target)])
    assert code == 2 and out == "" and "is a directory" in err and err.count("\n") == 1


def test_phase_refuses_a_missing_directory(capsys, tmp_path):
    target = tmp_path / "missing" / "x.png"
    code, _, err = run(capsys, ["phase", "--model", "adam", "--out", str(target)])
    assert code == 2 and "does not exist" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_phase_refuses_an_unwritable_directory(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run(capsys, ["phase", "--model", "adam", "--out", str(locked / "x.png")])
    finally:
        locked.chmod(0o700)
    assert code == 2 and "not writable" in err


_ALPHABET = string.digits + "+-./eE _" + "x()*,−∞١inf"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=_ALPHABET, max_size=80)))
def test_random_text_is_an_exponent_or_the_usage_error(text):
    try:
        parse_exponent(text)
    except ExponentError as err:
        assert "\n" not in str(err) and len(str(err)) < 300


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=120), st.text(alphabet=_ALPHABET + "max(support", max_size=120)))
def test_random_text_is_a_formula_or_the_usage_error(text):
    try:
        parse_expr(text)
    except ExponentError as err:
        assert len(str(err)) < 300


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=_ALPHABET, min_size=1, max_size=40))
def test_the_cli_answers_random_rates_with_a_result_or_exit_code_2(text):
    command = ["point", "--model", "adam", "--init", "A", "--eta", text, "--json"]
    code = main(command)
    assert code in (0, 2), shlex.join(command)
