"""The reproduction workflow: quick and paper runs never share folders; loading never trains."""

import pytest

from tests.synthetic_results import figure2_store
from toymodels.reproduce import _workflow as reproduce


@pytest.mark.parametrize(
    ("value", "quick"),
    [("", False), ("0", False), ("false", False), ("1", True), ("yes", True)],
    ids=["unset", "zero", "false", "one", "yes"],
)
def test_quick_mode_reads_lora_quick(value, quick, monkeypatch):
    monkeypatch.delenv("LORA_PRESET", raising=False)
    monkeypatch.setenv("LORA_QUICK", value)
    assert reproduce.quick_mode() is quick
    assert reproduce.preset() == ("quick" if quick else "paper")


@pytest.mark.parametrize("name", ["paper", "quick", "smoke"])
def test_lora_preset_names_the_preset_and_wins_over_lora_quick(name, monkeypatch):
    monkeypatch.setenv("LORA_QUICK", "1")
    monkeypatch.setenv("LORA_PRESET", name)
    assert reproduce.preset() == name
    assert reproduce.quick_mode() is (name != "paper")


def test_an_unknown_lora_preset_is_a_usage_error(monkeypatch):
    from toymodels.core import UsageError

    monkeypatch.setenv("LORA_PRESET", "huge")
    with pytest.raises(UsageError, match="LORA_PRESET='huge'"):
        reproduce.preset()


def test_quick_results_and_figures_never_land_in_the_paper_folders(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    for name in ("LORA_RESULTS", "LORA_FIGURES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LORA_QUICK", "1")
    quick = (reproduce.results_dir(), reproduce.figures_dir())
    monkeypatch.setenv("LORA_QUICK", "0")
    paper = (reproduce.results_dir(), reproduce.figures_dir())
    assert [str(p) for p in paper] == ["../results", "../figures"]
    assert all(str(p).startswith("../demo-output") for p in quick)


def test_load_only_reads_the_file_and_trains_nothing(monkeypatch, tmp_path):
    figure2_store().to_netcdf(tmp_path / "figure2.nc")
    monkeypatch.setenv("LORA_LOAD_ONLY", "1")
    ds = reproduce.sweep("figure2", "paper", folder=tmp_path)
    assert ds.sizes["width"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure2.nc"]


def test_exponent_table_puts_the_theory_beside_the_fit():
    table = reproduce.exponent_table(figure2_store())
    assert "| Init[A] |" in table and table.splitlines()[2].endswith("| -1/2 |")
    assert table.splitlines()[3].endswith("| -1 |")
