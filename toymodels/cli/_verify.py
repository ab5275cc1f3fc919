"""`lora-sweep verify FILE`: check that a results file's numbers are the ones written.

Every finished cell of a results file carries a checksum of its numbers (``sweeps/_checksums.py``),
and every load checks them; ``verify`` does only that: exit 0 and one line when the file is intact,
exit 2 and one line naming the first corrupt cell otherwise. A file written before checksums has
none: ``verify`` says so (exit 2), and ``verify --seal`` records the checksums of its bytes as
they are now (after checking that nothing outside its finished cells holds numbers).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check a results file against the checksums written with its cells",
        description=__doc__.split("\n\n")[1] + "\n\nexample: lora-sweep verify results/figure2.nc",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", type=Path, metavar="FILE", help="a results file of lora-sweep")
    parser.add_argument(
        "--seal",
        action="store_true",
        help="add checksums to a file written before them, trusting its numbers as they are "
        "(default: only check)",
    )


def run(args: argparse.Namespace) -> int:
    from toymodels.core import UsageError
    from toymodels.sweeps import _checksums, _lock, _paths, _store

    path = args.path
    ds = _store.load_results(path)  # checks the checksums it has
    if _checksums.ATTR in ds.attrs:
        cells = len(_checksums.finished_cells(ds))
        note = " (it has checksums already)" if args.seal else ""
        print(f"{path}: intact: {cells} finished cell(s) match their checksums{note}")
        return 0
    if not args.seal:
        raise UsageError(
            f"{path} has no checksums (written before lora-sweep recorded them); "
            f"`lora-sweep verify --seal {path}` adds them for its numbers as they are now"
        )
    _paths.check_results_path(path, "verify --seal")
    from toymodels import _signals

    _signals.set_message(lambda: f"lora-sweep: interrupted; {path} is unchanged")
    with _lock.exclusive_writer(path):
        sealed = _checksums.seal(ds, path, not_run=_store.NOT_RUN)
        with _signals.saving():  # a signal now waits for the rename, then says which file it is
            _store.save_atomically(sealed, path)
            _signals.set_message(lambda: f"lora-sweep: interrupted; {path} is sealed")
    cells = len(_checksums.finished_cells(sealed))
    print(f"{path}: sealed: checksums of {cells} finished cell(s) added")
    return 0
