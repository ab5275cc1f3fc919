"""Every module imports only what docs/architecture.md's module map allows.

The map's rules, as data: a module of wing W may import the ``toymodels`` wings in ``MAY_IMPORT[W]``
(its own always); ``theory`` never imports ``toymodels`` or JAX; nothing but the entry points
imports the CLI. Imports are read with ``ast``, inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: wing → the other toymodels wings its modules may import (docs/architecture.md, "Module map").
MAY_IMPORT = {
    "core": set(),
    "sweeps": {"core"},
    "gamma": {"core"},
    "reproduce": {"core", "sweeps", "gamma"},
    "cli": {"core", "sweeps", "gamma", "reproduce"},
    "toymodels": {"core", "sweeps", "gamma", "reproduce"},  # __init__.py and demo.py
}
#: The entry points, which may import the CLI (pyproject's script is `toymodels.cli:main`).
ENTRY_POINTS = {"toymodels/cli/__init__.py"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> list[str]:
    """Every module name imported anywhere in ``path`` (``from a import b``: a and a.b)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _wing(path: Path) -> str:
    parts = path.relative_to(ROOT / "toymodels").parts
    return parts[0] if len(parts) > 1 else "toymodels"


def _toymodels_wing(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "toymodels" or len(parts) < 2 or parts[1] not in MAY_IMPORT:
        return None
    return parts[1]


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


TOYMODELS = _modules("toymodels")
THEORY = _modules("theory")


@pytest.mark.parametrize("path", TOYMODELS, ids=_ids(TOYMODELS))
def test_each_wing_imports_only_the_wings_the_map_allows(path):
    own = _wing(path)
    allowed = MAY_IMPORT[own] | {own}
    wrong = sorted(
        {
            name
            for name in _imports(path)
            if (wing := _toymodels_wing(name)) is not None and wing not in allowed
        }
    )
    assert not wrong, f"{own} may import {sorted(allowed)}, not {wrong}"


@pytest.mark.parametrize("path", TOYMODELS, ids=_ids(TOYMODELS))
def test_nothing_but_the_entry_points_imports_the_cli(path):
    if _wing(path) == "cli" or str(path.relative_to(ROOT)) in ENTRY_POINTS:
        return
    assert not [n for n in _imports(path) if _toymodels_wing(n) == "cli"]


@pytest.mark.parametrize("path", THEORY, ids=_ids(THEORY))
def test_theory_never_imports_toymodels_or_jax(path):
    wrong = [n for n in _imports(path) if n.split(".")[0] in ("toymodels", "jax", "jaxlib")]
    assert not wrong, f"theory imports {wrong}"


def test_the_rules_can_fail(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from toymodels.cli import main\n    import jax\n")
    assert "toymodels.cli" in _imports(module)
    assert _toymodels_wing("toymodels.cli.main") == "cli"
    assert "jax" in _imports(module)
