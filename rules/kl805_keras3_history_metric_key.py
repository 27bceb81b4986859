"""KL805 keras3-history-metric-key."""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.metadata as md

from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.engine.syntax import outside_keras3
from klint.source.values import ABSENT, Arg, Const, DictV, FuncV, ModelObj, Obj, Ref, SeqV, UserObj

#: Metric strings Keras 3.15.1 accepts in ``compile(metrics=[...])`` (``keras.metrics.get``), besides any
#: casing of "accuracy"/"acc". Keras 3 logs a string metric under the string itself.
METRIC_STRINGS = frozenset((
    "AUC", "Accuracy", "BCE", "BinaryAccuracy", "BinaryCrossentropy", "BinaryIoU", "CategoricalAccuracy",
    "CategoricalCrossentropy", "CategoricalHinge", "ConcordanceCorrelation", "CosineSimilarity", "F1Score",
    "FBetaScore", "FalseNegatives", "FalsePositives", "Hinge", "KLDivergence", "LogCoshError", "MAE", "MAPE",
    "MSE", "MSLE", "Mean", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "PearsonCorrelation", "Poisson", "Precision", "R2Score", "Recall",
    "RootMeanSquaredError", "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy", "SquaredHinge", "Sum", "TopKCategoricalAccuracy", "TrueNegatives",
    "TruePositives", "auc", "bce", "binary_accuracy", "binary_crossentropy", "binary_io_u",
    "categorical_accuracy", "categorical_crossentropy", "categorical_hinge", "concordance_correlation",
    "cosine_similarity", "f1_score", "f_beta_score", "false_negatives", "false_positives", "hinge",
    "kl_divergence", "log_cosh_error", "mae", "mape", "mean", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle",
    "pearson_correlation", "poisson", "precision", "r2_score", "recall", "root_mean_squared_error",
    "sparse_categorical_accuracy", "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy",
    "squared_hinge", "sum", "top_k_categorical_accuracy", "true_negatives", "true_positives",
))

#: What Keras 2.2 and older logged a metric string under, where it differs from the string: "accuracy"
#: became "acc" (``keras/engine/training.py``), and an alias logged the function's ``__name__``.
OLD_STRING_KEYS = {
    "accuracy": "acc", "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "mse": "mean_squared_error", "MSE": "mean_squared_error", "mape": "mean_absolute_percentage_error",
    "MAPE": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
    "MSLE": "mean_squared_logarithmic_error",
}

#: Keras 3.15.1 metric classes whose default name is fixed: class -> (name, position of ``name``).
FIXED_NAMES = {
    "Accuracy": ("accuracy", 0), "BinaryAccuracy": ("binary_accuracy", 0),
    "BinaryCrossentropy": ("binary_crossentropy", 0), "CategoricalAccuracy": ("categorical_accuracy", 0),
    "CategoricalCrossentropy": ("categorical_crossentropy", 0), "CategoricalHinge": ("categorical_hinge", 0),
    "ConcordanceCorrelation": ("concordance_correlation", 0), "CosineSimilarity": ("cosine_similarity", 0),
    "F1Score": ("f1_score", 2), "FBetaScore": ("fbeta_score", 3), "Hinge": ("hinge", 0),
    "KLDivergence": ("kl_divergence", 0), "LogCoshError": ("logcosh", 0), "Mean": ("mean", 0),
    "MeanAbsoluteError": ("mean_absolute_error", 0),
    "MeanAbsolutePercentageError": ("mean_absolute_percentage_error", 0),
    "MeanSquaredError": ("mean_squared_error", 0),
    "MeanSquaredLogarithmicError": ("mean_squared_logarithmic_error", 0),
    "PearsonCorrelation": ("pearson_correlation", 0), "Poisson": ("poisson", 0), "R2Score": ("r2_score", 2),
    "RootMeanSquaredError": ("root_mean_squared_error", 0),
    "SparseCategoricalAccuracy": ("sparse_categorical_accuracy", 0),
    "SparseCategoricalCrossentropy": ("sparse_categorical_crossentropy", 0),
    "SparseTopKCategoricalAccuracy": ("sparse_top_k_categorical_accuracy", 1),
    "SquaredHinge": ("squared_hinge", 0), "Sum": ("sum", 0),
    "TopKCategoricalAccuracy": ("top_k_categorical_accuracy", 1),
}

#: Keras 3.15.1 metric classes named automatically (``auc``, then ``auc_1``, ``auc_2``... for every
#: instance the process makes): class -> (base name, position of ``name``).
AUTO_NAMES = {
    "AUC": ("auc", 3), "BinaryIoU": ("binary_io_u", 2), "FalseNegatives": ("false_negatives", 1),
    "FalsePositives": ("false_positives", 1), "Precision": ("precision", 3), "Recall": ("recall", 3),
    "TrueNegatives": ("true_negatives", 1), "TruePositives": ("true_positives", 1),
}

#: Metric functions of ``keras.metrics`` and ``keras.losses`` (Keras 3.15.1): logged under their name.
METRIC_FUNCTIONS = frozenset((
    "binary_accuracy", "binary_crossentropy", "binary_focal_crossentropy", "categorical_accuracy",
    "categorical_crossentropy", "categorical_focal_crossentropy", "categorical_hinge", "concordance_correlation",
    "hinge", "huber", "kl_divergence", "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_error", "mean_squared_logarithmic_error", "pearson_correlation", "poisson",
    "sparse_categorical_accuracy", "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy",
    "squared_hinge", "top_k_categorical_accuracy", "cosine_similarity",
))

#: Keras callbacks that write no key into the logs, and those that log the learning rate
#: (``learning_rate`` in Keras 3, ``lr`` in Keras 2).
QUIET_CALLBACKS = frozenset(f"keras.callbacks.{n}" for n in (
    "EarlyStopping", "ModelCheckpoint", "TensorBoard", "CSVLogger", "TerminateOnNaN", "ProgbarLogger",
    "History", "RemoteMonitor", "BackupAndRestore", "SwapEMAWeights",
))
LR_CALLBACKS = frozenset(("keras.callbacks.ReduceLROnPlateau", "keras.callbacks.LearningRateScheduler"))

#: The callbacks that act on a monitored key: class -> position of ``monitor``.
MONITORS = {"keras.callbacks.EarlyStopping": 0, "keras.callbacks.ModelCheckpoint": 1,
            "keras.callbacks.ReduceLROnPlateau": 0}

#: Keras 3.11 moved ModelCheckpoint and ReduceLROnPlateau onto ``MonitorCallback``, which raises when
#: ``mode="auto"`` cannot tell the direction of a monitored metric the model does not have.
MONITOR_RAISES_FROM = (3, 11)


@dataclass(eq=False)
class _Metric:
    """One compiled metric: the key Keras 3 logs (or the base of an automatic name) and what older Keras
    logged it as."""

    key: str | None
    auto: str | None
    old: frozenset
    spelled: str

    def logs(self, key: str) -> bool:
        if self.key is not None:
            return key == self.key
        return key == self.auto or (key.startswith(self.auto + "_") and key[len(self.auto) + 1:].isdigit())


@dataclass(eq=False)
class _Keys:
    """What one ``fit`` logs, when it is known."""

    metrics: list
    validation: bool | None  # None: it may validate
    lr_logged: bool

    def has(self, base: str) -> bool:
        return base == "loss" or any(m.logs(base) for m in self.metrics) or (
            self.lr_logged and base == "learning_rate")


class Keras3HistoryMetricKey(Rule):
    """
    ## What it does
    Checks the keys a script reads from a training history
    (`history.history["acc"]`, `h.history.get("val_acc")`,
    `model.fit(...).history["acc"]`, `model.history.history[...]`, and in a
    plotting function the history is passed to) and the `monitor=` of the
    `EarlyStopping`, `ModelCheckpoint` and `ReduceLROnPlateau` callbacks
    given to `fit`, against the keys the model's `compile(metrics=[...])`
    makes Keras 3 log. A key no compiled metric logs is reported; when the
    key is what Keras 2.2 logged for exactly one of the metrics, it is
    renamed to the key Keras 3 logs for it:

    | `compile(metrics=...)` | Keras 3 logs | Keras 2.2 and older logged |
    | --- | --- | --- |
    | `"accuracy"` | `accuracy`, `val_accuracy` | `acc`, `val_acc` |
    | `"acc"` | `acc`, `val_acc` | `acc`, `val_acc` |
    | `"mae"` / `"mse"` | `mae` / `mse` | `mean_absolute_error` / `mean_squared_error` |
    | `"mape"` / `"msle"` | `mape` / `msle` | `mean_absolute_percentage_error` / `mean_squared_logarithmic_error` |
    | any other string | the string | the string |
    | `CategoricalAccuracy()` | `categorical_accuracy` | |
    | `AUC()`, `Precision()`... | `auc`, `auc_1`... (one per instance) | |
    | `Metric(name="f")`, a function `f` | `f` | `f` |

    ReduceLROnPlateau and LearningRateScheduler log the learning rate as
    `learning_rate` in Keras 3 (`lr` in Keras 2).

    ## Why is this bad
    Keras 3 logs a string metric under the string it is spelled with
    (`get_metric` in `keras/src/trainers/compile_utils.py`, Keras 3.15.1:
    `metric_obj.name = identifier`), where Keras 2.2 and older logged
    `"accuracy"` as `acc` and `"mae"` as `mean_absolute_error`. Legacy code
    that compiles with `metrics=["accuracy"]` and reads
    `history.history["acc"]` stops with `KeyError: 'acc'` after training,
    before its plot or report. A callback watching `val_acc` fares worse:
    `EarlyStopping` (in the default `mode="auto"`), and from Keras 3.11
    `ModelCheckpoint` and `ReduceLROnPlateau`, raise `ValueError: ...
    Keras isn't able to automatically determine whether that metric should
    be maximized or minimized` at the end of the first epoch
    (`keras/src/callbacks/monitor_callback.py`); with `mode="max"` they
    only warn that `val_acc` "is not available" and never stop, never
    reduce the learning rate, or save every epoch instead of the best one.

    ## Example
    ```python
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    stop = EarlyStopping(monitor="val_acc", patience=3)
    history = model.fit(x, y, validation_split=0.2, callbacks=[stop])
    plt.plot(history.history["acc"])
    ```

    ## Use instead
    ```python
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    stop = EarlyStopping(monitor="val_accuracy", patience=3)
    history = model.fit(x, y, validation_split=0.2, callbacks=[stop])
    plt.plot(history.history["accuracy"])
    ```

    ## Fix safety
    The key string is renamed to the key the metric is logged under in
    Keras 3: the same values of the same metric, so the fix is safe. It is
    offered only when exactly one compiled metric was logged under the old
    key (a key no metric logs, such as `acc` for `metrics=["mae"]`, is
    reported without a fix) and the string is written in the read or in
    the callback's call.

    The rule stays silent when the logged keys are not all known: a model
    whose `compile` the file does not show, a subclassed model (its
    `train_step` may log anything), several outputs (their keys carry the
    output's name), a metric the source view cannot name, a callback of
    the file that may write to the logs, a membership test on the history
    (`"acc" in history.history`) or a read guarded by `except KeyError`.
    `val_` keys are not checked when `fit` does not validate, nor files
    that reach Keras only through Keras 2 itself (`tf_keras`).

    ## Options
    None.
    """

    code = "KL805"
    name = "keras3-history-metric-key"
    summary = "History or monitor key that the compiled metrics do not log in Keras 3"
    views = ("source",)
    fix = FixAvailability.SOMETIMES

    _MODEL = (
        "import numpy as np\nimport keras\n\n"
        "x = np.zeros((8, 3), 'float32')\ny = np.eye(2)[[0, 1] * 4]\n"
        "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation='softmax')])\n"
    )
    _COMPILE = "model.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['accuracy'])\n"

    VALID = [
        Valid(_MODEL + _COMPILE + "history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25)\n"
              "print(history.history['accuracy'], history.history['val_loss'])\n"),
        Valid(_MODEL + "model.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['acc'])\n"
              "history = model.fit(x, y, epochs=1, verbose=0)\nprint(history.history['acc'])\n",
              "`acc` is logged as `acc`"),
        Valid(_MODEL + _COMPILE + "history = model.fit(x, y, epochs=1, verbose=0)\n"
              "acc = history.history['acc'] if 'acc' in history.history else history.history['accuracy']\n",
              "the script tests which key is there"),
        Valid(_MODEL + "model.compile(optimizer='sgd', loss='mse', metrics=[keras.metrics.AUC()])\n"
              "history = model.fit(x, y, epochs=1, verbose=0)\nprint(history.history['auc_1'])\n",
              "an automatic name: Keras numbers the instances"),
        Valid("import keras\n\nhistory = model.fit(x, y)\nprint(history.history['acc'])\n",
              "the metrics are unknown"),
        Valid(_MODEL + _COMPILE + "history = model.fit(x, y, epochs=1, verbose=0)\n"
              "print(history.history['val_acc'])\n",
              "no validation: `val_` keys are missing on every Keras"),
        Valid(_MODEL + _COMPILE + "history = {'acc': [1.0]}\nprint(history['acc'])\n", "not a history"),
        Valid(_MODEL.replace("import keras", "import tf_keras as keras") + _COMPILE
              + "history = model.fit(x, y, epochs=1, verbose=0)\nprint(history.history['acc'])\n",
              "Keras 2 itself (`tf_keras`) is not checked"),
        Valid(_MODEL + _COMPILE + "ckpt = keras.callbacks.ModelCheckpoint('m.keras', monitor='val_acc')\n"
              "model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[ckpt])\n",
              "before Keras 3.11 a ModelCheckpoint that saves every epoch does not read its monitor",
              target="3.8"),
    ]

    INVALID = [
        Invalid(
            _MODEL + _COMPILE + "history = model.fit(x, y, epochs=1, verbose=0)\nacc = history.history['acc']\n",
            _MODEL + _COMPILE + "history = model.fit(x, y, epochs=1, verbose=0)\nacc = history.history['accuracy']\n",
            lines=(9,), raises="KeyError"),
        Invalid(
            _MODEL + _COMPILE
            + "def plot(h):\n    return h.history['val_acc'][-1]\n\n"
            "hist = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y))\nplot(hist)\n",
            _MODEL + _COMPILE
            + "def plot(h):\n    return h.history['val_accuracy'][-1]\n\n"
            "hist = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y))\nplot(hist)\n",
            note="through the function the history is passed to", raises="KeyError"),
        Invalid(
            _MODEL + "model.compile(optimizer='sgd', loss='mse', metrics=['mae'])\n"
            "mae = model.fit(x, y, epochs=1, verbose=0).history['mean_absolute_error']\n",
            _MODEL + "model.compile(optimizer='sgd', loss='mse', metrics=['mae'])\n"
            "mae = model.fit(x, y, epochs=1, verbose=0).history['mae']\n",
            note="Keras 2.2 logged `mae` under the function's name", raises="KeyError"),
        Invalid(
            _MODEL + "model.compile(optimizer='sgd', loss='mse', metrics=['mae'])\n"
            "history = model.fit(x, y, epochs=1, verbose=0)\nacc = history.history['acc']\n",
            None, note="no compiled metric logs it: no fix", raises="KeyError"),
        Invalid(
            _MODEL + _COMPILE + "stop = keras.callbacks.EarlyStopping(monitor='val_acc', patience=2)\n"
            "model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[stop])\n",
            _MODEL + _COMPILE + "stop = keras.callbacks.EarlyStopping(monitor='val_accuracy', patience=2)\n"
            "model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[stop])\n",
            lines=(8,), note="mode='auto' cannot tell the direction of a metric it does not have",
            raises="ValueError"),
        Invalid(
            _MODEL + _COMPILE + "from keras.callbacks import ReduceLROnPlateau\n"
            "plateau = ReduceLROnPlateau('val_acc', mode='max', patience=0, min_delta=10)\n"
            "model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[plateau])\n",
            _MODEL + _COMPILE + "from keras.callbacks import ReduceLROnPlateau\n"
            "plateau = ReduceLROnPlateau('val_accuracy', mode='max', patience=0, min_delta=10)\n"
            "model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[plateau])\n",
            note="mode='max': it warns and never reduces the learning rate",
            silent="float(model.optimizer.learning_rate) > 0.005"),
        Invalid(
            _MODEL + _COMPILE + "import os, tempfile\npath = os.path.join(tempfile.mkdtemp(), 'best.keras')\n"
            "best = keras.callbacks.ModelCheckpoint(path, monitor='val_acc', mode='max', save_best_only=True)\n"
            "model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[best])\n",
            _MODEL + _COMPILE + "import os, tempfile\npath = os.path.join(tempfile.mkdtemp(), 'best.keras')\n"
            "best = keras.callbacks.ModelCheckpoint(path, monitor='val_accuracy', mode='max', save_best_only=True)\n"
            "model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[best])\n",
            note="it saves every epoch, not the best one", warns="Can save best model only with val_acc available"),
        Invalid(
            _MODEL + _COMPILE + "plateau = keras.callbacks.ReduceLROnPlateau(patience=1)\n"
            "history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[plateau])\n"
            "lr = history.history['lr']\n",
            _MODEL + _COMPILE + "plateau = keras.callbacks.ReduceLROnPlateau(patience=1)\n"
            "history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[plateau])\n"
            "lr = history.history['learning_rate']\n",
            note="ReduceLROnPlateau logs `learning_rate`", raises="KeyError"),
    ]

    def check(self, ctx) -> None:
        if outside_keras3(ctx.analysis):
            return  # the file reaches Keras only through Keras 2 itself (``tf_keras``, ``tensorflow.python.keras``)
        _Checker(ctx).run()


class _Checker:
    """One file: the fits whose logged keys are known, and the reads and monitors of those keys."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.fits: dict = {}  # id(fit call) -> [FitInfo]
        for f in ctx.analysis.fits:
            if f.site is not None and f.site.node is not None:
                self.fits.setdefault(id(f.site.node), []).append(f)
        self.model_history: dict = {}  # id(``model.history`` node) -> ModelObj
        for node, _top, base, attr in ctx.analysis.attributes:
            if attr == "history" and isinstance(base, ModelObj):
                self.model_history[id(node)] = base
        self._keys: dict = {}
        self._metadata = None

    def _resolved(self):
        """libcst's scope and parent metadata, computed on first use: scopes cost several parses, and
        most files read no history key at all."""
        if self._metadata is None:
            wrapper = md.MetadataWrapper(self.ctx.module, unsafe_skip_copy=True)
            try:
                self._metadata = (wrapper.resolve(md.ScopeProvider), wrapper.resolve(md.ParentNodeProvider))
            except Exception:  # pragma: no cover - a tree libcst's scope analysis rejects
                self._metadata = ({}, {})
        return self._metadata

    @property
    def scopes(self):
        return self._resolved()[0]

    @property
    def parents(self):
        return self._resolved()[1]

    def run(self) -> None:
        if not self.fits:
            return
        reads, guards = _Reads(), set()
        self.ctx.module.visit(reads)
        for container in reads.membership:
            for f in self.dict_fits(container) or ():
                guards.add(id(f))
        done: set = set()
        for node, receiver, how in reads.found:
            fits = self.dict_fits(receiver)
            if not fits or any(id(f) in guards for f in fits) or self.guarded(node):
                continue
            self.check_key(node, fits, f"{self.ctx.code(receiver)}{how}", None)
        for fit_list in self.fits.values():
            for fit in fit_list:
                self.check_monitors(fit, fit_list, done)

    # ------------------------------------------------------------ keys

    def keys(self, fit) -> _Keys | None:
        k = id(fit)
        if k not in self._keys:
            self._keys[k] = _fit_keys(fit)
        return self._keys[k]

    def verdict(self, key: str, fits: list):
        """None: the key may be logged; else (the Keras 3 key or None, the metric, the keys) for a key no
        compiled metric logs."""
        all_keys = [self.keys(f) for f in fits]
        if any(k is None for k in all_keys):
            return None
        val = key.startswith("val_")
        base = key[4:] if val else key
        if val and base in ("lr", "learning_rate"):
            return None
        if val and all(k.validation is False for k in all_keys):
            return None  # no fit validates: the key is missing on every Keras
        if any(k.has(base) for k in all_keys):
            return None
        targets, metric = set(), None
        for k in all_keys:
            if base == "lr" and k.lr_logged:
                targets.add("learning_rate")
                continue
            matches = [m for m in k.metrics if base in m.old and m.key is not None]
            targets.update(m.key for m in matches)
            if len(matches) != 1:
                targets.add(None)
            else:
                metric = matches[0]
        if base in ("lr", "learning_rate") and None in targets:
            return None  # a learning rate the file logs itself, or not: be conservative
        new = targets.pop() if len(targets) == 1 else None
        return (("val_" + new) if val and new else new), metric, all_keys[0]

    def check_key(self, string: cst.SimpleString, fits: list, what: str, callback) -> bool:
        key = _string(string)
        if key is None:
            return False
        v = self.verdict(key, fits)
        if v is None:
            return False
        new, metric, keys = v
        if new is not None and metric is not None:
            why = f"`metrics=[{metric.spelled}]` logs `{new}` (Keras 2.2 and older logged `{key}`)"
        elif new is not None:
            why = f"ReduceLROnPlateau and LearningRateScheduler log `{new}` (Keras 2 logged `lr`)"
        else:
            logged = ["loss"] + [m.key or f"{m.auto}_N" for m in keys.metrics]
            why = f"the compiled metrics log only `{'`, `'.join(logged)}`"
        top = self.top(string)
        if callback is None and what.endswith(".get"):
            message = f"`{what}({string.value})` returns None on Keras 3: {why}"
        elif callback is None:
            message = f"`{what}[{string.value}]` raises KeyError on Keras 3: {why}"
        else:
            message = f"`{what}(monitor={string.value})`: Keras 3 logs no `{key}`: {why}; {callback}"
        fix = None
        if new is not None:
            fix = self.ctx.fix(f"Use the key `{new}`", [self.ctx.replace((string, top), _requote(string, new))])
        self.ctx.report((string, top), message, fix)
        return True

    def check_monitors(self, fit, fit_list: list, done: set) -> None:
        cbs = fit.callbacks
        if not isinstance(cbs, SeqV):
            return
        for cb in cbs.items:
            if not isinstance(cb, Obj) or cb.qual not in MONITORS or cb.site is None or id(cb) in done:
                continue
            done.add(id(cb))
            monitor = cb.site.arg("monitor", MONITORS[cb.qual])
            if not isinstance(monitor, Arg) or not isinstance(monitor.value, Const):
                continue
            string = monitor.value.node
            if not isinstance(string, cst.SimpleString):
                continue
            effect = self.effect(cb)
            if effect is None:
                continue
            fits = [f for fl in self.fits.values() for f in fl if _passes(f, cb)]
            self.check_key(string, fits or fit_list, cb.qual.rsplit(".", 1)[1], effect)

    def effect(self, cb: Obj) -> str | None:
        """What Keras 3 does with a monitor it cannot find, or None when it does not read it."""
        mode = cb.site.arg("mode", 5 if cb.qual.endswith("ModelCheckpoint") else 4)
        mode_v = mode.value.value if isinstance(mode, Arg) and isinstance(mode.value, Const) else (
            "auto" if mode is ABSENT else None)
        if mode_v not in ("auto", "min", "max"):
            mode_v = None
        name = cb.qual.rsplit(".", 1)[1]
        target = getattr(self.ctx, "target", None)
        version = target.keras if target is not None else MONITOR_RAISES_FROM
        raises = mode_v == "auto" and (name == "EarlyStopping" or version >= MONITOR_RAISES_FROM)
        if raises:
            return ("Keras raises ValueError at the end of the first epoch, since `mode='auto'` cannot tell "
                    "whether to maximize a metric the model does not have")
        if name == "EarlyStopping":
            return "it warns every epoch and never stops training"
        if name == "ReduceLROnPlateau":
            return "it warns every epoch and never reduces the learning rate"
        best = cb.site.arg("save_best_only", 3)
        if isinstance(best, Arg) and isinstance(best.value, Const) and best.value.value is True:
            return "it warns every epoch and saves every epoch's model, not the best one"
        return None

    # ------------------------------------------------------ data flow

    def dict_fits(self, expr, depth: int = 0) -> list | None:
        """The fits whose ``History.history`` dict ``expr`` is, or None."""
        if depth > 8:
            return None
        if isinstance(expr, cst.Attribute) and expr.attr.value == "history":
            return self.history_fits(expr.value, depth + 1)
        return self.flow(expr, depth, self.dict_fits)

    def history_fits(self, expr, depth: int = 0) -> list | None:
        """The fits whose ``History`` object ``expr`` is, or None."""
        if depth > 8:
            return None
        if isinstance(expr, cst.Call) and id(expr) in self.fits:
            return self.fits[id(expr)]
        if isinstance(expr, cst.Attribute) and id(expr) in self.model_history:
            model = self.model_history[id(expr)]
            return list(model.fits) or None
        return self.flow(expr, depth, self.history_fits)

    def flow(self, expr, depth: int, resolve) -> list | None:
        """Follow a name to what was assigned to it, a parameter to the calls' arguments, and a call of
        the file's function to what it returns."""
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name):
            fn = self.function_of(expr.func)
            if fn is None:
                return None
            out: list = []
            for ret in _returns(fn):
                if ret.value is None:
                    return None
                got = resolve(ret.value, depth + 1)
                if not got:
                    return None
                out += got
            return out or None
        if not isinstance(expr, cst.Name):
            return None
        referents = self.referents(expr)
        if not referents:
            return None
        out = []
        for ref in referents:
            node = getattr(ref, "node", None)
            parent = self.parents.get(node) if node is not None else None
            value = None
            if isinstance(parent, cst.AssignTarget) and parent.target is node:
                value = self.parents.get(parent).value
            elif isinstance(parent, cst.AnnAssign) and parent.target is node:
                value = parent.value
            elif isinstance(parent, cst.NamedExpr) and parent.target is node:
                value = parent.value
            elif isinstance(node, cst.Param):
                got = self.arguments(node, depth, resolve)
                if not got:
                    return None
                out += got
                continue
            if value is None:
                return None
            got = resolve(value, depth + 1)
            if not got:
                return None
            out += got
        return out or None

    def referents(self, name: cst.Name):
        scope = self.scopes.get(name)
        if scope is None:
            return None
        refs = set()
        for access in scope.accesses[name]:
            refs |= set(access.referents)
        return refs

    def function_of(self, name: cst.Name) -> cst.FunctionDef | None:
        refs = self.referents(name)
        if not refs or len(refs) != 1:
            return None
        node = getattr(next(iter(refs)), "node", None)
        if isinstance(node, cst.FunctionDef) and not isinstance(self.parents.get(self.parents.get(node)),
                                                                cst.ClassDef):
            return node
        return None

    def arguments(self, param: cst.Param, depth: int, resolve) -> list | None:
        """What the calls of a plain function of the file pass for ``param``."""
        params = self.parents.get(param)
        fn = self.parents.get(params)
        if not isinstance(fn, cst.FunctionDef) or isinstance(self.parents.get(self.parents.get(fn)),
                                                             cst.ClassDef):
            return None
        if param not in fn.params.params:
            return None
        index = list(fn.params.params).index(param)
        finder = _CallsOf(fn.name.value)
        self.ctx.module.visit(finder)
        out: list = []
        for call in finder.calls:
            if self.function_of(call.func) is not fn:
                continue
            arg = _argument(call, param.name.value, index)
            if arg is None:
                return None
            got = resolve(arg, depth + 1)
            if not got:
                return None
            out += got
        return out or None

    def guarded(self, node) -> bool:
        """Whether the read sits in a ``try`` that catches KeyError."""
        child, parent = node, self.parents.get(node)
        while parent is not None and not isinstance(parent, (cst.FunctionDef, cst.Module)):
            if isinstance(parent, cst.Try) and child is parent.body:
                for h in parent.handlers:
                    if h.type is None or any(_dotted(t) in ("KeyError", "LookupError", "Exception", "BaseException")
                                             for t in _types(h.type)):
                        return True
            child, parent = parent, self.parents.get(parent)
        return False

    def top(self, node):
        child, parent = node, self.parents.get(node)
        while parent is not None and not isinstance(parent, cst.Module):
            child, parent = parent, self.parents.get(parent)
        return child


# ---------------------------------------------------------------- what a fit logs


def _fit_keys(fit) -> _Keys | None:
    model = fit.model
    if not isinstance(model, ModelObj) or not model.compiles:
        return None
    if model.kind == "functional":
        if len(model.outputs) != 1:
            return None
    elif model.kind not in ("sequential", "application"):
        return None
    specs = [_compiled_metrics(c.site) for c in model.compiles]
    if any(s is None for s in specs):
        return None
    if len({tuple((m.key, m.auto) for m in s) for s in specs}) != 1:
        return None  # compiled differently along the way
    lr = _callbacks_log_lr(fit.callbacks)
    if lr is None:
        return None
    return _Keys(specs[-1], _validates(fit), lr)


def _compiled_metrics(site) -> list | None:
    if site is None or len(site.positional) > 2 or site.open_args:
        return None  # Keras 2 took metrics third; Keras 3 takes loss_weights there
    loss = site.arg("loss", 1)
    if loss is not ABSENT and (not isinstance(loss, Arg) or isinstance(loss.value, DictV) or (
            isinstance(loss.value, SeqV) and (loss.value.open or len(loss.value.items) > 1))):
        return None  # one loss per output, or unknown
    out: list = []
    for kw, prefix in (("metrics", ""), ("weighted_metrics", "weighted_")):
        arg = site.arg(kw)
        if arg is ABSENT:
            continue
        if not isinstance(arg, Arg):
            return None
        v = arg.value
        if isinstance(v, Const) and v.value is None:
            continue
        if not isinstance(v, SeqV) or v.open:
            return None
        for item in v.items:
            m = _metric(item, prefix)
            if m is None:
                return None
            out.append(m)
    names = [m.key or m.auto for m in out]
    if len(set(names)) != len(names):
        return None  # Keras numbers duplicates
    return out


def _metric(v, prefix: str) -> _Metric | None:
    if isinstance(v, Const) and isinstance(v.value, str):
        s = v.value
        if s.lower() in ("accuracy", "acc"):
            old = {"acc", s} if s == "accuracy" else {s}
        elif s in METRIC_STRINGS:
            old = {OLD_STRING_KEYS.get(s, s)}
        else:
            return None
        return _Metric(prefix + s, None, frozenset(prefix + o for o in old), repr(s))
    if isinstance(v, Obj) and v.qual.startswith("keras.metrics.") and v.site is not None:
        cls = v.qual.rsplit(".", 1)[1]
        entry = FIXED_NAMES.get(cls) or AUTO_NAMES.get(cls)
        if entry is None:
            return None
        name = v.site.arg("name", entry[1])
        spelled = f"{cls}(...)"
        if isinstance(name, Arg):
            if isinstance(name.value, Const) and isinstance(name.value.value, str):
                key = prefix + name.value.value
                return _Metric(key, None, frozenset((key,)), f"{cls}(name={name.value.value!r})")
            return None
        if name is not ABSENT:
            return None
        if cls in FIXED_NAMES:
            key = prefix + entry[0]
            return _Metric(key, None, frozenset((key,)), spelled)
        return _Metric(None, prefix + entry[0], frozenset(), spelled)
    if isinstance(v, Ref) and v.qual.rsplit(".", 1)[0] in ("keras.metrics", "keras.losses"):
        fn = v.qual.rsplit(".", 1)[1]
        if fn in METRIC_FUNCTIONS:
            return _Metric(prefix + fn, None, frozenset((prefix + fn,)), fn)
        return None
    if isinstance(v, FuncV) and v.cls is None:
        fn = v.node.name.value
        return _Metric(prefix + fn, None, frozenset((prefix + fn,)), fn)
    return None


def _callbacks_log_lr(cbs) -> bool | None:
    """Whether the fit's callbacks log the learning rate; None when a callback may log anything."""
    if cbs is None or (isinstance(cbs, Const) and cbs.value is None):
        return False
    if not isinstance(cbs, SeqV) or cbs.open:
        return None
    lr = False
    for cb in cbs.items:
        if isinstance(cb, Obj) and cb.qual in LR_CALLBACKS:
            lr = True
        elif isinstance(cb, Obj) and cb.qual in QUIET_CALLBACKS:
            continue
        elif isinstance(cb, UserObj) and not _writes_logs(cb.cls.node):
            continue
        else:
            return None
    return lr


def _validates(fit) -> bool | None:
    site = fit.site
    for name in ("validation_data", "validation_split"):
        a = site.keywords.get(name)
        if a is not None:
            if isinstance(a.value, Const) and a.value.value in (None, 0, 0.0):
                continue
            return None if not isinstance(a.value, Const) else True
    method = site.node.func.attr.value if isinstance(site.node.func, cst.Attribute) else "fit"
    if site.open_kwargs or site.open_args or len(site.positional) > (4 if method == "fit_generator" else 6):
        return None
    return False


def _passes(fit, cb) -> bool:
    return isinstance(fit.callbacks, SeqV) and any(c is cb for c in fit.callbacks.items)


class _WritesLogs(cst.CSTVisitor):
    def __init__(self):
        self.writes = False

    def visit_AssignTarget(self, node) -> None:
        if isinstance(node.target, cst.Subscript):
            self.writes = True

    def visit_Call(self, node) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("update", "setdefault", "__setitem__"):
            self.writes = True


def _writes_logs(cls_node: cst.ClassDef) -> bool:
    v = _WritesLogs()
    cls_node.visit(v)
    return v.writes


# ---------------------------------------------------------------- syntax helpers


class _Reads(cst.CSTVisitor):
    """``X[<string>]`` and ``X.get(<string>)`` (receiver, string), and the containers of ``in`` tests."""

    def __init__(self):
        self.found: list = []
        self.membership: list = []

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = node.slice[0].slice.value
            if isinstance(key, cst.SimpleString):
                self.found.append((key, node.value, ""))

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if (isinstance(f, cst.Attribute) and f.attr.value == "get" and len(node.args) == 1
                and node.args[0].keyword is None and not node.args[0].star
                and isinstance(node.args[0].value, cst.SimpleString)):
            self.found.append((node.args[0].value, f.value, ".get"))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)):
                c = target.comparator
                if isinstance(c, cst.Call) and isinstance(c.func, cst.Attribute) and c.func.attr.value == "keys":
                    c = c.func.value
                self.membership.append(c)


class _CallsOf(cst.CSTVisitor):
    def __init__(self, name: str):
        self.name = name
        self.calls: list = []

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == self.name:
            self.calls.append(node)


class _Returns(cst.CSTVisitor):
    def __init__(self, root):
        self.root = root
        self.found: list = []

    def visit_FunctionDef(self, node) -> bool:
        return node is self.root

    def visit_Lambda(self, node) -> bool:
        return False

    def visit_Return(self, node) -> None:
        self.found.append(node)


def _returns(fn: cst.FunctionDef) -> list:
    v = _Returns(fn)
    fn.visit(v)
    return v.found


def _argument(call: cst.Call, name: str, index: int):
    pos = 0
    for a in call.args:
        if a.star:
            return None
        if a.keyword is not None:
            if a.keyword.value == name:
                return a.value
            continue
        if pos == index:
            return a.value
        pos += 1
    return None


def _string(node) -> str | None:
    if not isinstance(node, cst.SimpleString) or "\\" in node.value:
        return None
    prefix = node.prefix.lower()
    if prefix not in ("", "r", "u"):
        return None
    try:
        v = node.evaluated_value
    except Exception:  # pragma: no cover
        return None
    return v if isinstance(v, str) else None


def _requote(node: cst.SimpleString, text: str) -> str:
    q = node.quote
    return f"{node.prefix}{q}{text}{q}"


def _types(node):
    if isinstance(node, cst.Tuple):
        return [e.value for e in node.elements]
    return [node]


def _dotted(node) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None
