"""Root conftest: applies the suite's strict settings to the package doctests too."""

from tests.conftest import *  # noqa: F403
