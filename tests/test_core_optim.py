"""The per-matrix learning-rate transformation: exact scaling, selection by path, traced rates.

``scale_by_lora_rates`` and ``lora_plus_rates`` are deprecated (tests/test_optim_groups.py checks
the warning); these tests keep their behaviour, so the warning is ignored here."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toymodels import lora_optimizer, lora_plus_rates, scale_by_lora_rates
from toymodels.core._errors import UsageError
from toymodels.core._optim import rate_labels as lora_labels

pytestmark = pytest.mark.filterwarnings("ignore:.* is deprecated:DeprecationWarning")

PARAMS = {"A": jnp.arange(6.0).reshape(2, 3), "B": jnp.arange(6.0).reshape(3, 2) - 2.0}
rates = st.floats(min_value=2.0**-20, max_value=2.0**10, width=32)


@given(eta_A=rates, eta_B=rates)
def test_updates_are_scaled_by_exactly_minus_eta_A_and_minus_eta_B(eta_A, eta_B):
    transform = scale_by_lora_rates(eta_A, eta_B)
    updates, _ = transform.update(PARAMS, transform.init(PARAMS))
    np.testing.assert_array_equal(updates["A"], -jnp.float32(eta_A) * PARAMS["A"])
    np.testing.assert_array_equal(updates["B"], -jnp.float32(eta_B) * PARAMS["B"])


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_equal_rates_reproduce_optax(name):
    reference = {
        "sgd": optax.sgd(0.1),
        "adam": optax.adam(0.1, b1=0.9, b2=0.99),
        "adamw": optax.adamw(0.1, b1=0.9, b2=0.99, weight_decay=0.5),
    }[name]
    ours = lora_optimizer(name, 0.1, 0.1, weight_decay=0.5 if name == "adamw" else 0.0)
    grads = jax.tree_util.tree_map(lambda p: jnp.cos(p), PARAMS)
    state_ours, state_ref = ours.init(PARAMS), reference.init(PARAMS)
    for _ in range(3):
        ours_updates, state_ours = ours.update(grads, state_ours, PARAMS)
        ref_updates, state_ref = reference.update(grads, state_ref, PARAMS)
        for leaf in ("A", "B"):
            np.testing.assert_allclose(ours_updates[leaf], ref_updates[leaf], rtol=1e-6)


def test_selects_a_users_nested_lora_matrices_and_freezes_the_rest():
    params = {
        "encoder": {"layer_0": {"kernel": jnp.ones((3, 3)), "lora_A": jnp.ones((2, 3))}},
        "head": {"lora_B": jnp.ones((3, 2)), "bias": jnp.ones(3)},
    }
    transform = lora_plus_rates(0.01, ratio=4.0, eta_other=0.0)
    updates, _ = transform.update(params, transform.init(params))
    assert float(updates["encoder"]["layer_0"]["lora_A"][0, 0]) == pytest.approx(-0.01)
    assert float(updates["head"]["lora_B"][0, 0]) == pytest.approx(-0.04)
    assert float(jnp.abs(updates["encoder"]["layer_0"]["kernel"]).max()) == 0.0
    assert float(jnp.abs(updates["head"]["bias"]).max()) == 0.0


@pytest.mark.parametrize(
    ("select_A", "select_B"),
    [(r"down_proj$", r"up_proj$"), (lambda p: p.endswith("down_proj"), lambda p: "up" in p)],
    ids=["regex", "predicate"],
)
def test_custom_selectors(select_A, select_B):
    tree = {"mlp": {"down_proj": 0, "up_proj": 0}}
    labels = lora_labels(tree, select_A=select_A, select_B=select_B)
    assert labels == {"mlp": {"down_proj": "A", "up_proj": "B"}}


def test_unselected_leaf_is_an_error_without_eta_other():
    with pytest.raises(UsageError, match="kernel"):
        scale_by_lora_rates(1.0, 1.0).init({"A": jnp.ones(2), "kernel": jnp.ones(2)})


def test_leaf_selected_twice_is_an_error():
    with pytest.raises(UsageError, match="both"):
        scale_by_lora_rates(1.0, 1.0, select_A="x", select_B="x").init({"x": jnp.ones(2)})


def test_unknown_optimizer_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown optimizer"):
        lora_optimizer("lion", 1.0, 1.0)


def test_rates_are_traced_so_a_grid_of_rates_is_one_vmapped_jitted_call():
    grads = jax.tree_util.tree_map(jnp.ones_like, PARAMS)

    @jax.jit
    def step(eta_A, eta_B):
        opt = lora_optimizer("adam", eta_A, eta_B)
        return opt.update(grads, opt.init(PARAMS), PARAMS)[0]

    eta_A, eta_B = jnp.array([1e-3, 1e-2, 1e-1]), jnp.array([1.0, 2.0, 3.0])
    batched = jax.vmap(step)(eta_A, eta_B)
    for i in range(3):
        one = step(eta_A[i], eta_B[i])
        np.testing.assert_allclose(batched["A"][i], one["A"], rtol=1e-6)
        np.testing.assert_allclose(batched["B"][i], one["B"], rtol=1e-6)
    # Adam's first update is ±η per entry (here all gradients are 1).
    np.testing.assert_allclose(batched["B"][:, 0, 0], -eta_B, rtol=1e-5)
