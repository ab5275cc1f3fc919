"""The numba kernels of `toymodels.core.kernels._cpukernel` against float64 numpy, every layout.

Rows are processed four at a time with a one-row remainder per thread chunk, runs share H by
group; the sizes below cover chunks with only remainders, only quads, and both.
"""

from __future__ import annotations

import numpy as np
import pytest

from toymodels.core.kernels import RANK, _cpukernel


def _problem(n_rows, width=37, groups=2, runs_per_group=3, seed=0):
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((groups, n_rows, width), dtype=np.float32)
    W_out = rng.standard_normal((groups, width), dtype=np.float32)
    group = np.repeat(np.arange(groups), runs_per_group)
    Z_A = rng.standard_normal((group.size, n_rows, RANK), dtype=np.float32)
    B_t = rng.standard_normal((group.size, RANK, width), dtype=np.float32)
    d_f = rng.standard_normal((group.size, n_rows), dtype=np.float32)
    return H, W_out, group, Z_A, B_t, d_f


def _reference(H, W_out, group, Z_A, B_t, d_f):
    H, W_out, Z_A, B_t, d_f = (x.astype(np.float64) for x in (H, W_out, Z_A, B_t, d_f))
    pre = H[group] + Z_A @ B_t
    f = np.einsum("rin,rn->ri", np.maximum(pre, 0), W_out[group])
    d_pre = np.where(pre > 0, d_f[..., None] * W_out[group][:, None, :], 0.0)
    return f, d_pre @ np.swapaxes(B_t, 1, 2), np.swapaxes(Z_A, 1, 2) @ d_pre


@pytest.mark.parametrize("n_rows", [1, 5, 13, 24, 41], ids=lambda n: f"N={n}")
def test_forward_and_backward_equal_float64_numpy(n_rows):
    H, W_out, group, Z_A, B_t, d_f = _problem(n_rows)
    f_want, d_Z_A_want, d_B_t_want = _reference(H, W_out, group, Z_A, B_t, d_f)
    f = _cpukernel.forward(H, W_out, group, Z_A, B_t)
    d_Z_A, d_B_t = _cpukernel.backward(H, W_out, group, Z_A, B_t, d_f)
    for got, want in ((f, f_want), (d_Z_A, d_Z_A_want), (d_B_t, d_B_t_want)):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_runs_of_one_group_read_their_own_H():
    """Changing one group's H changes exactly that group's runs."""
    H, W_out, group, Z_A, B_t, _ = _problem(9)
    before = _cpukernel.forward(H, W_out, group, Z_A, B_t)
    H[1] += 1.0
    after = _cpukernel.forward(H, W_out, group, Z_A, B_t)
    np.testing.assert_array_equal(before[group == 0], after[group == 0])
    assert np.all(before[group == 1] != after[group == 1])
