"""`lora-sweep coordcheck`: bad input is one line and exit code 2, before any training."""

from __future__ import annotations

import pytest

from toymodels import cli

BASE = ["coordcheck", "--model", "teacher-student", "--init", "A"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        ([*BASE, "--eta-exponent", "abc"], "malformed exponent"),
        ([*BASE, "--eta-exponent", "-1/2", "--eta0", "0"], "eta0"),
        ([*BASE, "--eta-exponent", "1/0"], "zero denominator"),
        ([*BASE, "--eta-exponent", "-inf"], "must be finite"),
        ([*BASE, "--eta-A-exponent", "-1"], "--eta-B-exponent"),
        ([*BASE, "--eta-exponent", "-1", "--eta-A-exponent", "-1"], "not both"),
        (BASE, "--eta-exponent"),
        (["coordcheck", "--model", "resnet", "--init", "A", "--eta-exponent", "-1"], "resnet"),
        (
            ["coordcheck", "--model", "linear", "--init", "C", "--eta-exponent", "-1"],
            "unknown init",
        ),
        (
            ["coordcheck", "--model", "lora-mlp", "--init", "AB", "--eta-exponent", "-1"],
            "unknown init",
        ),
        ([*BASE, "--eta-exponent", "-1", "--widths", "0", "128"], "positive integers"),
        ([*BASE, "--eta-exponent", "-1", "--widths", "128", "128"], "two distinct widths"),
        ([*BASE, "--eta-exponent", "-1", "--eta0", "-0.1"], "eta0"),
        ([*BASE, "--eta-exponent", "-1", "--eta0", "nan"], "eta0"),
        ([*BASE, "--eta-exponent", "-1", "--steps", "0"], "steps"),
        ([*BASE, "--eta-exponent", "-1", "--seeds", "0"], "seed"),
        ([*BASE, "--eta-exponent", "-1", "--tolerance", "-1"], "tolerance"),
        ([*BASE, "--eta-exponent", "-1", "--widths", "12x"], "widths must be integers"),
        ([*BASE, "--eta-exponent", "-1", "--plot", "figure.gif"], ".png"),
        ([*BASE, "--eta-exponent", "-1", "--plot", "no/such/dir/f.png"], "does not exist"),
    ],
    ids=[
        "malformed-exponent",
        "fraction-exponent-parses",
        "zero-denominator",
        "infinite-rate",
        "half-a-pair",
        "both-rate-forms",
        "no-rate",
        "unknown-model",
        "unknown-init",
        "init-without-theory",
        "width-zero",
        "one-width",
        "negative-eta0",
        "nan-eta0",
        "zero-steps",
        "zero-seeds",
        "negative-tolerance",
        "non-integer-width",
        "plot-format",
        "plot-directory",
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, needle, capsys):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lora-sweep: error:")
    assert captured.err.count("\n") == 1
    assert needle in captured.err


def test_help_lists_the_subcommand(capsys):
    assert cli.main(["coordcheck", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--eta-A-exponent" in out and "--tolerance" in out
