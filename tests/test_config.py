"""``[tool.klint]`` configuration: selection, per-file ignores, exclusion, rule options, errors."""
from __future__ import annotations

import pytest

from klint.engine.config import ConfigError, find_config, load_config
from klint.engine.lint import Linter
from klint.engine.rule import Option, Rule, non_negative_number, optimizer_table, positive_number
from klint.engine.target import KERAS_NEWEST, Target

RELU_DENSE = 'import keras\nkeras.layers.Dense(64, activation="relu")\n'
HIGH_LR = "import keras\n\nopt = keras.optimizers.Adam(learning_rate=0.05)\n"
BOTH = RELU_DENSE + "opt = keras.optimizers.Adam(learning_rate=0.05)\n"  # KL101 on 2, KL401 on 3
SMALL_BATCH = ("import keras\nfrom keras import layers\n\n"
               "model = keras.Sequential([keras.Input((8,)), layers.Dense(8), layers.BatchNormalization()])\n"
               "model.fit(x, y, batch_size=32)\n")
PLAIN_OPT = "import keras\n\nopt = keras.optimizers.SGD(0.01)\n"
SGD_02 = "import keras\n\nopt = keras.optimizers.SGD(learning_rate=0.2)\n"


def _codes(findings):
    return sorted((f["filename"], f["code"], f["location"]["row"]) for f in findings)


def _config(project, text: str):
    (project / "pyproject.toml").write_text(text, encoding="utf-8")


# ------------------------------------------------------------------ selection


@pytest.mark.parametrize("table, expected", [
    ("", [("m.py", "KL101", 2), ("m.py", "KL401", 3)]),
    ('select = ["KL101"]', [("m.py", "KL101", 2)]),
    ('select = ["KL1"]', [("m.py", "KL101", 2)]),
    ('select = ["KL"]', [("m.py", "KL101", 2), ("m.py", "KL401", 3)]),
    ('select = ["ALL"]', [("m.py", "KL101", 2), ("m.py", "KL401", 3)]),
    ('select = ["unscheduled-high-learning-rate"]', [("m.py", "KL401", 3)]),
    ('ignore = ["KL101"]', [("m.py", "KL401", 3)]),
    ('ignore = ["KL4"]', [("m.py", "KL101", 2)]),
    ('ignore = ["KL"]', []),
    ('select = ["KL101"]\nextend-select = ["KL401"]', [("m.py", "KL101", 2), ("m.py", "KL401", 3)]),
    ('select = []\nextend-select = ["KL4"]', [("m.py", "KL401", 3)]),
    ("select = []", []),  # as in ruff: no rule, not an error (with extend-select, the way to start from none)
    ('select = ["KL"]\nignore = ["KL101"]', [("m.py", "KL401", 3)]),
])
def test_select_and_ignore(project, cli, write, table, expected):
    _config(project, f"[tool.klint]\n{table}\n")
    write(project / "m.py", BOTH)
    rc, findings, err = cli.json("m.py")
    assert err == ""
    assert _codes(findings) == expected
    assert rc == (1 if expected else 0)


def test_cli_select_overrides_config_select(project, cli, write):
    _config(project, '[tool.klint]\nselect = ["KL101"]\n')
    write(project / "m.py", BOTH)
    _, findings, _ = cli.json("--select", "KL401", "m.py")
    assert _codes(findings) == [("m.py", "KL401", 3)]
    _, findings, _ = cli.json("--extend-select", "KL401", "m.py")
    assert _codes(findings) == [("m.py", "KL101", 2), ("m.py", "KL401", 3)]


def test_config_ignore_still_applies_with_cli_select(project, cli, write):
    _config(project, '[tool.klint]\nignore = ["KL401"]\n')
    write(project / "m.py", BOTH)
    _, findings, _ = cli.json("--select", "KL", "m.py")
    assert _codes(findings) == [("m.py", "KL101", 2)]


def test_per_file_ignores(project, cli, write):
    _config(project, '[tool.klint]\n[tool.klint.per-file-ignores]\n"tests/*" = ["KL101"]\n'
                     '"legacy.py" = ["KL"]\n"scripts/" = ["KL4"]\n')
    for name in ("tests/t.py", "legacy.py", "scripts/s.py", "m.py"):
        write(project / name, BOTH)
    _, findings, _ = cli.json(".")
    assert _codes(findings) == [
        ("m.py", "KL101", 2), ("m.py", "KL401", 3),
        ("scripts/s.py", "KL101", 2),
        ("tests/t.py", "KL401", 3),
    ]


def test_per_file_ignores_are_relative_to_the_config(project, cli, write, monkeypatch):
    _config(project, '[tool.klint]\n[tool.klint.per-file-ignores]\n"pkg/m.py" = ["KL101"]\n')
    write(project / "pkg" / "m.py", BOTH)
    monkeypatch.chdir(project / "pkg")
    _, findings, _ = cli.json("m.py")
    assert _codes(findings) == [("m.py", "KL401", 3)]


def test_exclude(project, cli, write):
    _config(project, '[tool.klint]\nexclude = ["generated", "*_old.py"]\n')
    write(project / "generated" / "g.py", RELU_DENSE)
    write(project / "src" / "model_old.py", RELU_DENSE)
    write(project / "src" / "model.py", RELU_DENSE)
    _, findings, _ = cli.json(".")
    assert _codes(findings) == [("src/model.py", "KL101", 2)]


@pytest.mark.parametrize("pattern", ["./gen", "gen/", "**/gen", "{root}/gen", "{root}/gen/*", "../{name}/gen"],
                         ids=["dot-slash", "trailing-slash", "double-star", "absolute", "absolute-glob", "dot-dot"])
def test_exclude_patterns_anchored_as_in_ruff(project, cli, write, pattern):
    """Patterns that ruff resolves against the project root match here too, instead of nothing."""
    pattern = pattern.format(root=project.as_posix(), name=project.name)
    _config(project, f"[tool.klint]\nexclude = [{pattern!r}]\n")
    write(project / "gen" / "g.py", HIGH_LR)
    write(project / "src" / "gen" / "g.py", HIGH_LR)
    write(project / "m.py", HIGH_LR)
    _, findings, _ = cli.json(".")
    expected = {"m.py", "src/gen/g.py"}
    if pattern == "**/gen":
        expected.discard("src/gen/g.py")
    assert {f["filename"] for f in findings} == expected


def test_per_file_ignores_outside_the_root_by_absolute_path(project, cli, write, tmp_path_factory):
    shared = tmp_path_factory.mktemp("shared")
    write(shared / "m.py", HIGH_LR)
    _config(project, f'[tool.klint.per-file-ignores]\n"{shared.as_posix()}/*.py" = ["KL401"]\n')
    rc, findings, _ = cli.json("--config", "pyproject.toml", str(shared / "m.py"))
    assert rc == 0 and findings == []


# ------------------------------------------------------------------ rule options


def test_min_batch_size_option(project, cli, write):
    write(project / "m.py", SMALL_BATCH)
    rc, findings, _ = cli.json("--select", "KL201", "m.py")
    assert rc == 0 and findings == []
    _config(project, "[tool.klint.rules.KL201]\nmin-batch-size = 64\n")
    rc, findings, _ = cli.json("--select", "KL201", "m.py")
    assert rc == 1 and _codes(findings) == [("m.py", "KL201", 4)]
    _config(project, "[tool.klint.rules.KL201]\nmin-batch-size = 32\n")
    rc, findings, _ = cli.json("--select", "KL201", "m.py")
    assert rc == 0 and findings == []


def test_always_option(project, cli, write):
    write(project / "m.py", PLAIN_OPT)
    rc, findings, _ = cli.json("m.py")
    assert rc == 0 and findings == []
    _config(project, "[tool.klint.rules.KL301]\nalways = true\n")
    rc, findings, _ = cli.json("m.py")
    assert _codes(findings) == [("m.py", "KL301", 3)]
    _config(project, "[tool.klint.rules.KL301]\nalways = false\n")
    rc, findings, _ = cli.json("m.py")
    assert rc == 0 and findings == []


def test_thresholds_option(project, cli, write):
    write(project / "m.py", SGD_02)
    write(project / "n.py", "import keras\n\nopt = keras.optimizers.SGD(learning_rate=0.5)\n")
    write(project / "a.py", HIGH_LR)
    _, findings, _ = cli.json("m.py", "n.py", "a.py")
    assert _codes(findings) == [("a.py", "KL401", 3), ("m.py", "KL401", 3), ("n.py", "KL401", 3)]
    _config(project, "[tool.klint.rules.KL401]\nthresholds = {SGD = 0.5}\n")
    _, findings, _ = cli.json("m.py", "n.py", "a.py")
    # SGD now flags at 0.5 and above; the other optimizers keep their defaults
    assert _codes(findings) == [("a.py", "KL401", 3), ("n.py", "KL401", 3)]


def test_config_fix_and_unsafe_fixes_keys(project, cli, write):
    _config(project, "[tool.klint]\nfix = true\nunsafe-fixes = true\n")
    p = write(project / "m.py", HIGH_LR)
    rc, _, _ = cli("check", "m.py")
    assert rc == 0
    assert "ExponentialDecay(initial_learning_rate=0.05" in p.read_text()
    p.write_text(HIGH_LR)
    rc, _, _ = cli("check", "--no-fix", "m.py")
    assert rc == 1 and p.read_text() == HIGH_LR


# ------------------------------------------------------------------ discovery


def test_nearest_pyproject_with_a_klint_table_is_used(tmp_path, cli, write, monkeypatch):
    _config(tmp_path, '[tool.klint]\nignore = ["KL101"]\n')
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'a'\n")  # no [tool.klint]: skipped
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pyproject.toml").write_text('[tool.klint]\nignore = ["KL401"]\n')
    write(tmp_path / "a" / "m.py", BOTH)
    write(tmp_path / "b" / "m.py", BOTH)
    monkeypatch.chdir(tmp_path)
    _, findings, _ = cli.json("a/m.py")
    assert [f["code"] for f in findings] == ["KL401"]
    _, findings, _ = cli.json("b/m.py")
    assert [f["code"] for f in findings] == ["KL101"]
    assert find_config(tmp_path / "a" / "m.py") == tmp_path / "pyproject.toml"
    assert find_config(tmp_path / "b") == tmp_path / "b" / "pyproject.toml"


def test_config_option_points_at_another_file(project, cli, write, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere") / "pyproject.toml"
    other.write_text('[tool.klint]\nselect = ["KL401"]\n')
    write(project / "m.py", BOTH)
    _, findings, _ = cli.json("--config", str(other), "m.py")
    assert [f["code"] for f in findings] == ["KL401"]


def test_config_option_with_a_klint_toml(project, cli, write):
    (project / "klint.toml").write_text('select = ["KL101"]\n[rules.KL201]\nmin-batch-size = 64\n')
    write(project / "m.py", BOTH + SMALL_BATCH.replace("import keras\n", "", 1))
    cfg = load_config(project / "klint.toml")
    assert cfg.select == ["KL101"] and cfg.rule_options == {"KL201": {"min-batch-size": 64}}
    _, findings, _ = cli.json("--config", "klint.toml", "m.py")
    assert {f["code"] for f in findings} == {"KL101"}


def test_missing_config_file(project, cli, write):
    write(project / "m.py", RELU_DENSE)
    rc, out, err = cli("check", "--config", "nope.toml", "m.py")
    assert rc == 2 and out == "" and "nope.toml" in err


# ------------------------------------------------------------------ errors

BAD = [
    ("[tool.klint]\nfoo = 1\n", "tool.klint.foo"),
    ('[tool.klint]\nselect = "KL101"\n', "tool.klint.select"),
    ('[tool.klint]\nselect = ["XX1"]\n', "XX1"),
    ('[tool.klint]\nselect = ["KL9"]\n', "KL9"),
    ('[tool.klint]\nextend-select = ["KL7"]\n', "KL7"),
    ("[tool.klint]\nignore = [1]\n", "tool.klint.ignore"),
    ('[tool.klint]\nexclude = "a.py"\n', "tool.klint.exclude"),
    ('[tool.klint]\nfix = "yes"\n', "tool.klint.fix"),
    ("[tool.klint]\nunsafe-fixes = 1\n", "tool.klint.unsafe-fixes"),
    ('[tool.klint]\nper-file-ignores = {"a.py" = "KL101"}\n', "tool.klint.per-file-ignores"),
    ('[tool.klint]\nper-file-ignores = {"a.py" = ["ZZ"]}\n', "ZZ"),
    ("[tool.klint]\nrules = 3\n", "tool.klint.rules"),
    ("[tool.klint.rules]\nKL101 = 3\n", "tool.klint.rules.KL101"),
    ("[tool.klint.rules.KL999]\nx = 1\n", "KL999"),
    ("[tool.klint.rules.KL201]\nmin-batch = 1\n", "min-batch"),
    ("[tool.klint.rules.KL101]\nfoo = 1\n", "tool.klint.rules.KL101.foo"),
    ('[tool.klint.rules.KL201]\nmin-batch-size = "big"\n', "min-batch-size"),
    ("[tool.klint.rules.KL201]\nmin-batch-size = 0\n", "min-batch-size"),
    ("[tool.klint.rules.KL201]\nmin-batch-size = 2.5\n", "min-batch-size"),
    ("[tool.klint.rules.KL201]\nmin-batch-size = true\n", "min-batch-size"),
    ('[tool.klint.rules.KL301]\nalways = "yes"\n', "always"),
    ("[tool.klint.rules.KL301]\nalways = 1\n", "always"),
    ('[tool.klint.rules.KL401]\nthresholds = {SGD = "x"}\n', "thresholds"),
    ("[tool.klint.rules.KL401]\nthresholds = {SGD = -1}\n", "thresholds"),
    ("[tool.klint.rules.KL401]\nthresholds = 3\n", "thresholds"),
    ("[tool]\nklint = 3\n", "tool.klint"),
    ("[tool.klint]\ntimeout = -1\n", "tool.klint.timeout"),
    ("[tool.klint]\ntimeout = nan\n", "tool.klint.timeout"),
    ("[tool.klint]\ntimeout = inf\n", "tool.klint.timeout"),
    ("[tool.klint.rules.KL401]\nthresholds = {SGD = nan}\n", "tool.klint.rules.KL401.thresholds"),
    ("[tool.klint.rules.KL401]\nthresholds = {Adam = inf}\n", "tool.klint.rules.KL401.thresholds"),
    ("[tool.klint.rules.KL404]\nfloor = nan\n", "tool.klint.rules.KL404.floor"),
    ("[tool.klint.rules.KL404]\nceilings = {SGD = -inf}\n", "tool.klint.rules.KL404.ceilings"),
    ('[tool.klint]\nselect = [""]\n', "tool.klint.select"),
    ('[tool.klint]\nignore = [" "]\n', "tool.klint.ignore"),
    ('[tool.klint]\nexclude = [""]\n', "tool.klint.exclude"),
    ('[tool.klint]\nextend-exclude = ["data/[ab.py"]\n', "tool.klint.extend-exclude"),
    ('[tool.klint]\nexclude = ["{gen,build}/*.py"]\n', "tool.klint.exclude"),
    ('[tool.klint.per-file-ignores]\n"" = ["KL101"]\n', "tool.klint.per-file-ignores"),
    ('[tool.klint.per-file-ignores]\n"tests/[!_" = ["KL101"]\n', "tool.klint.per-file-ignores"),
    ('[tool.klint]\ntarget-version = {keras = "2.15"}\n', "tool.klint.target-version.keras"),
    ('[tool.klint]\ntarget-version = {keras = "three"}\n', "tool.klint.target-version.keras"),
    ('[tool.klint]\ntarget-version = {tensorflow = "2.16"}\n', "tool.klint.target-version"),
    ("[tool.klint]\ntarget-version = 3.8\n", "tool.klint.target-version"),
    ('[tool.klint]\ntarget-version = "py38"\n', "tool.klint.target-version"),
    ("[tool.klint\nselect = []\n", "pyproject.toml"),
    ("[tool.klint]\nselect = [\n", "pyproject.toml"),
]


@pytest.mark.parametrize("text, key", BAD, ids=[k + f"-{i}" for i, (_, k) in enumerate(BAD)])
def test_bad_config_exits_2_naming_the_key(project, cli, write, text, key):
    _config(project, text)
    write(project / "m.py", RELU_DENSE)
    rc, out, err = cli("check", "m.py")
    assert rc == 2
    assert out == ""
    assert key in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text, key", BAD[:3] + BAD[-2:], ids=["key", "type", "selector", "toml1", "toml2"])
def test_bad_config_through_the_config_option(project, cli, write, tmp_path_factory, text, key):
    other = tmp_path_factory.mktemp("cfg") / "pyproject.toml"
    other.write_text(text)
    write(project / "m.py", RELU_DENSE)
    rc, out, err = cli("check", "--config", str(other), "m.py")
    assert rc == 2 and out == "" and key in err and "Traceback" not in err


def test_bad_config_in_a_separate_process(project, write, run_klint):
    _config(project, "[tool.klint.rules.KL201]\nmin-batch-size = 0\n")
    write(project / "m.py", RELU_DENSE)
    r = run_klint("check", "m.py", cwd=project)
    assert r.returncode == 2
    assert b"min-batch-size" in r.stderr and b"Traceback" not in r.stderr


def test_load_config_raises_config_error(tmp_path):
    p = tmp_path / "pyproject.toml"
    p.write_text("[tool.klint]\nbogus = true\n")
    with pytest.raises(ConfigError, match="bogus"):
        load_config(p)


@pytest.mark.parametrize("flag, value", [
    ("--select", "XX"), ("--ignore", "KL9"), ("--extend-select", "nope"),
    # as in ruff ("Unknown rule selector ``"): `--select ''` would otherwise turn every rule off
    ("--select", ""), ("--select", "KL101,"), ("--ignore", ""), ("--extend-select", " "),
])
def test_bad_cli_selectors_exit_2(project, cli, write, flag, value):
    write(project / "m.py", RELU_DENSE)
    rc, out, err = cli("check", flag, value, "m.py")
    assert rc == 2 and out == "" and flag in err and value in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("klint: error: ")


# ------------------------------------------------------------------ target-version


class _SaysTarget(Rule):
    """Reports the Keras release it is told the code targets (to test how the target reaches rules)."""

    code = "KL990"
    name = "says-target"

    def check(self, ctx) -> None:
        for node, qual, top in ctx.analysis.calls:
            if qual == "keras.layers.Dense":
                ctx.report((node, top), f"targeting {ctx.target.describe()}")


@pytest.mark.parametrize("value, expected", [
    ('{keras = "3.8"}', (3, 8)), ('{keras = "3.13.1"}', (3, 13)), ('"3.10"', (3, 10)), ('"keras3.4"', (3, 4)),
    ('"keras = 3.0"', (3, 0)), ("{}", KERAS_NEWEST),
])
def test_target_version_in_the_config(tmp_path, value, expected):
    p = tmp_path / "pyproject.toml"
    p.write_text(f"[tool.klint]\ntarget-version = {value}\n")
    assert load_config(p).target == Target(keras=expected)


def test_the_default_target_is_the_newest_keras_3():
    assert load_config(None).target.keras == KERAS_NEWEST
    assert KERAS_NEWEST[0] == 3


def test_rules_read_the_target(tmp_path):
    src = "import keras\nkeras.layers.Dense(3)\n"
    messages = [f.message for f in Linter([_SaysTarget], {}).lint_text("m.py", src)[0]]
    assert messages == [f"targeting Keras {KERAS_NEWEST[0]}.{KERAS_NEWEST[1]}"]
    linter = Linter([_SaysTarget], {}, target=Target(keras=(3, 8)))
    messages = [f.message for f in linter.lint_text("m.py", src)[0]]
    assert messages == ["targeting Keras 3.8"]


def test_cli_target_version_overrides_the_config(project, cli, write):
    _config(project, '[tool.klint]\ntarget-version = {keras = "3.8"}\n')
    write(project / "m.py", RELU_DENSE)
    rc, _, err = cli("check", "--target-version", "keras3.2", "m.py")
    assert rc == 1 and err == ""


def test_target_version_decides_what_an_upgrade_rule_reports(project, cli, write):
    """BatchNormalization's renorm arguments came back in Keras 3.14: a problem only for older targets."""
    write(project / "m.py", "import keras\nbn = keras.layers.BatchNormalization(renorm=True)\n")
    assert _codes(cli.json("m.py")[1]) == []
    assert _codes(cli.json("--target-version", "3.13", "m.py")[1]) == [("m.py", "KL804", 2)]
    _config(project, '[tool.klint]\ntarget-version = {keras = "3.13"}\n')
    assert _codes(cli.json("m.py")[1]) == [("m.py", "KL804", 2)]
    assert _codes(cli.json("--target-version", "3.14", "m.py")[1]) == []


@pytest.mark.parametrize("value", ["2.15", "keras", "py311", "3", "4.0"])
def test_bad_cli_target_version_exits_2(project, cli, write, value):
    write(project / "m.py", RELU_DENSE)
    rc, out, err = cli("check", "--target-version", value, "m.py")
    assert rc == 2 and out == "" and "Traceback" not in err
    last = err.strip().splitlines()[-1]  # after the usage, as argparse reports a bad value
    assert last.startswith("klint: error: argument --target-version: ") and value in last


# ------------------------------------------------------------------ option validators


def test_optimizer_table_validator():
    convert = Option(optimizer_table({"SGD": 0.1, "Adam": 0.005}, "threshold"), {}, "").convert
    # class names in any case and compile()'s strings are stored under the class name the rules look up
    assert convert({"sgd": 0.5, "rmsprop": 1, "ADAMW": 2e-3}) == {"SGD": 0.5, "Adam": 0.005, "RMSprop": 1.0,
                                                                  "AdamW": 0.002}
    for bad, message in [
        ({"SGD": float("nan")}, "threshold for 'SGD' must be a finite number, got nan"),
        ({"SGD": float("inf")}, "finite"),
        ({"SGD": 0}, "threshold for 'SGD' must be a positive number, got 0"),
        ({"SGD": True}, "must be a number"),
        ({"SGD": "0.1"}, "must be a number"),
        ({"Sgd2": 0.1}, r"unknown optimizer 'Sgd2' \(known: Adadelta, .*SGD\)"),
        ({"LossScaleOptimizer": 0.1}, "unknown optimizer"),  # a wrapper: judged by the optimizer it wraps
        (3, "expected a table"),
    ]:
        with pytest.raises(ValueError, match=message):
            convert(bad)


def test_number_validators():
    assert positive_number(2) == 2.0 and non_negative_number(0) == 0.0
    for convert, bad in [(positive_number, 0), (positive_number, float("nan")), (non_negative_number, -1e-9),
                         (non_negative_number, float("inf")), (non_negative_number, False)]:
        with pytest.raises(ValueError, match="the value must be a"):
            convert(bad)


def test_option_convert_rejects_non_finite_numbers_at_any_depth():
    with pytest.raises(ValueError, match="expected a finite number, got nan"):
        Option(float, 1.0, "").convert(float("nan"))
    with pytest.raises(ValueError, match="'a': expected a finite number, got inf"):
        Option(dict, {}, "").convert({"a": [1.0, float("inf")]})
    assert Option(float, 1.0, "").convert(3) == 3.0
