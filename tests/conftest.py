"""Shared helpers for the klint core test suite.

Nothing here is autouse: every test asks for what it needs. No fixture
imports TensorFlow or Keras.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from klint.cli.main import main


class CLI:
    """Run ``klint`` in-process through :func:`klint.cli.main`, capturing its output."""

    def __init__(self, capsys):
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()  # drop anything printed before
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as e:  # argparse errors
            rc = e.code if isinstance(e.code, int) else 2
        out, err = self.capsys.readouterr()
        return rc, out, err

    def json(self, *argv: str) -> tuple[int, list, str]:
        rc, out, err = self("check", "--output-format", "json", *argv)
        return rc, json.loads(out), err


@pytest.fixture
def cli(capsys, monkeypatch) -> CLI:
    """klint in this process, checking files in this process too: the forked workers that the
    command line uses are tested on their own (tests/test_cli_hardening.py), and a fork per run
    would make the suite much slower for no more coverage."""
    import klint.cli.workers

    monkeypatch.setattr(klint.cli.workers, "ISOLATE", False)
    return CLI(capsys)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project folder (with an empty ``[tool.klint]`` so no outer config leaks in), as cwd."""
    (tmp_path / "pyproject.toml").write_text("[tool.klint]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write(path: Path, text: str | bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.fixture
def write():
    """``write(path, text_or_bytes)``: create a file (and its folders), byte-exact."""
    return _write


def _run_klint(*argv: str, cwd: Path | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "klint", *[str(a) for a in argv]], cwd=cwd, input=stdin,
                          capture_output=True, timeout=120)


@pytest.fixture
def run_klint():
    """``run_klint(*argv, cwd=None, stdin=None)``: ``python -m klint`` in a separate process (bytes)."""
    return _run_klint
