"""Sweeps under misuse (issue 16): one writer per results file, a clean stop on SIGINT/SIGTERM.

The subprocess tests run the installed ``lora-sweep`` entry point on the linear model (compiles in
about a second) and signal it at chosen moments: during start-up, while the first cell compiles,
after a cell is saved, twice in a row.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toymodels
from tests._processes import HANG_GUARD_S, wait_until
from toymodels.core import UsageError
from toymodels.sweeps import _lock, _store

LORA_SWEEP = Path(sys.executable).parent / "lora-sweep"
SWEEP = [
    "run", "--model", "linear", "--widths", "4,8,16,32", "--inits", "A,B", "--lr", "1e-3:1e-1:3",
    "--seeds", "0,1", "--steps", "4", "--quiet",
]  # fmt: skip
ENV = {**os.environ, "JAX_PLATFORMS": "cpu"}

needs_entry_point = pytest.mark.skipif(
    not LORA_SWEEP.exists(), reason="lora-sweep is not installed next to this python"
)


def start(*argv) -> subprocess.Popen:
    return subprocess.Popen(
        [str(LORA_SWEEP), *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def wait_for(path: Path, proc: subprocess.Popen) -> None:
    assert wait_until(path.exists, proc), f"{path} never appeared"


# --- One writer per results file ------------------------------------------------------------------


def test_a_second_writer_of_one_file_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "sweep.nc"
    held = rf"another sweep \(pid {os.getpid()}\)"
    with _lock.exclusive_writer(out), pytest.raises(UsageError, match=held):
        _lock.exclusive_writer(out).__enter__()
    with _lock.exclusive_writer(out):  # released: free again
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_lock_left_by_a_killed_process_never_blocks(tmp_path):
    out = tmp_path / "sweep.nc"
    lock = _lock.lock_path(out)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'%d' % os.getpid())\n"
         "print('locked', flush=True); time.sleep(60)", str(lock)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(UsageError, match=f"pid {holder.pid}"), _lock.exclusive_writer(out):
        pass
    holder.kill()
    holder.communicate()
    assert lock.exists()  # the killed holder could not clean up
    with _lock.exclusive_writer(out):
        pass


@needs_entry_point
@pytest.mark.slow
def test_two_concurrent_sweeps_on_one_file_one_refused_the_other_complete(tmp_path):
    out = tmp_path / "sweep.nc"
    first = start(*SWEEP, "--widths", "4,8", "--out", out)
    wait_for(_lock.lock_path(out), first)
    first.send_signal(signal.SIGSTOP)  # frozen while holding the lock: no race with the second
    try:
        # another configuration, and --overwrite: both used to pass and overwrite cell by cell
        second = start(*SWEEP, "--seeds", "5", "--overwrite", "--out", out)
        _, refused = second.communicate(timeout=HANG_GUARD_S)
    finally:
        first.send_signal(signal.SIGCONT)
    _, first_err = first.communicate(timeout=HANG_GUARD_S)
    assert second.returncode == 2
    assert refused.count("\n") == 1 and f"another sweep (pid {first.pid})" in refused
    assert first.returncode == 0, first_err
    ds = toymodels.load_results(out)
    assert json.loads(ds.attrs["config"])["seeds"] == [0, 1]
    assert len(_store.completed_cells(ds)) == 4
    assert not ds["diverged_step"].isin([_store.NOT_RUN]).any()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.nc"]  # no lock, no temporary


def test_the_stored_configuration_is_checked_before_every_save(tmp_path):
    from toymodels.sweeps._run import SweepConfig, empty_results

    config = SweepConfig.equal_rates(
        experiment="run", model="linear", inits=("A",), widths=(4,), rates=(1e-2,),
        seeds=(0,), train={"steps": 2},
    )  # fmt: skip
    other = SweepConfig.equal_rates(
        experiment="run", model="linear", inits=("A",), widths=(4,), rates=(1e-2,),
        seeds=(1,), train={"steps": 2},
    )  # fmt: skip
    out = tmp_path / "sweep.nc"
    _store.save_atomically(empty_results(other, ["train_loss"]), out)
    with pytest.raises(UsageError, match="different configuration"):
        _store.check_file_config(out, config.to_json())
    _store.check_file_config(out, other.to_json())


# --- A clean stop ---------------------------------------------------------------------------------


def wait_until_sigterm_is_caught(proc: subprocess.Popen, timeout: float = HANG_GUARD_S) -> None:
    """Until the process catches SIGTERM (Linux: SigCgt in /proc/PID/status), i.e. until
    ``toymodels._signals.install`` ran: before that, Python's own start-up is not ours to guard."""
    status = Path(f"/proc/{proc.pid}/status")
    if not status.exists():
        time.sleep(0.5)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        caught = next(
            (int(line.split()[1], 16) for line in status.read_text().splitlines()
             if line.startswith("SigCgt:")),
            0,
        )  # fmt: skip
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.005)


def signal_at(moment: str, tmp_path: Path, sig=signal.SIGINT):
    out = tmp_path / f"{moment}.nc"
    proc = start(*SWEEP, "--out", out)
    if moment == "start-up":
        wait_until_sigterm_is_caught(proc)  # our handlers are in; JAX is still importing
    elif moment == "compiling":
        wait_for(_lock.lock_path(out), proc)
    else:
        wait_for(out, proc)
    proc.send_signal(sig)
    if moment == "twice":
        time.sleep(0.05)
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=HANG_GUARD_S)
    return proc.returncode, stderr, out


@needs_entry_point
@pytest.mark.slow
@pytest.mark.parametrize(
    ("moment", "sig"),
    [
        ("start-up", signal.SIGINT),
        ("compiling", signal.SIGINT),
        ("a-cell-saved", signal.SIGTERM),
        ("twice", signal.SIGINT),
    ],
    ids=["start-up", "compiling", "a-cell-saved-SIGTERM", "twice"],
)
def test_a_signal_at_any_moment_stops_with_130_and_a_true_line(moment, sig, tmp_path):
    code, stderr, out = signal_at(moment, tmp_path, sig)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("lora-sweep:")]
    assert lines == stderr.splitlines() and 1 <= len(lines) <= 2
    last = lines[-1]
    saved = len(_store.completed_cells(toymodels.load_results(out))) if out.exists() else 0
    if saved == 0:
        assert "nothing" in last
    else:
        assert f"{saved} of 8 cells are saved in {out}" in last or (
            f"stopped at once; {saved} cell(s) finished by this run are saved in {out}" in last
        )
        assert "rerun the same command to resume" in last
    if moment != "twice":  # only the stop at once skips the clean-up
        assert not list(tmp_path.glob(".*.tmp")) and not _lock.lock_path(out).exists()


RANK_SWEEP = [
    "rank", "--model", "linear", "--width", "16", "--ranks", "1,2,4,8", "--multipliers", "1/2,1",
    "--seeds", "0,1", "--steps", "6", "--quiet",
]  # fmt: skip


@needs_entry_point
@pytest.mark.slow
def test_a_rank_sweep_signalled_after_a_cell_saves_it_and_says_so(tmp_path):
    out = tmp_path / "rank.nc"
    proc = start(*RANK_SWEEP, "--out", out)
    wait_for(out, proc)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.count("\n") == 2, stderr  # the notice, the line
    from toymodels.sweeps import _rank

    saved = len(_rank.completed(toymodels.load_results(out)))
    assert saved >= 1
    last = stderr.splitlines()[-1]
    assert last.startswith("lora-sweep: interrupted; ")
    assert f"{saved} of 16 cells are saved in {out}" in last or "all 16 cells" in last
    assert not list(tmp_path.glob(".*.tmp")) and not _lock.lock_path(out).exists()


# --- Every input checked before work starts -------------------------------------------------------

TINY = ["run", "--model", "linear", "--widths", "4,8", "--lr", "1e-2", "--steps", "4", "--quiet"]
CHECKED_FIRST = {
    "seed-beyond-int32": (["--seeds", "3000000000"], "seed 3000000000 is out of range"),
    "negative-seed": (["--seeds=-1"], "seed -1 is out of range"),
    "scaling-overflows": (["--lr-scaling", "2000"], "--lr-scaling 2000 takes the rate 0.01 to inf"),
    "scaling-underflows": (["--lr-scaling=-2000"], "rates must stay positive and finite"),
    "steps-beyond-memory": (["--steps", "2147483648"], "GiB of memory (mostly its results"),
    "width-beyond-memory": (
        ["--widths", "2^20", "--model", "teacher-student", "--rank", "1"],
        "GiB of memory (mostly its model",
    ),
    "empty-inits": (["--inits", ""], "--inits is empty"),
    "empty-seeds": (["--seeds", ","], "--seeds is empty"),
    "at-step-negative": (["--at-step=-1000"], "--at-step -1000 is outside the run's steps 0..4"),
    "at-step-beyond": (["--at-step", "1000"], "--at-step 1000 is outside the run's steps 0..4"),
}


@pytest.mark.parametrize(("extra", "message"), CHECKED_FIRST.values(), ids=list(CHECKED_FIRST))
def test_bad_input_is_refused_before_work_and_leaves_no_directory(extra, message, tmp_path, capsys):
    from toymodels import cli

    out = tmp_path / "new" / "dir" / "sweep.nc"
    code = cli.main([*TINY, *extra, "--out", str(out)])
    stderr = capsys.readouterr().err
    assert code == 2
    assert stderr.startswith("lora-sweep: error: ") and stderr.count("\n") == 1
    assert message in stderr
    assert list(tmp_path.iterdir()) == []


def tiny_config(widths=(4,), seeds=(0,)):
    from toymodels.sweeps import sweep_config

    return sweep_config(
        "run", None, model="linear", widths=widths, rates=(1e-2,), seeds=seeds, steps=2
    )[0]


@pytest.mark.parametrize(
    "errno_", [28, 27, 13], ids=["disk-full", "file-too-large", "permission-denied"]
)
def test_a_failed_write_is_one_line_keeps_the_old_file_and_leaves_no_directory(
    errno_, tmp_path, monkeypatch
):
    import xarray as xr

    from toymodels.sweeps import run_sweep

    old = tmp_path / "old.nc"
    run_sweep(tiny_config(), old, quiet=True)
    before = old.read_bytes()

    def full(self, target, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"CDF half written")
        raise OSError(errno_, os.strerror(errno_))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    reason = f"cannot write results to .*: {os.strerror(errno_)}; the previous file is unchanged"
    with pytest.raises(UsageError, match=reason):
        run_sweep(tiny_config(seeds=(1,)), old, overwrite=True, quiet=True)
    assert old.read_bytes() == before
    fresh = tmp_path / "new" / "sweep.nc"
    with pytest.raises(UsageError, match="nothing was written"):
        run_sweep(tiny_config(), fresh, quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.nc"]


# --- Order-free, and files as users expect --------------------------------------------------------


def test_the_reference_width_of_lr_scaling_is_the_narrowest_whatever_the_order():
    from toymodels.sweeps import sweep_config

    def config(widths):
        return sweep_config(
            "run", None, widths=widths, rates=(1e-2,), rate_scaling=-1.0, steps=2, rank=1
        )[0]

    assert config((32, 16, 8)) == config((8, 16, 32))
    assert config((32, 16, 8)).widths == (8, 16, 32)
    assert config((32, 8)).cell_rates("A", 8)[0][0] == pytest.approx(1e-2)


def test_results_files_take_the_umask_and_write_through_a_symlink(tmp_path):
    from toymodels.sweeps import run_sweep

    target = tmp_path / "data" / "sweep.nc"
    target.parent.mkdir()
    target.write_bytes(b"")
    target.unlink()
    link = tmp_path / "sweep.nc"
    link.symlink_to(target)
    previous = os.umask(0o027)
    try:
        run_sweep(tiny_config(), link, quiet=True)
    finally:
        os.umask(previous)
    assert link.is_symlink() and target.is_file()
    assert target.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_finished_sweep_in_a_read_only_directory_is_read_not_refused(tmp_path):
    from toymodels.sweeps import run_sweep

    out = tmp_path / "ro" / "sweep.nc"
    run_sweep(tiny_config(), out, quiet=True)
    out.parent.chmod(0o555)
    try:
        ds = run_sweep(tiny_config(), out, quiet=True, trainer=pytest.fail)
    finally:
        out.parent.chmod(0o755)
    assert _store.completed_cells(ds) == {("A", 4), ("B", 4)}


def test_a_finished_sweep_is_returned_without_training_or_locking(tmp_path, monkeypatch):
    from toymodels.sweeps import run_sweep

    out = tmp_path / "sweep.nc"
    run_sweep(tiny_config(), out, quiet=True)

    def no_lock(path):
        raise AssertionError("a finished sweep needs no lock")

    monkeypatch.setattr(_lock, "exclusive_writer", no_lock)
    ds = run_sweep(tiny_config(), out, quiet=True, trainer=pytest.fail)
    assert _store.completed_cells(ds) == {("A", 4), ("B", 4)}


# --- The parsers never trace back -----------------------------------------------------------------

FLAGS = [
    "run", "figure2", "figure3", "heatmap", "summary", "coordcheck", "figures", "--widths",
    "--inits", "--lr", "--seeds", "--steps", "--lr-scaling", "--eta-A", "--eta-B", "--rank",
    "--weight-decay", "--data-seed", "--at-step", "--window", "--metric", "--preset", "--model",
    "--optimizer", "--from-results", "rank", "--ranks", "--multipliers", "--multiplier",
    "--alpha", "--rank-exponent", "--reading", "--min-rank", "--width",
]  # fmt: skip
VALUES = [
    "2^7", "2^7:2^9", "1e-3:1e-1:3", "0", "-1", "3000000000", "", ",", "A,B", "C", "quick",
    "paper", "nan", "inf", "-3/4", "1/0", "2^", ":", "::", "8,16", "2^-8", "1e400", "A@2^7=0.1",
]  # fmt: skip


@given(
    st.lists(
        st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES), st.text(max_size=8)),
        max_size=8,
    )
)
@settings(max_examples=150, deadline=None)
def test_random_arguments_parse_or_give_the_one_line_usage_error(argv):
    from theory import ExponentError
    from toymodels import cli
    from toymodels.cli import _sweeps

    parser, _ = cli.build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit:  # --help
            return
        if args.command in ("run", "figure2", "figure3", "heatmap"):
            config, preset = _sweeps.build_config(args)
            _sweeps._analysis_settings(args, preset, config.steps)
    except (UsageError, ExponentError) as error:
        assert "\n" not in str(error).strip()


def test_the_summary_tells_cells_not_run_from_diverged_ones(tmp_path, capsys):
    from toymodels import cli
    from toymodels.sweeps import run_sweep
    from toymodels.sweeps._run import SweepStopped

    out = tmp_path / "sweep.nc"
    calls = []
    with pytest.raises(SweepStopped) as stopped:
        run_sweep(
            tiny_config(widths=(4, 8)), out, quiet=True, should_stop=lambda: bool(calls),
            on_cell=lambda init, width: calls.append((init, width)),
        )  # fmt: skip
    assert (stopped.value.saved, stopped.value.total) == (1, 4)
    assert cli.main(["summary", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == {
        "A": {"4": "done", "8": "pending"},
        "B": {"4": "pending", "8": "pending"},
    }
    assert summary["best_loss"]["B"]["8"] is None
    assert cli.main(["summary", str(out)]) == 0
    table = capsys.readouterr().out
    assert "pending" in table and "diverged" not in table


# --- One command-line vocabulary ------------------------------------------------------------------


def test_rates_and_seeds_take_the_widths_spelling():
    from toymodels.cli import _sweeps

    assert _sweeps.parse_rates("2^-8,2^-6") == (2**-8, 2**-6)
    assert _sweeps.parse_seeds("0:3,2^3") == (0, 1, 2, 3, 8)


@pytest.mark.parametrize(
    ("flags", "widths", "seeds"),
    [
        (["--widths", "2^7:2^9", "--seeds", "0:3"], (128, 256, 512), (0, 1, 2, 3)),
        (["--widths", "128,256", "512", "--seeds", "0,5"], (128, 256, 512), (0, 5)),
        (["--widths", "128", "256"], (128, 256), None),  # the old spelling still works
    ],
    ids=["ranges", "commas-and-spaces", "space-separated"],
)
def test_coordcheck_takes_the_sweeps_lists(flags, widths, seeds):
    from toymodels import cli
    from toymodels.cli import _gamma

    parser, _ = cli.build_parser()
    base = ["coordcheck", "--model", "linear", "--init", "B", "--eta-exponent", "-1"]
    args = parser.parse_args([*base, *flags])
    assert _gamma._flatten(args.widths) == widths
    assert args.seeds == seeds


def test_coordcheck_refuses_a_seed_count_with_the_list_it_meant(capsys):
    from toymodels import cli

    argv = ["coordcheck", "--model", "linear", "--init", "B", "--eta-exponent", "-1"]
    assert cli.main([*argv, "--seeds", "4"]) == 2
    assert "e.g. 0:3 for 4 seeds" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "figure2", "figure3", "heatmap", "summary"])
def test_every_sweep_flag_documents_its_default(command):
    from toymodels import cli

    parser, _ = cli.build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    undocumented = [
        action.option_strings[0]
        for action in sub._actions
        if action.option_strings and action.dest != "help" and "default" not in (action.help or "")
    ]
    assert not undocumented
