"""A checked claim as a value: what the paper says, the rule, what our data shows, the verdict.

Verdicts: ``reproduced``, ``partly``, ``not reproduced``, or ``no data`` when the store a claim
needs was not given (never a default). ``rule`` names the decision and the alternative it must
exclude; ``null_pass_rate`` is how often the rule returns "reproduced" on data built to have no
effect (NaN when not calibrated; :mod:`toymodels.reproduce._rules`).

>>> ClaimCheck("X", "a claim", "numbers", NO_DATA).null_pass_rate
nan
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

REPRODUCED, PARTLY, NOT, NO_DATA = "reproduced", "partly", "not reproduced", "no data"
#: "Much larger" / "≫" (E2(c), E1(a)) means at least one order of magnitude.
MUCH_LARGER = 10.0


@dataclass(frozen=True)
class ClaimCheck:
    """One claim, what our data shows, and the verdict."""

    key: str
    claim: str
    evidence: str
    verdict: str
    numbers: Mapping[str, float] = field(default_factory=dict)
    rule: str = ""
    null_pass_rate: float = math.nan
    null: str = ""

    def __post_init__(self):
        object.__setattr__(self, "numbers", MappingProxyType(dict(self.numbers)))

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "claim": self.claim,
            "rule": self.rule,
            "evidence": self.evidence,
            "verdict": self.verdict,
            "null_pass_rate": None if math.isnan(self.null_pass_rate) else self.null_pass_rate,
            "null": self.null,
            "numbers": dict(self.numbers),
        }


def count_verdict(hits: int, total: int) -> str:
    """All hits: reproduced; at least half: partly; else not reproduced (no comparisons: no data).

    >>> count_verdict(3, 3), count_verdict(2, 3), count_verdict(1, 3), count_verdict(0, 0)
    ('reproduced', 'partly', 'not reproduced', 'no data')
    """
    if total == 0:
        return NO_DATA
    return REPRODUCED if hits == total else PARTLY if 2 * hits >= total else NOT


def g(x: float) -> str:
    """Three significant digits."""
    return f"{x:.3g}"
