"""The per-file context that source rules work with.

A rule reads ``ctx.analysis`` (what the source view learned), calls
``ctx.report`` with a location, and builds fixes with ``ctx.code``,
``ctx.ref`` and ``ctx.replace``/``ctx.add_keyword``. Locations are anything
with a libcst node and the top-level statement holding it: a
:class:`~klint.source.values.CallSite`, an :class:`~klint.source.values.Arg`,
a :class:`~klint.source.values.Const`, a Keras object (its construction
call), or a ``(node, top)`` pair.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from klint.engine.rule import Applicability, Edit, Fix
from klint.engine.target import Target
from klint.source.interpreter import SourceAnalysis
from klint.knowledge.names import canonical, is_keras
from klint.source.values import Arg, CallSite, Const, Entry, Obj, OptimizerObj, Ref


@dataclass(frozen=True)
class Loc:
    node: cst.CSTNode
    top: cst.CSTNode


@dataclass(frozen=True)
class ImportNeed:
    """``from module import name`` (or ``import name`` when module is None)."""

    module: str | None
    name: str

    def statement(self) -> str:
        if self.module is None:
            return f"import {self.name}"
        return f"from {self.module} import {self.name}"


@dataclass(eq=False)
class Part:
    """One place of a grouped finding (a layer of a stack), with the edits that fix it there.

    ``edits`` is None when no correct edit exists at this place. The engine
    fills in the position, and leaves out a part whose line says
    ``# noqa`` for the finding's code.
    """

    at: Loc
    edits: list | None
    note: str = ""
    applicability: Any = None  # of the edits: Applicability.SAFE or UNSAFE
    imports: list = field(default_factory=list)
    row: int = 0
    col: int = 0
    end_row: int = 0
    end_col: int = 0


@dataclass(eq=False)
class Finding:
    code: str
    name: str
    message: str
    at: Loc | None
    fix: Fix | None = None
    view: str = "source"
    url: str = ""
    site: Any = None  # for a finding located by a recorded construction site (file, line, col)
    filename: str | None = None  # set when that site is in another file of the project
    #: A grouped finding: its places, and ``describe(parts) -> message`` for the parts that remain
    #: once suppressed ones are left out (their rows are known by then), with the fix's message.
    parts: list | None = None
    describe: Any = None
    # filled in by the engine
    row: int = 0
    col: int = 0
    end_row: int = 0
    end_col: int = 0
    text_edits: list = field(default_factory=list)
    related: list = field(default_factory=list)  # the parts that remain, for output formats


def loc_of(x: Any) -> Loc | None:
    if isinstance(x, Loc):
        return x
    if isinstance(x, OptimizerObj):
        return loc_of(x.origin)
    if isinstance(x, tuple) and len(x) == 2:
        return Loc(x[0], x[1]) if x[0] is not None and x[1] is not None else None
    if isinstance(x, CallSite):
        return Loc(x.node, x.top) if x.top is not None and x.node is not None else None
    if isinstance(x, (Arg, Const, Entry)):
        return Loc(x.node, x.top) if x.node is not None and x.top is not None else None
    if isinstance(x, Obj):
        return loc_of(x.site) if x.site is not None else None
    site = getattr(x, "site", None)
    if isinstance(site, CallSite):
        return loc_of(site)
    return None


class SourceContext:
    def __init__(self, path: str, source: str, module: cst.Module, analysis: SourceAnalysis,
                 options: dict[str, dict], target: Target | None = None):
        self.path = path
        self.target = target or Target()  # the Keras release the project targets (``target-version``)
        self.source = source
        self.module = module
        self._analysis = analysis
        self._options = options
        self.findings: list[Finding] = []
        self.rule = None
        self.positions = None  # set by the engine; used for messages that cite lines
        self.ignore: tuple = ()  # codes ignored for this file (per-file-ignores)

    # ------------------------------------------------------------ reading

    @property
    def analysis(self) -> SourceAnalysis:
        """What the source view learned; the Keras 3 upgrade rules also see the branches a constant
        turns off (:meth:`~klint.source.analysis.SourceAnalysis.with_dead`)."""
        if self.rule is not None and getattr(self.rule, "keras3_upgrade", False):
            return self._analysis.with_dead()
        return self._analysis

    @analysis.setter
    def analysis(self, value: SourceAnalysis) -> None:
        self._analysis = value

    @property
    def options(self) -> dict:
        return self._options.get(self.rule.code, {}) if self.rule is not None else {}

    def options_of(self, code: str) -> dict | None:
        """Another rule's options, or None when that rule is not selected (so a rule can leave a
        finding to the rule that reports it better, only when that rule runs)."""
        if any(code.upper().startswith(i.upper()) for i in self.ignore):
            return None
        return self._options.get(code)

    def code(self, node: cst.CSTNode) -> str:
        """Source text of a node (or of a new node built for a fix)."""
        return self.module.code_for_node(node)

    def line(self, x: Any) -> int | None:
        """The 1-based line of a location, for messages."""
        loc = loc_of(x)
        if loc is None or self.positions is None:
            return None
        span = self.positions.report_span(loc.node, loc.top)
        return self.positions.row_col(span.start)[0]

    # ---------------------------------------------------------- reporting

    view = "source"

    def report(self, at: Any, message: str, fix: Fix | None = None) -> bool:
        """Report a finding at ``at``: a source location, or an object that has one."""
        loc = loc_of(at)
        r = self.rule
        if loc is None:
            where = getattr(at, "where", None)
            if where is None:
                return False
            # a construction site outside the checked file's calls: no fix can be made there
            name = (getattr(at, "entry", None) or {}).get("name")
            if name:
                message += f" [layer {name!r}]"
            self.findings.append(Finding(r.code, r.name, message, None, None, self.view, r.url(), site=where))
            return True
        self.findings.append(Finding(r.code, r.name, message, loc, fix, self.view, r.url()))
        return True

    def report_group(self, parts: list[Part], describe, fix_message: str) -> bool:
        """Report one finding for several places (the layers of one stack), with one fix editing all.

        ``describe(parts)`` gives the message for the parts that remain after
        ``# noqa`` comments leave some out; the first remaining part is where
        the finding is reported.
        """
        parts = [p for p in parts if p.at is not None]
        if not parts:
            return False
        r = self.rule
        f = Finding(r.code, r.name, "", parts[0].at, None, self.view, r.url(), parts=parts, describe=describe)
        f.fix_message = fix_message  # type: ignore[attr-defined]
        self.findings.append(f)
        return True

    def part(self, at: Any, fix: Fix | None, note: str = "") -> Part:
        """A place of a grouped finding, with the edits of ``fix`` (a fix built as for a single finding)."""
        loc = loc_of(at)
        if fix is None:
            return Part(loc, None, note)
        return Part(loc, list(fix.edits), note, fix.applicability, list(fix.imports))

    # ------------------------------------------------------- fix builders
    # A builder returns None when its target has no source location (a
    # model-view object built outside the file); a fix with such an edit is
    # no fix.

    def fix(self, message: str, edits: list, safe: bool = True, imports: list | None = None) -> Fix | None:
        if not edits or any(e is None for e in edits):
            return None
        return Fix(Applicability.SAFE if safe else Applicability.UNSAFE, message, edits, list(imports or []))

    def replace(self, at: Any, text: str) -> Edit | None:
        loc = loc_of(at)
        if loc is None:
            return None
        return Edit(loc, text, "replace")

    def add_keyword(self, site: CallSite | None, name: str, value_code: str) -> Edit | None:
        """Add ``name=value`` to a call, in the call's own layout."""
        if site is None or site.node is None or site.top is None:
            return None
        call = site.node
        args = list(call.args)
        new_arg = cst.Arg(
            keyword=cst.Name(name),
            value=_literal_node(value_code),
            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                  whitespace_after=cst.SimpleWhitespace("")),
        )
        if not args:
            new_call = call.with_changes(args=[new_arg])
        else:
            # keyword arguments go before any ``**kwargs`` expansion
            idx = len(args)
            for i, a in enumerate(args):
                if a.star == "**":
                    idx = i
                    break
            if idx == len(args):
                last = args[-1]
                comma = last.comma
                # the whitespace before ")" belongs to the last argument: it moves to the new one
                tail = last.whitespace_after_arg
                if isinstance(comma, cst.Comma):
                    # a trailing comma (one argument a line, usually): the old last argument takes
                    # the separator between arguments, the new one the trailing comma before ")"
                    args[-1] = last.with_changes(comma=self._separator(args[:-1], call),
                                                 whitespace_after_arg=cst.SimpleWhitespace(""))
                    args.append(new_arg.with_changes(comma=comma, whitespace_after_arg=tail))
                else:
                    sep = self._separator(args, call)
                    args[-1] = last.with_changes(comma=sep, whitespace_after_arg=cst.SimpleWhitespace(""))
                    args.append(new_arg.with_changes(whitespace_after_arg=tail))
            else:
                sep = self._separator(args, call)
                args.insert(idx, new_arg.with_changes(comma=sep))
            new_call = call.with_changes(args=args)
        return Edit(Loc(call, site.top), new_call, "replace")

    @staticmethod
    def _separator(args: list, call: cst.Call) -> cst.Comma:
        """The comma (with its whitespace) that separates this call's arguments."""
        for a in args:
            if isinstance(a.comma, cst.Comma):
                return a.comma
        before = call.whitespace_before_args
        if isinstance(before, cst.ParenthesizedWhitespace):
            return cst.Comma(whitespace_after=before)  # one argument a line, as after "("
        return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))

    def ref(self, qual: str) -> tuple[str, list[ImportNeed]]:
        """How this file spells the Keras object ``qual`` (canonical), and any import it needs.

        Existing imports are reused: ``keras.optimizers.RMSprop`` becomes
        ``tf.keras.optimizers.RMSprop`` in a file that imports TensorFlow as
        ``tf`` and uses ``tf.keras``, ``optimizers.RMSprop`` after ``from keras
        import optimizers``, and gets ``from keras.optimizers import RMSprop``
        added where nothing reaches it.
        """
        a = self.analysis
        flavor = a.flavor
        raw_target = flavor + qual[len("keras"):] if qual.startswith("keras") else qual
        scope_vars = a.module_scope.vars if a.module_scope is not None else {}
        best: tuple[int, str] | None = None
        for info in a.imports:
            for local, raw in info.bindings.items():
                bound = scope_vars.get(local)
                if not isinstance(bound, Ref) or bound.raw != raw:
                    continue
                cand = None
                if raw_target == raw or raw_target.startswith(raw + "."):
                    cand = local + raw_target[len(raw):]
                else:
                    cq = canonical(raw)
                    if is_keras(raw) and (qual == cq or qual.startswith(cq + ".")):
                        cand = local + qual[len(cq):]
                if cand is not None:
                    score = cand.count(".")
                    if best is None or score < best[0]:
                        best = (score, cand)
        if best is not None:
            return best[1], []
        module, _, name = raw_target.rpartition(".")
        taken = scope_vars.get(name)
        if taken is None or (isinstance(taken, Ref) and taken.raw == raw_target):
            return name, [ImportNeed(module, name)]
        top = flavor.split(".")[0]
        if flavor == "keras" and "keras" not in scope_vars:
            return raw_target, [ImportNeed(None, "keras")]
        if flavor == "tensorflow.keras" and "tf" not in scope_vars:
            return "tf" + raw_target[len("tensorflow"):], [ImportNeed(None, "tensorflow as tf")]
        return raw_target, [ImportNeed(None, top)]


def _literal_node(code: str) -> cst.BaseExpression:
    """A node for a literal or dotted name, built without running the parser."""
    if code[:1] in "\"'" and code[-1:] == code[:1]:
        return cst.SimpleString(code)
    if code.replace(".", "", 1).isdigit():
        return cst.Float(code) if "." in code else cst.Integer(code)
    if code.replace(".", "").replace("_", "").isalnum() and not code[:1].isdigit():
        parts = code.split(".")
        node: cst.BaseExpression = cst.Name(parts[0])
        for p in parts[1:]:
            node = cst.Attribute(node, cst.Name(p))
        return node
    return cst.parse_expression(code)


class ModelContext(SourceContext):
    """The context of the model view: the same rules, reading the captured model."""

    view = "model"
