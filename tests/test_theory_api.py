"""The public API other packages code against (docs/architecture.md)."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

import theory
from theory import NEG_INF, ExponentError, predict, predicted_rate_exponent

ADAM = (
    "Z_A", "B", "B_moved", "Z_B", "Z_B_aligned", "dZ_B", "dZ_B_aligned",
    "delta1", "delta1_aligned", "delta2", "delta3",
)  # fmt: skip
GD = ("b", "aTx", "f", "residual", "delta1", "delta2", "delta3")
CONDITION_NAMES = {
    "stable",
    "internally_stable",
    "feature_learning",
    "efficient",
    "internal_instability",
}


def test_import_theory_does_not_import_jax_or_numpy():
    code = (
        "import sys, theory; theory.predict('adam', 'A', eta_A=-1, eta_B=0);"
        "theory.region('adam', 'A', ['stable']);"
        "bad = sorted(m for m in ('jax', 'numpy', 'matplotlib') if m in sys.modules);"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(("model", "names"), [("adam", ADAM), ("gd-linear", GD)])
@pytest.mark.parametrize("init", ["A", "B"])
def test_prediction_has_contract_names_and_shapes(model, names, init):
    p = predict(model, init, eta_A=-1, eta_B=0, steps=4)
    assert len(p.trajectory) == 5
    for step in p.trajectory:
        assert tuple(step) == names
    assert tuple(p.exponents) == names
    assert set(p.conditions) >= CONDITION_NAMES
    assert all(isinstance(v, bool) for v in p.conditions.values())
    for q in ("delta1", "delta2", "delta3"):
        assert p.trajectory[0][q] is NEG_INF
    for step in p.trajectory:
        for v in step.values():
            assert v is NEG_INF or type(v) is Fraction


@pytest.mark.parametrize("alias", ["A", "Init[A]", "Init[1]", "1", 1, "init[a]"])
def test_init_aliases_for_init_a(alias):
    assert predict("adam", alias, eta_A=0, eta_B=0).init == "A"


@pytest.mark.parametrize("alias", ["B", "Init[B]", "Init[2]", "2", 2])
def test_init_aliases_for_init_b(alias):
    assert predict("adam", alias, eta_A=0, eta_B=0).init == "B"


@pytest.mark.parametrize("rate", [Fraction(-1, 2), "-1/2", "-0.5"], ids=repr)
def test_rates_accept_fraction_and_strings(rate):
    p = predict("adam", "A", eta_A=rate, eta_B=rate)
    assert p.eta_A == Fraction(-1, 2)
    assert p.exponents["Z_A"] == Fraction(1, 2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": "nope", "init": "A", "eta_A": 0, "eta_B": 0},
        {"model": "adam", "init": "C", "eta_A": 0, "eta_B": 0},
        {"model": "adam", "init": "A", "eta_A": "abc", "eta_B": 0},
        {"model": "adam", "init": "A", "eta_A": 0.5, "eta_B": 0},
        {"model": "adam", "init": "A", "eta_A": None, "eta_B": 0},
        {"model": "adam", "init": "A", "eta_A": 0, "eta_B": 0, "steps": -1},
    ],
    ids=["model", "init", "rate", "float-rate", "missing-rate", "steps"],
)
def test_predict_rejects_bad_input_with_value_error(kwargs):
    with pytest.raises(ExponentError):
        predict(**kwargs)


def test_predicted_rate_exponent_matches_the_papers_for_adam():
    assert predicted_rate_exponent("adam", "A") == Fraction(-1, 2)
    assert predicted_rate_exponent("adam", "B") == Fraction(-1)
    assert predicted_rate_exponent("gd-linear", "B") == Fraction(-1)


def test_predicted_rate_exponent_refuses_when_no_single_rate_learns_features():
    # gd-linear with Init[A] never learns features at equal rates (LoRA+ Prop 1's setting).
    with pytest.raises(ExponentError, match="not at a single exponent"):
        predicted_rate_exponent("gd-linear", "A")


def test_public_api_is_reexported():
    for name in (
        "NEG_INF",
        "parse_exponent",
        "format_exponent",
        "ExponentError",
        "predict",
        "predicted_rate_exponent",
        "Prediction",
        "Expr",
        "Region",
        "Recursion",
    ):
        assert hasattr(theory, name)
    assert issubclass(theory.ExponentError, ValueError)
