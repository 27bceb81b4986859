"""The Keras 3 upgrade rules (KL8xx, and the older rules of the kind), proven under Keras 3 itself.

For every INVALID example of every rule with ``keras3_upgrade``, the
original source is run under the Keras 3 of this environment and must do
what the example says (``raises``: the exception; ``silent``: it runs, and
a check over its names is true, the setting read differently; ``warns``: it
runs with a warning that a setting is ignored), and the expected fixed
source must run, with the check false and without the warning.
An example that targets an older Keras (``target``) than the one installed
may say none of these: the problem is that release's, so the test proves
that the installed Keras runs the original (it is not an error everywhere)
and runs the fix.
All examples run in one subprocess, each in its own namespace, so that
TensorFlow is imported once.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from klint.engine.registry import all_rules

pytestmark = pytest.mark.tensorflow

RUNNER = r"""
import json, sys
import warnings
import keras
results = []
for case in json.loads(sys.stdin.read()):
    namespace = {"__name__": "__example__"}
    error = check = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(compile(case["source"], "<example>", "exec"), namespace)
        except BaseException as e:
            error = f"{type(e).__name__}: {e}"
    warned = [str(w.message) for w in caught]
    if error is None and case["check"]:
        try:
            check = bool(eval(case["check"], namespace))
        except BaseException as e:
            error = f"the check failed: {type(e).__name__}: {e}"
    results.append({"error": error, "check": check, "warnings": warned})
print(json.dumps({"keras": keras.__version__, "results": results}))
"""

UPGRADE_RULES = [r for r in all_rules() if r.keras3_upgrade]
CASES = [(r.code, i, ex) for r in UPGRADE_RULES for i, ex in enumerate(r.INVALID)]


@pytest.fixture(scope="module")
def outcomes() -> dict:
    """(source, check) -> {"error": "Type: message" or None, "check": the check's value or None}."""
    runs = []
    for _, _, ex in CASES:
        for source in (ex.code, ex.expected_fix):
            if source is not None:
                runs.append({"source": source, "check": ex.silent or None})
    proc = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(runs), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert doc["keras"].startswith("3."), doc["keras"]
    return {(r["source"], r["check"]): out for r, out in zip(runs, doc["results"])}


def _installed_keras() -> tuple[int, int]:
    from importlib.metadata import version

    major, minor = version("keras").split(".")[:2]
    return int(major), int(minor)


def _targets_older_keras(example) -> bool:
    if not example.target:
        return False
    major, minor = example.target.removeprefix("keras").strip("= ").split(".")[:2]
    return (int(major), int(minor)) < _installed_keras()


def test_there_are_upgrade_rules_to_prove():
    assert len(CASES) >= 8
    assert {"KL302", "KL402"} <= {r.code for r in UPGRADE_RULES}


@pytest.mark.parametrize("code, index, example", CASES, ids=[f"{c}-{i}" for c, i, _ in CASES])
def test_every_example_says_what_keras_3_does_with_it(code, index, example):
    said = [k for k in ("raises", "silent", "warns") if getattr(example, k)]
    if not said and _targets_older_keras(example):
        return
    assert len(said) == 1, f"say one of `raises`, `silent` or `warns`, not {said or 'none'}"


@pytest.mark.parametrize("code, index, example", CASES, ids=[f"{c}-{i}" for c, i, _ in CASES])
def test_the_original_fails_and_the_fix_runs_under_keras_3(outcomes, code, index, example):
    """The original raises what the example says, or runs with the setting read differently (its check is
    true); the fixed source runs, and its check is false."""
    original = outcomes[(example.code, example.silent or None)]
    if not (example.raises or example.silent or example.warns):
        assert _targets_older_keras(example)
        assert original["error"] is None, f"the installed Keras rejects it too: {original['error']}"
    elif example.warns:
        assert original["error"] is None, original["error"]
        assert any(example.warns in w for w in original["warnings"]), original["warnings"]
    elif example.raises:
        assert original["error"] is not None, f"{code} example {index} runs under Keras 3: nothing to upgrade"
        assert original["error"].startswith(example.raises + ":"), original["error"]
    else:
        assert original["error"] is None, original["error"]
        assert original["check"] is True, f"{code} example {index}: `{example.silent}` is not true under Keras 3"
    if example.expected_fix is not None:
        fixed = outcomes[(example.expected_fix, example.silent or None)]
        assert fixed["error"] is None, f"the fixed source fails: {fixed['error']}"
        if example.silent:
            assert fixed["check"] is False, f"`{example.silent}` is still true after the fix"
        if example.warns:
            assert not any(example.warns in w for w in fixed["warnings"]), fixed["warnings"]


def test_the_readme_upgrade_example_runs_on_keras_3_only_after_the_fix(tmp_path):
    """The README's Keras 2 script stops on Keras 3; the script klint makes of it trains and saves."""
    from test_fixer import readme_upgrade_example

    before, after = readme_upgrade_example()
    runs = {}
    for name, source in (("before", before), ("after", after)):
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        runs[name] = subprocess.run([sys.executable, f"{name}.py"], cwd=tmp_path, capture_output=True, text=True,
                                    timeout=600)
    assert runs["before"].returncode != 0 and "ModuleNotFoundError" in runs["before"].stderr
    assert runs["after"].returncode == 0, runs["after"].stderr[-3000:]
    assert "best validation accuracy" in runs["after"].stdout
    assert (tmp_path / "mnist_cnn.keras").exists() and (tmp_path / "weights.keras").exists()
