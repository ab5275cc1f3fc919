"""docs/sweeps.md's presets table is the code's presets (regenerate: python -m
toymodels.sweeps._presets_doc)."""

from toymodels.sweeps import _presets_doc


def test_the_documented_presets_table_is_generated_from_the_code():
    document = _presets_doc.DOC.read_text(encoding="utf-8")
    assert _presets_doc.with_table(document) == document, (
        "docs/sweeps.md's presets table is stale: run python -m toymodels.sweeps._presets_doc"
    )


def test_the_documented_results_path_is_the_one_the_cli_uses(tmp_path):
    from toymodels.cli import _sweeps

    assert _sweeps.default_results_path is _presets_doc.default_results_path
    assert "`results/figure2-quick.nc`" in _presets_doc.presets_table()
