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
from dataclasses import dataclass

import libcst as cst
from libcst._nodes.internal import CodegenState


@dataclass(frozen=True)
class Span:
    start: int
    end: int


class _RecordingState(CodegenState):
    """Code generation that remembers where every node begins and ends."""

    def __init__(self, module: cst.Module, spans: dict):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self._spans = spans
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
        self._spans[node] = [self._pos, 0]

    def after_codegen(self, node) -> None:
        self._spans[node][1] = self._pos

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _Syntactic(self)


class _Syntactic:
    __slots__ = ("state",)

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        if self.state._syntactic is None:
            self.state._syntactic = self.state._pos

    def __exit__(self, *exc):
        return False



class Positions:
    """Line/column lookups for nodes of one module."""

    def __init__(self, module: cst.Module, source: str):
        self.module = module
        self.source = source
        self._line_starts: list[int] | None = None
        self._stmt_lines: dict | None = None
        self._spans: dict = {}
        self._done: set = set()
        self._comments: dict = {}

    # ------------------------------------------------------------ lines

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.source.find
            i = find("\n")
            while i != -1:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
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
        got = self._spans.get(node)
        if got is None:
            self.compute(top)
            got = self._spans[node]
        return Span(*got)

    def compute(self, top: cst.CSTNode) -> None:
        """Record the span of every node of top-level statement ``top``, in one code generation."""
        if top in self._done:
            return
        self._done.add(top)
        spans: dict = {}
        line = self._statement_line(top)
        state = _RecordingState(self.module, spans)
        if line is None:
            # CPython cannot anchor the statement (a newer grammar than this
            # interpreter's): generate the whole module instead.
            self.module._codegen(state)
            offset0 = 0
        else:
            top._codegen(state)
            # the statement's first token is at column 0 of ``line``
            offset0 = self.offset_of(line, 0) - (state._syntactic or 0)
        comments = []
        for n, (s, e) in spans.items():
            self._spans[n] = (offset0 + s, offset0 + e)
            if type(n) is cst.Comment:
                comments.append((offset0 + s, n.value))
        self._comments[top] = comments

    def comments_on(self, top: cst.CSTNode, rows: set) -> list[str]:
        """The comments of statement ``top`` that sit on one of ``rows``."""
        self.compute(top)
        return [text for off, text in self._comments.get(top, ()) if self.row_col(off)[0] in rows]

    def _statement_line(self, top) -> int | None:
        if self._stmt_lines is None:
            self._stmt_lines = {}
            try:
                tree = ast.parse(self.source)
            except (SyntaxError, ValueError):
                return None
            body = tree.body
            i = 0
            for stmt in self.module.body:
                if i >= len(body):
                    break
                node = body[i]
                line = node.lineno
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.decorator_list:
                    line = node.decorator_list[0].lineno
                self._stmt_lines[stmt] = line
                i += len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        return self._stmt_lines.get(top)
