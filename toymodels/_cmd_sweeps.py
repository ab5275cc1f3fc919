"""`lora-sweep run | figure2 | figure3 | heatmap | summary`: width sweeps and their summaries."""

from __future__ import annotations

from toymodels.errors import UsageError

COMMANDS = ("run", "figure2", "figure3", "heatmap", "summary")


def add_parser(subparsers) -> None:
    for name in COMMANDS:
        subparsers.add_parser(name, help=f"{name} (in progress)")


def run(args) -> int:
    raise UsageError(f"`lora-sweep {args.command}` is not implemented yet")
