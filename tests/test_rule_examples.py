"""Every rule's own VALID and INVALID examples, fixes included, and the rule docs."""
from __future__ import annotations

import json

import pytest

from klint.engine.lint import Linter
from klint.engine.registry import all_rules, rule_by_code
from klint.engine.rule import Applicability, FixAvailability
from klint.engine.target import Target, parse_target

RULES = all_rules()


def _options(rule, options: dict) -> dict:
    return {rule.code: {k: rule.options[k].convert(v) for k, v in options.items()}} if options else {}


def _linter(rule, ex, options: dict | None = None, unsafe: bool = False) -> Linter:
    """A linter of this rule alone, with the example's options and target."""
    target = parse_target(ex.target, "the example's target") if ex.target else Target()
    return Linter([rule], options or {}, unsafe=unsafe, target=target)


def _cases(kind: str):
    out = []
    for rule in RULES:
        for i, ex in enumerate(getattr(rule, kind)):
            out.append(pytest.param(rule, ex, id=f"{rule.code}-{kind.lower()}-{i}"))
    return out


def _own(findings, rule):
    return [f for f in findings if f.code == rule.code]


def test_registry_has_the_four_rules():
    codes = [r.code for r in RULES]
    assert codes == sorted(codes)
    assert {"KL101", "KL201", "KL301", "KL401"} <= set(codes)
    for r in RULES:
        assert r.name and r.summary and r.doc()
        assert r.INVALID, f"{r.code} has no INVALID example"
        assert r.VALID, f"{r.code} has no VALID example"
        assert rule_by_code(r.code) is r and rule_by_code(r.name) is r and rule_by_code(r.code.lower()) is r


@pytest.mark.parametrize("rule, ex", _cases("VALID"))
def test_valid_example_gives_no_finding(rule, ex):
    findings, problems = _linter(rule, ex).lint_text("example.py", ex.code)
    assert problems == []
    assert _own(findings, rule) == []


@pytest.mark.parametrize("rule, ex", _cases("INVALID"))
def test_invalid_example_is_reported(rule, ex):
    findings, problems = _linter(rule, ex, _options(rule, ex.options)).lint_text("example.py", ex.code)
    assert problems == []
    own = _own(findings, rule)
    assert own, f"{rule.code} did not report its INVALID example"
    if ex.lines is not None:
        assert sorted({f.row for f in own}) == sorted(set(ex.lines))


@pytest.mark.parametrize("rule, ex", _cases("INVALID"))
def test_invalid_example_fix(rule, ex):
    opts = _options(rule, ex.options)
    linter = _linter(rule, ex, opts, unsafe=True)
    findings, _ = linter.lint_text("example.py", ex.code)
    own = _own(findings, rule)
    fixed, n, remaining, problems, warnings = linter.fix_text("example.py", ex.code)
    assert problems == [] and warnings == []
    if ex.expected_fix is None:
        assert all(f.fix is None for f in own), "a fix is offered where the example expects none"
        assert fixed == ex.code and n == 0
        return
    assert all(f.fix is not None for f in own)
    assert fixed == ex.expected_fix
    assert n >= 1
    assert _own(remaining, rule) == [], "the fix did not make the finding go away"
    # a second pass changes nothing
    again, n2, remaining2, _, warnings2 = linter.fix_text("example.py", fixed)
    assert again == fixed and n2 == 0 and warnings2 == []
    assert _own(remaining2, rule) == []


@pytest.mark.parametrize("rule, ex", [c for c in _cases("INVALID") if c.values[1].expected_fix is not None])
def test_safe_only_fixing_respects_applicability(rule, ex):
    """Without --unsafe-fixes, the example is fixed iff its fixes are safe."""
    opts = _options(rule, ex.options)
    findings, _ = _linter(rule, ex, opts).lint_text("example.py", ex.code)
    kinds = {f.fix.applicability for f in _own(findings, rule)}
    fixed, n, _, _, _ = _linter(rule, ex, opts).fix_text("example.py", ex.code)
    if kinds == {Applicability.SAFE}:
        assert fixed == ex.expected_fix
    elif kinds == {Applicability.UNSAFE}:
        assert fixed == ex.code and n == 0
    else:  # mixed: some applied, not all
        assert fixed not in (ex.code, ex.expected_fix)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_fix_availability_matches_examples(rule):
    offered = [ex.expected_fix is not None for ex in rule.INVALID]
    if rule.fix == FixAvailability.NONE:
        assert not any(offered)
    elif rule.fix == FixAvailability.ALWAYS:
        assert all(offered)
    else:
        assert any(offered)


# ------------------------------------------------------------------ docs


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_command_shows_examples_and_fixes(cli, rule):
    rc, out, err = cli("rule", rule.code)
    assert rc == 0 and err == ""
    assert rule.code in out and rule.name in out
    for ex in rule.INVALID:
        assert ex.code.rstrip("\n") in out
        if ex.expected_fix is not None:
            assert ex.expected_fix.rstrip("\n") in out
    for ex in rule.VALID:
        assert ex.code.rstrip("\n") in out


def test_rule_command_by_name(cli):
    rc, out, _ = cli("rule", "init-activation-mismatch")
    assert rc == 0 and "KL101" in out


def test_rule_command_unknown_rule(cli):
    rc, out, err = cli("rule", "KL999")
    assert rc == 2 and out == "" and "KL999" in err


def test_rules_command_lists_every_rule(cli):
    rc, out, _ = cli("rules")
    assert rc == 0
    listed = [line.split()[0] for line in out.splitlines() if line.strip()]
    from klint.runtime.diagnose import CODES

    # the static rules, then the runtime findings of `klint probe` / `klint report`
    assert listed == [r.code for r in RULES] + list(CODES)
    for code in ("KL101", "KL201", "KL301", "KL401", "KL702"):
        assert code in listed


def test_rule_command_documents_runtime_findings(cli):
    rc, out, _ = cli("rule", "KL703")
    assert rc == 0 and "dead-relu" in out and "KL101" in out


def test_rules_command_json(cli):
    rc, out, _ = cli("rules", "--output-format", "json")
    assert rc == 0
    data = json.loads(out)
    assert [d["code"] for d in data] == [r.code for r in RULES]
    by = {d["code"]: d for d in data}
    assert by["KL201"]["options"]["min-batch-size"]["default"] == 16
    assert by["KL301"]["options"]["always"]["default"] is False
