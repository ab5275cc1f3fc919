"""Several devices: a cell's runs split across them give exactly the single-device numbers."""

import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

SCRIPT = textwrap.dedent(
    """
    import jax
    import numpy as np

    from toymodels.sweeps._devices import train_on_devices
    from toymodels.core._train import TrainConfig, train_grid

    assert len(jax.devices()) == 4, jax.devices()
    eta = np.geomspace(1e-3, 1e-1, 5)  # 5 rates on 4 devices: padded to 8
    for model in ("linear",):
        config = TrainConfig(model=model, width=8, init="A", rank=2, steps=3, record=False)
        sharded = train_on_devices(train_grid, config, eta, 2 * eta, [0, 1])
        single = train_on_devices(train_grid, config, eta, 2 * eta, [0, 1],
                                  devices=jax.devices()[:1])
        assert sharded.diverged_step.shape == (5, 2)
        np.testing.assert_array_equal(sharded.diverged_step, single.diverged_step)
        for name, values in single.metrics.items():
            assert sharded.metrics[name].shape == values.shape == (5, 2, 4), name
            # Equal up to float32 rounding: XLA vectorizes a batch of 2 runs and one of 5
            # differently, so a sum may round differently in its last bit.
            np.testing.assert_allclose(sharded.metrics[name], values, rtol=1e-6, atol=1e-7,
                                       err_msg=name)
    print("sharded == single")
    """
)


@pytest.mark.slow
def test_runs_split_across_four_devices_equal_the_single_device_run():
    env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sharded == single" in done.stdout


def test_one_device_is_a_plain_call():
    import numpy as np

    from toymodels.sweeps._devices import train_on_devices

    calls = []

    def trainer(config, eta_A, eta_B, seeds):
        calls.append((eta_A.tolist(), eta_B.tolist(), seeds.tolist()))
        return SimpleNamespace(
            metrics={"train_loss": np.zeros((3, 1, 2))}, diverged_step=np.full((3, 1), -1)
        )

    import jax

    result = train_on_devices(
        trainer, None, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7], devices=jax.devices()[:1]
    )
    assert calls == [([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7])]
    assert result.metrics["train_loss"].shape == (3, 1, 2)
