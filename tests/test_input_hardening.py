"""Inputs that crashed, hung or corrupted files before: each gets a clear finding, the others are checked.

Deeply nested and very long expressions, coding cookies that are not text
encodings or do not round-trip, every line ending Python accepts, NUL bytes,
a doubled byte order mark, identifiers with a zero-width joiner and huge
files. klint runs as a subprocess (``python -m klint``) where a crash could
take the test process with it.
"""
from __future__ import annotations

import json

import pytest

HEAD = "import keras\nfrom keras import layers\n"
GOOD = ("import keras\n\nmodel = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation='relu'),\n"
        "                          keras.layers.Dense(1)])\n")

DEEP = {
    "brackets": (HEAD + "x = " + "(" * 1500 + "1" + ")" * 1500 + "\n", "KL001", "too many nested parentheses"),
    "sum-chain": (HEAD + "x = " + " + ".join(["a"] * 10000) + "\n", "KL002", "nested 10002 levels deep"),
    "attribute-chain": (HEAD + "m = keras.Sequential()\nx = m" + ".layers" * 4000 + "\n", "KL002", "levels deep"),
    "subscripts": (HEAD + "x = a" + "[0]" * 3000 + "\n", "KL002", "levels deep"),
    "unary-minuses": (HEAD + "x = " + "-" * 10000 + "1\n", "KL001", "nested too deeply"),
    "multi-line-chain": (HEAD + "x = (\n" + "".join("    a +\n" for _ in range(3000)) + "    a)\n", "KL002",
                         "levels deep"),
    "huge-file": (HEAD + "x = 1\n" * 200_000, "KL002", "more than the 1,000,000"),
    "and-chain": (HEAD + "x = " + " and ".join(["a"] * 7100) + "\n", "KL002", "levels deep"),
    "long-list-line": (HEAD + "x = [" + ", ".join(["1"] * 200_000) + "]\n", "KL002", "operators and delimiters"),
}


@pytest.mark.parametrize("name", list(DEEP))
def test_deep_or_huge_input_is_reported_and_the_others_are_checked(project, write, run_klint, name):
    src, code, text = DEEP[name]
    write(project / "bad.py", src)
    write(project / "good.py", GOOD)
    r = run_klint("check", "--output-format", "json", "bad.py", "good.py", cwd=project)
    assert r.returncode == 1, r.stderr
    assert b"Traceback" not in r.stderr
    found = json.loads(r.stdout)
    bad = [d for d in found if d["filename"] == "bad.py"]
    assert [d["code"] for d in bad] == [code] and text in bad[0]["message"]
    assert [d["code"] for d in found if d["filename"] == "good.py"] == ["KL101"]


@pytest.mark.parametrize("cookie, body, expected", [
    ("undefined", "x = 1\n", "undefined"),
    ("punycode", "x = 'caf\u00e9'\n", "punycode"),
    ("rot13", "x = 1\n", "not a text encoding"),
    ("unicode_escape", 'x = "\\ud800"\n', "lone surrogate"),
    ("no-such-codec", "x = 1\n", "unknown encoding"),
])
def test_coding_cookies_decode_as_cpython_does(project, write, cli, cookie, body, expected):
    data = f"# coding: {cookie}\nimport keras\n{body}".encode("latin-1", "backslashreplace")
    write(project / "m.py", data)
    rc, found, err = cli.json("m.py")
    assert rc == 1 and "Traceback" not in err
    assert [d["code"] for d in found] == ["KL002"] and expected in found[0]["message"]


def test_a_cookie_that_does_not_round_trip_is_never_rewritten(project, write, cli):
    data = b'# coding: unicode_escape\nimport keras\nkeras.layers.Dense(64, activation="relu")  # caf\\xe9\n'
    p = write(project / "m.py", data)
    rc, out, err = cli("check", "--fix", "m.py")
    assert p.read_bytes() == data
    assert "KL004" in out and "does not give back its bytes" in out
    assert "fixed" not in out


@pytest.mark.parametrize("newline", ["\r", "\r\n", "mixed"])
def test_every_line_ending_is_positioned_and_fixed_in_place(project, write, cli, newline):
    lines = ["import keras", "", "# a comment that must stay", "model = keras.Sequential([",
             "    keras.Input((4,)),", "    keras.layers.Dense(8, activation='relu'),  # hidden",
             "    keras.layers.Dense(1),", "])", ""]
    if newline == "mixed":
        endings = ["\n", "\r\n", "\r"] * 3
        text = "".join(line + endings[i] for i, line in enumerate(lines[:-1]))
    else:
        text = newline.join(lines)
    p = write(project / "m.py", text.encode())
    rc, found, _ = cli.json("m.py")
    assert [(d["code"], d["location"]["row"], d["location"]["column"]) for d in found] == [("KL101", 6, 5)]
    rc, out, _ = cli("check", "--fix", "m.py")
    fixed = p.read_bytes().decode()
    assert fixed == text.replace("activation='relu')", "activation='relu', kernel_initializer='he_normal')")
    assert "# a comment that must stay" in fixed and "# hidden" in fixed


@pytest.mark.parametrize("data, message", [
    (b"import keras\nx = 1\x00\n", "cannot contain null bytes"),
    (b"\xef\xbb\xbf\xef\xbb\xbfimport keras\n", "U+FEFF"),
    (b'import keras\ns = "\\x"\nkeras.layers.Dense(64, activation="relu")\n', "truncated \\xXX escape"),
    ("import keras\nx\u200dy = 1\n".encode(), "U+200D"),
])
def test_files_cpython_rejects_are_syntax_errors(project, write, cli, data, message):
    write(project / "m.py", data)
    rc, found, err = cli.json("m.py")
    assert rc == 1 and "Traceback" not in err
    assert [d["code"] for d in found] == ["KL001"] and message in found[0]["message"]


def test_huge_integers_are_not_followed(project, write, cli):
    zeros = "0" * 400
    write(project / "m.py", f"import keras\nkeras.layers.Dropout(1{zeros})\nopt = keras.optimizers.Adam(1{zeros})\n")
    rc, found, err = cli.json("m.py")
    assert rc == 0 and found == []
