"""docs/theory.md stays true: its Python runs, its CLI transcripts and region table are real."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from theory import region
from theory.cli import main

DOC = (Path(__file__).resolve().parents[1] / "docs" / "theory.md").read_text(encoding="utf-8")


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC, flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_examples_run(index):
    exec(compile(blocks("python")[index], f"docs/theory.md[python {index}]", "exec"), {})


def test_cli_transcript_is_real_output(capsys):
    transcript = blocks("console")[0].splitlines()
    errors = []
    i = 0
    while i < len(transcript):
        command = transcript[i].removeprefix("$ lora-gamma ")
        expected = []
        i += 1
        while i < len(transcript) and not transcript[i].startswith("$ "):
            expected.append(transcript[i])
            i += 1
        code = main(shlex.split(command))
        out, err = capsys.readouterr()
        if expected:
            assert code == 0 and out.splitlines() == expected, command
        else:
            assert code == 2 and out == "", command
            errors.append(err.strip())
    shown = next(b for b in blocks("text") if b.startswith("lora-gamma: error:"))
    assert errors == shown.strip().splitlines()


def test_region_table_is_what_the_engine_derives():
    table = DOC.split("Regions for (γ[η_A], γ[η_B]):")[1].split("\n\n")[1]
    header, _, *rows = table.strip().splitlines()
    conditions = [c.strip() for c in header.strip("|").split("|")[1:]]
    assert rows
    for row in rows:
        label, *cells = [c.strip() for c in row.strip("|").split("|")]
        model, init = label.split(", Init[")
        for condition, cell in zip(conditions, cells, strict=True):
            assert str(region(model, init.rstrip("]"), [condition])) == cell, (label, condition)


def test_derive_excerpt_is_real_output(capsys):
    excerpt = next(b for b in blocks("text") if b.startswith("## t = 1"))
    assert main(["derive", "--model", "adam", "--init", "A", "--eta", "-1/2", "--steps", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    for line in excerpt.splitlines():
        if line and line != "...":
            assert line in out, line


def test_model_walkthrough_transcript_is_real_output(capsys, tmp_path, monkeypatch):
    """§10's shell walkthrough of the SGD spec: each command's shown lines are in its output."""
    block = next(b for b in blocks("text") if b.startswith("$ lora-gamma region --model theory/"))
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    commands: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ lora-gamma "):
            commands.append((line.removeprefix("$ lora-gamma "), []))
        elif line and line != "...":
            commands[-1][1].append(line)
    for command, shown in commands:
        argv = shlex.split(command.replace("sgd-phase.png", str(tmp_path / "sgd-phase.png")))
        assert main(argv) == 0, command
        out = capsys.readouterr().out.replace(str(tmp_path / "sgd-phase.png"), "sgd-phase.png")
        for line in shown:
            assert line in out.splitlines(), (command, line)
