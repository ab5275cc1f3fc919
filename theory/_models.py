"""The papers' two models as recursions, their initializations, and the named conditions.

``adam``: one LoRA layer trained with Adam, rates η_A, η_B (LoRA+ §4 and App. A.5; Init §3.4,
Lemma 1). Adam-processed gradients have Θ(1) entries when the raw gradient is non-zero and are
exactly zero when a factor of it is zero: ∂L/∂A = Bᵀ dZ̄ ⊗ Z vanishes while B = 0, ∂L/∂B = dZ̄ ⊗ A Z
while A Z = 0. With Assumption 1 (g_A Z = Θ(n)):

    ΔZ_A^t = η_A g_A Z     γ = η_A + 1   if B_{t−1} ≠ 0, else −∞
    ΔB_t   = η_B g_B       γ = η_B       if Z_A^{t−1} ≠ 0, else −∞

``gd-linear``: f(x) = b aᵀx trained by gradient descent on one sample, rates η_a, η_b (LoRA+ §3.1,
App. A.3-A.4), with f − y = Θ(1) and ‖x‖² = Θ(n); gradients keep their magnitudes:

    Δb_t      = η_b aᵀ_{t−1}x (f − y)          γ = η_b + γ[aᵀx]
    Δ(aᵀx)_t  = η_a b_{t−1} (f − y) ‖x‖²       γ = η_a + γ[b] + 1

>>> MODELS["adam"].recursion.increments["Z_A"]
Expr('[B finite] eta_A + 1')
>>> canonical_init("Init[2]"), canonical_model("gd_linear")
('B', 'gd-linear')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from theory._exponent import NEG_INF, ExponentError
from theory._expr import Expr
from theory._recursion import Recursion, Steady
from theory._region import Region, compare

__all__ = [
    "CONDITIONS",
    "INITS",
    "MODELS",
    "Model",
    "canonical_condition",
    "canonical_init",
    "canonical_model",
]

_s = Expr.symbol
_eta_A, _eta_B = _s("eta_A"), _s("eta_B")

ADAM = Recursion(
    name="adam",
    rates=("eta_A", "eta_B"),
    increments={
        # ΔZ_A = η_A g_A Z: Θ(n^{η_A+1}) (Assumption 1) once the raw gradient Bᵀ dZ̄ ⊗ Z is non-zero.
        "Z_A": (_eta_A + 1) + (_s("B") + 0).support(),
        # ΔB = η_B g_B: Θ(n^{η_B}) entries, once the raw gradient dZ̄ ⊗ A Z is non-zero.
        "B": _eta_B + (_s("Z_A") + 0).support(),
    },
    derived={
        "Z_B": _s("B") + _s("Z_A"),
        "delta1": _s("B_prev") + _s("Delta_Z_A"),
        "delta2": _s("Delta_B") + _s("Z_A_prev"),
        "delta3": _s("Delta_B") + _s("Delta_Z_A"),
        "dZ_B": Expr.max(_s("delta1"), _s("delta2"), _s("delta3")),
    },
    order=("Z_A", "B", "Z_B", "dZ_B", "delta1", "delta2", "delta3"),
    notes={
        "Z_A": "Adam: g_A has Θ(1) entries and g_A Z = Θ(n) (Assumption 1)",
        "B": "Adam: g_B has Θ(1) entries",
        "Z_B": "Z_B = B Z_A sums over r (fixed) coordinates",
        "dZ_B": "ΔZ_B = δ¹ + δ² + δ³ (no exact cancellation)",
    },
)

GD_LINEAR = Recursion(
    name="gd-linear",
    rates=("eta_A", "eta_B"),
    increments={
        # Δb = −η_b aᵀx (f − y) with f − y = Θ(1).
        "b": _eta_B + _s("aTx"),
        # Δ(aᵀx) = −η_a b (f − y) ‖x‖² with ‖x‖² = Θ(n).
        "aTx": _eta_A + _s("b") + 1,
    },
    derived={
        "f": _s("b") + _s("aTx"),
        "delta1": _s("b_prev") + _s("Delta_aTx"),
        "delta2": _s("Delta_b") + _s("aTx_prev"),
        "delta3": _s("Delta_b") + _s("Delta_aTx"),
    },
    order=("b", "aTx", "f", "delta1", "delta2", "delta3"),
    notes={
        "b": "gradient descent: Δb = η_b aᵀx (f − y), f − y = Θ(1)",
        "aTx": "gradient descent: Δ(aᵀx) = η_a b (f − y) ‖x‖², ‖x‖² = Θ(n)",
        "f": "f = b aᵀx",
    },
)


@dataclass(frozen=True)
class Model:
    """A built-in model: its recursion, initial exponents per init, and the names that play the
    roles of the output Z_B, the internal feature Z_A and the output update ΔZ_B."""

    name: str
    recursion: Recursion
    inits: Mapping[str, Mapping[str, object]]
    output: str
    internal: str
    update: tuple[str, ...]  # the output update is the max of these (ΔZ_B, resp. δ¹, δ², δ³)
    description: str


MODELS: Mapping[str, Model] = MappingProxyType(
    {
        "adam": Model(
            "adam",
            ADAM,
            {"A": {"Z_A": 0, "B": NEG_INF}, "B": {"Z_A": NEG_INF, "B": 0}},
            output="Z_B",
            internal="Z_A",
            update=("dZ_B",),
            description="one LoRA layer trained with Adam (LoRA+ §4, Init §3)",
        ),
        "gd-linear": Model(
            "gd-linear",
            GD_LINEAR,
            {"A": {"b": NEG_INF, "aTx": 0}, "B": {"b": 0, "aTx": NEG_INF}},
            output="f",
            internal="aTx",
            update=("delta1", "delta2", "delta3"),
            description="f(x) = b aᵀx trained by gradient descent (LoRA+ §3.1)",
        ),
    }
)

#: Init[A] = Init[1] (B₀ = 0, A₀ random); Init[B] = Init[2] (A₀ = 0, B₀ random).
INITS = ("A", "B")
_INIT_ALIASES = {
    "a": "A", "init[a]": "A", "init[1]": "A", "1": "A", "inita": "A", "init1": "A",
    "b": "B", "init[b]": "B", "init[2]": "B", "2": "B", "initb": "B", "init2": "B",
}  # fmt: skip


def canonical_init(init: object) -> str:
    """``"A"`` or ``"B"`` from any accepted spelling (Init[A], Init[1], 1, ...)."""
    key = str(init).strip().lower().replace(" ", "")
    if key not in _INIT_ALIASES:
        raise ExponentError(
            f"unknown init {init!r}: expected A, B, Init[A], Init[1], Init[B], Init[2]"
        )
    return _INIT_ALIASES[key]


def canonical_model(model: object) -> str:
    key = str(model).strip().lower().replace("_", "-")
    if key not in MODELS:
        raise ExponentError(f"unknown model {model!r}: expected one of {', '.join(MODELS)}")
    return key


# -- conditions on the steady state ------------------------------------------------------------
def _bounded(s: Steady) -> Region:
    return ~s.growing


def _at_most(s: Steady, bound: object) -> Region:
    return _bounded(s) & compare(s.value, "<=", bound)


def _theta(s: Steady, exponent: object) -> Region:
    return _bounded(s) & compare(s.value, "==", exponent)


def _stable(m: Model, st: Mapping[str, Steady]) -> Region:
    return _at_most(st[m.output], 0)


def _internally_stable(m: Model, st: Mapping[str, Steady]) -> Region:
    return _at_most(st[m.internal], 0)


def _update(m: Model, st: Mapping[str, Steady]) -> Steady:
    value = Expr.max(*(st[q].value for q in m.update))
    growing = Region.empty()
    for q in m.update:
        growing = growing | st[q].growing
    return Steady(value, growing)


def _feature_learning(m: Model, st: Mapping[str, Steady]) -> Region:
    return _stable(m, st) & _theta(_update(m, st), 0)


def _efficient(m: Model, st: Mapping[str, Steady]) -> Region:
    return _stable(m, st) & _theta(st["delta1"], 0) & _theta(st["delta2"], 0)


def _internal_instability(m: Model, st: Mapping[str, Steady]) -> Region:
    internal = st[m.internal]
    return _stable(m, st) & (internal.growing | compare(internal.value, ">", 0))


def _loraplus_stable(m: Model, st: Mapping[str, Steady]) -> Region:
    return _stable(m, st) & _internally_stable(m, st)


#: name → (region builder, one-line definition). The first five are the contract's.
CONDITIONS: Mapping[str, tuple[Callable[[Model, Mapping[str, Steady]], Region], str]] = (
    MappingProxyType(
        {
            "stable": (_stable, "Z_B (gd-linear: f) is O(1) [Init Def. 3]"),
            "internally_stable": (_internally_stable, "Z_A (gd-linear: aTx) is O(1)"),
            "feature_learning": (_feature_learning, "stable and ΔZ_B (gd-linear: Δf) = Θ(1)"),
            "efficient": (_efficient, "stable and δ¹, δ² = Θ(1) for t > 1"),
            "internal_instability": (
                _internal_instability,
                "Z_A (gd-linear: aTx) grows with n while Z_B (f) is O(1)",
            ),
            "loraplus_stable": (
                _loraplus_stable,
                "LoRA+ Def. 3: stable and internally stable (Z_A and Z_B both O(1))",
            ),
        }
    )
)


def canonical_condition(name: object) -> str:
    key = str(name).strip().lower().replace("-", "_")
    if key not in CONDITIONS:
        raise ExponentError(f"unknown condition {name!r}: expected one of {', '.join(CONDITIONS)}")
    return key
