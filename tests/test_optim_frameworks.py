"""The LoRA group optimizer on users' own models: on Flax NNX's and Equinox's LoRA modules the
first Adam step moves exactly the LoRA B matrices by ±η_B and nothing frozen. (The examples of
docs/lora-optimizers.md are run by tests/test_docs_blocks.py.)"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from toymodels import lora_multi_optimizer
from toymodels.core._lora_names import path_name

ETA_A, RATIO = 1e-2, 16.0


def _first_step_moves(before: dict, after: dict) -> dict:
    """Per path: the largest |change| of one step."""
    return {path: float(jnp.max(jnp.abs(after[path] - before[path]))) for path in before}


def _by_path(tree) -> dict:
    return {path_name(p): jnp.array(leaf) for p, leaf in jax.tree_util.tree_leaves_with_path(tree)}


def test_flax_nnx_lora_linear_first_adam_step_moves_only_lora_b_by_eta_B():
    nnx = pytest.importorskip("flax.nnx")
    model = nnx.LoRALinear(6, 5, lora_rank=2, rngs=nnx.Rngs(0))
    tx = lora_multi_optimizer(optax.adam, ETA_A, loraplus_lr_ratio=RATIO)
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.LoRAParam)
    x = jax.random.normal(jax.random.PRNGKey(1), (7, 6))
    before = _by_path(nnx.state(model, nnx.Param))

    @nnx.jit  # one compiled step: op-by-op optax is slower than compiling it
    def step(model, optimizer):
        loss_fn = lambda m: jnp.mean((m(x) - 1.0) ** 2)  # noqa: E731
        grads = nnx.grad(loss_fn, argnums=nnx.DiffState(0, nnx.LoRAParam))(model)
        optimizer.update(model, grads)

    step(model, optimizer)

    moved = _first_step_moves(before, _by_path(nnx.state(model, nnx.Param)))
    # lora_b starts at 0, so lora_a's gradient is exactly 0 and Adam leaves it; lora_b moves by
    # ±η_B = ±ratio · η_A in every entry.
    assert moved == {
        "bias/value": 0.0,
        "kernel/value": 0.0,
        "lora/lora_a/value": 0.0,
        "lora/lora_b/value": pytest.approx(RATIO * ETA_A, rel=1e-5),
    }
    delta_b = model.lora.lora_b[...] - before["lora/lora_b/value"]
    np.testing.assert_allclose(jnp.abs(delta_b), RATIO * ETA_A, rtol=1e-5)


def test_equinox_lora_module_first_adam_step_moves_only_lora_B_by_eta_B():
    eqx = pytest.importorskip("equinox")

    class LoRALinear(eqx.Module):
        weight: jax.Array
        b: jax.Array  # a bias named like Haiku's: must not be taken for LoRA B
        lora_A: jax.Array
        lora_B: jax.Array

        def __call__(self, x):
            return self.weight @ x + self.b + self.lora_B @ (self.lora_A @ x)

    k = jax.random.split(jax.random.PRNGKey(0), 3)
    model = LoRALinear(
        weight=jax.random.normal(k[0], (5, 6)),
        b=jnp.zeros(5),
        lora_A=jax.random.normal(k[1], (2, 6)),
        lora_B=jnp.zeros((5, 2)),
    )
    opt = lora_multi_optimizer(optax.adam, ETA_A, loraplus_lr_ratio=RATIO, freeze=True)
    params = eqx.filter(model, eqx.is_array)
    x = jax.random.normal(k[2], (7, 6))

    @eqx.filter_jit  # one compiled step: op-by-op optax is slower than compiling it
    def step(model):
        loss_fn = lambda m: jnp.mean((jax.vmap(m)(x) - 1.0) ** 2)  # noqa: E731
        grads = eqx.filter_grad(loss_fn)(model)
        updates, _ = opt.update(grads, opt.init(params), params)
        return eqx.apply_updates(model, updates)

    after = step(model)

    moved = _first_step_moves(_by_path(params), _by_path(eqx.filter(after, eqx.is_array)))
    assert moved == {
        "weight": 0.0,
        "b": 0.0,
        "lora_A": 0.0,
        "lora_B": pytest.approx(RATIO * ETA_A, rel=1e-5),
    }
