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
import math
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from klint.knowledge import api as K


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
        """The configured ``value`` checked and converted, or ValueError.

        TOML spells ``nan`` and ``inf``, and no option means either: a NaN
        threshold compares false with everything, so the rule would silently
        never fire. Whatever ``type`` is, a converted value holding one, at
        any depth of a table or array, is rejected.
        """
        converted = self._convert(value)
        _reject_non_finite(converted, "")
        return converted

    def _convert(self, value: Any) -> Any:
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


def _reject_non_finite(value: Any, where: str) -> None:
    """Raise ValueError for a NaN or infinite float in ``value``, naming its key in a table (``where``)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}expected a finite number, got {value!r}")
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_non_finite(v, f"{where}{k!r}: ")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _reject_non_finite(v, where)


# ------------------------------------------------------------ option validators
#
# Converters for ``Option(type=...)``: each takes the value as TOML gave it and
# returns it converted, or raises ValueError with a message that the
# configuration error quotes after the option's key.


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def positive_number(value: Any, what: str = "the value") -> float:
    """A finite number above 0, as a float."""
    number = _number(value, what)
    if number <= 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return number


def non_negative_number(value: Any, what: str = "the value") -> float:
    """A finite number of at least 0, as a float."""
    number = _number(value, what)
    if number < 0:
        raise ValueError(f"{what} must be a non-negative number, got {value!r}")
    return number


#: Optimizer classes a per-optimizer option can name. Not the wrapper (``LossScaleOptimizer`` trains
#: with the learning rate of the optimizer it wraps, which is judged by its own name) nor the base class.
OPTIMIZER_CLASSES = tuple(sorted(
    q.rsplit(".", 1)[1] for q in K.OPTIMIZERS if q.rsplit(".", 1)[1] not in ("LossScaleOptimizer", "Optimizer")
))
_OPTIMIZER_NAMES = {
    **{name.lower(): name for name in OPTIMIZER_CLASSES},
    **{alias: name for alias, name in K.OPTIMIZER_STRINGS.items() if name in OPTIMIZER_CLASSES},
}


def optimizer_name(name: str) -> str:
    """The class name (``SGD``) of an optimizer named as a class or as ``compile`` accepts it (``sgd``).

    Rules look values up by the class name, so a table keyed ``Sgd`` or
    ``rmsprop`` must be stored under ``SGD`` and ``RMSprop``; a name that is
    no Keras optimizer (a typo) would be a silent no-op, and is an error.
    """
    canonical = _OPTIMIZER_NAMES.get(name.lower()) if isinstance(name, str) else None
    if canonical is None:
        raise ValueError(f"unknown optimizer {name!r} (known: {', '.join(OPTIMIZER_CLASSES)})")
    return canonical


def optimizer_table(defaults: dict[str, float], what: str = "value") -> Callable[[Any], dict[str, float]]:
    """A converter for a table of optimizer names to positive finite numbers, merged over ``defaults``.

    ``thresholds = { SGD = 0.5, adam = 3e-3 }`` replaces the values of the
    optimizers it names (adding the ones ``defaults`` lacks) and keeps the
    other defaults; keys become class names (see :func:`optimizer_name`).
    ``what`` names a value in error messages ("threshold for 'SGD' must be
    a positive number, got -1").
    """

    def convert(value: Any) -> dict[str, float]:
        if not isinstance(value, dict):
            raise ValueError(f"expected a table of optimizer names to numbers, got {value!r}")
        out = dict(defaults)
        for name, number in value.items():
            out[optimizer_name(name)] = positive_number(number, f"{what} for {name!r}")
        return out

    return convert


@dataclass(frozen=True)
class Valid:
    code: str
    note: str = ""
    target: str = ""  # the Keras release the example targets (``target-version``), when not the newest


@dataclass(frozen=True)
class Invalid:
    """An example that must produce findings of this rule.

    ``expected_fix`` is the source after ``--fix`` (with ``--unsafe-fixes``
    when the fix is unsafe); ``None`` means no fix is offered. ``lines``, if
    given, are the 1-based lines the findings must start on.

    The Keras 3 upgrade rules (KL8xx) also say what the original does under
    Keras 3, and the test suite runs it there: ``raises`` is the exception it
    raises (``"AttributeError"``), or ``silent`` an expression over the
    example's names that is true after the original ran and false after the
    fixed source ran (``"layer.strides == (3, 3)"``: a setting Keras 3 reads
    differently, without an error), or ``warns`` a fragment of the warning
    Keras 3 gives when it runs the original and ignores a setting
    (``"no longer supported"``), which the fixed source no longer gives.

    ``target`` is the Keras release the example targets (``"3.13"``), for a
    rule whose findings depend on it; empty means the newest Keras 3.
    """

    code: str
    expected_fix: str | None = None
    lines: tuple[int, ...] | None = None
    options: dict = field(default_factory=dict)
    note: str = ""
    raises: str = ""
    silent: str = ""
    warns: str = ""
    target: str = ""


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
    #: Finds code that Keras 3 rejects or reads differently: the suite runs every INVALID example under
    #: Keras 3 (``raises``/``silent``/``warns``). True for the KL8xx family (``keras3-*``) and set by the
    #: older rules of that kind.
    keras3_upgrade: ClassVar[bool] = False
    options: ClassVar[dict[str, Option]] = {}
    VALID: ClassVar[list] = []
    INVALID: ClassVar[list] = []

    check: Callable

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.code.startswith("KL8") and "keras3_upgrade" not in cls.__dict__:
            cls.keras3_upgrade = True

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
