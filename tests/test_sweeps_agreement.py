"""Processes that agree before they compute (issue 28, item 1): the processes of one sweep compare
their configurations before any training; a mismatch, a missing peer or an unreachable coordinator
ends every process with one line and exit code 2, nothing written. Real processes on CPU."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from toymodels.cli._sweeps import _agreement_fields

CLI = "import sys; from toymodels.cli import main; sys.exit(main())"
SWEEP = ["run", "--model", "linear", "--inits", "A", "--widths", "8,16", "--seeds", "0",
         "--steps", "3", "--quiet", "--num-processes", "2"]  # fmt: skip
HANG_GUARD_S = 300  # a hung process fails the test instead of hanging the suite


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(argv: list[str]) -> subprocess.Popen:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *argv], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _finish(procs: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    done = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=HANG_GUARD_S)
            done.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    return done


@pytest.mark.slow
@pytest.mark.parametrize(
    ("second", "field"),
    [
        (["--lr", "1e-3,1e-1"], "learning-rate grid"),
        (["--lr", "1e-2,3e-2", "--num-processes", "3"], "--num-processes"),
    ],
    ids=["rates", "process-count"],
)
def test_processes_given_different_settings_stop_before_training(tmp_path, second, field):
    """Old code: both exited 0 and the file held process 1's runs under process 0's labels."""
    out = tmp_path / "r.nc"
    coordinator = ["--coordinator", f"127.0.0.1:{_free_port()}", "--out", str(out)]
    procs = [
        _start([*SWEEP, *coordinator, *extra, "--process-id", str(index)])
        for index, extra in enumerate((["--lr", "1e-2,3e-2"], second))
    ]
    for code, stdout, stderr in _finish(procs):
        assert code == 2, stderr
        assert stdout == ""
        line = [x for x in stderr.splitlines() if x.startswith("lora-sweep:")]
        assert len(line) == 1 and line[0].startswith("lora-sweep: error: process ")
        assert field in line[0] and "nothing was trained or written" in line[0]
    assert list(tmp_path.iterdir()) == []


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_two_processes_with_one_process_id_end_in_one_line_each(tmp_path):
    """Old code: silent, still running after 150-180 s. The second process 0 finds the
    coordinator's port taken; the first, alone, gives up at --connect-timeout."""
    out, port = tmp_path / "r.nc", _free_port()
    argv = [*SWEEP, "--lr", "1e-2", "--out", str(out), "--process-id", "0",
            "--coordinator", f"127.0.0.1:{port}", "--connect-timeout", "10"]  # fmt: skip
    first = _start(argv)
    try:
        deadline = time.monotonic() + HANG_GUARD_S
        while not _listening(port) and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        second = _start(argv)
    except BaseException:
        first.kill()
        first.wait()
        raise
    (code2, out2, err2), (code1, out1, err1) = _finish([second, first])
    # the port is taken, or (the first already gone on a very slow machine) no peer came
    assert code2 == 2 and out2 == "" and err2.count("\n") == 1, err2
    assert "port is taken" in err2 or "not every process connected" in err2
    assert code1 == 2 and out1 == ""
    line = [x for x in err1.splitlines() if x.startswith("lora-sweep:")]
    assert len(line) == 1 and "not every process connected" in line[0], err1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_missing_peer_ends_in_one_line_within_the_connect_timeout(tmp_path):
    out = tmp_path / "r.nc"
    argv = [*SWEEP, "--lr", "1e-2", "--out", str(out), "--process-id", "1",
            "--coordinator", f"127.0.0.1:{_free_port()}", "--connect-timeout", "3"]  # fmt: skip
    ((code, stdout, stderr),) = _finish([_start(argv)])
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "not every process connected" in stderr
    assert list(tmp_path.iterdir()) == []


def test_every_field_of_the_configuration_is_compared():
    from types import SimpleNamespace

    from toymodels.sweeps import sweep_config
    from toymodels.sweeps._distributed import Launch

    base, _ = sweep_config("run", None, model="linear", widths=(8, 16), rates=(1e-2,), steps=3)
    fields = _agreement_fields(base, "r.nc", Launch("h:1", 2, 0), SimpleNamespace(overwrite=False))
    assert {"--model", "--widths", "--seeds", "--steps", "--num-processes", "--out"} <= set(fields)
    changes = {
        "--steps": {"steps": 4},
        "--widths": {"widths": (8, 32)},
        "learning-rate grid (--lr, --eta-A, --eta-B, --lr-scaling)": {"rates": (1e-3,)},
        "training options (--rank, --multiplier, --alpha, --optimizer, ...)": {"data_seed": 1},
    }
    for name, change in changes.items():
        other, _ = sweep_config(
            "run", None, **{"model": "linear", "widths": (8, 16), "rates": (1e-2,), "steps": 3,
                            **change}
        )  # fmt: skip
        theirs = _agreement_fields(
            other, "r.nc", Launch("h:1", 2, 1), SimpleNamespace(overwrite=False)
        )
        assert [k for k in fields if fields[k] != theirs[k]] == [name]
