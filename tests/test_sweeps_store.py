"""The results store: atomic writes, stale temporaries, configuration checks (no training)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from toymodels.core._errors import UsageError
from toymodels.sweeps import _store
from toymodels.sweeps._run import SweepConfig, empty_results

CONFIG = SweepConfig.scaled_rates(
    experiment="figure2", model="teacher-student", inits=("A", "B"), widths=(8, 16),
    rates=(1e-3, 1e-2), scaling=-0.75, seeds=(0, 1), train={"steps": 2, "rank": 2},
)  # fmt: skip


def empty_dataset(config=CONFIG):
    return empty_results(config, ["train_loss"])


def test_config_survives_the_json_round_trip():
    assert SweepConfig.from_json(json.loads(json.dumps(CONFIG.to_json()))) == CONFIG


def test_a_cell_round_trips_through_the_file(tmp_path):
    loss = np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3)
    diverged = np.array([[-1, 2], [-1, -1]], dtype=np.int32)
    ds = _store.with_cell(empty_dataset(), "B", 16, {"train_loss": loss}, diverged)
    _store.save_atomically(ds, tmp_path / "r.nc")
    back = _store.load_results(tmp_path / "r.nc")
    np.testing.assert_array_equal(back["train_loss"].sel(init="B", width=16), loss)
    np.testing.assert_array_equal(back["diverged_step"].sel(init="B", width=16), diverged)
    assert (back["diverged_step"].sel(init="A") == _store.NOT_RUN).all()
    assert np.isnan(back["train_loss"].sel(init="A")).all()
    assert _store.completed_cells(back) == {("B", 16)}
    xr.testing.assert_allclose(back["eta_A"], ds["eta_A"])
    assert list(tmp_path.iterdir()) == [tmp_path / "r.nc"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "r.nc"
    _store.save_atomically(empty_dataset(), path)
    before = path.read_bytes()

    def crash(self, target, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"CDF half written")
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_netcdf", crash)
    with pytest.raises(KeyboardInterrupt):
        _store.save_atomically(empty_dataset(), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    path = tmp_path / "r.nc"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".r.nc.{dead}.abc.tmp"
    live = tmp_path / f".r.nc.{os.getpid()}.def.tmp"
    other = tmp_path / f".q.nc.{dead}.ghi.tmp"
    for file in (stale, live, other):
        file.write_bytes(b"")
    assert _store.remove_stale_temporaries(path) == [stale]
    assert live.exists() and other.exists()


def test_another_configuration_names_the_differing_fields(tmp_path):
    path = tmp_path / "r.nc"
    _store.save_atomically(empty_dataset(), path)
    changed = {**CONFIG.to_json(), "seeds": [0, 1, 2]}
    with pytest.raises(UsageError, match=r"differs in: seeds\).*--overwrite"):
        _store.open_for_resume(path, changed, overwrite=False)
    assert _store.open_for_resume(path, changed, overwrite=True) is None
    assert _store.open_for_resume(path, CONFIG.to_json(), overwrite=False) is not None


def test_a_netcdf_file_of_someone_else_is_not_a_results_file(tmp_path):
    path = tmp_path / "other.nc"
    xr.Dataset({"x": ("t", np.zeros(3))}).to_netcdf(path, engine="scipy")
    with pytest.raises(UsageError, match="is not a lora-sweep results file"):
        _store.load_results(path)
