"""Per-matrix learning rates for LoRA as an optax transformation (LoRA+: η_B ≠ η_A).

:func:`scale_by_lora_rates` is the last link of an optax chain, in place of
``optax.scale_by_learning_rate``: it multiplies each update by −η_A or −η_B according to the
parameter's path in the pytree. It works on any pytree (nested dicts, NamedTuples, dataclasses
registered as pytrees); the rates may be traced arrays, so a whole grid of rates can be vmapped
through one compiled training step.

Example: LoRA+ (η_B = λ·η_A) on a user's own model with Adam; the frozen kernel gets no update.

>>> import jax.numpy as jnp, optax
>>> params = {"attn": {"kernel": jnp.ones((3, 3)),
...                    "lora_A": jnp.ones((2, 3)), "lora_B": jnp.ones((3, 2))}}
>>> opt = optax.chain(optax.scale_by_adam(), lora_plus_rates(1e-3, ratio=16.0, eta_other=0.0))
>>> grads = jax.tree_util.tree_map(jnp.ones_like, params)
>>> updates, _ = opt.update(grads, opt.init(params), params)
>>> [round(float(u[0, 0]), 6) for u in jax.tree_util.tree_leaves(updates)]
[-0.0, -0.001, -0.016]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from toymodels.core._errors import UsageError

Selector = str | Callable[[str], bool]
"""A regex searched in the parameter's path (``"layer/lora_A"``), or a predicate on that path."""

# A path component named A, a, lora_A or lora_a (B likewise): matches this package's models and the
# usual LoRA naming ("…/lora_A/kernel" matches too, since "lora_A" is a component).
SELECT_A = r"(?:^|/)(?:lora_)?[Aa](?:/|$)"
SELECT_B = r"(?:^|/)(?:lora_)?[Bb](?:/|$)"

OPTIMIZERS = ("sgd", "adam", "adamw")


def path_name(path) -> str:
    """A pytree key path as ``"outer/inner/leaf"`` (dict keys, attribute names, indices)."""
    parts = []
    for key in path:
        for attribute in ("key", "name", "idx"):
            if hasattr(key, attribute):
                parts.append(str(getattr(key, attribute)))
                break
        else:
            parts.append(str(key))
    return "/".join(parts)


def _matcher(selector: Selector) -> Callable[[str], bool]:
    if callable(selector):
        return selector
    pattern = re.compile(selector)
    return lambda name: pattern.search(name) is not None


def lora_labels(tree, *, select_A: Selector = SELECT_A, select_B: Selector = SELECT_B):
    """The label ``"A"``, ``"B"`` or ``"other"`` of each leaf of ``tree`` (a pytree of strings).

    Raises :class:`UsageError` when a leaf is selected as both A and B.
    """
    is_A, is_B = _matcher(select_A), _matcher(select_B)

    def label(path, _):
        name = path_name(path)
        a, b = is_A(name), is_B(name)
        if a and b:
            raise UsageError(f"parameter {name!r} is selected both as a LoRA A and as a LoRA B")
        return "A" if a else "B" if b else "other"

    return jax.tree_util.tree_map_with_path(label, tree)


def scale_by_lora_rates(
    eta_A,
    eta_B,
    *,
    select_A: Selector = SELECT_A,
    select_B: Selector = SELECT_B,
    eta_other=None,
) -> optax.GradientTransformation:
    """Scale updates by −η_A on the A matrices and −η_B on the B matrices.

    Args:
      eta_A, eta_B: learning rates (Python floats or scalar arrays, possibly traced).
      select_A, select_B: which leaves are A and B (:data:`Selector`); the defaults match path
        components ``A``/``lora_A``/``a`` and ``B``/``lora_B``/``b``.
      eta_other: rate of every other leaf (``0.0`` freezes them). ``None`` (default) makes an
        unselected leaf an error, so that a typo in a selector never silently trains nothing.

    Returns:
      A stateless ``optax.GradientTransformation``; use it last in a chain, like
      ``optax.scale_by_learning_rate``.
    """
    rates = {"A": eta_A, "B": eta_B, "other": eta_other}

    def labels_of(tree):
        labels = lora_labels(tree, select_A=select_A, select_B=select_B)
        if eta_other is None:
            unselected = [
                path_name(path)
                for path, label in jax.tree_util.tree_leaves_with_path(labels)
                if label == "other"
            ]
            if unselected:
                raise UsageError(
                    f"parameters {unselected} match neither select_A nor select_B "
                    "(pass eta_other=0.0 to freeze them)"
                )
        return labels

    def init_fn(params):
        labels_of(params)
        return optax.EmptyState()

    def update_fn(updates, state, params=None):
        del params
        labels = labels_of(updates)
        scaled = jax.tree_util.tree_map(
            lambda u, label: -jnp.asarray(rates[label], u.dtype) * u, updates, labels
        )
        return scaled, state

    return optax.GradientTransformation(init_fn, update_fn)


def lora_plus_rates(eta_A, ratio, **selectors: Any) -> optax.GradientTransformation:
    """LoRA+'s rates: η_B = ratio · η_A (the paper's λ; it recommends λ ≫ 1, e.g. 2⁴)."""
    return scale_by_lora_rates(eta_A, ratio * eta_A, **selectors)


def lora_optimizer(
    name: str,
    eta_A,
    eta_B,
    *,
    b1: float = 0.9,
    b2: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    **selectors: Any,
) -> optax.GradientTransformation:
    """``sgd``, ``adam`` or ``adamw`` (optax's, with decoupled weight decay) with rates η_A, η_B.

    Equal rates give exactly optax's ``sgd``/``adam``/``adamw`` updates (the decay, as in optax, is
    scaled by the rate). ``selectors`` are passed to :func:`scale_by_lora_rates`.
    """
    if name not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    rates = scale_by_lora_rates(eta_A, eta_B, **selectors)
    if name == "sgd":
        return rates
    adam = optax.scale_by_adam(b1=b1, b2=b2, eps=eps)
    if name == "adam":
        return optax.chain(adam, rates)
    return optax.chain(adam, optax.add_decayed_weights(weight_decay), rates)
