"""The width check and the edge of a user's own model (toymodels.lab): finding LoRA layers in NNX,
Equinox and plain pytrees, reading Z_A and Z_B off the jaxpr, one end-to-end check, the bisection
of the edge, and bad input as one line with exit code 2 before any training. (docs/user-models.md's
edge block is left to this file: the bisection test below runs its logic.)"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import toymodels
from toymodels import cli
from toymodels.lab import Model, find_layers
from toymodels.lab._adapt import bind
from toymodels.lab._edge import locate_edges
from toymodels.lab._trace import check_tapped, tapped
from toymodels.lab.examples import mlp

MLP = "toymodels.lab.examples.mlp"


@pytest.mark.parametrize(
    ("factory", "kind", "layer"),
    [
        (mlp.pytree_mlp, "pytree", "hidden"),
        (mlp.nnx_mlp, "nnx", "lora"),
        (mlp.eqx_mlp, "equinox", "root"),
    ],
    ids=["pytree", "nnx", "equinox"],
)
def test_each_framework_binds_and_its_Z_A_Z_B_are_the_layer_products(factory, kind, layer):
    bound = bind(factory, 16)
    assert bound.kind == kind
    (found,) = find_layers(list(bound.shapes), lora_typed=bound.lora_typed)
    assert found.name == layer
    flat = bound.init(jax.random.key(3))
    flat[found.B] = jax.random.normal(jax.random.key(4), flat[found.B].shape)  # B ≠ 0
    x, _ = mlp.data(jax.random.key(5), 16)
    y, taps = jax.jit(tapped(bound.apply, [found]))(flat, x)
    np.testing.assert_allclose(y, bound.apply(flat, x), rtol=1e-5, atol=1e-6)
    hidden = jax.nn.relu(x @ flat["w0"] if "w0" in flat else x @ flat["w/w0"])
    a, b = flat[found.A], flat[found.B]
    a, b = (a.T, b.T) if kind == "equinox" else (a, b)  # Equinox's A is r × n
    np.testing.assert_allclose(taps[layer]["Z_A"], hidden @ a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(taps[layer]["Z_B"], hidden @ a @ b, rtol=1e-4, atol=1e-4)


def test_nnx_LoRAParam_is_preferred_to_names():
    bound = bind(mlp.nnx_mlp, 16)
    assert bound.lora_typed == {"lora/lora_a", "lora/lora_b"}


def test_a_selector_finds_other_spellings_and_a_scalar_multiplier_belongs_to_Z_B():
    params = {"q": {"kernel": jnp.eye(3), "down": jnp.ones((3, 2)), "up": jnp.ones((2, 3))}}

    def apply(p, x):
        q = p["q"]
        return x @ q["kernel"] + 0.25 * ((x @ q["down"]) @ q["up"])

    layers = find_layers(["q/kernel", "q/down", "q/up"], select_A="down$", select_B="up$")
    assert [tuple(layer) for layer in layers] == [("q", "q/down", "q/up")]
    flat = {
        "q/kernel": params["q"]["kernel"],
        "q/down": params["q"]["down"],
        "q/up": params["q"]["up"],
    }
    _, taps = tapped(
        lambda f, x: apply({"q": {k.split("/")[1]: v for k, v in f.items()}}, x), layers
    )(flat, jnp.ones((1, 3)))
    assert taps["q"]["Z_B"].tolist() == [[1.5, 1.5, 1.5]]  # 0.25 · (3 + 3)


@pytest.mark.parametrize(
    ("paths", "kwargs", "needle"),
    [
        (["w", "b"], {}, "no LoRA layers"),
        (["w", "lora_a", "lora_b"], {"select_A": "xx", "select_B": "yy"}, "match no parameter"),
        (["w", "lora_a", "lora_b"], {"select_A": "lora_a"}, "both select_A and select_B"),
        (["l1/lora_a", "l2/lora_a", "l1/lora_b"], {}, "pair up"),
        (["x/lora_a", "y/z/lora_b"], {}, "cannot pair"),
    ],
    ids=["none", "selector matches nothing", "one selector", "unpaired", "unpairable"],
)
def test_bad_layer_selection_is_a_usage_error(paths, kwargs, needle):
    with pytest.raises(toymodels.UsageError, match=needle):
        find_layers(paths, **kwargs)


def test_merged_factors_are_refused_before_training():
    def apply(p, x):
        return x @ (p["lora_a"] @ p["lora_b"])

    flat = {"lora_a": jnp.ones((3, 2)), "lora_b": jnp.ones((2, 3))}
    layers = find_layers(list(flat))
    with pytest.raises(toymodels.UsageError, match="merged"):
        check_tapped(apply, layers, flat, jnp.ones((1, 3)))


def test_the_check_runs_end_to_end_and_judges_every_layer_and_step():
    """Init[A] at t = 1: B₀ = 0, so A has no gradient and ΔZ_A¹ is exactly 0 (predicted −∞)."""
    report = toymodels.check_model(
        mlp.pytree_mlp, mlp.data, widths=(16, 32), eta_A_exponent="-1/2", seeds=2, steps=2,
        echo=None,
    )  # fmt: skip
    assert report.setting["init"] == "A" and report.setting["layers"][0]["name"] == "hidden"
    cells = {(c.quantity, c.step): c for c in report.checks}
    assert len(cells) == 4 * 2
    assert cells[("hidden:dZ_A", 1)].passed and cells[("hidden:dZ_A", 1)].note == "exactly zero"
    assert str(cells[("hidden:Z_B", 1)].predicted) == "-1/2"
    assert cells[("hidden:Z_B", 1)].measured is not None
    assert report.measurement.rms["loss"].shape == (2, 2, 3)


def test_the_model_own_init_is_read_and_AB_is_refused():
    from toymodels.lab._check import detect_init

    bound = bind(mlp.nnx_mlp, 16)
    layers = find_layers(list(bound.shapes), lora_typed=bound.lora_typed)
    assert detect_init(bound, layers) == "A"  # nnx.LoRA: B = 0

    def both(width, key):
        return Model({"lora_a": jnp.ones((width, 2)), "lora_b": jnp.ones((2, width))},
                     lambda p, x: (x @ p["lora_a"]) @ p["lora_b"])  # fmt: skip

    bound = bind(both, 4)
    with pytest.raises(toymodels.UsageError, match="neither"):
        detect_init(bound, find_layers(list(bound.shapes)))


def _fake_runner(edges):
    """Peak RMS(Z_B) = 4 at η = edges[seed] (∝ η), the loss ratio 0.25 below 2·edge, 2 above."""

    def runner(eta_A, eta_B, seeds):
        edge = np.asarray(edges)[np.asarray(seeds)]
        peak = 4.0 * np.asarray(eta_A) / edge
        ratio = np.where(np.asarray(eta_A) < 2 * edge, 0.25, 2.0)
        rows = np.zeros((len(seeds), 2, 1, 4))
        rows[:, 1, 0, 1] = peak
        return np.stack([np.ones(len(seeds)), ratio], axis=1), rows

    return runner


def test_the_edge_is_bracketed_then_bisected_per_seed():
    from toymodels.lab._adapt import Layer

    edges = [2.0**-5.3, 2.0**-9.6]
    feature, loss, where, runs = locate_edges(
        _fake_runner(edges), [Layer("l", "a", "b")], np.array([0, 1]),
        level=4.0, lo=-12, hi=0, coarse=2, rounds=3,
    )  # fmt: skip
    np.testing.assert_allclose(np.log2(feature), np.log2(edges), atol=1e-6)  # linear: exact
    assert all(w == "bracketed" for w in where)
    # the loss edge is a step at 2·edge: bisection brings it within 2/2^3 octaves
    assert np.all(np.abs(np.log2(loss) - (np.log2(edges) + 1)) <= 0.25 + 1e-9)
    assert runs == 7 * 2 + 3 * 2 * 2  # the coarse grid, then two midpoints per seed per round


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--model", "no_such_package.mod:f"], "cannot import"),
        (["--model", f"{MLP}:no_such_factory"], "has no 'no_such_factory'"),
        (["--model", f"{MLP}:frozen"], "failed"),
        (["--model", f"{MLP}:forward", "--widths", "8,16"], "failed"),
        (
            ["--model", "toymodels.lab.examples.transformer:factory", "--widths", "64,72"],
            "factory(72, key) failed",
        ),
        (["--model", f"{MLP}:pytree_mlp", "--select-A", "xx", "--select-B", "yy"], "match no"),
        (["--model", f"{MLP}:pytree_mlp", "--widths", "2^16,2^17"], "GiB"),
        (["--model", f"{MLP}:pytree_mlp", "--data", f"{MLP}:nothing"], "has no 'nothing'"),
        (["--model", "linear", "--data", f"{MLP}:data"], "--data is for your own model"),
        (["--model", "linear"], "--inits is required"),
        (["--model", "not a model"], "invalid choice"),
    ],
    ids=[
        "import",
        "attribute",
        "factory fails",
        "not a model",
        "no model at a width",
        "selector",
        "memory",
        "data",
        "toy with --data",
        "toy without init",
        "spelling",
    ],
)
def test_bad_user_model_input_is_one_line_exit_2_before_training(flags, needle, capsys, tmp_path):
    plot = tmp_path / "f.png"
    argv = ["coordcheck", "--eta-exponent", "-1/2", "--quiet", "--plot", str(plot), *flags]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("lora-sweep: error:") and captured.err.count("\n") == 1
    assert needle in captured.err
    assert captured.out == "" and not plot.exists()


def test_a_factory_returning_no_model_names_the_width():
    def factory(width, key):
        return {"lora_a": jnp.ones((width, 2))}

    with pytest.raises(toymodels.UsageError, match=r"factory\(8, key\) returned dict, not a model"):
        bind(factory, 8)
