"""Suite-wide settings: JAX on CPU with strict numerics, hypothesis profiles.

The root ``conftest.py`` imports this module so that the doctests inside ``theory/`` and
``toymodels/`` run under the same settings as ``tests/``.
"""

from __future__ import annotations

import os
import subprocess

# Must be set before JAX initialises a backend: no test may need a GPU. The device check
# (benchmarks/device_check.sh) sets LORA_TEST_PLATFORM=cuda to run a subset on a GPU.
os.environ.setdefault("JAX_PLATFORMS", os.environ.get("LORA_TEST_PLATFORM", "cpu"))

import jax
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_platforms", os.environ.get("LORA_TEST_PLATFORM", "cpu"))
# Implicit rank promotion hides shape bugs (an [N] array silently broadcast against [N, 1]).
jax.config.update("jax_numpy_rank_promotion", "raise")
# Results are float32 by design; x64 stays off so tests see what users run.
jax.config.update("jax_enable_x64", False)

# CI runs every algebraic law on at least 1000 examples; locally a faster profile.
settings.register_profile(
    "ci",
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _reap_subprocesses(monkeypatch):
    """No subprocess outlives the test that started it: whatever a test leaves running (a failed
    assertion before its own clean-up, a timeout) is killed and waited for here."""
    from tests._processes import reap

    started: list[subprocess.Popen] = []
    original = subprocess.Popen.__init__

    def recording_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(subprocess.Popen, "__init__", recording_init)
    yield
    for proc in started:
        reap(proc)
