"""Both CLIs stay quiet when a reader closes the pipe early (`... | head -1`)."""

import subprocess
import sys

import pytest

from tests._processes import HANG_GUARD_S
from toymodels.sweeps._store import package_versions

# Enough output to overflow the pipe buffer once the reader is gone.
COMMANDS = {
    "lora-gamma": "from theory.cli import main; sys.exit(main(['derive', '--model', 'adam', "
    "'--init', 'A', '--steps', '400']))",
    "lora-sweep": "from toymodels.cli import main; sys.exit(main(['--help']))",
}


@pytest.mark.parametrize("cli", sorted(COMMANDS), ids=sorted(COMMANDS))
def test_closed_pipe_is_not_a_traceback(cli):
    with subprocess.Popen(
        [sys.executable, "-c", f"import sys; {COMMANDS[cli]}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as writer:
        writer.stdout.readline()
        writer.stdout.close()  # the reader goes away, as `head -1` does
        stderr = writer.stderr.read().decode()
        writer.wait(timeout=HANG_GUARD_S)
    assert "Traceback" not in stderr, stderr


def test_results_files_name_their_device():
    device = package_versions()["device"]
    assert device.startswith("cpu (")  # the suite pins JAX to the CPU
