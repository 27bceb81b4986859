"""Runtime diagnosis: findings from what training actually did.

Both ``klint probe`` (a short training run in a subprocess) and
``klint report`` (the JSON lines a :class:`klint.keras.TrainingMonitor`
wrote during a real run) produce the same series: per step the loss, the
learning rate applied, and per layer the gradient norm and the update ratio
``|dw|/|w|``, with NaN/Inf flags, and (probe only) the share of dead ReLU or
saturated units and BatchNormalization drift. This module judges the series
and names the static rule that would have prevented each problem. It is pure
Python: no TensorFlow.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

#: code, name, summary
CODES = {
    "KL701": ("exploding-gradients", "Gradient norms grow without bound"),
    "KL702": ("vanishing-gradients", "The first layers get almost no gradient"),
    "KL703": ("dead-relu", "Most ReLU units of a layer never activate"),
    "KL704": ("saturated-activations", "Most tanh/sigmoid units of a layer are saturated"),
    "KL705": ("diverging-loss", "The loss grows or oscillates instead of falling"),
    "KL706": ("nan-in-training", "The loss, gradients or weights became NaN or infinite"),
    "KL707": ("update-ratio-out-of-range", "Weight updates far from ~1e-3 of the weights"),
}

#: What each runtime finding means, for ``klint rule KL70x``.
EXPLANATIONS = {
    "KL701": "Some layer's gradient norm exceeds 1e3, or the total norm grows 100x over the probe: updates "
             "that large throw the weights away from where they were learning. Lower the learning rate "
             "(KL401, KL404) or clip gradients (KL301).",
    "KL702": "The first layers' gradient norms are below 1e-3 of the last layers': the first layers barely "
             "learn. Saturating activations (sigmoid, tanh) stacked deep, or initializers that shrink the "
             "signal, cause it (KL101).",
    "KL703": "Half or more of a layer's ReLU units output zero for the whole batch: they pass no gradient "
             "and never recover. A large negative bias, a learning rate that knocked them out (KL401), or a "
             "Glorot-initialized ReLU layer (KL101) cause it.",
    "KL704": "Half or more of a layer's tanh/sigmoid units sit in their flat tails for the whole batch: "
             "their gradients vanish. Use Glorot initialization for them (KL101) and normalized inputs.",
    "KL705": "The loss doubles over the probe, or swings up and down without falling: the learning rate "
             "is too high for this model (KL401).",
    "KL706": "The loss, a gradient or a weight became NaN or infinite: training is over from that step on. "
             "A learning rate far too high (KL401, KL404) or exploding gradients cause it.",
    "KL707": "A layer's weights change per step by more than 1e-1 or less than 1e-6 of their norm (healthy "
             "is around 1e-3): the learning rate is too high, or too low, for this layer (KL401, KL404).",
}

EXPLODING_NORM = 1e3  # a layer gradient norm above this explodes
EXPLODING_GROWTH = 100.0  # or the total norm grows this much over the run
VANISHING_RATIO = 1e-3  # first layers' norms this far below the last layers'
DEAD_SHARE = 0.5
SATURATED_SHARE = 0.5
DIVERGING_FACTOR = 2.0
UPDATE_HIGH = 1e-1
UPDATE_LOW = 1e-6


@dataclass
class RuntimeFinding:
    code: str
    message: str
    layer: str | None = None  # the layer it is about, when one
    step: int | None = None
    cites: list = field(default_factory=list)  # static rules that would prevent it

    @property
    def name(self) -> str:
        return CODES[self.code][0]


def _series(records: list, key: str, layer: str) -> list[float]:
    out = []
    for r in records:
        v = (r.get(key) or {}).get(layer)
        if isinstance(v, (int, float)) and math.isfinite(v):
            out.append(float(v))
    return out


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def diagnose(result: dict) -> list[RuntimeFinding]:
    """Findings for a probe result or a monitor report: ``{"layers": [...], "records": [...], ...}``."""
    # steps a mixed-precision optimizer skipped (its loss scale overflowed) say nothing of training
    records = [r for r in result.get("records") or [] if not r.get("skipped")]
    layers = result.get("layers") or []
    kinds = result.get("kinds") or {}
    out: list[RuntimeFinding] = []
    if not records:
        return out

    # NaN / Inf
    bad = next((r for r in records if r.get("nan")), None)
    if bad is not None:
        out.append(RuntimeFinding("KL706", (
            f"the loss, gradients or weights became NaN or infinite at step {bad['step']}"
            " (a learning rate too high for this model, or exploding gradients): see KL401 and KL404"),
            step=bad["step"], cites=["KL401", "KL404"]))

    # exploding gradients
    totals = []
    for r in records:
        norms = [v for v in (r.get("grad_norm") or {}).values() if isinstance(v, (int, float)) and math.isfinite(v)]
        totals.append(math.sqrt(sum(v * v for v in norms)) if norms else None)
    finite = [t for t in totals if t is not None]
    worst_layer, worst = None, 0.0
    for name in layers:
        s = _series(records, "grad_norm", name)
        if s and max(s) > worst:
            worst_layer, worst = name, max(s)
    growth = (max(finite[-5:]) / finite[0]) if len(finite) >= 5 and finite[0] > 0 else 1.0
    if worst > EXPLODING_NORM or growth > EXPLODING_GROWTH or (bad is not None and finite and max(finite) > 10):
        out.append(RuntimeFinding("KL701", (
            f"gradients explode: the norm reaches {worst:.3g} in {worst_layer}"
            + (f" and the total grows {growth:.3g}x over the run" if growth > EXPLODING_GROWTH else "")
            + ": lower the learning rate (KL401, KL404) or clip gradients (KL301)"),
            layer=worst_layer, cites=["KL401", "KL404", "KL301"]))

    # vanishing gradients: the first kernel layers against the last ones
    vanished: set = set()
    kernel = [n for n in layers if _median(_series(records, "grad_norm", n)) is not None]
    if len(kernel) >= 4 and bad is None:
        med = {n: _median(_series(records, "grad_norm", n)) for n in kernel}
        k = max(1, len(kernel) // 4)
        first, last = kernel[:k], kernel[-k:]
        top = statistics.mean(med[n] for n in last)
        bottom = statistics.mean(med[n] for n in first)
        if top > 0 and bottom / top < VANISHING_RATIO:
            weak = [n for n in kernel if med[n] < top * VANISHING_RATIO * 10] or first
            vanished = set(weak)
            acts = sorted({(kinds.get(n) or {}).get("activation") or "?" for n in weak})
            inits = sorted({(kinds.get(n) or {}).get("initializer") or "?" for n in weak})
            span = weak[0] if len(weak) == 1 else f"{weak[0]}..{weak[-1]}"
            out.append(RuntimeFinding("KL702", (
                f"vanishing gradients in {span}, which use {'/'.join(acts)} with {'/'.join(inits)}: "
                f"their gradient norms are {bottom / top:.1e} of the last layers'; see KL101 "
                "(He initialization with ReLU-family activations, fewer saturating sigmoid/tanh layers)"),
                layer=weak[0], cites=["KL101"]))

    # dead ReLU and saturation, from the last activation sample
    last_acts = next((r["activations"] for r in reversed(records) if r.get("activations")), {})
    for name, st in last_acts.items():
        if st.get("dead") is not None and st["dead"] >= DEAD_SHARE:
            out.append(RuntimeFinding("KL703", (
                f"{st['dead']:.0%} of the ReLU units of {name} output zero for the whole batch (dead): they no "
                "longer learn; check the bias initialization, use He initialization (KL101) and a lower "
                "learning rate (KL401)"), layer=name, cites=["KL101", "KL401"]))
        if st.get("saturated") is not None and st["saturated"] >= SATURATED_SHARE:
            out.append(RuntimeFinding("KL704", (
                f"{st['saturated']:.0%} of the units of {name} are saturated for the whole batch: their "
                "gradients vanish; use Glorot initialization for tanh/sigmoid (KL101), normalize the inputs, "
                "or a ReLU-family activation"), layer=name, cites=["KL101"]))

    # loss divergence or oscillation
    losses = [r.get("loss") for r in records]
    lf = [l for l in losses if isinstance(l, (int, float)) and math.isfinite(l)]
    if len(lf) >= 10 and bad is None:
        head, tail = statistics.mean(lf[:5]), statistics.mean(lf[-5:])
        diffs = [b - a for a, b in zip(lf, lf[1:])]
        flips = sum(1 for a, b in zip(diffs, diffs[1:]) if a * b < 0)
        spread = (max(lf[-10:]) - min(lf[-10:])) / (abs(statistics.mean(lf[-10:])) or 1.0)
        if head > 0 and tail > DIVERGING_FACTOR * head:
            out.append(RuntimeFinding("KL705", (
                f"the loss diverges: from {head:.3g} to {tail:.3g} over {len(lf)} steps: lower the learning "
                "rate or schedule it (KL401)"), cites=["KL401"]))
        elif flips >= 0.7 * len(diffs) and spread > 1.0 and tail >= head:
            out.append(RuntimeFinding("KL705", (
                f"the loss oscillates without falling ({head:.3g} -> {tail:.3g}, swinging {spread:.0%}): "
                "lower the learning rate or schedule it (KL401)"), cites=["KL401"]))

    # update ratios (layers whose gradients vanish are already reported as such)
    if bad is None:
        for name in layers:
            if name in vanished:
                continue
            r = _median(_series(records, "update_ratio", name))
            if r is None:
                continue
            if r > UPDATE_HIGH:
                out.append(RuntimeFinding("KL707", (
                    f"updates of {name} are {r:.2g} of its weights per step (healthy: ~1e-3): the learning rate "
                    "is too high for this layer (KL401, KL404)"), layer=name, cites=["KL401", "KL404"]))
            elif 0 < r < UPDATE_LOW:
                out.append(RuntimeFinding("KL707", (
                    f"updates of {name} are {r:.2g} of its weights per step (healthy: ~1e-3): it barely "
                    "learns; the learning rate is too low (KL404) or its gradients vanish"),
                    layer=name, cites=["KL404"]))
    return out
