"""``lora-gamma --help`` (issue 23, for lora-gamma): a description and examples for every command,
a help string for every flag, ``--version``, and the meaning of ``--multiplier``'s default."""

from __future__ import annotations

import argparse

import pytest

from theory.cli import _build_parser, main, version

COMMANDS = ["derive", "point", "region", "phase", "transfer"]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = _build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_description_and_an_example(command):
    p = _subparsers()[command]
    assert p.description and p.description.endswith(".")
    assert p.epilog.startswith("examples:") and f"lora-gamma {command} --model" in p.epilog
    assert p.formatter_class is argparse.RawDescriptionHelpFormatter


@pytest.mark.parametrize("command", COMMANDS)
def test_every_flag_has_a_help_string(command):
    for action in _subparsers()[command]._actions:
        assert action.help, (command, action.option_strings)


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_prints_and_exits_zero(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "--model" in out


def test_version_flag_prints_the_installed_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"lora-gamma {version()}"


def test_multiplier_help_says_what_the_default_means():
    text = next(
        a.help for a in _subparsers()["point"]._actions if "--multiplier" in a.option_strings
    )
    assert "S = 1" in text and "the model's own value" in text and "K = 0" in text
