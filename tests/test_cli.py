"""The `lora-sweep` entry point: subcommand registration and one-line errors."""

import pytest

from toymodels import cli


def test_every_registered_module_contributes_a_subcommand():
    _, owners = cli.build_parser()
    assert {module.__name__ for module in owners.values()} == set(cli.SUBCOMMAND_MODULES)


def test_unknown_subcommand_is_one_line_exit_2(capsys):
    assert cli.main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lora-sweep: error:")
    assert err.count("\n") == 1


def test_help_exits_zero(capsys):
    assert cli.main(["--help"]) == 0
    assert "usage: lora-sweep" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [[]], ids=["no-command"])
def test_missing_command_prints_help_and_exits_2(argv, capsys):
    assert cli.main(argv) == 2
    assert "usage: lora-sweep" in capsys.readouterr().out
