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
