"""The machine's memory copy bandwidth, measured in the benchmark's own process.

Bandwidth counts read + write: copying ``b`` bytes moves ``2·b`` bytes. Three copies are timed on
an array far larger than any cache (best of ``repeats``, after a warm-up that faults the pages in):

- ``numpy_1thread``: ``np.copyto`` (memcpy) on one thread;
- ``numpy_threads``: the same split over one thread per core (``np.copyto`` releases the GIL), since
  one core alone cannot saturate the memory system;
- ``jax_jit``: a jitted copy into a donated destination buffer (``d.at[:].set(s)``), so XLA neither
  allocates nor faults in a fresh output each call.

The reference for "fraction of copy bandwidth" is the best of the three: the most the machine was
seen to move, which makes the fraction a conservative figure.

>>> result = copy_bandwidth(n_bytes=2**22, repeats=2)
>>> sorted(result) == sorted([*METHODS, "best", "best_method", "n_bytes"])
True
>>> result["best"] >= max(result[m] for m in METHODS) > 0
True
"""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np

METHODS = ("numpy_1thread", "numpy_threads", "jax_jit")


def _best_seconds(run, repeats: int) -> float:
    run()  # warm-up: first touch of the pages, compilation
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _numpy_copy(src: np.ndarray, dst: np.ndarray, threads: int, repeats: int) -> float:
    bounds = np.linspace(0, src.size, threads + 1).astype(int)
    chunks = [(src[lo:hi], dst[lo:hi]) for lo, hi in itertools.pairwise(bounds)]
    with ThreadPoolExecutor(threads) as pool:
        return _best_seconds(
            lambda: list(pool.map(lambda pair: np.copyto(pair[1], pair[0]), chunks)), repeats
        )


def _jax_copy(src: np.ndarray, repeats: int) -> float:
    copy = jax.jit(lambda dst, src: dst.at[:].set(src), donate_argnums=0)
    buffers = {"src": jax.device_put(src), "dst": jax.device_put(np.zeros_like(src))}

    def run():
        buffers["dst"] = copy(buffers["dst"], buffers["src"])
        buffers["dst"].block_until_ready()

    return _best_seconds(run, repeats)


def copy_bandwidth(*, n_bytes: int = 2**28, repeats: int = 5, threads: int | None = None) -> dict:
    """Copy bandwidth in GB/s (1e9 bytes/s, read + write) per method, and the best.

    Args:
      n_bytes: size of the copied array (default 256 MiB, far beyond the caches).
      repeats: timed copies per method; the fastest counts.
      threads: threads for ``numpy_threads`` (default: the number of usable cores).
    """
    threads = threads or len(os.sched_getaffinity(0))
    src = np.ones(n_bytes // 4, np.float32)
    dst = np.empty_like(src)
    seconds = {
        "numpy_1thread": _numpy_copy(src, dst, 1, repeats),
        "numpy_threads": _numpy_copy(src, dst, threads, repeats),
        "jax_jit": _jax_copy(src, repeats),
    }
    result: dict = {m: 2 * src.nbytes / seconds[m] / 1e9 for m in METHODS}
    best_method = max(METHODS, key=result.__getitem__)
    result.update(best=result[best_method], best_method=best_method, n_bytes=int(src.nbytes))
    return result
