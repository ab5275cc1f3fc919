"""Random argument vectors at every subcommand: one line and exit 2, or success, never a
traceback (issue 28, item 4).

The flags come from the parser itself, so a new flag is fuzzed without editing this file. Anything
that would start work (a sweep, a measurement, figures, the distributed runtime) is replaced by a
stand-in that raises :class:`ReachedWork`: reaching it means every check passed, which is success.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toymodels.gamma._measure
import toymodels.reproduce
import toymodels.sweeps
from toymodels.cli import build_parser, main
from toymodels.sweeps import _distributed, _rank

#: Values that have broken a CLI before: overflow, reversed ranges, huge grids, duplicates, text.
NASTY = [
    "",
    " ",
    "0",
    "1",
    "-1",
    "3",
    "2^7",
    "2^100000",
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "-inf",
    "1e-3",
    "1e-3:1e-1:3",
    "1e-1:1e-3:3",
    "1e-3:1e-1:99999999",
    "1e-3,1e-3",
    "1e-3,1e-1",
    "2^5:2^6",
    "2^7:2^5",
    "32,64",
    "32,32",
    "0:3",
    "3:0",
    "0,0",
    "A,B",
    "A,A",
    "Init[A]",
    "C",
    "-3/4",
    "1/0",
    "1/2",
    ":",
    "::",
    ",",
    "a\nb",
    "x.nc",
    "dir/",
    "linear",
    "teacher-student",
    "quick",
    "paper",
    "train_loss",
    "A@2^7=0.01",
    "A@32=1e-2,B@32=1e-2",
    "127.0.0.1:1",
    "999",
]
VALUE = st.one_of(st.sampled_from(NASTY), st.text(max_size=12))


class ReachedWork(Exception):
    """Raised by the stand-ins for real work: every check before it passed."""


def _stand_in(*args, **kwargs):
    raise ReachedWork


def _flags() -> dict[str, list[tuple[str, bool]]]:
    """Each subcommand's options as (flag, takes a value), and its positionals as ("", True)."""
    parser, _ = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    table = {}
    for name, sub in commands.items():
        table[name] = [
            (action.option_strings[0] if action.option_strings else "", action.nargs != 0)
            for action in sub._actions
            if action.dest != "help"
        ]
    return table


FLAGS = _flags()


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(toymodels.sweeps, "run_sweep", _stand_in)
    monkeypatch.setattr(_rank, "run_rank_sweep", _stand_in)
    monkeypatch.setattr(_distributed, "initialize", _stand_in)
    monkeypatch.setattr(toymodels.gamma._measure, "train_grid", _stand_in)
    monkeypatch.setattr(toymodels.reproduce, "make_figures", _stand_in)
    for name in ("JAX_COORDINATOR_ADDRESS", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)


@st.composite
def argv(draw):
    command = draw(st.sampled_from(sorted(FLAGS)))
    chosen = draw(st.lists(st.sampled_from(FLAGS[command]), max_size=6))
    args = [command]
    for flag, takes_value in chosen:
        if flag:
            args.append(flag)
        if takes_value:
            args.append(draw(VALUE))
    return args


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(args=argv())
def test_random_arguments_give_one_line_and_exit_2_or_success(no_work, capsys, args):
    try:
        code = main(args)
    except ReachedWork:
        return
    err = capsys.readouterr().err
    if code == 0:
        return
    assert code == 2, (args, err)
    lines = err.splitlines()
    assert lines and lines[-1].startswith("lora-sweep: error: "), (args, err)
    assert "Traceback" not in err, (args, err)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--widths", "2^100000", "--lr", "1e-2"],
        ["run", "--widths", "32", "--lr", "1e-2", "--lr-scaling", "1e400"],
        ["run", "--widths", "32", "--lr", "1e-1:1e-3:3"],
        ["run", "--widths", "32", "--lr", "1e-3:1e-1:99999999"],
        ["run", "--widths", "32", "--lr", "1e-3,1e-3"],
        ["edge", "--preset", "quick", "--steps", "5", "--horizon", "999"],
        ["run", "--widths", "32", "--lr", "1e-2", "--out", "a\nb.nc"],
        ["summary", "."],
        ["rank", "--preset", "quick", "--multipliers", "1/2,0.5"],
        ["rank", "--preset", "quick", "--ranks", "1,1"],
        ["rank", "--preset", "quick", "--seeds", "0,0"],
        ["figure3", "--preset", "quick", "--widths", "32", "--lr", "A@32=1e-2,A@2^5=2e-2"],
        ["heatmap", "--preset", "quick", "--eta-A", "1e-2,1e-2"],
    ],
)
def test_the_cases_of_issue_28_are_refused_before_work(no_work, capsys, args):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("lora-sweep: error: ") and err.count("\n") == 1


def test_an_argument_error_needs_no_jax(tmp_path):
    """A real process: the error comes without importing JAX, xarray or matplotlib."""
    code = (
        "import sys\nfrom toymodels.cli import main\nrc = main(sys.argv[1:])\n"
        "print(sorted(m for m in ('jax', 'xarray', 'matplotlib') if m in sys.modules))\n"
        "sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "run", "--widths", "32", "--lr", "1e-1:1e-3:3"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stdout.strip() == "[]"


def test_summary_reads_a_rank_sweeps_file(capsys):
    """It gave a traceback (a rank file's cells are not (init, width) pairs)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "results" / "rank-linear.nc"
    assert main(["summary", str(path), "--json"]) == 0
    assert '"results"' not in capsys.readouterr().err


def test_summary_refuses_a_file_with_a_descending_rate_grid(tmp_path, capsys):
    """Written by old code from `--lr 1e-1:1e-3:3`: summary gave a ValueError traceback."""
    import numpy as np

    from toymodels.sweeps import _store
    from toymodels.sweeps._config import SweepConfig
    from toymodels.sweeps._run import empty_results

    config = SweepConfig.equal_rates(
        experiment="run", model="linear", inits=("A",), widths=(8, 16),
        rates=(1e-3, 1e-2, 1e-1), seeds=(0,), train={"steps": 3, "rank": 1},
    )  # fmt: skip
    ds = empty_results(config, ("train_loss",))
    for init, width in config.cells():
        losses = {"train_loss": np.ones((3, 1, 4), np.float32)}
        ds = _store.with_cell(ds, init, width, losses, np.full((3, 1), -1, np.int32))
    ds = ds.assign_coords(eta_A=ds["eta_A"][::-1].values, eta_B=ds["eta_B"][::-1].values)
    del ds.attrs["checksums"]  # as old code wrote it
    path = tmp_path / "descending.nc"
    _store.save_atomically(ds, path)
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rate grid must increase" in err
