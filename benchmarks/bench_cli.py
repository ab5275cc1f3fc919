"""How long ``lora-gamma`` takes, from a cold process, on the shipped models and on hostile input.

    .venv/bin/python benchmarks/bench_cli.py

Targets (issue 26): every command on the shipped models within 1 s at the default steps;
``derive --steps 100`` on every shipped model within 2 s; each hostile input refused (one line,
exit 2) within 1 s; the dense 4- to 8-state specs of the density ceiling measured in-process.
Prints wall times (the best of ``REPEAT`` runs) and exit codes; asserts nothing (speed targets live
here, never in tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEAT = 2
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "theory" / "examples"
MODELS = ["adam", "gd-linear", *(str(p) for p in sorted(EXAMPLES.glob("*.toml")))]


def timed(argv: list[str]) -> tuple[float, int, int]:
    """(best wall time, exit code, bytes on stdout) of ``lora-gamma argv`` in a new process."""
    best, code, size = float("inf"), 0, 0
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "theory.cli", *argv], capture_output=True, timeout=600
        )
        best = min(best, time.perf_counter() - t0)
        code, size = run.returncode, len(run.stdout)
    return best, code, size


def report(label: str, argv: list[str]) -> None:
    seconds, code, size = timed(argv)
    print(f"{seconds:6.2f} s  exit {code}  {size:>9} B  {label}")


def dense(states: int) -> str:
    names = [f"X{i}" for i in range(states)]
    rows = [
        f'{s} = "max({", ".join(f"eta_A + {t} + {j}" for j, t in enumerate(names))})"'
        for s in names
    ]
    init = "\n".join(f'{s} = "{"0" if i == 0 else "-inf"}"' for i, s in enumerate(names))
    return (
        f'name = "dense{states}"\n[inits.A]\n{init}\n[increments]\n'
        + "\n".join(rows)
        + '\n[roles]\noutput = "X0"\n[conditions]\nstable = "X0 <= 0"\n'
    )


def main() -> None:
    print("-- every command on the shipped models, default steps")
    for model in MODELS:
        name = Path(model).stem
        report(f"derive {name} --init A (symbolic)", ["derive", "--model", model, "--init", "A"])
        report(f"point {name} --init B --eta -1", ["point", "--model", model, "--init", "B",
                                                     "--eta", "-1", "--json"])  # fmt: skip
        report(f"region {name} --init A stable", ["region", "--model", model, "--init", "A",
                                                   "--condition", "stable"])  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        report("phase adam", ["phase", "--model", "adam", "--out", f"{tmp}/p.png"])
        report("phase adam --over-rank", ["phase", "--model", "adam", "--out", f"{tmp}/r.png",
                                          "--over-rank"])  # fmt: skip
    report("--help", ["--help"])
    print("-- derive --steps 100 (and 1000) on every shipped model")
    for model in MODELS:
        name = Path(model).stem
        for steps in ("100", "1000"):
            report(f"derive {name} --init B --eta -1/2 --steps {steps}",
                   ["derive", "--model", model, "--init", "B", "--eta", "-1/2",
                    "--steps", steps])  # fmt: skip
        report(f"derive {name} --init B --steps 100 (symbolic)",
               ["derive", "--model", model, "--init", "B", "--steps", "100"])  # fmt: skip
    print("-- hostile input (each should exit 2)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        texts = {
            "brackets-2000.toml": "x = " + "[" * 2000 + "]" * 2000,
            "brackets-200k.toml": "x = " + "[" * 200_000 + "]" * 200_000,
            "header-100k-parts.toml": "[" + ".".join(["a"] * 100_000) + "]\n",
            "extends-outside.toml": 'extends = "../examples/sgd"\nname = "x"\n',
            "derived-cycle.toml": 'extends = "adam"\nname = "c"\n[derived]\nX1 = "X2"\nX2 = "X1"\n',
            "dense-6.toml": dense(6),
            "dense-8.toml": dense(8),
        }
        for name, text in texts.items():
            (folder / name).write_text(text)
        fifo = folder / "x.toml"
        if hasattr(os, "mkfifo"):
            os.mkfifo(fifo)
        for spec in [*(folder / n for n in texts), fifo, Path("/dev/zero")]:
            report(f"region --model {spec.name}", ["region", "--model", str(spec), "--init", "A",
                                                   "--condition", "stable"])  # fmt: skip
        report("point --multiplier -1e59", ["point", "--model", "adam", "--init", "A", "--eta",
                                            "-1", "--multiplier", "-1e59"])  # fmt: skip
        for steps in ("8", "20"):
            report(f"derive gd-linear --init B --steps {steps} (symbolic: refused)",
                   ["derive", "--model", "gd-linear", "--init", "B", "--steps", steps])  # fmt: skip
    print("-- dense specs in-process (ceiling off): point and region")
    import theory
    import theory._spec as spec_module

    spec_module.MAX_POLICIES = 10**9
    for states in (4, 5, 6):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "d.toml"
            path.write_text(dense(states))
            model = theory.load_model(path)
            t0 = time.perf_counter()
            theory.predict(model, "A", eta_A=-1, eta_B=-1)
            t1 = time.perf_counter()
            theory.region(model, "A", ["stable"])
            t2 = time.perf_counter()
            print(f"dense {states} states: point {t1 - t0:6.2f} s, region {t2 - t1:6.2f} s")


if __name__ == "__main__":
    main()
