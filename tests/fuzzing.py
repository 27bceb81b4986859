"""Mutators for fuzzing klint with damaged, real-looking Keras training scripts.

One copy, used by ``tests/test_fuzz.py`` (a short hypothesis run in the
suite) and by ``bench/fuzz.py`` (the long stand-alone run). Not a test
module: nothing here runs klint.

Every mutator is ``mutator(rng, data) -> (new_data, description)``: it takes
a :class:`random.Random` and the bytes of a seed script and returns bytes
(often not valid Python, sometimes not valid text) and a short description
of what it did, for the failure reports. The seeds are the project's own
scripts (``tests/corpus/*.py`` and ``examples/*.py``), so the mutations land
in code that reaches klint's rules, not only its parser.
"""
from __future__ import annotations

import ast
import io
import random
import re
import tokenize
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_GLOBS = ("tests/corpus/*.py", "examples/*.py")


def seed_files(root: Path = ROOT) -> list[Path]:
    """The seed scripts, in a stable order."""
    out: list[Path] = []
    for pattern in SEED_GLOBS:
        out += sorted(root.glob(pattern))
    return out


def load_seeds(root: Path = ROOT) -> list[tuple[str, bytes]]:
    return [(p.relative_to(root).as_posix(), p.read_bytes()) for p in seed_files(root)]


# ------------------------------------------------------------------ helpers


def _text(data: bytes) -> str:
    # surrogateescape keeps invalid bytes from an earlier mutation through a text mutation
    return data.decode("utf-8", "surrogateescape")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True) or [""]


def _pick_offset(rng: random.Random, text: str) -> int:
    return rng.randrange(len(text) + 1)


def _top_level_line(rng: random.Random, lines: list[str]) -> int:
    """The index of a line where a new top-level statement may go (before an unindented line)."""
    good = [i for i, line in enumerate(lines) if line[:1] not in (" ", "\t", "\n", "\r", "#", "") and
            not line.startswith((")", "]", "}", "else", "elif", "except", "finally"))]
    return rng.choice(good) if good else len(lines)


_IDENT = re.compile(r"(?<![\w.])[A-Za-z_][A-Za-z0-9_]{2,}\b")


def _identifiers(text: str) -> list[re.Match]:
    return list(_IDENT.finditer(text))


# ------------------------------------------------------------------ light mutators


def delete_lines(rng: random.Random, data: bytes):
    lines = _lines(_text(data))
    if rng.random() < 0.5:
        n = rng.randint(1, min(5, len(lines)))
        gone = sorted(rng.sample(range(len(lines)), n))
        desc = f"deleted lines {[g + 1 for g in gone]}"
        lines = [line for i, line in enumerate(lines) if i not in set(gone)]
    else:
        start = rng.randrange(len(lines))
        end = min(len(lines), start + rng.randint(1, 15))
        desc = f"deleted lines {start + 1}-{end}"
        del lines[start:end]
    return _bytes("".join(lines)), desc


def duplicate_lines(rng: random.Random, data: bytes):
    lines = _lines(_text(data))
    start = rng.randrange(len(lines))
    end = min(len(lines), start + rng.randint(1, 8))
    block = lines[start:end]
    if rng.random() < 0.5:
        at = end
        desc = f"duplicated lines {start + 1}-{end} in place"
    else:
        at = rng.randrange(len(lines) + 1)
        desc = f"copied lines {start + 1}-{end} to before line {at + 1}"
    times = rng.choice((1, 1, 2, 5))
    lines[at:at] = block * times
    return _bytes("".join(lines)), desc + (f" x{times}" if times > 1 else "")


def truncate(rng: random.Random, data: bytes):
    at = rng.randrange(len(data) + 1)
    return data[:at], f"truncated at byte {at} of {len(data)}"


TOKENS = (
    "(", ")", "[", "]", "{", "}", "((", "))", "[[", "]]", "{{", "}}", ")(", "][", "(]", "[)", "{)",
    ":", ",", ",,", ";", "=", "==", ":=", "->", "**", "*", "@", ".", "..", "...", "\\", "\\\n", "\n", "\t",
    " ", "    ", "'", '"', "'''", '"""', "f'", 'f"{', "rb'", "u'", "#", "# noqa", "# klint: ignore",
    "# klint: ignore-file", "lambda", "lambda:", "yield", "await", "async", "def", "class", "return",
    "import", "from", "as", "if", "else", "elif", "for", "in", "while", "with", "try:", "except", "global",
    "nonlocal", "del", "pass", "None", "True", "not", "and", "or", "is", "0x", "1e", "1_", "0o8", "1j", "$",
    "?", "!", "`", "\x0c", "\x0b", "keras", "keras.", "keras.layers.Dense(", "activation='relu'",
    "activation=", "batch_size=", "learning_rate=", "kernel_initializer=", "optimizer=", "tf.keras",
    "layers.BatchNormalization()", "model.fit(", "keras.optimizers.SGD(", "**kwargs", "*args", "match",
    "case", "type", "print", "__import__", "\u00e9", "\u4e2d", "\U0001F600",
)


def insert_tokens(rng: random.Random, data: bytes):
    text = _text(data)
    done = []
    for _ in range(rng.randint(1, 6)):
        tok = rng.choice(TOKENS)
        if rng.random() < 0.5:
            # at a token boundary-ish place: before or after an existing bracket, comma or '='
            spots = [m.start() + rng.randint(0, 1) for m in re.finditer(r"[()\[\]{},=:]", text)]
            at = rng.choice(spots) if spots else _pick_offset(rng, text)
        else:
            at = _pick_offset(rng, text)
        text = text[:at] + tok + text[at:]
        done.append(f"{tok!r}@{at}")
    return _bytes(text), "inserted " + ", ".join(done)


def line_endings(rng: random.Random, data: bytes):
    text = _text(data).replace("\r\n", "\n")
    variant = rng.choice(("crlf", "cr", "mixed", "cr-some", "lfcr", "no-final", "unicode-separators", "formfeed"))
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    elif variant == "cr":
        text = text.replace("\n", "\r")
    elif variant == "mixed":
        text = "".join(line[:-1] + rng.choice(("\n", "\r\n", "\r")) if line.endswith("\n") else line
                       for line in _lines(text))
    elif variant == "cr-some":
        lines = _lines(text)
        for i in rng.sample(range(len(lines)), min(len(lines), rng.randint(1, 4))):
            if lines[i].endswith("\n"):
                lines[i] = lines[i][:-1] + "\r"
        text = "".join(lines)
    elif variant == "lfcr":
        text = text.replace("\n", "\n\r")
    elif variant == "no-final":
        text = text.rstrip("\r\n")
    elif variant == "unicode-separators":
        lines = _lines(text)
        for i in rng.sample(range(len(lines)), min(len(lines), rng.randint(1, 4))):
            lines[i] = lines[i].replace("\n", rng.choice(("\u2028", "\u2029", "\x85", "\x1c", "\x1d", "\x1e")) + "\n")
        text = "".join(lines)
    else:
        lines = _lines(text)
        for i in rng.sample(range(len(lines)), min(len(lines), rng.randint(1, 4))):
            lines[i] = "\x0c" + lines[i]
        text = "".join(lines)
    return _bytes(text), f"line endings: {variant}"


def indentation(rng: random.Random, data: bytes):
    lines = _lines(_text(data))
    indented = [i for i, line in enumerate(lines) if line.startswith(" ")] or list(range(len(lines)))
    variant = rng.choice(("tabs", "mixed-tabs", "dedent", "indent", "flatten-block", "odd"))
    picks = rng.sample(indented, min(len(indented), rng.randint(1, 6)))
    for i in picks:
        line = lines[i]
        body = line.lstrip(" \t")
        lead = line[:len(line) - len(body)]
        if variant == "tabs":
            lead = lead.replace("    ", "\t")
        elif variant == "mixed-tabs":
            lead = lead.replace("    ", "\t", 1) if rng.random() < 0.5 else "\t" + lead[1:]
        elif variant == "dedent":
            lead = lead[4:]
        elif variant == "indent":
            lead = "    " + lead
        elif variant == "flatten-block":
            lead = ""
        else:
            lead = lead + " " * rng.randint(1, 3)
        lines[i] = lead + body
    return _bytes("".join(lines)), f"indentation {variant} on lines {sorted(p + 1 for p in picks)}"


def splice(rng: random.Random, data: bytes, other: bytes | None = None):
    a = _lines(_text(data))
    b = _lines(_text(other if other is not None else data))
    i, j = rng.randrange(len(a) + 1), rng.randrange(len(b) + 1)
    return _bytes("".join(a[:i] + b[j:])), f"first {i} lines + another script from its line {j + 1}"


COOKIES = ("latin-1", "iso-8859-1", "iso-8859-15", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
           "utf-8", "utf8", "UTF-8", "ascii", "us-ascii", "undefined", "punycode", "unicode_escape",
           "raw_unicode_escape", "unicode-escape", "idna", "utf-7", "shift_jis", "euc-jp", "gb18030", "big5",
           "cp037", "cp500", "koi8-r", "mac-roman", "rot13", "rot-13", "hex", "base64", "zlib", "bz2",
           "uu_codec", "quopri", "mbcs", "oem", "utf-8-sig", "nonexistent-codec", "latin-1garbage", "")
COOKIE_FORMS = ("# -*- coding: {} -*-\n", "# coding: {}\n", "# coding={}\n", "#coding:{}\n",
                "# vim: set fileencoding={} :\n", "# This Python file uses the following encoding: {}\n")


def cookie(rng: random.Random, data: bytes):
    enc = rng.choice(COOKIES)
    line = rng.choice(COOKIE_FORMS).format(enc)
    where = rng.choice(("first", "second", "second", "third"))
    prefix = {"first": "", "third": "#!/usr/bin/env python\n\n"}.get(where) or rng.choice(
        ("#!/usr/bin/env python\n", "\n", "# a comment\n", "import keras\n"))
    lines = _lines(_text(data))
    note = ""
    if rng.random() < 0.5:
        extra = rng.choice(("caf\u00e9", "\u20ac 5", "na\u00efve \u00fcber", "\u4e2d\u6587", "\u00ff\u00fe"))
        k = rng.randrange(len(lines) + 1)
        lines.insert(k, f"# {extra}\nlabel = '{extra}'\n")
        note = f", {extra!r} added at line {k + 1}"
    text = prefix + line + "".join(lines)
    out = _bytes(text)
    if rng.random() < 0.5 and enc:
        # the whole file written in the cookie's codec, where Python has one that takes text
        try:
            encoded = text.encode(enc)
            if isinstance(encoded, bytes):
                out = encoded
                note += f", written in {enc}"
        except (LookupError, UnicodeError, TypeError, ValueError):
            note += f", not encodable in {enc}: written in UTF-8"
    return out, f"coding cookie {enc!r} on the {where} line ({line.strip()!r}){note}"


BOMS = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff",
        "utf-32-le": b"\xff\xfe\x00\x00", "utf-32-be": b"\x00\x00\xfe\xff"}


def bom(rng: random.Random, data: bytes):
    variant = rng.choice(("utf-8", "utf-8", "utf-8+latin-1-cookie", "utf-8+utf-8-cookie", "utf-16-le", "utf-16-be",
                          "utf-32-le", "utf-8-bom-only", "bom-in-middle", "utf-16-bom-on-utf-8"))
    if variant == "utf-8":
        return BOMS["utf-8"] + data, "UTF-8 BOM"
    if variant == "utf-8+latin-1-cookie":
        return BOMS["utf-8"] + b"# -*- coding: latin-1 -*-\n" + data, "UTF-8 BOM and a latin-1 cookie"
    if variant == "utf-8+utf-8-cookie":
        return BOMS["utf-8"] + b"# -*- coding: utf-8 -*-\n" + data, "UTF-8 BOM and a utf-8 cookie"
    if variant in ("utf-16-le", "utf-16-be", "utf-32-le"):
        text = _text(data)
        return BOMS[variant] + text.encode(variant, "surrogatepass"), f"{variant} BOM, body in {variant}"
    if variant == "utf-8-bom-only":
        return BOMS["utf-8"], "only a UTF-8 BOM"
    if variant == "bom-in-middle":
        at = rng.randrange(len(data) + 1)
        return data[:at] + BOMS["utf-8"] + data[at:], f"UTF-8 BOM bytes at byte {at}"
    return BOMS["utf-16-le"] + data, "UTF-16 LE BOM on a UTF-8 body"


def double_bom(rng: random.Random, data: bytes):
    n = rng.choice((2, 2, 2, 3))
    return BOMS["utf-8"] * n + data, f"{n} UTF-8 BOMs"


INVALID = (b"\x80", b"\xff", b"\xfe", b"\xc3", b"\xc3\x28", b"\xe2\x82", b"\xf0\x9f\x98", b"\xed\xa0\x80",
           b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf8\x88\x80\x80\x80", b"\x81\x8d")


def invalid_bytes(rng: random.Random, data: bytes):
    done = []
    for _ in range(rng.randint(1, 3)):
        seq = rng.choice(INVALID)
        place = rng.choice(("anywhere", "comment", "string", "line-start", "end"))
        if place == "comment" and b"#" in data:
            hashes = [m.start() for m in re.finditer(rb"#", data)]
            at = rng.choice(hashes) + 1
        elif place == "string" and (b"'" in data or b'"' in data):
            quotes = [m.start() for m in re.finditer(rb"['\"]", data)]
            at = rng.choice(quotes) + 1
        elif place == "line-start":
            starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]
            at = rng.choice(starts)
        elif place == "end":
            at = len(data)
        else:
            at = rng.randrange(len(data) + 1)
        data = data[:at] + seq + data[at:]
        done.append(f"{seq!r}@{at}({place})")
    return data, "invalid UTF-8 " + ", ".join(done)


def nul_bytes(rng: random.Random, data: bytes):
    variant = rng.choice(("anywhere", "comment", "string", "end", "line", "many"))
    if variant == "comment" and b"#" in data:
        at = rng.choice([m.start() for m in re.finditer(rb"#", data)]) + 1
    elif variant == "string" and b"'" in data + b'"':
        at = rng.choice([m.start() for m in re.finditer(rb"['\"]", data)] or [0]) + 1
    elif variant == "end":
        at = len(data)
    elif variant == "line":
        starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]
        at = rng.choice(starts)
        return data[:at] + b"\x00\n" + data[at:], f"a line holding a NUL byte at byte {at}"
    elif variant == "many":
        for _ in range(rng.randint(2, 20)):
            at = rng.randrange(len(data) + 1)
            data = data[:at] + b"\x00" + data[at:]
        return data, "NUL bytes at random places"
    else:
        at = rng.randrange(len(data) + 1)
    n = rng.choice((1, 1, 3))
    return data[:at] + b"\x00" * n + data[at:], f"{n} NUL byte(s) at byte {at} ({variant})"


ZERO_WIDTH = ("\u200d", "\u200c", "\u200b", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u034f")


def zero_width(rng: random.Random, data: bytes):
    text = _text(data)
    idents = _identifiers(text)
    ch = rng.choice(ZERO_WIDTH)
    if not idents:
        return _bytes(ch + text), f"{ch!r} at the start"
    m = rng.choice(idents)
    word = m.group()
    k = rng.randrange(1, len(word))
    new = word[:k] + ch + word[k:]
    if rng.random() < 0.5:
        text = re.sub(rf"(?<![\w.]){re.escape(word)}\b", new, text)
        return _bytes(text), f"{ch!r} inside every {word!r}"
    text = text[:m.start()] + new + text[m.end():]
    return _bytes(text), f"{ch!r} inside {word!r} at offset {m.start()}"


# Non-ASCII identifiers and text: valid ones (PEP 3131, NFKC-normalized by Python), and odd characters.
UNICODE_RENAMES = (("model", "mod\u00e8l"), ("model", "\u6a21\u578b"), ("keras", "\uff4beras"), ("fit", "\ufb01t"),
                   ("layers", "l\u0430yers"), ("Dense", "\U0001d403ense"), ("x", "\u00b5"), ("optimizer", "optimi\u017eer"))
ODD_TEXT = ("\u202e", "\u202d", "\u2066", "\U0001F600", "\u0301", "\ud800", "\udfff", "\ufffd", "\U0010ffff",
            "\x7f", "\x1b[31m", "\u00a0", "\u3000")


def unicode_text(rng: random.Random, data: bytes):
    text = _text(data)
    variant = rng.choice(("rename", "rename-one", "odd-in-string", "odd-in-comment", "odd-in-code", "escape"))
    if variant.startswith("rename"):
        old, new = rng.choice(UNICODE_RENAMES)
        pattern = rf"(?<![\w]){re.escape(old)}\b"
        if variant == "rename":
            text = re.sub(pattern, new, text)
        else:
            ms = list(re.finditer(pattern, text))
            if ms:
                m = rng.choice(ms)
                text = text[:m.start()] + new + text[m.end():]
        return text.encode("utf-8", "surrogatepass"), f"renamed {old!r} to {new!r} ({variant})"
    ch = rng.choice(ODD_TEXT)
    if variant == "escape":
        lines = _lines(text)
        k = _top_level_line(rng, lines)
        lines.insert(k, rng.choice(('s = "\\ud800"\n', "s = '\\N{BOGUS NAME}'\n", "s = '\\x'\n", "s = b'\\u1234'\n",
                                    "s = '\\777'\n", "s = r'\\'\n", 's = f"{x!z}"\n', 's = f"{"\'"}"\n')))
        return _bytes("".join(lines)), f"escape sequence line at {k + 1}"
    if variant == "odd-in-string":
        spots = [m.start() + 1 for m in re.finditer(r"['\"]", text)] or [0]
    elif variant == "odd-in-comment":
        spots = [m.start() + 1 for m in re.finditer(r"#", text)] or [0]
    else:
        spots = [m.start() for m in re.finditer(r"[ (,=]", text)] or [0]
    at = rng.choice(spots)
    text = text[:at] + ch + text[at:]
    return text.encode("utf-8", "surrogatepass"), f"{ch!r} at offset {at} ({variant})"


# ------------------------------------------------------------------ heavy mutators

#: the construct sizes the brief asks for; a mutation uses them or a smaller random size
DEEP_SIZES = {"brackets": 1500, "chain": 10000, "attributes": 4000, "subscripts": 3000, "unary": 10000,
              "calls": 1500, "lists": 1500, "not": 10000, "lambdas": 3000, "strings": 10000,
              "compare": 10000, "boolean": 10000, "dense-calls": 1500, "blocks": 100, "method-chain": 4000}


def deep_construct(name: str, n: int) -> str:
    """One deeply nested or very long expression (or block), as source text."""
    if name == "brackets":
        opens = "".join("([{"[i % 3] if i % 5 else "(" for i in range(n))
        closes = "".join({"(": ")", "[": "]", "{": "}"}[c] for c in reversed(opens))
        return opens + "1" + closes
    if name == "chain":
        return " + ".join(["a"] * n)
    if name == "attributes":
        return "model" + ".layers" * n
    if name == "subscripts":
        return "a" + "[0]" * n
    if name == "unary":
        return "-" * n + "1"
    if name == "calls":
        return "f(" * n + ")" * n
    if name == "lists":
        return "[" * n + "]" * n
    if name == "not":
        return "not " * n + "x"
    if name == "lambdas":
        return "lambda: " * n + "1"
    if name == "strings":
        return " ".join(["'a'"] * n)
    if name == "compare":
        return " < ".join(["a"] * n)
    if name == "boolean":
        return " and ".join(["a"] * n)
    if name == "dense-calls":
        return "keras.layers.Dense(" * n + "8" + ")" * n
    if name == "method-chain":
        return "model" + ".fit()" * n
    if name == "blocks":
        return "".join("    " * i + "if x:\n" for i in range(n)) + "    " * n + "y = 1\n"
    raise ValueError(name)


def deep_nesting(rng: random.Random, data: bytes, name: str | None = None, size: int | None = None):
    name = name or rng.choice(list(DEEP_SIZES))
    full = DEEP_SIZES[name]
    n = size or (full if rng.random() < 0.6 else rng.randint(max(2, full // 20), full))
    expr = deep_construct(name, n)
    lines = _lines(_text(data))
    k = _top_level_line(rng, lines)
    if name == "blocks":
        lines.insert(k, expr)
        where = f"a block nested {n} deep before line {k + 1}"
    else:
        form = rng.choice(("x = {}\n", "opt = keras.optimizers.Adam(learning_rate={})\n",
                           "layer = keras.layers.Dense(64, activation={})\n", "model.fit(x, y, batch_size={})\n",
                           "print({})\n", "def f():\n    return {}\n"))
        lines.insert(k, form.format(expr))
        where = f"{form.strip().splitlines()[0].format('...')!r} before line {k + 1}"
    return _bytes("".join(lines)), f"deep nesting: {name} x{n} as {where}"


HUGE_LINES = 50_000


def huge_file(rng: random.Random, data: bytes, lines: int | None = None):
    n_lines = lines or HUGE_LINES
    variant = rng.choice(("repeat", "repeat", "layers", "one-line", "long-list"))
    src = _lines(_text(data))
    if variant == "repeat":
        out: list[str] = []
        while len(out) < n_lines:
            out += src
        return _bytes("".join(out[:n_lines])), f"the script repeated to {n_lines} lines"
    if variant == "layers":
        body = ["import keras\n", "model = keras.Sequential([\n"]
        acts = ("'relu'", "'sigmoid'", "'tanh'", "None", "'selu'")
        body += [f"    keras.layers.Dense({8 + i % 64}, activation={acts[i % 5]}),\n" for i in range(n_lines - 4)]
        body += ["])\n", "model.compile(optimizer=keras.optimizers.SGD(0.5), loss='mse')\n"]
        return _bytes("".join(src) + "".join(body)), f"a Sequential of {n_lines - 4} Dense layers appended"
    if variant == "one-line":
        n = 4 * n_lines
        return _bytes("".join(src) + "x = [" + ", ".join(["1"] * n) + "]\n"), f"one line with a {n}-item list"
    k = _top_level_line(rng, src)
    src.insert(k, "values = [\n" + "".join(f"    {i},\n" for i in range(n_lines)) + "]\n")
    return _bytes("".join(src)), f"a {n_lines}-line list literal before line {k + 1}"


# ------------------------------------------------------------------ registry

LIGHT = {
    "delete_lines": delete_lines,
    "duplicate_lines": duplicate_lines,
    "truncate": truncate,
    "insert_tokens": insert_tokens,
    "line_endings": line_endings,
    "indentation": indentation,
    "splice": splice,
    "cookie": cookie,
    "bom": bom,
    "double_bom": double_bom,
    "invalid_bytes": invalid_bytes,
    "nul_bytes": nul_bytes,
    "zero_width": zero_width,
    "unicode": unicode_text,
}
HEAVY = {
    "deep_nesting": deep_nesting,
    "huge_file": huge_file,
}
#: every kind; "combo" applies 2 to 4 light mutators one after the other
KINDS = [*LIGHT, *HEAVY, "combo"]


def mutate(kind: str, rng: random.Random, data: bytes, other: bytes | None = None,
           huge_lines: int | None = None) -> tuple[bytes, str]:
    """Apply the mutation ``kind`` to ``data`` (``other``: a second seed, for ``splice``; ``huge_lines``: the
    size of a ``huge_file``, default HUGE_LINES)."""
    if kind == "combo":
        steps = []
        for _ in range(rng.randint(2, 4)):
            k = rng.choice(list(LIGHT))
            data, desc = mutate(k, rng, data, other)
            steps.append(f"{k}: {desc}")
        return data, " | ".join(steps)
    if kind == "splice":
        return splice(rng, data, other)
    if kind == "huge_file":
        return huge_file(rng, data, huge_lines)
    fn = LIGHT.get(kind) or HEAVY.get(kind)
    if fn is None:
        raise ValueError(f"unknown mutation kind {kind!r} (known: {', '.join(KINDS)})")
    return fn(rng, data)


def generate(kinds: list[str], seeds: list[tuple[str, bytes]], rng: random.Random, kind: str | None = None,
             huge_lines: int | None = None):
    """One generated input: (kind, seed name, bytes, description)."""
    kind = kind or rng.choice(kinds)
    name, data = rng.choice(seeds)
    _, other = rng.choice(seeds)
    new, desc = mutate(kind, rng, data, other, huge_lines)
    return kind, name, new, desc


# ------------------------------------------------------------------ oracles


def parses(data: bytes) -> bool:
    """Whether CPython parses ``data`` (bytes: the coding cookie and BOM are honoured)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like, in the generated code
            ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError, UnicodeError, LookupError):
        return False
    return True


def comment_count(data: bytes) -> int | None:
    """How many ``#`` comments the tokenizer sees, or None when it cannot tokenize ``data``."""
    try:
        return sum(1 for t in tokenize.tokenize(io.BytesIO(data).readline) if t.type == tokenize.COMMENT)
    except (SyntaxError, tokenize.TokenError, ValueError, UnicodeError, LookupError, RecursionError, MemoryError):
        return None
