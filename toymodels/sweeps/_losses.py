"""What a width sweep says: optimal learning rates, their uncertainty, the exponent of η*(n).

Conventions, shared by every function here:

- The loss of a run at step t is ``+inf`` when the run diverged at or before t (a diverged run is
  the worst possible outcome, never NaN in a summary). Cells that have not run yet are NaN and
  drop out.
- The optimum of a cell ``(init, width)`` minimises the mean over seeds of that loss, so a rate at
  which any seed diverges is never optimal.
- The uncertainty band of η* is the set of rates whose mean loss is within ``tolerance`` (1%) of the
  best, as the "+" marks of LoRA+ Figure 2.
- The largest rate that trains is the largest rate at which no seed diverged during the whole run.

>>> import numpy as np, xarray as xr
>>> loss = xr.DataArray([[[[3.0, 1.0, np.inf]]]], dims=("init", "width", "seed", "lr"))
>>> loss.argmin("lr").item()
1
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from toymodels.core import UsageError
from toymodels.sweeps._refine import FINE, stage_view
from toymodels.sweeps._store import NOT_DIVERGED, NOT_RUN


def _step_index(ds: xr.Dataset, step: int | None) -> int:
    last = int(ds.step[-1])
    if step is None:
        return last
    step = int(step)
    if step < 0:
        step += last + 1
    if not 0 <= step <= last:
        raise UsageError(f"step {step} is outside the recorded steps 0..{last}")
    return step


def loss_at(
    ds: xr.Dataset, metric: str = "train_loss", step: int | None = None, *, window: int = 1
) -> xr.DataArray:
    """Per-run loss ``[init, width, lr, seed]`` at ``step`` (default: the last), diverged → +inf.

    With ``window`` > 1, the mean loss over the steps ``step − window + 1 … step``: Adam at a large
    constant rate oscillates, and one step's loss would rank rates by the phase of the oscillation.
    A non-finite recorded loss counts as diverged too, so NaN only marks cells that have not run.
    """
    if metric not in ds:
        names = ", ".join(n for n in ds.data_vars if n != "diverged_step")
        raise UsageError(f"no metric {metric!r} in the results (available: {names})")
    t = _step_index(ds, step)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    first = max(0, t - window + 1)
    loss = ds[metric].sel(step=slice(first, t)).astype(np.float64).mean("step", skipna=False)
    div = ds["diverged_step"]
    not_run = div == NOT_RUN
    diverged = ((div != NOT_DIVERGED) & (div <= t) & ~not_run) | (~np.isfinite(loss) & ~not_run)
    return xr.where(not_run, np.nan, xr.where(diverged, np.inf, loss))


def mean_loss(
    ds: xr.Dataset, metric: str = "train_loss", step: int | None = None, *, window: int = 1
) -> xr.DataArray:
    """Mean over seeds of :func:`loss_at`, ``[init, width, lr]``; +inf when any seed diverged."""
    return loss_at(ds, metric, step, window=window).mean("seed", skipna=False)


def _rates(ds: xr.Dataset, like: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """``eta_A``, ``eta_B`` broadcast to the dims of ``like``."""
    eta_A = xr.DataArray(ds["eta_A"].values, dims=ds["eta_A"].dims)
    eta_B = xr.DataArray(ds["eta_B"].values, dims=ds["eta_B"].dims)
    return (
        eta_A.broadcast_like(like.drop_vars(like.coords)),
        eta_B.broadcast_like(like.drop_vars(like.coords)),
    )


def optimal_rates(
    ds: xr.Dataset,
    metric: str = "train_loss",
    step: int | None = None,
    *,
    window: int = 1,
    tolerance: float = 0.01,
    stage: str = FINE,
) -> xr.Dataset:
    """The optimum of every ``(init, width)`` cell (of a two-stage store, over its ``stage``:
    by default the fine window, see ``_refine.stage_view``).

    Returns a Dataset over ``(init, width)`` with

    - ``eta_A``, ``eta_B``: the optimal pair (NaN when every rate diverged or the cell has not run);
    - ``loss``: its mean loss (+inf when every rate diverged);
    - ``band_eta_A``, ``band_eta_B`` (extra dim ``bound`` = low, high): the range of rates whose
      mean loss is within ``tolerance`` of the best;
    - ``max_stable_eta_A``, ``max_stable_eta_B``: the pair with the largest η_A + η_B among those at
      which no seed diverged during the whole run (for equal rates: the largest rate that trains);
    - ``at_edge``: whether the optimum is the first or the last rate of the grid (then the grid does
      not bracket the optimum and η* is only a bound);
    - ``completed``: whether the cell has run.
    """
    ds = stage_view(ds, stage)
    # The result names its optimal rates eta_A, eta_B: the coordinates of the same name go.
    mean = mean_loss(ds, metric, step, window=window).drop_vars(["eta_A", "eta_B"])
    eta_A, eta_B = _rates(ds, mean)
    completed = ~mean.isnull().all("lr")
    finite = np.isfinite(mean)
    any_finite = finite.any("lr")
    best_index = mean.fillna(np.inf).argmin("lr")
    best = mean.isel(lr=best_index)
    ok = completed & any_finite
    within = finite & (mean <= best * (1 + tolerance)) & ok

    stable = (ds["diverged_step"] == NOT_DIVERGED).all("seed")
    stable = xr.DataArray(stable.values, dims=stable.dims) & ok
    size = (eta_A + eta_B).where(stable)
    has_stable = stable.any("lr")
    stable_index = size.fillna(-np.inf).argmax("lr")

    def pick(rates, index, valid):
        return rates.isel(lr=index).where(valid)

    bounds = xr.DataArray(["low", "high"], dims="bound")
    band = {
        name: xr.concat(
            [rates.where(within).min("lr"), rates.where(within).max("lr")], dim=bounds
        ).transpose(..., "bound")
        for name, rates in (("band_eta_A", eta_A), ("band_eta_B", eta_B))
    }
    n_rates = mean.sizes["lr"]
    result = xr.Dataset(
        {
            "eta_A": pick(eta_A, best_index, ok),
            "eta_B": pick(eta_B, best_index, ok),
            "loss": xr.where(completed, best.where(any_finite, np.inf), np.nan),
            **band,
            "n_within": within.sum("lr"),
            "max_stable_eta_A": pick(eta_A, stable_index, has_stable),
            "max_stable_eta_B": pick(eta_B, stable_index, has_stable),
            "at_edge": ok & ((best_index == 0) | (best_index == n_rates - 1)) & (n_rates > 1),
            "completed": completed,
        }
    )
    result = result.assign_coords(init=ds["init"].values, width=ds["width"].values)
    result.attrs.update(
        metric=metric, step=_step_index(ds, step), window=window, tolerance=tolerance
    )
    return result
