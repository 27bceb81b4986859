"""Helpers the benchmark scripts share (run them as ``python bench/<name>.py``)."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def klint_command() -> list[str]:
    exe = Path(sys.executable).parent / "klint"
    if exe.is_file() and os.access(exe, os.X_OK):
        return [str(exe)]
    found = shutil.which("klint")
    if found:
        return [found]
    return [sys.executable, "-m", "klint"]


def default_folder() -> Path:
    corpus = REPO_ROOT / "tests" / "corpus"
    return corpus if corpus.is_dir() else (REPO_ROOT / ".." / "shared" / "cases").resolve()


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")
