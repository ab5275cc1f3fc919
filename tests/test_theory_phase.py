"""Phase diagrams: exact regimes that partition the (γ[η_A], γ[η_B]) plane, and their drawing."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

from theory._phase import BOX, LORA_PLUS_POINT, phase_regimes

GRID = [Fraction(k, 4) for k in range(-8, 5)]


@pytest.mark.parametrize("model", ["adam", "gd-linear"])
@pytest.mark.parametrize("init", ["A", "B"])
def test_area_regimes_partition_the_plane(model, init):
    areas = [r for r in phase_regimes(model, init) if r.area]
    for x in GRID:
        for y in GRID:
            point = {"eta_A": x, "eta_B": y}
            owners = [r.label for r in areas if r.region.contains(point)]
            assert len(owners) == 1, (point, owners)


@pytest.mark.parametrize("init", ["A", "B"])
def test_lora_plus_point_is_efficient_and_equal_rates_meet_the_regimes_as_proved(init):
    regimes = {r.label: r.region for r in phase_regimes("adam", init)}
    x, y = LORA_PLUS_POINT
    assert regimes["efficient"].contains({"eta_A": x, "eta_B": y})
    # Init[A]'s equal-rate diagonal crosses the efficient line at -1/2 (Init Thm 1).
    crossing = {"eta_A": Fraction(-1, 2), "eta_B": Fraction(-1, 2)}
    assert regimes["efficient"].contains(crossing) == (init == "A")


def test_regime_polygons_are_exact_and_inside_the_box():
    x0, x1, y0, y1 = BOX
    for regime in phase_regimes("gd-linear", "A"):
        for verts in regime.region.polygons(BOX, ("eta_A", "eta_B")):
            for vx, vy in verts:
                assert type(vx) is Fraction and x0 <= vx <= x1 and y0 <= vy <= y1
    efficient = next(r for r in phase_regimes("gd-linear", "A") if r.label == "efficient")
    assert efficient.region.polygons(BOX, ("eta_A", "eta_B")) == [((Fraction(-1), Fraction(0)),)]


def test_phase_regimes_do_not_import_matplotlib():
    code = (
        "import sys; from theory._phase import phase_regimes; phase_regimes('adam', 'A');"
        "print('matplotlib' in sys.modules, 'jax' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
