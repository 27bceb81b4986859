"""Small libcst helpers that rules share: the arguments of a call, an argument removed in the call's
own layout, and whether a call reaches Keras through Keras 2 itself (``tf_keras``).

Rules build edits from these; the engine applies them (``ctx.replace``, ``ctx.fix``).
"""
from __future__ import annotations

import libcst as cst

from klint.knowledge.keras3 import KERAS3_ROOTS
from klint.source.values import Arg, Ref

#: Roots through which code reaches Keras 2 itself, where the APIs that Keras 3 removed still exist.
KERAS2_ROOTS = ("tf_keras",)


def dotted(node) -> str | None:
    """``a.b.c`` for a name or a chain of attributes of a name, None otherwise."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    """The argument ``name=...`` of the call, or None."""
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a
    return None


def key_of(top: cst.CSTNode, value: cst.CSTNode) -> cst.CSTNode | None:
    """The key (or keyword) under which ``value`` sits in a dict literal or a ``dict(...)`` call."""
    stack = [top]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.DictElement) and node.value is value:
            return node.key
        if isinstance(node, cst.Arg) and node.value is value and node.keyword is not None:
            return node.keyword
        stack.extend(node.children)
    return None


def arg_location(site, arg: Arg, name: str):
    """Where the argument is spelled: its keyword in the call, or its key in a ``**`` dict."""
    if arg.via == "keyword":
        kw = keyword_arg(site.node, name)
        return (kw.keyword, site.top) if kw is not None and site.top is not None else None
    if arg.via == "dict" and arg.node is not None and arg.top is not None:
        key = key_of(arg.top, arg.node)
        return (key, arg.top) if key is not None else None
    return None


def without(call: cst.Call, arg: cst.Arg | None = None, name: str | None = None) -> cst.Call:
    """``call`` without one argument (given as a node, or by keyword), keeping the call's layout."""
    args = list(call.args)
    idx = next((i for i, a in enumerate(args) if a is arg or (
        name is not None and a.keyword is not None and a.keyword.value == name)), None)
    if idx is None:
        return call
    removed = args.pop(idx)
    if idx == len(args) and args:
        # the last argument goes: the one before it takes its comma (or lack of one) and trailing space
        args[-1] = args[-1].with_changes(comma=removed.comma, whitespace_after_arg=removed.whitespace_after_arg)
    elif idx > 0 and _breaks_line(removed.comma) and not _breaks_line(args[idx - 1].comma):
        # one argument goes from the end of a line: the line break after it stays
        args[idx - 1] = args[idx - 1].with_changes(comma=removed.comma)
    return call.with_changes(args=args)


def _breaks_line(comma) -> bool:
    return isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace)


def _keras2_ref(bound) -> bool:
    return isinstance(bound, Ref) and any(bound.raw == r or bound.raw.startswith(r + ".") for r in KERAS2_ROOTS)


def through_keras2(analysis, call: cst.Call | None, depth: int = 0) -> bool:
    """Whether the callee (or the object whose method it is) is reached through Keras 2 itself:
    ``tf_keras.layers.Dense(...)``, ``tf_keras.Sequential().fit(...)``."""
    if call is None or depth > 8:
        return False
    node = call.func
    while isinstance(node, cst.Attribute):
        node = node.value
    if isinstance(node, cst.Call):
        return through_keras2(analysis, node, depth + 1)
    if not isinstance(node, cst.Name):
        return False
    scope = analysis.module_scope
    bound = scope.vars.get(node.value) if scope is not None else None
    if _keras2_ref(bound):
        return True
    site = getattr(bound, "site", None)  # ``model = tf_keras.Sequential(...)`` ... ``model.fit(...)``
    built = getattr(site, "node", None)
    return isinstance(built, cst.Call) and built is not call and through_keras2(analysis, built, depth + 1)


def outside_keras3(analysis) -> bool:
    """Whether the file reaches Keras, but never through Keras 3's public roots (only ``tf_keras`` or
    ``tensorflow.python.keras``, Keras 2 itself)."""
    return bool(analysis.roots) and not any(r in KERAS3_ROOTS for r in analysis.roots)


def keras2_only(analysis) -> bool:
    """Whether the file reaches Keras only through Keras 2 itself."""
    return bool(analysis.roots) and all(r in KERAS2_ROOTS for r in analysis.roots)


def receiver_text(ctx, call: cst.Call, default: str = "model") -> str:
    """The receiver of a method call as written, for a message (``default`` when it is long)."""
    if not isinstance(call.func, cst.Attribute):
        return default
    text = ctx.code(call.func.value).strip()
    return text if len(text) <= 30 and "\n" not in text else default
