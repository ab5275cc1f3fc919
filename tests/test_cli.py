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


@pytest.mark.parametrize(
    "flags",
    [["--rank", "0"], ["--rank", "16"], ["--multiplier", "abc"], ["--alpha", "0"]],
    ids=["rank 0", "rank above width", "multiplier not rational", "alpha 0"],
)
def test_bad_rank_or_multiplier_is_one_line_exit_2_and_writes_nothing(flags, tmp_path, capsys):
    out = tmp_path / "sweep.nc"
    argv = ["run", "--model", "linear", "--widths", "8", "--lr", "0.1", "--out", str(out)]
    assert cli.main([*argv, "--steps", "2", "--quiet", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lora-sweep: error:") and err.count("\n") == 1
    assert not out.exists()


def test_an_argument_with_a_newline_still_gives_one_line(capsys):
    """Found by the random-argument property test: argparse quotes unrecognized text as given."""
    assert cli.main(["run", "\n0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lora-sweep: error:") and err.count("\n") == 1 and "\\n0" in err
