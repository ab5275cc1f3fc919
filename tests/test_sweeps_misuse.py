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

import toymodels
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


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.exists(), f"{path} never appeared"


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
        _, refused = second.communicate(timeout=120)
    finally:
        first.send_signal(signal.SIGCONT)
    _, first_err = first.communicate(timeout=120)
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


def signal_at(moment: str, tmp_path: Path, sig=signal.SIGINT):
    out = tmp_path / f"{moment}.nc"
    proc = start(*SWEEP, "--out", out)
    if moment == "start-up":
        time.sleep(0.3)  # importing JAX
    elif moment == "compiling":
        wait_for(_lock.lock_path(out), proc)
    else:
        wait_for(out, proc)
    proc.send_signal(sig)
    if moment == "twice":
        time.sleep(0.05)
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
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
