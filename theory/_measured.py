"""Measured rate exponents as a small JSON file: what the ``measured`` transfer rule reads.

theory never opens a netCDF results file (nor imports toymodels), so the sweeps' fitted exponents
reach the calculator through this format, written by ``lora-sweep exponents FILE.nc --out X.json``.
One file holds a list of exponents; each says which calculator model and init it belongs to, what
was fitted (``source``: ``edge``, the divergence/stability edge η_edge(n) ∝ n^k, or ``optimum``,
the loss-optimal rate η*(n) ∝ n^k), the point estimate k and its interval, and where it came from
(the results file and its SHA-256, the rule, the widths and seeds):

    {"format": "lora-rate-exponents", "version": 1,
     "exponents": [{"model": "adam", "init": "A", "source": "optimum", "axis": "width",
                    "exponent": -0.753, "interval": [-0.797, -0.694], "level": 0.95,
                    "provenance": {"file": "results/figure2.nc", "sha256": "…", …}}]}

Reading validates everything and names the first problem in one line (``MeasuredExponentError``).

>>> m = MeasuredExponent("adam", "A", "optimum", -0.75, (-0.8, -0.7), provenance={"file": "x.nc"})
>>> parse_exponent_file(exponent_file_json([m]), "adam", "A", "optimum").interval
(-0.8, -0.7)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "EXPONENT_FILE_FORMAT",
    "SOURCES",
    "MeasuredExponent",
    "MeasuredExponentError",
    "exponent_file_json",
    "parse_exponent_file",
    "read_exponent_file",
]

EXPONENT_FILE_FORMAT = "lora-rate-exponents"
_VERSION = 1
#: What a measured exponent can describe: the stability edge or the loss-optimal rate.
SOURCES = ("edge", "optimum")
#: A few kB is all a file of exponents needs; a huge file is a wrong path, not data.
_MAX_BYTES = 1 << 20


class MeasuredExponentError(ValueError):
    """An exponent file that cannot be used: unreadable, malformed, or lacking the exponent."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class MeasuredExponent:
    """A fitted width exponent k of a rate, η(n) ∝ n^k, with its interval (lo ≤ k ≤ hi)."""

    model: str
    init: str
    source: str
    exponent: float
    interval: tuple[float, float]
    level: float = 0.95
    axis: str = "width"
    provenance: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise MeasuredExponentError(f"source must be one of {', '.join(SOURCES)}")
        lo, hi = self.interval
        values = (self.exponent, lo, hi, self.level)
        if not all(_is_number(v) and math.isfinite(v) for v in values):
            raise MeasuredExponentError("exponent, interval and level must be finite numbers")
        if not lo <= self.exponent <= hi:
            raise MeasuredExponentError(
                f"interval [{lo}, {hi}] does not contain the exponent {self.exponent}"
            )
        if not 0 < self.level < 1:
            raise MeasuredExponentError(f"level must lie in (0, 1), not {self.level}")

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "init": self.init,
            "source": self.source,
            "axis": self.axis,
            "exponent": self.exponent,
            "interval": list(self.interval),
            "level": self.level,
            "provenance": dict(self.provenance),
        }


def exponent_file_json(exponents: Iterable[MeasuredExponent]) -> str:
    """The file's text for these exponents."""
    payload = {
        "format": EXPONENT_FILE_FORMAT,
        "version": _VERSION,
        "exponents": [m.to_json() for m in exponents],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _entry(raw: object, where: str) -> MeasuredExponent:
    if not isinstance(raw, dict):
        raise MeasuredExponentError(f"{where}: an exponent must be a JSON object")
    missing = [k for k in ("model", "init", "source", "exponent", "interval") if k not in raw]
    if missing:
        raise MeasuredExponentError(f"{where}: missing field {missing[0]!r}")
    interval = raw["interval"]
    if not isinstance(interval, list) or len(interval) != 2:
        raise MeasuredExponentError(f"{where}: interval must be a list [lo, hi]")
    if raw.get("axis", "width") != "width":
        raise MeasuredExponentError(f"{where}: only width exponents are read (axis 'width')")
    provenance = raw.get("provenance", {})
    if not isinstance(provenance, dict):
        raise MeasuredExponentError(f"{where}: provenance must be a JSON object")
    try:
        return MeasuredExponent(
            model=str(raw["model"]),
            init=str(raw["init"]),
            source=str(raw["source"]),
            exponent=raw["exponent"],
            interval=(interval[0], interval[1]),
            level=raw.get("level", 0.95),
            provenance=provenance,
        )
    except (MeasuredExponentError, TypeError) as err:
        raise MeasuredExponentError(f"{where}: {err}") from None


def parse_exponent_file(
    text: str, model: str, init: str, source: str | None = None, *, name: str = "exponent file"
) -> MeasuredExponent:
    """The one exponent of ``model`` and ``init`` (and ``source``, which may be left out when the
    file holds one) in the file's text."""
    try:
        payload = json.loads(text)
    except ValueError:
        raise MeasuredExponentError(f"{name}: not JSON") from None
    if not isinstance(payload, dict) or payload.get("format") != EXPONENT_FILE_FORMAT:
        raise MeasuredExponentError(f"{name}: not a {EXPONENT_FILE_FORMAT} file")
    if payload.get("version") != _VERSION:
        raise MeasuredExponentError(f"{name}: version {payload.get('version')!r} is not {_VERSION}")
    raw = payload.get("exponents")
    if not isinstance(raw, list):
        raise MeasuredExponentError(f"{name}: 'exponents' must be a list")
    entries = [_entry(e, f"{name}, exponent {i}") for i, e in enumerate(raw)]
    models = sorted({e.model for e in entries})
    if model not in models:
        raise MeasuredExponentError(
            f"{name} holds exponents of {', '.join(models) or 'no model'}, not {model}"
        )
    inits = sorted({e.init for e in entries if e.model == model})
    if init not in inits:
        raise MeasuredExponentError(
            f"{name} holds {model} exponents of Init[{', '.join(inits)}], not Init[{init}]"
        )
    found = [e for e in entries if e.model == model and e.init == init]
    if source is not None:
        found = [e for e in found if e.source == source]
        if not found:
            raise MeasuredExponentError(f"{name} has no {source} exponent of {model} Init[{init}]")
    if len(found) > 1:
        sources = ", ".join(sorted({e.source for e in found}))
        raise MeasuredExponentError(
            f"{name} holds several exponents of {model} Init[{init}] ({sources}): name one with "
            "--source"
        )
    return found[0]


def read_exponent_file(
    path: str | os.PathLike, model: str, init: str, source: str | None = None
) -> MeasuredExponent:
    """``parse_exponent_file`` on a file, which must be a small regular file."""
    path = Path(path)
    if not path.is_file():
        raise MeasuredExponentError(f"{path}: no such file")
    if path.stat().st_size > _MAX_BYTES:
        raise MeasuredExponentError(f"{path}: larger than {_MAX_BYTES} bytes, not an exponent file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise MeasuredExponentError(f"{path}: cannot be read ({type(err).__name__})") from None
    return parse_exponent_file(text, model, init, source, name=str(path))
