"""Render a ``Derivation`` as Markdown, LaTeX or JSON, in the papers' notation.

Each line reads like the proofs: ``γ[Z_A^2] = max(γ[Z_A^1], γ[ΔZ_A^2]) = max(0, 1/2) = 1/2``.

>>> from theory import derive
>>> md = derive("adam", "A", eta_A="-1/2", eta_B="-1/2", steps=2).to_markdown()
>>> print(next(line for line in md.splitlines() if line.startswith("- γ[Z_A^2]")))
- γ[Z_A^2] = max(γ[Z_A^1], γ[ΔZ_A^2]) = max(0, 1/2) = 1/2
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from theory._closed import ClosedForm, fit_closed_form
from theory._exponent import format_exponent
from theory._expr import Expr, Term
from theory._recursion import TraceLine

if TYPE_CHECKING:
    from theory._predict import Derivation

__all__ = ["display", "to_json", "to_latex", "to_markdown"]

Style = Literal["md", "latex"]

_RATES: Mapping[str, tuple[str, str]] = {
    "eta_A": ("η_A", "\\eta_A"),
    "eta_B": ("η_B", "\\eta_B"),
    "eta": ("η", "\\eta"),
}


def display(
    variable: str,
    t: int,
    style: Style,
    *,
    increment_rule: bool = False,
    names: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """How a recursion variable is written at step t (``B_prev`` → B_{t−1}, ``Delta_X`` → ΔX^t);
    ``names``: the model's display forms (quantity → plain and LaTeX format strings in ``t``)."""
    k = 0 if style == "md" else 1
    if variable in _RATES:
        return _RATES[variable][k]
    if variable.endswith("_prev"):
        return display(variable[:-5], t - 1, style, names=names)
    if variable.startswith("Delta_"):
        delta = "Δ" if style == "md" else "\\Delta "
        return delta + display(variable[6:], t, style, names=names)
    if increment_rule:  # an increment's states are those of step t − 1
        return display(variable, t - 1, style, names=names)
    if names and variable in names:
        return names[variable][k].format(t=t)
    return f"{variable}_{t}" if style == "md" else f"\\mathrm{{{variable}}}_{{{t}}}"


def _gamma(text: str, style: Style) -> str:
    return f"γ[{text}]" if style == "md" else f"\\gamma[{text}]"


def _expr(
    e: Expr,
    style: Style,
    names: Mapping[str, str] | None = None,
    gates: Mapping[str, str] | None = None,
) -> str:
    """An expression with renamed variables (rates as γ[η]); a gated term as ``… if B_1 ≠ 0``."""
    if e.is_neg_inf:
        return "-inf" if style == "md" else "-\\infty"
    names = {**_rate_names(style), **(names or {})}
    parts = []
    # Previous values first, as the papers write max(γ[Z_A^{t−1}], γ[ΔZ_A^t]).
    terms = sorted(e.terms, key=lambda t: not any(v.endswith("_prev") for v in t.affine.variables))
    for term in terms:
        body = term.affine.format(names, times="")
        if term.gate:
            neq = " ≠ 0" if style == "md" else " \\neq 0"
            cond = ", ".join(f"{(gates or {}).get(g, g)}{neq}" for g in sorted(term.gate))
            body = f"{body} if {cond}" if style == "md" else f"{body} \\text{{ if }} {cond}"
            body = f"({body})" if len(e.terms) > 1 else body
        parts.append(body)
    if len(parts) == 1:
        return parts[0]
    return f"max({', '.join(parts)})" if style == "md" else f"\\max({', '.join(parts)})"


def _rate_names(style: Style) -> dict[str, str]:
    return {k: _gamma(v[0 if style == "md" else 1], style) for k, v in _RATES.items()}


#: A value with a numerator beyond this many digits is written by its closed form (``1/6·3^500``).
BIG_DIGITS = 24


def _big_forms(d: Derivation) -> dict[str, ClosedForm]:
    """Closed forms of the traced quantities whose exact values grow too long to print (fixed
    rates, geometric growth); fitted on the unrolled values and checked on every step."""
    if not d.steps or not all(r.is_constant for r in d.rates.values()):
        return {}
    series: dict[str, list] = {}
    for step in d.steps:
        for line in step.trace:
            v = line.value
            values = series.setdefault(line.quantity, [None] * len(d.steps))
            values[step.t] = v.constant_value() if v.is_constant and not v.is_neg_inf else None
    out = {}
    for q, values in series.items():
        if _is_big(values[-1]):
            form = fit_closed_form(values)
            if form is not None:
                out[q] = form
    return out


def _is_big(value) -> bool:
    return isinstance(value, Fraction) and len(str(abs(value.numerator))) > BIG_DIGITS


def _line(
    line: TraceLine,
    style: Style,
    names: Mapping[str, tuple[str, str]] | None = None,
    big: Mapping[str, ClosedForm] | None = None,
) -> str:
    increment = line.quantity.startswith("Delta_")
    lhs = _gamma(display(line.quantity, line.t, style, names=names), style)
    value = _expr(line.value, style)
    form = (big or {}).get(line.quantity)
    huge = (
        form is not None
        and line.t >= form.from_step
        and line.value.is_constant
        and _is_big(line.value.constant_value())
    )
    if line.rule is None or (line.t == 0 and not line.inputs):
        return f"{lhs} = {value}"
    shown = {
        v: display(v, line.t, style, increment_rule=increment, names=names)
        for v in line.rule.variables
    }
    symbolic = {v: _gamma(text, style) for v, text in shown.items() if v not in _RATES}
    rule = _expr(line.rule, style, symbolic, shown)
    if huge:  # the closed form, not hundreds of digits
        return f"{lhs} = {rule} = {form.written(line.t)}  (closed form {form})"
    inputs = dict(line.inputs)
    plugged_names = {v: _expr(inputs[v], style) for v in line.rule.variables if v in inputs}
    # A gated term (an Adam-normalised gradient) is plugged in only where its gate is open.
    open_terms = [
        Term(t.affine)
        for t in line.rule.terms
        if all(g in inputs and not inputs[g].is_neg_inf for g in t.gate)
    ]
    chain = [rule]
    if plugged_names and open_terms:
        plugged = _expr_raw(open_terms, style, symbolic, plugged_names)
        if plugged not in chain and plugged != value:
            chain.append(plugged)
    if value not in chain:
        chain.append(value)
    return f"{lhs} = {' = '.join(chain)}"


def _expr_raw(
    terms: list[Term], style: Style, names: Mapping[str, str], values: Mapping[str, str]
) -> str:
    """Terms as written with values plugged in, without canonical simplification; a value is
    parenthesised only where it is added to or multiplied by something."""
    terms = sorted(terms, key=lambda t: not any(v.endswith("_prev") for v in t.affine.variables))
    parts = []
    for t in terms:
        bare = len(t.affine.coeffs) == 1 and t.affine.coeffs[0][1] == 1 and t.affine.const == 0
        plug = values if bare else {k: _wrap(v) for k, v in values.items()}
        parts.append(t.affine.format({**_rate_names(style), **names, **plug}, times=""))
    if len(parts) == 1:
        return parts[0]
    return f"max({', '.join(parts)})" if style == "md" else f"\\max({', '.join(parts)})"


def _wrap(text: str) -> str:
    if text.startswith(("max(", "\\max(")) or text in ("-inf", "-\\infty"):
        return text
    return f"({text})" if (" " in text or text.startswith("-")) else text


def _title(d: Derivation) -> str:
    # A rate left as its own symbol is free: "γ[η_A] = γ[η_A]" would say nothing.
    bound = [
        f"γ[{_RATES[k][0] if k in _RATES else k}] = {_expr(v, 'md')}"
        for k, v in d.rates.items()
        if v != Expr.symbol(k)
    ]
    free = [
        f"γ[{_RATES[k][0] if k in _RATES else k}]"
        for k, v in d.rates.items()
        if v == Expr.symbol(k)
    ]
    parts = [*bound, *([f"{', '.join(free)} symbolic"] if free else [])]
    return ", ".join([f"{d.model}, Init[{d.init}]", *parts])


def _steady_text(d: Derivation, q: str, style: Style) -> tuple[str, str]:
    s = d.steady[q]
    if s.growing.is_empty():
        return _expr(s.value, style), "never"
    if not s.growing.variables:  # fixed rates, and it grows
        return f"growing ({s.growth_kind()})", "always"
    kinds = "; ".join(f"{kind}: {where}" for kind, where in s.kinds.items())
    return _expr(s.value, style), kinds or str(s.growing)


def _display_names(d: Derivation) -> Mapping[str, tuple[str, str]]:
    return d.spec.display if d.spec is not None else {}


def to_markdown(d: Derivation) -> str:
    out = [f"# Derivation: {_title(d)}", ""]
    out.append(
        "Exponents γ[v] with v = Θ(n^γ[v]) per coordinate; γ[0] = -inf. "
        f"Steps t = 0..{len(d.steps) - 1}."
    )
    big = _big_forms(d)
    for step in d.steps:
        out += ["", f"## t = {step.t}" + (" (initialization)" if step.t == 0 else ""), ""]
        for line in step.trace:
            note = f"  ({line.note})" if line.note and line.note != "initialization" else ""
            out.append(f"- {_line(line, 'md', _display_names(d), big)}{note}")
    out += [
        "",
        "## Steady state (t → ∞)",
        "",
        "| quantity | exponent | grows without bound in t where (and how) |",
    ]
    out.append("| --- | --- | --- |")
    last = d.steps[-1]
    big = _big_forms(d)
    for q in d.steady:
        value, grows = _steady_text(d, q, "md")
        shown = _expr(last.values[q], "md")
        if q in big and _is_big(last.values[q].constant_value()):
            shown = f"{big[q].written(last.t)}; γ_t = {big[q]}"
        differs = "" if last.values[q] == d.steady[q].value else f" (at t = {last.t}: {shown})"
        out.append(f"| {q} | {value}{differs} | {grows} |")
    out += ["", "## Conditions (steady state)", "", "| condition | holds where |", "| --- | --- |"]
    concrete = all(r.is_constant for r in d.rates.values())
    for name, where in d.conditions.items():
        text = ("yes" if where else "no") if concrete else _region_text(where)
        out.append(f"| {name} | {text} |")
    if d.spec is not None and d.spec.readings:
        out += ["", "## Readings of the rank sums (docs/theory.md §12)", ""]
        out += [f"- {q}: {reading}" for q, reading in d.spec.readings.items()]
        used = d.spec.condition_readings()
        out += [f"- condition {c} reads {', '.join(r)}" for c, r in used.items() if r]
    return "\n".join(out) + "\n"


def _region_text(where) -> str:
    if not where.variables:
        return "always" if not where.is_empty() else "never"
    return str(where)


def to_latex(d: Derivation) -> str:
    out = [f"% Derivation: {_title(d)}", "\\begin{align*}"]
    rows = []
    big = _big_forms(d)
    for step in d.steps:
        rows.append(f"&\\text{{$t = {step.t}$}}")
        for line in step.trace:
            text = _line(line, "latex", _display_names(d), big)
            lhs, _, rhs = text.partition(" = ")
            note = (
                f" && \\text{{{_latex_text(line.note)}}}"
                if line.note and line.note != "initialization"
                else ""
            )
            rows.append(f"{lhs} &= {rhs}{note}")
    out.append(" \\\\\n".join(rows))
    out.append("\\end{align*}")
    return "\n".join(out) + "\n"


_LATEX_TEXT = {
    "_": "\\_", "≠": "$\\neq$", "Θ": "$\\Theta$", "Δ": "$\\Delta$", "δ¹": "$\\delta^1$",
    "δ²": "$\\delta^2$", "δ³": "$\\delta^3$", "η": "$\\eta$", "ᵀ": "$^\\top$", "‖": "$\\|$",
    "²": "$^2$", "−": "-", ">=": "$\\geq$",
}  # fmt: skip


def _latex_text(text: str) -> str:
    for old, new in _LATEX_TEXT.items():
        text = text.replace(old, new)
    return text


def to_json(d: Derivation) -> dict:
    """Exponents as contract strings; each condition a bool at fixed rates, else its region."""
    concrete = all(r.is_constant for r in d.rates.values())

    def fmt(e: Expr) -> str:
        return format_exponent(e.constant_value()) if e.is_constant else str(e)

    big = _big_forms(d)

    def at(q: str, t: int, e: Expr) -> str:
        """An exact value, or past ``BIG_DIGITS`` digits its closed form written at t (``q``
        may be a rule's input: ``b_prev`` is b at t − 1)."""
        if q.endswith("_prev"):
            q, t = q[:-5], t - 1
        form = big.get(q)
        if (
            form is not None
            and t >= form.from_step
            and e.is_constant
            and _is_big(e.constant_value())
        ):
            return form.written(t)
        return fmt(e)

    return {
        "model": d.model,
        "init": d.init,
        "rates": {k: fmt(v) for k, v in d.rates.items()},
        "steps": [
            {
                "t": step.t,
                "exponents": {q: at(q, step.t, v) for q, v in step.values.items()},
                "trace": [
                    {
                        "quantity": line.quantity,
                        "rule": None if line.rule is None else str(line.rule),
                        "inputs": {
                            # an increment reads the states of step t − 1
                            k: at(k, step.t - line.quantity.startswith("Delta_"), v)
                            for k, v in line.inputs
                        },
                        "value": at(line.quantity, step.t, line.value),
                        "note": line.note,
                    }
                    for line in step.trace
                ],
            }
            for step in d.steps
        ],
        "steady": {
            q: {
                "exponent": "growing"
                if not s.growing.is_empty() and not s.growing.variables
                else fmt(s.value),
                "growing_where": _region_text(s.growing),
                "growth": {kind: _region_text(where) for kind, where in s.kinds.items()},
            }
            for q, s in d.steady.items()
        },
        "conditions": {
            name: (not r.is_empty()) if concrete else str(r) for name, r in d.conditions.items()
        },
        "closed_forms": {q: form.to_json() for q, form in big.items()},
    }
