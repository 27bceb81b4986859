"""Source positions of libcst nodes, computed only for the nodes that need one.

libcst nodes carry no positions, and its ``PositionProvider`` computes one for
every node of the file, which costs several times the parse. klint needs
positions only for the few nodes that a finding or an edit names, and only
in files that have findings. So:

1. CPython's own parser (about a tenth of libcst's cost) gives the line on
   which each top-level statement starts;
2. the top-level statement that holds a requested node is generated again
   by libcst, recording character offsets of just the requested nodes.

Offsets are character offsets into the decoded source text, which libcst
reproduces exactly.
"""
from __future__ import annotations

import ast
import bisect
import re
from dataclasses import dataclass

import libcst as cst
from libcst._nodes.internal import CodegenState


_NEWLINE = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Offsets at which the lines of ``text`` start, with every line ending Python accepts (``\n``,
    ``\r\n``, a lone ``\r``, mixed) ending a line, as CPython's tokenizer counts them."""
    if "\r" in text:
        return [0] + [m.end() for m in _NEWLINE.finditer(text)]
    starts = [0]
    find = text.find
    i = find("\n")
    while i != -1:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


@dataclass(frozen=True)
class Span:
    start: int
    end: int


class _RecordingState(CodegenState):
    """Code generation that remembers where every node begins and ends."""

    def __init__(self, module: cst.Module, spans: dict):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self._spans = spans
        self._inner: dict = {}
        self._pos = 0
        self._syntactic = None

    # ``tokens`` is appended to by the codegen; keep a running length.
    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._pos += len(value)

    def add_indent_tokens(self) -> None:
        for t in self.indent_tokens:
            self.tokens.append(t)
            self._pos += len(t)

    def before_codegen(self, node) -> None:
        self._spans[id(node)] = [self._pos, 0, node]

    def after_codegen(self, node) -> None:
        self._spans[id(node)][1] = self._pos

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _Syntactic(self, node)


class _Syntactic:
    """Where a node's own text starts and ends, without the parentheses around it."""

    __slots__ = ("state", "node")

    def __init__(self, state, node):
        self.state = state
        self.node = node

    def __enter__(self):
        st = self.state
        if st._syntactic is None:
            st._syntactic = st._pos
        st._inner[id(self.node)] = [st._pos, 0]

    def __exit__(self, *exc):
        st = self.state
        st._inner[id(self.node)][1] = st._pos
        return False



class Positions:
    """Line/column lookups for nodes of one module."""

    def __init__(self, module: cst.Module, source: str):
        self.module = module
        self.source = source
        self._line_starts: list[int] | None = None
        self._anchors: dict | None = None
        self._spans: dict = {}
        self._done: set = set()
        self._comments: dict = {}
        self._inner: dict = {}
        self._elifs: set = set()
        self.syntax_error: SyntaxError | None = None  # found when CPython's parser anchors statements

    # ------------------------------------------------------------ lines

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = line_starts(self.source)
        return self._line_starts

    def offset_of(self, row: int, col: int) -> int:
        """Offset of 1-based ``row`` and 0-based character column ``col``."""
        starts = self.line_starts()
        return starts[row - 1] + col

    def row_col(self, offset: int) -> tuple[int, int]:
        """1-based row and 1-based column of a character offset."""
        starts = self.line_starts()
        i = bisect.bisect_right(starts, offset) - 1
        return i + 1, offset - starts[i] + 1

    # -------------------------------------------------------------- spans

    def span(self, node: cst.CSTNode, top: cst.CSTNode) -> Span:
        """The character span of ``node``, which lies inside top-level statement ``top``."""
        got = self._spans.get(id(node))
        if got is None:
            self.compute(top)
            got = self._spans[id(node)]
        return Span(*got)

    def compute(self, top: cst.CSTNode) -> None:
        """Record the span of every node of statement ``top``, in one code generation."""
        if id(top) in self._done:
            return
        self._done.add(id(top))
        spans: dict = {}
        anchor = self._statement_anchor(top)
        state = _RecordingState(self.module, spans)
        if anchor is None:
            # CPython cannot anchor the statement (a newer grammar than this
            # interpreter's): generate the whole module instead.
            self.module._codegen(state)
            offset0 = 0
        else:
            line, col = anchor
            start = self.offset_of(line, 0)
            if col:
                # a nested statement: its enclosing indentation, as the codegen would emit it
                state.indent_tokens = [self.source[start:start + col]]
            if top in self._elifs:
                top._codegen(state, is_elif=True)
            else:
                top._codegen(state)
            # the statement's first token is at (line, col)
            offset0 = start + col - (state._syntactic or 0)
        comments = []
        own = self._spans
        comment = cst.Comment
        for k, (s, e, n) in spans.items():
            own[k] = (offset0 + s, offset0 + e)
            if type(n) is comment:
                comments.append((offset0 + s, n.value))
        for k, (s, e) in state._inner.items():
            self._inner[k] = (offset0 + s, offset0 + e)
        self._comments[id(top)] = comments

    def code_in(self, node: cst.CSTNode, top: cst.CSTNode) -> str:
        """Source text for a (new) node placed inside statement ``top``, indented as that statement."""
        state = CodegenState(default_indent=self.module.default_indent, default_newline=self.module.default_newline)
        anchor = self._statement_anchor(top)
        if anchor is not None and anchor[1]:
            start = self.offset_of(anchor[0], 0)
            state.indent_tokens = [self.source[start:start + anchor[1]]]
        node._codegen(state)
        return "".join(state.tokens)

    def report_span(self, node: cst.CSTNode, top: cst.CSTNode) -> Span:
        """The span of a node's own text, without enclosing parentheses (for locations)."""
        self.span(node, top)
        got = self._inner.get(id(node))
        return Span(*got) if got is not None else self.span(node, top)

    def comments_on(self, top: cst.CSTNode, rows: set) -> list[str]:
        """The comments of statement ``top`` that sit on one of ``rows``."""
        self.compute(top)
        return [text for off, text in self._comments.get(id(top), ()) if self.row_col(off)[0] in rows]

    def _statement_anchor(self, stmt) -> tuple[int, int] | None:
        """Line and column at which statement ``stmt`` (at any depth) starts, from CPython's parser."""
        if self._anchors is None:
            self._anchors = {}
            try:
                tree = ast.parse(self.source)
            except SyntaxError as e:
                self.syntax_error = e  # valid for libcst, not for CPython (a truncated ``\x`` escape)
                return None
            except (ValueError, RecursionError, MemoryError):
                return None
            try:
                self._walk(self.module.body, tree.body)
            except (AttributeError, IndexError, TypeError):  # the two trees disagree: anchor what was mapped
                pass
        return self._anchors.get(stmt)

    def _walk(self, stmts, nodes) -> None:
        i = 0
        anchors = self._anchors
        for stmt in stmts:
            if i >= len(nodes):
                return
            node = nodes[i]
            line = node.lineno
            decorators = getattr(node, "decorator_list", None)
            if decorators:
                line = decorators[0].lineno
            anchors[stmt] = (line, node.col_offset)
            if type(stmt) is cst.SimpleStatementLine:
                i += len(stmt.body)
                continue
            i += 1
            self._walk_compound(stmt, node)

    def _walk_compound(self, stmt, node) -> None:
        body = getattr(stmt, "body", None)
        if isinstance(body, cst.IndentedBlock):
            self._walk(body.body, node.body)
        if isinstance(stmt, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            for h, ah in zip(stmt.handlers, node.handlers):
                if isinstance(h.body, cst.IndentedBlock):
                    self._walk(h.body.body, ah.body)
            if stmt.finalbody is not None and isinstance(stmt.finalbody.body, cst.IndentedBlock):
                self._walk(stmt.finalbody.body.body, node.finalbody)
        elif hasattr(cst, "Match") and isinstance(stmt, cst.Match):
            for c, ac in zip(stmt.cases, node.cases):
                if isinstance(c.body, cst.IndentedBlock):
                    self._walk(c.body.body, ac.body)
        orelse = getattr(stmt, "orelse", None)
        if isinstance(orelse, cst.If):
            elif_node = node.orelse[0]
            self._anchors[orelse] = (elif_node.lineno, elif_node.col_offset)
            self._elifs.add(orelse)
            self._walk_compound(orelse, elif_node)
        elif isinstance(orelse, cst.Else) and isinstance(orelse.body, cst.IndentedBlock):
            self._walk(orelse.body.body, node.orelse)
