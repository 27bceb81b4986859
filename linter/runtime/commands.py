"""``klint probe`` and ``klint report``: run or read training, and diagnose it.

The probe runs ``klint/runtime/probe.py`` in a subprocess with the same
isolation as the model view (the user's interpreter, GPUs hidden, the
script's folder, a timeout that kills the process group). Findings map to
the construction site of the layer they are about, recorded by the capture.
Plots need matplotlib (``pip install klint[plot]``); nothing here imports
TensorFlow.
"""
from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from klint.engine.notebook import Notebook, NotebookError, is_notebook
from klint.runtime.diagnose import CODES, diagnose
from klint.cli.formats import display_path

PROBE = Path(__file__).with_name("probe.py")


class RuntimeError_(Exception):
    """The probe could not run (message for the user)."""


@dataclass
class Located:
    code: str
    name: str
    message: str
    filename: str
    row: int
    col: int
    layer: str | None
    step: int | None
    cites: list
    cell: int | None = None  # in a notebook: the cell, and ``row`` within it



#: ``klint probe --seed``: Python, NumPy, Keras and the synthetic data are seeded with it
DEFAULT_SEED = 0


def _notebook_program(script: Path) -> str:
    try:
        return Notebook(script.read_text(encoding="utf-8")).source
    except (OSError, UnicodeDecodeError, NotebookError) as e:
        raise RuntimeError_(f"cannot read the notebook {script.name}: {e}") from None


def run_probe(script: Path, python: str, timeout: float, steps: int, root: Path | None = None,
              seed: int = DEFAULT_SEED) -> dict:
    from klint.model.runner import _one_shot

    script = Path(script).resolve()
    with tempfile.TemporaryDirectory(prefix="klint-probe-") as td:
        out = Path(td) / "probe.json"
        cmd = [python, str(PROBE), str(script), str(out), "--steps", str(steps), "--seed", str(seed), "--root",
               str(root or script.parent)]
        if is_notebook(script):  # its code cells, run as one script
            program = Path(td) / "program.py"
            program.write_text(_notebook_program(script), encoding="utf-8")
            cmd += ["--source", str(program)]
        outcome = _one_shot(cmd, script, timeout)
        if not isinstance(outcome, tuple):
            raise RuntimeError_(outcome.warning)
        timed_out, code, output = outcome
        if timed_out:
            raise RuntimeError_(f"the probe did not finish within {timeout:g} s")
        if not out.is_file():
            tail = (output.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError_(f"the probe process failed (exit code {code}): {tail}")
        result = json.loads(out.read_text(encoding="utf-8"))
    snap = result.get("snapshot") or {}
    err = snap.get("error")
    if result.get("probe") is None:
        why = result.get("error") or "no model was probed"
        if err:
            where = f" at line {err['line']}" if err.get("line") else ""
            why += f" (the script raised {err.get('type')}: {(err.get('message') or '').strip()[:200]}{where})"
        raise RuntimeError_(why)
    return result


def sites_of(snapshot: dict) -> dict:
    """Layer name -> construction site, for the model that reached training."""
    models = snapshot.get("models") or []
    trained = [m for m in models if m.get("fit")] or models
    out = {}
    for m in trained:
        for layer in m.get("layers") or []:
            if layer.get("site"):
                out.setdefault(layer["name"], layer["site"])
    return out


def locate(findings: list, result: dict, script: Path) -> list[Located]:
    snap = result.get("snapshot") or {}
    sites = sites_of(snap)
    fit = snap.get("trigger_site") or {"file": str(script), "line": 1, "col": 0}
    notebook = None
    if is_notebook(script):
        try:
            notebook = Notebook(Path(script).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, NotebookError):
            notebook = None
    out = []
    for f in findings:
        site = sites.get(f.layer) if f.layer else None
        site = site or fit
        where = Located(f.code, f.name, f.message, display_path(site.get("file") or str(script)),
                        site.get("line") or 1, (site.get("col") or 0) + 1, f.layer, f.step, f.cites)
        if notebook is not None and Path(site.get("file") or script).resolve() == Path(script).resolve():
            where.cell, where.row = notebook.locate(where.row)
        out.append(where)
    return out


def render(located: list[Located], series: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({
            "findings": [{
                "code": f.code, "name": f.name, "message": f.message, "filename": f.filename,
                "cell": f.cell, "location": {"row": f.row, "column": f.col}, "layer": f.layer, "step": f.step,
                "cites": f.cites, "view": "runtime",
            } for f in located],
            "series": series,
        }, indent=2) + "\n"
    lines = [f"{f.filename}:{'' if f.cell is None else f'cell {f.cell}:'}{f.row}:{f.col}: {f.code} {f.message}"
             for f in located]
    steps = series.get("steps") or len(series.get("records") or [])
    source = f" on {series['data']}" if series.get("data") else ""
    if located:
        lines.append(f"Found {len(located)} runtime problem{'s' if len(located) != 1 else ''} in {steps} steps{source}.")
    else:
        lines.append(f"No runtime problems in {steps} steps{source}.")
    return "\n".join(lines) + "\n"


def check_plot(path: Path) -> None:
    """Fail before any run when ``--plot PATH`` cannot be written: matplotlib must import in this
    interpreter (the one that draws the plot) and the folder must exist."""
    try:
        import matplotlib  # noqa: F401
    except Exception as e:  # an ImportError, or a broken installation
        why = f"{type(e).__name__}: {e}".strip()
        raise RuntimeError_(f"--plot needs matplotlib, which cannot be imported here ({why}): "
                            "pip install 'klint[plot]'") from e
    folder = Path(path).parent
    if not folder.is_dir():
        raise RuntimeError_(f"--plot {path}: no such folder {folder}")


#: the loss panel goes logarithmic when the loss spans more than this many decades
LOG_DECADES = 2.0


def loss_scale(values: list) -> tuple[str, dict]:
    """The y scale of the loss panel: ``("log", {})`` for a positive loss spanning more than two
    decades, ``("symlog", {"linthresh": t})`` for one that spans decades and crosses zero, else
    ``("linear", {})``."""
    finite = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if len(finite) < 2:
        return "linear", {}
    lo, hi = min(finite), max(finite)
    if lo > 0:
        return ("log", {}) if math.log10(hi / lo) > LOG_DECADES else ("linear", {})
    nonzero = [abs(v) for v in finite if v != 0]
    if not nonzero:
        return "linear", {}
    big, small = max(nonzero), min(nonzero)
    if lo < 0 < hi and math.log10(big / small) > LOG_DECADES:
        return "symlog", {"linthresh": max(small, big * 1e-6)}
    return "linear", {}


def nan_step(records: list) -> int | None:
    """The step at which the loss, gradients or weights first became NaN or infinite."""
    for i, r in enumerate(records):
        if r.get("nan"):
            return r.get("step", i)
    return None


def figure(series: dict, title: str = ""):
    """Gradient norm per layer, the loss and the learning rate over the steps (matplotlib, Agg)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:
        raise RuntimeError_("--plot needs matplotlib: pip install 'klint[plot]'") from e
    records = series.get("records") or []
    steps = [r.get("step", i) for i, r in enumerate(records)]
    fig, axes = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    names = series.get("layers") or []
    colors = plt.get_cmap("viridis")
    for i, name in enumerate(names):  # colour by depth: the first layers dark, the last ones light
        ys = [(r.get("grad_norm") or {}).get(name) for r in records]
        pts = [(s, y) for s, y in zip(steps, ys) if isinstance(y, (int, float)) and y > 0]
        if pts:
            axes[0].plot([p[0] for p in pts], [p[1] for p in pts], label=name,
                         color=colors(i / max(len(names) - 1, 1)))
    axes[0].set_yscale("log")
    axes[0].set_ylabel("gradient norm")
    if len(names) <= 12 and axes[0].lines:
        axes[0].legend(fontsize="small", ncol=2)
    loss = [(s, r.get("loss")) for s, r in zip(steps, records)
            if isinstance(r.get("loss"), (int, float)) and math.isfinite(r["loss"])]
    axes[1].plot([p[0] for p in loss], [p[1] for p in loss], color="black", label="loss")
    scale, opts = loss_scale([p[1] for p in loss])
    axes[1].set_yscale(scale, **opts)
    axes[1].set_ylabel("loss" + ("" if scale == "linear" else f" ({scale})"))
    lr = [(s, r.get("lr")) for s, r in zip(steps, records) if isinstance(r.get("lr"), (int, float))]
    axes[2].plot([p[0] for p in lr], [p[1] for p in lr], color="tab:orange")
    axes[2].set_ylabel("learning rate")
    axes[2].set_xlabel("step")
    bad = nan_step(records)
    if bad is not None:
        label = f"NaN/Inf at step {bad}"
        for ax in axes:
            ax.axvline(bad, color="tab:red", linestyle="--", linewidth=1.2, label=label if ax is axes[1] else None)
        axes[1].annotate(label, xy=(bad, 1.0), xycoords=("data", "axes fraction"), xytext=(-4, -4),
                         textcoords="offset points", ha="right", va="top", color="tab:red", fontsize="small")
        axes[1].legend(fontsize="small", loc="upper left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot(series: dict, path: Path, title: str = "") -> None:
    """The figure of :func:`figure`, written as a PNG."""
    fig = figure(series, title)
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, format="png", dpi=100)
    except OSError as e:
        raise RuntimeError_(f"--plot {path}: cannot write it: {e.strerror or e}") from e
    finally:
        plt.close(fig)


def read_report(path: Path) -> dict:
    """A TrainingMonitor's JSON lines, as the series the probe produces."""
    header: dict = {}
    records: list = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                item = json.loads(line)
            except ValueError as e:
                raise RuntimeError_(f"{path}:{n}: not a JSON line: {e}") from e
            if item.get("type") == "header":
                header = item
            elif item.get("type") == "step":
                records.append(item)
    if not header and not records:
        raise RuntimeError_(f"{path}: no TrainingMonitor records")
    return {"layers": header.get("layers") or sorted({k for r in records for k in (r.get("grad_norm") or {})}),
            "kinds": header.get("kinds") or {}, "sites": header.get("sites") or {}, "records": records,
            "steps": len(records), "data": "the monitored training run"}


__all__ = ["CODES", "diagnose", "run_probe", "locate", "render", "check_plot", "loss_scale", "nan_step", "figure",
           "plot", "read_report", "RuntimeError_"]
