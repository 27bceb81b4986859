"""The source view: what libcst tells about a file, without running it.

``analyze(module)`` runs the interpreter over a parsed module and returns a
:class:`~klint.source.interpreter.SourceAnalysis`. ``resolve(source, expr)``
is the resolver seen from outside: the canonical name an expression denotes
at the end of a module, or None when it is not an imported name.
"""
from __future__ import annotations

import libcst as cst


def analyze(module: cst.Module):
    from klint.source.interpreter import analyze as _analyze

    return _analyze(module)


def resolve(source: str, expression: str) -> str | None:
    """The canonical name of ``expression`` evaluated in the module scope of ``source``.

    >>> resolve("import tensorflow as tf", "tf.keras.layers.Dense")
    'keras.layers.Dense'
    >>> resolve("import torch.nn as nn", "nn.ReLU")
    'torch.nn.ReLU'
    """
    from klint.source.interpreter import Interpreter, SourceAnalysis
    from klint.source.values import Ref

    module = cst.parse_module(source)
    interp = Interpreter(SourceAnalysis())
    analysis = interp.run(module)
    value = interp.ev(cst.parse_expression(expression), analysis.module_scope)
    return value.qual if isinstance(value, Ref) else None
