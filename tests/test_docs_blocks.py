"""Every shell and Python block of README.md and docs/*.md runs, so a renamed file or flag breaks
the suite, not a reader.

A block is marked by an HTML comment on the line before its opening fence:

- ``<!-- runnable -->``: each command (``$ …`` lines of a ``console`` block, every line of a
  ``bash`` block) or the whole ``python`` block runs and must succeed; a ``console`` command whose
  shown output is ``lora-…: error: …`` must fail with exit code 2 instead;
- ``<!-- runnable: output -->``: the same, and the output shown must be the output printed
  (``...`` stands for any lines); for exact outputs only (the calculator, error messages,
  summaries of the committed results);
- ``<!-- not runnable: REASON -->``: a block that cannot run here (several hosts or GPUs), or one
  that another test runs (REASON names that test file, and the test checks it exists).

Every ``console``, ``bash``, ``sh`` and ``python`` block must carry one of them.

Commands run in a sandbox: a copy of the committed ``results/``, an empty ``figures/``, and links
to the code. A command that would train runs on the smoke presets (``--preset paper`` or
``quick`` becomes ``--preset smoke``; ``run`` gets ``--steps 3``), unless its ``--out`` is a
committed, finished results file: then it resumes that file, which trains nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_KINDS = ("console", "bash", "sh")
CHECKED_KINDS = (*SHELL_KINDS, "python")
MARKER = re.compile(r"^\s*<!--\s*(runnable(?::\s*output)?|not runnable:\s*(?P<why>.+?))\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<kind>[\w-]*)\s*$")
#: The subcommands that train; every other one reads files or prints.
TRAINING = {"run", "figure2", "figure3", "heatmap", "edge", "rank", "coordcheck", "transfer"}
#: Subcommands with a --preset flag.
WITH_PRESET = {"figure2", "figure3", "heatmap", "edge", "rank", "transfer"}
HANG_GUARD_S = 900


class Block(NamedTuple):
    doc: str
    line: int
    kind: str
    marker: str | None  # "runnable", "runnable: output", "not runnable: …" or None
    text: str

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks() -> list[Block]:
    """The fenced blocks of the checked kinds, with the marker on the line before each."""
    found = []
    for path in DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            opening = FENCE.match(lines[i])
            if not opening:
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
            indent = len(opening["indent"])
            body = "\n".join(line[indent:] for line in lines[i + 1 : end])
            previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.match(previous)
            if opening["kind"] in CHECKED_KINDS:
                found.append(
                    Block(
                        path.relative_to(REPO).as_posix(),
                        i + 1,
                        opening["kind"],
                        " ".join(marker[1].split()) if marker else None,
                        body,
                    )
                )
            i = end + 1
    return found


BLOCKS = blocks()
RUNNABLE = [b for b in BLOCKS if b.marker and b.marker.startswith("runnable")]


class Command(NamedTuple):
    line: str
    shown: list[str]  # the output lines shown under it (console blocks)


def commands(block: Block) -> list[Command]:
    """The commands of a shell block, continuation lines joined."""
    found: list[Command] = []
    pending = ""
    for raw in block.text.splitlines():
        line = raw.rstrip()
        if block.kind == "console" and not pending:
            if line.startswith("$ "):
                line = line[2:]
            elif found:
                found[-1].shown.append(line)
                continue
            else:
                continue
        elif not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        found.append(Command(pending + line, []))
        pending = ""
    return found


#: Flags that size a training run: the suite validates the documented values with the CLI's own
#: parser, then drops them and runs the smoke preset's sizes (or :data:`SMALL` where there is no
#: preset).
SIZE_FLAGS = {
    "--preset", "--widths", "--width", "--ranks", "--multipliers", "--lr", "--seeds", "--steps",
    "--eta-A", "--eta-B",
}  # fmt: skip
SMALL = {
    "run": ["--widths", "32,64", "--lr", "1e-2,1e-1", "--seeds", "0", "--steps", "3"],
    "coordcheck": ["--widths", "32", "64", "128"],
}


def _without_size_flags(argv: list[str]) -> list[str]:
    kept, skipping = [], False
    for token in argv:
        if token in SIZE_FLAGS:
            skipping = True
        elif skipping and not token.startswith("--"):
            continue
        else:
            skipping = False
            kept.append(token)
    return kept


def for_the_suite(argv: list[str], sandbox: Path) -> list[str]:
    """``argv`` as the suite runs it: a training command at the smoke preset's size, into its own
    results file, unless it resumes a committed, finished results file (which trains nothing).

    >>> for_the_suite(["lora-sweep", "figure2", "--preset", "paper"], Path("/nonexistent"))[:5]
    ['lora-sweep', 'figure2', '--preset', 'smoke', '--out']
    >>> for_the_suite(["lora-sweep", "run", "--widths", "2^7:2^9", "--lr", "1e-3"], Path("/x"))[:4]
    ['lora-sweep', 'run', '--widths', '32,64']
    >>> for_the_suite(["lora-gamma", "point", "--eta", "-1"], Path("/nonexistent"))
    ['lora-gamma', 'point', '--eta', '-1']
    """
    if len(argv) < 2 or argv[0] != "lora-sweep" or argv[1] not in TRAINING:
        return argv
    if "--summary-only" in argv:
        return argv
    out = argv[argv.index("--out") + 1] if "--out" in argv[:-1] else None
    if out is not None and (sandbox / out).is_file():
        return argv
    reduced = _without_size_flags(argv)
    if argv[1] in WITH_PRESET:
        reduced += ["--preset", "smoke"]
    reduced += SMALL.get(argv[1], [])
    if out is None and argv[1] != "coordcheck":
        # Named by what it runs: two documented commands that reduce to the same run share it
        # (the second resumes the finished file), and different runs never share a file.
        digest = hashlib.sha1(shlex.join(reduced).encode()).hexdigest()[:10]
        reduced += ["--out", f"results/docs-{argv[1]}-{digest}.nc"]
    return reduced


def validate(argv: list[str]) -> None:
    """Parse the documented ``lora-sweep`` command with the CLI's own parser: a renamed flag or a
    malformed value fails here even when the suite runs a smaller command."""
    from toymodels.cli import build_parser

    parser, _ = build_parser()
    parser.parse_args(argv[1:])


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("docs-sandbox")
    shutil.copytree(REPO / "results", root / "results")
    (root / "figures").mkdir()
    for name in ("theory", "toymodels", "benchmarks", "docs", "notebooks", "pyproject.toml"):
        (root / name).symlink_to(REPO / name)
    return root


def _in_process(argv: list[str]) -> tuple[int, str, str] | None:
    """Run ``lora-gamma``/``lora-sweep`` in this process (no start-up cost); None for others."""
    if argv[0] == "lora-gamma":
        from theory.cli import main
    elif argv[0] == "lora-sweep":
        from toymodels.cli import main
    else:
        return None
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv[1:])
    return code, out.getvalue(), err.getvalue()


def run_command(line: str, sandbox: Path, as_written: bool = False) -> tuple[int, str, str]:
    """One documented command, in ``sandbox``: in-process when it is a plain CLI call, else
    through bash (pipes, other programs). ``as_written``: never reduced (a command shown failing
    must fail as shown, before any training)."""
    plain = not re.search(r"[|<>;&`$]", line.split("#", 1)[0])
    argv = None
    if plain:
        documented = shlex.split(line, comments=True)
        argv = documented if as_written else for_the_suite(documented, sandbox)
        if argv != documented:
            validate(documented)
    if argv:
        here = Path.cwd()
        os.chdir(sandbox)
        try:
            done = _in_process(argv)
        finally:
            os.chdir(here)
        if done is not None:
            return done
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = shlex.join(argv) if argv else line
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=sandbox,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode, done.stdout, done.stderr


def matches(shown: list[str], printed: list[str]) -> bool:
    """Whether ``printed`` is ``shown`` with each ``...`` line standing for any lines (blank
    lines, which separate commands in a transcript, are not compared)."""
    shown = [line for line in shown if line.strip()]
    printed = [line for line in printed if line.strip()]
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line.rstrip()) + r"[ \t]*\n"
        for line in shown
    )
    return re.fullmatch(pattern, "".join(p.rstrip() + "\n" for p in printed)) is not None


def test_every_shell_and_python_block_is_marked():
    unmarked = [b.id for b in BLOCKS if b.marker is None]
    assert not unmarked, f"blocks without a runnable/not runnable marker: {unmarked}"
    assert len(RUNNABLE) >= 15


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.marker and "test_" in b.marker], ids=lambda b: b.id
)
def test_a_block_left_to_another_test_names_a_test_that_exists(block):
    named = re.findall(r"tests/test_\w+\.py", block.marker)
    assert named and all((REPO / n).is_file() for n in named), block.marker
    assert all(block.doc in (REPO / n).read_text(encoding="utf-8") for n in named), block.marker


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.id)
def test_marked_block_runs(block, sandbox, monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if block.kind == "python":
        monkeypatch.chdir(sandbox)
        # dont_inherit: run the block as a reader's script runs, without this file's
        # `from __future__ import annotations` (string annotations break Equinox modules here).
        code = compile(block.text, block.id, "exec", dont_inherit=True)
        exec(code, {"__name__": "__docs__"})
        return
    exact = block.marker == "runnable: output"
    for command in commands(block):
        fails = bool(command.shown) and all(
            re.match(r"lora-(sweep|gamma): error: ", s) for s in command.shown if s.strip()
        )
        code, out, err = run_command(command.line, sandbox, as_written=fails)
        where = f"{block.id}: $ {command.line}"
        assert code == (2 if fails else 0), f"{where}\nexit {code}\n{out[-3000:]}{err[-3000:]}"
        if exact and command.shown:
            printed = (err if fails else out).splitlines()
            assert matches(command.shown, printed), f"{where}\nprinted:\n" + "\n".join(printed)
