"""The fix engine: overlap, fixed point, revert, encodings and line endings, atomic writes,
--diff, stdin, imports and unsafe fixes."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

import klint.engine.lint as engine
from klint.engine.lint import MAX_FIX_PASSES, Linter, TextEdit, apply_fixes, compile_error, parse_error, write_atomic
from klint.engine.registry import all_rules
from klint.engine.rule import Rule
from klint.rules.kl101_init_activation_mismatch import InitActivationMismatch

RELU_DENSE = 'import keras\nkeras.layers.Dense(64, activation="relu")\n'
RELU_DENSE_FIXED = 'import keras\nkeras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")\n'
SCHEDULE = "ExponentialDecay(initial_learning_rate={}, decay_steps=10000, decay_rate=0.9)"


# ------------------------------------------------------------ test-only rules


class _AddKeyword(Rule):
    """Adds ``kw=val`` to every Keras layer call that lacks it (for engine tests only)."""

    kw = ""
    val = ""

    def check(self, ctx):
        for layer in ctx.analysis.layers:
            call = layer.site.node
            if any(a.keyword is not None and a.keyword.value == self.kw for a in call.args):
                continue
            ctx.report(layer.site, f"missing {self.kw}",
                       ctx.fix(f"add {self.kw}", [ctx.add_keyword(layer.site, self.kw, self.val)]))


class AddA(_AddKeyword):
    code, name, kw, val = "KL901", "test-add-a", "a", "1"


class AddB(_AddKeyword):
    code, name, kw, val = "KL902", "test-add-b", "b", "2"


class AddKernelInit(_AddKeyword):
    code, name, kw, val = "KL906", "test-add-kernel-init", "kernel_initializer", '"he_normal"'


class RenamesInit(Rule):
    """Renames a Keras 1 ``init=`` to ``kernel_initializer=`` (for engine tests only)."""

    code, name = "KL907", "test-renames-init"

    def check(self, ctx):
        for layer in ctx.analysis.layers:
            for a in layer.site.node.args:
                if a.keyword is not None and a.keyword.value == "init":
                    ctx.report(layer.site, "init", ctx.fix("rename", [ctx.replace(
                        (a.keyword, layer.site.top), "kernel_initializer")]))


class RenamesInitUpgrade(RenamesInit):
    code, name = "KL908", "test-renames-init-upgrade"
    keras3_upgrade = True


class WrapForever(Rule):
    """Wraps the first argument in parentheses, every time: never converges."""

    code, name = "KL903", "test-wrap-forever"

    def check(self, ctx):
        for layer in ctx.analysis.layers:
            arg = layer.site.node.args[0].value
            ctx.report(layer.site, "wrap", ctx.fix("wrap", [ctx.replace((arg, layer.site.top),
                                                                        "(" + ctx.code(arg) + ")")]))


class FlipUnits(Rule):
    """Sets the first argument to 16 when it is 8 and to 8 when it is 16: two fixes that undo each other."""

    code, name = "KL905", "test-flip-units"

    def check(self, ctx):
        for layer in ctx.analysis.layers:
            arg = layer.site.node.args[0].value
            new = {"8": "16", "16": "8"}.get(ctx.code(arg))
            if new is not None:
                ctx.report(layer.site, "flip", ctx.fix("flip", [ctx.replace((arg, layer.site.top), new)]))


class SetsUnits(Rule):
    """Sets the units of a layer named ``fixed`` to 4: a fix that converges."""

    code, name = "KL906", "test-sets-units"

    def check(self, ctx):
        for layer in ctx.analysis.layers:
            arg = layer.site.node.args[0].value
            if ctx.code(arg) == "32":
                ctx.report(layer.site, "set", ctx.fix("set", [ctx.replace((arg, layer.site.top), "4")]))


class Breaks(Rule):
    """A fix whose result does not parse."""

    code, name = "KL904", "test-breaks"

    def check(self, ctx):
        for layer in ctx.analysis.layers:
            ctx.report(layer.site, "broken", ctx.fix("break it", [ctx.replace(layer.site, "keras.layers.Dense(8,,)")]))


# ------------------------------------------------------------ apply_fixes


def _f(row, col, *edits, imports=()):
    return SimpleNamespace(row=row, col=col, text_edits=list(edits),
                           fix=SimpleNamespace(imports=list(imports)) if imports else None)


def test_apply_fixes_non_overlapping_edits_all_apply():
    text = "aaa bbb ccc"
    out, n = apply_fixes(text, [_f(1, 1, TextEdit(0, 3, "AAA")), _f(1, 9, TextEdit(8, 11, "CCC"))])
    assert (out, n) == ("AAA bbb CCC", 2)


def test_apply_fixes_drops_the_later_overlapping_fix():
    text = "aaa bbb ccc"
    out, n = apply_fixes(text, [_f(1, 1, TextEdit(0, 7, "X")), _f(1, 5, TextEdit(4, 11, "Y"))])
    assert (out, n) == ("X ccc", 1)


def test_apply_fixes_two_insertions_at_one_point_overlap():
    out, n = apply_fixes("f()", [_f(1, 1, TextEdit(2, 2, "a")), _f(1, 1, TextEdit(2, 2, "b"))])
    assert (out, n) == ("f(a)", 1)


def test_apply_fixes_touching_edits_both_apply():
    # a replacement ending where an insertion starts does not overlap it
    out, n = apply_fixes("f(x)", [_f(1, 3, TextEdit(2, 3, "y")), _f(1, 4, TextEdit(3, 3, ", z=1"))])
    assert (out, n) == ("f(y, z=1)", 2)


def test_apply_fixes_adds_a_shared_import_once():
    text = "import a\nx = 1\ny = 2\n"
    imp = "from m import N\n"
    f1 = _f(2, 5, TextEdit(13, 14, "N(1)"), TextEdit(9, 9, imp), imports=["need"])
    f2 = _f(3, 5, TextEdit(19, 20, "N(2)"), TextEdit(9, 9, imp), imports=["need"])
    out, n = apply_fixes(text, [f1, f2])
    assert n == 2
    assert out == "import a\nfrom m import N\nx = N(1)\ny = N(2)\n"
    assert out.count(imp) == 1


def test_parse_error():
    assert parse_error("x = 1\n") is None
    err = parse_error("x = 1\ny = (\n")
    assert isinstance(err, str) and err
    assert parse_error("def f(:\n    pass\n") is not None


# ------------------------------------------------------- overlap & fixed point


def test_overlapping_fixes_on_one_call_are_applied_over_two_passes():
    src = "import keras\nkeras.layers.Dense(8)\n"
    linter = Linter([AddA, AddB], {})
    findings, _ = linter.lint_text("m.py", src)
    assert sorted(f.code for f in findings) == ["KL901", "KL902"]
    # in one pass only one of the two edits can be taken: they insert at the same point
    once, n = apply_fixes(src, findings)
    assert n == 1 and once.count("=") == 1
    fixed, n, remaining, problems, warnings = linter.fix_text("m.py", src)
    assert fixed == "import keras\nkeras.layers.Dense(8, a=1, b=2)\n"
    assert n == 2 and remaining == [] and problems == [] and warnings == []
    again = linter.fix_text("m.py", fixed)
    assert again[0] == fixed and again[1] == 0


def test_two_real_rules_fix_the_same_call(project, cli, write):
    (project / "pyproject.toml").write_text("[tool.klint.rules.KL301]\nalways = true\n")
    p = write(project / "m.py", "import keras\n\nopt = keras.optimizers.SGD(0.5)\n")
    rc, findings, _ = cli.json("m.py")
    assert sorted(f["code"] for f in findings) == ["KL301", "KL401"]
    assert {f["location"]["row"] for f in findings} == {3}
    rc, out, _ = cli("check", "--fix", "--unsafe-fixes", "m.py")
    assert rc == 0
    assert p.read_text() == ("import keras\n\nopt = keras.optimizers.SGD(keras.optimizers.schedules."
                             + SCHEDULE.format("0.5") + ", clipnorm=1.0)\n")
    before = p.read_bytes()
    rc, out, _ = cli("check", "--fix", "--unsafe-fixes", "m.py")
    assert rc == 0 and p.read_bytes() == before


def test_fixes_that_compile_alone_but_not_together_are_applied_over_two_passes():
    """Each fix alone is fine, together they repeat a keyword, which parses but does not compile."""
    src = 'import keras\nkeras.layers.Dense(8, init="glorot_uniform")\n'
    linter = Linter([RenamesInit, AddKernelInit], {})
    findings, _ = linter.lint_text("m.py", src)
    both, n = apply_fixes(src, findings)
    assert n == 2 and parse_error(both) is None and compile_error(both) is not None
    fixed, n, remaining, problems, warnings = linter.fix_text("m.py", src)
    assert compile_error(fixed) is None and fixed.count("kernel_initializer") == 1 and n == 1
    # the fix that no longer goes with the other is dropped, and said so
    assert len(warnings) == 1 and "keyword argument repeated" in warnings[0] and problems == []


def test_upgrade_fixes_go_first():
    """The other rules read the code as Keras 3 code: they see `init=` renamed before they judge it."""
    src = 'import keras\nkeras.layers.Dense(8, init="glorot_uniform")\n'
    fixed, n, remaining, _, warnings = Linter([AddKernelInit, RenamesInitUpgrade], {}).fix_text("m.py", src)
    assert fixed == 'import keras\nkeras.layers.Dense(8, kernel_initializer="glorot_uniform")\n'
    assert n == 1 and remaining == [] and warnings == []


def test_a_file_that_did_not_compile_is_still_fixed():
    """Compiling is checked only for a text that compiled: a notebook's top-level `await` does not."""
    src = 'import keras\nkeras.layers.Dense(8)\nawait thing()\n'
    assert compile_error(src) is not None
    fixed, n, _, _, warnings = Linter([AddA], {}).fix_text("m.py", src)
    assert n == 1 and "a=1" in fixed and warnings == []


def test_fix_loop_is_bounded_and_leaves_the_file_as_it_was():
    src = "import keras\nkeras.layers.Dense(8)\n"
    fixed, n, remaining, problems, warnings = Linter([WrapForever], {}).fix_text("m.py", src)
    assert fixed == src and n == 0
    assert len(warnings) == 1 and str(MAX_FIX_PASSES) in warnings[0] and "left as it was" in warnings[0]
    assert [f.code for f in remaining] == ["KL903"]


def test_fixes_that_undo_each_other_are_withdrawn_and_the_others_applied():
    src = "import keras\nkeras.layers.Dense(8)\nkeras.layers.Dense(32)\n"
    fixed, n, remaining, problems, warnings = Linter([FlipUnits, SetsUnits], {}).fix_text("m.py", src)
    assert fixed == "import keras\nkeras.layers.Dense(8)\nkeras.layers.Dense(4)\n"
    assert n == 1
    assert len(warnings) == 1 and "KL905" in warnings[0] and "withdrawn" in warnings[0]
    assert [f.code for f in remaining] == ["KL905"]
    again, n2, _, _, _ = Linter([FlipUnits, SetsUnits], {}).fix_text("m.py", fixed)
    assert again == fixed and n2 == 0


def test_second_fix_run_is_byte_identical(project, cli, write):
    src = ("import tensorflow as tf\n"
           "from tensorflow import keras\n\n"
           "model = keras.Sequential([\n"
           "    keras.layers.LSTM(16),\n"
           '    keras.layers.Dense(32, activation="relu"),\n'
           "    keras.layers.Dense(1),\n"
           "])\n"
           "model.compile(optimizer=keras.optimizers.Adam(0.05), loss='mse')\n")
    p = write(project / "m.py", src)
    rc, out, _ = cli("check", "--fix", "--unsafe-fixes", "m.py")
    assert rc == 0
    first = p.read_bytes()
    assert first != src.encode()
    assert b'kernel_initializer="he_normal"' in first and b"clipnorm=1.0" in first
    assert b"tf.keras.optimizers.schedules.ExponentialDecay" in first or \
        b"keras.optimizers.schedules.ExponentialDecay" in first
    rc, out, _ = cli("check", "--fix", "--unsafe-fixes", "m.py")
    assert rc == 0 and p.read_bytes() == first
    rc, findings, _ = cli.json("m.py")
    assert rc == 0 and findings == []


# ------------------------------------------------------------------ revert


def test_fix_that_would_not_parse_is_reverted():
    src = "import keras\nkeras.layers.Dense(8)\n"
    fixed, n, remaining, problems, warnings = Linter([Breaks], {}).fix_text("m.py", src)
    assert fixed == src and n == 0
    assert len(warnings) == 1 and "KL904" in warnings[0]
    assert [f.code for f in remaining] == ["KL904"]


def test_revert_through_the_cli(project, cli, write, monkeypatch):
    def broken(self, ctx, mismatch):
        return ctx.fix("broken", [ctx.replace(mismatch.layer.site, "keras.layers.Dense(64,,)")])

    monkeypatch.setattr(InitActivationMismatch, "make_fix", broken)
    p = write(project / "m.py", RELU_DENSE)
    rc, out, err = cli("check", "--fix", "--output-format", "json", "m.py")
    diags = json.loads(out)
    assert rc == 1
    assert p.read_text() == RELU_DENSE
    assert sorted(d["code"] for d in diags) == ["KL004", "KL101"]
    assert all(d["filename"] == "m.py" for d in diags)
    assert "Traceback" not in err


# ------------------------------------------------------- encodings and endings


def test_crlf_stays_crlf(project, cli, write):
    src = (b"from keras.layers import LSTM, Dense\r\nfrom keras.models import Sequential\r\n\r\n"
           b"model = Sequential([LSTM(8), Dense(4, activation='relu'), Dense(1)])\r\n"
           b"model.compile('adam', 'mse')\r\n")
    p = write(project / "m.py", src)
    rc, _, _ = cli("check", "--fix", "m.py")
    assert rc == 0
    data = p.read_bytes()
    assert data == (b"from keras.layers import LSTM, Dense\r\nfrom keras.models import Sequential\r\n"
                    b"from keras.optimizers import Adam\r\n\r\n"
                    b"model = Sequential([LSTM(8), Dense(4, activation='relu', kernel_initializer='he_normal'), "
                    b"Dense(1)])\r\n"
                    b"model.compile(Adam(clipnorm=1.0), 'mse')\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")


def test_utf8_bom_is_kept(project, cli, write):
    p = write(project / "m.py", b"\xef\xbb\xbf" + RELU_DENSE.encode())
    rc, _, _ = cli("check", "--fix", "m.py")
    assert rc == 0
    assert p.read_bytes() == b"\xef\xbb\xbf" + RELU_DENSE_FIXED.encode()


def test_bom_and_crlf_with_an_added_import(project, cli, write):
    p = write(project / "m.py", b"\xef\xbb\xbffrom keras.optimizers import SGD\r\na = SGD(0.5)\r\n")
    rc, _, _ = cli("check", "--fix", "--unsafe-fixes", "m.py")
    assert rc == 0
    assert p.read_bytes() == (b"\xef\xbb\xbffrom keras.optimizers import SGD\r\n"
                              b"from keras.optimizers.schedules import ExponentialDecay\r\n"
                              b"a = SGD(" + SCHEDULE.format("0.5").encode() + b")\r\n")


def test_pep263_latin1_round_trips(project, cli, write):
    src = ('# -*- coding: latin-1 -*-\nimport keras\n# caf\xe9\n'
           'keras.layers.Dense(64, activation="relu", name="\xe9t\xe9")\n')
    p = write(project / "m.py", src.encode("latin-1"))
    rc, _, _ = cli("check", "--fix", "m.py")
    assert rc == 0
    data = p.read_bytes()
    assert b"\xc3" not in data  # not re-encoded as UTF-8
    assert data.decode("latin-1") == src.replace('name="\xe9t\xe9")', 'name="\xe9t\xe9", kernel_initializer="he_normal")')


def test_permissions_are_kept(project, cli, write):
    p = write(project / "m.py", RELU_DENSE)
    os.chmod(p, 0o751)
    rc, _, _ = cli("check", "--fix", "m.py")
    assert rc == 0 and p.read_text() == RELU_DENSE_FIXED
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o751


def test_fix_leaves_no_temporary_files(project, cli, write):
    write(project / "a.py", RELU_DENSE)
    write(project / "b.py", RELU_DENSE)
    before = sorted(os.listdir(project))
    rc, _, _ = cli("check", "--fix", ".")
    assert rc == 0
    assert sorted(os.listdir(project)) == before
    assert (project / "a.py").read_text() == RELU_DENSE_FIXED == (project / "b.py").read_text()


def test_write_atomic_never_leaves_a_partial_file(tmp_path, monkeypatch):
    p = tmp_path / "m.py"
    p.write_bytes(b"old\n")

    def fail(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(engine.os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(p, b"new\n")
    assert p.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["m.py"]
    monkeypatch.undo()
    write_atomic(p, b"new\n")
    assert p.read_bytes() == b"new\n" and os.listdir(tmp_path) == ["m.py"]


# ------------------------------------------------------------ --diff and stdin


def test_diff_writes_nothing_and_prints_a_unified_diff(project, cli, write):
    p = write(project / "m.py", RELU_DENSE)
    mtime = os.stat(p).st_mtime_ns
    rc, out, err = cli("check", "--diff", "m.py")
    assert rc == 1
    assert p.read_text() == RELU_DENSE and os.stat(p).st_mtime_ns == mtime
    lines = out.splitlines()
    assert lines[0] == "--- m.py" and lines[1] == "+++ m.py"
    assert lines[2].startswith("@@ ")
    assert '-keras.layers.Dense(64, activation="relu")' in lines
    assert '+keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")' in lines
    assert " import keras" in lines


def test_diff_of_a_clean_file_is_empty(project, cli, write):
    write(project / "m.py", RELU_DENSE_FIXED)
    rc, out, _ = cli("check", "--diff", "m.py")
    assert rc == 0 and out == ""


def test_stdin_fix_prints_the_fixed_code(project, run_klint):
    src = b"from tensorflow.keras.optimizers import SGD\nopt = SGD(0.5)\n"
    r = run_klint("check", "--fix", "--unsafe-fixes", "-", "--stdin-filename", "x.py", cwd=project, stdin=src)
    assert r.returncode == 0
    assert r.stdout == (b"from tensorflow.keras.optimizers import SGD\n"
                        b"from tensorflow.keras.optimizers.schedules import ExponentialDecay\n"
                        b"opt = SGD(" + SCHEDULE.format("0.5").encode() + b")\n")
    assert not (project / "x.py").exists()


def test_stdin_fix_keeps_crlf_and_reports_remaining_on_stderr(project, run_klint):
    src = b"import keras\r\nkeras.layers.Dense(64, activation='relu')\r\nopt = keras.optimizers.Adam(0.05)\r\n"
    r = run_klint("check", "--fix", "-", "--stdin-filename", "x.py", cwd=project, stdin=src)
    assert r.returncode == 1  # the unsafe KL401 fix is not applied and remains
    assert r.stdout == src.replace(b"'relu')", b"'relu', kernel_initializer='he_normal')")
    assert b"x.py:3:7: KL401" in r.stderr


def test_stdin_without_fix_reports(project, run_klint):
    r = run_klint("check", "-", "--stdin-filename", "x.py", cwd=project, stdin=RELU_DENSE.encode())
    assert r.returncode == 1
    assert r.stdout.startswith(b"x.py:2:1: KL101 ")


# ------------------------------------------------------------------ imports


@pytest.mark.parametrize("src, expected", [
    ("import tensorflow as tf\nopt = tf.keras.optimizers.Adam(0.05)\n",
     "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(tf.keras.optimizers.schedules."
     + SCHEDULE.format("0.05") + ")\n"),
    ("from keras import optimizers\na = optimizers.SGD(0.5)\n",
     "from keras import optimizers\na = optimizers.SGD(optimizers.schedules." + SCHEDULE.format("0.5") + ")\n"),
    ("from keras.optimizers import SGD\nfrom keras.optimizers.schedules import ExponentialDecay\na = SGD(0.5)\n",
     "from keras.optimizers import SGD\nfrom keras.optimizers.schedules import ExponentialDecay\na = SGD("
     + SCHEDULE.format("0.5") + ")\n"),
    ("from keras.optimizers import SGD as S\nimport keras\na = S(0.5)\n",
     "from keras.optimizers import SGD as S\nimport keras\na = S(keras.optimizers.schedules."
     + SCHEDULE.format("0.5") + ")\n"),
    ('"""Doc."""\nfrom keras.optimizers import SGD\na = SGD(0.5)\n',
     '"""Doc."""\nfrom keras.optimizers import SGD\nfrom keras.optimizers.schedules import ExponentialDecay\n'
     "a = SGD(" + SCHEDULE.format("0.5") + ")\n"),
    ("from tensorflow.keras.optimizers import SGD\nExponentialDecay = 3\na = SGD(0.5)\n",
     "from tensorflow.keras.optimizers import SGD\nimport tensorflow as tf\nExponentialDecay = 3\n"
     "a = SGD(tf.keras.optimizers.schedules." + SCHEDULE.format("0.5") + ")\n"),
], ids=["tf-alias", "from-keras-import-optimizers", "already-imported", "module-alias", "after-docstring",
        "name-taken"])
def test_imports_reuse_existing_aliases(project, cli, write, src, expected):
    p = write(project / "m.py", src)
    rc, _, _ = cli("check", "--fix", "--unsafe-fixes", "m.py")
    assert rc == 0
    assert p.read_text() == expected


def test_an_import_needed_by_several_fixes_is_added_once(project, cli, write):
    p = write(project / "m.py", "from tensorflow.keras.optimizers import SGD, Adam\n"
                                "a = SGD(0.5)\nb = Adam(0.05)\nc = SGD(0.9)\n")
    rc, out, _ = cli("check", "--fix", "--unsafe-fixes", "m.py")
    assert rc == 0
    text = p.read_text()
    assert text == ("from tensorflow.keras.optimizers import SGD, Adam\n"
                    "from tensorflow.keras.optimizers.schedules import ExponentialDecay\n"
                    "a = SGD(" + SCHEDULE.format("0.5") + ")\nb = Adam(" + SCHEDULE.format("0.05")
                    + ")\nc = SGD(" + SCHEDULE.format("0.9") + ")\n")


def test_import_text_in_a_comment_does_not_count_as_imported(project, cli, write):
    p = write(project / "m.py", "# from keras.optimizers import Adam\n"
                                "from keras.layers import LSTM, Dense\nfrom keras.models import Sequential\n\n"
                                "model = Sequential([LSTM(8), Dense(1)])\nmodel.compile('adam', 'mse')\n")
    cli("check", "--fix", "m.py")
    text = p.read_text()
    assert "model.compile(Adam(clipnorm=1.0), 'mse')" in text
    assert "\nfrom keras.optimizers import Adam\n" in text  # a real, module-level import


def test_import_inside_a_function_does_not_count_as_imported(project, cli, write):
    p = write(project / "m.py", "from keras.layers import LSTM, Dense\nfrom keras.models import Sequential\n\n"
                                "def f():\n    from keras.optimizers import Adam\n    return Adam\n\n"
                                "model = Sequential([LSTM(8), Dense(1)])\nmodel.compile('adam', 'mse')\n")
    cli("check", "--fix", "m.py")
    text = p.read_text()
    assert "model.compile(Adam(clipnorm=1.0), 'mse')" in text
    assert any(line == "from keras.optimizers import Adam" for line in text.splitlines())


# ------------------------------------------------------------------ unsafe


def test_unsafe_fixes_only_with_the_flag(project, cli, write):
    src = "import keras\n\nopt = keras.optimizers.Adam(learning_rate=0.05)\n"
    p = write(project / "m.py", src)
    rc, out, _ = cli("check", "--fix", "m.py")
    assert rc == 1 and p.read_text() == src
    assert out.startswith("m.py:3:7: KL401 ") and "[*]" not in out.splitlines()[0]
    rc, out, _ = cli("check", "--fix", "--unsafe-fixes", "m.py")
    assert rc == 0
    assert p.read_text() == ("import keras\n\nopt = keras.optimizers.Adam(learning_rate=keras.optimizers.schedules."
                             + SCHEDULE.format("0.05") + ")\n")


def test_safe_and_unsafe_in_one_file(project, cli, write):
    src = RELU_DENSE + "opt = keras.optimizers.Adam(0.05)\n"
    p = write(project / "m.py", src)
    rc, out, _ = cli("check", "--fix", "m.py")
    assert rc == 1
    assert p.read_text() == RELU_DENSE_FIXED + "opt = keras.optimizers.Adam(0.05)\n"
    rc, findings, _ = cli.json("m.py")
    assert [(f["code"], f["fix"]["applicability"]) for f in findings] == [("KL401", "unsafe")]


def test_fix_with_all_rules_through_the_linter_api():
    linter = Linter(list(all_rules()), {}, unsafe=False)
    fixed, n, remaining, problems, warnings = linter.fix_text("m.py", RELU_DENSE)
    assert (fixed, n, remaining, problems, warnings) == (RELU_DENSE_FIXED, 1, [], [], [])


# ------------------------------------------------------- the README's upgrade example


def readme_upgrade_example() -> tuple[str, str]:
    """The Keras 2 script of the README's "Upgrading to Keras 3" diff, and the script after it."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Upgrading to Keras 3"):]
    diff = section[section.index("```diff\n") + len("```diff\n"):]
    diff = diff[:diff.index("```")]
    before, after = [], []
    for line in diff.splitlines()[3:]:  # after the ---/+++/@@ header
        mark, text = line[:1], line[1:]
        if mark in " -":
            before.append(text)
        if mark in " +":
            after.append(text)
    return "\n".join(before) + "\n", "\n".join(after) + "\n"


def test_the_readme_upgrade_diff_is_what_klint_does():
    from klint.engine.config import Config

    before, after = readme_upgrade_example()
    rules = Config().selected_rules(select=["KL8", "KL402"])
    fixed, n, remaining, problems, warnings = Linter(rules, {}, unsafe=True).fix_text("train.py", before)
    assert fixed == after
    assert remaining == [] and problems == [] and warnings == [] and n >= 10
