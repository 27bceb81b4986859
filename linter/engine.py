"""The engine: read, parse once, analyse, run the rules, place findings, fix.

Fixes follow ruff's model. Rules propose edits; the engine turns them into
minimal text edits, drops a fix whose edits overlap an earlier one, adds the
imports that fixes need (reusing the file's aliases), applies, re-parses and
re-lints until nothing changes (at most ``MAX_FIX_PASSES`` times). A pass
whose result would not parse is reverted and reported. Files are written
atomically, keeping their encoding, BOM and line endings.
"""
from __future__ import annotations

import ast
import io
import os
import re
import tempfile
import tokenize
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from klint.context import Finding, ImportNeed, Loc, SourceContext
from klint.positions import Positions
from klint.rule import Applicability, Fix
from klint.source.interpreter import analyze

MAX_FIX_PASSES = 10
KERAS_MARKERS = (b"keras", b"tensorflow")

_SUPPRESS = re.compile(
    r"#\s*(?:noqa|klint:\s*ignore)(?![-\w])(?:\s*(?::|\[)\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*)\]?)?",
    re.IGNORECASE,
)
_IGNORE_FILE = re.compile(r"^[ \t]*#[ \t]*klint:[ \t]*ignore-file\b", re.MULTILINE | re.IGNORECASE)


@dataclass
class TextEdit:
    start: int
    end: int
    content: str


@dataclass
class Problem:
    """A file klint could not check: it does not parse, cannot be decoded, or a rule failed.

    A ``warning`` (the model view could not build the model) is shown but
    does not change the exit code, which follows the findings.
    """

    code: str
    name: str
    message: str
    row: int = 1
    col: int = 1
    warning: bool = False


@dataclass
class FileResult:
    path: str
    findings: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    source: str | None = None  # text as read
    fixed_source: str | None = None  # text after fixes, when any applied
    fixed: int = 0
    skipped: bool = False
    encoding: str = "utf-8"
    bom: bool = False


# ----------------------------------------------------------------- reading


class DecodeError(Exception):
    pass


def decode(data: bytes) -> tuple[str, str, bool]:
    """Text, encoding and BOM flag of a Python file (PEP 263 cookies honoured)."""
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:
        raise DecodeError(str(e)) from e
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    body = data[3:] if bom else data
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        raise DecodeError(_decode_message(body, encoding, e)) from e
    return text, encoding, bom


def _decode_message(body: bytes, encoding: str, e: Exception) -> str:
    if isinstance(e, UnicodeDecodeError):
        line = body.count(b"\n", 0, e.start) + 1
        return f"line {line}: file is not valid {encoding} ({e.reason} at byte {e.start})"
    return str(e)


def encode(text: str, encoding: str, bom: bool) -> bytes:
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` without ever leaving a partial file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".klint-tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            st = os.stat(path)
            os.chmod(tmp, st.st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def mentions_keras(data: bytes) -> bool:
    return any(m in data for m in KERAS_MARKERS)


# ----------------------------------------------------------------- linting


class Linter:
    def __init__(self, rules: list, options: dict[str, dict], unsafe: bool = False, graph=None):
        self.rules = [r() for r in rules if "source" in r.views]
        self.model_rules = [r() for r in rules if "model" in r.views]
        self.options = {r.code: r.option_values(options.get(r.code)) for r in rules}
        self.unsafe = unsafe
        self.graph = graph  # CaptureOptions when the model view is on

    def lint_text(self, path: str, text: str, ignore: list[str] = ()) -> tuple[list, list]:
        """Findings and problems for one source text (nothing written)."""
        if _IGNORE_FILE.search(text) and _ignore_file_comment(text):
            return [], []
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as e:
            return [], [syntax_problem(e, text)]
        except RecursionError:
            return [], [Problem("KL001", "syntax-error", "file is too deeply nested to parse")]
        return self.lint_module(path, text, module, ignore)

    def lint_module(self, path: str, text: str, module: cst.Module, ignore=()) -> tuple[list, list]:
        problems: list = []
        try:
            analysis = analyze(module)
        except RecursionError:
            return [], [Problem("KL003", "internal-error", "the source view gave up: code nested too deeply")]
        ctx = SourceContext(path, text, module, analysis, self.options)
        positions = Positions(module, text)
        ctx.positions = positions
        for rule in self.rules:
            if _ignored(rule.code, ignore):
                continue
            ctx.rule = rule
            try:
                rule.check(ctx)
            except Exception as e:  # a rule bug must not stop the other rules or files
                tb = traceback.extract_tb(e.__traceback__)[-1]
                problems.append(Problem(
                    "KL003", "internal-error",
                    f"rule {rule.code} failed: {type(e).__name__}: {e} ({Path(tb.filename).name}:{tb.lineno})"))
        findings = list(ctx.findings)
        if self.graph is not None and self.model_rules and os.path.isfile(path):
            findings += self.model_view(path, text, module, analysis, positions, problems)
        findings = self.place(findings, module, text, positions, path)
        return findings, problems

    def lint_saved(self, path: str, data: bytes) -> tuple[list, list]:
        """Findings on a saved model (``.keras`` archive or ``.json`` config), read as data only."""
        from klint.context import ModelContext
        from klint.model import saved, view
        from klint.source.interpreter import SourceAnalysis

        try:
            config = saved.read_config(Path(path), data)
        except saved.SavedModelError as e:
            return [], [Problem("KL002", "unreadable-model", f"cannot read the saved model: {e}")]
        snap = saved.snapshot(config, Path(path))
        model = view.build(snap, SourceAnalysis(), None, path)
        ctx = ModelContext(path, "", None, model, self.options)
        problems: list = []
        for rule in self.model_rules:
            ctx.rule = rule
            try:
                rule.check(ctx)
            except Exception as e:
                problems.append(Problem("KL003", "internal-error",
                                        f"rule {rule.code} failed on the saved model: {type(e).__name__}: {e}"))
        return self.place(ctx.findings, None, "", None, path), problems

    def model_view(self, path: str, text: str, module, analysis, positions, problems: list) -> list:
        """Findings of the rules on the real model, built by running the script."""
        from klint.context import ModelContext
        from klint.model import runner, view

        res = runner.capture(Path(path), text.encode("utf-8"), self.graph)
        if res.warning:
            problems.append(Problem("KL005", "model-view", f"model view: {res.warning}", res.line or 1, 1,
                                    warning=True))
        if not res.snapshot or not res.snapshot.get("models"):
            return []
        model = view.build(res.snapshot, analysis, positions, path)
        ctx = ModelContext(path, text, module, model, self.options)
        ctx.positions = positions
        for rule in self.model_rules:
            ctx.rule = rule
            try:
                rule.check(ctx)
            except Exception as e:
                tb = traceback.extract_tb(e.__traceback__)[-1]
                problems.append(Problem(
                    "KL003", "internal-error",
                    f"rule {rule.code} failed on the model view: {type(e).__name__}: {e} "
                    f"({Path(tb.filename).name}:{tb.lineno})"))
        return ctx.findings

    def place(self, findings: list[Finding], module: cst.Module, text: str, positions: Positions,
              path: str = "") -> list:
        """Give findings rows and columns and text edits; drop suppressed and duplicate ones.

        Findings of both views at the same place with the same code are one:
        the first (the source view's, which runs first) is kept.
        """
        if not findings:
            return []
        out: list = []
        seen: set = set()
        import_anchor = None
        here = os.path.realpath(path) if path else None
        for f in findings:
            if f.at is None:
                # located by a recorded construction site
                site = f.site
                f.row, f.col = site.line or 1, (site.col or 0) + 1
                f.end_row, f.end_col = f.row, f.col
                other = site.file and here and os.path.realpath(site.file) != here
                if other:
                    f.filename = site.file
                key = (f.code, f.row, f.col, f.filename)
                if (f.filename or path).endswith((".keras", ".json")):
                    key += (f.message,)  # a saved model: every layer sits at the top of the file
                if key in seen or (not other and _suppressed(f.code, _line_comments(text, f.row))):
                    continue
                seen.add(key)
                out.append(f)
                continue
            span = positions.report_span(f.at.node, f.at.top)
            f.row, f.col = positions.row_col(span.start)
            f.end_row, f.end_col = positions.row_col(span.end)
            key = (f.code, f.row, f.col, None)
            if key in seen:
                continue
            seen.add(key)
            if _suppressed(f.code, positions.comments_on(f.at.top, {f.row, f.end_row})):
                continue
            if f.fix is not None:
                edits = []
                for e in f.fix.edits:
                    sp = positions.span(e.at.node, e.at.top)
                    new = e.text if isinstance(e.text, str) else positions.code_in(e.text, e.at.top)
                    if e.where == "replace":
                        edits.append(_minimal(text, sp.start, sp.end, new))
                    elif e.where == "before":
                        edits.append(TextEdit(sp.start, sp.start, new))
                    else:
                        edits.append(TextEdit(sp.end, sp.end, new))
                if f.fix.imports:
                    if import_anchor is None:
                        import_anchor = _import_anchor(module, positions)
                    offset, prefix = import_anchor
                    nl = module.default_newline
                    for need in f.fix.imports:
                        edits.append(TextEdit(offset, offset, prefix + need.statement() + nl))
                f.text_edits = edits
            out.append(f)
        out.sort(key=lambda f: (f.row, f.col, f.code))
        return out

    # -------------------------------------------------------------- fixing

    def applicable(self, fix: Fix | None) -> bool:
        if fix is None:
            return False
        return fix.applicability == Applicability.SAFE or self.unsafe

    def fix_text(self, path: str, text: str, ignore=()) -> tuple[str, int, list, list, list]:
        """Fix ``text`` to a fixed point. Returns the new text, the number of fixes
        applied, the remaining findings and problems, and warnings."""
        fixed = 0
        warnings: list[str] = []
        for _ in range(MAX_FIX_PASSES):
            findings, problems = self.lint_text(path, text, ignore)
            if problems and any(p.code == "KL001" for p in problems):
                return text, fixed, findings, problems, warnings
            todo = [f for f in findings if self.applicable(f.fix) and f.text_edits]
            if not todo:
                return text, fixed, findings, problems, warnings
            new_text, n = apply_fixes(text, todo)
            if n == 0 or new_text == text:
                return text, fixed, findings, problems, warnings
            error = parse_error(new_text)
            if error is not None:
                warnings.append(f"fixes for {', '.join(sorted({f.code for f in todo}))} were reverted: "
                                f"the result would not parse ({error})")
                return text, fixed, findings, problems, warnings
            text = new_text
            fixed += n
        findings, problems = self.lint_text(path, text, ignore)
        warnings.append(f"fixes did not converge after {MAX_FIX_PASSES} passes")
        return text, fixed, findings, problems, warnings


def _line_comments(text: str, row: int) -> list[str]:
    """The comment on line ``row``, read with the tokenizer (so ``#`` in strings does not count)."""
    lines = text.splitlines(keepends=True)
    if not 1 <= row <= len(lines):
        return []
    try:
        toks = tokenize.generate_tokens(io.StringIO(lines[row - 1]).readline)
        return [t.string for t in toks if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []


def _ignore_file_comment(text: str) -> bool:
    """Whether ``# klint: ignore-file`` is a real comment line (not text inside a string)."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT and _IGNORE_FILE.match(tok.line) and tok.line.lstrip().startswith("#"):
                return True
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return False
    return False


def _ignored(code: str, ignore) -> bool:
    return any(code.upper().startswith(i.upper()) for i in ignore)


def _suppressed(code: str, comments: list[str]) -> bool:
    for text in comments:
        for m in _SUPPRESS.finditer(text):
            codes = m.group("codes")
            if not codes:
                return True
            if any(code.upper().startswith(c.upper()) for c in re.split(r"[\s,]+", codes) if c):
                return True
    return False


def _minimal(text: str, start: int, end: int, new: str) -> TextEdit:
    old = text[start:end]
    p = 0
    n = min(len(old), len(new))
    while p < n and old[p] == new[p]:
        p += 1
    q = 0
    while q < n - p and old[len(old) - 1 - q] == new[len(new) - 1 - q]:
        q += 1
    return TextEdit(start + p, end - q, new[p:len(new) - q])


def _import_anchor(module: cst.Module, positions: Positions) -> tuple[int, str]:
    """Where new imports go: after the last import of the file's leading block."""
    last = None
    first_code = None
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body):
            last = stmt
            continue
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(
                stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)) \
                and first_code is None and last is None:
            continue  # the module docstring
        if isinstance(stmt, cst.Try) and last is not None:
            continue  # try: import x / except ImportError: ...
        if isinstance(stmt, cst.If) and last is not None:
            continue
        if first_code is None:
            first_code = stmt
        if last is not None:
            break
    if last is not None:
        span = positions.span(last, last)
        return span.end, ""
    if module.body:
        first = module.body[0]
        span = positions.span(first, first)
        if first is not first_code:  # a docstring
            return span.end, ""
        return span.start, ""
    return len(positions.source), ""


def apply_fixes(text: str, findings: list) -> tuple[str, int]:
    """Apply the text edits of ``findings`` in order, skipping any fix that overlaps one already taken."""
    taken: list[TextEdit] = []
    inserts: dict[int, list[str]] = {}
    count = 0
    for f in sorted(findings, key=lambda f: (f.row, f.col)):
        body = [e for e in f.text_edits if not _is_import_edit(e, f)]
        imports = [e for e in f.text_edits if _is_import_edit(e, f)]
        if any(_overlaps(e, t) for e in body for t in taken):
            continue
        taken.extend(body)
        for e in imports:
            lst = inserts.setdefault(e.start, [])
            if e.content not in lst:
                lst.append(e.content)
        count += 1
    edits = list(taken) + [TextEdit(pos, pos, "".join(c)) for pos, c in inserts.items() if c]
    # apply from the end so earlier offsets stay valid; an insertion sorts after a
    # replacement that ends at the same offset
    edits.sort(key=lambda e: (e.start, e.end), reverse=True)
    out = text
    for e in edits:
        out = out[:e.start] + e.content + out[e.end:]
    return out, count


def _is_import_edit(e: TextEdit, f) -> bool:
    return e.start == e.end and bool(f.fix and f.fix.imports) and e.content.lstrip().startswith(("import ", "from "))


def _overlaps(a: TextEdit, b: TextEdit) -> bool:
    if a.start == a.end == b.start == b.end:
        return True
    return a.start < b.end and b.start < a.end or (a.start == a.end and b.start < a.start < b.end) or (
        b.start == b.end and a.start < b.start < a.end)


def parse_error(text: str) -> str | None:
    try:
        cst.parse_module(text)
        ast.parse(text)
    except cst.ParserSyntaxError as e:
        return f"line {e.raw_line}: {e.message}"
    except SyntaxError as e:
        return f"line {e.lineno}: {e.msg}"
    return None


def syntax_problem(e: cst.ParserSyntaxError, text: str | None = None) -> Problem:
    """A parse failure, located by CPython's parser when it agrees the file is invalid.

    libcst places tokenizer errors (an unterminated string, a bad dedent) on
    line 1; CPython gives the real line and a clearer message.
    """
    if text is not None:
        try:
            ast.parse(text)
        except SyntaxError as se:
            if se.lineno:
                return Problem("KL001", "syntax-error", f"SyntaxError: {se.msg}", se.lineno, max(se.offset or 1, 1))
        except (ValueError, RecursionError, MemoryError):
            pass
    msg = e.message.strip()
    return Problem("KL001", "syntax-error", f"SyntaxError: {msg}", e.raw_line, e.raw_column + 1)


__all__ = ["Linter", "FileResult", "Problem", "TextEdit", "decode", "encode", "write_atomic", "mentions_keras",
           "DecodeError", "ImportNeed", "Loc"]
