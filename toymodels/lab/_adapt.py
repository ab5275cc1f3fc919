"""A user's model at one width in one flat form; its LoRA layers found by type, name or selector.

A *factory* is called as ``factory(width, key)`` and returns, at that width, one of

- a Flax NNX module (``nnx.split`` gives its parameters; ``nnx.LoRAParam`` marks the LoRA ones),
- an Equinox module (its array leaves are the parameters; it is called as ``model(x)``),
- a :class:`Model` ``(params, apply)``: a pytree of arrays and a pure ``apply(params, x)``.

The key draws whatever the user wants redrawn per seed (the LoRA factors; a "pretrained" model
may ignore it). :func:`bind` turns any of them into a :class:`Bound`: ``init(key)`` returns the
parameters as a flat dict ``{"path/to/leaf": array}`` (paths as
:func:`toymodels.core._optim.path_name` joins them, NNX's trailing ``value`` dropped) and
``apply(flat, x)`` the output, so the trainer sees one kind of model. :func:`bind` runs the
factory under ``jax.eval_shape``: checking a width allocates nothing.

**LoRA layers.** A layer is a pair (A, B) with Z_A = A z (r coordinates) and Z_B = B A z (n
coordinates, any multiplier included). Leaves are A or B by, in order: the user's selectors
(``select_A``, ``select_B``: a regex searched in the path, or a predicate); else a path component
spelled as a LoRA factor (:data:`A_NAMES`, :data:`B_NAMES`), among the ``nnx.LoRAParam`` leaves if
the model has any. A's and B's are paired in path order; a pair differs in one component, and the
layer is named by the components before it (``blocks/0/q/lora_a`` → ``blocks/0/q``; ``root``
when none).

>>> layers = find_layers(["blk/q/kernel", "blk/q/lora_a", "blk/q/lora_b", "out/w"])
>>> [(layer.name, layer.A, layer.B) for layer in layers]
[('blk/q', 'blk/q/lora_a', 'blk/q/lora_b')]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax

from toymodels.core import UsageError
from toymodels.core._optim import path_name

#: Path components that name a LoRA A (down, r × n) or B (up, n × r) factor by default.
A_NAMES = frozenset({"lora_a", "lora_A", "A", "lora_down"})
B_NAMES = frozenset({"lora_b", "lora_B", "B", "lora_up"})


@dataclass(frozen=True)
class Model:
    """A model as a pytree of arrays ``params`` and a pure function ``apply(params, x) -> y``."""

    params: Any
    apply: Callable[[Any, Any], Any]


class Layer(NamedTuple):
    """One LoRA layer: its name and the flat paths of its A and B factors."""

    name: str
    A: str
    B: str


@dataclass(frozen=True)
class Bound:
    """A model at one width in flat form (module docstring).

    ``shapes``: path → ``jax.ShapeDtypeStruct`` of every parameter; ``lora_typed``: the paths of
    ``nnx.LoRAParam`` leaves (empty for other kinds); ``kind``: ``"nnx"``, ``"equinox"`` or
    ``"pytree"``.
    """

    width: int
    kind: str
    init: Callable[[jax.Array], dict]
    apply: Callable[[dict, Any], Any]
    shapes: dict
    lora_typed: frozenset

    @property
    def n_params(self) -> int:
        return sum(int(_size(s.shape)) for s in self.shapes.values())


def _size(shape) -> int:
    size = 1
    for d in shape:
        size *= int(d)
    return size


def _kind(obj) -> str | None:
    if isinstance(obj, Model):
        return "pytree"
    nnx = sys.modules.get("flax.nnx")  # only a model built with it can be one: no import here
    if nnx is not None and isinstance(obj, nnx.Module):
        return "nnx"
    eqx = sys.modules.get("equinox")
    if eqx is not None and isinstance(obj, eqx.Module):
        return "equinox"
    return None


def _leaf_name(path) -> str:
    name = path_name(path)
    return name[: -len("/value")] if name.endswith("/value") else name


def _split(obj, kind: str):
    """(params pytree, static part, LoRAParam paths) of a built model."""
    if kind == "pytree":
        return obj.params, obj.apply, frozenset()
    if kind == "nnx":
        from flax import nnx

        graphdef, state = nnx.split(obj)
        _, lora, _ = nnx.split(obj, nnx.LoRAParam, ...)
        typed = frozenset(_leaf_name(p) for p, _ in jax.tree_util.tree_flatten_with_path(lora)[0])
        return state, graphdef, typed
    import equinox as eqx

    params, static = eqx.partition(obj, eqx.is_array)
    return params, static, frozenset()


def _caller(kind: str, static):
    if kind == "pytree":
        return static
    if kind == "nnx":
        from flax import nnx

        return lambda params, x: nnx.merge(static, params)(x)
    import equinox as eqx

    return lambda params, x: eqx.combine(params, static)(x)


def bind(factory: Callable, width: int, *, name: str = "factory") -> Bound:
    """``factory`` at ``width`` as a :class:`Bound`; :class:`UsageError` when it fails or does not
    return a model (nothing is allocated: the factory runs under ``jax.eval_shape``)."""
    box = {}

    def build(key):
        obj = factory(width, key)
        kind = _kind(obj)
        if kind is None:
            raise UsageError(
                f"{name}({width}, key) returned {type(obj).__name__}, not a model: expected a "
                "Flax NNX module, an Equinox module or toymodels.lab.Model(params, apply)"
            )
        params, static, typed = _split(obj, kind)
        leaves, treedef = jax.tree_util.tree_flatten_with_path(params)
        names = [_leaf_name(path) for path, _ in leaves]
        if len(set(names)) != len(names):
            raise UsageError(f"{name}({width}): two parameters share a path name")
        box.update(kind=kind, static=static, treedef=treedef, names=names, typed=typed)
        return dict(zip(names, (leaf for _, leaf in leaves), strict=True))

    try:
        shapes = jax.eval_shape(build, jax.random.key(0))
    except UsageError:
        raise
    except Exception as error:  # the user's code: any failure is bad input, said in one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise UsageError(
            f"{name}({width}, key) failed: {type(error).__name__}: {first}"[:300]
        ) from None
    call = _caller(box["kind"], box["static"])
    treedef, names = box["treedef"], box["names"]

    def init(key):
        return build(key)

    def apply(flat, x):
        return call(jax.tree_util.tree_unflatten(treedef, [flat[n] for n in names]), x)

    return Bound(
        width=int(width),
        kind=box["kind"],
        init=init,
        apply=apply,
        shapes=dict(shapes),
        lora_typed=box["typed"],
    )


def _matcher(selector) -> Callable[[str], bool]:
    if callable(selector):
        return selector
    pattern = re.compile(selector)
    return lambda name: pattern.search(name) is not None


def _by_name(names_of_role) -> Callable[[str], bool]:
    return lambda path: any(part in names_of_role for part in path.split("/"))


def find_layers(
    paths: Sequence[str], *, lora_typed=frozenset(), select_A=None, select_B=None
) -> tuple[Layer, ...]:
    """The LoRA layers among ``paths`` (module docstring); :class:`UsageError` when there are
    none, a selector matches nothing, a leaf is both, or the A's and B's do not pair up."""
    if (select_A is None) != (select_B is None):
        raise UsageError("give both select_A and select_B, or neither")
    if select_A is not None:
        is_A, is_B, how = _matcher(select_A), _matcher(select_B), "selector"
        candidates = list(paths)
    else:
        is_A, is_B, how = _by_name(A_NAMES), _by_name(B_NAMES), "name"
        candidates = [p for p in paths if p in lora_typed] if lora_typed else list(paths)
    A = [p for p in candidates if is_A(p)]
    B = [p for p in candidates if is_B(p)]
    both = sorted(set(A) & set(B))
    if both:
        raise UsageError(f"parameter {both[0]!r} is selected both as a LoRA A and as a LoRA B")
    if not A and not B:
        if how == "selector":
            raise UsageError(
                f"select_A={select_A!r} and select_B={select_B!r} match no parameter"
                f" (paths: {_shown(paths)})"
            )
        raise UsageError(
            "the model has no LoRA layers: no parameter is an nnx.LoRAParam or has a path "
            f"component named {'/'.join(sorted(A_NAMES))} or {'/'.join(sorted(B_NAMES))} "
            f"(paths: {_shown(paths)}); pass select_A and select_B"
        )
    for which, found, selector in (("A", A, select_A), ("B", B, select_B)):
        if not found:
            raise UsageError(
                f"no LoRA {which} factor found by {how}"
                + (f" (select_{which}={selector!r})" if how == "selector" else "")
                + f"; paths: {_shown(paths)}"
            )
    if len(A) != len(B):
        raise UsageError(f"{len(A)} LoRA A factors but {len(B)} B factors: they must pair up")
    layers = []
    for a, b in zip(sorted(A), sorted(B), strict=True):
        pa, pb = a.split("/"), b.split("/")
        differ = [i for i, (x, y) in enumerate(zip(pa, pb, strict=False)) if x != y]
        if len(pa) != len(pb) or len(differ) != 1:
            raise UsageError(
                f"cannot pair LoRA factors {a!r} and {b!r}: paths differ in more places"
            )
        layers.append(Layer("/".join(pa[: differ[0]]) or "root", a, b))
    return tuple(layers)


def _shown(paths) -> str:
    paths = list(paths)
    return ", ".join(paths[:6]) + (f", … ({len(paths)} in all)" if len(paths) > 6 else "")


__all__ = ["A_NAMES", "B_NAMES", "Bound", "Layer", "Model", "bind", "find_layers"]
