"""The progress bar of long sweeps: tqdm on stderr with an ETA weighted by each cell's cost."""

from __future__ import annotations

import contextlib
import sys

from tqdm.auto import tqdm


class CellProgress:
    """A progress bar over a sweep's cells; its ETA follows the work (wide cells count more)."""

    def __init__(self, *, total: float, cells: int, done: int, quiet: bool):
        self._cells, self._done = cells, done
        self._bar = tqdm(
            total=total,
            disable=quiet,
            file=sys.stderr,
            unit="work",
            dynamic_ncols=True,
            bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
        )

    def describe(self, init: str, width: int) -> None:
        """Show which cell trains now and how many cells are finished."""
        self._bar.set_description_str(
            f"cell {self._done + 1}/{self._cells} (init {init}, width {width})"
        )

    def advance(self, cost: float) -> None:
        """Mark one cell of relative cost ``cost`` as finished."""
        self._done += 1
        self._bar.update(cost)

    def close(self) -> None:
        self._bar.set_description_str(f"{self._done}/{self._cells} cells")
        self._bar.close()


@contextlib.contextmanager
def progress_bar(*, total: float, cells: int, done: int = 0, quiet: bool = False):
    """A :class:`CellProgress`, closed on exit (also on an interrupt)."""
    bar = CellProgress(total=total, cells=cells, done=done, quiet=quiet)
    try:
        yield bar
    finally:
        bar.close()
