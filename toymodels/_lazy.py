"""Lazy re-exports for the package ``__init__`` modules (PEP 562).

A package lists its public names and the private module each comes from; a name's module is
imported on first access, so ``lora-sweep --help`` and argument errors never import JAX, and a
package that only checks claims never imports matplotlib. A submodule is reachable as an attribute
(``toymodels.sweeps._store``), as with eager imports.

>>> import types, sys
>>> package = types.ModuleType("lazy_demo")
>>> sys.modules["lazy_demo"] = package
>>> package.__getattr__, package.__dir__ = exports("lazy_demo", {"sqrt": "math"})
>>> package.sqrt(4.0), "sqrt" in dir(package)
(2.0, True)
>>> getattr(package, "__file__", None) is None  # a dunder it lacks: no import, no recursion
True
>>> del sys.modules["lazy_demo"]
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def exports(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, re-exporting each of ``names`` (name → the
    module that defines it), imported on first access and then kept as a plain attribute."""

    def __getattr__(name: str):
        if name.startswith("__"):
            # A dunder the module lacks (``__file__`` of a module made in memory, ``__path__`` of
            # a plain module) is never a submodule: importing ``package.__path__`` would ask for
            # the parent's ``__path__`` again, without end.
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace = sys.modules[package].__dict__
        module = names.get(name)
        if module is None:  # a submodule (`import toymodels; toymodels.sweeps`)
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as error:
                if error.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(sys.modules[package].__dict__) | set(names))

    return __getattr__, __dir__
