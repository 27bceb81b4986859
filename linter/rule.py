"""What a rule is: metadata, documentation, examples and a ``check`` method.

A rule module in ``klint.rules`` defines one subclass of :class:`Rule`. The
class docstring is the rule's documentation (rendered by ``klint rule``),
with the headings *What it does*, *Why is this bad*, *Example*, *Use
instead*, *Fix safety* and *Options*. ``VALID`` and ``INVALID`` hold
examples that the test suite runs, fixes included.

Rules report; the engine fixes. ``check`` calls ``ctx.report(...)`` with a
location, a message and optionally a :class:`Fix` made of edits on libcst
nodes. The engine turns edits into text, drops overlapping ones, adds
imports, re-lints and reverts anything that would not parse.
"""
from __future__ import annotations

import enum
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar


class Applicability(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


class FixAvailability(str, enum.Enum):
    NONE = "none"
    SOMETIMES = "sometimes"
    ALWAYS = "always"


@dataclass(frozen=True)
class Option:
    """A per-rule setting under ``[tool.klint.rules.<CODE>]``."""

    type: Any  # a type, or a callable that validates and converts (raises ValueError)
    default: Any
    doc: str

    def convert(self, value: Any) -> Any:
        t = self.type
        if t is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"expected a number, got {value!r}")
            return float(value)
        if t is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"expected an integer, got {value!r}")
            return value
        if t is bool:
            if not isinstance(value, bool):
                raise ValueError(f"expected true or false, got {value!r}")
            return value
        if isinstance(t, type):
            if not isinstance(value, t):
                raise ValueError(f"expected {t.__name__}, got {value!r}")
            return value
        return t(value)


@dataclass(frozen=True)
class Valid:
    code: str
    note: str = ""


@dataclass(frozen=True)
class Invalid:
    """An example that must produce findings of this rule.

    ``expected_fix`` is the source after ``--fix`` (with ``--unsafe-fixes``
    when the fix is unsafe); ``None`` means no fix is offered. ``lines``, if
    given, are the 1-based lines the findings must start on.
    """

    code: str
    expected_fix: str | None = None
    lines: tuple[int, ...] | None = None
    options: dict = field(default_factory=dict)
    note: str = ""


@dataclass(eq=False)
class Edit:
    """Replace the text of ``at`` (a node location) with ``text``.

    ``text`` is a string, or a libcst node that the engine generates in
    place, with the indentation of the statement it sits in. ``where`` is
    ``replace``, ``before`` (insert before the node) or ``after`` (insert
    after it).
    """

    at: Any
    text: Any
    where: str = "replace"


@dataclass(eq=False)
class Fix:
    applicability: Applicability
    message: str
    edits: list[Edit]
    imports: list = field(default_factory=list)  # ImportNeed, added by the engine


class Rule:
    """Base class of every rule; subclasses set the metadata below."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    fix: ClassVar[FixAvailability] = FixAvailability.NONE
    default_enabled: ClassVar[bool] = True
    views: ClassVar[tuple[str, ...]] = ("source",)
    options: ClassVar[dict[str, Option]] = {}
    VALID: ClassVar[list] = []
    INVALID: ClassVar[list] = []

    check: Callable

    @classmethod
    def doc(cls) -> str:
        return textwrap.dedent(inspect.getdoc(cls) or "").strip()

    @classmethod
    def url(cls) -> str:
        return f"https://klint.readthedocs.io/rules/{cls.code}-{cls.name}/"

    @classmethod
    def option_values(cls, configured: dict | None) -> dict:
        values = {k: o.default for k, o in cls.options.items()}
        if configured:
            values.update(configured)
        return values
