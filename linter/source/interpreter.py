"""The source view's interpreter.

It walks a file's statements in order, as Python would run them, and gives
each expression an abstract value (:mod:`klint.source.values`): imported
names resolve to canonical Keras names, constants and dicts are followed,
``Sequential`` lists, ``model.add`` and functional chains become layer
graphs, and ``compile``/``fit``/``apply_gradients`` calls become training
links. Functions run when they are called (with the call's arguments), and
those never called run once on their defaults, so that every layer a file
builds is seen.

It walks only statements and expressions, through their attributes: a
generic libcst visitor costs as much as the parse itself.

This module puts the pieces together: :class:`Interpreter` is the evaluator
of Python (:mod:`klint.source.evaluator`, over
:mod:`klint.source.expressions`) with what Keras and TensorFlow calls mean
(:mod:`klint.source.keras_calls`), and fills in a
:class:`~klint.source.analysis.SourceAnalysis`. ``analyze(module)`` is the
entry point; the names other modules import from here are re-exported.
"""
from __future__ import annotations

import libcst as cst

from klint.source.analysis import CompileInfo, FitInfo, ImportInfo, LoopInfo, LRAssignment, SourceAnalysis
from klint.source.evaluator import Evaluator, import_bindings
from klint.source.expressions import Scope
from klint.source.keras_calls import KerasCalls

__all__ = [
    "CompileInfo",
    "FitInfo",
    "ImportInfo",
    "Interpreter",
    "LRAssignment",
    "LoopInfo",
    "Scope",
    "SourceAnalysis",
    "analyze",
    "import_bindings",
]


class Interpreter(KerasCalls, Evaluator):
    """The source view's abstract interpreter: ``Interpreter(SourceAnalysis()).run(module)``."""


def analyze(module: cst.Module) -> SourceAnalysis:
    """Run the source view over a parsed module."""
    return Interpreter(SourceAnalysis()).run(module)
