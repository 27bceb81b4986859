#!/usr/bin/env python
"""Benchmark the training overhead of ``klint.keras.TrainingMonitor``, measured in the same run.

A small CNN (three Conv2D layers and two Dense layers on 32x32x3 synthetic images, ten classes) is
trained with ``fit(verbose=0)`` for ``--batches`` batches, once without a callback and once with
``TrainingMonitor`` at its default interval (``every=10``), and also at ``every=1`` (informational).

Each configuration gets its own model, built from the same seed and compiled once, with its own
monitor. A short untimed fit (a few batches, with the same callbacks) traces the train step first:
the monitor wraps the optimizer before that trace, so the model is traced once with or without it,
and later fits with the same monitor reuse the trace. Then one untimed warm-up round runs a full fit
of every configuration, and the ``--repeat`` timed rounds take turns between the configurations, in
a rotating order. Every fit goes over the same ``--batches`` batches, in the same order.

The timed number is the wall time of one fit from the first callback's ``on_train_begin`` to the
last callback's ``on_train_end`` (two no-op clock callbacks around the monitor, in every
configuration). Every per-batch cost of the monitor, in the train step and in its callback hooks,
is inside. The building and the tear-down of Keras's data iterator, which alone vary by up to 2.5 s
from one fit to the next on a small machine, are outside. This is the steady-state cost per batch,
which is what ``every`` controls.

The overhead is the median over the rounds of (monitored time / unmonitored time) - 1, both times
from the same round, so that a machine whose speed drifts during the run (other work on it) skews
it less than a ratio of the two medians would; the medians of the times are printed as well.

This is a bench, not a test: it imports TensorFlow in this process and always exits 0.

Usage: python bench/bench_monitor.py [--batches N] [--repeat R] [--batch-size B] [--json]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

TARGET_OVERHEAD = 0.10  # every=10 may cost at most 10% more than training without the monitor
WARM_BATCHES = 4  # the untimed fit that traces the train step


def build(keras, seed: int):
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def clock(keras):
    """Two callbacks: the first in the list notes the start of training, the last one its end."""

    class Start(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.t = time.perf_counter()

    class End(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            self.t = time.perf_counter()

    return Start(), End()


def timed_fit(model, callbacks: list, x, y, batch_size: int, keras) -> float:
    """Seconds from the first ``on_train_begin`` to the last ``on_train_end`` of one fit."""
    start, end = clock(keras)
    gc.collect()
    model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[start, *callbacks, end])
    return end.t - start.t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=250, help="batches per timed fit (default 250)")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per configuration (default 7)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--json", action="store_true", help="print every number as JSON on stdout")
    a = ap.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf
    from klint.keras import TrainingMonitor

    rng = np.random.default_rng(0)
    n = a.batches * a.batch_size
    x = rng.standard_normal((n, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=(n,)).astype("int32")

    configs = [("without monitor", None), ("TrainingMonitor(every=10)", 10), ("TrainingMonitor(every=1)", 1)]
    times: dict = {name: [] for name, _ in configs}
    load = [os.getloadavg()[0] if hasattr(os, "getloadavg") else None]
    with tempfile.TemporaryDirectory(prefix="klint-bench-monitor-") as td:
        runs = {}
        warm = WARM_BATCHES * a.batch_size
        for name, every in configs:
            model = build(keras, seed=0)
            callbacks = [TrainingMonitor(os.path.join(td, f"every{every}.jsonl"), every=every)] if every else []
            model.fit(x[:warm], y[:warm], batch_size=a.batch_size, epochs=1, shuffle=False, verbose=0,
                      callbacks=callbacks)  # traces the train step
            runs[name] = (model, callbacks)
        print(f"warm-up ({len(configs)} fits of {a.batches} batches) ...", file=sys.stderr, flush=True)
        for name, _ in configs:
            timed_fit(*runs[name], x, y, a.batch_size, keras)
        for rep in range(a.repeat):
            order = configs[rep % len(configs):] + configs[:rep % len(configs)]
            for name, _ in order:
                times[name].append(timed_fit(*runs[name], x, y, a.batch_size, keras))
            print(f"round {rep + 1}/{a.repeat}: " + ", ".join(f"{k} {v[-1]:.3f}s" for k, v in times.items()),
                  file=sys.stderr, flush=True)
    load.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else None)

    base_runs = times["without monitor"]
    base = statistics.median(base_runs)
    rows = []
    for name, every in configs:
        med = statistics.median(times[name])
        paired = None if every is None else statistics.median(t / b for t, b in zip(times[name], base_runs)) - 1
        rows.append({"config": name, "every": every, "median_s": med, "min_s": min(times[name]),
                     "max_s": max(times[name]), "ms_per_batch": 1000 * med / a.batches,
                     "overhead": paired, "overhead_of_medians": None if every is None else med / base - 1,
                     "runs": times[name]})
    over10 = rows[1]["overhead"]
    ok = over10 <= TARGET_OVERHEAD

    if a.json:
        print(json.dumps({"batches": a.batches, "batch_size": a.batch_size, "repeat": a.repeat,
                          "target_overhead": TARGET_OVERHEAD, "ok": ok, "rows": rows,
                          "load": load, "tensorflow": tf.__version__, "keras": keras.__version__,
                          "python": platform.python_version(), "cpus": os.cpu_count()}, indent=2))
        return 0
    print(f"monitor bench: small CNN (3 Conv2D + 2 Dense, 32x32x3 synthetic, batch {a.batch_size}), "
          f"{a.batches} batches per fit, median of {a.repeat} (TF {tf.__version__}, Keras {keras.__version__}, "
          f"{os.cpu_count()} CPUs)")
    for row in rows:
        line = f"  {row['config']:<27} {row['median_s']:7.3f} s  {row['ms_per_batch']:6.2f} ms/batch"
        line += f"  (min {row['min_s']:.3f}, max {row['max_s']:.3f})"
        if row["every"] == 10:
            line += f"  overhead {row['overhead']:+.1%}  target <= {TARGET_OVERHEAD:.0%}: {'OK' if ok else 'MISSED'}"
        elif row["every"] == 1:
            line += f"  overhead {row['overhead']:+.1%}  (informational)"
        print(line)
    print(f"overhead ratio (median of per-round ratios): every=10 {1 + rows[1]['overhead']:.3f}, "
          f"every=1 {1 + rows[2]['overhead']:.3f}; ratio of medians: every=10 {rows[1]['median_s'] / base:.3f}, "
          f"every=1 {rows[2]['median_s'] / base:.3f}")
    if load[0] is not None:
        print(f"load: {load[0]:.2f} at the start, {load[1]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
