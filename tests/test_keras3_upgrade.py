"""The Keras 3 upgrade rules (KL8xx), proven under Keras 3 itself.

For every INVALID example of every KL8xx rule, the original source is run
under the Keras 3 of this environment and must fail as the rule says (an
import error, or a call that raises), and the expected fixed source must run.
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

RUNNER = r'''
import json, sys, traceback
import keras
results = []
for source in json.loads(sys.stdin.read()):
    try:
        exec(compile(source, "<example>", "exec"), {"__name__": "__example__"})
        results.append(None)
    except BaseException as e:
        results.append(f"{type(e).__name__}: {e}")
print(json.dumps({"keras": keras.__version__, "results": results}))
'''

UPGRADE_RULES = [r for r in all_rules() if r.code.startswith("KL8")]
CASES = [(r.code, i, ex) for r in UPGRADE_RULES for i, ex in enumerate(r.INVALID)]


@pytest.fixture(scope="module")
def outcomes() -> dict:
    sources = []
    for _, _, ex in CASES:
        sources.append(ex.code)
        sources.append(ex.expected_fix)
    runnable = [s for s in sources if s is not None]
    proc = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(runnable), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert doc["keras"].startswith("3."), doc["keras"]
    return dict(zip(runnable, doc["results"]))


def test_there_are_upgrade_rules_to_prove():
    assert len(CASES) >= 8


@pytest.mark.parametrize("code, index, example", CASES, ids=[f"{c}-{i}" for c, i, _ in CASES])
def test_the_original_fails_and_the_fix_runs_under_keras_3(outcomes, code, index, example):
    failure = outcomes[example.code]
    assert failure is not None, f"{code} example {index} runs under Keras 3: nothing to upgrade"
    assert failure.startswith(("ModuleNotFoundError", "ImportError")), failure
    if example.expected_fix is not None:
        assert outcomes[example.expected_fix] is None, f"the fixed source fails: {outcomes[example.expected_fix]}"
