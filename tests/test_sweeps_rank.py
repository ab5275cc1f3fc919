"""Rank sweeps: the store with a rank axis, the analysis rules, the CLI's one-line errors."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from toymodels import cli
from toymodels.analysis import _rank as _rank_analysis
from toymodels.core import UsageError
from toymodels.sweeps import _rank, _store

TINY = {
    "model": "linear",
    "multipliers": ("1/2", "1"),
    "inits": ("A", "B"),
    "pairs": ((1, 16), (2, 16), (4, 16), (8, 16)),
    "rates": tuple(2.0**k for k in range(-12, 5)),
    "seeds": (0, 1, 2),
    "train": {"optimizer": "sgd", "steps": 6, "record": True},
    "width": 16,
}


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("rank") / "rank.nc"
    config = _rank.RankSweep(**TINY)
    return config, out, _rank.run_rank_sweep(config, out, quiet=True)


def test_every_cell_is_stored_and_marked_completed(tiny_sweep):
    config, _, ds = tiny_sweep
    assert _rank.completed(ds) == set(config.cells())
    assert dict(ds.sizes) == {
        "multiplier": 2, "pair": 4, "init": 2, "lr": 17, "seed": 3, "step": 7,
    }  # fmt: skip
    assert set(ds.data_vars) == {"train_loss", "f", "diverged_step"}
    assert int((ds["diverged_step"] == _store.NOT_RUN).sum()) == 0


def test_stored_runs_equal_a_direct_train_grid_call(tiny_sweep):
    from toymodels.core import train_grid

    config, _, ds = tiny_sweep
    cell = _rank.RankCell("1/2", 4, "B", 16)
    rates = np.asarray(config.rates)
    direct = train_grid(config.train_config(cell), rates, rates, np.asarray(config.seeds))
    stored = ds["f"].sel(multiplier="1/2", pair=_rank.pair_index(ds, 4, 16), init="B").values
    np.testing.assert_array_equal(stored, direct.metrics["f"])


def test_a_rerun_trains_nothing_and_another_configuration_is_refused(tiny_sweep):
    config, out, _ = tiny_sweep
    before = out.read_bytes()

    def refuse(*args, **kwargs):
        raise AssertionError("a finished cell was trained again")

    _rank.run_rank_sweep(config, out, quiet=True, trainer=refuse)
    assert out.read_bytes() == before
    other = _rank.RankSweep(**{**TINY, "seeds": (0, 1)})
    with pytest.raises(UsageError, match="different configuration"):
        _rank.run_rank_sweep(other, out, quiet=True, trainer=refuse)
    assert out.read_bytes() == before


def test_a_stopped_rank_sweep_keeps_its_saved_cells_and_resumes_with_the_rest(tiny_sweep, tmp_path):
    from toymodels.sweeps._run import SweepStopped

    config, _, full = tiny_sweep
    out = tmp_path / "rank.nc"
    saved = []
    with pytest.raises(SweepStopped) as stopped:
        _rank.run_rank_sweep(
            config, out, quiet=True, should_stop=lambda: len(saved) == 2, on_cell=saved.append
        )
    assert (stopped.value.saved, stopped.value.total) == (2, len(config.cells()))
    assert _rank.completed(_store.load_results(out)) == set(saved)
    trained = []

    def counting(train_config, *args):
        from toymodels.core import train_grid

        trained.append(train_config)
        return train_grid(train_config, *args)

    resumed = _rank.run_rank_sweep(config, out, quiet=True, trainer=counting)
    assert len(trained) == len(config.cells()) - 2
    np.testing.assert_array_equal(resumed["f"].values, full["f"].values)


def test_summary_fits_the_rank_exponent_against_the_calculator(tiny_sweep):
    _, _, ds = tiny_sweep
    summary = _rank_analysis.summarize_rank(ds, window=2)
    lines = {(line["multiplier"], line["init"]): line for line in summary["lines"]}
    assert set(lines) == {("1/2", "A"), ("1/2", "B"), ("1", "A"), ("1", "B")}
    # gd-linear Init[A]: the maximal stable rate grows as r^s (docs/theory.md §12).
    assert lines["1", "A"]["predicted"] == "1" and lines["1/2", "A"]["predicted"] == "1/2"
    edge = lines["1", "A"]["edge"]
    assert len(edge["per_seed"]) == 4 and len(edge["per_seed"][0]) == 3
    assert edge["fit"] is not None and edge["fit"]["ci"][0] <= edge["fit"]["value"]
    json.dumps(summary)  # plain JSON
    assert "r at n = 16" in _rank_analysis.render_rank(summary)


@pytest.mark.parametrize(
    ("model", "init", "s", "expected"),
    [("adam", "A", "1/2", Fraction(-1, 4)), ("adam", "B", "1", Fraction(0)),
     ("gd-linear", "B", "1/2", Fraction(0)), ("gd-linear", "B", "1", Fraction(1))],
    ids=["adam A rsLoRA", "adam B alpha/r", "gd B rsLoRA", "gd B alpha/r"],
)  # fmt: skip
def test_predicted_rank_slopes_come_from_the_calculator(model, init, s, expected):
    assert _rank_analysis.predicted_rank_slope(model, init, s, Fraction(4, 5)) == expected


def test_the_per_coordinate_reading_is_named_for_adam_init_B_only():
    def value(model, s):
        return _rank_analysis.predicted_rank_slope(model, "B", s, Fraction(1, 2))

    named = _rank_analysis.alternatives("adam", "B", "1", value)
    assert named == {"s = 1/2": Fraction(-1, 2), "per-coordinate": Fraction(1, 2)}
    assert "per-coordinate" not in _rank_analysis.alternatives("adam", "A", "1", value)


def test_a_verdict_needs_the_prediction_inside_and_every_alternative_outside():
    fit = {"value": 0.5, "ci": [0.4, 0.6]}
    assert _rank_analysis._verdict(fit, Fraction(1, 2), {"other": Fraction(0)})["pass"]
    assert not _rank_analysis._verdict(fit, Fraction(1, 2), {"other": Fraction(3, 5)})["pass"]
    assert not _rank_analysis._verdict(fit, Fraction(0), {"other": Fraction(1)})["pass"]


@pytest.mark.parametrize(
    ("width", "kappa", "rank"), [(256, "1/4", 4), (1024, "1/2", 32), (16, "1/4", 2)]
)
def test_joint_ranks_are_exact_powers(width, kappa, rank):
    assert _rank.joint_rank(width, kappa) == rank


@pytest.mark.parametrize(
    ("width", "kappa"), [(128, "1/2"), (64, "1"), (64, "-1/4")], ids=["not integer", "1", "<0"]
)
def test_a_joint_rank_that_is_not_an_integer_or_a_bad_kappa_is_refused(width, kappa):
    with pytest.raises(UsageError):
        _rank.joint_rank(width, kappa)


@pytest.mark.parametrize(
    "flags",
    [["--ranks", "0"], ["--ranks", "2048"], ["--ranks", ""], ["--multipliers", "abc"],
     ["--preset", "nope"], ["--width", "0"], ["--window", "0"]],
    ids=["rank 0", "rank above width", "empty ranks", "multiplier", "preset", "width", "window"],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_writes_nothing(flags, tmp_path, capsys):
    out = tmp_path / "rank.nc"
    assert cli.main(["rank", "--model", "linear", "--out", str(out), "--quiet", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lora-sweep: error:") and err.count("\n") == 1
    assert not out.exists()


def test_the_update_at_a_fixed_rate_below_every_edge_is_fitted_against_r(tiny_sweep):
    _, _, ds = tiny_sweep
    updates = _rank_analysis.update_exponents(ds, step=1)
    assert {(u["multiplier"], u["init"]) for u in updates} <= {
        ("1/2", "A"), ("1/2", "B"), ("1", "A"), ("1", "B"),
    }  # fmt: skip
    for u in updates:
        index = int(np.flatnonzero(ds["eta_A"].values == u["rate"])[0])
        assert index == _rank_analysis.fixed_rate(ds, u["multiplier"], u["init"])
        assert np.asarray(u["per_seed"]).shape == (4, 3) and u["quantity"] == "f"
    # gd-linear, t = 1: f₁ = c² η ‖a₀x‖² (Init[A]) carries r^(1 − 2s): −1 at s = 1.
    (one,) = [u for u in updates if (u["multiplier"], u["init"]) == ("1", "A")]
    assert one["predicted"] == "-1"
