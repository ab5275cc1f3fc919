"""How fast `lora-sweep` answers before any work, and whether a signal at a random moment is
always answered truly (issue 28, items 4 and 5).

    .venv/bin/python benchmarks/cli_startup.py [--trials K]

Prints, each the median of several runs on this machine as it is (say how loaded it was):

- the interpreter's own start-up (``python -c pass``; with ``-S``: without site packages and
  their ``.pth`` files), which no program can guard against a signal;
- ``lora-sweep`` from its start until its signal handlers are installed (SigCgt in
  /proc/PID/status): the window in which Ctrl-C is still Python's;
- ``lora-sweep --help`` and an argument error (``--lr 1e-1:1e-3:3``), whole-process wall time;

then, with ``--trials K``, K sweeps each sent SIGINT at a random moment between the handlers'
installation and 20 s later, and counts the answers that were exit 130 with a true line (or exit 0
when the sweep ended first). Asserts nothing: tests/test_cli_signals.py and tests/test_cli_fuzz.py
check the answers; this measures the times.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
LORA_SWEEP = str(Path(PYTHON).parent / "lora-sweep")
ENV = {**os.environ, "JAX_PLATFORMS": "cpu"}
SWEEP = ["run", "--model", "teacher-student", "--widths", "2^6:2^9", "--inits", "A,B",
         "--lr", "1e-3:1e-1:5", "--seeds", "0,1", "--steps", "30", "--quiet"]  # fmt: skip


def wall(argv: list[str], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=ENV, timeout=600)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _caught(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(int(x.split()[1], 16) for x in text.splitlines() if x.startswith("SigCgt:"))
    # SIGHUP: Python catches SIGINT itself from its own start-up on; SIGHUP only lora-sweep does
    return bool(mask & (1 << (signal.SIGHUP - 1)))


def until_handled(repeat: int = 7) -> float:
    """Seconds from spawning `lora-sweep run ...` to its signal handlers being installed (it is
    killed then, long before it could write anything)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = Path(tempfile.gettempdir()) / "cli_startup_never_written.nc"
        proc = subprocess.Popen([LORA_SWEEP, *SWEEP, "--out", str(out)], env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            while proc.poll() is None and not _caught(proc.pid):
                time.sleep(0.0005)
            times.append(time.perf_counter() - t0)
        finally:
            proc.kill()
            proc.wait()
    return statistics.median(times)


def trial(folder: Path, k: int) -> str:
    """One sweep, SIGINT at a random moment; the verdict as a word."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from toymodels.sweeps import _store

    out = folder / f"t{k}.nc"
    proc = subprocess.Popen([LORA_SWEEP, *SWEEP, "--out", str(out)], env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        while proc.poll() is None and not _caught(proc.pid):
            time.sleep(0.0005)
        time.sleep(random.uniform(0, 20))
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=600)
    finally:
        proc.kill()
        proc.wait()
    saved = len(_store.completed_cells(_store.load_results(out))) if out.exists() else 0
    last = err.strip().splitlines()[-1] if err.strip() else ""
    if proc.returncode == 0:
        return "finished first"
    if proc.returncode != 130 or "Traceback" in err:
        return f"WRONG rc {proc.returncode}: {last}"
    true = ("nothing" in last) if saved == 0 else (
        f"{saved} of " in last or f"all {saved} cells" in last or f"{saved} cell(s)" in last
    )  # fmt: skip
    return "130, true line" if true else f"WRONG line ({saved} saved): {last}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=0, help="random-moment SIGINT trials")
    args = parser.parse_args()
    print(f"python -c pass:              {wall([PYTHON, '-c', 'pass']):.3f} s")
    print(f"python -S -c pass:           {wall([PYTHON, '-S', '-c', 'pass']):.3f} s")
    print(f"spawn to handlers installed: {until_handled():.3f} s")
    print(f"lora-sweep --help:           {wall([LORA_SWEEP, '--help']):.3f} s")
    error = [LORA_SWEEP, "run", "--widths", "32", "--lr", "1e-1:1e-3:3"]
    print(f"lora-sweep argument error:   {wall(error):.3f} s")
    if args.trials:
        verdicts: dict[str, int] = {}
        with tempfile.TemporaryDirectory() as folder:
            for k in range(args.trials):
                verdict = trial(Path(folder), k)
                verdicts[verdict] = verdicts.get(verdict, 0) + 1
        for verdict, count in sorted(verdicts.items()):
            print(f"SIGINT at a random moment: {count} × {verdict}")


if __name__ == "__main__":
    main()
