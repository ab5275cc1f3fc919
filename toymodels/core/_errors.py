"""The error type for bad user input.

The CLIs turn a :class:`UsageError` into one line on stderr and exit code 2, never a traceback.
Library code raises it for anything a user can get wrong (a width of 0, an empty learning-rate grid,
an unknown preset, a results file written by another configuration).
"""

from __future__ import annotations


class UsageError(ValueError):
    """Bad user input: reported as one line, exit code 2."""
