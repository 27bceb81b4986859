"""Output formats: text (ruff style), json, github annotations and SARIF 2.1.0."""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field

from klint import __version__
from klint.engine.registry import all_rules
from klint.engine.rule import Applicability

FORMATS = ("text", "json", "github", "sarif")


@dataclass
class Diagnostic:
    """One reported line of output: a rule finding or a file problem."""

    code: str
    name: str
    message: str
    filename: str
    row: int
    col: int
    end_row: int
    end_col: int
    fix: dict | None = None
    url: str | None = None
    view: str = "source"
    fixable: bool = False  # fixable with the current flags
    applicability: str | None = None
    related: list = field(default_factory=list)  # the places a grouped finding covers (engine.Related)
    # in a notebook: the cell (numbered from 1, every cell counted), ``row``/``end_row`` within it, and
    # the rows in the program its code cells make
    cell: int | None = None
    program_row: int | None = None
    program_end_row: int | None = None


def diagnostics_for(display: str, text: str | None, findings: list, problems: list, unsafe: bool,
                    notebook=None) -> list:
    out: list[Diagnostic] = []
    for p in problems:
        if getattr(p, "warning", False):
            continue  # shown by the caller as a warning
        d = Diagnostic(p.code, p.name, p.message, display, p.row, p.col, p.row, p.col)
        if getattr(p, "cell", None) is not None:  # a cell left out of the program: the row is the cell's
            d.cell = p.cell
        elif notebook is not None:
            _in_cells(d, notebook)
        out.append(d)
    pos = None
    for f in findings:
        fix = None
        applicability = None
        if f.fix is not None and f.text_edits and text is not None:
            if pos is None:
                pos = _RowCol(text)
            applicability = f.fix.applicability.value
            fix = {
                "applicability": applicability,
                "message": f.fix.message,
                "edits": [
                    {"content": e.content, "location": pos.loc(e.start), "end_location": pos.loc(e.end)}
                    for e in sorted(f.text_edits, key=lambda e: (e.start, e.end))
                ],
            }
        fixable = fix is not None and (applicability == Applicability.SAFE.value or unsafe)
        name = display if not getattr(f, "filename", None) else display_path(f.filename)
        d = Diagnostic(f.code, f.name, f.message, name, f.row, f.col, f.end_row, f.end_col, fix,
                       f.url, f.view, fixable, applicability, list(getattr(f, "related", None) or []))
        if notebook is not None and not getattr(f, "filename", None):
            _in_cells(d, notebook)
        out.append(d)
    return out


def _in_cells(d: Diagnostic, notebook) -> None:
    """Rows of the notebook's program as a cell and rows within it (ruff's notebook convention)."""
    import dataclasses

    d.program_row, d.program_end_row = d.row, d.end_row
    d.cell, d.row = notebook.locate(d.row)
    end_cell, d.end_row = notebook.locate(d.end_row)
    if end_cell != d.cell:  # never past the cell it starts in
        d.end_row, d.end_col = d.row, d.col
    related = []
    for r in d.related:
        cell, row = notebook.locate(r.row)
        moved = dataclasses.replace(r, row=row, end_row=notebook.locate(r.end_row)[1])
        moved.cell, moved.program_row = cell, r.row
        related.append(moved)
    d.related = related
    if d.fix is not None:
        for e in d.fix["edits"]:
            for key in ("location", "end_location"):
                e[key]["concatenated_row"] = e[key]["row"]
                e[key]["cell"], e[key]["row"] = notebook.locate(e[key]["row"])


def display_path(path) -> str:
    """A path as output shows it: relative to the current folder when it is below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


class _RowCol:
    def __init__(self, text: str):
        import bisect

        from klint.engine.positions import line_starts

        self._bisect = bisect.bisect_right
        self.starts = line_starts(text)

    def loc(self, offset: int) -> dict:
        i = self._bisect(self.starts, offset) - 1
        return {"row": i + 1, "column": offset - self.starts[i] + 1}


def render(fmt: str, diags: list[Diagnostic], *, fixed: int = 0, unsafe: bool = False, fix_mode: bool = False,
           show_summary: bool = True) -> str:
    diags = sorted(diags, key=lambda d: (d.filename, d.cell or 0, d.row, d.col, d.code))
    if fmt == "json":
        return json.dumps([_json(d) for d in diags], indent=2) + "\n"
    if fmt == "github":
        lines = []
        for d in diags:
            # a notebook's lines are not the file's: the annotation goes on its first line, as ruff's
            row, col, end_row, end_col = (1, 1, 1, 1) if d.cell is not None else (d.row, d.col, d.end_row, d.end_col)
            lines.append(
                f"::error title=klint ({d.code}),file={_gh(d.filename)},line={row},col={col},"
                f"endLine={end_row},endColumn={end_col}::{_gh_msg(f'{_where(d)}: {d.code} {d.message}')}"
            )
        return "".join(line + "\n" for line in lines)
    if fmt == "sarif":
        return json.dumps(_sarif(diags), indent=2) + "\n"
    return _text(diags, fixed, unsafe, fix_mode, show_summary)


def _where(d: Diagnostic) -> str:
    """``path:row:col``, or ``path:cell N:row:col`` in a notebook."""
    return f"{d.filename}:cell {d.cell}:{d.row}:{d.col}" if d.cell is not None else f"{d.filename}:{d.row}:{d.col}"


def _json(d: Diagnostic) -> dict:
    out = {
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "filename": d.filename,
        "cell": d.cell,
        "location": {"row": d.row, "column": d.col},
        "end_location": {"row": d.end_row, "column": d.end_col},
        "fix": d.fix,
        "url": d.url,
        "noqa_row": d.row,
        "view": d.view,
        "related": [{"message": r.note, "cell": getattr(r, "cell", None), "location": {"row": r.row, "column": r.col},
                     "end_location": {"row": r.end_row, "column": r.end_col}} for r in d.related],
    }
    if d.program_row is not None:  # a notebook: the rows of the program its code cells make, too
        out["concatenated_location"] = {"row": d.program_row, "column": d.col}
        out["concatenated_end_location"] = {"row": d.program_end_row, "column": d.end_col}
    return out


def _text(diags: list[Diagnostic], fixed: int, unsafe: bool, fix_mode: bool, show_summary: bool) -> str:
    out = []
    for d in diags:
        mark = " [*]" if d.fixable else ""
        out.append(f"{_where(d)}: {d.code} {d.message}{mark}")
    if not show_summary:
        return "".join(line + "\n" for line in out)
    n = len(diags)
    if n == 0 and fixed == 0:
        out.append("All checks passed!")
    elif fix_mode and fixed:
        out.append(f"Found {n + fixed} error{'s' if n + fixed != 1 else ''} ({fixed} fixed, {n} remaining).")
    else:
        out.append(f"Found {n} error{'s' if n != 1 else ''}.")
    fixable = sum(d.fixable for d in diags)
    hidden = sum(1 for d in diags if d.fix is not None and not d.fixable)
    if fixable and not fix_mode:
        line = f"[*] {fixable} fixable with the `--fix` option"
        if hidden:
            line += f" ({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the `--unsafe-fixes` option)"
        out.append(line + ".")
    elif hidden:
        out.append(f"No fixes available ({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with "
                   f"the `--unsafe-fixes` option).")
    return "".join(line + "\n" for line in out)


def statistics(diags: list[Diagnostic], fmt: str) -> str:
    counts = Counter(d.code for d in diags)
    names = {d.code: d.name for d in diags}
    fixable = {d.code for d in diags if d.fixable}
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if fmt == "json":
        return json.dumps([{"code": c, "name": names[c], "count": n, "fixable": c in fixable} for c, n in rows],
                          indent=2) + "\n"
    width = max((len(str(n)) for _, n in rows), default=1)
    return "".join(f"{n:>{width}}\t{c}\t{'[*] ' if c in fixable else '    '}{names[c]}\n" for c, n in rows)


def _gh(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")


def _gh_msg(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _sarif(diags: list[Diagnostic]) -> dict:
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    driver_rules = [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary or r.name},
            "fullDescription": {"text": r.doc()},
            "helpUri": r.url(),
            "defaultConfiguration": {"level": "error" if r.default_enabled else "none"},
            "properties": {"views": list(r.views), "fix": r.fix.value},
        }
        for r in rules
    ]
    results = []
    for d in diags:
        res = {
            "ruleId": d.code,
            "level": "error",
            "message": {"text": d.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": d.filename.replace("\\", "/")},
                    "region": {"startLine": d.program_row or d.row, "startColumn": d.col,
                               "endLine": d.program_end_row or d.end_row, "endColumn": d.end_col},
                }
            }],
            "properties": {"view": d.view, "name": d.name},
        }
        if d.cell is not None:  # a notebook: regions are lines of its code cells' program; the cell and its row here
            res["properties"].update({"cell": d.cell, "cellRow": d.row, "cellEndRow": d.end_row})
        if d.related:
            res["relatedLocations"] = [{
                "id": i,
                "physicalLocation": {
                    "artifactLocation": {"uri": d.filename.replace("\\", "/")},
                    "region": {"startLine": getattr(r, "program_row", None) or r.row, "startColumn": r.col,
                               "endLine": getattr(r, "program_row", None) or r.end_row, "endColumn": r.end_col},
                },
                "message": {"text": r.note or d.name},
            } for i, r in enumerate(d.related)]
        if d.code in index:
            res["ruleIndex"] = index[d.code]
        if d.fix is not None:
            res["fixes"] = [{
                "description": {"text": d.fix["message"]},
                "artifactChanges": [{
                    "artifactLocation": {"uri": d.filename.replace("\\", "/")},
                    "replacements": [{
                        "deletedRegion": {
                            "startLine": e["location"].get("concatenated_row", e["location"]["row"]),
                            "startColumn": e["location"]["column"],
                            "endLine": e["end_location"].get("concatenated_row", e["end_location"]["row"]),
                            "endColumn": e["end_location"]["column"],
                        },
                        "insertedContent": {"text": e["content"]},
                    } for e in d.fix["edits"]],
                }],
                "properties": {"applicability": d.fix["applicability"]},
            }]
        results.append(res)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "klint", "version": __version__,
                                "informationUri": "https://github.com/klint-dev/klint", "rules": driver_rules}},
            "results": results,
        }],
    }
