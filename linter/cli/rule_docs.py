"""``klint rule`` and ``klint rules``: the rules' own docs and examples, rendered."""
from __future__ import annotations

import json

from klint.engine.registry import all_rules
from klint.engine.rule import FixAvailability, Rule
from klint.engine.target import parse_target

_FIX_TEXT = {
    FixAvailability.ALWAYS: "Fix is always available.",
    FixAvailability.SOMETIMES: "Fix is sometimes available.",
    FixAvailability.NONE: "No fix is available.",
}


def render_rule(rule: type[Rule]) -> str:
    out = [f"# {rule.name} ({rule.code})", ""]
    out.append(f"{rule.summary}.") if rule.summary else None
    out.append(_FIX_TEXT[rule.fix])
    if not rule.default_enabled:
        out.append("This rule is off by default: enable it with `--extend-select " + rule.code + "`.")
    out += ["", rule.doc(), ""]
    if rule.INVALID:
        out += ["## Examples (each runs in the test suite)", ""]
        for i, ex in enumerate(rule.INVALID, 1):
            title = f"### Reported {i}" + (f": {ex.note}" if ex.note else "")
            if ex.options:
                opts = ", ".join(f"{k} = {json.dumps(v)}" for k, v in ex.options.items())
                title += f" (with {opts})"
            if ex.target:
                title += f" (targeting {parse_target(ex.target, 'target').describe()})"
            out += [title, "```python", ex.code.rstrip("\n"), "```"]
            if ex.raises:
                out.append(f"Under Keras 3 this raises `{ex.raises}`.")
            elif ex.silent:
                out.append(f"Under Keras 3 this runs, and then `{ex.silent}`.")
            elif ex.warns:
                out.append(f"Under Keras 3 this runs with the warning \"...{ex.warns}...\".")
            if ex.expected_fix is not None:
                out += ["Fixed:", "```python", ex.expected_fix.rstrip("\n"), "```"]
            out.append("")
    if rule.VALID:
        out += ["## Not reported", ""]
        for ex in rule.VALID:
            note = ex.note + (f" (targeting {parse_target(ex.target, 'target').describe()})" if ex.target else "")
            if note:
                out.append(f"- {note}:")
            out += ["```python", ex.code.rstrip("\n"), "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


_FIX_CELL = {FixAvailability.ALWAYS: "yes", FixAvailability.SOMETIMES: "sometimes", FixAvailability.NONE: "—"}


def render_rules(fmt: str = "text") -> str:
    rules = all_rules()
    if fmt == "markdown":
        # the README's rule table is this output, so that it says what the rules' metadata says
        lines = ["| Code | Name | Fix | On by default | What it finds |", "| --- | --- | --- | --- | --- |"]
        for r in rules:
            lines.append(f"| {r.code} | `{r.name}` | {_FIX_CELL[r.fix]} | {'yes' if r.default_enabled else 'no'} "
                         f"| {r.summary} |")
        return "\n".join(lines) + "\n"
    if fmt == "json":
        return json.dumps([{
            "code": r.code, "name": r.name, "summary": r.summary, "fix": r.fix.value,
            "default": r.default_enabled, "views": list(r.views), "url": r.url(),
            "options": {k: {"default": o.default, "doc": o.doc} for k, o in r.options.items()},
        } for r in rules], indent=2) + "\n"
    from klint.runtime.diagnose import CODES

    width = max([len(r.name) for r in rules] + [len(n) for n, _ in CODES.values()])
    lines = []
    for r in rules:
        fix = "[*]" if r.fix != FixAvailability.NONE else "   "
        off = "" if r.default_enabled else " (off by default)"
        lines.append(f"{r.code}  {r.name:<{width}}  {fix}  {r.summary}{off}")
    for code, (name, summary) in CODES.items():
        lines.append(f"{code}  {name:<{width}}       {summary} (klint probe / klint report)")
    return "\n".join(lines) + "\n"
