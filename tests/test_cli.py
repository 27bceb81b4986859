"""The command line: output formats, exit codes, selection flags, file discovery and problem files."""
from __future__ import annotations

import json
import re

import pytest

import klint
from klint.engine.registry import all_rules
from klint.rules.kl101_init_activation_mismatch import InitActivationMismatch

RELU_DENSE = 'import keras\nkeras.layers.Dense(64, activation="relu")\n'
RELU_DENSE_FIXED = 'import keras\nkeras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")\n'
BOTH = RELU_DENSE + "opt = keras.optimizers.Adam(learning_rate=0.05)\n"  # KL101 2:1 (safe), KL401 3:7 (unsafe)
CLEAN = 'import keras\nkeras.layers.Dense(64, activation="tanh")\n'

TEXT_LINE = re.compile(r"^(?P<path>[^:]+):(?P<row>\d+):(?P<col>\d+): (?P<code>KL\d{3}) (?P<msg>.+?)(?P<fix> \[\*\])?$")


def _text_findings(out: str):
    rows = []
    for line in out.splitlines():
        m = TEXT_LINE.match(line)
        if m:
            rows.append((m["path"], int(m["row"]), int(m["col"]), m["code"], bool(m["fix"])))
    return rows


def _apply_json_edits(text: str, edits: list) -> str:
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def off(loc):
        return starts[loc["row"] - 1] + loc["column"] - 1

    for e in sorted(edits, key=lambda e: off(e["location"]), reverse=True):
        a, b = off(e["location"]), off(e["end_location"])
        text = text[:a] + e["content"] + text[b:]
    return text


# ------------------------------------------------------------------ text


def test_text_format(project, cli, write):
    write(project / "m.py", BOTH)
    rc, out, err = cli("check", "m.py")
    assert rc == 1 and err == ""
    assert _text_findings(out) == [("m.py", 2, 1, "KL101", True), ("m.py", 3, 7, "KL401", False)]
    lines = out.splitlines()
    assert len(lines) == 2 + 2  # two findings, "Found 2 errors.", the fixable hint
    assert re.search(r"\b2\b", lines[2]) and "error" in lines[2]
    assert "--fix" in lines[3] and "--unsafe-fixes" in lines[3]


def test_text_format_marks_unsafe_fixes_with_the_flag(project, cli, write):
    write(project / "m.py", BOTH)
    rc, out, _ = cli("check", "--unsafe-fixes", "m.py")
    assert [r[4] for r in _text_findings(out)] == [True, True]


def test_text_format_clean_and_quiet(project, cli, write):
    write(project / "m.py", CLEAN)
    rc, out, err = cli("check", "m.py")
    assert rc == 0 and err == "" and out.strip() and _text_findings(out) == []
    write(project / "n.py", RELU_DENSE)
    rc, out, _ = cli("check", "-q", "m.py", "n.py")
    assert rc == 1 and len(out.splitlines()) == 1 and _text_findings(out) == [("n.py", 2, 1, "KL101", True)]


def test_text_fix_summary(project, cli, write):
    write(project / "m.py", BOTH)
    rc, out, _ = cli("check", "--fix", "m.py")
    assert rc == 1
    assert _text_findings(out) == [("m.py", 3, 7, "KL401", False)]
    assert re.search(r"\b1 fixed\b", out) and re.search(r"\b1 remaining\b", out)


# ------------------------------------------------------------------ json


def test_json_shape(project, cli, write):
    write(project / "m.py", BOTH)
    rc, findings, err = cli.json("m.py")
    assert rc == 1 and err == ""
    assert [f["code"] for f in findings] == ["KL101", "KL401"]
    names = {r.code: r.name for r in all_rules()}
    for f in findings:
        assert {"code", "name", "message", "filename", "location", "end_location", "fix", "url", "view"} <= set(f)
        assert f["name"] == names[f["code"]]
        assert isinstance(f["message"], str) and f["message"]
        assert f["filename"] == "m.py"
        assert set(f["location"]) == {"row", "column"} and set(f["end_location"]) == {"row", "column"}
        assert f["url"].startswith("https://") and f["code"] in f["url"]
        assert f["view"] == "source"
        fix = f["fix"]
        assert set(fix) == {"applicability", "message", "edits"}
        for e in fix["edits"]:
            assert set(e) == {"content", "location", "end_location"}
    kl101, kl401 = findings
    assert kl101["location"] == {"row": 2, "column": 1} and kl101["end_location"] == {"row": 2, "column": 42}
    assert kl401["location"] == {"row": 3, "column": 7}
    assert kl101["fix"]["applicability"] == "safe" and kl401["fix"]["applicability"] == "unsafe"
    assert kl101["fix"]["edits"] == [{"content": ', kernel_initializer="he_normal"',
                                      "location": {"row": 2, "column": 41}, "end_location": {"row": 2, "column": 41}}]
    # the edits, applied as the JSON describes them, give what --fix writes
    assert _apply_json_edits(BOTH, kl101["fix"]["edits"]) == RELU_DENSE_FIXED + BOTH.splitlines(True)[2]


def test_json_edits_with_an_import_reproduce_the_fix(project, cli, write):
    src = "from keras.optimizers import SGD\n\nopt = SGD(0.5)\n"
    p = write(project / "m.py", src)
    _, (f,), _ = cli.json("m.py")
    from_json = _apply_json_edits(src, f["fix"]["edits"])
    rc, _, _ = cli("check", "--fix", "--unsafe-fixes", "m.py")
    assert rc == 0 and p.read_text() == from_json
    assert "from keras.optimizers.schedules import ExponentialDecay\n" in from_json


def test_json_fix_is_null_without_a_fix(project, cli, write):
    write(project / "m.py", "import keras\n\nbase = keras.applications.EfficientNetB0(include_top=False)\n"
                            "model = keras.Sequential([base, keras.layers.Dense(2)])\nmodel.fit(x, y, batch_size=8)\n")
    _, findings, _ = cli.json("m.py")
    assert [(f["code"], f["fix"]) for f in findings] == [("KL201", None)]


def test_json_clean_is_an_empty_list(project, cli, write):
    write(project / "m.py", CLEAN)
    rc, findings, _ = cli.json("m.py")
    assert rc == 0 and findings == []


# ------------------------------------------------------------------ github and sarif


def test_github_format(project, cli, write):
    write(project / "m.py", BOTH)
    rc, out, _ = cli("check", "--output-format", "github", "m.py")
    assert rc == 1
    lines = out.splitlines()
    assert len(lines) == 2
    pat = re.compile(r"^::error title=klint \((KL\d{3})\),file=([^,]+),line=(\d+),col=(\d+),"
                     r"endLine=(\d+),endColumn=(\d+)::(.+)$")
    got = [pat.match(line).groups()[:4] for line in lines]
    assert got == [("KL101", "m.py", "2", "1"), ("KL401", "m.py", "3", "7")]


def test_github_format_escapes(project, cli, write):
    write(project / "a,b.py", RELU_DENSE)
    rc, out, _ = cli("check", "--output-format", "github", "a,b.py")
    assert "file=a%2Cb.py," in out


def test_sarif_format(project, cli, write):
    write(project / "m.py", BOTH)
    rc, out, _ = cli("check", "--output-format", "sarif", "m.py")
    assert rc == 1
    doc = json.loads(out)
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    assert run["tool"]["driver"]["name"] == "klint"
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == [r.code for r in all_rules()]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["KL101", "KL401"]
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in results]
    assert [(g["startLine"], g["startColumn"]) for g in regions] == [(2, 1), (3, 7)]
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "m.py" for r in results)
    for r in results:
        assert rule_ids[r["ruleIndex"]] == r["ruleId"]
        assert r["message"]["text"]


def test_sarif_clean(project, cli, write):
    write(project / "m.py", CLEAN)
    rc, out, _ = cli("check", "--output-format", "sarif", "m.py")
    assert rc == 0 and json.loads(out)["runs"][0]["results"] == []


# ------------------------------------------------------------------ statistics


def test_statistics(project, cli, write):
    write(project / "a.py", BOTH)
    write(project / "b.py", RELU_DENSE)
    rc, out, _ = cli("check", "--statistics", ".")
    assert rc == 1
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(int(r[0]), r[1]) for r in rows] == [(2, "KL101"), (1, "KL401")]
    assert rows[0][2].startswith("[*]") and not rows[1][2].startswith("[*]")
    rc, out, _ = cli("check", "--statistics", "--output-format", "json", ".")
    assert [(d["code"], d["count"], d["fixable"]) for d in json.loads(out)] == [("KL101", 2, True),
                                                                               ("KL401", 1, False)]


# ------------------------------------------------------------------ exit codes


def test_exit_codes(project, cli, write):
    write(project / "clean.py", CLEAN)
    write(project / "bad.py", RELU_DENSE)
    write(project / "broken.py", "import keras\nx = 1 +\n")
    assert cli("check", "clean.py")[0] == 0
    assert cli("check", "bad.py")[0] == 1
    assert cli("check", "broken.py")[0] == 1
    assert cli("check", "--exit-zero", "bad.py", "broken.py")[0] == 0
    assert cli("check", "--bogus-flag", "clean.py")[0] == 2
    assert cli("check", "--output-format", "xml", "clean.py")[0] == 2
    assert cli("check", "--select", "XX", "clean.py")[0] == 2
    assert cli()[0] == 2
    (project / "pyproject.toml").write_text("[tool.klint]\nnope = 1\n")
    assert cli("check", "clean.py")[0] == 2


def test_exit_codes_in_a_separate_process(project, write, run_klint):
    write(project / "clean.py", CLEAN)
    write(project / "bad.py", RELU_DENSE)
    assert run_klint("check", "clean.py", cwd=project).returncode == 0
    assert run_klint("check", "bad.py", cwd=project).returncode == 1
    assert run_klint("check", "--exit-zero", "bad.py", cwd=project).returncode == 0
    r = run_klint("check", "--bogus-flag", cwd=project)
    assert r.returncode == 2 and b"--bogus-flag" in r.stderr and b"Traceback" not in r.stderr


@pytest.mark.parametrize("argv, option", [
    (("check", "--jobs", "0"), "--jobs"),
    (("check", "-j", "-2"), "--jobs"),
    (("check", "--jobs", "many"), "--jobs"),
    (("check", "--graph", "--timeout", "nan"), "--timeout"),  # float() takes nan and inf
    (("check", "--graph", "--timeout", "inf"), "--timeout"),
    (("check", "--graph", "--timeout", "0"), "--timeout"),
    (("probe", "--timeout", "nan", "m.py"), "--timeout"),
])
def test_bad_numbers_on_the_command_line_exit_2(project, cli, write, argv, option):
    write(project / "m.py", CLEAN)
    rc, out, err = cli(*argv, *(() if argv[0] == "probe" else ("m.py",)))
    assert rc == 2 and out == "" and "Traceback" not in err
    assert err.splitlines()[-1].startswith(f"klint: error: argument {option}")


def test_version(cli):
    rc, out, _ = cli("--version")
    assert rc == 0 and klint.__version__ in out


# ------------------------------------------------------------------ selection flags


@pytest.mark.parametrize("flags, expected", [
    ((), ["KL101", "KL401"]),
    (("--select", "KL1"), ["KL101"]),
    (("--select", "KL"), ["KL101", "KL401"]),
    (("--select", "KL101,KL401"), ["KL101", "KL401"]),
    (("--select", "kl4"), ["KL401"]),
    (("--select", "init-activation-mismatch"), ["KL101"]),
    (("--ignore", "KL1"), ["KL401"]),
    (("--ignore", "KL"), []),
    (("--select", "KL1", "--extend-select", "KL4"), ["KL101", "KL401"]),
    (("--select", "KL2", "--extend-select", "KL401"), ["KL401"]),
    (("--select", "KL", "--ignore", "KL401"), ["KL101"]),
])
def test_selection_flags(project, cli, write, flags, expected):
    write(project / "m.py", BOTH)
    rc, findings, _ = cli.json(*flags, "m.py")
    assert [f["code"] for f in findings] == expected
    assert rc == (1 if expected else 0)


# ------------------------------------------------------------------ discovery


def test_directory_recursion_skips_tool_folders(project, cli, write):
    for d in ("", "sub/", "sub/deeper/", ".git/", ".venv/", "build/", "node_modules/", "myenv/", "sub/__pycache__/",
              "dist/"):
        write(project / f"{d}m.py", RELU_DENSE)
    (project / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    write(project / "notes.txt", RELU_DENSE)
    rc, findings, _ = cli.json(".")
    assert sorted(f["filename"] for f in findings) == ["m.py", "sub/deeper/m.py", "sub/m.py"]
    # with no path, the current folder is checked
    rc, findings2, _ = cli.json()
    assert findings2 == findings


def test_explicit_file_in_a_skipped_folder_is_checked(project, cli, write):
    write(project / "build" / "m.py", RELU_DENSE)
    _, findings, _ = cli.json("build/m.py")
    assert [(f["filename"], f["code"]) for f in findings] == [("build/m.py", "KL101")]


def test_syntax_error_is_reported_and_other_files_are_checked(project, cli, write):
    write(project / "a.py", RELU_DENSE)
    write(project / "b.py", "import keras\n\n\nx = 1 +\n")
    write(project / "c.py", RELU_DENSE)
    rc, findings, err = cli.json(".")
    assert rc == 1 and "Traceback" not in err
    got = [(f["filename"], f["code"], f["location"]["row"]) for f in findings]
    assert got == [("a.py", "KL101", 2), ("b.py", "KL001", 4), ("c.py", "KL101", 2)]
    (syn,) = [f for f in findings if f["code"] == "KL001"]
    assert syn["message"] and syn["fix"] is None
    rc, out, _ = cli("check", "b.py")
    assert out.startswith("b.py:4:")


def test_syntax_error_file_is_left_alone_by_fix(project, cli, write):
    p = write(project / "b.py", RELU_DENSE + "x = 1 +\n")
    rc, out, _ = cli("check", "--fix", "b.py")
    assert rc == 1 and p.read_text() == RELU_DENSE + "x = 1 +\n"
    # CPython's parser places the error where the expression breaks off
    assert _text_findings(out)[0][:4] == ("b.py", 3, 8, "KL001")


@pytest.mark.parametrize("src, line", [
    ('import keras\n\n\n\nx = "abc\n', 5),
    ("import keras\nif x:\n        a = 1\n    b = 2\n", 4),
], ids=["unterminated-string", "bad-dedent"])
def test_tokenizer_error_reports_its_line(project, cli, write, src, line):
    write(project / "b.py", src)
    rc, findings, _ = cli.json("b.py")
    assert [(f["code"], f["location"]["row"]) for f in findings] == [("KL001", line)]


def test_non_utf8_file_is_reported_cleanly(project, cli, write):
    write(project / "bad.py", b'import keras\nname = "\xff\xfe"\n')
    write(project / "good.py", RELU_DENSE)
    rc, out, err = cli("check", "bad.py", "good.py")
    assert rc == 1
    assert "Traceback" not in out + err
    rows = _text_findings(out)
    assert rows[0][:4] == ("bad.py", 2, 1, "KL002")
    assert rows[1][:4] == ("good.py", 2, 1, "KL101")


def test_files_without_keras_or_tensorflow_are_skipped(project, cli, write):
    write(project / "torchy.py", 'from mylib.layers import Dense\nDense(64, activation="relu")\n')
    write(project / "broken.py", "def f(:\n")  # does not parse, but is not a Keras file
    rc, findings, err = cli.json(".")
    assert rc == 0 and findings == [] and err == ""


def test_missing_path_is_reported(project, cli, write):
    write(project / "m.py", RELU_DENSE)
    rc, findings, err = cli.json("missing.py", "m.py")
    assert rc == 1 and "Traceback" not in err
    assert [(f["filename"], f["code"]) for f in findings] == [("m.py", "KL101"), ("missing.py", "KL002")]


def test_many_files_in_worker_processes_match_one_process(project, cli, write):
    for i in range(20):
        write(project / f"m{i:02}.py", RELU_DENSE if i % 2 else CLEAN)
    _, serial, _ = cli.json("-j", "1", ".")
    _, parallel, _ = cli.json("-j", "2", ".")
    assert len(serial) == 10
    assert parallel == serial


def test_rule_crash_is_reported_and_other_files_are_checked(project, cli, write, monkeypatch):
    def boom(self, ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(InitActivationMismatch, "check", boom)
    write(project / "a.py", BOTH)
    rc, findings, err = cli.json("a.py")
    assert "Traceback" not in err
    assert [(f["code"], f["filename"]) for f in findings] == [("KL003", "a.py"), ("KL401", "a.py")]


def test_internal_error_exits_2(project, cli, write, monkeypatch):
    def boom(self, ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(InitActivationMismatch, "check", boom)
    write(project / "a.py", RELU_DENSE)
    rc, out, err = cli("check", "a.py")
    assert "KL003" in out
    assert rc == 2
