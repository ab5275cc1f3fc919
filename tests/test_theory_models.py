"""Models as values: the built-ins are specs like a user's, the shipped example specs load and run
through every entry point and the CLI, and a bad spec is one line naming the file and the field."""

from __future__ import annotations

import json
import shlex
from fractions import Fraction
from pathlib import Path

import pytest

import theory
from theory import (
    EXAMPLE_DIR,
    MODEL_DIR,
    MODELS,
    Model,
    SpecError,
    derive,
    load_model,
    model_from_spec,
    predict,
    predicted_rate_exponent,
    region,
)
from theory._phase import phase_regimes
from theory.cli import main

EXAMPLES = sorted(EXAMPLE_DIR.glob("*.toml"))


def run(capsys, command: str) -> tuple[int, str, str]:
    code = main(shlex.split(command))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ["adam", "gd-linear"])
def test_builtin_models_are_loaded_from_their_spec_files(name):
    again = load_model(MODEL_DIR / f"{name}.toml")
    assert isinstance(MODELS[name], Model)
    for init in ("A", "B"):
        assert derive(again, init).conditions.keys() == derive(name, init).conditions.keys()
        for condition, where in derive(name, init).conditions.items():
            assert derive(again, init).conditions[condition] == where, (init, condition)


def test_examples_are_shipped():
    assert {p.stem for p in EXAMPLES} == {
        "sgd", "sgd-momentum", "adam-ab", "adam-per-coordinate", "adam-aligned",
    }  # fmt: skip


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_entry_point_takes_an_example_model(path):
    model = load_model(path)
    for init in model.inits:
        p = predict(model, init, eta_A=-1, eta_B=0)
        assert p.model == model.name and set(p.conditions) == set(model.conditions)
        assert region(model, init, ["stable"]) == derive(model, init).conditions["stable"]
        assert [r.label for r in phase_regimes(model, init)]
    assert (
        predict(str(path), "A", eta_A=-1, eta_B=0).exponents
        == predict(model, "A", eta_A=-1, eta_B=0).exponents
    )


def test_momentum_with_a_fixed_beta_changes_no_region():
    sgd, momentum = (load_model(EXAMPLE_DIR / f"{n}.toml") for n in ("sgd", "sgd-momentum"))
    for init in ("A", "B"):
        for condition in sgd.conditions:
            assert region(sgd, init, [condition]) == region(momentum, init, [condition])


def test_sgd_layer_learns_features_at_eta_minus_two_with_init_b():
    sgd = load_model(EXAMPLE_DIR / "sgd.toml")
    assert predicted_rate_exponent(sgd, "B") == -2
    assert str(region(sgd, "A", ["efficient"])) == "eta_A = -2, eta_B = 0"


def test_adam_ab_init_extends_the_builtin_model():
    ab = load_model(EXAMPLE_DIR / "adam-ab.toml")
    assert set(ab.inits) == {"A", "B", "AB"}
    assert predicted_rate_exponent(ab, "AB") == -1
    assert predict(ab, "ab", eta_A=-1, eta_B=0).conditions["efficient_every_step"]


def test_a_python_spec_is_a_model_like_any_other():
    spec = {
        "name": "toy",
        "inits": {"A": {"x": "0"}},
        "increments": {"x": "eta_A + eta_B + x"},
        "roles": {"output": "x"},
        "conditions": {"stable": {"holds": "x <= 0", "means": "x is O(1)"}},
    }
    toy = model_from_spec(spec)
    assert str(region(toy, "A", ["stable"])) == "eta_A + eta_B <= 0"
    assert predict(toy, "A", eta_A=1, eta_B=0).growth == {"x": "linear"}


def test_cli_runs_the_sgd_spec_through_point_region_derive_and_phase(capsys, tmp_path):
    spec = EXAMPLE_DIR / "sgd.toml"
    code, out, _ = run(capsys, f"point --model {spec} --init B --eta -2 --json")
    assert code == 0 and json.loads(out)["conditions"]["feature_learning"] is True
    code, out, _ = run(capsys, f"region --model {spec} --init B --condition stable --equal-rates")
    assert code == 0 and out.strip() == "eta <= -2"
    code, out, _ = run(capsys, f"derive --model {spec} --init B --eta -2 --steps 2")
    assert code == 0 and "γ[ΔZ_A^1] = γ[B_0] + γ[η_A] + 2 = 0 + (-2) + 2 = 0" in out
    figure = tmp_path / "sgd.png"
    code, out, _ = run(capsys, f"phase --model {spec} --out {figure}")
    assert code == 0 and figure.stat().st_size > 0


BASE = (EXAMPLE_DIR / "sgd.toml").read_text(encoding="utf-8")
BAD_SPECS = {
    "unknown quantity": (
        BASE.replace('B = "eta_B + Z_A"', 'B = "eta_B + Z_C"'),
        "increments.B: increment of B uses unknown Z_C",
    ),
    "malformed formula": (
        BASE.replace('Z_B = "B + Z_A"', 'Z_B = "B + + Z_A)"'),
        "derived.Z_B:",
    ),
    "condition naming nothing": (
        BASE.replace('stable = { holds = "Z_B <= 0"', 'stable = { holds = "0 <= 1"'),
        "conditions.stable: '0 <= 1' names no quantity",
    ),
    "condition naming an unknown quantity": (
        BASE.replace('"stable and dZ_B == 0"', '"stable and speed == 0"'),
        "conditions.feature_learning: 'speed == 0' names no quantity or rate",
    ),
    "unknown init state": (
        BASE.replace('[inits.A]  # B₀ = 0, A₀ random\nZ_A = "0"', '[inits.A]\nZ_C = "0"'),
        "inits.A.Z_C: not a state",
    ),
    "malformed initial exponent": (
        BASE.replace('Z_A = "0"', 'Z_A = "1e999999999"'),
        "inits.A.Z_A:",
    ),
    "not TOML": ("name = ", "not valid TOML"),
    "unknown field": (BASE.replace('name = "sgd"', 'name = "sgd"\nspeed = 1'), "speed: unknown"),
}


@pytest.mark.parametrize("case", list(BAD_SPECS), ids=lambda c: c.replace(" ", "-"))
def test_a_bad_spec_is_one_line_with_the_file_and_the_field(capsys, tmp_path, case):
    text, expected = BAD_SPECS[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=r"bad\.toml"):
        load_model(path)
    code, out, err = run(capsys, f"point --model {path} --init A --eta -1")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err and expected in err, err


def test_missing_spec_file_and_unknown_init_are_usage_errors(capsys, tmp_path):
    code, _, err = run(capsys, f"point --model {tmp_path / 'none.toml'} --init A --eta -1")
    assert code == 2 and "no such model spec file" in err
    code, _, err = run(capsys, f"point --model {EXAMPLE_DIR / 'sgd.toml'} --init AB --eta -1")
    assert code == 2 and "unknown init 'AB' for sgd" in err


def test_bind_accepts_a_rate_given_as_formula_text():
    rec = MODELS["adam"].recursion.bind({"eta_A": "eta", "eta_B": "eta"})
    assert rec.rates == ("eta",)
    assert (
        str(rec.steady_state({"Z_A": 0, "B": "-inf", "B_moved": "-inf"})["Z_A"].value)
        == "max(eta + 1, 0)"
    )


def test_a_hand_built_derivation_does_not_print_a_free_rate_as_equal_to_itself():
    d = derive("adam", "B")
    hand = theory.Derivation(d.model, d.init, d.rates, d.steps, d.steady, d.conditions)
    title = hand.to_markdown().splitlines()[0]
    assert "γ[η_A] = γ[η_A]" not in title and "symbolic" in title
    assert Fraction(-1) in region("adam", "B", ["stable"], equal_rates=True)


def test_spec_files_are_package_data():
    text = (Path(theory.__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"models/*.toml"' in text and '"examples/*.toml"' in text
