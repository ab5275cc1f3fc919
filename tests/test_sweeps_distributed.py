"""Several processes: a sweep split over two CPU processes writes the single-process file.

Two local processes (gloo collectives, a free port from the OS) run one `lora-sweep run` command;
only process 0 writes. A run's numbers do not depend on the process that trains it, so the file
equals, bit for bit, the same command run by one process that sees as many devices (two); against
one process on one device the difference is float32 rounding (docs/sweeps.md gives the measure).
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from tests._processes import HANG_GUARD_S
from toymodels.core import UsageError
from toymodels.sweeps._distributed import Launch, check_launch, requested

SWEEP = [
    "run",
    "--model",
    "teacher-student",
    "--inits",
    "A",
    "--widths",
    "8,16",
    "--lr",
    "1e-2,1e-1",
    "--seeds",
    "0,1",
    "--steps",
    "4",
    "--quiet",
    "--json",
]
CLI = "import sys; from toymodels.cli import main; sys.exit(main())"
TIMEOUT_S = HANG_GUARD_S  # a hung process fails the test instead of hanging the suite


def _env(devices: int = 1) -> dict:
    return {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rank(index: int) -> list[str]:
    return ["--num-processes", "2", "--process-id", str(index)]


def _two_processes(args: list[str]) -> list[subprocess.CompletedProcess]:
    """``lora-sweep ARGS`` as processes 0 and 1 of one sweep; both must end within the timeout."""
    coordinator = f"127.0.0.1:{_free_port()}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLI, *args, "--coordinator", coordinator, *_rank(index)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(2)
    ]
    done = []
    try:
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    finally:
        for proc in procs:
            proc.kill()
    return done


def _partial(path, kept_cell, marker: float):
    """The results at ``path`` with every cell but ``kept_cell`` not run (as after an interrupted
    sweep), the kept cell's train loss overwritten by ``marker`` so that a retrain would show."""
    from toymodels.sweeps import _store

    ds = _store.load_results(path)
    init, width = kept_cell
    for name, values in ds.data_vars.items():
        keep = (values["init"] == init) & (values["width"] == width)
        empty = _store.NOT_RUN if name == "diverged_step" else np.nan
        ds[name] = values.where(keep, empty).astype(values.dtype)
    ds["train_loss"].loc[{"init": init, "width": width}] = marker
    ds.attrs["completed_cells"] = json.dumps([[init, width]])
    ds.attrs.pop("checksums")  # as a file written before checksums: resumed as it is
    return ds


@pytest.mark.slow
def test_two_processes_resume_a_sweep_into_the_file_one_process_writes(tmp_path):
    from toymodels.sweeps import load_results

    single = tmp_path / "single.nc"
    # One process seeing two devices splits each cell's runs as two processes of one device do.
    alone = subprocess.run(
        [sys.executable, "-c", CLI, *SWEEP, "--out", str(single)],
        env=_env(devices=2),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert alone.returncode == 0, alone.stderr[-3000:]
    want = load_results(single)

    # An interrupted sweep: only (A, 8) finished. Process 0 reads that, process 1 agrees, and the
    # two train (A, 16), each its half of the runs.
    split = tmp_path / "split.nc"
    marker = 123.0
    _partial(single, ("A", 8), marker).to_netcdf(split)
    first, second = _two_processes([*SWEEP, "--out", str(split)])
    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    # Process 0 prints the summary (stdout is JSON only: gloo's messages go to stderr), 1 none.
    assert json.loads(first.stdout)["completed_cells"] == 2
    assert second.stdout == ""
    assert "process 1 of 2 done; process 0 wrote" in second.stderr

    got = load_results(split)
    assert got.attrs["config"] == want.attrs["config"]
    assert sorted(json.loads(got.attrs["completed_cells"])) == sorted(
        json.loads(want.attrs["completed_cells"])
    )
    assert np.all(got["train_loss"].sel(init="A", width=8).values == marker)  # not retrained
    for name in want.data_vars:
        if name == "train_loss":
            got_values = got[name].where((got["init"] != "A") | (got["width"] != 8))
            want_values = want[name].where((want["init"] != "A") | (want["width"] != 8))
        else:
            got_values, want_values = got[name], want[name]
        np.testing.assert_array_equal(got_values.values, want_values.values, err_msg=name)


@pytest.mark.slow
def test_a_refusal_by_process_0_ends_every_process(tmp_path):
    """Process 0 alone reads the results file; when it refuses it (here: written by another
    configuration), process 1 hears so and exits too instead of waiting for cells."""
    out = tmp_path / "other.nc"
    out.write_text("not a results file")
    first, second = _two_processes([*SWEEP, "--out", str(out)])
    assert first.returncode == 2, first.stderr[-3000:]
    assert second.returncode == 2, second.stderr[-3000:]
    assert "process 0 could not open the results file" in second.stderr
    assert out.read_text() == "not a results file"


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"JAX_COORDINATOR_ADDRESS": "node1:1234"}, True),
        ({"SLURM_NTASKS": "4", "SLURM_PROCID": "3"}, True),
        ({"SLURM_NTASKS": "1", "SLURM_PROCID": "0"}, False),
        ({"OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0"}, True),
        ({"SLURM_NTASKS": "4"}, False),
    ],
    ids=["plain", "jax-coordinator", "srun-4", "srun-1", "mpirun-2", "batch-script-only"],
)
def test_a_launch_is_distributed_from_the_environment_only_with_several_processes(environ, wanted):
    assert requested(Launch(None, None, None), environ=environ) is wanted


def test_any_flag_asks_for_a_distributed_launch():
    assert requested(Launch(None, 2, None), environ={})


@pytest.mark.parametrize(
    ("launch", "message"),
    [
        (Launch("node1", 2, 0), "HOST:PORT"),
        (Launch("node1:1234", 0, 0), "at least 1"),
        (Launch("node1:1234", 2, -1), "non-negative"),
        (Launch("node1:1234", 2, 2), "0..1"),
    ],
    ids=["no-port", "no-processes", "negative-id", "id-too-large"],
)
def test_inconsistent_flags_are_a_usage_error(launch, message):
    with pytest.raises(UsageError, match=message):
        check_launch(launch)


def test_bad_distributed_flags_are_one_line_and_exit_2(capsys, tmp_path):
    from toymodels.cli import main

    out = tmp_path / "never.nc"
    code = main([*SWEEP, "--out", str(out), "--num-processes", "2", "--process-id", "5"])
    assert code == 2
    assert capsys.readouterr().err.strip().startswith("lora-sweep: error: --process-id")
    assert not out.exists()
