"""Specs and derivations that once hung or crashed ``lora-gamma`` (issue 26): each is now one line
on stderr and exit code 2. Wall time is measured in ``benchmarks/bench_hostile.py``, not here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import theory
from theory.cli import main

EXAMPLES = theory.EXAMPLE_DIR


def _run(argv, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _refused(argv, capsys) -> str:
    code, out, err = _run(argv, capsys)
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lora-gamma: error: "), err
    return lines[0]


def _point(spec: Path) -> list[str]:
    return ["point", "--model", spec, "--init", "A", "--eta", "-1"]


HOSTILE_TEXTS = {
    "brackets-2000": "x = " + "[" * 2000 + "]" * 2000,
    "brackets-200k": "x = " + "[" * 200_000 + "]" * 200_000,
    "inline-tables": "x = " + "{a = " * 100 + "1" + "}" * 100,
    "header-100k-parts": "[" + ".".join(["a"] * 100_000) + "]\n",
    "dotted-key": ".".join(["k"] * 5000) + " = 1\n",
}


@pytest.mark.parametrize("text", HOSTILE_TEXTS.values(), ids=HOSTILE_TEXTS.keys())
def test_a_spec_nested_or_dotted_beyond_any_model_is_refused_in_one_line(tmp_path, capsys, text):
    spec = tmp_path / "hostile.toml"
    spec.write_text(text)
    line = _refused(_point(spec), capsys)
    assert "hostile.toml" in line


def test_a_device_is_refused_without_reading_it(capsys):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    assert "not a regular file" in _refused(_point(Path("/dev/zero")), capsys)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_spec_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "x.toml"
    os.mkfifo(fifo)
    run = subprocess.run(
        [sys.executable, "-m", "theory.cli", *map(str, _point(fifo))],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard only
    )
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.splitlines()) == 1 and "not a regular file" in run.stderr


def test_a_directory_is_refused(tmp_path, capsys):
    folder = tmp_path / "d.toml"
    folder.mkdir()
    assert "directory" in _refused(_point(folder), capsys)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


EXTENDS = {
    "outside-the-folder": ('"../examples/sgd"', "named without a path"),
    "absolute-path": (f'"{EXAMPLES / "sgd"}"', "named without a path"),
    "missing-file": ('"nothere"', "no file nothere.toml"),
    "not-a-string": ("3", "not a built-in model"),
}


@pytest.mark.parametrize(("base", "says"), EXTENDS.values(), ids=EXTENDS.keys())
def test_extends_is_confined_to_the_builtins_and_the_specs_own_folder(tmp_path, capsys, base, says):
    spec = _write(tmp_path, "child.toml", f'extends = {base}\nname = "child"\n')
    line = _refused(_point(spec), capsys)
    assert "child.toml: extends:" in line and says in line


def test_extends_may_name_a_spec_in_the_same_folder(tmp_path, capsys):
    _write(tmp_path, "base.toml", (EXAMPLES / "sgd.toml").read_text())
    spec = _write(tmp_path, "child.toml", 'extends = "base"\nname = "child"\n')
    code, out, _ = _run(["region", "--model", spec, "--init", "A", "--condition", "stable"], capsys)
    assert code == 0 and out.strip() == "eta_A + eta_B <= -2, eta_B <= 0"


def test_extends_naming_a_broken_file_names_that_file_and_its_problem(tmp_path, capsys):
    _write(tmp_path, "base.toml", "name = [unclosed\n")
    spec = _write(tmp_path, "child.toml", 'extends = "base"\nname = "child"\n')
    line = _refused(_point(spec), capsys)
    assert "base.toml: not valid TOML" in line


def test_a_cycle_of_extends_is_reported_as_a_cycle(tmp_path, capsys):
    _write(tmp_path, "one.toml", 'extends = "two"\nname = "one"\n')
    spec = _write(tmp_path, "two.toml", 'extends = "one"\nname = "two"\n')
    assert "a cycle: one.toml → two.toml → one.toml" in _refused(_point(spec), capsys)


def test_a_cyclic_derived_definition_is_reported_as_a_cycle(tmp_path, capsys):
    text = 'extends = "adam"\nname = "c"\n[derived]\nX1 = "X2 + 1"\nX2 = "X1"\n'
    line = _refused(_point(_write(tmp_path, "c.toml", text)), capsys)
    assert "derived.X1: is defined in a cycle: X1 → X2 → X1" in line


def test_a_derived_quantity_may_use_one_defined_after_it(tmp_path, capsys):
    text = 'extends = "adam"\nname = "c"\n[derived]\nX1 = "X2 + 1"\nX2 = "Z_B"\n'
    code, out, _ = _run([*_point(_write(tmp_path, "c.toml", text)), "--json"], capsys)
    assert code == 0 and '"X1": "0", "X2": "-1"' in out


def test_a_non_string_increment_names_its_field_once(tmp_path, capsys):
    text = 'extends = "adam"\nname = "c"\n[increments]\nB = 3\n'
    line = _refused(_point(_write(tmp_path, "c.toml", text)), capsys)
    assert line.count("increments.B") == 1 and "expected a non-empty string, not int" in line


def test_a_condition_named_with_capitals_is_selected_and_reported_as_written(tmp_path, capsys):
    text = 'extends = "adam"\nname = "c"\n[conditions]\ndecay_moves_B0 = "B > 0"\n'
    spec = _write(tmp_path, "c.toml", text)
    argv = ["region", "--model", spec, "--init", "A", "--condition", "decay_moves_B0", "--json"]
    code, out, _ = _run(argv, capsys)
    assert code == 0 and '"conditions": ["decay_moves_B0"]' in out
    line = _refused(["region", "--model", spec, "--init", "A", "--condition", "nope"], capsys)
    assert "decay_moves_B0" in line


def _dense(states: int) -> str:
    names = [f"X{i}" for i in range(states)]
    rows = [f'{s} = "max({", ".join(f"eta_A + {t} + {j}" for j, t in enumerate(names))})"'
            for s in names]  # fmt: skip
    init = "\n".join(f'{s} = "{"0" if i == 0 else "-inf"}"' for i, s in enumerate(names))
    return (
        f'name = "dense{states}"\n[inits.A]\n{init}\n[increments]\n' + "\n".join(rows)
        + '\n[roles]\noutput = "X0"\n[conditions]\nstable = "X0 <= 0"\n'
    )  # fmt: skip


@pytest.mark.parametrize("states", [6, 8], ids=lambda k: f"dense-{k}-states")
def test_a_spec_too_dense_for_the_exact_analysis_is_refused_before_it_runs(
    tmp_path, capsys, states
):
    spec = _write(tmp_path, "dense.toml", _dense(states))
    line = _refused(["region", "--model", spec, "--init", "A", "--condition", "stable"], capsys)
    assert "too dense for the exact analysis" in line


def test_a_dense_four_state_spec_is_analysed(tmp_path, capsys):
    spec = _write(tmp_path, "dense.toml", _dense(4))
    code, out, _ = _run(["region", "--model", spec, "--init", "A", "--condition", "stable"], capsys)
    assert code == 0 and out.strip() == "eta_A <= -3"


def test_symbolic_derivation_where_exponents_multiply_is_refused_beyond_the_settling_steps(
    capsys,
):
    line = _refused(["derive", "--model", "gd-linear", "--init", "B", "--steps", "20"], capsys)
    assert "at most 5 steps" in line and "fix the rates" in line


def test_efficient_every_step_never_holds_from_before_efficient():
    p = theory.predict("adam", "A", eta_A=-1, eta_B=0)
    assert p.holds_from["efficient"] == p.holds_from["efficient_every_step"] == 2


def test_a_negative_multiplier_is_printed_as_a_positive_power(capsys):
    code, out, _ = _run(["point", "--model", "adam", "--init", "A", "--eta", "-1",
                         "--multiplier", "-2"], capsys)  # fmt: skip
    assert code == 0 and "multiplier α·r^(2)" in out and "−-" not in out


# -- hostile specs, generated -------------------------------------------------------------------
_BROKEN = [
    'extends = "..\\\\x"',
    'extends = ""',
    'extends = "/etc/passwd"',
    'name = "x"\n[increments]\nB = 1',
    'name = "x"\n[derived]\nQ = "Q"',
]
_texts = st.one_of(
    st.integers(33, 3000).map(lambda k: "x = " + "[" * k + "]" * k),
    st.integers(33, 3000).map(lambda k: "x = " + "{a = " * k + "1" + "}" * k),
    st.integers(33, 20_000).map(lambda k: "[" + ".".join(["a"] * k) + "]"),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.text(alphabet='[]{}=."ab\n#', max_size=300),
    st.sampled_from(_BROKEN),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_texts)
def test_a_hostile_spec_is_one_line_on_stderr_and_exit_2(tmp_path, capsys, text):
    spec = tmp_path / "h.toml"
    spec.write_text(text, encoding="utf-8", errors="surrogateescape")
    _refused(_point(spec), capsys)
