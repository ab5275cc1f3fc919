"""``theory.testing``: its strategies and laws on the built-in models and on drawn specs, and the
worked example of docs/property-testing.md, executed."""

from __future__ import annotations

import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import theory
from theory import EXAMPLE_DIR, load_model, model_from_spec
from theory.testing import (
    affine_exprs,
    exponents,
    inits,
    law_rank_zero_ignores_the_multiplier,
    law_regions_agree_with_points,
    law_semiring,
    law_steady_state_is_the_limit,
    model_specs,
    rank_settings,
    rates,
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "property-testing.md"
BUILT_INS = ["adam", "gd-linear", load_model(EXAMPLE_DIR / "sgd-momentum.toml")]


def test_import_theory_does_not_import_hypothesis():
    code = "import sys, theory; print('hypothesis' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "False"


@settings(max_examples=60, deadline=None)
@given(a=affine_exprs(), b=affine_exprs(), c=affine_exprs(), point=rates("adam"))
def test_law_semiring_holds(a, b, c, point):
    law_semiring(a, b, c, point)


@settings(max_examples=60, deadline=None)
@given(model=st.sampled_from(BUILT_INS), data=st.data())
def test_laws_hold_for_the_shipped_models(model, data):
    init = data.draw(inits(model))
    drawn = data.draw(rates(model))
    law_regions_agree_with_points(model, init, drawn)
    law_steady_state_is_the_limit(model, init, drawn, horizon=12)
    law_rank_zero_ignores_the_multiplier(model, init, drawn, data.draw(rank_settings())[1])


@settings(max_examples=40, deadline=None)
@given(spec=model_specs(), data=st.data())
def test_laws_hold_for_drawn_specs(spec, data):
    model = model_from_spec(spec)
    init = data.draw(inits(model))
    drawn = data.draw(rates(model))
    law_regions_agree_with_points(model, init, drawn)
    law_steady_state_is_the_limit(model, init, drawn, horizon=24)
    law_rank_zero_ignores_the_multiplier(model, init, drawn, data.draw(rank_settings())[1])


@given(e=exponents(), f=exponents(finite=True))
def test_exponents_are_exact(e, f):
    assert e is theory.NEG_INF or isinstance(e, Fraction)
    assert f is not theory.NEG_INF


def test_the_documented_example_runs_and_passes(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    toml = re.search(r"```toml\n(.*?)```", text, re.DOTALL).group(1)
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)
    (tmp_path / "sgd-rank.toml").write_text(toml, encoding="utf-8")
    (tmp_path / "test_sgd_rank.py").write_text(code, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_sgd_rank.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard only
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
