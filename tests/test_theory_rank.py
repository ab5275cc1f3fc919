"""The rank as a second asymptotic variable (issue 14, part 1): κ = 0 is today's calculator, the
κ-dependent exponents, regions and maximal rates match hand derivations, bad input is one line."""

from __future__ import annotations

import json
import re
import shlex
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import (
    ExponentError,
    SpecError,
    bind_parameters,
    derive,
    max_stable_rate_exponent,
    model_from_spec,
    parse_expr,
    predict,
    predicted_rate_exponent,
    rate_exponent_table,
    region,
    resolve_model,
)
from theory._phase import plot_rank_phase_diagram, rank_phase_rows
from theory.cli import main
from theory.testing import exponents

F = Fraction
GRID = [(F(k), F(s)) for k in ("0", "1/4", "1/2", "3/4") for s in ("0", "1/2", "1", "3/7")]

#: The built-in models' formulas as they were before the rank (r = Θ(1)), stated literally.
BEFORE = {
    "adam": {
        "extends": "adam",
        "name": "adam-before",
        "derived": {
            "Z_B": "B + Z_A",
            "delta1": "B_prev + Delta_Z_A",
            "delta2": "Delta_B + Z_A_prev",
            "delta3": "Delta_B + Delta_Z_A",
        },
    },
    "gd-linear": {
        "extends": "gd-linear",
        "name": "gd-linear-before",
        "increments": {"b": "eta_B + aTx + residual", "aTx": "eta_A + b + 1 + residual"},
        "derived": {
            "f": "b + aTx",
            "delta1": "b_prev + Delta_aTx",
            "delta2": "Delta_b + aTx_prev",
            "delta3": "Delta_b + Delta_aTx",
        },
    },
}
BEFORE_MODELS = {name: model_from_spec(spec) for name, spec in BEFORE.items()}


def run(capsys, command: str) -> tuple[int, str, str]:
    code = main(shlex.split(command))
    out, err = capsys.readouterr()
    return code, out, err


rates = exponents(finite=True)  # theory.testing: the strategies users get


@settings(max_examples=40, deadline=None)
@given(
    eta_A=rates,
    eta_B=rates,
    model=st.sampled_from(["adam", "gd-linear"]),
    init=st.sampled_from(["A", "B"]),
    s=st.sampled_from([None, F(0), F(1, 2), F(1), F(-3, 7)]),
)
def test_rank_exponent_zero_reproduces_the_fixed_rank_calculator(eta_A, eta_B, model, init, s):
    now = predict(model, init, eta_A=eta_A, eta_B=eta_B, rank_exponent=0, multiplier=s)
    before = predict(BEFORE_MODELS[model], init, eta_A=eta_A, eta_B=eta_B)
    assert now.exponents == before.exponents
    assert now.trajectory == before.trajectory
    assert now.conditions == before.conditions
    assert now.holds_from == before.holds_from
    assert now.growth == before.growth


@pytest.mark.parametrize("model", ["adam", "gd-linear"])
@pytest.mark.parametrize("init", ["A", "B"])
def test_rank_exponent_zero_reproduces_symbolic_regions(model, init):
    bound = resolve_model(model, rank_exponent=0, multiplier="1/2")
    for name in BEFORE_MODELS[model].conditions:
        assert region(bound, init, [name]) == region(BEFORE_MODELS[model], init, [name]), name


def adam_rate(init: str, kappa: Fraction, s: Fraction) -> Fraction:
    """Hand derivation (docs/theory.md §12): Z_A, B carry no rank; per entry, the moved part of
    B meets Z_A in an aligned sum (c = κ(1 − s)), the random B₀ in an independent one
    (c½ = κ(1/2 − s)). Init[A] (B = its moved part), equal η ≥ −1: Z_B = δ¹ = 2η + 1 + c = 0.
    Init[B], η ≤ 0: Z_B = max(η + 1 + c½, 2η + 1 + c) ≤ 0, and ΔZ_B = Z_B there."""
    c, c_half = kappa * (1 - s), kappa * (Fraction(1, 2) - s)
    return -(1 + c) / 2 if init == "A" else min(-1 - c_half, -(1 + c) / 2)


def adam_rate_aligned(init: str, kappa: Fraction, s: Fraction) -> Fraction:
    """The loss-relevant update's rate: along u every sum is aligned (+ c), as in the papers:
    Init[A] 2η + 1 + c = 0, Init[B] η + 1 + c = 0."""
    c = kappa * (1 - s)
    return -(1 + c) / 2 if init == "A" else -1 - c


@pytest.mark.parametrize(("kappa", "s"), GRID, ids=[f"k={k},s={s}" for k, s in GRID])
@pytest.mark.parametrize("init", ["A", "B"])
def test_adam_loss_relevant_feature_learning_rate_matches_the_aligned_hand_derivation(
    init, kappa, s
):
    where = region(
        "adam", init, ["feature_learning_aligned"], equal_rates=True, rank_exponent=kappa,
        multiplier=s,
    )  # fmt: skip
    (lo, _, hi, _), *_ = where.intervals("eta")
    assert lo == hi == adam_rate_aligned(init, kappa, s)


@pytest.mark.parametrize(("kappa", "s"), GRID, ids=[f"k={k},s={s}" for k, s in GRID])
@pytest.mark.parametrize("init", ["A", "B"])
def test_adam_rate_exponents_match_the_hand_derivation(init, kappa, s):
    expected = adam_rate(init, kappa, s)
    assert predicted_rate_exponent("adam", init, rank_exponent=kappa, multiplier=s) == expected
    assert max_stable_rate_exponent("adam", init, rank_exponent=kappa, multiplier=s) == expected


@pytest.mark.parametrize(("kappa", "s"), GRID, ids=[f"k={k},s={s}" for k, s in GRID])
def test_gd_linear_rate_exponents_match_the_hand_derivation(kappa, s):
    # μ = −sκ enters each gradient, c = κ − sκ the forward sum. Init[B] (b₀ = Θ(1)):
    # f = η + μ + 1 + c ≤ 0. Init[A]: b = η + μ, aᵀx stays Θ(1) iff 2η + 2μ + 1 ≤ 0 (else the
    # cycle b → aᵀx → b grows in t), then f = η + μ + c ≤ 0.
    mu, c = -s * kappa, kappa * (1 - s)
    assert max_stable_rate_exponent("gd-linear", "B", rank_exponent=kappa, multiplier=s) == (
        -1 - mu - c
    )
    edge_A = min(-F(1, 2) - mu, -mu - c)
    assert max_stable_rate_exponent("gd-linear", "A", rank_exponent=kappa, multiplier=s) == edge_A
    # Feature learning at equal rates needs f = 0 below the cycle's edge: κ(1 − s) ≥ 1/2.
    if -mu - c <= -F(1, 2) - mu:
        got = predicted_rate_exponent("gd-linear", "A", rank_exponent=kappa, multiplier=s)
        assert got == -mu - c
    else:
        with pytest.raises(ExponentError, match="not at a single exponent"):
            predicted_rate_exponent("gd-linear", "A", rank_exponent=kappa, multiplier=s)


def test_adam_steady_state_carries_the_rank_in_the_output_only():
    d = derive("adam", "A", rank_exponent="1/2", multiplier=0)
    assert d.steady["Z_A"].value == parse_expr("max(eta_A + 1, 0)")
    assert d.steady["B"].value == parse_expr("eta_B")
    assert d.steady["Z_B"].value == parse_expr("max(eta_A + eta_B + 3/2, eta_B + 1/2)")


@pytest.mark.parametrize(
    ("model", "init", "kappa", "s", "conditions", "expected"),
    [
        # LoRA+'s point moves to η_B = −κ(1 − s): Z_B and δ² = η_B + c must be Θ(1).
        ("adam", "A", "1/2", "0", ["efficient", "internally_stable"], "eta_A = -1, eta_B = -1/2"),
        ("adam", "A", "1/2", "1", ["efficient", "internally_stable"], "eta_A = -1, eta_B = 0"),
        ("adam", "B", "1/4", "1/2", ["stable"], "eta_A <= -1, eta_A + eta_B <= -9/8"),
        # gd-linear Init[B]: f = η_A + 1 + κ(1 − 2s) (μ once in Δ(aᵀx), c once in f).
        ("gd-linear", "B", "3/4", "1/2", ["stable"], "eta_A <= -1, eta_A + eta_B <= -1/4"),
    ],
)
def test_regions_match_the_hand_derivation(model, init, kappa, s, conditions, expected):
    got = region(model, init, conditions, rank_exponent=kappa, multiplier=s)
    assert str(got) == expected


def test_rate_table_is_the_documented_grid():
    table = rate_exponent_table("adam", "A")
    assert len(table) == 12 and table[("1/2", "1/2")] == "-5/8" and table[("3/4", "1")] == "-1/2"


def test_bound_models_are_one_value_per_parameter_values():
    adam = resolve_model("adam")
    assert bind_parameters(adam, {"kappa": "1/2"}) is bind_parameters(adam, {"kappa": F(1, 2)})
    assert bind_parameters(adam, {"kappa": 0, "s": 1}) is adam


def test_a_users_spec_can_state_the_rank_and_use_it_in_inits():
    spec = {
        "extends": "adam",
        "name": "adam-fan-in",  # B₀ with fan-in r: entries Θ(r^{-1/2}), and a κ/2 sum for Z_B
        "inits": {"B": {"Z_A": "-inf", "B": "-1/2*kappa"}},
        "derived": {"Z_B": "B + Z_A + 1/2*kappa - s*kappa"},
    }
    model = model_from_spec(spec, parameters={"kappa": "1/2", "s": "1/2"})
    p = predict(model, "B", eta_A=-1, eta_B=-1)
    assert p.trajectory[0]["B"] == F(-1, 4)
    assert p.exponents["Z_B"] == F(-1, 4) + F(1, 4) - F(1, 4)  # max(B₀, η_B) + Z_A + κ/2 − sκ


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"kappa": "1"}, "kappa = 1 is outside [0, 1)"),
        ({"kappa": "-1/4"}, "kappa = -1/4 is outside [0, 1)"),
        ({"kappa": 0.5}, "give an exact rational"),
        ({"s": "-inf"}, "give a finite rational"),
        ({"s": "abc"}, "malformed exponent"),
        ({"rho": "1"}, "adam has no parameter rho"),
    ],
    ids=["kappa-one", "kappa-negative", "float", "neg-inf", "not-rational", "unknown"],
)
def test_bad_parameter_values_are_refused(parameters, message):
    with pytest.raises(ExponentError, match=re.escape(message)):
        bind_parameters(resolve_model("adam"), parameters)


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"kappa": {"default": "2", "below": "1"}}, "parameters.kappa.default"),
        ({"kappa": {"default": "0", "upto": "1"}}, "parameters.kappa.upto"),
        ({"eta_A": "0"}, "parameters.eta_A"),
        ({"kappa": 3}, "parameters.kappa"),
    ],
    ids=["default-out-of-bounds", "unknown-field", "clash-with-rate", "not-text"],
)
def test_bad_parameter_declarations_name_the_field(parameters, field):
    spec = {"extends": "adam", "name": "bad", "parameters": parameters}
    with pytest.raises(SpecError, match=f"<python>: {field}"):
        model_from_spec(spec)


def test_done_when_point_json_is_todays_plus_the_echoed_inputs(capsys):
    code, out, _ = run(capsys, "point --model adam --init A --eta -1/2 --json")
    code0, out0, _ = run(capsys, "point --model adam --init A --eta -1/2 --rank-exponent 0 --json")
    assert code == code0 == 0
    today = json.loads(out)
    now = json.loads(out0)
    assert now == today
    assert list(now)[-2:] == ["rank_exponent", "multiplier"]
    assert (now["rank_exponent"], now["multiplier"]) == ("0", "1")
    assert now["exponents"] == {
        "Z_A": "1/2", "B": "-1/2", "B_moved": "-1/2", "Z_B": "0", "Z_B_aligned": "0",
        "dZ_B": "0", "dZ_B_aligned": "0", "delta1": "0", "delta1_aligned": "0",
        "delta2": "0", "delta3": "0",
    }  # fmt: skip


def test_cli_region_and_derive_take_and_echo_the_rank(capsys):
    command = "region --model adam --init B --condition feature_learning --equal-rates --json"
    code, out, _ = run(capsys, f"{command} --rank-exponent 1/2 --multiplier 1/2")
    payload = json.loads(out)
    assert code == 0 and payload["region"] == "eta = -1"  # per entry (the aligned: -5/4)
    assert (payload["rank_exponent"], payload["multiplier"]) == ("1/2", "1/2")
    code, out, _ = run(
        capsys, "derive --model gd-linear --init B --rank-exponent 1/4 --format json"
    )
    assert code == 0 and json.loads(out)["rank_exponent"] == "1/4"
    code, out, _ = run(
        capsys, "point --model adam --init A --eta -3/4 --rank-exponent 1/2 --multiplier 0"
    )
    assert code == 0 and "rank r = Θ(n^1/2), multiplier α·r^(−0)" in out
    assert re.search(r"\n  feature_learning +yes", out)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("point --model adam --init A --eta -1 --rank-exponent 1", "kappa = 1 is outside [0, 1)"),
        ("point --model adam --init A --eta -1 --rank-exponent -1/4", "kappa = -1/4 is outside"),
        ("point --model adam --init A --eta -1 --multiplier 1/x", "argument --multiplier"),
        ("region --model adam --init A --condition stable --multiplier -inf", "finite rational"),
        ("derive --model adam --init A --rank-exponent 1e999999999", "argument --rank-exponent"),
        (
            "point --model theory/examples/sgd.toml --init A --eta -1 --rank-exponent 1/2",
            "sgd declares no rank parameter kappa",
        ),
        ("phase --model adam --out x.png --over-rank --rank-exponent 0", "drop --rank-exponent"),
    ],
    ids=["kappa-one", "kappa-negative", "not-rational", "neg-inf", "huge", "no-rank", "over-rank"],
)
def test_cli_bad_rank_input_is_one_line_exit_2(capsys, command, message):
    code, out, err = run(capsys, command)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("lora-gamma: error: ") and message in err


def test_rank_phase_rows_follow_the_derived_edge():
    kappas = [F(0), F(1, 4), F(1, 2), F(3, 4)]
    for kappa, bands in rank_phase_rows("adam", "B", multiplier=0, kappas=kappas):
        point = next(b for b in bands if b.label == "feature learning")
        assert point.spans == ((adam_rate("B", kappa, F(0)),) * 2,)


def test_phase_over_rank_writes_a_figure(capsys, tmp_path):
    plot_rank_phase_diagram("gd-linear", tmp_path / "small.png", multipliers=("1",), kappa_steps=4)
    assert (tmp_path / "small.png").stat().st_size > 0
    out = tmp_path / "rank.png"
    code, text, _ = run(capsys, f"phase --model adam --out {out} --over-rank --multiplier 1")
    assert code == 0 and text.strip() == f"wrote {out}" and out.stat().st_size > 0


DOC = (Path(__file__).resolve().parents[1] / "docs" / "theory.md").read_text(encoding="utf-8")
SECTION = DOC.split("## 12. The rank as a second asymptotic variable")[1]


def test_documented_rate_table_is_what_the_engine_derives():
    rows = [
        line
        for line in SECTION.splitlines()
        if line.startswith("| adam") or line.startswith("| gd")
    ]
    assert len(rows) == 16
    for row in rows:
        label, kappa, *cells = [c.strip() for c in row.strip("|").split("|")]
        model, init = label.split(", Init[")
        init = init.rstrip("]")
        stable = rate_exponent_table(model, init, kappas=[kappa])
        learns = rate_exponent_table(model, init, kappas=[kappa], which="feature_learning")
        for s, cell in zip(("0", "1/2", "1"), cells, strict=True):
            st, fl = stable[(kappa, s)], learns[(kappa, s)]
            assert cell == (st if st == fl else f"{st} (f.l. {fl})"), (label, kappa, s)


def test_documented_transcript_is_real_output(capsys):
    block = next(b for b in re.findall(r"```text\n(.*?)```", SECTION, re.DOTALL) if "$ lora" in b)
    lines = block.splitlines()
    assert lines
    i = 0
    while i < len(lines):
        command = lines[i].removeprefix("$ lora-gamma ")
        shown = []
        i += 1
        while i < len(lines) and not lines[i].startswith("$ "):
            shown.append(lines[i])
            i += 1
        code, out, err = run(capsys, command)
        if shown[0].startswith("lora-gamma: error:"):
            assert code == 2 and err.splitlines() == shown, command
        else:
            assert code == 0 and out.splitlines() == shown, command
