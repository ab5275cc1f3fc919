"""Results paths are what they seem (issue 28, item 3): `--out` must be a regular file or a new
name in a writable folder; a device, FIFO, folder, symlink loop or dangling chain is refused with
one line before any work, `--overwrite` included. Figure folders never collide."""

from __future__ import annotations

import datetime
import os
import stat
import sys
import threading

import pytest

from toymodels.cli import _figures, main

RUN = ["run", "--model", "linear", "--widths", "8,16", "--lr", "1e-2,1e-1", "--seeds", "0",
       "--steps", "3", "--quiet", "--overwrite"]  # fmt: skip


def refused(capsys, out) -> str:
    code = main([*RUN, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("lora-sweep: error: ") and err.count("\n") == 1
    return err


def test_importing_jax_is_not_needed_to_refuse_a_path(tmp_path, capsys):
    """Run in a fresh interpreter: the refusal comes before JAX is imported."""
    import subprocess

    fifo = tmp_path / "fifo.nc"
    os.mkfifo(fifo)
    code = (
        "import sys; from toymodels.cli import main; rc = main(sys.argv[1:]); "
        "print('jax' in sys.modules); sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *RUN, "--out", str(fifo)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2 and "is a FIFO" in done.stderr
    assert done.stdout.strip() == "False"


def test_a_symlink_to_a_device_node_is_refused_and_the_node_kept(tmp_path, capsys):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("no permission to create a device node here")
    link = tmp_path / "out.nc"
    link.symlink_to(device)
    assert "is a character device" in refused(capsys, link)
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_a_fifo_a_folder_and_a_newline_are_refused(tmp_path, capsys):
    fifo = tmp_path / "fifo.nc"
    os.mkfifo(fifo)
    assert "is a FIFO" in refused(capsys, fifo)
    assert "is a directory" in refused(capsys, tmp_path)
    assert "control characters" in refused(capsys, tmp_path / "a\nb.nc")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_loop_and_a_dangling_chain_are_refused_and_kept(tmp_path, capsys):
    one, two = tmp_path / "one.nc", tmp_path / "two.nc"
    one.symlink_to(two)
    two.symlink_to(one)
    assert "symlink loop" in refused(capsys, one)
    first, second = tmp_path / "first.nc", tmp_path / "second.nc"
    first.symlink_to(second)
    second.symlink_to(tmp_path / "missing" / "third.nc")
    assert "does not exist" in refused(capsys, first)
    assert one.is_symlink() and two.is_symlink() and first.is_symlink() and second.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.nc", "one.nc", "second.nc",
                                                          "two.nc"]  # fmt: skip


def test_rank_refuses_the_same_paths(tmp_path, capsys):
    fifo = tmp_path / "fifo.nc"
    os.mkfifo(fifo)
    argv = ["rank", "--preset", "quick", "--steps", "5", "--seeds", "0", "--out", str(fifo)]
    assert main(argv) == 2
    assert "is a FIFO" in capsys.readouterr().err


def test_figure_folders_started_in_the_same_second_differ(tmp_path):
    now = datetime.datetime(2026, 12, 7, 12, 0, 0)
    made = []
    threads = [
        threading.Thread(target=lambda: made.append(_figures.fresh_folder(now, tmp_path)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(made) == 8 and len(set(made)) == 8
    assert all(path.is_dir() and not any(path.iterdir()) for path in made)


def test_seal_refuses_a_path_that_is_not_a_regular_file(tmp_path, capsys):
    fifo = tmp_path / "fifo.nc"
    os.mkfifo(fifo)
    assert main(["verify", "--seal", str(fifo)]) == 2
    assert "is a FIFO" in capsys.readouterr().err


def test_summary_names_a_fifo_and_a_folder_for_what_they_are(tmp_path, capsys):
    """Old code: "does not exist"."""
    fifo = tmp_path / "fifo.nc"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "is a FIFO"), (tmp_path, "is a directory")):
        assert main(["summary", str(path)]) == 2
        err = capsys.readouterr().err
        assert kind in err and err.count("\n") == 1
