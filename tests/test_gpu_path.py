"""The GPU path, checked on CPU: the training call as XLA compiles it for CUDA, and chunking that
uses the device's memory.

No GPU is needed: JAX lowers for another platform without its device. On a GPU one compiled
training call must be one loop over the steps with nothing else looping inside a step (no row
blocks, which serve the CPU's caches only) and no host callback (no per-step host round trip).
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import pytest

from toymodels.core import _train as train
from toymodels.core._models import LayerFeatures, Lora
from toymodels.sweeps import _run
from toymodels.sweeps._config import SweepConfig

SEEDS, RATES, N, N_TEST, WIDTH, RANK = 2, 3, 1000, 100, 1024, 4


def _lowered(model: str, platform: str) -> str:
    """StableHLO of ``train._train_layer_chunk`` for the sweep's layout (seeds × rates)."""
    config = train.TrainConfig(model=model, width=WIDTH, init="A", steps=5, record=False)
    f32 = lambda *shape: jax.ShapeDtypeStruct(shape, jnp.float32)  # noqa: E731
    hidden = model == "teacher-student"

    def features(points):
        H = f32(SEEDS, points, WIDTH) if hidden else None
        return LayerFeatures(z=f32(SEEDS, points, WIDTH), H=H, W_out=f32(SEEDS, WIDTH))

    traced = train._train_layer_chunk.trace(
        train._StepConfig.of(config),
        features(N),
        features(N_TEST),
        f32(N),
        f32(N_TEST),
        Lora(A=f32(SEEDS, RANK, WIDTH), B=f32(SEEDS, WIDTH, RANK)),
        f32(RATES),
        f32(RATES),
    )
    return traced.lower(lowering_platforms=(platform,)).as_text()


@pytest.mark.parametrize("model", ["teacher-student", "lora-mlp"])
def test_gpu_training_call_is_one_loop_over_steps_without_host_callbacks(model):
    text = _lowered(model, "cuda")
    assert text.count("stablehlo.while") == 1
    assert "callback" not in text


def test_cpu_keeps_its_cache_sized_row_blocks_where_the_kernel_does_not_apply():
    """lora-mlp (no H) takes the XLA path on CPU: at n = 1024, 4 blocks of 250 rows, a loop for
    the forward and one for the backward inside the loop over steps."""
    text = _lowered("lora-mlp", "cpu")
    assert text.count("stablehlo.while") == 3
    assert not re.search(r"custom_call @\w*callback", text)


class _Device:
    def __init__(self, stats):
        self._stats = stats

    def memory_stats(self):
        return self._stats


@pytest.mark.parametrize(
    ("stats", "runs"),
    [(None, 8), ({"bytes_limit": 100 * 2**30}, None), ({"bytes_limit": 2**30}, 8)],
    ids=["cpu-no-stats", "h200-sized-gpu", "small-gpu-keeps-the-floor"],
)
def test_sweep_chunks_use_half_the_device_memory_where_jax_reports_it(stats, runs, monkeypatch):
    """Figure 2's paper cell at n = 2^13: 16 runs of ~0.5 GB each; 4 GiB fits 8 per call."""
    config = SweepConfig.equal_rates(
        experiment="figure2",
        model="teacher-student",
        inits=("A", "B"),
        widths=(2**13,),
        rates=[2.0**-k for k in range(7, -1, -1)],  # increasing, as every equal-rate grid
        seeds=(0, 1),
        train={"steps": 150, "record": False},
    )
    monkeypatch.setattr(jax, "local_devices", lambda *args, **kwargs: [_Device(stats)])
    assert _run.runs_per_call(config, 2**13) == runs
