"""Per-matrix learning rates for LoRA as an optax transformation (LoRA+: η_B ≠ η_A).

:func:`scale_by_lora_rates` is the last link of an optax chain, in place of
``optax.scale_by_learning_rate``: it multiplies each update by **−η_A or −η_B** according to the
parameter's path in the pytree. The minus sign is the step: put it after a transformation that has
not applied a rate already (``optax.scale_by_adam()``, not ``optax.adam(lr)``), and apply the
result with ``optax.apply_updates``. It works on any pytree (nested dicts, NamedTuples, Flax NNX
states, Equinox modules); the rates may be traced arrays, so a whole grid of rates can be vmapped
through one compiled training step, or optax schedules (callables of the step count).

The three factories compose like optax's own: every argument is a named parameter, so
``optax.inject_hyperparams(lora_plus_rates)(eta_A=..., ratio=...)`` makes the rates hyperparameters
that can be read and changed in the optimizer state (regex selectors pass through as they are; a
predicate selector must be named in ``static_args``: optax takes every callable for a schedule).

Which leaves are A and B: a leaf is an A matrix when a component of its path (the dict keys,
attribute names and indices joined by ``/``, see :func:`path_name`) is exactly ``lora_A``,
``lora_a`` or ``A``, and a B matrix when one is exactly ``lora_B``, ``lora_b`` or ``B``. A lone
``a`` or ``b`` is never selected by default (``…/linear_0/b`` is a Haiku bias). Each selector must
match at least one leaf, whatever ``eta_other``, so a typo is an error rather than a model that
silently does not train.

Example: LoRA+ (η_B = λ·η_A) on a user's own model with Adam; the frozen kernel gets no update.

>>> import jax.numpy as jnp, optax
>>> params = {"attn": {"kernel": jnp.ones((3, 3)),
...                    "lora_A": jnp.ones((2, 3)), "lora_B": jnp.ones((3, 2))}}
>>> opt = optax.chain(optax.scale_by_adam(), lora_plus_rates(1e-3, ratio=16.0, eta_other=0.0))
>>> grads = jax.tree_util.tree_map(jnp.ones_like, params)
>>> updates, _ = opt.update(grads, opt.init(params), params)
>>> [round(float(u[0, 0]), 6) for u in jax.tree_util.tree_leaves(updates)]
[-0.0, -0.001, -0.016]

The same with the rates as injectable hyperparameters (a warm-up schedule for η_A):

>>> warmup = optax.linear_schedule(0.0, 1e-3, transition_steps=10)
>>> opt = optax.chain(optax.scale_by_adam(), optax.inject_hyperparams(lora_plus_rates)(
...     eta_A=warmup, ratio=16.0, eta_other=0.0))
>>> state = opt.init(params)
>>> float(state[1].hyperparams["ratio"])
16.0
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from toymodels.core._errors import UsageError

Selector = str | Callable[[str], bool]
"""A regex searched in the parameter's path (``"layer/lora_A"``), or a predicate on that path."""

Rate = float | jax.Array | Callable[[jax.Array], jax.Array]
"""A learning rate: a number, a scalar array (possibly traced) or an optax schedule of the count."""

# A path component that is exactly lora_A, lora_a or A (B likewise): this package's models and the
# usual LoRA naming ("…/lora_A/kernel" matches too, since "lora_A" is a component). A lone "a" or
# "b" is not: it is a bias or a scale in too many libraries (Haiku's Linear names its bias "b").
SELECT_A = r"(?:^|/)(?:lora_[Aa]|A)(?:/|$)"
SELECT_B = r"(?:^|/)(?:lora_[Bb]|B)(?:/|$)"

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

    Raises :class:`UsageError` when a leaf is selected as both A and B, or when a selector matches
    no leaf.

    >>> lora_labels({"linear_0": {"w": 0, "b": 0}, "lora_A": 0, "lora_B": 0})
    {'linear_0': {'b': 'other', 'w': 'other'}, 'lora_A': 'A', 'lora_B': 'B'}
    """
    is_A, is_B = _matcher(select_A), _matcher(select_B)

    def label(path, _):
        name = path_name(path)
        a, b = is_A(name), is_B(name)
        if a and b:
            raise UsageError(f"parameter {name!r} is selected both as a LoRA A and as a LoRA B")
        return "A" if a else "B" if b else "other"

    labels = jax.tree_util.tree_map_with_path(label, tree)
    found = set(jax.tree_util.tree_leaves(labels))
    for which, selector in (("A", select_A), ("B", select_B)):
        if which not in found:
            names = [path_name(path) for path, _ in jax.tree_util.tree_leaves_with_path(tree)]
            shown = ", ".join(names[:6]) + (f", … ({len(names)} in all)" if len(names) > 6 else "")
            raise UsageError(
                f"select_{which}={selector!r} matches no parameter (paths: {shown}); "
                "name the LoRA matrices lora_A/lora_B or pass select_A/select_B"
            )
    return labels


def _at(rate: Rate, count):
    """The value of a constant or scheduled rate at step ``count``."""
    return rate(count) if callable(rate) else rate


def scale_by_lora_rates(
    eta_A: Rate,
    eta_B: Rate,
    *,
    eta_other: Rate | None = None,
    select_A: Selector = SELECT_A,
    select_B: Selector = SELECT_B,
) -> optax.GradientTransformation:
    """Scale updates by −η_A on the A matrices and −η_B on the B matrices (the minus is the step).

    Args:
      eta_A, eta_B: learning rates: Python floats, scalar arrays (possibly traced) or optax
        schedules (callables of the update count, starting at 0).
      eta_other: rate of every other leaf (``0.0`` freezes them). ``None`` (default) makes an
        unselected leaf an error.
      select_A, select_B: which leaves are A and B (:data:`Selector`); the defaults match a path
        component that is exactly ``lora_A``/``lora_a``/``A`` and ``lora_B``/``lora_b``/``B``.
        Each must match at least one leaf.

    Returns:
      An ``optax.GradientTransformation``, stateless for constant rates and counting updates
      (``optax.ScaleByScheduleState``) when a rate is a schedule. Use it last in a chain, like
      ``optax.scale_by_learning_rate``: ``chain(scale_by_adam(), scale_by_lora_rates(…))``. Never
      after a whole optimizer such as ``optax.adamw(1.0)``, which has already negated the update:
      that chain ascends.
    """
    rates = {"A": eta_A, "B": eta_B, "other": eta_other}
    scheduled = any(callable(rate) for rate in rates.values())

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

    def scale(updates, count):
        return jax.tree_util.tree_map(
            lambda u, label: -jnp.asarray(_at(rates[label], count), u.dtype) * u,
            updates,
            labels_of(updates),
        )

    def init_fn(params):
        labels_of(params)
        if scheduled:
            return optax.ScaleByScheduleState(count=jnp.zeros([], jnp.int32))
        return optax.EmptyState()

    def update_fn(updates, state, params=None):
        del params
        if not scheduled:
            return scale(updates, None), state
        count = state.count
        return scale(updates, count), optax.ScaleByScheduleState(optax.safe_increment(count))

    return optax.GradientTransformation(init_fn, update_fn)


def lora_plus_rates(
    eta_A: Rate,
    ratio: Rate,
    *,
    eta_other: Rate | None = None,
    select_A: Selector = SELECT_A,
    select_B: Selector = SELECT_B,
) -> optax.GradientTransformation:
    """LoRA+'s rates: η_B = ratio · η_A (the paper's λ; it recommends λ ≫ 1, e.g. 2⁴).

    Either may be a schedule; the other arguments are those of :func:`scale_by_lora_rates`.
    """
    if callable(eta_A) or callable(ratio):
        eta_B = lambda count: _at(ratio, count) * _at(eta_A, count)  # noqa: E731
    else:
        eta_B = ratio * eta_A
    return scale_by_lora_rates(
        eta_A, eta_B, eta_other=eta_other, select_A=select_A, select_B=select_B
    )


def lora_optimizer(
    name: str,
    eta_A: Rate,
    eta_B: Rate,
    *,
    b1: float = 0.9,
    b2: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    eta_other: Rate | None = None,
    select_A: Selector = SELECT_A,
    select_B: Selector = SELECT_B,
) -> optax.GradientTransformation:
    """``sgd``, ``adam`` or ``adamw`` (optax's, with decoupled weight decay) with rates η_A, η_B.

    A complete optimizer (its updates are added to the parameters): equal rates give exactly optax's
    ``sgd``/``adam``/``adamw`` updates (the decay, as in optax, is scaled by the rate). The rates
    and the selectors are those of :func:`scale_by_lora_rates`.
    """
    if name not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    rates = scale_by_lora_rates(
        eta_A, eta_B, eta_other=eta_other, select_A=select_A, select_B=select_B
    )
    if name == "sgd":
        return rates
    adam = optax.scale_by_adam(b1=b1, b2=b2, eps=eps)
    if name == "adam":
        return optax.chain(adam, rates)
    return optax.chain(adam, optax.add_decayed_weights(weight_decay), rates)
