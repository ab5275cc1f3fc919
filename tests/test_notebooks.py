"""Every notebook runs top to bottom on the smoke presets (LORA_PRESET=smoke), as CI runs them.

The notebooks run in one test, in order, sharing one quick results folder: the Figure-3 notebook
reuses the Figure-2 notebook's sweep instead of running it again.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_there_is_a_notebook_per_figure_family():
    stems = {p.stem for p in NOTEBOOKS}
    assert {
        "01_init_fig2_optimal_lr",
        "02_init_fig3_feature_norms",
        "03_loraplus_fig2_heatmaps",
        "04_theory_phase_diagrams_empirical_gamma",
        "05_rank_scaling",
        "06_rate_transfer",
        "07_transformer",
    } <= stems


def test_notebook_cells_call_the_package_only():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                # no definitions pasted into cells: the logic lives in the package
                assert "def " not in cell.source and "class " not in cell.source, path.name


#: Notebooks run on the committed results rather than on the smoke presets (see the test).
FROM_COMMITTED = {"07_transformer"}
#: The figure each notebook must write on the smoke presets (the others are checked by running).
WRITES = {
    "01_init_fig2_optimal_lr": "init_fig2_optimal_lr.png",
    "03_loraplus_fig2_heatmaps": "loraplus_fig2_heatmaps.png",
}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_executes_on_the_smoke_presets(path, tmp_path, monkeypatch):
    # One test per notebook (each runs its own sweeps), so the suite's workers share them out.
    # Notebook 07 runs the transformer study's two commands of docs/reproduction.md (the width
    # check and the edge) on their smoke presets.
    # The smallest inputs that still run every cell: this checks that the notebooks run, not what
    # they show (their committed outputs come from the paper runs).
    monkeypatch.setenv("LORA_PRESET", "smoke")
    monkeypatch.setenv("LORA_RESULTS", str(tmp_path / "results"))
    if path.stem in FROM_COMMITTED:
        # Drawn from the committed results (trains nothing): its runs are compile-bound even at
        # the smallest sizes, and the paths they take are run elsewhere (the lab tests train a
        # model through check_model and edge_model; the GPU check's dry run trains the transformer
        # through `lora-sweep coordcheck --model`).
        monkeypatch.setenv("LORA_PRESET", "committed")
        monkeypatch.setenv("LORA_RESULTS", str(ROOT / "results"))
    monkeypatch.setenv("LORA_FIGURES", str(tmp_path / "figures"))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        # A hang guard only, far above a cell's time on a loaded machine: the verdict is the
        # cells' success, never their speed.
        timeout=1800,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed on the smoke presets:\n{error}")
    if path.stem in WRITES:
        assert (tmp_path / "figures" / WRITES[path.stem]).is_file()


@pytest.mark.parametrize(
    "name",
    [
        "01_init_fig2_optimal_lr",
        "02_init_fig3_feature_norms",
        "03_loraplus_fig2_heatmaps",
        "07_transformer",
    ],
)
def test_figure_notebooks_are_committed_with_their_figures(name):
    notebook = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert images, f"{name}.ipynb carries no figure in its committed outputs"
