"""The Figure-2 workload of the initialization paper, for the project and for the baseline.

Teacher-student model (Init eq. 4), AdamW (β1 = 0.9, β2 = 0.99), N = 1000 training points, rank 4,
a grid of equal learning rates η_A = η_B × seeds, at one width. :class:`Workload` names one such
grid; :func:`project_config` turns it into the project's ``TrainConfig``; :func:`baseline_problem`
builds the *same* initial arrays for the baseline (the project's data, frozen weights and LoRA init
for a seed), so both do identical work and their per-step losses can be compared
(:func:`baseline_losses`).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np

from benchmarks import _baseline, _flops
from toymodels import TrainConfig
from toymodels.core import _data, _models


@dataclasses.dataclass(frozen=True)
class Workload:
    """The Figure-2 sweep at one width: for each init, ``n_rates`` equal rates × ``n_seeds`` seeds.

    The sweep trains the two cells of a width (Init[A], Init[B]) one after the other; they share
    the seeds' frozen features, so the pair is the unit whose cost the benchmark reports.

    >>> Workload(width=1024, n_rates=8, n_seeds=2, steps=20).run_steps
    640
    >>> Workload(width=1024, n_rates=8, n_seeds=2, steps=20, inits=("A",)).run_steps
    320
    """

    width: int
    n_rates: int
    n_seeds: int
    steps: int
    inits: tuple[str, ...] = ("A", "B")
    rank: int = 4
    record: bool = True

    @property
    def etas(self) -> np.ndarray:
        """Equal rates η_A = η_B, log-spaced around Init[A]'s optimum ≈ n^(-1/2) (all stable)."""
        centre = self.width**-0.5
        return np.geomspace(centre / 30, centre / 3, self.n_rates)

    @property
    def seeds(self) -> np.ndarray:
        return np.arange(self.n_seeds)

    @property
    def run_steps(self) -> int:
        """Optimizer updates over the whole workload: inits × L × S × T."""
        return len(self.inits) * self.n_rates * self.n_seeds * self.steps


def project_config(workload: Workload, init: str | None = None) -> TrainConfig:
    """The project's ``TrainConfig`` of the workload's cell ``init`` (default: its first); paper
    defaults: N = 1000, AdamW, no decay."""
    return TrainConfig(
        model="teacher-student",
        width=workload.width,
        init=workload.inits[0] if init is None else init,
        rank=workload.rank,
        optimizer="adamw",
        steps=workload.steps,
        record=workload.record,
    )


def essential_flops(workload: Workload) -> dict:
    """The essential FLOPs of the workload (``benchmarks._flops``): per run-step, per seed's
    setup, and for a whole pass over the width's cells (the setup once per seed: the inits share
    it, as in the sweep).

    >>> flops = essential_flops(Workload(width=1024, n_rates=8, n_seeds=2, steps=150))
    >>> flops["whole_call"] == 4800 * flops["per_run_step"] + 2 * flops["setup_per_seed"]
    True
    """
    config = project_config(workload)
    per_step = _flops.layer_flops_per_run_step(
        n_train=config.n_train, n_test=config.n_test, width=workload.width, rank=workload.rank
    )
    setup = _flops.setup_flops_per_seed(
        n_train=config.n_train,
        n_test=config.n_test,
        width=workload.width,
        input_dim=_data.INPUT_DIM,
    )
    return {
        "per_run_step": per_step,
        "setup_per_seed": setup,
        "whole_call": per_step * workload.run_steps + setup * workload.n_seeds,
    }


def baseline_problem(config: TrainConfig, seed: int):
    """``(frozen, lora0, x, y)`` of run ``seed``: the arrays ``toymodels.core._train`` starts from.

    The project keys its frozen weights and LoRA init by the run seed and its data by
    ``config.data_seed``; this repeats that recipe with the project's own generators, so the
    baseline trains the very same problem (``tests/test_benchmarks_smoke.py`` checks the losses
    agree).
    """
    data = _data.teacher_student_data(
        config.data_seed, n_train=config.n_train, n_test=config.n_test
    )
    k_frozen, k_lora = jax.random.split(_data.run_key(seed))
    student = _models.init_student(k_frozen, width=config.width, input_dim=data.x_train.shape[1])
    lora = _models.init_lora(
        k_lora,
        width=config.width,
        rank=config.rank,
        init=config.init,
        B_std=1 / math.sqrt(config.rank),
    )
    frozen = _baseline.Frozen(W_in=student.W_in, W_h=student.W_h, W_out=student.W_out)
    return frozen, {"A": lora.A, "B": lora.B}, data.x_train, data.y_train


def baseline_losses(config: TrainConfig, etas, seeds) -> np.ndarray:
    """The baseline's train loss ``[L, S, T + 1]``: one run at a time, a Python loop over both."""
    losses = np.empty((len(etas), len(seeds), config.steps + 1), np.float32)
    for j, seed in enumerate(seeds):
        frozen, lora0, x, y = baseline_problem(config, int(seed))
        for i, eta in enumerate(etas):
            losses[i, j] = _baseline.train_one_run(
                frozen,
                lora0,
                x,
                y,
                eta=float(eta),
                steps=config.steps,
                weight_decay=config.weight_decay,
                b1=config.b1,
                b2=config.b2,
                eps=config.eps,
            )
    return losses
