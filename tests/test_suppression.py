"""Suppression comments: ``# klint: ignore[CODE]``, ``# noqa: CODE``, bare ``# noqa``, ``# klint: ignore-file``."""
from __future__ import annotations

import pytest

D = 'keras.layers.Dense(64, activation="relu")'


def _run(project, cli, write, src, *flags):
    write(project / "m.py", src)
    rc, findings, err = cli.json(*flags, "m.py")
    assert err == ""
    return rc, sorted((f["code"], f["location"]["row"]) for f in findings)


@pytest.mark.parametrize("comment", [
    "# klint: ignore[KL101]",
    "# klint:ignore[KL101]",
    "# klint: ignore",
    "# noqa: KL101",
    "# noqa:KL101",
    "# noqa",
    "# noqa: KL401, KL101",
    "# noqa: KL1",
    "# klint: ignore[KL401, KL101]",
])
def test_comment_suppresses(project, cli, write, comment):
    rc, found = _run(project, cli, write, f"import keras\n{D}  {comment}\n{D}\n")
    assert found == [("KL101", 3)]  # only the uncommented line is reported
    assert rc == 1


@pytest.mark.parametrize("comment", [
    "# noqa: KL401",
    "# klint: ignore[KL401]",
    "# noqa: E501",
    "# noqa: KL2",
    "# a comment that mentions noqa-ish things",
])
def test_other_code_does_not_suppress(project, cli, write, comment):
    rc, found = _run(project, cli, write, f"import keras\n{D}  {comment}\n")
    assert found == [("KL101", 2)]
    assert rc == 1


def test_only_the_named_code_is_suppressed_on_a_shared_line(project, cli, write):
    (project / "pyproject.toml").write_text("[tool.klint.rules.KL301]\nalways = true\n")
    src = "import keras\nopt = keras.optimizers.SGD(0.5)  # noqa: KL401\n"
    rc, found = _run(project, cli, write, src)
    assert found == [("KL301", 2)]
    rc, found = _run(project, cli, write, src.replace("KL401", "KL301"))
    assert found == [("KL401", 2)]
    rc, found = _run(project, cli, write, src.replace("  # noqa: KL401", ""))
    assert found == [("KL301", 2), ("KL401", 2)]


@pytest.mark.parametrize("src", [
    "import keras\nkeras.layers.Dense(\n    64,\n    activation=\"relu\",\n)  # noqa: KL101\n",
    "import keras\nkeras.layers.Dense(  # noqa: KL101\n    64,\n    activation=\"relu\",\n)\n",
], ids=["on-last-line", "on-first-line"])
def test_multiline_call(project, cli, write, src):
    rc, found = _run(project, cli, write, src)
    assert found == [] and rc == 0
    rc, found = _run(project, cli, write, src.replace("  # noqa: KL101", ""))
    assert found == [("KL101", 2)]


def test_ignore_file(project, cli, write):
    rc, found = _run(project, cli, write, f"import keras\n# klint: ignore-file\n{D}\n{D}\n")
    assert found == [] and rc == 0
    rc, found = _run(project, cli, write, f"import keras\n# klint: ignore-filex\n{D}\n")
    assert found == [("KL101", 3)]


def test_suppressed_finding_is_not_fixed(project, cli, write):
    src = f"import keras\n{D}  # klint: ignore[KL101]\n{D}\n"
    p = write(project / "m.py", src)
    rc, _, _ = cli("check", "--fix", "m.py")
    assert rc == 0
    assert p.read_text() == (f"import keras\n{D}  # klint: ignore[KL101]\n"
                             'keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")\n')


def test_ignore_file_is_not_fixed(project, cli, write):
    src = f"# klint: ignore-file\nimport keras\n{D}\n"
    p = write(project / "m.py", src)
    rc, out, _ = cli("check", "--fix", "m.py")
    assert rc == 0 and p.read_text() == src


def test_noqa_inside_a_string_does_not_suppress(project, cli, write):
    rc, found = _run(project, cli, write, 'import keras\nkeras.layers.Dense(64, activation="relu", name="# noqa")\n')
    assert found == [("KL101", 2)]


def test_ignore_file_inside_a_string_does_not_suppress(project, cli, write):
    src = f'import keras\nUSAGE = """\n# klint: ignore-file\n"""\n{D}\n'
    rc, found = _run(project, cli, write, src)
    assert found == [("KL101", 5)]
