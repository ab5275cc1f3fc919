"""`lora-gamma`: subcommands, the JSON contract, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from fractions import Fraction

import pytest

from theory import predict, region
from theory.cli import main


def run(capsys, command: str) -> tuple[int, str, str]:
    """``lora-gamma <command>`` through ``main(argv)``: exit code, stdout, stderr."""
    code = main(shlex.split(command))
    out, err = capsys.readouterr()
    return code, out, err


def test_point_json_is_the_contract(capsys):
    code, out, err = run(capsys, "point --model adam --init A --eta -1/2 --json")
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert payload["exponents"] == dict(
        Z_A="1/2", B="-1/2", B_moved="-1/2", Z_B="0", Z_B_aligned="0", dZ_B="0",
        dZ_B_aligned="0", delta1="0", delta1_aligned="0", delta2="0", delta3="0",
    )  # fmt: skip
    assert payload["conditions"]["feature_learning"] is True
    assert payload["conditions"]["internal_instability"] is True
    expected = predict("adam", "A", eta_A=Fraction(-1, 2), eta_B=Fraction(-1, 2)).conditions
    assert payload["conditions"] == dict(expected)


def test_point_reports_growing_quantities(capsys):
    code, out, _ = run(
        capsys, "point --model gd-linear --init Init[1] --eta-A 0 --eta-B -0.5 --json"
    )
    assert code == 0
    payload = json.loads(out)
    exponents = payload["exponents"]
    assert set(exponents) == {"b", "aTx", "f", "residual", "delta1", "delta2", "delta3"}
    assert set(exponents.values()) == {"growing"}
    assert payload["growth"] == dict.fromkeys(exponents, "geometric")


def test_point_reports_geometric_growth_with_the_first_exponents(capsys):
    """The issue's case: Init[B], GD, c = −1/2: γ[f_t] = 3^{t−1}/2 (the residual multiplies)."""
    code, out, _ = run(capsys, "point --model gd-linear --init B --eta -1/2 --json")
    assert code == 0
    payload = json.loads(out)
    assert payload["exponents"]["f"] == "growing"
    assert payload["growth"]["f"] == "geometric"
    assert payload["first_steps"]["f"][:5] == ["-inf", "1/2", "3/2", "9/2", "27/2"]


def test_point_json_carries_both_readings_of_efficiency(capsys):
    code, out, _ = run(capsys, "point --model adam --init A --eta -1/2 --json")
    payload = json.loads(out)
    assert code == 0 and payload["conditions"]["efficient"] is True
    assert payload["conditions"]["efficient_every_step"] is False
    assert payload["holds_from_step"]["efficient"] == 3  # δ²_2 = Θ(n^{-1/2})
    assert payload["growth"] == {}


def test_point_human_readable(capsys):
    code, out, _ = run(capsys, "point --model adam --init B --eta-A=-1 --eta-B=0")
    assert code == 0
    assert re.search(r"\n  efficient +yes", out)


def test_region_equal_rates_json_has_exact_intervals(capsys):
    code, out, _ = run(
        capsys, "region --model adam --init A --condition internal_instability --equal-rates --json"
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["region"] == "-1 < eta <= -1/2"
    assert payload["intervals"] == [
        {"lo": "-1", "lo_closed": False, "hi": "-1/2", "hi_closed": True}
    ]


def test_region_conjunction_of_conditions(capsys):
    code, out, _ = run(
        capsys, "region --model adam --init A --condition efficient --condition internally_stable"
    )
    assert code == 0
    assert out.strip() == str(region("adam", "A", ["efficient", "internally_stable"]))
    assert out.strip() == "eta_A = -1, eta_B = 0"


@pytest.mark.parametrize("fmt", ["md", "latex", "json"])
def test_derive_formats(capsys, fmt):
    code, out, _ = run(capsys, f"derive --model adam --init A --eta -1/2 --steps 2 --format {fmt}")
    assert code == 0
    if fmt == "json":
        payload = json.loads(out)
        assert [s["t"] for s in payload["steps"]] == [0, 1, 2]
        assert payload["steps"][2]["exponents"]["Z_A"] == "1/2"
    elif fmt == "md":
        assert "- γ[Z_A^2] = max(γ[Z_A^1], γ[ΔZ_A^2]) = max(0, 1/2) = 1/2" in out
    else:
        assert "\\begin{align*}" in out and "\\gamma[Z_A^{2}]" in out


def test_derive_leaves_an_omitted_rate_symbolic(capsys):
    code, out, _ = run(capsys, "derive --model adam --init A --eta-B 0 --format json")
    assert code == 0
    payload = json.loads(out)
    assert payload["rates"] == {"eta_A": "eta_A", "eta_B": "0"}
    assert payload["steady"]["Z_A"]["exponent"] == "max(eta_A + 1, 0)"


BAD_INPUT = {
    "abc": ("point --model adam --init A --eta abc", "'abc'"),
    "1/0": ("point --model adam --init A --eta 1/0", "zero denominator"),
    "model": ("point --model nope --init A --eta 0", "unknown model"),
    "init": ("point --model adam --init C --eta 0", "unknown init"),
    "condition": ("region --model adam --init A --condition nope", "unknown condition"),
    "half-rate": ("point --model adam --init A --eta-A 0", "missing rate"),
    "no-rate": ("point --model adam --init A", "missing rate"),
    "both-rates": ("point --model adam --init A --eta 0 --eta-A 0", "not both"),
    "steps": ("derive --model adam --init A --steps -1", "--steps"),
    "too-many-steps": ("derive --model adam --init A --steps 100000", "--steps"),
    "suffix": ("phase --model adam --out diagram.txt", ".png"),
    "command": ("frobnicate", "invalid choice"),
    "empty": ("", "required"),
}


@pytest.mark.parametrize(("command", "needle"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_line_and_exit_code_2(capsys, command, needle):
    code, out, err = run(capsys, command)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("lora-gamma: error:")
    assert needle in err


def test_phase_writes_a_figure(tmp_path, capsys):
    target = tmp_path / "phase.png"
    code, out, _ = run(capsys, f"phase --model adam --out {target}")
    assert code == 0 and target.stat().st_size > 10_000
    assert out.strip() == f"wrote {target}"


def test_installed_entry_point_via_subprocess():
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "theory.cli",
            "point",
            "--model",
            "adam",
            "--init",
            "Init[2]",
            "--eta",
            "-1",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["exponents"]["delta2"] == "-1"
    cmd = [sys.executable, "-m", "theory.cli", "point", "--model", "adam", "--init", "A"]
    bad = subprocess.run(
        [*cmd, "--eta", "abc"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1
