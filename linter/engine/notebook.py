"""Jupyter notebooks: their code cells as one Python program, and fixes written back into the cells.

A notebook (nbformat 4 JSON) is linted as the program its code cells make in
cell order, so that a model built in one cell and trained in another is
understood. The program is the cells' sources, each ending with a newline;
findings are placed on its lines and shown as a cell and a line within it
(:meth:`Notebook.locate`). Cells are numbered from 1 counting every cell,
markdown and raw ones included, as Jupyter and ruff number them.

IPython syntax is read as IPython would run it, never as a syntax error:

* a line magic or shell escape (``%matplotlib inline``, ``!pip install x``,
  ``x = !ls``, ``obj?``) becomes a ``pass`` (or an assignment of ``...``)
  that carries the original line, and is put back when the cell is written;
* a cell magic that runs Python (``%%time``, ``%%capture``...) has only its
  first line replaced; a cell magic that runs something else (``%%bash``,
  ``%%writefile``, ``%%html``) leaves the cell out of the program, as do
  markdown and raw cells.

A code cell that still does not parse is reported as KL001 at its own cell
and line and left out, and the other cells are checked. Fixes are made on the
program and written back cell by cell (:meth:`Notebook.rebuild`): only the
``source`` of a changed cell is replaced in the file's JSON text, so outputs,
metadata, ids, key order, indentation and the final newline stay byte for
byte. A fix that would move code across a cell boundary is not written.
"""
from __future__ import annotations

import ast
import difflib
import json
import re
from dataclasses import dataclass, field

#: Cell magics whose body is Python (the rest, ``%%bash``, ``%%writefile``..., are not).
PYTHON_CELL_MAGICS = frozenset(("capture", "debug", "prun", "pypy", "python", "python3", "time", "timeit",
                                "ipytest"))

#: IPython's automagics most seen at the start of a cell: ``pip install x`` without the ``%``.
AUTOMAGICS = frozenset(("pip", "conda", "cd", "env", "load_ext", "reload_ext", "matplotlib", "pwd", "run",
                        "time", "timeit", "alias", "autoreload", "config", "pylab", "precision", "who", "whos",
                        "reset", "store", "sx", "system", "tensorflow_version", "history", "set_env"))

#: The marker that a program line stands for an IPython line of the cell.
MARK = "#%klint "

#: The comment line before each cell's code in the program: fixes are split back into cells by it, so
#: that what a fix inserts at the end of a cell (imports after the last import) stays in that cell.
CELL_MARK = "#%klint-cell "

_ASSIGN_ESCAPE = re.compile(r"^(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[!%]")
_LINES = re.compile(r"\b(lines?) (\d+(?:(?:, | and |-|–)\d+)*)\b")
_HELP_END = re.compile(r"^\s*[A-Za-z_][\w.]*(?:\[\d+\])?\?{1,2}\s*$")


class NotebookError(Exception):
    """The file is not a notebook klint can read (the message says why)."""


@dataclass
class Cell:
    number: int  # 1-based, counting every cell of the notebook
    index: int  # position in the notebook's cells list
    original: str  # the cell's source as stored
    as_list: bool  # stored as a list of lines (else one string)
    span: tuple[int, int]  # where its source value lies in the file's JSON text
    start_row: int = 0  # first line in the program (0: not in the program)
    rows: int = 0
    program: str = ""  # the cell as Python, IPython lines replaced
    added_newline: bool = False
    ipython: dict = field(default_factory=dict)  # program line -> original line


@dataclass
class SyntaxIssue:
    cell: int
    row: int  # in the cell
    col: int
    message: str


class Notebook:
    def __init__(self, text: str):
        self.text = text
        self.cells: list[Cell] = []
        self.syntax: list[SyntaxIssue] = []
        self._parse()

    # ---------------------------------------------------------------- reading

    def _parse(self) -> None:
        try:
            doc, spans = _loads_with_spans(self.text)
        except ValueError as e:
            raise NotebookError(f"not valid notebook JSON: {e}") from None
        if not isinstance(doc, dict):
            raise NotebookError("not a notebook: the JSON is not an object")
        fmt = doc.get("nbformat")
        if fmt != 4:
            found = "no nbformat" if fmt is None else f"nbformat {fmt}"
            raise NotebookError(f"klint reads nbformat 4 notebooks; this file has {found} "
                                "(convert it with `jupyter nbconvert --to notebook`)")
        cells = doc.get("cells")
        if not isinstance(cells, list):
            raise NotebookError("not a notebook: no list of cells")
        language = (doc.get("metadata") or {}).get("language_info", {}).get("name") or \
            (doc.get("metadata") or {}).get("kernelspec", {}).get("language")
        if isinstance(language, str) and language.lower() not in ("python", "python3", "ipython"):
            raise NotebookError(f"the notebook's language is {language}, not Python")
        row = 1
        parts = []
        for i, c in enumerate(cells):
            if not isinstance(c, dict) or c.get("cell_type") != "code":
                continue
            src = c.get("source", "")
            if isinstance(src, list) and all(isinstance(s, str) for s in src):
                original, as_list = "".join(src), True
            elif isinstance(src, str):
                original, as_list = src, False
            else:
                raise NotebookError(f"cell {i + 1}: its source is neither text nor a list of lines")
            span = spans.get(i)
            if span is None:
                raise NotebookError(f"cell {i + 1}: no source")
            cell = Cell(i + 1, i, original, as_list, span)
            language_id = ((c.get("metadata") or {}).get("vscode") or {}).get("languageId")
            if language_id not in (None, "python"):
                continue
            program = self._program(cell)
            if program is None:
                continue
            cell.program = program
            cell.start_row = row + 1  # after the line that marks where it starts
            cell.rows = program.count("\n")
            row += 1 + cell.rows
            parts.append(f"{CELL_MARK}{cell.number}\n{program}")
            self.cells.append(cell)
        self.source = "".join(parts)

    def _program(self, cell: Cell) -> str | None:
        """The cell as Python, or None when it is not Python (a ``%%bash`` cell) or does not parse."""
        lines = cell.original.splitlines(keepends=True)
        if not lines:
            return None
        first = lines[0].strip()
        if first.startswith("%%"):
            magic = first[2:].split(None, 1)[0] if first[2:].strip() else ""
            if magic not in PYTHON_CELL_MAGICS:
                return None
        text = cell.original if cell.original.endswith("\n") else cell.original + "\n"
        cell.added_newline = not cell.original.endswith("\n")
        if _parses(text):
            return text
        out = []
        continued = None  # the indentation of an IPython line that a trailing backslash continues
        for n, line in enumerate(text.splitlines(keepends=True)):
            body = line.rstrip("\r\n")
            if continued is not None:  # ``!cmd \`` goes on: the whole shell command is one IPython line
                replaced = f"{continued}pass"
            else:
                replaced = _ipython_line(body, first_line=n == 0)
            if replaced is None or not body.endswith("\\"):
                continued = None
            elif continued is None:
                continued = body[:len(body) - len(body.lstrip())]
            if replaced is None:
                out.append(line)
            else:
                marked = f"{replaced}  {MARK}{len(cell.ipython)}"
                cell.ipython[marked] = body
                out.append(marked + "\n")
        program = "".join(out)
        error = _syntax_error(program)
        if error is not None:
            row, col, message = error
            self.syntax.append(SyntaxIssue(cell.number, row, col, message))
            return None
        return program

    # -------------------------------------------------------------- positions

    def locate(self, row: int) -> tuple[int, int]:
        """(cell number, row within the cell) of a program row."""
        for cell in reversed(self.cells):
            if cell.start_row and row >= cell.start_row:
                return cell.number, min(row - cell.start_row + 1, max(cell.rows, 1))
        return (self.cells[0].number, 1) if self.cells else (1, row)

    def relabel(self, message: str) -> str:
        """A finding's message with the program lines it names as lines of cells: "lines 7, 8" becomes
        "lines 3, 4 of cell 3", "line 12" "line 2 of cell 7"."""

        def one(m):
            rows = [int(x) for x in re.findall(r"\d+", m.group(2))]
            places = [self.locate(r) for r in rows]
            cells = {c for c, _ in places}
            if len(cells) == 1:
                numbers = iter(str(row) for _, row in places)
                joined = re.sub(r"\d+", lambda _: next(numbers), m.group(2))
                return f"{m.group(1)} {joined} of cell {places[0][0]}"
            return ", ".join(f"line {r} of cell {c}" for c, r in places)

        return _LINES.sub(one, message)

    # -------------------------------------------------------------- writing

    def rebuild(self, new_source: str) -> str:
        """The notebook's JSON text with the fixed program written back into its cells."""
        marks = [f"{CELL_MARK}{c.number}\n" for c in self.cells]
        pieces = re.split(r"^" + re.escape(CELL_MARK) + r"\d+\n", new_source, flags=re.M)
        found = re.findall(r"^" + re.escape(CELL_MARK) + r"\d+\n", new_source, flags=re.M)
        if found != marks:
            raise NotebookError("a fix would move code across a cell boundary")
        head, programs = pieces[0], pieces[1:]
        if head and programs:  # inserted above the first cell's code: it goes into that cell
            programs[0] = head + programs[0]
        text = self.text
        edits = []
        for cell, program in zip(self.cells, programs):
            if program == cell.program:
                continue
            lines = []
            for line in program.splitlines(keepends=True):
                original = cell.ipython.get(line.rstrip("\r\n"))
                if original is not None:
                    lines.append(original + line[len(line.rstrip("\r\n")):])
                elif MARK in line:
                    raise NotebookError("a fix would change an IPython line")
                else:
                    lines.append(line)
            body = "".join(lines)
            if cell.added_newline and body.endswith("\n"):
                body = body[:-1]
            edits.append((cell.span, _source_json(body, cell, text)))
        for (start, end), fragment in sorted(edits, reverse=True):
            text = text[:start] + fragment + text[end:]
        return text

    def diff(self, new_source: str, name: str) -> str:
        """A unified diff per changed code cell, headed ``name:cell N``."""
        rebuilt = Notebook(self.rebuild(new_source))
        after = {c.number: c.original for c in rebuilt.cells}
        out = []
        for cell in self.cells:
            new = after.get(cell.number, cell.original)
            if new != cell.original:
                for line in difflib.unified_diff(cell.original.splitlines(keepends=True),
                                                 new.splitlines(keepends=True),
                                                 f"{name}:cell {cell.number}", f"{name}:cell {cell.number}"):
                    out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of cell\n")
        return "".join(out)


def is_notebook(name) -> bool:
    return str(name).endswith(".ipynb")


# ---------------------------------------------------------------- IPython lines

def _ipython_line(body: str, first_line: bool) -> str | None:
    """The Python line that stands for an IPython line, or None for a Python line."""
    stripped = body.lstrip()
    indent = body[:len(body) - len(stripped)]
    if not stripped:
        return None
    if stripped[0] in "%!?" or (stripped[0] in "/;," and not indent):
        return f"{indent}pass"
    m = _ASSIGN_ESCAPE.match(body)
    if m:
        return f"{m.group(1)}{m.group(2)} = ..."
    if _HELP_END.match(body):
        return f"{indent}pass"
    if first_line and not indent:
        word, _, rest = stripped.partition(" ")
        if word in AUTOMAGICS and not rest.lstrip().startswith(("=", "+=", "-=", "(", ".", "[")):
            return "pass"
    return None


def _parses(text: str) -> bool:
    return _syntax_error(text) is None


def _syntax_error(text: str) -> tuple[int, int, str] | None:
    try:
        ast.parse(text)
    except SyntaxError as e:
        return e.lineno or 1, max(e.offset or 1, 1), f"SyntaxError: {e.msg}"
    except (ValueError, RecursionError, MemoryError) as e:
        return 1, 1, f"SyntaxError: {e}"
    return None


# ---------------------------------------------------------------- JSON with spans

def _loads_with_spans(text: str) -> tuple[object, dict[int, tuple[int, int]]]:
    """The parsed JSON, and for each cell index the span of its ``source`` value in ``text``."""
    doc = json.loads(text)
    spans: dict[int, tuple[int, int]] = {}
    _Spans(text, spans).document()
    return doc, spans


class _Spans:
    """Finds where ``cells[i].source`` lies in the JSON text (the text is known to be valid JSON)."""

    _WS = re.compile(r"[ \t\n\r]*")
    _SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")

    def __init__(self, text: str, spans: dict):
        self.s, self.spans, self.i = text, spans, 0

    def ws(self) -> None:
        self.i = self._WS.match(self.s, self.i).end()

    def document(self) -> None:
        self.ws()
        self.value(("",))

    def value(self, path: tuple) -> None:
        self.ws()
        c = self.s[self.i]
        if c == "{":
            self.obj(path)
        elif c == "[":
            self.arr(path)
        elif c == '"':
            _, self.i = json.decoder.scanstring(self.s, self.i + 1)
        else:
            self.i = self._SCALAR.match(self.s, self.i).end()

    def obj(self, path: tuple) -> None:
        self.i += 1
        self.ws()
        if self.s[self.i] == "}":
            self.i += 1
            return
        while True:
            self.ws()
            key, self.i = json.decoder.scanstring(self.s, self.i + 1)
            self.ws()
            self.i += 1  # ':'
            self.ws()
            start = self.i
            self.value(path + (key,))
            if len(path) == 3 and path[1] == "cells" and key == "source":
                self.spans[path[2]] = (start, self.i)
            self.ws()
            if self.s[self.i] == ",":
                self.i += 1
                continue
            self.i += 1  # '}'
            return

    def arr(self, path: tuple) -> None:
        self.i += 1
        self.ws()
        if self.s[self.i] == "]":
            self.i += 1
            return
        n = 0
        while True:
            self.value(path + (n,) if path == ("", "cells") else path + ("[]",))
            n += 1
            self.ws()
            if self.s[self.i] == ",":
                self.i += 1
                continue
            self.i += 1  # ']'
            return


def _source_json(body: str, cell: Cell, text: str) -> str:
    """``body`` as the JSON of the cell's source, in the style the file already uses there."""
    start, end = cell.span
    old = text[start:end]
    ascii_only = "\\u" in old and not any(ord(ch) > 127 for ch in old)
    if not cell.as_list:
        return json.dumps(body, ensure_ascii=ascii_only)
    lines = body.splitlines(keepends=True)
    if not lines:
        return "[]"
    # the indentation of the list's items and of its closing bracket, as written
    m = re.match(r"\[(\s*)", old)
    item_sep = m.group(1) if m else ""
    close = re.search(r"(\s*)\]$", old)
    close_sep = close.group(1) if close else ""
    if "\n" not in item_sep:  # a list on one line
        return "[" + ", ".join(json.dumps(x, ensure_ascii=ascii_only) for x in lines) + "]"
    items = ("," + item_sep).join(json.dumps(x, ensure_ascii=ascii_only) for x in lines)
    return "[" + item_sep + items + close_sep + "]"
