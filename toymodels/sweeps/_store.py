"""The results store of width sweeps: one netCDF file per sweep, written atomically cell by cell.

A sweep's results are an :class:`xarray.Dataset` with dims ``init × width × lr × seed × step``: one
data variable per training metric (float32, NaN where a run diverged or a cell has not run yet)
and ``diverged_step`` (``init × width × lr × seed``, −1 for a run that did not diverge, −2 for a
cell that has not run yet). The coordinates ``eta_A`` and ``eta_B`` live on ``lr``, on
``width, lr`` when the rates depend on the width, and on ``init, width, lr`` when they depend on the
init too (figure 3 trains each init at its own optimal rate). Attributes: ``config`` (JSON of
the sweep configuration), ``versions`` (JSON of the package versions), ``completed_cells`` (JSON
list of ``[init, width]``), ``checksums`` (``_checksums.py``: one digest per finished cell, checked
by every load, so a file whose bytes changed is refused instead of summarized).

Why one file rewritten per cell instead of appending: netCDF-3 (the scipy backend, no extra
dependency) cannot grow a variable in place, and rewriting a whole sweep costs milliseconds next to
training one cell. Every write goes to a temporary file in the same directory, is fsynced and
then renamed over the old file, so an interrupt or a kill at any moment leaves the previous complete
file.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import stat
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import xarray as xr

from toymodels.core import UsageError
from toymodels.sweeps import _checksums, _paths

#: ``diverged_step`` of a run that did not diverge, and of a cell that has not run yet.
NOT_DIVERGED = -1
NOT_RUN = -2

_ENGINE = "scipy"
_PACKAGES = ("jax", "jaxlib", "optax", "numba", "numpy", "xarray", "scipy")


def package_versions() -> dict[str, str]:
    """Versions of python, the numerical stack and this package (recorded in every results file)."""
    from toymodels import __version__

    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["lora-width-scaling"] = __version__
    versions["device"] = device_description()
    return versions


def device_description() -> str:
    """The accelerator (or CPU model) JAX computes on, as a figure footer names it.

    >>> device_description().startswith(("cpu", "gpu", "tpu", "cuda", "rocm"))
    True
    """
    import jax

    device = jax.devices()[0]
    kind = device.device_kind
    if device.platform == "cpu":
        kind = _cpu_model() or kind
    return f"{device.platform} ({kind}, {jax.device_count()} device(s), {os.cpu_count()} cores)"


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def load_results(path) -> xr.Dataset:
    """Load a sweep's results file into memory (the file is closed on return).

    Raises :class:`~toymodels.core._errors.UsageError` naming the file if missing, unreadable or
    not a results file written by `lora-sweep`.
    """
    _paths.check_name(path, "results file")
    path = Path(path)
    if not path.is_file():
        raise UsageError(_not_a_file(path))
    try:
        ds = xr.load_dataset(path, engine=_ENGINE)
    except Exception as error:  # any decoding failure means the same thing to the user
        reason = " ".join(str(error).split()) or type(error).__name__
        raise UsageError(f"cannot read results file {path}: {reason}") from None
    missing = [key for key in ("config", "versions", "completed_cells") if key not in ds.attrs]
    if missing or "diverged_step" not in ds:
        raise UsageError(f"{path} is not a lora-sweep results file (no {', '.join(missing)})")
    try:
        json.loads(ds.attrs["config"])
        json.loads(ds.attrs["completed_cells"])
    except json.JSONDecodeError:
        raise UsageError(f"results file {path} has corrupt attributes") from None
    if _checksums.ATTR in ds.attrs:  # files written before checksums load as they are (verify)
        _checksums.check(ds, path, not_run=NOT_RUN)
    return ds


def _not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as a results file, naming the nearest one that exists.

    >>> _not_a_file(Path("/nonexistent/figure2.nc"))
    'results file /nonexistent/figure2.nc does not exist'
    """
    import difflib

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:  # a symlink loop, a path through a file, no permission
        return f"cannot read results file {path}: {error.strerror}"
    if mode is not None:
        return f"{path} is {_paths.kind_of(mode)}, not a results file"
    message = f"results file {path} does not exist"
    try:
        near = sorted(p.name for p in path.parent.glob("*.nc") if p.is_file())
    except OSError:
        near = []
    match = difflib.get_close_matches(path.name, near, n=1, cutoff=0.5)
    return f"{message}; did you mean {path.parent / match[0]}?" if match else message


def stored_config(ds: xr.Dataset) -> dict:
    """The sweep configuration a results dataset was written with."""
    return json.loads(ds.attrs["config"])


def completed_cells(ds: xr.Dataset) -> set[tuple[str, int]]:
    """The ``(init, width)`` cells whose runs are all in ``ds``."""
    return {(str(init), int(width)) for init, width in json.loads(ds.attrs["completed_cells"])}


def _normalized(config: dict) -> dict:
    # JSON round trip: tuples become lists and floats print the same way on both sides.
    return json.loads(json.dumps(config, sort_keys=True))


def open_for_resume(path, config: dict, *, overwrite: bool) -> xr.Dataset | None:
    """The results already in ``path`` for the sweep ``config``, or None to start afresh.

    Checks everything a sweep needs before it trains: ``path`` is not a directory, and an existing
    file was written by exactly this configuration (else a one-line error suggesting ``--out`` or
    ``--overwrite``). With ``overwrite`` the old file is ignored here and replaced by the first cell
    that finishes, so an interrupted overwrite still leaves a complete file. Creating the directory
    and checking that it is writable is :func:`writable_directory`'s job: reading a finished sweep
    needs no write permission.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"--out {path} is a directory; give a file name such as {path}/sweep.nc")
    if overwrite or not path.exists():
        return None
    existing = load_results(path)
    check_config(existing, config, path)
    if _checksums.ATTR not in existing.attrs:  # written before checksums: its cells as they are
        existing = _checksums.seal(existing, path, not_run=NOT_RUN)
    return existing


def check_config(ds: xr.Dataset, config: dict, path) -> None:
    """Raise a one-line :class:`UsageError` unless ``ds`` was written by the sweep ``config``."""
    old, new = _normalized(stored_config(ds)), _normalized(config)
    if old != new:
        differing = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        raise UsageError(
            f"{path} holds results of a different configuration (differs in: "
            f"{', '.join(differing)}); choose a new --out or pass --overwrite"
        )


def check_file_config(path, config: dict) -> None:
    """:func:`check_config` of the file ``path`` as it is now (its attributes only), if it exists.

    Called before every save: a file changed under a running sweep is never overwritten.
    """
    path = Path(path)
    if not path.exists():
        return
    try:
        with xr.open_dataset(path, engine=_ENGINE) as ds:
            attrs = dict(ds.attrs)
    except Exception:  # not readable as netCDF: someone else's file, never ours to replace
        raise UsageError(f"{path} changed during the sweep and is not a results file") from None
    if "config" not in attrs:
        raise UsageError(f"{path} changed during the sweep and is not a results file")
    check_config(xr.Dataset(attrs=attrs), config, path)


@contextlib.contextmanager
def writable_directory(path):
    """Create the directory of ``path`` if needed and check it is writable, for the ``with`` block.

    Directories created here are removed again if the block leaves no file in them (a refused or
    failed sweep leaves no empty directories behind).
    """
    path = Path(os.path.realpath(path))
    missing = []
    directory = path.parent
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create directory {path.parent}: {error.strerror}") from None
    try:
        if not os.access(path.parent, os.W_OK):
            raise UsageError(f"cannot write results to {path.parent}: permission denied")
        yield
    finally:
        for created in missing:  # innermost first; rmdir refuses a directory with files
            with contextlib.suppress(OSError):
                created.rmdir()


def new_dataset(
    config: dict,
    *,
    inits,
    widths,
    seeds,
    steps: int,
    eta_A: xr.DataArray,
    eta_B: xr.DataArray,
    metric_names,
) -> xr.Dataset:
    """An empty results dataset: every metric NaN, every run :data:`NOT_RUN`, no cell completed."""
    coords = {
        "init": np.asarray(list(inits), dtype=str),
        "width": np.asarray(list(widths), dtype=np.int32),
        "lr": np.arange(eta_A.sizes["lr"], dtype=np.int32),
        "seed": np.asarray(list(seeds), dtype=np.int32),
        "step": np.arange(steps + 1, dtype=np.int32),
    }
    shape = tuple(len(v) for v in coords.values())
    data = {
        name: (tuple(coords), np.full(shape, np.nan, dtype=np.float32)) for name in metric_names
    }
    data["diverged_step"] = (tuple(coords)[:4], np.full(shape[:4], NOT_RUN, dtype=np.int32))
    ds = xr.Dataset(data, coords=coords)
    ds = ds.assign_coords(eta_A=eta_A.astype(np.float64), eta_B=eta_B.astype(np.float64))
    ds.attrs = {
        "config": json.dumps(config, sort_keys=True),
        "versions": json.dumps(package_versions(), sort_keys=True),
        "completed_cells": "[]",
        _checksums.ATTR: "[]",
    }
    return ds


def with_cell(
    ds: xr.Dataset,
    init: str,
    width: int,
    metrics: dict,
    diverged_step: np.ndarray,
    *,
    rates: tuple[np.ndarray, np.ndarray] | None = None,
) -> xr.Dataset:
    """A copy of ``ds`` with the cell ``(init, width)`` filled and marked completed.

    ``metrics[name]`` has shape ``[L, S, T + 1]``, ``diverged_step`` shape ``[L, S]``; ``rates``
    = ``(eta_A, eta_B)``, each ``[L]``, are the cell's rates where the cell chose them (a
    two-stage grid's window).
    """
    ds = ds.copy(deep=True)
    where = {"init": init, "width": width}
    if rates is not None:
        for name, values in zip(("eta_A", "eta_B"), rates, strict=True):
            ds[name].loc[where] = np.asarray(values, dtype=np.float64)
    for name in ds.data_vars:
        if name == "diverged_step":
            continue
        if name not in metrics:
            raise ValueError(f"the trainer did not return metric {name!r}")
        ds[name].loc[where] = np.asarray(metrics[name], dtype=np.float32)
    ds["diverged_step"].loc[where] = np.asarray(diverged_step, dtype=np.int32)
    done = completed_cells(ds) | {(init, int(width))}
    ds.attrs["completed_cells"] = json.dumps(sorted([i, w] for i, w in done))
    return _checksums.seal_cell(ds, {"init": str(init), "width": int(width)})


def save_atomically(ds: xr.Dataset, path) -> None:
    """Write ``ds`` to ``path`` so that ``path`` is at every instant either the old or the new file.

    Write a temporary file beside ``path``, fsync it, rename it over ``path`` (atomic on POSIX
    within one file system), then fsync the directory so the rename itself survives a crash. A
    symlink ``path`` is written through to its target; the file gets the mode the umask gives.
    A failed write (disk full, file too large, permission) is a one-line :class:`UsageError`
    and leaves the previous file and no temporary.
    """
    path = Path(os.path.realpath(path))
    directory = path.parent
    with contextlib.suppress(FileNotFoundError):  # renamed over, a device would become a file
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise UsageError(f"{path} is {_paths.kind_of(mode)}, not a results file; not replaced")
    try:
        fd, tmp = tempfile.mkstemp(
            dir=directory, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
        )
    except OSError as error:
        raise UsageError(f"cannot write results to {directory}: {error.strerror}") from None
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine=_ENGINE)
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(error, OSError):
            reason = error.strerror or type(error).__name__
            kept = "the previous file is unchanged" if path.exists() else "nothing was written"
            raise UsageError(f"cannot write results to {path}: {reason}; {kept}") from None
        raise
    with contextlib.suppress(OSError):  # not every file system lets a directory be fsynced
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_temporaries(path) -> list[Path]:
    """Delete temporary files that a killed writer of ``path`` left behind; return them.

    A write killed by SIGKILL cannot clean up after itself; its temporary file carries the writer's
    pid, so files of processes that no longer exist are safe to delete. ``path`` itself is never
    touched.
    """
    path = Path(os.path.realpath(path))
    directory = path.parent
    removed = []
    for candidate in directory.glob(f".{path.name}.*.tmp"):
        pid_text = candidate.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
                removed.append(candidate)
    return removed
