"""`lora-sweep figures`: figures and claims from results files; bad input is one line, exit 2."""

import json
from pathlib import Path

import pytest

from tests.synthetic_results import figure2_store, heatmap_store
from toymodels import cli


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("results")
    figure2_store(widths=(128, 512, 1024)).to_netcdf(folder / "figure2.nc")
    heatmap_store(steps=20).to_netcdf(folder / "heatmap.nc")
    return folder


def test_writes_png_and_pdf_for_each_store_given_and_checks_claims(results_dir, tmp_path, capsys):
    assert (
        cli.main(["figures", "--results", str(results_dir), "--out", str(tmp_path), "--json"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    names = sorted(p.rsplit("/", 1)[1] for p in report["written"])
    stems = (
        "init_fig2_optimal_lr",
        "loraplus_fig2_heatmaps",
        "loraplus_fig2_curves",
        "optimum_vs_horizon",  # from figure2.nc alone (no wide run given)
        "phase_adam",
        "phase_gd_linear",
    )
    assert names == sorted(f"{stem}.{ext}" for stem in stems for ext in ("png", "pdf"))
    assert all((tmp_path / name).stat().st_size > 0 for name in names)
    verdicts = {c["key"]: c["verdict"] for c in report["claims"]}
    assert verdicts["E2(c)"] == "no data"  # no figure3.nc given: nothing claimed
    assert verdicts["E2(a)"] == "reproduced"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["figures"], "no results to plot"),
        (["figures", "--figure2", "/nonexistent.nc"], "no such file"),
        (["figures", "--results", "/nonexistent"], "not a folder"),
        (["figures", "--figure2", "CORRUPT"], "cannot read results file"),
    ],
    ids=["nothing-given", "missing-file", "missing-folder", "corrupt-file"],
)
def test_bad_input_is_one_line_exit_2(argv, message, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.nc"
    corrupt.write_bytes(b"not netcdf")
    argv = [str(corrupt) if a == "CORRUPT" else a for a in argv]
    assert cli.main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lora-sweep: error:") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_figures_go_to_a_fresh_folder_by_default_never_over_figures(
    results_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "phase_adam.png").write_bytes(b"committed")
    argv = ["figures", "--figure2", str(results_dir / "figure2.nc"), "--no-phase", "--json"]
    assert cli.main(argv) == 0
    written = [Path(p) for p in json.loads(capsys.readouterr().out)["written"]]
    assert written and all(p.parent.name.startswith("figures-") for p in written)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["phase_adam.png"]
