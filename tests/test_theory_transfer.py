"""Rate transfer (issue 25, part 1): the rules' exponents against hand derivations, the laws every
power-law rule obeys (there and back is the identity, two hops are one), the measured rule's
interval, the exponent file's validation, and ``lora-gamma transfer``'s output and bad input."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import (
    MeasuredExponent,
    MeasuredExponentError,
    TransferError,
    exponent_file_json,
    read_exponent_file,
    transfer,
)
from theory.cli import main

F = Fraction
POWER_RULES = ("none", "edge", "loraplus", "measured")
MEASURED = {
    init: MeasuredExponent(
        "adam", init, "optimum", k, (k - 0.05, k + 0.04), provenance={"file": "x"}
    )
    for init, k in (("A", -0.753), ("B", -0.889))
}

widths = st.integers(min_value=1, max_value=1 << 16)
ranks = st.integers(min_value=1, max_value=512)
rates = st.floats(min_value=1e-6, max_value=10.0)
settings_ = settings(max_examples=25, deadline=None)


def _go(init, rule, n0, n, r0, r, rates_, s="1"):
    return transfer(init, from_width=n0, to_width=n, from_rank=r0, to_rank=r, eta_A=rates_[0],
                    eta_B=rates_[1], rule=rule, multiplier=s, measured=MEASURED[init])  # fmt: skip


@pytest.mark.parametrize(
    ("model", "init", "s", "width", "rank"),
    [
        ("adam", "A", "1", "-1/2", "0"),
        ("adam", "A", "1/2", "-1/2", "-1/4"),
        ("adam", "B", "1", "-1", "1/2"),  # per entry: B₀'s rank sum (docs/theory.md §12)
        ("adam", "B", "1/2", "-1", "0"),
        ("gd-linear", "A", "1", "-1/2", "1"),
        ("gd-linear", "B", "1/2", "-1", "0"),
    ],
)
def test_edge_exponents_match_the_hand_derived_table(model, init, s, width, rank):
    t = transfer(init, model=model, from_width=256, to_width=4096, from_rank=2, to_rank=32,
                 eta=1e-3, rule="edge", multiplier=s)  # fmt: skip
    got = {(e.matrix, e.axis): e.value for e in t.exponents}
    assert got == {("A", "width"): F(width), ("B", "width"): F(width),
                   ("A", "rank"): F(rank), ("B", "rank"): F(rank)}  # fmt: skip
    expected = 1e-3 * 16 ** float(F(width)) * 16 ** float(F(rank))
    assert math.isclose(t.eta_A, expected, rel_tol=1e-12)
    assert any("κ = 1/8" in line for line in t.trace)


def test_loraplus_grows_the_ratio_like_the_width_and_fixed_keeps_it():
    t = transfer("A", from_width=512, to_width=8192, eta=1e-3, rule="loraplus")
    assert math.isclose(t.eta_B / t.eta_A, 16.0, rel_tol=1e-12)
    assert math.isclose(t.eta_B, 1e-3, rel_tol=1e-12)
    fixed = transfer("B", from_width=512, to_width=8192, eta=1e-3, rule="loraplus-fixed", ratio=8)
    assert fixed.rates == (1e-3, 8e-3) and fixed.exponents == ()
    assert any("replaced" in note for note in fixed.notes)


@settings_
@given(init=st.sampled_from("AB"), rule=st.sampled_from(POWER_RULES), n0=widths, n=widths,
       r0=ranks, r=ranks, eta_A=rates, eta_B=rates, s=st.sampled_from(["1", "1/2"]))  # fmt: skip
def test_there_and_back_is_the_identity(init, rule, n0, n, r0, r, eta_A, eta_B, s):
    there = _go(init, rule, n0, n, r0, r, (eta_A, eta_B), s)
    back = _go(init, rule, n, n0, r, r0, there.rates, s)
    assert math.isclose(back.eta_A, eta_A, rel_tol=1e-9)
    assert math.isclose(back.eta_B, eta_B, rel_tol=1e-9)


@settings_
@given(init=st.sampled_from("AB"), rule=st.sampled_from(POWER_RULES), n0=widths, n1=widths,
       n2=widths, r0=ranks, r2=ranks, eta=rates)  # fmt: skip
def test_two_hops_are_one(init, rule, n0, n1, n2, r0, r2, eta):
    hop = _go(init, rule, n0, n1, r0, r0, (eta, eta))
    two = _go(init, rule, n1, n2, r0, r2, hop.rates)
    one = _go(init, rule, n0, n2, r0, r2, (eta, eta))
    for a, b in zip(two.rates, one.rates, strict=True):
        assert math.isclose(a, b, rel_tol=1e-9)


@settings_
@given(n0=widths, n=widths, r0=ranks, r=ranks, eta_A=rates, eta_B=rates)
def test_none_keeps_the_rates(n0, n, r0, r, eta_A, eta_B):
    t = _go("A", "none", n0, n, r0, r, (eta_A, eta_B))
    assert t.rates == (eta_A, eta_B)
    assert all(e.value == 0 for e in t.exponents)


def test_measured_rate_interval_contains_the_rate_and_flips_downward():
    up = transfer("A", from_width=512, to_width=8192, eta=1e-3, rule="measured",
                  measured=MEASURED["A"])  # fmt: skip
    (lo, hi), _ = up.rate_intervals
    assert lo < up.eta_A < hi
    assert math.isclose(lo, 1e-3 * 16 ** (-0.753 - 0.05), rel_tol=1e-12)
    down = transfer("A", from_width=8192, to_width=512, eta=1e-3, rule="measured",
                    measured=MEASURED["A"])  # fmt: skip
    (lo, hi), _ = down.rate_intervals
    assert lo < down.eta_A < hi and down.eta_A > 1e-3
    assert any("smaller than the source" in note for note in down.notes)


def test_measured_exponent_of_another_init_is_refused():
    with pytest.raises(TransferError, match="Init\\[B\\]"):
        transfer("A", from_width=1, to_width=2, eta=1, rule="measured", measured=MEASURED["B"])


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"from_width": 0}, "source width"),
        ({"to_width": float("inf")}, "target width"),
        ({"from_rank": -2}, "source rank"),
        ({"eta": float("nan")}, "rate eta"),
        ({"eta": "abc"}, "rate eta"),
        ({"rule": "sqrt"}, "unknown rule"),
        ({"model": "theory/examples/sgd.toml", "rule": "loraplus"}, "does not apply"),
    ],
)
def test_bad_input_is_a_transfer_error(kwargs, problem):
    args = {"from_width": 8, "to_width": 64, "eta": 1e-3, **kwargs}
    with pytest.raises(TransferError, match=problem):
        transfer("A", **args)


def _file(tmp_path, exponents):
    path = tmp_path / "exponents.json"
    path.write_text(exponent_file_json(exponents), encoding="utf-8")
    return path


def test_exponent_file_round_trip_and_validation(tmp_path):
    edge = MeasuredExponent("adam", "A", "edge", -0.5, (-0.55, -0.45))
    path = _file(tmp_path, [MEASURED["A"], edge])
    assert read_exponent_file(path, "adam", "A", "edge") == edge
    with pytest.raises(MeasuredExponentError, match="several"):
        read_exponent_file(path, "adam", "A")
    with pytest.raises(MeasuredExponentError, match="not Init\\[B\\]"):
        read_exponent_file(path, "adam", "B", "optimum")
    with pytest.raises(MeasuredExponentError, match="not gd-linear"):
        read_exponent_file(path, "gd-linear", "A", "optimum")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "lora-rate-exponents", "version": 1, "exponents": '
                   '[{"model": "adam", "init": "A", "source": "edge", "exponent": 0.1, '
                   '"interval": [0.2, 0.3]}]}')  # fmt: skip
    with pytest.raises(MeasuredExponentError, match="does not contain"):
        read_exponent_file(bad, "adam", "A")


def test_cli_json_names_every_exponent_and_its_source(capsys):
    argv = ["transfer", "--init", "B", "--from-width", "512", "--to-width", "4096",
            "--from-rank", "4", "--to-rank", "64", "--multiplier", "1/2", "--eta-A", "1e-3",
            "--eta-B", "2e-3", "--rule", "edge", "--json"]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["from"] == {"width": 512, "rank": 4} and out["rule"] == "edge"
    got = {(e["matrix"], e["axis"]): e["exponent"] for e in out["exponents"]}
    assert got == {("A", "width"): "-1", ("B", "width"): "-1", ("A", "rank"): "0",
                   ("B", "rank"): "0"}  # fmt: skip
    assert all(e["source"].startswith("calculator") for e in out["exponents"])
    assert math.isclose(out["eta_B"] / out["eta_A"], 2.0)


def test_cli_measured_reads_the_file(tmp_path, capsys):
    path = _file(tmp_path, [MEASURED["A"]])
    argv = ["transfer", "--init", "A", "--from-width", "512", "--to-width", "8192", "--eta",
            "1e-3", "--rule", "measured", "--from-results", str(path)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "w_A = -0.753 [-0.803, -0.713]" in text and "interval:" in text


@pytest.mark.parametrize(
    "extra",
    [
        ["--from-width", "-4", "--to-width", "64", "--eta", "1e-3"],
        ["--from-width", "4", "--to-width", "inf", "--eta", "1e-3"],
        ["--from-width", "4", "--to-width", "64", "--eta", "0"],
        ["--from-width", "4", "--to-width", "64", "--from-rank", "0", "--eta", "1e-3"],
        ["--from-width", "4", "--to-width", "64", "--eta-A", "1e-3"],
        ["--from-width", "4", "--to-width", "64", "--eta", "1e-3", "--rule", "measured"],
        ["--from-width", "4", "--to-width", "64", "--eta", "1e-3", "--source", "edge"],
        [
            "--from-width",
            "4",
            "--to-width",
            "64",
            "--eta",
            "1e-3",
            "--rule",
            "measured",
            "--from-results",
            "no-such-file.json",
        ],
    ],
)
def test_cli_bad_input_is_one_line_exit_2(extra, capsys):
    assert main(["transfer", "--init", "A", *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("lora-gamma: error: ")


def test_cli_file_of_another_init_is_one_line_exit_2(tmp_path, capsys):
    path = _file(tmp_path, [MEASURED["B"]])
    argv = ["transfer", "--init", "A", "--from-width", "4", "--to-width", "64", "--eta", "1",
            "--rule", "measured", "--from-results", str(path)]  # fmt: skip
    assert main(argv) == 2
    assert "not Init[A]" in capsys.readouterr().err


def test_cli_smaller_target_says_so(capsys):
    argv = ["transfer", "--init", "A", "--from-width", "4096", "--to-width", "512", "--eta", "1"]
    assert main(argv) == 0
    assert "note: the target is smaller than the source" in capsys.readouterr().out
