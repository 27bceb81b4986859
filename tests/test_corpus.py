"""klint against labelled scripts: the project's own corpus in tests/corpus.

tests/corpus/labels.json lists, per file and rule, sets of lines: every set
must get one finding of that rule on one of its lines, and a finding of a
labelled rule anywhere else is a false positive. The labels were written
from the rules' definitions, not from klint's output.

Only files of this repository are read: the tests never depend on anything
outside the checkout.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from klint.engine.config import Config
from klint.engine.lint import Linter

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
MISSION = ("KL101", "KL201", "KL301", "KL401")


def _cases():
    labels = json.loads((CORPUS / "labels.json").read_text())
    for name in sorted(k for k in labels if not k.startswith("_")):
        yield pytest.param(CORPUS / name, labels[name], id=name)


def test_every_corpus_file_is_labelled():
    labels = json.loads((CORPUS / "labels.json").read_text())
    names = {p.name for p in CORPUS.glob("*.py")}
    assert names, f"{CORPUS} holds no scripts"
    assert sorted(names - set(labels)) == [], "corpus scripts without labels"
    assert sorted(k for k in labels if not k.startswith("_") and k not in names) == [], "labels without scripts"


@pytest.mark.parametrize("path, label", list(_cases()))
def test_findings_match_labels(path: Path, label: dict):
    linter = Linter(Config().selected_rules(), {}, unsafe=True)
    findings, problems = linter.lint_text(str(path), path.read_text(encoding="utf-8"))
    if label.get("syntax_error"):
        assert problems and problems[0].code == "KL001"
        return
    assert not problems, problems
    for code in MISSION:
        rows = _rows(findings, code)
        for lines in label.get(code, []):
            assert any(r in lines for r in rows), f"missed {code} on lines {lines}; got {rows}"
        allowed = {n for s in label.get(code, []) for n in s}
        assert all(r in allowed for r in rows), f"false positive {code} at {[r for r in rows if r not in allowed]}"


def _rows(findings, code: str) -> list[int]:
    """The lines that findings of ``code`` cover: a grouped finding (the layers of one stack) covers
    every place it names, and each of them must be expected."""
    rows: list[int] = []
    for f in findings:
        if f.code == code:
            rows += [r.row for r in f.related] or [f.row]
    return rows


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.py")), ids=lambda p: p.name)
def test_fix_round_trip(path: Path, tmp_path: Path):
    """--fix --unsafe-fixes leaves code that parses, with no fixable finding left, and is idempotent."""
    import ast

    linter = Linter(Config().selected_rules(), {}, unsafe=True)
    src = path.read_text(encoding="utf-8")
    fixed, n, remaining, problems, warnings = linter.fix_text(str(path), src)
    assert not warnings, warnings
    ast.parse(fixed)
    assert not [f for f in remaining if f.fix is not None], [(f.code, f.row) for f in remaining]
    again, n2, _, _, _ = linter.fix_text(str(path), fixed)
    assert again == fixed and n2 == 0


# Rules beyond the mission have their expectations in tests/corpus/expected_<group>.json:
# {"_codes": ["KL202", ...], "<file>": {"KL202": [[line, ...], ...]}, ...}. For the listed codes,
# every corpus file is checked: each line set gets a finding, and no finding falls elsewhere.
EXPECTED = sorted(CORPUS.glob("expected_*.json"))


def _expected_cases():
    for path in EXPECTED:
        spec = json.loads(path.read_text())
        codes = spec["_codes"]
        for f in sorted(CORPUS.glob("*.py")):
            yield pytest.param(f, codes, spec.get(f.name, {}), id=f"{path.stem}/{f.name}")


@pytest.mark.parametrize("path, codes, label", list(_expected_cases()))
def test_more_rules_match_expectations(path: Path, codes: list, label: dict):
    linter = Linter(Config().selected_rules(extend_select=codes), {}, unsafe=True)
    findings, problems = linter.lint_text(str(path), path.read_text(encoding="utf-8"))
    assert not [p for p in problems if p.code == "KL003"], problems
    for code in codes:
        rows = _rows(findings, code)
        for lines in label.get(code, []):
            assert any(r in lines for r in rows), f"missed {code} on lines {lines}; got {rows}"
        allowed = {n for s in label.get(code, []) for n in s}
        assert all(r in allowed for r in rows), f"unexpected {code} at {[r for r in rows if r not in allowed]}"
