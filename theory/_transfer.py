"""Rate transfer: rates tuned at width n₀ and rank r₀, moved to width n and rank r by a named rule.

Every rule is a pair of power laws per LoRA matrix X ∈ {A, B}:

    η_X(n, r) = η_X(n₀, r₀) · (n/n₀)^(w_X) · (r/r₀)^(ρ_X)

so a rule is its exponents (w_A, w_B; ρ_A, ρ_B), exact rationals (a measured exponent is the exact
decimal the fit printed); only the rates are floats. The rules:

- ``none``: w = ρ = 0 (keep the tuned rates: common practice).
- ``edge``: the calculator's largest stable equal rate γ[η_max](κ) (``max_stable_rate_exponent``),
  for r = Θ(n^κ) and the multiplier α·r^(−s). At fixed rank w_A = w_B = γ[η_max](0). Reading
  η ∝ n^w r^ρ along r = n^κ gives γ[η_max](κ) = w + ρκ, so ρ is the slope of γ[η_max] at κ = 0⁺,
  taken from κ = 1/8 and 1/4 and required to agree (γ is piecewise affine in κ, docs/theory.md §12).
  This separable reading is an assumption; the rank sweeps' stability edges follow it
  (docs/reproduction.md, the rank section).
- ``loraplus``: w_A = −1, w_B = 0 (LoRA+ Theorem 1: the efficient, internally stable rates), checked
  by the calculator at κ = 0; across rank both rates follow the ``edge`` rule's ρ (LoRA+ is silent
  on rank).
- ``loraplus-fixed``: η_B = λ·η_A at every width and rank (λ = 16 by default), η_A kept: what the
  LoRA+ code ships. Scale-free, so it has no exponents; a source pair of another ratio is replaced.
- ``measured``: w_A = w_B = k, a width exponent fitted by this project (``theory._measured``), its
  interval [k_lo, k_hi] carried to an interval on each rate; across rank the ``edge`` rule's ρ.

A target smaller than the source is allowed (the laws run both ways) and the result says so.

>>> t = transfer("A", from_width=512, to_width=4096, eta=1e-3, rule="edge")
>>> [str(e.value) for e in t.exponents], round(t.eta_A, 7)
(['-1/2', '-1/2'], 0.0003536)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction

from theory._exponent import ExponentError, format_exponent, parse_exponent
from theory._measured import MeasuredExponent
from theory._models import canonical_init, resolve_model
from theory._predict import predict
from theory._rank import max_stable_rate_exponent
from theory._spec import Model

__all__ = ["RULES", "ScalingExponent", "Transfer", "TransferError", "transfer"]

RULES = ("none", "edge", "loraplus", "loraplus-fixed", "measured")
#: LoRA+'s shipped ratio η_B/η_A.
DEFAULT_RATIO = 16.0
#: Where the slope of γ[η_max](κ) at κ = 0⁺ is read (two points, which must agree).
_KAPPA_PROBES = (Fraction(1, 8), Fraction(1, 4))
_LORAPLUS = (Fraction(-1), Fraction(0))


class TransferError(ExponentError):
    """A transfer the inputs do not allow (bad width, rank or rate; a rule the model lacks)."""


@dataclass(frozen=True)
class ScalingExponent:
    """One exponent of a rule: η_matrix ∝ axis^value, with where it comes from."""

    matrix: str  # "A" or "B"
    axis: str  # "width" or "rank"
    value: Fraction
    source: str
    interval: tuple[Fraction, Fraction] | None = None
    decimal: bool = False  # a measured exponent: written as the decimal it was fitted as

    def text(self, value: Fraction) -> str:
        return f"{float(value):.6g}" if self.decimal else format_exponent(value)

    def to_json(self) -> dict:
        out = {
            "matrix": self.matrix,
            "axis": self.axis,
            "exponent": self.text(self.value),
            "source": self.source,
        }
        if self.interval is not None:
            out["interval"] = [self.text(v) for v in self.interval]
        return out


@dataclass(frozen=True)
class Transfer:
    """The recommended rates at the target, the exponents used and the derivation."""

    model: str
    init: str
    rule: str
    from_width: float
    to_width: float
    from_rank: float
    to_rank: float
    multiplier: Fraction
    source_rates: tuple[float, float]
    rates: tuple[float, float]
    exponents: tuple[ScalingExponent, ...]
    rate_intervals: tuple[tuple[float, float], tuple[float, float]] | None = None
    notes: tuple[str, ...] = ()
    trace: tuple[str, ...] = field(default=(), repr=False)

    @property
    def eta_A(self) -> float:
        return self.rates[0]

    @property
    def eta_B(self) -> float:
        return self.rates[1]

    def to_json(self) -> dict:
        out = {
            "model": self.model,
            "init": self.init,
            "rule": self.rule,
            "from": {"width": _plain(self.from_width), "rank": _plain(self.from_rank)},
            "to": {"width": _plain(self.to_width), "rank": _plain(self.to_rank)},
            "multiplier": format_exponent(self.multiplier),
            "source_rates": {"eta_A": self.source_rates[0], "eta_B": self.source_rates[1]},
            "eta_A": self.eta_A,
            "eta_B": self.eta_B,
            "exponents": [e.to_json() for e in self.exponents],
            "notes": list(self.notes),
            "trace": list(self.trace),
        }
        if self.rate_intervals is not None:
            out["intervals"] = {"eta_A": list(self.rate_intervals[0]),
                                "eta_B": list(self.rate_intervals[1])}  # fmt: skip
        return out

    def to_text(self) -> str:
        lines = [
            f"{self.model}, Init[{self.init}], rule {self.rule}: width {_num(self.from_width)} → "
            f"{_num(self.to_width)}, rank {_num(self.from_rank)} → {_num(self.to_rank)} "
            f"(multiplier α·r^(−{format_exponent(self.multiplier)}))",
            f"tuned:       η_A = {self.source_rates[0]:.6g}, η_B = {self.source_rates[1]:.6g}",
            f"recommended: η_A = {self.eta_A:.6g}, η_B = {self.eta_B:.6g} "
            f"(η_B/η_A = {self.eta_B / self.eta_A:.4g})",
        ]
        if self.rate_intervals is not None:
            (a_lo, a_hi), (b_lo, b_hi) = self.rate_intervals
            lines.append(
                f"interval:    η_A in [{a_lo:.6g}, {a_hi:.6g}], η_B in [{b_lo:.6g}, {b_hi:.6g}]"
            )
        lines.append("exponents (η_X ∝ n^w_X · r^ρ_X):" if self.exponents else "exponents: none")
        for e in self.exponents:
            name = f"{'w' if e.axis == 'width' else 'ρ'}_{e.matrix}"
            interval = ""
            if e.interval is not None:
                interval = f" [{', '.join(e.text(v) for v in e.interval)}]"
            lines.append(f"  {name} = {e.text(e.value)}{interval}  ({e.source})")
        lines += [f"note: {note}" for note in self.notes]
        lines.append("derivation:")
        lines += list(self.trace)
        return "\n".join(lines)


def _exp(value: Fraction) -> str:
    """An exponent in a trace line: exact when it is a small rational, else its decimal."""
    text = format_exponent(value)
    return text if len(text) <= 8 else f"{float(value):.6g}"


def _plain(x: float) -> int | float:
    """A width or rank as JSON writes it: 512, not 512.0."""
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _num(x: float) -> str:
    return f"{x:g}"


def _positive(value: object, what: str) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TransferError(f"{what} must be a positive number, not {value!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise TransferError(f"{what} must be a positive finite number, not {value!r}")
    return x


def _source_rates(eta: object, eta_A: object, eta_B: object) -> tuple[float, float]:
    if eta is not None:
        if eta_A is not None or eta_B is not None:
            raise TransferError("give either eta or eta_A and eta_B, not both")
        rate = _positive(eta, "the rate eta")
        return rate, rate
    if eta_A is None or eta_B is None:
        raise TransferError("missing rate: give eta, or both eta_A and eta_B")
    return _positive(eta_A, "the rate eta_A"), _positive(eta_B, "the rate eta_B")


def _max_stable(spec: Model, init: str, kappa: Fraction, s: Fraction) -> Fraction:
    try:
        return max_stable_rate_exponent(spec, init, rank_exponent=kappa, multiplier=s)
    except ExponentError as err:
        raise TransferError(f"rule edge needs a largest stable rate: {err}") from None


def _edge_exponents(
    spec: Model, init: str, s: Fraction, rank_changes: bool, trace: list[str]
) -> tuple[Fraction, Fraction | None]:
    """(w, ρ): γ[η_max] at κ = 0 and, when the rank changes, its slope at κ = 0⁺."""
    w = _max_stable(spec, init, Fraction(0), s)
    trace.append(f"- γ[η_max](κ = 0) = sup {{η : stable at equal rates}} = {format_exponent(w)}")
    if not rank_changes:
        return w, None
    slopes = []
    for kappa in _KAPPA_PROBES:
        g = _max_stable(spec, init, kappa, s)
        slopes.append((g - w) / kappa)
        trace.append(
            f"- γ[η_max](κ = {format_exponent(kappa)}) = {format_exponent(g)}, slope "
            f"({format_exponent(g)} − ({format_exponent(w)}))/({format_exponent(kappa)}) = "
            f"{format_exponent(slopes[-1])}"
        )
    if slopes[0] != slopes[1]:
        raise TransferError(
            f"γ[η_max] is not affine in κ near 0 for {spec.name} Init[{init}] at s = "
            f"{format_exponent(s)}: no single rank exponent"
        )
    return w, slopes[0]


def _check_loraplus(spec: Model, init: str, trace: list[str]) -> None:
    try:
        p = predict(spec, init, eta_A=_LORAPLUS[0], eta_B=_LORAPLUS[1])
    except ExponentError as err:
        raise TransferError(f"rule loraplus: {err}") from None
    wanted = ("efficient", "internally_stable")
    if not all(p.conditions.get(c) for c in wanted):
        held = ", ".join(f"{c} {'yes' if p.conditions.get(c) else 'no'}" for c in wanted)
        raise TransferError(
            f"rule loraplus does not apply to {spec.name} Init[{init}]: at (γ[η_A], γ[η_B]) = "
            f"(-1, 0) the calculator finds {held}"
        )
    trace.append(
        "- at (γ[η_A], γ[η_B]) = (-1, 0): efficient yes, internally_stable yes (LoRA+ Thm 1)"
    )


def _scale(rate: float, n_ratio: float, r_ratio: float, w: Fraction, rho: Fraction) -> float:
    return rate * n_ratio ** float(w) * r_ratio ** float(rho)


def transfer(
    init: object,
    *,
    from_width: object,
    to_width: object,
    eta: object = None,
    eta_A: object = None,
    eta_B: object = None,
    rule: str = "edge",
    model: str | Model = "adam",
    from_rank: object = None,
    to_rank: object = None,
    multiplier: object = 1,
    ratio: object = DEFAULT_RATIO,
    measured: MeasuredExponent | None = None,
) -> Transfer:
    """The rates at (``to_width``, ``to_rank``) for rates tuned at (``from_width``, ``from_rank``)
    under ``rule`` (one of ``RULES``); ``measured`` is the exponent the ``measured`` rule uses."""
    if rule not in RULES:
        raise TransferError(f"unknown rule {rule!r}: use one of {', '.join(RULES)}")
    n0, n = _positive(from_width, "the source width"), _positive(to_width, "the target width")
    r0 = 1.0 if from_rank is None else _positive(from_rank, "the source rank")
    r = r0 if to_rank is None else _positive(to_rank, "the target rank")
    s = parse_exponent(str(multiplier))
    if not isinstance(s, Fraction):
        raise TransferError(f"the multiplier exponent must be a rational, not {multiplier!r}")
    spec = resolve_model(model)
    init_name = canonical_init(init, spec)
    rates0 = _source_rates(eta, eta_A, eta_B)
    n_ratio, r_ratio = n / n0, r / r0
    notes: list[str] = []
    if n < n0 or r < r0:
        notes.append("the target is smaller than the source: the rule is applied downward")
    trace: list[str] = []
    exponents: list[ScalingExponent] = []
    intervals = None

    if rule == "loraplus-fixed":
        lam = _positive(ratio, "the ratio")
        if not math.isclose(rates0[1], lam * rates0[0], rel_tol=1e-12):
            notes.append(f"the tuned η_B = {rates0[1]:.6g} is replaced by λ·η_A (λ = {lam:g})")
        rates = (rates0[0], lam * rates0[0])
        trace.append(f"- η_A = η_A⁰ = {rates[0]:.6g} (kept at every width and rank)")
        trace.append(f"- η_B = λ·η_A = {lam:g} · {rates[0]:.6g} = {rates[1]:.6g}")
        return Transfer(spec.name, init_name, rule, n0, n, r0, r, s, rates0, rates, (),
                        None, tuple(notes), tuple(trace))  # fmt: skip

    rank_changes = r != r0
    w_pair = (Fraction(0), Fraction(0))
    rho = Fraction(0)
    width_source = rank_source = "kept (rule none)"
    if rule != "none":
        w_edge, rho_edge = Fraction(0), None
        if rule == "edge" or rank_changes:
            w_edge, rho_edge = _edge_exponents(spec, init_name, s, rank_changes, trace)
        rho = rho_edge or Fraction(0)
        rank_source = (
            "calculator: slope of γ[η_max](κ) at κ = 0⁺ (max_stable_rate_exponent)"
            if rank_changes
            else "not used: r = r₀"
        )
        if rule == "edge":
            w_pair = (w_edge, w_edge)
            width_source = "calculator: largest stable equal rate at r = Θ(1)"
        elif rule == "loraplus":
            _check_loraplus(spec, init_name, trace)
            w_pair = _LORAPLUS
            width_source = "LoRA+ Theorem 1, checked by the calculator"
        else:
            if measured is None:
                raise TransferError("rule measured needs a measured exponent (--from-results)")
            if measured.model != spec.name or measured.init != init_name:
                raise TransferError(
                    f"the measured exponent is of {measured.model} Init[{measured.init}], not "
                    f"{spec.name} Init[{init_name}]"
                )
            k = Fraction(str(measured.exponent))
            k_lo, k_hi = (Fraction(str(v)) for v in measured.interval)
            w_pair = (k, k)
            where = measured.provenance.get("file", "an exponent file")
            width_source = (
                f"measured {measured.source} exponent, {measured.level:.0%} interval, from {where}"
            )
            trace.append(
                f"- measured: η_{measured.source}(n) ∝ n^k, k = {measured.exponent:.6g} "
                f"[{measured.interval[0]:.6g}, {measured.interval[1]:.6g}]"
            )
            ends = [_scale(x, n_ratio, r_ratio, kk, rho) for x in rates0 for kk in (k_lo, k_hi)]
            intervals = (
                (min(ends[0], ends[1]), max(ends[0], ends[1])),
                (min(ends[2], ends[3]), max(ends[2], ends[3])),
            )
            exponents += [
                ScalingExponent(m, "width", k, width_source, (k_lo, k_hi), decimal=True)
                for m in ("A", "B")
            ]
    if not exponents:
        exponents += [
            ScalingExponent(m, "width", w, width_source) for m, w in zip("AB", w_pair, strict=True)
        ]
    if rank_changes or rule == "none":
        exponents += [ScalingExponent(m, "rank", rho, rank_source) for m in "AB"]
    rates = tuple(_scale(x, n_ratio, r_ratio, w, rho) for x, w in zip(rates0, w_pair, strict=True))
    for m, x, w, y in zip("AB", rates0, w_pair, rates, strict=True):
        trace.append(
            f"- η_{m} = η_{m}⁰ · (n/n₀)^w_{m} · (r/r₀)^ρ_{m} = {x:.6g} · ({_num(n)}/{_num(n0)})^"
            f"({_exp(w)}) · ({_num(r)}/{_num(r0)})^({format_exponent(rho)}) = {y:.6g}"
        )
    return Transfer(spec.name, init_name, rule, n0, n, r0, r, s, rates0, rates,  # type: ignore[arg-type]
                    tuple(exponents), intervals, tuple(notes), tuple(trace))  # fmt: skip


def transfer_json(t: Transfer) -> str:
    """One JSON line (the CLI's ``--json``)."""
    return json.dumps(t.to_json(), ensure_ascii=False)
