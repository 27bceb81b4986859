"""The real pre-commit round trip for the ``klint`` hook in ``.pre-commit-hooks.yaml``.

These tests drive ``pre-commit`` (a test dependency, never skipped) against a throw-away git
repository holding a bad Keras training script:

* ``pre-commit try-repo <klint root> klint --all-files`` must fail and report KL101;
* a ``.pre-commit-config.yaml`` pointing at the klint checkout (``repo:`` = local path, ``rev:`` =
  its ``HEAD``) with ``args: [--fix]`` must rewrite the file (first run fails, files modified) and
  then pass on the second run.

``try-repo`` on a dirty checkout uses a shadow commit of the working tree, but the ``repo:``/``rev:``
config uses the commit itself, so uncommitted klint changes are only seen by the first test.

``PRE_COMMIT_HOME`` lives under ``tmp_path_factory`` (session scoped), so the hook environment
(a virtualenv with klint and libcst pip-installed) is built once for this file and nothing leaks
into the user's home. The first build needs PyPI and takes a while.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"), pytest.mark.slow]

KLINT_ROOT = Path(__file__).resolve().parents[1]

# Building the hook environment pip-installs klint and libcst: be generous.
TIMEOUT = 900

BAD_SCRIPT = textwrap.dedent(
    """\
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((16,)), layers.Dense(64, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    """
)


BAD_NOTEBOOK = json.dumps({
    "cells": [{"cell_type": "code", "execution_count": None, "id": "a1", "metadata": {}, "outputs": [],
               "source": BAD_SCRIPT.splitlines(keepends=True)}],
    "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def _clean_env(pre_commit_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    # If pytest itself runs inside a git hook, GIT_DIR / GIT_INDEX_FILE etc. would point git (and
    # so pre-commit) at the wrong repository.
    for key in list(env):
        if key.startswith("GIT_") or key.startswith("PRE_COMMIT"):
            del env[key]
    env["PRE_COMMIT_HOME"] = str(pre_commit_home)
    env["PRE_COMMIT_COLOR"] = "never"
    env["NO_COLOR"] = "1"
    # Keep the user's global/system git config (hooks paths, signing, templates) out of the way.
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT,
    )


def _pre_commit(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The pre-commit of this interpreter, not whatever is first on PATH.
    return _run([sys.executable, "-m", "pre_commit", *args], cwd, env)


def _git(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = _run(["git", *args], cwd, env)
    assert proc.returncode == 0, f"git {' '.join(args)} failed:\n{proc.stdout}"
    return proc.stdout.strip()


@pytest.fixture(scope="session")
def precommit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    return _clean_env(home)


@pytest.fixture()
def bad_repo(tmp_path: Path, precommit_env: dict[str, str]) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    _git(["init", "-q"], repo, precommit_env)
    _git(["config", "user.name", "klint tests"], repo, precommit_env)
    _git(["config", "user.email", "klint-tests@example.invalid"], repo, precommit_env)
    _git(["config", "commit.gpgsign", "false"], repo, precommit_env)
    (repo / "train.py").write_text(BAD_SCRIPT)
    (repo / "explore.ipynb").write_text(BAD_NOTEBOOK)
    _git(["add", "train.py", "explore.ipynb"], repo, precommit_env)
    _git(["commit", "-q", "-m", "bad training script"], repo, precommit_env)
    return repo


def test_try_repo_reports_kl101(bad_repo: Path, precommit_env: dict[str, str]) -> None:
    proc = _pre_commit(["try-repo", str(KLINT_ROOT), "klint", "--all-files"], bad_repo, precommit_env)
    assert proc.returncode != 0, proc.stdout
    assert "KL101" in proc.stdout, proc.stdout
    assert "explore.ipynb:cell 1:4:" in proc.stdout, proc.stdout  # the hook takes notebooks too
    # Reporting alone must not touch the file.
    assert (bad_repo / "train.py").read_text() == BAD_SCRIPT


def test_config_with_fix_round_trip(bad_repo: Path, precommit_env: dict[str, str]) -> None:
    rev = _git(["rev-parse", "HEAD"], KLINT_ROOT, precommit_env)
    config = textwrap.dedent(
        f"""\
        repos:
          - repo: {KLINT_ROOT.as_posix()}
            rev: {rev}
            hooks:
              - id: klint
                args: [--fix]
        """
    )
    (bad_repo / ".pre-commit-config.yaml").write_text(config)
    _git(["add", ".pre-commit-config.yaml"], bad_repo, precommit_env)
    _git(["commit", "-q", "-m", "pre-commit config"], bad_repo, precommit_env)

    first = _pre_commit(["run", "--all-files", "--verbose"], bad_repo, precommit_env)
    assert first.returncode != 0, first.stdout
    assert "files were modified by this hook" in first.stdout, first.stdout
    fixed = (bad_repo / "train.py").read_text()
    assert 'kernel_initializer="he_normal"' in fixed, fixed
    # The fix is local: the rest of the script is untouched.
    assert fixed.replace(', kernel_initializer="he_normal"', "") == BAD_SCRIPT, fixed

    second = _pre_commit(["run", "--all-files", "--verbose"], bad_repo, precommit_env)
    assert second.returncode == 0, second.stdout
    assert "KL101" not in second.stdout, second.stdout
    assert (bad_repo / "train.py").read_text() == fixed
