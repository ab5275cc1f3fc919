"""`lora-sweep edge` and the per-seed Figure-2 optima: crossings, JSON fields, bad input, resume."""

import json
import math

import numpy as np
import pytest

from toymodels import cli
from toymodels.analysis import _edge
from toymodels.analysis._seed_optima import seed_optima
from toymodels.cli._sweeps import parse_rates
from toymodels.core import UsageError
from toymodels.sweeps import _store, sweep_config
from toymodels.sweeps._run import run_sweep

TINY = [
    "edge", "--preset", "quick", "--widths", "8,16,32", "--seeds", "0,1", "--steps", "4",
    "--lr", "1e-3:1e1:9", "--quiet",
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_edge(tmp_path_factory):
    """A finished tiny edge sweep and its --json output (trained once per module)."""
    out = tmp_path_factory.mktemp("edge") / "edge.nc"
    code = cli.main([*TINY, "--out", str(out), "--json"])
    assert code == 0
    return out


def test_seed_edges_interpolate_each_seed_in_log_log():
    rates = 2.0 ** np.arange(-10, 1)
    peaks = np.stack([rates**0.5 * 2**3, rates * 2**6, np.full(rates.size, 0.1)])
    found, where = _edge.seed_edges(rates, peaks, 1.0)
    assert np.log2(found[:2]).round(6).tolist() == [-6.0, -6.0]
    assert math.isnan(found[2]) and where[2] == "below_at_highest"


def test_a_diverged_run_is_above_every_level():
    rates = 2.0 ** np.arange(-4, 0)
    found, where = _edge.seed_edges(rates, [[0.1, 0.2, np.inf, np.inf]], 1e6)
    assert where == ["bracketed_by_divergence"] and found[0] == pytest.approx(2**-2.5)


@pytest.mark.parametrize(
    "ratios, expected",
    [([0.9, 0.6, 0.3, 0.25, 0.5, 4.0], -2.0), ([0.9, 0.8, 0.7, 0.6, 0.6, 0.6], None)],
    ids=["bracketed", "never-halves"],
)
def test_loss_edge_is_the_up_crossing_of_half_past_the_minimum(ratios, expected):
    edge = _edge.loss_edge(2.0 ** np.arange(-6, 0), ratios)
    assert math.isnan(edge) if expected is None else np.log2(edge) == pytest.approx(expected)


def test_edge_json_has_the_issue_fields(tiny_edge, capsys):
    assert cli.main(["summary", str(tiny_edge), "--json", "--level", "2"]) == 0
    summary = json.loads(capsys.readouterr().out)
    for field in ("fitted_exponent", "exponent_difference", "predicted_exponent", "edge", "level",
                  "results", "loss_edge", "levels", "not_found"):  # fmt: skip
        assert field in summary
    assert summary["level"] == 2.0
    assert summary["predicted_exponent"] == {"A": "-1/2", "B": "-1"}
    assert set(summary["edge"]["A"]) == {"8", "16", "32"}
    assert all(len(seeds) == 2 for seeds in summary["edge"]["B"].values())
    assert set(summary["levels"]) == {"1", "4", "10"}


def test_per_seed_edges_match_the_stored_peaks(tiny_edge):
    ds = _store.load_results(tiny_edge)
    table = _edge.edge_table(ds, 4.0)
    peaks = _edge.peak_feature_size(ds).sel(init="B", width=16, seed=1).values
    rates = ds["eta_A"].values
    expected = _edge.seed_edges(rates, peaks[None, :], 4.0)[0][0]
    assert table["B"]["rates"][1, 1] == pytest.approx(expected, nan_ok=True)


def test_resume_trains_nothing_when_every_cell_is_stored(tiny_edge):
    rates = parse_rates("1e-3:1e1:9")  # the rates of TINY, as the command line parses them
    config, _ = sweep_config(
        "edge", "quick", widths=(8, 16, 32), seeds=(0, 1), steps=4, rates=rates
    )

    def refuse(*args, **kwargs):
        raise AssertionError("a stored cell was trained again")

    before = tiny_edge.read_bytes()
    ds = run_sweep(config, tiny_edge, quiet=True, trainer=refuse)
    assert len(_store.completed_cells(ds)) == 6 and tiny_edge.read_bytes() == before


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--level", "0"], "--level"),
        (["--level", "nan"], "--level"),
        (["--level", "-1"], "--level"),
        (["--seeds", "0"], "2 seeds"),
        (["--widths", "8,16"], "3 widths"),
    ],
    ids=["zero-level", "nan-level", "negative-level", "one-seed", "two-widths"],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, flags, message):
    out = tmp_path / "edge.nc"
    assert cli.main([*TINY, "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_check_level_rejects_infinity():
    with pytest.raises(UsageError, match="finite"):
        _edge.check_level("inf")


def test_seed_optima_are_interpolated_and_edges_are_bounds():
    from tests.synthetic_results import figure2_store

    ds = figure2_store(widths=(128, 256, 512), seeds=2)
    table = seed_optima(ds, "train_loss", None, window=1)
    # The planted optimum 2·n^-0.7 lies on a 10^(1/4) grid; the parabola recovers it exactly.
    assert table["A"]["rates"][0] == pytest.approx([2 * 128**-0.7] * 2, rel=1e-6)
    assert {k for row in table["B"]["where"] for k in row} == {"interior"}


def test_figure2_json_adds_the_difference_and_seed_count():
    from tests.synthetic_results import figure2_store
    from toymodels.analysis._seed_optima import seed_summary

    summary = seed_summary(figure2_store(), "train_loss", 20, window=1)
    assert summary["seeds"] == 2
    assert summary["exponent_difference"]["value"] == pytest.approx(0.3, abs=1e-6)
    assert summary["seed_exponent"]["A"]["value"] == pytest.approx(-0.7, abs=1e-6)


def test_stability_edge_figure_draws_every_found_seed(tiny_edge):
    from toymodels.reproduce import _figure_data, plot_stability_edge

    ds = _store.load_results(tiny_edge)
    fig = plot_stability_edge(ds)
    points = sum(len(line.get_ydata()) for line in fig.axes[0].lines[:1])
    found = np.isfinite(_figure_data.edge_seed_rates(ds, _edge.DEFAULT_LEVEL)["A"]).sum()
    assert points == found
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("Init[A]" in t for t in legend) and any("one seed" in t for t in legend)
    assert any(t.startswith("theory: $n^{-1/2}$") for t in legend)  # the edge is what it predicts
