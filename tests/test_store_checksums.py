"""Results files prove their bytes: every finished cell carries a checksum of its numbers, every
load checks it, and `lora-sweep verify FILE` reports it (issue 28, item 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from toymodels.cli import main
from toymodels.core import UsageError
from toymodels.sweeps import _store
from toymodels.sweeps._config import SweepConfig
from toymodels.sweeps._run import empty_results

ROOT = Path(__file__).resolve().parents[1]
#: A value planted in one cell, so a test can find its bytes in the file (netCDF-3: big-endian).
PLANTED = np.float32(1.2345678)
METRICS = ("test_loss", "train_loss")


def _config(steps: int = 3) -> SweepConfig:
    return SweepConfig.equal_rates(
        experiment="run", model="linear", inits=("A", "B"), widths=(8, 16),
        rates=(1e-2, 1e-1), seeds=(0,), train={"steps": steps, "rank": 1},
    )  # fmt: skip


def write_results(path: Path, cells=None) -> Path:
    """A results file with ``cells`` finished (default: all), through the store's own functions."""
    config = _config()
    ds = empty_results(config, METRICS)
    for k, (init, width) in enumerate(cells if cells is not None else config.cells()):
        loss = np.linspace(1.0, 0.5, config.steps + 1, dtype=np.float32) + k
        metrics = {name: np.broadcast_to(loss, (2, 1, config.steps + 1)) for name in METRICS}
        if k == 0:
            metrics["train_loss"] = np.full((2, 1, config.steps + 1), PLANTED)
        ds = _store.with_cell(ds, init, width, metrics, np.full((2, 1), -1, np.int32))
    _store.save_atomically(ds, path)
    return path


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_intact_file_verifies(tmp_path, capsys):
    path = write_results(tmp_path / "r.nc")
    code, out, err = run_cli(capsys, "verify", str(path))
    assert (code, err) == (0, "")
    assert "intact: 4 finished cell(s)" in out


def test_a_flipped_byte_in_a_cells_numbers_is_refused_by_every_reader(tmp_path, capsys):
    path = write_results(tmp_path / "r.nc")
    offset = path.read_bytes().find(np.array([PLANTED], dtype=">f4").tobytes())
    assert offset > 0
    flip(path, offset)
    for argv in (("verify", str(path)), ("summary", str(path), "--metric", "train_loss")):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("lora-sweep: error: ")
        assert "is corrupt" in err and "init=A, width=8" in err


#: Bytes of the data section, found from the end of the file (the header holds attributes only).
TARGETS = {
    "an unfinished cell's NaN": np.array([np.nan], dtype=">f4").tobytes(),
    "the step coordinate": np.arange(4, dtype=">i4").tobytes(),
    "an unfinished cell's diverged_step": np.array([-2], dtype=">i4").tobytes(),
    "a finished cell's diverged_step": np.array([-1, -1], dtype=">i4").tobytes(),
    "a rate": np.array([1e-2], dtype=">f8").tobytes(),
}


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_flipped_byte_anywhere_in_the_data_is_refused(tmp_path, target):
    """Unfinished cells (NaN, not run), coordinates and finished cells alike: never numbers."""
    path = write_results(tmp_path / "r.nc", cells=[("A", 8), ("B", 8)])
    offset = path.read_bytes().rfind(TARGETS[target])
    assert offset > 0
    flip(path, offset)  # the sign and exponent byte: a NaN payload alone would stay NaN
    with pytest.raises(UsageError, match="is corrupt"):
        _store.load_results(path)


def test_a_changed_configuration_attribute_is_refused(tmp_path):
    path = write_results(tmp_path / "r.nc")
    data = path.read_bytes()
    offset = data.find(b'"steps": 3')
    assert offset > 0
    path.write_bytes(data[:offset] + b'"steps": 4' + data[offset + 10 :])
    with pytest.raises(UsageError, match="is corrupt"):
        _store.load_results(path)


def test_a_file_without_checksums_loads_and_can_be_sealed(tmp_path, capsys):
    legacy = tmp_path / "figure2.nc"
    # A file as written before checksums: the committed run without its (since added) attribute.
    old = _store.load_results(ROOT / "results" / "figure2.nc")
    del old.attrs["checksums"]
    old.to_netcdf(legacy, engine="scipy")
    assert "checksums" not in _store.load_results(legacy).attrs  # loads: written before them
    code, out, err = run_cli(capsys, "verify", str(legacy))
    assert code == 2 and "has no checksums" in err and "--seal" in err
    code, out, err = run_cli(capsys, "verify", "--seal", str(legacy))
    assert code == 0 and "sealed" in out
    code, out, err = run_cli(capsys, "verify", str(legacy))
    assert code == 0 and "intact" in out


def test_a_rank_sweep_file_is_sealed_and_checked_like_a_width_sweep(tmp_path, capsys):
    path = tmp_path / "rank.nc"
    shutil.copy(ROOT / "results" / "rank-linear.nc", path)
    assert run_cli(capsys, "verify", "--seal", str(path))[0] == 0
    ds = _store.load_results(path)
    ds["train_loss"][0, 0, 0, 0, 0, 1] += 1.0
    _store.save_atomically(ds, path)
    code, _out, err = run_cli(capsys, "verify", str(path))
    assert code == 2 and "is corrupt" in err and "multiplier=" in err


def test_resume_refuses_a_corrupt_file_before_training(tmp_path, capsys):
    path = write_results(tmp_path / "r.nc", cells=[("A", 8)])
    flip(path, path.read_bytes().find(np.array([PLANTED], dtype=">f4").tobytes()))
    before = path.read_bytes()
    code, _out, err = run_cli(
        capsys, "run", "--model", "linear", "--inits", "A,B", "--widths", "8,16",
        "--lr", "1e-2,1e-1", "--seeds", "0", "--steps", "3", "--rank", "1",
        "--out", str(path), "--quiet",
    )  # fmt: skip
    assert code == 2 and "is corrupt" in err
    assert path.read_bytes() == before


def test_a_file_without_checksums_is_resumed_and_then_fully_sealed(tmp_path):
    """A partial file written before checksums: its finished cells are trusted as they are."""
    from toymodels.sweeps import _checksums

    path = write_results(tmp_path / "r.nc", cells=[("A", 8)])
    ds = _store.load_results(path)
    del ds.attrs["checksums"]
    _store.save_atomically(ds, path)
    resumed = _store.open_for_resume(path, _config().to_json(), overwrite=False)
    metrics = {name: np.zeros((2, 1, 4), np.float32) for name in METRICS}
    resumed = _store.with_cell(resumed, "B", 8, metrics, np.full((2, 1), -1, np.int32))
    _store.save_atomically(resumed, path)
    assert len(_checksums.finished_cells(_store.load_results(path))) == 2
