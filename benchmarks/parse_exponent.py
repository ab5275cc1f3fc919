"""How long the exponent parser takes on the worst inputs it accepts and on those it refuses.

    .venv/bin/python benchmarks/parse_exponent.py

Every input is answered in microseconds: the size bounds (``theory._exponent.MAX_DIGITS``,
``MAX_SCIENTIFIC``) are checked on the text before any number is built, so ``1e999999999`` no
longer hangs and a 5000-digit integer is refused without being read. Prints the slowest time per
case; asserts nothing (the property tests in tests/test_theory_input.py check the answers, this
measures the bound on their time).

>>> worst_seconds("-1/2", repeat=3) < 1.0
True
"""

from __future__ import annotations

import contextlib
import time

CASES = {
    "typical -1/2": "-1/2",
    "largest accepted numerator (60 digits)": "9" * 60,
    "largest accepted scientific (1e60)": "1e60",
    "largest accepted fraction": "9" * 60 + "/" + "7" * 60,
    "refused 1e999999999": "1e999999999",
    "refused 1e4400": "1e4400",
    "refused 1e-5000": "1e-5000",
    "refused 5000-digit integer": "9" * 5000,
    "refused 1 MB of digits": "9" * 1_000_000,
    "refused garbage": "abc" * 100,
}


def timings(text: str, *, repeat: int = 200) -> list[float]:
    """Sorted wall times (seconds) of ``repeat`` parses of ``text``, accepted or refused."""
    from theory import ExponentError, parse_exponent

    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        with contextlib.suppress(ExponentError):
            parse_exponent(text)
        out.append(time.perf_counter() - t0)
    return sorted(out)


def worst_seconds(text: str, *, repeat: int = 200) -> float:
    """The slowest of ``repeat`` parses of ``text``, in seconds."""
    return timings(text, repeat=repeat)[-1]


def main() -> None:
    print(f"{'case':<42} {'median':>10} {'slowest of 200':>15}")
    for label, text in CASES.items():
        times = timings(text)
        print(f"{label:<42} {times[len(times) // 2] * 1e6:7.1f} µs {times[-1] * 1e6:12.1f} µs")


if __name__ == "__main__":
    main()
