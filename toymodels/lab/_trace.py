"""Z_A and Z_B of every LoRA layer of any JAX model, read off its jaxpr (no hooks in user code).

JAX has no forward hooks, and a user's model should not have to call ours. But a LoRA layer
leaves a fingerprint in the model's jaxpr: its A factor (a parameter, an input of the jaxpr) is
multiplied by an input (``dot_general``): that product is Z_A = A z; Z_A, reshaped or
transposed at most, is multiplied by the same layer's B: that product is Z_B = B A z. A
multiplier (α/r, a scalar ``mul``) after it is part of Z_B. :func:`tapped` evaluates the jaxpr
equation by equation (the nested ``jit`` and ``custom_jvp`` calls inlined, everything else bound
as it is) and returns the model's output with the Z_A and Z_B of every layer; it is traceable, so
it runs under ``jit``, ``vmap`` and ``grad`` like the model itself.

A layer whose factors never meet like this (merged weights x·(A·B), or a LoRA inside a
``lax.scan`` over layers, whose body is not inlined) is reported by :func:`check_tapped` before
anything trains.

>>> import jax.numpy as jnp
>>> from toymodels.lab._adapt import Layer
>>> params = {"w": jnp.ones((3, 3)), "lora_a": jnp.ones((3, 2)), "lora_b": jnp.ones((2, 3))}
>>> apply = lambda p, x: x @ p["w"] + 0.5 * ((x @ p["lora_a"]) @ p["lora_b"])
>>> y, taps = tapped(apply, [Layer("l", "lora_a", "lora_b")])(params, jnp.ones((1, 3)))
>>> taps["l"]["Z_A"].tolist(), taps["l"]["Z_B"].tolist()
([[3.0, 3.0]], [[3.0, 3.0, 3.0]])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jax.extend import core as jcore

from toymodels.core import UsageError

#: Call primitives whose body is inlined (their jaxpr's inputs are the equation's inputs).
_CALLS = frozenset(
    {"pjit", "jit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call",
     "custom_vjp_call_jaxpr", "remat", "checkpoint"}
)  # fmt: skip
#: Primitives that move or relabel entries without mixing them: a tag passes through.
_LAYOUT = frozenset(
    {"transpose", "reshape", "convert_element_type", "copy", "copy_p", "squeeze",
     "expand_dims", "broadcast_in_dim", "reduce_precision", "sharding_constraint", "pvary"}
)  # fmt: skip


def _body(eqn):
    if eqn.primitive.name not in _CALLS:
        return None
    for key in ("jaxpr", "call_jaxpr", "fun_jaxpr"):
        sub = eqn.params.get(key)
        if sub is None:
            continue
        if hasattr(sub, "jaxpr"):  # a ClosedJaxpr
            return sub.jaxpr, sub.consts
        return sub, ()
    return None


def _is_scalar(value) -> bool:
    return getattr(value, "size", 1) == 1


class _Recorder:
    """Tags ("A"|"B"|"Z_A"|"Z_B", layer) on jaxpr values, and the recorded Z's per layer."""

    def __init__(self, layers):
        self.taps = {layer.name: {} for layer in layers}
        self.merged = set()

    def propagate(self, eqn, tags, values, outs):
        name = eqn.primitive.name
        if name in _LAYOUT:
            return [tags[0]] + [None] * (len(outs) - 1)
        if name in ("mul", "div") and len(tags) == 2:
            tagged = [i for i, t in enumerate(tags) if t is not None]
            if len(tagged) == 1 and _is_scalar(values[1 - tagged[0]]):
                tag = tags[tagged[0]]
                if tag[0] == "Z_B":  # a multiplier α r^(−s) after B A z belongs to Z_B
                    self.taps[tag[1]]["Z_B"] = outs[0]
                return [tag]
            return [None]
        if name == "dot_general":
            kinds = {t[0] for t in tags if t is not None}
            layers = {t[1] for t in tags if t is not None}
            if kinds == {"A"} and None in tags:
                (layer,) = layers
                self.taps[layer]["Z_A"] = outs[0]
                return [("Z_A", layer)]
            if kinds == {"Z_A", "B"} and len(layers) == 1:
                (layer,) = layers
                self.taps[layer]["Z_B"] = outs[0]
                return [("Z_B", layer)]
            if kinds == {"A", "B"} and len(layers) == 1:
                self.merged |= layers
        return [None] * len(outs)


def _run(jaxpr, consts, args, tags, recorder: _Recorder):
    env, tag_of = {}, {}

    def read(var):
        return var.val if isinstance(var, jcore.Literal) else env[var]

    def tag(var):
        return None if isinstance(var, jcore.Literal) else tag_of.get(var)

    for var, value in zip(jaxpr.constvars, consts, strict=True):
        env[var] = value
    for var, value, t in zip(jaxpr.invars, args, tags, strict=True):
        env[var], tag_of[var] = value, t
    for eqn in jaxpr.eqns:
        values = [read(v) for v in eqn.invars]
        in_tags = [tag(v) for v in eqn.invars]
        body = _body(eqn)
        if body is not None and len(body[0].invars) == len(values):
            outs, out_tags = _run(body[0], body[1], values, in_tags, recorder)
        else:
            outs = eqn.primitive.bind(*values, **eqn.params)
            outs = list(outs) if eqn.primitive.multiple_results else [outs]
            out_tags = recorder.propagate(eqn, in_tags, values, outs)
        for var, value, t in zip(eqn.outvars, outs, out_tags, strict=True):
            env[var], tag_of[var] = value, t
    return [read(v) for v in jaxpr.outvars], [tag(v) for v in jaxpr.outvars]


def tapped(apply: Callable, layers: Sequence) -> Callable:
    """``apply(flat, x) -> y`` as ``(flat, x) -> (y, {layer: {"Z_A": …, "Z_B": …}})``."""
    layers = tuple(layers)
    roles = {layer.A: ("A", layer.name) for layer in layers}
    roles |= {layer.B: ("B", layer.name) for layer in layers}

    def run(flat, x):
        names = list(flat)
        x_leaves, x_tree = jax.tree_util.tree_flatten(x)
        n = len(names)

        def call(*leaves):
            return apply(dict(zip(names, leaves[:n], strict=True)),
                         jax.tree_util.tree_unflatten(x_tree, leaves[n:]))  # fmt: skip

        closed, out_shape = jax.make_jaxpr(call, return_shape=True)(
            *[flat[k] for k in names], *x_leaves
        )
        tags = [roles.get(k) for k in names] + [None] * len(x_leaves)
        recorder = _Recorder(layers)
        outs, _ = _run(
            closed.jaxpr, closed.consts, [flat[k] for k in names] + x_leaves, tags, recorder
        )
        run.merged = recorder.merged
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(out_shape), outs), (
            recorder.taps
        )

    return run


def check_tapped(apply: Callable, layers: Sequence, flat_shapes: dict, x_shape) -> None:
    """:class:`UsageError` (before training) for a layer whose Z_A or Z_B cannot be read off."""
    run = tapped(apply, layers)
    _, taps = jax.eval_shape(run, flat_shapes, x_shape)
    for layer in layers:
        missing = [q for q in ("Z_A", "Z_B") if q not in taps[layer.name]]
        if not missing:
            continue
        why = (
            "A and B are multiplied together first (merged weights), so A z is never formed"
            if layer.name in getattr(run, "merged", ())
            else "A is never multiplied by an input and then by B in the model's jaxpr "
            "(inside a lax.scan or cond, or not used)"
        )
        raise UsageError(f"LoRA layer {layer.name!r}: cannot record {', '.join(missing)}: {why}")


def rms(value) -> jax.Array:
    """Root mean square over every entry (the per-coordinate size of docs/architecture.md)."""
    value = jnp.asarray(value, jnp.float32)
    return jnp.sqrt(jnp.mean(jnp.square(value)))


__all__ = ["check_tapped", "rms", "tapped"]
