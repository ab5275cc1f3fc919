"""`make demo`: the quick reproduction, end to end, in a few minutes on a laptop CPU.

1. the calculator's verdicts for the papers' headline cases (exact, from ``theory``);
2. the quick presets of the four sweeps (``figure2``, ``figure3`` from its optima, ``heatmap``,
   ``edge``), each with a progress bar and its time;
3. their figures, written to ``demo-output/`` (never over the committed paper figures in
   ``figures/``);
4. the fitted exponent of η*(n) beside the theory's, and the papers' claims checked against the
   quick runs.

Every number printed comes from a computation made in this run. ``LORA_DEMO_OUT`` moves the output;
``LORA_PRESET=smoke`` runs the same steps on the smoke presets (seconds; the numbers mean nothing).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

#: The sweeps the demo runs, in order, and what each one is.
EXPERIMENTS = {
    "figure2": "the loss-optimal rate η*(n) of each init (Init paper, Figure 2)",
    "figure3": "|Z_A| and |Z_B| at each init's optimal rate (Init paper, Figure 3)",
    "heatmap": "the (η_A, η_B) grid of the LoRA+ toy MLP (LoRA+ paper, Figure 2)",
    "edge": "the stability edge η_edge(n), the rate the theorems bound",
}


def _section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    import theory
    from toymodels.core import UsageError
    from toymodels.reproduce import _workflow as reproduce
    from toymodels.reproduce import check_claims, claims_table, make_figures

    start = time.perf_counter()
    out = Path(os.environ.get("LORA_DEMO_OUT", "demo-output"))
    try:  # quick unless LORA_PRESET names another preset
        chosen = reproduce.preset() if os.environ.get("LORA_PRESET") else "quick"
    except UsageError as error:
        print(f"demo: error: {error}", file=sys.stderr)
        return 2
    print(f"# lora-width-scaling demo: the quick reproduction (preset `{chosen}`, CPU)", flush=True)
    print(
        "Four sweeps train below, each with a progress bar and an ETA (about 2 minutes in all on "
        "an idle 2-core CPU); finished cells are kept, so a second run only reads them.",
        flush=True,
    )

    _section("1. The calculator's verdicts (theory/, exact exponents)")
    print(theory.headline_report())

    _section(f"2. The {chosen} sweeps (results in {out / 'results'})")
    stores = {}
    try:
        for experiment in EXPERIMENTS:
            t0 = time.perf_counter()
            print(f"### {experiment}: {EXPERIMENTS[experiment]}", flush=True)
            stores[experiment] = reproduce.sweep(
                experiment, chosen, folder=out / "results", quiet=False
            )
            print(
                f"{experiment}: {reproduce.describe(stores[experiment])} "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    except UsageError as error:
        print(f"demo: error: {error}", file=sys.stderr)
        return 2

    _section(f"3. Figures (in {out}/)")
    for path in make_figures(stores, out):
        print(f"wrote {path}")

    _section("4. Fitted exponent of the optimal rate η*(n) ∝ n^k, beside the theory's")
    print(reproduce.exponent_table(stores["figure2"]))

    _section(f"5. The papers' claims checked against the {chosen} runs")
    print(
        f"({chosen} preset: fewer widths, steps and rates than the paper; see "
        "docs/reproduction.md for the paper-preset verdicts)\n"
    )
    print(claims_table(check_claims(**stores)))

    print(f"\ndemo finished in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
