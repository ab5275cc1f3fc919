"""Importing the package never switches matplotlib's backend (a notebook's inline one must stay)."""

import subprocess
import sys


def test_importing_the_figure_modules_keeps_the_callers_backend():
    code = (
        "import matplotlib; matplotlib.use('svg'); "
        "import toymodels.reproduce, toymodels.gamma._plot; "
        "print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"


def test_the_package_imports_without_matplotlib_until_a_figure_is_drawn():
    """The GPU check's machine may lack matplotlib: importing, sweeping and checking claims must
    not need it; drawing a figure loads it."""
    code = (
        "import sys, toymodels, toymodels.reproduce, toymodels.gamma, toymodels.sweeps; "
        "from toymodels.reproduce import check_claims, claims_table; "
        "before = any(m == 'matplotlib' or m.startswith('matplotlib.') for m in sys.modules); "
        "from toymodels.reproduce import make_figures; "
        "print(before, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.split() == ["False", "True"]
