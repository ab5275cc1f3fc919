"""The calculator's verdicts on the papers' headline cases (printed by ``make demo``).

Every line is computed by the engine; nothing here is tabulated.

>>> print(headline_report().splitlines()[0])
Exact γ-exponent calculator: the papers' headline cases
"""

from __future__ import annotations

from theory._exponent import format_exponent
from theory._predict import derive, predict, predicted_rate_exponent, region

__all__ = ["headline_report"]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _where(region) -> str:
    return "nowhere" if region.is_empty() else f"where {region}"


def _power(exponent) -> str:
    text = format_exponent(exponent)
    return f"Θ(n^{text})" if "/" not in text else f"Θ(n^({text}))"


def headline_report() -> str:
    lines = ["Exact γ-exponent calculator: the papers' headline cases", ""]
    lines.append("Init paper, one LoRA layer trained with Adam, equal rates η = Θ(n^eta):")
    for init in ("A", "B"):
        rate = predicted_rate_exponent("adam", init)
        stable = region("adam", init, ["stable"], equal_rates=True)
        unstable_inside = region("adam", init, ["internal_instability"], equal_rates=True)
        efficient = region("adam", init, ["efficient"], equal_rates=True)
        literal = region("adam", init, ["efficient_every_step"], equal_rates=True)
        p = predict("adam", init, eta_A=rate, eta_B=rate)
        lines.append(
            f"  Init[{init}]: stable {_where(stable)}; features learned at eta = "
            f"{format_exponent(rate)} (Z_A = {_power(p.exponents['Z_A'])}, "
            f"δ¹ = {_power(p.exponents['delta1'])}, δ² = {_power(p.exponents['delta2'])})"
        )
        lines.append(
            f"{'':11}internal instability {_where(unstable_inside)}; efficient {_where(efficient)}"
            f" (steady state), {_where(literal)} (at every t > 1)"
        )
    lines.append("")
    lines.append("LoRA+, rates η_A = Θ(n^-1), η_B = Θ(n^0) versus equal rates:")
    for model in ("gd-linear", "adam"):
        for init in ("A", "B"):
            p = predict(model, init, eta_A=-1, eta_B=0)
            equal = region(model, init, ["efficient", "loraplus_stable"], equal_rates=True)
            lines.append(
                f"  {model:<9} Init[{init}]: (−1, 0) efficient: {_yes(p.conditions['efficient'])}, "
                f"Z_A/aTx = O(1): {_yes(p.conditions['internally_stable'])}; "
                f"efficient at any equal rate (LoRA+ stability): {_yes(not equal.is_empty())}"
            )
    growing = predict("gd-linear", "A", eta_A=0, eta_B=0)
    grows = derive("gd-linear", "A").steady["f"].growing
    lines.append("")
    lines.append(
        f"gd-linear at eta_A = eta_B = 0: f is {format_exponent(growing.exponents['f'])} "
        f"({growing.growth['f']}); f grows without bound in t {_where(grows)}"
    )
    return "\n".join(lines)
