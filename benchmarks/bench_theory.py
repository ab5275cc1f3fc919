"""How long the exact calculator takes: every built-in result, from a cold process.

    .venv/bin/python benchmarks/bench_theory.py

Target (issue 3): all built-in results derived in well under a second. Prints wall times; asserts
nothing (speed targets live here, never in tests).
"""

from __future__ import annotations

import time


def main() -> None:
    t0 = time.perf_counter()
    import theory

    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    for model in theory.MODELS:
        for init in theory.INITS:
            theory.derive(model, init)  # symbolic: steady state and every condition region
            for condition in theory.CONDITIONS:
                theory.region(model, init, [condition], equal_rates=True)
    for init in theory.INITS:
        theory.predicted_rate_exponent("adam", init)
    t_symbolic = time.perf_counter() - t1
    t2 = time.perf_counter()
    n = 0
    for model in theory.MODELS:
        for init in theory.INITS:
            for k in range(-8, 5):
                theory.predict(model, init, eta_A=f"{k}/4", eta_B=f"{-k}/4")
                n += 1
    t_points = time.perf_counter() - t2
    print(f"import theory:                                   {t_import * 1e3:7.1f} ms")
    print(f"all symbolic derivations, regions, rate exponents: {t_symbolic * 1e3:7.1f} ms")
    print(f"{n} point predictions:                            {t_points * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
