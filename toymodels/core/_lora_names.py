"""Which leaves of a pytree are LoRA matrices: paths, selectors and the default spellings.

A leaf's **path** is its dict keys, attribute names and sequence indices joined by ``/``
(:func:`path_name`): ``"encoder/layer_0/lora_A"``, Flax NNX ``"hidden/lora/lora_a/value"``,
Equinox ``"layers/0/lora_A"``. A LoRA layer adds B A z to a frozen W z (A: r × n, B: n × r, in the
``B @ A @ z`` layout; Flax NNX stores the transposes, ``z @ a @ b``); the optimizers give A, B and
the rest their own rates, so a leaf's group must never be guessed silently.

The default selectors take these spellings (case-insensitive, matched per path component):

====================  ===============================  ==================================
group                 a component equal to             or
====================  ===============================  ==================================
A                     ``lora_A``, ``lora_down``        ``a``/``down`` right after a
                      (PEFT, NNX, kohya, ``LoRA_A``)   component ending in ``lora``
                                                       (linen ``lora/a``); the whole path
                                                       ``A`` (this package's ``Lora``)
B                     ``lora_B``, ``lora_up``          ``b``/``up`` after ``…lora``;
                                                       the whole path ``B``
embedding A / B       ``lora_embedding_A`` / ``_B``    (PEFT's embedding LoRA)
====================  ===============================  ==================================

A nested bare ``A`` or ``B`` is never LoRA by default (``mixer/A``, ``mixer/B`` of a state-space
model are its dynamics), nor a lone ``a``/``b`` (Haiku's bias ``linear_0/b``). A path is
**LoRA-named** when a component contains ``lora`` (any case): :func:`lora_named`.

A selector is a regex searched in the path, a predicate on the path, or a :class:`PathSelector`
(a predicate that ``optax.inject_hyperparams`` passes through as it is: it takes every bare
callable for a schedule and calls it with the step count).

>>> import re
>>> [bool(re.search(SELECT_A, p)) for p in ("attn/LoRA_A", "unet/lora_down/kernel", "lora/a",
...                                         "mixer/A", "A", "mlp/linear_0/b")]
[True, True, True, False, True, False]
>>> lora_named("attn/lora_embedding_A"), lora_named("mixer/A")
(True, False)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import jax

_END = r"(?:/|$)"
SELECT_A = rf"(?i:(?:^|/)(?:lora_a|lora_down){_END}|(?:^|/)[^/]*lora/(?:a|down){_END})|^A$"
"""The default A selector (a regex): see the table in the module docstring."""
SELECT_B = rf"(?i:(?:^|/)(?:lora_b|lora_up){_END}|(?:^|/)[^/]*lora/(?:b|up){_END})|^B$"
"""The default B selector (a regex)."""
SELECT_EMBEDDING_A = rf"(?i:(?:^|/)lora_embedding_a{_END})"
"""The default selector of an embedding LoRA's A (PEFT's ``lora_embedding_A``)."""
SELECT_EMBEDDING_B = rf"(?i:(?:^|/)lora_embedding_b{_END})"
"""The default selector of an embedding LoRA's B (PEFT's ``lora_embedding_B``)."""

_LORA_NAMED = re.compile(r"lora", re.IGNORECASE)
_BARE_LETTER = re.compile(r"(?:^|/)[AaBb](?:/|$)")


@dataclasses.dataclass(frozen=True)
class PathSelector:
    """A predicate on a leaf's path that is not itself callable, so ``optax.inject_hyperparams``
    passes it to the factory instead of calling it as a schedule (no ``static_args`` needed).

    >>> PathSelector(lambda path: path.endswith("down")).matches("mlp/down")
    True
    """

    predicate: Callable[[str], bool]
    description: str = "a predicate"

    def matches(self, path: str) -> bool:
        return bool(self.predicate(path))

    def __repr__(self) -> str:
        return f"PathSelector({self.description})"


Selector = str | Callable[[str], bool] | PathSelector
"""A regex searched in the path (``"layer/lora_A"``), a predicate on the path, or a
:class:`PathSelector`."""

Rate = float | jax.Array | Callable[[jax.Array], jax.Array]
"""A learning rate: a number, a scalar array (possibly traced) or an optax schedule of the count."""


def rate_at(rate: Rate, count):
    """The value of a constant or scheduled rate at step ``count``."""
    return rate(count) if callable(rate) else rate


def rate_product(ratio: Rate, rate: Rate) -> Rate:
    """ratio · rate, a schedule when either is one (LoRA+'s η_B = λ·η_A)."""
    if callable(ratio) or callable(rate):
        return lambda count: rate_at(ratio, count) * rate_at(rate, count)
    return ratio * rate


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


def leaf_paths(tree) -> list[str]:
    """The path of every leaf of ``tree``, in ``jax.tree_util`` order."""
    return [path_name(path) for path, _ in jax.tree_util.tree_leaves_with_path(tree)]


def matcher(selector: Selector) -> Callable[[str], bool]:
    """The selector as a predicate on paths."""
    if isinstance(selector, PathSelector):
        return selector.matches
    if callable(selector):
        return lambda path: bool(selector(path))
    if isinstance(selector, str):
        pattern = re.compile(selector)
        return lambda path: pattern.search(path) is not None
    raise TypeError(f"a selector is a regex, a predicate or a PathSelector, not {selector!r}")


def lora_named(path: str) -> bool:
    """Whether a component of ``path`` contains ``lora`` (any case): a name that looks like LoRA."""
    return _LORA_NAMED.search(path) is not None


def bare_letter(path: str) -> bool:
    """Whether a nested component of ``path`` is a lone ``A``, ``B``, ``a`` or ``b`` (an SSM's
    ``mixer/A``, Haiku's bias ``linear_0/b``): names that are LoRA only when the user says so."""
    return "/" in path and _BARE_LETTER.search(path) is not None


def shown(paths: list[str], limit: int = 6) -> str:
    """Paths for a message: the first ``limit`` and a count."""
    more = f", … ({len(paths)} in all)" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more
