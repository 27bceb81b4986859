"""The versions a project targets: ``target-version`` in ``[tool.klint]`` or ``--target-version``.

Rules whose findings depend on the Keras release (an argument Keras added
in 3.14 is an upgrade problem only for a project that still runs 3.13) read
``ctx.target.keras``, a ``(major, minor)`` tuple. The default is the newest
Keras 3 release klint's tables were checked against, so without a setting
klint reports what fails on the current Keras 3 line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: The newest Keras release the upgrade tables were checked against (``klint.knowledge.keras3``).
KERAS_NEWEST = (3, 15)
#: The oldest Keras klint can target: the upgrade rules rewrite code for Keras 3.
KERAS_OLDEST = (3, 0)

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.\d+)?")


class TargetError(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    keras: tuple[int, int] = KERAS_NEWEST

    def keras_before(self, major: int, minor: int) -> bool:
        """True when the targeted Keras is older than ``major.minor`` (it lacks what that release added)."""
        return self.keras < (major, minor)

    def describe(self) -> str:
        return f"Keras {self.keras[0]}.{self.keras[1]}"


def parse_keras_version(value, where: str) -> tuple[int, int]:
    """``"3.8"`` (or ``"3.8.1"``) as ``(3, 8)``; a version klint cannot target is a :class:`TargetError`
    whose message starts with ``where``, the setting's name."""
    m = _VERSION.fullmatch(value.strip()) if isinstance(value, str) else None
    if m is None:
        raise TargetError(f"'{where}': bad Keras version {value!r} (expected a release such as \"3.8\")")
    version = (int(m.group(1)), int(m.group(2)))
    if version < KERAS_OLDEST or version[0] != KERAS_OLDEST[0]:
        raise TargetError(f"'{where}': Keras {value.strip()} cannot be targeted: klint's upgrade rules target the "
                          f"Keras 3 line ({KERAS_OLDEST[0]}.{KERAS_OLDEST[1]} to {KERAS_NEWEST[0]}.{KERAS_NEWEST[1]})")
    return version


def parse_target(value, where: str) -> Target:
    """The config's ``target-version``: a table ``{keras = "3.8"}``, or a string ``"3.8"`` / ``"keras3.8"`` /
    ``"keras = 3.8"``."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"keras"})
        if unknown:
            raise TargetError(f"'{where}': unknown package {unknown[0]!r} (klint targets 'keras' versions)")
        if "keras" not in value:
            return Target()
        return Target(keras=parse_keras_version(value["keras"], f"{where}.keras"))
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("keras"):
            text = text[len("keras"):].lstrip().removeprefix("=")
        try:
            return Target(keras=parse_keras_version(text, where))
        except TargetError as e:
            if text.strip() == value.strip() or "bad Keras version" not in str(e):
                raise
            raise TargetError(f"'{where}': bad Keras version {value!r} (expected a release such as \"3.8\")") \
                from None
    raise TargetError(f"'{where}': expected a table such as {{keras = \"3.8\"}}, got {value!r}")
