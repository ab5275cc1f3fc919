"""Geometric growth in closed form (issue 26, item 2): γ_t = a·q^t + b + c·(−1)^t, exact, in
``point --json`` and in the trace; ``derive`` output grows in proportion to the steps shown."""

from __future__ import annotations

import json
import shlex
from fractions import Fraction as F

import pytest

from theory import predict
from theory._closed import fit_closed_form
from theory.cli import main


def run(capsys, command: str) -> tuple[int, str]:
    code = main(shlex.split(command))
    return code, capsys.readouterr().out


def test_point_json_gives_the_closed_form_of_the_geometric_residual(capsys):
    code, out = run(capsys, "point --model gd-linear --init B --eta -1/2 --json")
    form = json.loads(out)["closed_forms"]["f"]
    assert code == 0
    assert (form["a"], form["q"], form["b"], form["c"], form["from_step"]) == (
        "1/6",
        3,
        "0",
        "0",
        1,
    )


@pytest.mark.parametrize(
    ("init", "eta_A", "eta_B"),
    [("A", 0, 0), ("B", 0, 0), ("A", 0, F(-1, 2)), ("B", F(-1, 2), F(-1, 2))],
    ids=["A-0-0", "B-0-0", "A-0-half", "B-half-half"],
)
def test_closed_forms_match_every_unrolled_step(init, eta_A, eta_B):
    p = predict("gd-linear", init, eta_A=eta_A, eta_B=eta_B)
    long = predict("gd-linear", init, eta_A=eta_A, eta_B=eta_B, steps=60)
    assert set(p.closed_forms) == {q for q, kind in p.growth.items() if kind == "geometric"}
    for q, form in p.closed_forms.items():
        for t in range(form.from_step, 61):
            assert long.trajectory[t][q] == form.at(t), (q, t)


def test_a_sequence_of_another_shape_gets_no_closed_form():
    fibonacci = [F(1), F(1)]
    for _ in range(20):
        fibonacci.append(fibonacci[-1] + fibonacci[-2])
    assert fit_closed_form(fibonacci) is None
    assert fit_closed_form([F(t) for t in range(20)]) is None  # linear growth


def test_derive_writes_huge_exponents_by_their_closed_form(capsys):
    code, out = run(capsys, "derive --model gd-linear --init B --eta -1/2 --steps 300")
    assert code == 0
    assert "- γ[f_300] = γ[a_300ᵀx] + γ[b_300] = 1/6·3^300" in out
    assert max(len(line) for line in out.splitlines()) < 400


def test_derive_output_grows_in_proportion_to_the_steps(capsys):
    sizes = {}
    for steps in (200, 400):
        code, out = run(capsys, f"derive --model gd-linear --init B --eta -1/2 --steps {steps}")
        assert code == 0
        sizes[steps] = len(out)
    assert sizes[400] < 2.2 * sizes[200]
    code, out = run(
        capsys, "derive --model gd-linear --init B --eta -1/2 --steps 400 --format json"
    )
    assert code == 0 and json.loads(out)["closed_forms"]["f"]["checked_through"] == 400
