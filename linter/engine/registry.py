"""Rule discovery: every module in ``klint.rules`` that defines a Rule subclass.

Adding a rule means adding a file; nothing else needs editing.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from klint.engine.rule import Rule


class RegistryError(Exception):
    pass


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    import klint.rules as pkg

    found: dict[str, type[Rule]] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == mod.__name__:
                if not obj.code or not obj.name:
                    raise RegistryError(f"{mod.__name__}.{obj.__name__} lacks a code or a name")
                if obj.code in found:
                    raise RegistryError(f"rule code {obj.code} is defined twice")
                found[obj.code] = obj
    return tuple(found[c] for c in sorted(found))


def rule_by_code(code_or_name: str) -> type[Rule] | None:
    for r in all_rules():
        if r.code.upper() == code_or_name.upper() or r.name == code_or_name:
            return r
    return None
