"""Every module imports only what docs/architecture.md's module map allows; the map names them all.

The map is read from the document itself (the table under "Module map"), so the page and the rules
cannot drift apart: a row ``| wing | `a.py`, `b.py` | what it owns | may import |`` lets the modules
it names import their own wing and the wings listed (``every wing``; ``every wing but cli``).
``theory`` never imports ``toymodels`` or JAX; nothing but the entry points imports the CLI. Imports
are read with ``ast``, inside functions too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "architecture.md"
#: The entry points, which may import the CLI (pyproject's script is `toymodels.cli:main`).
ENTRY_POINTS = {"toymodels/cli/__init__.py"}


def _read_map(text: str) -> dict[str, tuple[str, set[str] | None]]:
    r"""``{module path: (wing, the other wings it may import)}`` from the map's table rows.

    ``None`` stands for "every wing" (resolved once all wings are known).

    >>> rows = "| wing | module | owns | may import |\n| core | `_a.py`, `k/_b.py` | x | theory |\n"
    >>> sorted(_read_map(rows).items())
    [('toymodels/core/_a.py', ('core', set())), ('toymodels/core/k/_b.py', ('core', set()))]
    """
    modules: dict[str, tuple[str, set[str] | None]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("wing", "") or set(cells[0]) <= set("- "):
            continue
        wing, names, _, may = cells
        wing = "toymodels" if wing == "(top)" else wing
        if may.startswith("every wing"):
            allowed = None if may == "every wing" else {"-cli"}
        else:
            allowed = {w.strip() for w in may.split(",")} - {"theory"}
        folder = "toymodels" if wing == "toymodels" else f"toymodels/{wing}"
        for name in re.findall(r"`([\w/]+\.py)`", names):
            modules[f"{folder}/{name}"] = (wing, allowed)
    return modules


def _resolve(modules):
    wings = {wing for wing, _ in modules.values()} - {"toymodels"}
    out = {}
    for path, (wing, allowed) in modules.items():
        if allowed is None:
            allowed = set(wings)
        elif "-cli" in allowed:
            allowed = wings - {"cli"}
        out[path] = (wing, allowed)
    return out


MODULE_MAP = _resolve(_read_map(MAP.read_text().split("### Module map", 1)[1].split("\n## ", 1)[0]))
WINGS = {wing for wing, _ in MODULE_MAP.values()} - {"toymodels"}


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
    if parts[0] != "toymodels" or len(parts) < 2 or parts[1] not in WINGS | {"cli"}:
        return None
    return parts[1]


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


TOYMODELS = _modules("toymodels")
THEORY = _modules("theory")


@pytest.mark.parametrize("path", TOYMODELS, ids=_ids(TOYMODELS))
def test_each_module_is_in_the_map_under_its_own_wing(path):
    rel = str(path.relative_to(ROOT))
    assert rel in MODULE_MAP, f"{rel} is missing from docs/architecture.md's module map"
    assert MODULE_MAP[rel][0] == _wing(path), f"{rel} is listed under wing {MODULE_MAP[rel][0]}"


@pytest.mark.parametrize("path", TOYMODELS, ids=_ids(TOYMODELS))
def test_each_module_imports_only_the_wings_the_map_allows(path):
    own = _wing(path)
    allowed = MODULE_MAP.get(str(path.relative_to(ROOT)), (own, set()))[1] | {own}
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


def test_the_map_names_only_modules_that_exist():
    missing = sorted(p for p in MODULE_MAP if not (ROOT / p).is_file())
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


def test_the_rules_can_fail(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from toymodels.cli import main\n    import jax\n")
    assert "toymodels.cli" in _imports(module)
    assert _toymodels_wing("toymodels.cli.main") == "cli"
    assert "jax" in _imports(module)
