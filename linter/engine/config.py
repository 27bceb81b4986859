"""Configuration: ``[tool.klint]`` in the nearest ``pyproject.toml`` (or ``--config``).

Every key is checked: an unknown key or a bad value is a :class:`ConfigError`
naming the file and the key, and the CLI exits with 2.
"""
from __future__ import annotations

import fnmatch
import math
import os
import posixpath
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10
    import tomli as tomllib

from klint.engine.registry import all_rules
from klint.engine.target import Target, TargetError, parse_target

DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
    ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", ".vscode",
    "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
    "__pycache__", ".klint_cache",
)


class ConfigError(Exception):
    pass


@dataclass
class Config:
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    extend_include: list[str] = field(default_factory=list)  # files a folder scan checks besides *.py, *.ipynb
    fix: bool = False
    unsafe_fixes: bool = False
    rule_options: dict[str, dict] = field(default_factory=dict)
    graph: bool = False
    python: str | None = None
    timeout: float | None = None
    model_factories: list[str] = field(default_factory=list)
    graph_data: str = "synthetic"
    target: Target = field(default_factory=Target)

    # ------------------------------------------------------------ selection

    def selected_rules(self, select: list[str] | None = None, extend_select: list[str] | None = None,
                       ignore: list[str] | None = None) -> list:
        rules = all_rules()
        chosen = select if select is not None else self.select
        if chosen is None:
            active = [r for r in rules if r.default_enabled]
        else:
            active = [r for r in rules if _matches(r, chosen)]
        extra = list(self.extend_select) + list(extend_select or [])
        active += [r for r in rules if r not in active and _matches(r, extra)]
        ignored = list(self.ignore) + list(ignore or [])
        active = [r for r in active if not _matches(r, ignored)]
        return sorted(active, key=lambda r: r.code)

    def ignored_for(self, path: Path) -> list[str]:
        rel, absolute = _relative(path, self.root), _absolute(path)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores.items():
            if _glob_match(absolute if _is_anchored(pattern) else rel, pattern):
                out += codes
        return out

    def is_included(self, path: Path) -> bool:
        """Whether a folder scan checks this file: Python files, notebooks, saved models, and
        ``extend-include``."""
        if path.name.endswith((".py", ".ipynb", ".keras")):
            return True
        rel, absolute = _relative(path, self.root), _absolute(path)
        for pattern in self.extend_include:
            if _is_anchored(pattern):
                if _glob_match(absolute, pattern):
                    return True
            elif _glob_match(rel, pattern) or fnmatch.fnmatch(path.name, pattern):
                return True
        return False

    def is_excluded(self, path: Path, explicit: bool = False) -> bool:
        rel, absolute = _relative(path, self.root), _absolute(path)
        parts = Path(rel).parts
        if not explicit and any(p in DEFAULT_EXCLUDE for p in parts[:-1] or ()):
            return True
        for pattern in (*self.exclude, *self.extend_exclude):
            if _is_anchored(pattern):
                if _glob_match(absolute, pattern):
                    return True
            elif _glob_match(rel, pattern) or any(fnmatch.fnmatch(p, pattern) for p in parts):
                return True
        return False


def _matches(rule, selectors: list[str]) -> bool:
    for s in selectors:
        s = s.strip()
        if not s:
            continue
        if s.upper() == "ALL" or rule.code.upper().startswith(s.upper()) or rule.name == s:
            return True
    return False


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _absolute(path: Path) -> str:
    return Path(os.path.abspath(path)).as_posix()


def _is_anchored(pattern: str) -> bool:
    """Whether a (normalized, see :func:`_pattern`) pattern is matched against absolute paths."""
    return os.path.isabs(pattern)


def _glob_match(rel: str, pattern: str) -> bool:
    if pattern.startswith("**/") and _glob_match(rel, pattern[3:]):
        return True  # as in ruff, `**/` also matches no folder at all
    if fnmatch.fnmatch(rel, pattern):
        return True
    if "/" not in pattern and fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern):
        return True
    return pattern.endswith("/") and rel.startswith(pattern)


def validate_selectors(values: list[str], where: str, given: str | None = None) -> None:
    """Raise ConfigError for a selector that selects no rule; ``given`` is the text the values came from.

    An empty selector is one too, as in ruff ("Unknown rule selector ``"):
    ``--select ''`` or ``--select KL101,`` from a script that builds the list,
    or ``select = [""]``, would otherwise select nothing, or less than meant,
    and every run would pass.
    """
    codes = {r.code.upper() for r in all_rules()}
    names = {r.name for r in all_rules()}
    for v in values:
        if not v.strip():
            raise ConfigError(f"{where}: empty rule selector in {values if given is None else given!r}")
        u = v.strip().upper()
        if u == "ALL" or v in names or any(c.startswith(u) for c in codes) and u.startswith("KL"):
            continue
        raise ConfigError(f"{where}: unknown rule selector {v!r}")


def find_config(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.klint]`` table, looking upwards from ``start``."""
    start = Path(os.path.abspath(start))
    if start.is_file():
        start = start.parent
    for d in (start, *start.parents):
        p = d / "pyproject.toml"
        if p.is_file():
            try:
                data = tomllib.loads(p.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                raise ConfigError(f"{p}: cannot read: {e}") from e
            if "klint" in data.get("tool", {}):
                return p
    return None


_KEYS = {
    "select", "extend-select", "ignore", "per-file-ignores", "exclude", "extend-exclude", "extend-include", "fix",
    "unsafe-fixes", "rules", "target-version",
}
#: The model view's data modes: stand-ins for missing data and display packages, or the script's own only.
GRAPH_DATA_MODES = ("synthetic", "real")
#: Keys of the model view.
_RESERVED = {"graph", "python", "timeout", "model-factories", "graph-data"}


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("klint", {})
        prefix = "tool.klint"
    else:
        table = data.get("tool", {}).get("klint", data)
        prefix = "tool.klint" if "tool" in data else ""
    cfg = Config(root=path.parent.resolve(), source=path)
    where = f"{path}"

    def key(k: str) -> str:
        return f"{prefix}.{k}" if prefix else k

    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [{prefix}] must be a table")
    for k, v in table.items():
        if k not in _KEYS and k not in _RESERVED:
            raise ConfigError(f"{where}: unknown key '{key(k)}'")
        if k in ("select", "extend-select", "ignore", "exclude", "extend-exclude", "extend-include"):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ConfigError(f"{where}: '{key(k)}' must be a list of strings")
            if k in ("select", "extend-select", "ignore"):
                validate_selectors(v, f"{where}: '{key(k)}'")
                setattr(cfg, k.replace("-", "_"), list(v))
            else:
                setattr(cfg, k.replace("-", "_"), [_pattern(x, cfg.root, where, key(k)) for x in v])
        elif k in ("fix", "unsafe-fixes"):
            if not isinstance(v, bool):
                raise ConfigError(f"{where}: '{key(k)}' must be true or false")
            setattr(cfg, k.replace("-", "_"), v)
        elif k == "per-file-ignores":
            if not isinstance(v, dict) or not all(
                    isinstance(codes, list) and all(isinstance(c, str) for c in codes) for codes in v.values()):
                raise ConfigError(f"{where}: '{key(k)}' must map glob patterns to lists of codes")
            for pattern, codes in v.items():
                name = f"{key(k)}.\"{pattern}\""
                validate_selectors(codes, f"{where}: '{name}'")
                cfg.per_file_ignores.setdefault(_pattern(pattern, cfg.root, where, name), []).extend(codes)
        elif k == "rules":
            cfg.rule_options = _rule_options(v, where, key("rules"))
        elif k == "target-version":
            try:
                cfg.target = parse_target(v, key(k))
            except TargetError as e:
                raise ConfigError(f"{where}: {e}") from None
        elif k in _RESERVED:
            _check_reserved(k, v, where, key(k))
            setattr(cfg, k.replace("-", "_"), list(v) if isinstance(v, list) else v)
    return cfg


def _check_reserved(k: str, v: Any, where: str, name: str) -> None:
    ok = {
        "graph": isinstance(v, bool),
        "python": isinstance(v, str),
        # TOML has nan and inf: nan > 0 is false, but inf would wait for a hanging script forever
        "timeout": isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0,
        "model-factories": isinstance(v, list) and all(isinstance(x, str) and ":" in x for x in v),
        "graph-data": v in GRAPH_DATA_MODES,
    }[k]
    if not ok:
        expected = {"graph": "true or false", "python": "a path", "timeout": "a positive finite number of seconds",
                    "model-factories": "a list of 'module:function' strings",
                    "graph-data": " or ".join(f"'{m}'" for m in GRAPH_DATA_MODES)}[k]
        raise ConfigError(f"{where}: bad value for '{name}': {v!r} (expected {expected})")


def _pattern(pattern: str, root: Path, where: str, name: str) -> str:
    """A glob of ``exclude``, ``extend-exclude`` or ``per-file-ignores``, checked and normalized.

    Globs are matched with :mod:`fnmatch` against paths relative to the
    project root. What fnmatch would take silently but can never mean what a
    ruff user wrote is an error naming the key: an empty pattern matches no
    path; an unclosed ``[`` is a literal ``[`` to fnmatch, while ruff reports
    it; ``{a,b}`` is ruff's alternation, a literal brace to fnmatch. Patterns
    that ruff anchors at the project root work here too: ``./build`` and
    ``../shared/*`` become absolute, resolved against the root, and an
    absolute pattern is matched against the absolute path of each file.
    """
    if not pattern.strip():
        raise ConfigError(f"{where}: empty pattern in '{name}'")
    if _unclosed_bracket(pattern):
        raise ConfigError(f"{where}: unclosed '[' in pattern {pattern!r} of '{name}' (write '[[]' for a literal '[')")
    if "{" in pattern:
        raise ConfigError(f"{where}: pattern {pattern!r} of '{name}' uses '{{', but klint's globs have no "
                          "{a,b} alternation: list each pattern (write '[{]' for a literal '{')")
    posix = pattern.replace(os.sep, "/")  # paths are matched in their POSIX form
    if os.path.isabs(pattern):
        anchored = posixpath.normpath(posix)
    elif posix in (".", "..") or posix.startswith(("./", "../")):
        anchored = posixpath.normpath(posixpath.join(root.as_posix(), posix))
    else:
        return posix
    return anchored + "/" if posix.endswith("/") else anchored


def _unclosed_bracket(pattern: str) -> bool:
    """Whether a ``[`` of the pattern opens a character class that never closes (scanned as fnmatch does)."""
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == "[":
            j = i + 1
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                return True
            i = j
        i += 1
    return False


def _rule_options(table: Any, where: str, prefix: str) -> dict[str, dict]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: '{prefix}' must be a table of rule tables")
    from klint.engine.registry import rule_by_code

    out: dict[str, dict] = {}
    for code, opts in table.items():
        rule = rule_by_code(code)
        if rule is None:
            raise ConfigError(f"{where}: unknown rule '{prefix}.{code}'")
        if not isinstance(opts, dict):
            raise ConfigError(f"{where}: '{prefix}.{code}' must be a table")
        values = {}
        for name, value in opts.items():
            opt = rule.options.get(name)
            if opt is None:
                known = ", ".join(sorted(rule.options)) or "none"
                raise ConfigError(f"{where}: unknown option '{prefix}.{code}.{name}' (options of {rule.code}: {known})")
            try:
                values[name] = opt.convert(value)
            except (ValueError, TypeError) as e:
                raise ConfigError(f"{where}: bad value for '{prefix}.{code}.{name}': {e}") from e
        out[rule.code] = values
    return out
