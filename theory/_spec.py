"""Models as values: a model stated declaratively, in Python or in a TOML spec file.

A spec names the rates, the initial exponent of every state per initialization, the increments
(the exponent of each state's one-step update, read at the previous step), the derived quantities,
the roles (which quantity is the output, the internal feature, the output update) and the
conditions (``theory._conditions``). The built-in models are spec files (``theory/models/``);
``lora-gamma --model PATH`` loads a user's. ``extends = "adam"`` starts from a built-in spec and
replaces or adds entries table by table.

A ``[parameters]`` table declares exact rational parameters that formulas and inits may use, such
as the rank exponent ``kappa`` (r = Θ(n^kappa)) and the LoRA multiplier's exponent ``s``
(α·r^(−s)): each has a default and optional bounds; ``bind_parameters`` rebuilds the model at
other values (docs/theory.md §12).

>>> adam = load_model(MODEL_DIR / "adam.toml")
>>> dict(adam.parameters), str(adam.recursion.derived["Z_B_aligned"])
({'kappa': Fraction(0, 1), 's': Fraction(1, 1)}, 'B + Z_A')
>>> str(bind_parameters(adam, {"kappa": "1/2", "s": 0}).recursion.derived["Z_B_aligned"])
'B + Z_A + 1/2'

>>> spec = {
...     "name": "toy", "rates": ["eta_A", "eta_B"],
...     "inits": {"A": {"x": "0"}},
...     "increments": {"x": "eta_A + eta_B + x"},
...     "roles": {"output": "x"},
...     "conditions": {"stable": "x <= 0"},
... }
>>> model = model_from_spec(spec)
>>> model.name, sorted(model.conditions), str(model.recursion.increments["x"])
('toy', ['stable'], 'eta_A + eta_B + x')
>>> model_from_spec({**spec, "conditions": {"stable": "y <= 0"}})
Traceback (most recent call last):
...
theory._spec.SpecError: <python>: conditions.stable: 'y <= 0' names no quantity or rate ...: y
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from theory._conditions import Condition
from theory._exponent import ExponentError, format_exponent, parse_exponent, shorten
from theory._parse import parse_expr
from theory._recursion import Recursion
from theory._specfile import StructureError, read_spec_text

__all__ = [
    "EXAMPLE_DIR",
    "MODEL_DIR",
    "Model",
    "Parameter",
    "SpecError",
    "bind_parameters",
    "load_model",
    "model_from_spec",
]

#: Where the built-in models' spec files live.
MODEL_DIR = Path(__file__).resolve().parent / "models"
#: Where the example specs live (an SGD layer, its momentum variant, Adam with the AB init).
EXAMPLE_DIR = Path(__file__).resolve().parent / "examples"
_KEYS = {
    "name", "description", "rates", "order", "extends", "inits", "increments", "derived",
    "roles", "conditions", "notes", "display", "window", "parameters", "readings",
}  # fmt: skip
_TABLES = (
    "inits", "increments", "derived", "roles", "conditions", "notes", "display", "parameters",
    "readings",
)  # fmt: skip
#: Beyond this many policies (one monomial per state: the product of the states' monomial
#: counts) the exact steady-state analysis is refused rather than run for minutes.
MAX_POLICIES = 4096
#: The most states and derived quantities a spec may declare.
MAX_QUANTITIES = 64
#: How many specs an ``extends`` chain may pass through.
MAX_EXTENDS = 8


class SpecError(ExponentError):
    """A malformed model spec; the message names the file and the field."""


class Parameter(NamedTuple):
    """A model parameter: its default, its bounds (``at_least`` ≤ value < ``below``; None: no
    bound) and what it means."""

    default: Fraction
    at_least: Fraction | None = None
    below: Fraction | None = None
    means: str = ""

    def check(self, name: str, value: object) -> Fraction:
        """The value as an exact rational inside the bounds, or a one-line ``ExponentError``."""
        if isinstance(value, float | bool):
            raise ExponentError(f"{name} = {value!r}: give an exact rational (e.g. 1/2)")
        exact = value if isinstance(value, Fraction) else parse_exponent(value)
        if not isinstance(exact, Fraction):
            raise ExponentError(f"{name} = {format_exponent(exact)}: give a finite rational")
        if (self.at_least is not None and exact < self.at_least) or (
            self.below is not None and exact >= self.below
        ):
            lo = "-inf" if self.at_least is None else format_exponent(self.at_least)
            hi = "inf" if self.below is None else format_exponent(self.below)
            raise ExponentError(
                f"{name} = {format_exponent(exact)} is outside [{lo}, {hi})"
                + (f" ({self.means})" if self.means else "")
            )
        return exact


@dataclass(frozen=True, eq=False)
class Model:
    """A model: its recursion, initial exponents per init, the names that play the roles of the
    output Z_B, the internal feature Z_A and the output update ΔZ_B, and its conditions.
    Compared and hashed by identity (it keys caches)."""

    name: str
    recursion: Recursion
    inits: Mapping[str, Mapping[str, object]]
    output: str
    internal: str
    update: tuple[str, ...]  # the output update is the max of these (ΔZ_B, resp. δ¹, δ², δ³)
    description: str
    conditions: Mapping[str, Condition] = field(default_factory=dict)
    display: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # quantity → (md, LaTeX)
    source: str = "<python>"
    #: The phase diagram's window (γ[η_A] from, to, γ[η_B] from, to); None: the papers' (−2, 1)².
    window: tuple[Fraction, Fraction, Fraction, Fraction] | None = None
    #: The parameters' values this model was built at, and their declarations.
    parameters: Mapping[str, Fraction] = field(default_factory=dict)
    parameter_info: Mapping[str, Parameter] = field(default_factory=dict, repr=False)
    #: The spec it was built from (to rebuild it at other parameter values).
    spec: Mapping[str, object] | None = field(default=None, repr=False)
    #: Which size of a rank sum a quantity is (``per_entry``, ``aligned``: docs/theory.md §12).
    readings: Mapping[str, str] = field(default_factory=dict)

    def condition_readings(self) -> dict[str, tuple[str, ...]]:
        """For each condition, the readings of the quantities it compares, through the
        conditions it names (empty where it compares no quantity with a reading)."""
        out: dict[str, tuple[str, ...]] = {}
        for name, condition in self.conditions.items():
            used = {self.readings[q] for q in condition.names() if q in self.readings}
            for ref in condition.refs():
                used |= set(out.get(ref, ()))
            out[name] = tuple(sorted(used))
        return out

    @property
    def rates(self) -> tuple[str, ...]:
        return self.recursion.rates

    @classmethod
    def from_spec(cls, spec: Mapping[str, object], *, source: str = "<python>") -> Model:
        return model_from_spec(spec, source=source)


def load_model(path: str | Path) -> Model:
    """Read a TOML spec file (see the module docstring and docs/theory.md §10); the file is read
    safely (``theory._specfile``: a bounded regular file, bounded nesting and key depth)."""
    path = Path(path)
    where = str(path)
    spec = read_spec(path, where)
    return model_from_spec(spec, source=where, folder=path.resolve().parent)


def read_spec(path: Path, where: str) -> dict:
    """A spec file's TOML table, or a one-line ``SpecError`` naming ``where``."""
    try:
        return tomllib.loads(read_spec_text(path))
    except FileNotFoundError:
        raise SpecError(f"{where}: no such model spec file") from None
    except IsADirectoryError:
        raise SpecError(f"{where}: a directory, not a model spec file") from None
    except UnicodeDecodeError:
        raise SpecError(f"{where}: not a UTF-8 text file") from None
    except StructureError as err:
        raise SpecError(f"{where}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{where}: not valid TOML ({err})") from None
    except RecursionError:  # the scan bounds nesting; a safety net all the same
        raise SpecError(f"{where}: nested too deeply to be a model spec") from None
    except OSError as err:
        raise SpecError(f"{where}: cannot read ({err.strerror})") from None


@functools.lru_cache(maxsize=256)
def _bound(model: Model, values: tuple[tuple[str, Fraction], ...]) -> Model:
    return model_from_spec(model.spec, source=model.source, parameters=dict(values))


def bind_parameters(model: Model, values: Mapping[str, object]) -> Model:
    """The model rebuilt with some parameters set (the others keep their current values); the
    same ``Model`` object for the same values (models key caches by identity)."""
    unknown = sorted(set(values) - set(model.parameter_info))
    if unknown:
        declared = ", ".join(model.parameter_info) or "none"
        raise ExponentError(
            f"{model.name} has no parameter {unknown[0]} (its parameters: {declared})"
        )
    merged = dict(model.parameters)
    for name, value in values.items():
        merged[name] = model.parameter_info[name].check(name, value)
    if merged == dict(model.parameters) or model.spec is None:
        return model
    return _bound(model, tuple(sorted(merged.items())))


def builtin_spec(name: str) -> dict:
    return tomllib.loads((MODEL_DIR / f"{name}.toml").read_text(encoding="utf-8"))


def model_from_spec(
    spec: Mapping[str, object],
    *,
    source: str = "<python>",
    parameters: Mapping[str, object] | None = None,
    folder: Path | None = None,
) -> Model:
    """Build a ``Model`` from a spec mapping (what a TOML file parses to); ``parameters``
    overrides the defaults of its ``[parameters]``; ``folder``: the spec file's folder, where
    ``extends`` may also name a spec (besides the built-ins)."""

    def fail(field_: str, problem: str) -> SpecError:
        return SpecError(f"{source}: {field_}: {problem}")

    if not isinstance(spec, Mapping):
        raise fail("spec", "expected a table of fields")
    spec = _extended(spec, fail, folder)
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown field (expected some of {', '.join(sorted(_KEYS))})")
    name = _text(spec.get("name"), "name", fail)
    rates = _strings(spec.get("rates", ["eta_A", "eta_B"]), "rates", fail)
    tables = {t: _table(spec.get(t, {}), t, fail) for t in _TABLES}
    if not tables["increments"]:
        raise fail("increments", "a model needs at least one state (one increment)")
    order = _strings(spec["order"], "order", fail) if "order" in spec else ()
    states = tuple(tables["increments"])
    info = _parameters(tables["parameters"], fail)
    clash = sorted(set(info) & ({*rates, *states, *tables["derived"]}))
    if clash:
        raise fail(f"parameters.{clash[0]}", "reuses the name of a rate or quantity")
    values = {k: p.default for k, p in info.items()}
    for key, value in (parameters or {}).items():
        if key not in info:
            raise fail("parameters", f"no parameter {key} (declared: {', '.join(info) or 'none'})")
        values[key] = info[key].check(key, value)
    recursion = _recursion(name, rates, tables, order, fail, values)
    quantities = set(recursion.order) | set(recursion.derived) | set(states)
    inits = _inits(tables["inits"], states, fail, values)
    roles = tables["roles"]
    for role in roles:
        if role not in ("output", "internal", "update"):
            raise fail(f"roles.{role}", "unknown role (expected output, internal, update)")
    output = _role(roles.get("output"), "roles.output", quantities, fail)
    internal = _role(roles.get("internal", output), "roles.internal", quantities, fail)
    update_list = roles.get("update", [output])
    update = _strings(update_list, "roles.update", fail)
    for i, q in enumerate(update):
        _role(q, f"roles.update[{i}]", quantities, fail)
    conditions: dict[str, Condition] = {}
    for cname, body in tables["conditions"].items():
        where = f"conditions.{cname}"
        text, meaning = body, ""
        if isinstance(body, Mapping):
            text, meaning = body.get("holds"), body.get("means", "")
            extra = sorted(set(body) - {"holds", "means"})
            if extra:
                raise fail(f"{where}.{extra[0]}", "unknown field (expected holds, means)")
        try:
            conditions[cname] = Condition.parse(
                _text(text, where, fail),
                quantities=quantities,
                rates=rates,
                known=conditions,
                meaning=_text(meaning, f"{where}.means", fail, empty=True),
            )
        except SpecError:
            raise
        except ExponentError as err:
            raise fail(where, str(err)) from None
    for q, reading in tables["readings"].items():
        if not isinstance(reading, str) or not reading.isidentifier():
            raise fail(f"readings.{q}", "expected a reading's name, such as per_entry or aligned")
    for table in ("notes", "display", "readings"):
        for q in tables[table]:
            if q not in quantities:
                raise fail(f"{table}.{q}", "not a quantity of the model")
    display = {}
    for q, forms in tables["display"].items():
        pair = _strings(forms, f"display.{q}", fail)
        if len(pair) != 2:
            raise fail(f"display.{q}", "expected [plain, LaTeX], e.g. ['Z_A^{t}', 'Z_A^{{{t}}}']")
        for form in pair:
            try:
                form.format(t=1)
            except (KeyError, IndexError, ValueError):
                raise fail(
                    f"display.{q}", f"{shorten(form)} is no format in t, such as 'Z_A^{{t}}'"
                ) from None
        display[q] = (pair[0], pair[1])
    return Model(
        name,
        recursion,
        inits,
        output,
        internal,
        update,
        _text(spec.get("description", ""), "description", fail, empty=True),
        MappingProxyType(conditions),
        MappingProxyType(display),
        source,
        _window(spec.get("window"), fail),
        MappingProxyType(values),
        MappingProxyType(info),
        MappingProxyType(dict(spec)),
        MappingProxyType(dict(tables["readings"])),
    )


def _parameters(table, fail) -> dict[str, Parameter]:
    out = {}
    for pname, body in table.items():
        where = f"parameters.{pname}"
        if not isinstance(pname, str) or not pname.isidentifier():
            raise fail(where, "a parameter name is an identifier such as kappa")
        body = {"default": body} if isinstance(body, str) else body
        if not isinstance(body, Mapping):
            raise fail(where, "expected a default ('0') or a table {default, at_least, below}")
        extra = sorted(set(body) - {"default", "at_least", "below", "means"})
        if extra:
            expected = "expected default, at_least, below, means"
            raise fail(f"{where}.{extra[0]}", f"unknown field ({expected})")
        bounds = []
        for key in ("at_least", "below"):
            if key not in body:
                bounds.append(None)
                continue
            try:
                bounds.append(Parameter(Fraction(0)).check(f"{where}.{key}", body[key]))
            except ExponentError as err:
                raise fail(f"{where}.{key}", str(err)) from None
        means = _text(body.get("means", ""), f"{where}.means", fail, empty=True)
        declared = Parameter(Fraction(0), bounds[0], bounds[1], means)
        try:
            default = declared.check(pname, _text(body.get("default"), f"{where}.default", fail))
        except SpecError:
            raise
        except ExponentError as err:
            raise fail(f"{where}.default", str(err)) from None
        out[pname] = declared._replace(default=default)
    return out


def _window(value, fail) -> tuple[Fraction, Fraction, Fraction, Fraction] | None:
    if value is None:
        return None
    texts = _strings(value, "window", fail)
    try:
        x0, x1, y0, y1 = (Fraction(parse_exponent(t)) for t in texts)
    except (ExponentError, TypeError, ValueError):
        raise fail("window", "expected four rationals: [eta_A from, to, eta_B from, to]") from None
    if not (x0 < x1 and y0 < y1):
        raise fail("window", "each range must run from a smaller to a larger exponent")
    return (x0, x1, y0, y1)


def _extended(
    spec: Mapping[str, object], fail, folder: Path | None, seen: tuple[str, ...] = ()
) -> Mapping[str, object]:
    """The spec merged onto its base: a built-in model, or a spec file in the spec's own folder
    named without a path (``extends = "base"`` reads ``base.toml``); chains are followed up to
    ``MAX_EXTENDS`` deep and a cycle is reported as one."""
    base_name = spec.get("extends")
    if base_name is None:
        return spec
    builtins = sorted(p.stem for p in MODEL_DIR.glob("*.toml"))
    expected = f"a built-in model ({', '.join(builtins)}) or a spec in the spec's own folder"
    if (
        not isinstance(base_name, str)
        or not base_name.strip()
        or any(sep in base_name for sep in ("/", "\\", os.sep, "\0"))
        or base_name.startswith(".")
    ):
        shown = shorten(base_name) if isinstance(base_name, str) else type(base_name).__name__
        raise fail("extends", f"{shown} is not {expected}, named without a path")
    if base_name in builtins:
        base = builtin_spec(base_name)
    elif folder is None:
        raise fail("extends", f"{shorten(base_name)} is not a built-in model ({expected})")
    else:
        file = folder / (base_name if base_name.endswith(".toml") else f"{base_name}.toml")
        key = str(file.resolve())
        if key in seen:
            chain = " → ".join(Path(k).name for k in (*seen[seen.index(key) :], key))
            raise fail("extends", f"a cycle: {chain}")
        if len(seen) >= MAX_EXTENDS:
            raise fail("extends", f"a chain of more than {MAX_EXTENDS} specs")
        if not file.is_file():
            raise fail("extends", f"{shorten(base_name)} is not {expected} (no file {file.name})")
        base = read_spec(file, str(file))
        base = _extended(base, fail, folder, (*seen, key))
    merged = dict(base)
    merged.pop("extends", None)
    for key, value in spec.items():
        if key in _TABLES and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
            if key == "inits":  # an init restated keeps the base's states it does not name
                for init, values in value.items():
                    old = base.get("inits", {}).get(init)
                    if isinstance(values, Mapping) and isinstance(old, Mapping):
                        merged[key][init] = {**old, **values}
        elif key != "extends":
            merged[key] = value
    merged.setdefault("description", "")
    return merged


def _recursion(name, rates, tables, order, fail, constants) -> Recursion:
    formulas: dict[str, dict] = {}
    for table in ("increments", "derived"):
        formulas[table] = {}
        for key, value in tables[table].items():
            text = _text(value, f"{table}.{key}", fail)
            try:
                formulas[table][key] = parse_expr(text, constants)
            except ExponentError as err:
                raise fail(f"{table}.{key}", str(err)) from None
    for key, value in tables["notes"].items():
        _text(value, f"notes.{key}", fail)
    count = len(formulas["increments"]) + len(formulas["derived"])
    if count > MAX_QUANTITIES:
        raise fail("derived", f"{count} quantities: at most {MAX_QUANTITIES} per model")
    derived = _dependency_order(formulas["derived"], fail)
    # Quantities the display order leaves out (a spec that extends another) come last.
    written = (*formulas["increments"], *formulas["derived"])
    order = (*order, *(q for q in written if q not in order)) if order else written
    try:
        rec = Recursion(name, rates, formulas["increments"], derived, order, dict(tables["notes"]))
    except ExponentError as err:
        raise fail(getattr(err, "field", "increments"), str(err)) from None
    policies = 1
    for state in rec.states:
        policies *= max(len(rec.dynamics[state].terms), 1)
    if policies > MAX_POLICIES:
        raise fail(
            "increments",
            f"too dense for the exact analysis: {policies} ways to pick one term per state "
            f"(the product of the increments' term counts) exceed {MAX_POLICIES}",
        )
    return rec


def _dependency_order(derived: Mapping[str, object], fail) -> dict[str, object]:
    """The derived formulas ordered so that each follows those it uses (as written where
    possible); a cycle is reported as one."""
    out: dict[str, object] = {}
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in out:
            return
        if name in visiting:
            cycle = " → ".join([*visiting[visiting.index(name) :], name])
            raise fail(f"derived.{name}", f"is defined in a cycle: {cycle}")
        visiting.append(name)
        for used in sorted(derived[name].variables & derived.keys()):
            visit(used)
        visiting.pop()
        out[name] = derived[name]

    for name in derived:
        visit(name)
    return out


def _inits(table, states, fail, constants) -> Mapping[str, Mapping[str, object]]:
    if not table:
        raise fail("inits", "a model needs at least one initialization (e.g. [inits.A])")
    out = {}
    for init, values in table.items():
        if not isinstance(values, Mapping):
            raise fail(f"inits.{init}", "expected a table: state = initial exponent")
        extra = sorted(set(values) - set(states))
        if extra:
            raise fail(f"inits.{init}.{extra[0]}", "not a state (states have an increment)")
        missing = [s for s in states if s not in values]
        if missing:
            raise fail(f"inits.{init}", f"no initial exponent for state {missing[0]}")
        parsed = {}
        for s in states:
            try:
                parsed[s] = _initial(values[s], constants)
            except ExponentError as err:
                raise fail(f"inits.{init}.{s}", str(err)) from None
        out[str(init)] = MappingProxyType(parsed)
    return MappingProxyType(out)


def _initial(value: object, constants: Mapping[str, Fraction]) -> object:
    """An initial exponent: a rational, -inf, or a constant formula in the parameters."""
    if isinstance(value, str) and any(name in value for name in constants):
        expr = parse_expr(value, constants)
        if expr.is_constant:
            return expr.constant_value()
    return parse_exponent(value)


def _role(value, where, quantities, fail) -> str:
    name = _text(value, where, fail)
    if name not in quantities:
        raise fail(where, f"{name!r} is not a quantity of the model")
    return name


def _table(value, where, fail) -> Mapping:
    if not isinstance(value, Mapping):
        raise fail(where, "expected a table")
    return value


def _text(value, where, fail, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise fail(where, f"expected a non-empty string, not {type(value).__name__}")
    return value


def _strings(value, where, fail) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise fail(where, "expected a list of strings")
    return tuple(_text(v, f"{where}[{i}]", fail) for i, v in enumerate(value))
