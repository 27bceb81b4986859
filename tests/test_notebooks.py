"""Jupyter notebooks: checked, fixed and reported by cell, as ruff does.

The notebooks here are written as Jupyter writes them (one-space indented
JSON, keys in order, sources as lists of lines, a final newline), with
outputs, metadata and ids that a fix must leave byte for byte.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from klint.engine.notebook import Notebook, NotebookError


def code(source: str, cid: str, outputs: list | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cid, "metadata": {},
            "outputs": outputs or [], "source": source.splitlines(keepends=True)}


def markdown(text: str, cid: str) -> dict:
    return {"cell_type": "markdown", "id": cid, "metadata": {}, "source": text.splitlines(keepends=True)}


def notebook(*cells: dict, **meta) -> str:
    doc = {"cells": list(cells),
           "metadata": meta or {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                                "language_info": {"name": "python", "version": "3.11.7"}},
           "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


OUTPUT = [{"name": "stdout", "output_type": "stream", "text": ["Epoch 1/2 – loss: 0.25\n"]},
          {"data": {"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"},
           "metadata": {}, "output_type": "display_data"}]

TRAIN = notebook(
    markdown("# A small classifier\nBuilt in one cell, trained in another.", "intro"),
    code("%matplotlib inline\n!pip install -q keras\nimport numpy as np\nimport keras\nfrom keras import layers", "imports"),
    code('model = keras.Sequential([\n    keras.Input((32,)),\n    layers.Dense(64, activation="relu"),\n'
         '    layers.Dense(64, activation="relu"),\n    layers.Dense(10, activation="softmax"),\n])', "model",
         outputs=OUTPUT),
    code("%%time\nmodel.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),\n"
         '              loss="sparse_categorical_crossentropy")\nfiles = !ls\nmodel?\n'
         "!cp results/* \\\n    backup/ \\\n  --verbose", "compile"),
    code("%%bash\necho this is not Python {{", "shell"),
    code("x = np.zeros((64, 32))\ny = np.zeros(64)\nmodel.fit(x, y, batch_size=16, epochs=1)", "fit"),
)


@pytest.fixture
def nb(project, write) -> Path:
    return write(project / "train.ipynb", TRAIN)


def lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if ": KL" in line]


# ------------------------------------------------------------------ checking


def test_code_cells_are_one_program_and_findings_name_their_cell(cli, nb):
    rc, out, _ = cli("check", nb.name)
    found = lines(out)
    assert rc == 1
    # the layers of cell 3 (counting the markdown cell), the optimizer compiled in cell 4
    assert found[0].startswith("train.ipynb:cell 3:3:5: KL101 2 kernel layers (lines 3, 4 of cell 3) feed relu")
    assert found[1].startswith("train.ipynb:cell 4:2:25: KL401 `SGD` uses a constant learning rate of 0.5")
    assert len(found) == 2  # the magics and the %%bash cell are no syntax error


def test_json_and_sarif_carry_the_cell_and_the_program_line(cli, nb):
    _, findings, _ = cli.json(nb.name)
    kl101 = next(f for f in findings if f["code"] == "KL101")
    assert kl101["cell"] == 3 and kl101["location"] == {"row": 3, "column": 5}
    # the program: a marker line before each cell's code; cell 2 has five lines
    assert kl101["concatenated_location"]["row"] == 1 + 5 + 1 + 3
    assert kl101["noqa_row"] == 3
    assert {e["location"]["cell"] for e in kl101["fix"]["edits"]} == {3}
    assert [e["location"]["row"] for e in kl101["fix"]["edits"]] == [3, 4]
    assert [r["cell"] for r in kl101["related"]] == [3, 3]
    rc, out, _ = cli("check", "--output-format", "sarif", nb.name)
    result = next(r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"] == "KL101")
    assert result["properties"]["cell"] == 3 and result["properties"]["cellRow"] == 3
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 10
    rc, out, _ = cli("check", "--output-format", "github", nb.name)
    assert "line=1,col=1" in out and "train.ipynb:cell 3:3:5: KL101" in out
    _, plain, _ = cli.json(nb.name)
    assert all(f["cell"] is not None for f in plain)


def test_a_cell_that_does_not_parse_is_kl001_at_its_cell_and_the_rest_is_checked(cli, project, write):
    text = notebook(
        code("import keras\nfrom keras import layers", "a"),
        code("def broken(:\n    pass", "b"),
        code('model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),\n'
             '                          layers.Dense(8, activation="relu"), layers.Dense(1)])', "c"),
    )
    write(project / "nb.ipynb", text)
    rc, out, _ = cli("check", "nb.ipynb")
    found = lines(out)
    assert found[0].startswith("nb.ipynb:cell 2:1:12: KL001 SyntaxError")
    assert any(line.startswith("nb.ipynb:cell 3:1:") and "KL101" in line for line in found)


def test_noqa_and_ignore_file_inside_cells(cli, project, write):
    src = code('model = keras.Sequential([keras.Input((4,)),\n'
               '    layers.Dense(8, activation="relu"), layers.Dense(8, activation="relu"),  # noqa: KL101\n'
               '    layers.Dense(1)])', "m")
    write(project / "a.ipynb", notebook(code("import keras\nfrom keras import layers", "i"), src))
    _, found, _ = cli.json("a.ipynb")
    assert found == []
    write(project / "b.ipynb", notebook(code("import keras\nfrom keras import layers", "i"),
                                        code("# klint: ignore-file", "x"), src))
    _, found, _ = cli.json("b.ipynb")
    assert found == []


# ------------------------------------------------------------------ fixing


def test_fix_writes_back_into_the_cells_only(cli, nb):
    before = nb.read_text(encoding="utf-8")
    rc, out, err = cli("check", "--fix", "--unsafe-fixes", nb.name)
    after = nb.read_text(encoding="utf-8")
    assert after != before
    old = json.loads(before)
    new = json.loads(after)
    # nothing but the sources of the cells the fixes touched
    for o, n in zip(old["cells"], new["cells"]):
        assert {k: v for k, v in o.items() if k != "source"} == {k: v for k, v in n.items() if k != "source"}
    assert [i for i, (o, n) in enumerate(zip(old["cells"], new["cells"])) if o["source"] != n["source"]] == [2, 3]
    assert {k: v for k, v in old.items() if k != "cells"} == {k: v for k, v in new.items() if k != "cells"}
    # byte for byte outside the changed source lines: same indentation, escapes, final newline
    changed = [b for b in after.splitlines() if b not in before.splitlines()]
    assert all(line.startswith('    "') for line in changed), changed
    assert len(after.splitlines()) == len(before.splitlines())
    assert after.endswith("}\n") and "Epoch 1/2 – loss" in after  # the output's text, not re-escaped
    cell3 = "".join(new["cells"][2]["source"])
    assert 'layers.Dense(64, activation="relu", kernel_initializer="he_normal")' in cell3
    assert not cell3.endswith("\n")  # the last line of a cell keeps having no newline
    cell4 = new["cells"][3]["source"]
    assert cell4[0] == "%%time\n" and cell4[-4:] == ["model?\n", "!cp results/* \\\n", "    backup/ \\\n", "  --verbose"]
    rc, out, _ = cli("check", nb.name)
    assert lines(out) == []


def test_imports_a_fix_adds_go_to_the_cell_of_the_first_keras_import(cli, project, write):
    text = notebook(
        markdown("setup", "m"),
        code("import numpy as np\nfrom tensorflow.keras import layers, models", "imports"),
        code('model = models.Sequential([layers.Dense(4, activation="relu"), layers.Dense(4, activation="relu"),\n'
             '                           layers.Dense(1)])\nmodel.compile(optimizer="adam", loss="mse")', "model"),
        code("model.fit(np.zeros((8, 3)), np.zeros(8), epochs=1)", "fit"),
    )
    path = write(project / "seed.ipynb", text)
    cli("check", "--fix", "--unsafe-fixes", "--extend-select", "KL601", "seed.ipynb")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    imports = "".join(cells[1]["source"])
    assert "from tensorflow.keras.utils import set_random_seed" in imports and "set_random_seed(42)" in imports
    assert "set_random_seed" not in "".join(cells[2]["source"]) + "".join(cells[3]["source"])


def test_diff_is_per_cell(cli, nb):
    before = nb.read_bytes()
    rc, out, _ = cli("check", "--diff", nb.name)
    assert out.startswith("--- train.ipynb:cell 3\n+++ train.ipynb:cell 3\n")
    assert '+    layers.Dense(64, activation="relu", kernel_initializer="he_normal"),' in out
    assert nb.read_bytes() == before


def test_a_fix_never_moves_code_between_cells():
    nb = Notebook(notebook(code("import keras", "a"), code("x = 1", "b")))
    moved = nb.source.replace("import keras\n", "").replace("x = 1\n", "import keras\nx = 1\n")
    with pytest.raises(NotebookError, match="cell boundary|IPython"):
        nb.rebuild(moved.replace("#%klint-cell 2\n", ""))
    assert nb.rebuild(nb.source) == nb.text


def test_standard_input_with_a_notebook_name(run_klint, project):
    r = run_klint("check", "--stdin-filename", "x.ipynb", "--fix", "-", cwd=project, stdin=TRAIN.encode())
    fixed = json.loads(r.stdout)
    assert 'kernel_initializer="he_normal"' in "".join(fixed["cells"][2]["source"])
    r = run_klint("check", "--stdin-filename", "x.ipynb", "-", cwd=project, stdin=TRAIN.encode())
    assert b"x.ipynb:cell 3:3:5: KL101" in r.stdout


# ------------------------------------------------------------------ which files


def test_folder_scans_include_notebooks_and_extend_exclude_leaves_them_out(cli, project, write):
    write(project / "src" / "train.ipynb", TRAIN)
    rc, out, _ = cli("check", ".")
    assert any(line.startswith(str(Path("src/train.ipynb")) + ":cell 3:") for line in lines(out))
    (project / "pyproject.toml").write_text('[tool.klint]\nextend-exclude = ["*.ipynb"]\n', encoding="utf-8")
    rc, out, err = cli("check", ".")
    assert "ipynb" not in out


def test_extend_include_adds_files_to_folder_scans(cli, project, write):
    write(project / "job.train", 'import keras\nkeras.layers.Dense(8, activation="relu")\n'
                                 'keras.layers.Dense(8, activation="relu")\n')
    _, found, _ = cli.json(".")
    assert found == []
    (project / "pyproject.toml").write_text('[tool.klint]\nextend-include = ["*.train"]\n', encoding="utf-8")
    _, found, _ = cli.json(".")
    assert {f["filename"] for f in found} == {"job.train"}


@pytest.mark.parametrize("name, text, reason", [
    ("notes.txt", "import keras\n", "klint reads Python files (.py), notebooks (.ipynb) and saved models"),
    ("broken.ipynb", '{"cells": [{"source": "import keras"', "not valid notebook JSON"),
    ("old.ipynb", json.dumps({"worksheets": [{"cells": [{"cell_type": "code", "input": ["import keras"]}]}],
                              "metadata": {}, "nbformat": 3, "nbformat_minor": 0}),
     "klint reads nbformat 4 notebooks; this file has nbformat 3"),
    ("r.ipynb", notebook(code("library(keras)", "a"), language_info={"name": "R"}), "the notebook's language is R"),
])
def test_what_klint_cannot_read_is_kl002_never_a_silent_pass(cli, project, write, name, text, reason):
    write(project / name, text)
    rc, out, _ = cli("check", name)
    assert rc == 1, out
    assert f"{name}:1:1: KL002 " in out and reason in out
    assert "All checks passed" not in out


def test_pre_commit_hooks_take_notebooks():
    hooks = (Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert hooks.count("types_or: [python, jupyter]") == 2


# ------------------------------------------------------------------ model view and probe

GRAPH = notebook(
    markdown("The activation is chosen at run time: only the model view sees it.", "m"),
    code("%matplotlib inline\nimport numpy as np\nimport keras\nACT = ''.join(['re', 'lu'])", "imports"),
    code("model = keras.Sequential([\n    keras.Input((16,)),\n    keras.layers.Dense(32, activation=ACT),\n"
         "    keras.layers.Dense(32, activation=ACT),\n    keras.layers.Dense(1),\n])\ndisplay(model)", "model"),
    code('model.compile(optimizer="adam", loss="mse")\n'
         "x = np.random.default_rng(0).standard_normal((64, 16)).astype('float32')\n"
         "model.fit(x, x[:, :1], batch_size=16, epochs=1, verbose=0)", "fit"),
)


@pytest.mark.tensorflow
def test_the_model_view_runs_the_cells_as_one_script(cli, project, write):
    write(project / "graph.ipynb", GRAPH)
    rc, found, err = cli.json("--graph", "--no-cache", "graph.ipynb")
    assert "model view" not in err, err  # built: no warning
    model = [f for f in found if f["view"] == "model" and f["code"] == "KL101"]
    assert len(model) == 1 and model[0]["cell"] == 3 and model[0]["location"]["row"] == 3
    assert "lines 3, 4 of cell 3" in model[0]["message"]
    assert sorted(p.name for p in project.iterdir()) == ["graph.ipynb", "pyproject.toml"]


@pytest.mark.tensorflow
def test_the_probe_runs_a_notebook(run_klint, project, write):
    write(project / "graph.ipynb", GRAPH)
    r = run_klint("probe", "graph.ipynb", "--steps", "3", "--output-format", "json", cwd=project)
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    assert len(doc["series"]["records"]) == 3
    assert all(f["cell"] in (3, 4) for f in doc["findings"])


def test_the_same_findings_as_the_same_code_in_a_py_file(cli, nb, write, project):
    """The code cells as a .py file (magics dropped, the %%bash cell left out) get the same findings on the
    same lines, counted from each cell's start."""
    py = ("import numpy as np\nimport keras\nfrom keras import layers\n"
          'model = keras.Sequential([\n    keras.Input((32,)),\n    layers.Dense(64, activation="relu"),\n'
          '    layers.Dense(64, activation="relu"),\n    layers.Dense(10, activation="softmax"),\n])\n'
          'model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),\n'
          '              loss="sparse_categorical_crossentropy")\n'
          "x = np.zeros((64, 32))\ny = np.zeros(64)\nmodel.fit(x, y, batch_size=16, epochs=1)\n")
    write(project / "train.py", py)
    _, in_py, _ = cli.json("train.py")
    _, in_nb, _ = cli.json(nb.name)
    # a cell's row r is train.py's line offset + r (cell 4's first line, %%time, is not in train.py)
    offset = {3: 3, 4: 8}
    assert in_py and sorted((f["code"], f["location"]["row"], f["location"]["column"]) for f in in_py) == sorted(
        (f["code"], offset[f["cell"]] + f["location"]["row"], f["location"]["column"]) for f in in_nb)


def test_a_second_fix_changes_nothing(cli, nb):
    cli("check", "--fix", "--unsafe-fixes", nb.name)
    once = nb.read_bytes()
    rc, out, _ = cli("check", "--fix", "--unsafe-fixes", nb.name)
    assert nb.read_bytes() == once and rc == 0, out


def test_a_broken_notebook_does_not_stop_the_other_files(cli, project, write):
    write(project / "broken.ipynb", '{"cells": [{"source": "import keras"')
    write(project / "train.py", 'import keras\nkeras.Sequential([keras.layers.Dense(8, activation="relu"),\n'
                                '                  keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])\n')
    _, found, _ = cli.json(".")
    assert sorted((f["filename"], f["code"]) for f in found) == [("broken.ipynb", "KL002"), ("train.py", "KL101")]
