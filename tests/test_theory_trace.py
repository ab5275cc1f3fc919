"""Derivation traces read like the papers' proofs (the t = 1, t = 2 values they quote)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from theory import Expr, derive

ETA = Expr.symbol("eta")


def final(md: str, quantity: str) -> str:
    """The value a trace line ends with (``- γ[Z_A^2] = … = max(γ[η] + 1, 0)  (note)``)."""
    line = next(x for x in md.splitlines() if x.startswith(f"- γ[{quantity}] = "))
    return line.split("  (")[0].rsplit(" = ", 1)[1]


def test_init_a_trace_quotes_the_proof_of_init_theorem1():
    """Init App. A.4: γ[A_t Z] = max(0, γ[η] + 1), γ[B_t] = γ[η] (from t = 2 on for A)."""
    md = derive("adam", "A", eta_A=ETA, eta_B=ETA, steps=2).to_markdown()
    assert "- γ[ΔZ_A^1] = γ[η_A] + 1 if B_0 ≠ 0 = -inf" in md
    assert "B_0 = 0: the normalised gradient is exactly 0, so Z_A does not move" in md
    assert "- γ[Z_A^1] = max(γ[Z_A^0], γ[ΔZ_A^1]) = max(0, -inf) = 0" in md
    assert "- γ[B_1] = max(γ[B_0], γ[ΔB_1]) = max(-inf, γ[η]) = γ[η]" in md
    assert final(md, "Z_A^2") == "max(γ[η] + 1, 0)"
    assert final(md, "Z_B^2") == "max(2γ[η] + 1, γ[η])"


def test_init_b_trace_quotes_the_proof_of_init_theorem2():
    """Init App. A.5: γ[A_t Z] = γ[η] + 1, γ[B_t] = max(0, γ[η]); δ² = γ[η] at γ[η] = −1."""
    md = derive("adam", "B", eta_A=ETA, eta_B=ETA, steps=2).to_markdown()
    assert "- γ[ΔB_1] = γ[η_B] if Z_A^0 ≠ 0 = -inf" in md
    assert final(md, "Z_A^1") == "γ[η] + 1"
    assert final(md, "B_2") == "max(γ[η], 0)"
    at_minus_one = derive("adam", "B", eta_A=-1, eta_B=-1, steps=2).to_markdown()
    assert "- γ[δ²_2] = γ[ΔB_2] + γ[Z_A^1] = (-1) + 0 = -1" in at_minus_one


def test_gd_linear_trace_quotes_the_proof_of_loraplus_prop1():
    """LoRA+ App. A.3 at γ[η] = −1/2, Init[1]: γ[b_1] = −1/2, γ[a_1ᵀx] = 0, γ[f_t] = −1/2."""
    md = derive("gd-linear", "A", eta_A="-1/2", eta_B="-1/2", steps=2).to_markdown()
    assert final(md, "b_1") == "-1/2"
    assert final(md, "a_1ᵀx") == "0"
    assert final(md, "f_2") == "-1/2"


def test_steady_state_table_flags_where_the_last_step_differs():
    md = derive("adam", "A", eta_A=ETA, eta_B=ETA, steps=2).to_markdown()
    # δ² reaches max(2γ[η] + 1, γ[η]) only at t = 3 (it uses Z_A^{t−1}).
    assert "| delta2 | max(2γ[η] + 1, γ[η]) (at t = 2: γ[η]) | never |" in md
    assert "| internal_instability | -1 < eta <= -1/2 |" in md


def test_latex_trace_is_an_align_environment():
    tex = derive("adam", "A", eta_A="-1/2", eta_B="-1/2", steps=2).to_latex()
    assert tex.splitlines()[1] == "\\begin{align*}"
    assert "\\gamma[Z_A^{2}] &= \\max(\\gamma[Z_A^{1}], \\gamma[\\Delta Z_A^{2}])" in tex
    assert tex.rstrip().endswith("\\end{align*}")
    assert "γ" not in tex.split("\n", 1)[1]  # only the comment line may keep Unicode


@pytest.mark.parametrize("model", ["adam", "gd-linear"])
def test_json_trace_round_trips_exact_exponents(model):
    d = derive(model, "B", eta_A=-1, eta_B=0, steps=3)
    payload = json.loads(json.dumps(d.to_json()))
    assert [s["t"] for s in payload["steps"]] == [0, 1, 2, 3]
    for step, original in zip(payload["steps"], d.steps, strict=True):
        for q, text in step["exponents"].items():
            expected = original.values[q].constant_value()
            assert text == ("-inf" if not original.values[q].terms else str(Fraction(expected)))
    assert payload["conditions"]["efficient"] is True
