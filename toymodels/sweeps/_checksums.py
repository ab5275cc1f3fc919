"""Results files that prove their bytes: one digest per finished cell, checked on every load.

A results file is rewritten cell by cell (``_store.py``). Each finished cell's numbers (every data
variable and coordinate at the cell's coordinates, its rates included, and the stored
configuration) are hashed when the cell is added, and the digest is stored in the ``checksums``
attribute beside the cell's coordinates::

    [[{"init": "A", "width": 32}, "9f2c..."], ...]

so the check needs no knowledge of the file's layout: width sweeps and rank sweeps
(``{"multiplier": ..., "pair": ..., "init": ...}``) are checked alike. :func:`check` recomputes
every digest, and requires that every value outside the finished cells is still "not run" (NaN,
and the not-run marker of ``diverged_step``): a changed byte anywhere in the data is a one-line
:class:`UsageError` naming the cell, never numbers.

Digests are of the values, not of their encoding: NaNs are made canonical and every number is
hashed as a little-endian float64 or int64, so a file's byte order or NaN payloads do not matter.
Files written before checksums have no ``checksums`` attribute; they load as they are, and
``lora-sweep verify --seal FILE`` adds the digests of the bytes as they are now.

>>> import xarray as xr
>>> ds = xr.Dataset({"loss": (("width", "step"), np.zeros((1, 3), np.float32)),
...                  "diverged_step": (("width",), np.array([-1], np.int32))},
...                 coords={"width": [8], "step": [0, 1, 2]},
...                 attrs={"completed_cells": "[[8]]"})
>>> check(seal_cell(ds, {"width": 8}), "r.nc", not_run=-2)
1
>>> ds["loss"][0, 1] = 3.4e22
>>> check(ds, "r.nc", not_run=-2)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
toymodels.core._errors.UsageError: r.nc is corrupt: the numbers of cell width=8 do not match ...
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from toymodels.core import UsageError

#: The attribute that holds ``[[coordinates, digest], ...]``.
ATTR = "checksums"


def _canonical_bytes(values: np.ndarray) -> bytes:
    values = np.asarray(values)
    if values.dtype.kind == "f":
        values = values.astype("<f8")
        values[np.isnan(values)] = np.nan  # one NaN bit pattern, whatever the file's
    elif values.dtype.kind in "iub":
        values = values.astype("<i8")
    else:  # text: never a data variable today, but hashed the same on every platform
        return "\0".join(str(value) for value in values.ravel()).encode()
    return np.ascontiguousarray(values).tobytes()


def cell_digest(ds, where: dict, arrays: dict | None = None) -> str:
    """The digest of the cell at coordinates ``where``: every data variable and coordinate there
    (its rates, steps, seeds, ...), and the configuration the file says it was written with.
    ``arrays`` (name → (dims, values), from :func:`_arrays`) saves reading them once per cell."""
    arrays = arrays if arrays is not None else _arrays(ds)
    at = {dim: ds.indexes[dim].get_loc(value) for dim, value in where.items()}
    digest = hashlib.sha256(str(ds.attrs.get("config", "")).encode())
    for name, (dims, values) in arrays.items():
        cell = np.asarray(values[tuple(at.get(dim, slice(None)) for dim in dims)])
        digest.update(f"{name}:{cell.shape}:".encode())
        digest.update(_canonical_bytes(cell))
    return digest.hexdigest()


def _arrays(ds) -> dict:
    """Every data variable and coordinate as (dims, NumPy values), in the digest's order."""
    names = sorted(ds.data_vars) + sorted(ds.coords)
    return {name: (ds.variables[name].dims, ds.variables[name].values) for name in names}


def _entries(ds) -> list:
    return json.loads(ds.attrs.get(ATTR, "[]"))


def _label(where: dict) -> str:
    return ", ".join(f"{dim}={value}" for dim, value in where.items())


def seal_cell(ds, where: dict):
    """``ds`` with the digest of the cell ``where`` recorded (replacing an older one)."""
    where = {dim: value.item() if hasattr(value, "item") else value for dim, value in where.items()}
    entries = [entry for entry in _entries(ds) if entry[0] != where]
    entries.append([where, cell_digest(ds, where)])
    ds.attrs[ATTR] = json.dumps(entries, sort_keys=True)
    return ds


def check(ds, path, *, not_run: int) -> int:
    """Raise a one-line :class:`UsageError` unless every cell of ``ds`` matches its digest and
    everything outside the sealed cells is still not run; return the number of cells checked."""
    try:
        entries = _entries(ds)
        wheres = [dict(where) for where, _ in entries]
        digests = [str(digest) for _, digest in entries]
    except (json.JSONDecodeError, TypeError, ValueError):
        raise UsageError(f"{path} is corrupt: its checksums cannot be read") from None
    completed = json.loads(ds.attrs.get("completed_cells", "[]"))
    if len(completed) != len(entries):
        raise UsageError(
            f"{path} is corrupt: {len(completed)} finished cells but {len(entries)} checksums"
        )
    if "diverged_step" not in ds:
        raise UsageError(f"{path} is corrupt: it has no diverged_step")
    sealed = xr_zeros_like(ds["diverged_step"])
    arrays = _arrays(ds)
    for where, digest in zip(wheres, digests, strict=True):
        try:
            actual = cell_digest(ds, where, arrays)
            sealed.loc[{d: v for d, v in where.items() if d in sealed.dims}] = True
        except (KeyError, ValueError, IndexError, TypeError):
            raise UsageError(f"{path} is corrupt: it has no cell {_label(where)}") from None
        if actual != digest:
            raise UsageError(
                f"{path} is corrupt: the numbers of cell {_label(where)} do not match the "
                "checksum written with them; rerun that cell (or the sweep) with --overwrite"
            )
    unsealed = ~sealed.values
    for name in ds.data_vars:
        values = ds[name].values
        mask = np.broadcast_to(
            unsealed.reshape(unsealed.shape + (1,) * (values.ndim - unsealed.ndim)), values.shape
        )
        bad = mask & ((values != not_run) if name == "diverged_step" else ~np.isnan(values))
        if bad.any():
            raise UsageError(
                f"{path} is corrupt: {name} holds numbers outside its finished cells; rerun the "
                "sweep with --overwrite"
            )
    return len(entries)


def xr_zeros_like(array):
    """A boolean DataArray of ``array``'s dims and coordinates, all False."""
    import xarray as xr

    return xr.DataArray(
        np.zeros(array.shape, dtype=bool), dims=array.dims, coords={d: array[d] for d in array.dims}
    )


def finished_cells(ds) -> list[dict]:
    """The coordinates of every finished cell of ``ds`` (a width, rank or transfer sweep's)."""
    cells = json.loads(ds.attrs.get("completed_cells", "[]"))
    if "pair" in ds.dims:  # a rank sweep lists [s, r, init, n]
        from toymodels.sweeps._rank import pair_index

        return [
            {"multiplier": str(s), "pair": pair_index(ds, int(r), int(n)), "init": str(i)}
            for s, r, i, n in cells
        ]
    if "family" in ds.dims:  # a transfer sweep lists [family, init, n]
        return [{"family": str(f), "init": str(i), "width": int(n)} for f, i, n in cells]
    return [{"init": str(init), "width": int(width)} for init, width in cells]


def seal(ds, path, *, not_run: int):
    """``ds`` (a file written before checksums) with the digest of every finished cell as it is
    now, after checking that nothing outside them holds numbers."""
    if ATTR in ds.attrs:
        raise UsageError(f"{path} has checksums already")
    ds = ds.copy()
    ds.attrs[ATTR] = "[]"
    try:
        for where in finished_cells(ds):
            ds = seal_cell(ds, where)
    except (KeyError, ValueError, TypeError):
        raise UsageError(f"{path} is corrupt: its finished cells cannot be found") from None
    check(ds, path, not_run=not_run)
    return ds
