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
import bisect
import codecs
import io
import os
import re
import tempfile
import tokenize
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from klint.engine.context import Finding, ImportNeed, Loc, SourceContext
from klint.engine.positions import Positions
from klint.engine.rule import Applicability, Fix
from klint.engine.target import Target
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
class Related:
    """A place a grouped finding covers (a layer of the stack), as output formats show it."""

    row: int
    col: int
    end_row: int
    end_col: int
    note: str = ""


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
    # a notebook: ``source``/``fixed_source`` are its JSON text, the findings are placed on the program
    # its code cells make (``program``, ``fixed_program``), and ``notebook`` maps that program to cells
    notebook: object | None = None
    program: str | None = None
    fixed_program: str | None = None

    def linted_text(self) -> str | None:
        """The text the findings' positions and edits refer to."""
        if self.notebook is not None:
            return self.fixed_program or self.program
        return self.fixed_source or self.source


# ----------------------------------------------------------------- reading


class DecodeError(Exception):
    pass


def decode(data: bytes) -> tuple[str, str, bool]:
    """Text, encoding and BOM flag of a Python file, decoded as CPython decodes source.

    The encoding comes from the BOM or the PEP 263 cookie
    (``tokenize.detect_encoding``). A cookie naming a codec that is not a
    text encoding (``rot13``, ``hex``), one that fails on the file
    (``undefined``), or a decoding that yields characters no file can hold
    (a lone surrogate from ``unicode_escape``) is a :class:`DecodeError`.
    """
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except (SyntaxError, LookupError, UnicodeError, ValueError) as e:
        raise DecodeError(str(e).strip() or type(e).__name__) from e
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    try:
        if not getattr(codecs.lookup(encoding), "_is_text_encoding", True):
            raise DecodeError(f"the coding cookie names {encoding!r}, which is not a text encoding")
    except LookupError as e:
        raise DecodeError(f"unknown encoding: {encoding}") from e
    body = data[3:] if bom else data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as e:
        raise DecodeError(_decode_message(body, encoding, e)) from e
    except Exception as e:  # a codec may fail in its own way (``undefined`` always does)
        raise DecodeError(f"cannot decode as {encoding}: {e}") from e
    if not isinstance(text, str):
        raise DecodeError(f"the {encoding} codec does not give text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        line = text.count("\n", 0, e.start) + 1
        raise DecodeError(f"line {line}: decoding as {encoding} gives a lone surrogate (U+{ord(text[e.start]):04X}), "
                          "which is not a character") from e
    return text, encoding, bom


def _decode_message(body: bytes, encoding: str, e: Exception) -> str:
    if isinstance(e, UnicodeDecodeError):
        line = body.count(b"\n", 0, e.start) + 1
        return f"line {line}: file is not valid {encoding} ({e.reason} at byte {e.start})"
    return str(e)


class EncodeError(Exception):
    pass


def encode(text: str, encoding: str, bom: bool) -> bytes:
    """The bytes of ``text`` in the file's encoding, checked to read back as exactly ``text``.

    A codec that does not round-trip (``unicode_escape`` writes a
    non-ASCII character as an escape, which then reads back as the
    escape) raises :class:`EncodeError`: a fix is never written that way.
    """
    try:
        data = text.encode(encoding)
    except Exception as e:
        raise EncodeError(f"the fixed source cannot be written as {encoding}: {e}") from e
    data = (b"\xef\xbb\xbf" + data) if bom else data
    try:
        again = decode(data)[0]
    except DecodeError as e:
        raise EncodeError(f"the fixed source would not read back as {encoding}: {e}") from e
    if again != text:
        raise EncodeError(f"the fixed source would not read back unchanged as {encoding}")
    return data


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
    def __init__(self, rules: list, options: dict[str, dict], unsafe: bool = False, graph=None,
                 target: Target | None = None):
        self.rules = [r() for r in rules if "source" in r.views]
        self.model_rules = [r() for r in rules if "model" in r.views]
        self.options = {r.code: r.option_values(options.get(r.code)) for r in rules}
        self.unsafe = unsafe
        self.graph = graph  # CaptureOptions when the model view is on
        self.target = target or Target()  # the Keras release the project targets

    def lint_text(self, path: str, text: str, ignore: list[str] = ()) -> tuple[list, list]:
        """Findings and problems for one source text (nothing written)."""
        if _IGNORE_FILE.search(text) and _ignore_file_comment(text):
            return [], []
        refused = screen(text)
        if refused is not None:
            return [], [refused]
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as e:
            return [], [syntax_problem(e, text)]
        except (RecursionError, MemoryError):
            return [], [Problem("KL001", "syntax-error", "file is too deeply nested to parse")]
        except Exception as e:  # libcst rejects what it cannot represent (an identifier with a zero-width joiner)
            return [], [unparsable_problem(e, text)]
        return self.lint_module(path, text, module, ignore)

    def lint_module(self, path: str, text: str, module: cst.Module, ignore=()) -> tuple[list, list]:
        problems: list = []
        try:
            analysis = analyze(module)
        except RecursionError:
            return [], [Problem("KL003", "internal-error", "the source view gave up: code nested too deeply")]
        ctx = SourceContext(path, text, module, analysis, self.options, self.target)
        ctx.ignore = tuple(ignore)
        positions = Positions(module, text)
        ctx.positions = positions
        if analysis.incomplete:
            _node, name = analysis.incomplete[0]
            problems.append(Problem(
                "KL006", "analysis-incomplete",
                f"the source view did not follow {len(analysis.incomplete)} call(s) of helpers nested too "
                f"deeply or run too often (first: `{name}`): findings about the layers they build may be "
                f"missing", warning=True))
        for rule in self.rules:
            if _ignored(rule.code, ignore):
                continue
            ctx.rule = rule
            try:
                rule.check(ctx)
            except MemoryError:
                raise  # the worker reports it, and makes way for a fresh process
            except Exception as e:  # a rule bug must not stop the other rules or files
                tb = traceback.extract_tb(e.__traceback__)[-1]
                problems.append(Problem(
                    "KL003", "internal-error",
                    f"rule {rule.code} failed: {type(e).__name__}: {e} ({Path(tb.filename).name}:{tb.lineno})"))
        findings = list(ctx.findings)
        if self.graph is not None and self.model_rules and os.path.isfile(path):
            findings += self.model_view(path, text, module, analysis, positions, problems)
        findings = self.place(findings, module, text, positions, path)
        e = positions.syntax_error
        if e is not None:  # placing the findings showed that CPython rejects the file
            return [], [Problem("KL001", "syntax-error", f"SyntaxError: {e.msg}", e.lineno or 1, max(e.offset or 1, 1))]
        return findings, problems

    def lint_saved(self, path: str, data: bytes) -> tuple[list, list]:
        """Findings on a saved model (``.keras`` archive or ``.json`` config), read as data only."""
        from klint.engine.context import ModelContext
        from klint.model import saved, view
        from klint.source.interpreter import SourceAnalysis

        try:
            config = saved.read_config(Path(path), data)
            snap = saved.snapshot(config, Path(path))
        except saved.SavedModelError as e:
            return [], [Problem("KL002", "unreadable-model", f"cannot read the saved model: {e}")]
        model = view.build(snap, SourceAnalysis(), None, path)
        ctx = ModelContext(path, "", None, model, self.options, self.target)
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
        from klint.engine.context import ModelContext
        from klint.model import runner, view

        res = runner.capture(Path(path), text.encode("utf-8"), self.graph)
        if res.warning:
            problems.append(Problem("KL005", "model-view", f"model view: {res.warning}", res.line or 1, 1,
                                    warning=True))
        if not res.snapshot or not res.snapshot.get("models"):
            return []
        model = view.build(res.snapshot, analysis, positions, path)
        ctx = ModelContext(path, text, module, model, self.options, self.target)
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
        assumed = sorted({a for u in res.snapshot.get("standins") or [] for a in u.get("assumed") or []})
        if assumed:  # the model's shapes may follow values klint chose for the synthetic data
            for f in ctx.findings:
                f.message += f" (judged on a model built with synthetic data; klint assumed {', '.join(assumed)})"
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
            grouped = f.parts is not None
            if grouped:
                if not _place_group(f, positions):
                    continue  # every place of the group is suppressed
            else:
                span = positions.report_span(f.at.node, f.at.top)
                f.row, f.col = positions.row_col(span.start)
                f.end_row, f.end_col = positions.row_col(span.end)
            key = (f.code, f.row, f.col, None)
            if key in seen:
                continue
            seen.add(key)
            if not grouped and _suppressed(f.code, positions.comments_on(f.at.top, {f.row, f.end_row})):
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
                edits = _own_edits(edits)
                if f.fix.imports:
                    if import_anchor is None:
                        import_anchor = _import_anchor(module, positions)
                    offset, prefix = import_anchor
                    nl = module.default_newline
                    for need in f.fix.imports:
                        edits.append(TextEdit(offset, offset, prefix + need.statement() + nl))
                f.text_edits = edits
            f.parts = f.describe = None  # placed: only plain data is kept (results cross processes)
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
        applied, the remaining findings and problems, and warnings.

        A fix that undoes an earlier fix (two findings that flip one line
        back and forth) is withdrawn together with the fix it undoes, and
        fixing starts again from the text as given, without them. A text that
        reaches no fixed point within the passes allowed is left as it was.
        """
        original = text
        fixed = 0
        warnings: list[str] = []
        compiles = compile_error(text) is None  # then a fix must keep it compiling, not just parsing
        upgrade = {r.code for r in self.rules if r.keras3_upgrade}
        withdrawn: set = set()
        seen: set = {text}
        history: list = []  # the keys of the fixes applied, pass by pass, since the last start
        for _ in range(MAX_FIX_PASSES * 3):
            findings, problems = self.lint_text(path, text, ignore)
            if problems and any(p.code == "KL001" for p in problems):
                return text, fixed, findings, problems, warnings
            todo = [f for f in findings if self.applicable(f.fix) and f.text_edits
                    and _fix_key(f, text) not in withdrawn]
            if not todo:
                return text, fixed, findings, problems, warnings
            # the code is brought to Keras 3 first: the other rules read it as Keras 3 code (a Keras 1
            # `init=` is no `kernel_initializer` to them), so their fixes wait for the upgrade's
            todo = [f for f in todo if f.code in upgrade] or todo
            new_text, applied = _apply(text, todo)
            if not applied or new_text == text:
                return text, fixed, findings, problems, warnings
            error = parse_error(new_text)
            if error is None and compiles:
                error = compile_error(new_text)
                error = error and f"{error}, which Python rejects"
            if error is not None and len(applied) > 1 and parse_error(text) is None:
                # two fixes that are right alone can clash (both add the same keyword): keep the ones that
                # go together, in order; the others are found again on the next pass
                new_text, applied, error = _apply_compatible(text, todo, compiles)
            if error is not None:
                warnings.append(f"fixes for {', '.join(sorted({f.code for f in todo}))} were reverted: "
                                f"the result would not parse ({error})")
                return text, fixed, findings, problems, warnings
            keys = {_fix_key(f, text) for f in applied}
            earlier = {k for ks in history for k in ks}
            undone = {k for k in earlier if any(_undoes(new, k) for new in keys)}
            if undone or new_text in seen:
                # back to where an earlier pass started: withdraw what flips, and start again without it
                withdrawn |= (undone | {k for k in keys if any(_undoes(k, u) for u in undone)}) if undone \
                    else (keys | earlier)
                codes = sorted({k[0] for k in withdrawn})
                warnings = [f"fixes for {', '.join(codes)} were withdrawn: another fix undoes them"]
                text, fixed, seen, history = original, 0, {original}, []
                continue
            if len(history) >= MAX_FIX_PASSES:
                break
            history.append(keys)
            seen.add(new_text)
            text = new_text
            fixed += len(applied)
        findings, problems = self.lint_text(path, original, ignore)
        warnings.append(f"fixes did not converge after {MAX_FIX_PASSES} passes: the file is left as it was")
        return original, 0, findings, problems, warnings


def _place_group(f: Finding, positions: Positions) -> bool:
    """Place the parts of a grouped finding, leave out the suppressed ones, and build its message and fix.

    The finding sits on its first remaining part; its fix edits every
    remaining part that has edits (unsafe if any of them is).
    """
    kept = []
    for p in f.parts:
        span = positions.report_span(p.at.node, p.at.top)
        p.row, p.col = positions.row_col(span.start)
        p.end_row, p.end_col = positions.row_col(span.end)
        if not _suppressed(f.code, positions.comments_on(p.at.top, {p.row, p.end_row})):
            kept.append(p)
    if not kept:
        return False
    kept.sort(key=lambda p: (p.row, p.col))
    first = kept[0]
    f.at = first.at
    f.row, f.col, f.end_row, f.end_col = first.row, first.col, first.end_row, first.end_col
    f.message = f.describe(kept)
    f.related = [Related(p.row, p.col, p.end_row, p.end_col, p.note) for p in kept]
    fixable = [p for p in kept if p.edits]
    f.fix = None
    if fixable:
        unsafe = any(p.applicability == Applicability.UNSAFE for p in fixable)
        imports: list = []
        for p in fixable:
            imports += [i for i in p.imports if i not in imports]
        f.fix = Fix(Applicability.UNSAFE if unsafe else Applicability.SAFE, getattr(f, "fix_message", ""),
                    [e for p in fixable for e in p.edits], imports)
    return True


def _own_edits(edits: list[TextEdit]) -> list[TextEdit]:
    """A fix's edits with duplicates dropped (two layers reading one shared dict edit it once), and any
    edit that overlaps an earlier one left out."""
    kept = _Edits()
    seen: set = set()
    out: list[TextEdit] = []
    for e in edits:
        key = (e.start, e.end, e.content)
        if key in seen or kept.overlaps(e):
            continue
        seen.add(key)
        kept.add(e)
        out.append(e)
    return out


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


def _fix_key(f, text: str) -> tuple:
    """What a fix does, wherever earlier edits moved it: its code, and for each edit the text of the
    lines it touches, before and after."""
    parts = []
    for e in f.text_edits:
        start = text.rfind("\n", 0, e.start) + 1
        end = text.find("\n", e.end)
        end = len(text) if end == -1 else end
        before = text[start:end]
        parts.append((before, before[:e.start - start] + e.content + before[e.end - start:]))
    return (f.code, tuple(parts))


def _undoes(later: tuple, earlier: tuple) -> bool:
    """Whether fix ``later`` turns a line back into what fix ``earlier`` turned it from."""
    return any((after, before) in earlier[1] for before, after in later[1] if before != after)


def apply_fixes(text: str, findings: list) -> tuple[str, int]:
    """Apply the text edits of ``findings`` in order, skipping any fix that overlaps one already taken."""
    out, applied = _apply(text, findings)
    return out, len(applied)


def _apply(text: str, findings: list) -> tuple[str, list]:
    """``apply_fixes``, returning the findings whose fixes were applied."""
    taken = _Edits()
    inserts: dict[int, list[str]] = {}
    applied: list = []
    for f in sorted(findings, key=lambda f: (f.row, f.col)):
        body = _own_edits([e for e in f.text_edits if not _is_import_edit(e, f)])
        imports = [e for e in f.text_edits if _is_import_edit(e, f)]
        if any(taken.overlaps(e) for e in body):
            continue
        for e in body:
            taken.add(e)
        for e in imports:
            lst = inserts.setdefault(e.start, [])
            if e.content not in lst:
                lst.append(e.content)
        applied.append(f)
    edits = taken.edits + [TextEdit(pos, pos, "".join(c)) for pos, c in inserts.items() if c]
    # an insertion sorts after a replacement that ends at the same offset
    edits.sort(key=lambda e: (e.start, e.end))
    pieces, at = [], 0
    for e in edits:  # one pass, so that many edits cost no more than one copy of the text
        pieces.append(text[at:e.start])
        pieces.append(e.content)
        at = e.end
    pieces.append(text[at:])
    return "".join(pieces), applied


class _Edits:
    """Edits that do not overlap, kept sorted by start, with an overlap test that looks at neighbours
    only (a fix with thousands of edits, or a file with thousands of fixes, stays linear)."""

    def __init__(self):
        self.edits: list[TextEdit] = []
        self._starts: list[int] = []

    def overlaps(self, e: TextEdit) -> bool:
        i = bisect.bisect_left(self._starts, e.start)
        for j in range(max(i - 1, 0), len(self.edits)):
            o = self.edits[j]
            if o.start > e.end:
                break
            if _overlaps(e, o):
                return True
        return False

    def add(self, e: TextEdit) -> None:
        i = bisect.bisect_right(self._starts, e.start)
        self._starts.insert(i, e.start)
        self.edits.insert(i, e)


def _is_import_edit(e: TextEdit, f) -> bool:
    return e.start == e.end and bool(f.fix and f.fix.imports) and e.content.lstrip().startswith(("import ", "from "))


def _overlaps(a: TextEdit, b: TextEdit) -> bool:
    if a.start == a.end == b.start == b.end:
        return True
    return a.start < b.end and b.start < a.end or (a.start == a.end and b.start < a.start < b.end) or (
        b.start == b.end and a.start < b.start < a.end)


def compile_error(text: str) -> str | None:
    """What CPython's compiler rejects that its parser accepts (``f(a=1, a=2)``: "keyword argument
    repeated"), or a parse error."""
    try:
        compile(text, "<fixed>", "exec", dont_inherit=True)
    except SyntaxError as e:
        return f"line {e.lineno}: {e.msg}"
    except (ValueError, RecursionError, MemoryError) as e:
        return str(e) or type(e).__name__
    return None


def _apply_compatible(text: str, todo: list, compiles: bool) -> tuple[str, list, str | None]:
    """The fixes of ``todo`` that apply together, taken in order while the result still parses (and
    compiles, if the text did)."""
    chosen: list = []
    new_text, applied = text, []
    for f in todo:
        candidate, with_f = _apply(text, chosen + [f])
        if f not in with_f:
            continue
        if parse_error(candidate) is None and (not compiles or compile_error(candidate) is None):
            chosen.append(f)
            new_text, applied = candidate, with_f
    if not applied:
        return text, [], parse_error(_apply(text, todo)[0]) or "the fixes clash"
    return new_text, applied, None


def parse_error(text: str) -> str | None:
    try:
        cst.parse_module(text)
        ast.parse(text)
    except cst.ParserSyntaxError as e:
        return f"line {e.raw_line}: {e.message}"
    except SyntaxError as e:
        return f"line {e.lineno}: {e.msg}"
    return None


#: The largest source text the source view checks: its parser costs about 4 microseconds a
#: character on this project's reference machine, so a bigger file could not be checked in the
#: few seconds a pre-commit hook has. Real training scripts are a small fraction of this.
MAX_SOURCE_CHARS = 1_000_000

#: libcst's parser takes time quadratic in the length of a chain of operators, calls, attributes
#: or subscripts (a 2,000-term ``a + a + ...`` takes seconds, a 100-deep one a hundredth of a
#: second) and overflows its stack on deep nesting; such files are screened with CPython's parser.
#: The parser's cost goes with the number of tokens more than with characters (about 45
#: microseconds per operator or delimiter): a file dense with them is refused before the cap on
#: characters. The 223 keras.io examples hold 266,000 in all, at most 4,100 in one file.
MAX_DELIMITERS = 40_000
_DELIMITERS = ",()[]{}.:=+-*/%<>"
MAX_EXPRESSION_DEPTH = 100  # the deepest expression of the 223 keras.io examples is 19 levels deep
CHAIN_MARKS = 100  # a logical line with more operators, brackets and dots than this is screened
DEEP_BRACKETS = 100  # so is a line inside more open brackets than this
_MARKS = "([{.+-*/%@&|^~<>"
#: keywords that nest too (``not not x``, ``lambda: lambda: x``, ``a and b and c``): substrings are
#: enough, since a count only decides whether to screen
_NESTING_WORDS = ("not", "lambda", " and ", " or ", " if ", "await")


def screen(text: str) -> Problem | None:
    """A problem that keeps ``text`` from being checked, found in bounded, linear time; None when the
    file can go to the parser.

    CPython's own parser (fast, and the reference for what is valid
    Python) judges the files whose shape could make libcst's parser slow
    or crash: very long or deeply bracketed logical lines.
    """
    if len(text) > MAX_SOURCE_CHARS:
        return Problem("KL002", "file-too-large",
                       f"not checked: the file has {len(text):,} characters, more than the "
                       f"{MAX_SOURCE_CHARS:,} that klint's source view checks")
    marks = sum(map(text.count, _DELIMITERS))
    if marks > MAX_DELIMITERS:
        return Problem("KL002", "file-too-large",
                       f"not checked: the file has {marks:,} operators and delimiters (a 50,000-item list "
                       f"literal, say), more than the {MAX_DELIMITERS:,} that klint's source view checks")
    nul = text.find("\x00")
    if nul != -1:
        row = text.count("\n", 0, nul) + 1
        return Problem("KL001", "syntax-error", "SyntaxError: source code cannot contain null bytes", row, 1)
    if text.startswith("\ufeff"):
        return Problem("KL001", "syntax-error", "SyntaxError: invalid non-printable character U+FEFF (a second "
                       "byte order mark)", 1, 1)
    if not _needs_screening(text):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        return Problem("KL001", "syntax-error", f"SyntaxError: {e.msg}", e.lineno or 1, max(e.offset or 1, 1))
    except (MemoryError, RecursionError, ValueError, OverflowError) as e:
        return Problem("KL001", "syntax-error",
                       f"Python cannot parse this file: it is nested too deeply ({type(e).__name__})")
    depth, line = _deepest(tree)
    if depth > MAX_EXPRESSION_DEPTH:
        return Problem("KL002", "too-deeply-nested",
                       f"not checked: an expression is nested {depth} levels deep, more than the "
                       f"{MAX_EXPRESSION_DEPTH} that klint's parser handles in bounded time", line, 1)
    return None


def _needs_screening(text: str) -> bool:
    """Whether some logical line holds many of the marks a long chain is made of (operators,
    brackets, dots), or lies deep in brackets. A cheap scan: marks in strings and comments count
    too, since it only decides whether CPython's parser looks closer."""
    depth = 0
    marks = 0
    for line in text.splitlines():
        opened = line.count("(") + line.count("[") + line.count("{")
        closed = line.count(")") + line.count("]") + line.count("}")
        depth = max(depth + opened - closed, 0)
        if depth > DEEP_BRACKETS:
            return True
        here = sum(map(line.count, _MARKS)) + sum(map(line.count, _NESTING_WORDS))
        marks = marks + here if depth or line.endswith("\\") else here
        if marks > CHAIN_MARKS:
            return True
    return False


def _deepest(tree: ast.AST) -> tuple[int, int]:
    """The depth of the deepest node of ``tree`` and its line (iteratively: the tree may be deep)."""
    best, line = 0, 1
    stack = [(tree, 0)]
    while stack:
        node, d = stack.pop()
        if d > best:
            best, line = d, getattr(node, "lineno", line)
        # ``a and b and c`` is one node for CPython and a nested pair per operator for libcst
        step = len(node.values) if isinstance(node, ast.BoolOp) else 1
        stack.extend((c, d + step) for c in ast.iter_child_nodes(node))
    return best, line


def unparsable_problem(e: Exception, text: str) -> Problem:
    """A file libcst rejects without a syntax error: CPython's own error when it rejects it too."""
    try:
        ast.parse(text)
    except SyntaxError as se:
        return Problem("KL001", "syntax-error", f"SyntaxError: {se.msg}", se.lineno or 1, max(se.offset or 1, 1))
    except (MemoryError, RecursionError, ValueError):
        pass
    return Problem("KL002", "unparsable", f"not checked: klint's parser cannot read this file ({e})")


def syntax_problem(e: cst.ParserSyntaxError, text: str | None = None) -> Problem:
    """A parse failure, located by CPython's parser when it agrees the file is invalid.

    libcst places tokenizer errors (an unterminated string, a bad dedent) on
    line 1; CPython gives the real line and a clearer message.
    """
    msg = e.message.strip()
    if text is not None:
        try:
            ast.parse(text)
        except SyntaxError as se:
            if se.lineno:
                return Problem("KL001", "syntax-error", f"SyntaxError: {se.msg}", se.lineno, max(se.offset or 1, 1))
        except (ValueError, RecursionError, MemoryError):
            pass
        else:
            # valid Python that libcst's parser does not read (a dedent its tokenizer rejects)
            return Problem("KL002", "unparsable", f"not checked: klint's parser cannot read this file, which "
                           f"Python accepts ({msg.splitlines()[0] if msg else 'parse error'})",
                           e.raw_line, e.raw_column + 1)
    return Problem("KL001", "syntax-error", f"SyntaxError: {msg}", e.raw_line, e.raw_column + 1)


__all__ = ["Linter", "FileResult", "Problem", "TextEdit", "decode", "encode", "write_atomic", "mentions_keras",
           "DecodeError", "EncodeError", "ImportNeed", "Loc"]
