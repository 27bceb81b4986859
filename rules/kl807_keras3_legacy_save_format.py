"""KL807 keras3-legacy-save-format."""
from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from klint.engine.rule import FixAvailability, Invalid, Option, Rule, Valid
from klint.engine.syntax import dotted, keras2_only, receiver_text, through_keras2, without
from klint.source.values import Const, ModelObj, UserObj

#: Where Keras 3 reads a model or weights file, by what the call saves or loads.
MODEL_CHECKPOINT = "keras.callbacks.ModelCheckpoint"
SAVE_MODEL_FUNCTIONS = frozenset(("keras.models.save_model", "keras.saving.save_model"))
LOAD_MODEL_FUNCTIONS = frozenset(("keras.models.load_model", "keras.saving.load_model"))
#: TensorFlow's readers of a SavedModel folder, with the position and name of their path argument.
SAVEDMODEL_READERS = {
    "tensorflow.saved_model.load": (0, "export_dir"),
    "tensorflow.saved_model.loader.load": (2, "export_dir"),
    "tensorflow.compat.v1.saved_model.load": (2, "export_dir"),
    "tensorflow.lite.TFLiteConverter.from_saved_model": (0, "saved_model_dir"),
    "tensorflow.compat.v1.lite.TFLiteConverter.from_saved_model": (0, "saved_model_dir"),
    "tensorflowjs.converters.convert_tf_saved_model": (0, "saved_model_dir"),
}
#: TensorFlow's finder of the newest TensorFlow checkpoint of a folder, which finds no `.weights.h5` file.
LATEST_CHECKPOINT = frozenset(("tensorflow.train.latest_checkpoint", "tensorflow.compat.v1.train.latest_checkpoint"))
PATH_JOINS = frozenset(("os.path.join", "posixpath.join", "ntpath.join"))
PATH_WRAPPERS = frozenset(("str", "builtins.str", "os.fspath", "pathlib.Path", "pathlib.PurePath",
                           "pathlib.PosixPath"))

KERAS_FILE = ".keras"
WEIGHTS_FILE = ".weights.h5"
HDF5 = (".h5", ".hdf5")
#: Keras 3.8 lets a ModelCheckpoint of the whole model end in ``.h5`` (keras-team/keras #20561).
CHECKPOINT_H5_SINCE = (3, 8)

#: Extensions of Keras 2 files that a fix replaces (any other text gets the new extension added).
OLD_MODEL_EXTENSIONS = (".h5", ".hdf5", ".tf", ".savedmodel")
OLD_WEIGHTS_EXTENSIONS = (".h5", ".hdf5", ".keras", ".tf", ".ckpt")

#: ``model.save()`` arguments of Keras 2's SavedModel format that Keras 3 rejects ("The following
#: argument(s) are not supported"), with their Keras 2 default, which a fix removes.
SAVEDMODEL_ARGUMENTS = {"signatures": None, "options": None, "save_traces": True}
#: Keras 2's ``save_weights(filepath, overwrite, save_format, options)``: Keras 3 takes neither of the last
#: two (TypeError).
WEIGHTS_ARGUMENTS = {"options": None}
#: Keyword arguments of Keras's ``save`` only: an unknown object saved with one is a Keras model.
KERAS_SAVE_KEYWORDS = frozenset(("save_format", "include_optimizer", "save_traces", "signatures"))

_HEAD = (
    "import os\n"
    "import tempfile\n"
    "import keras\n\n"
    "out = tempfile.mkdtemp()\n"
    "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation=\"softmax\")])\n"
)
_TRAINED = (
    "import os\n"
    "import tempfile\n"
    "import numpy as np\n"
    "import keras\n\n"
    "out = tempfile.mkdtemp()\n"
    "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation=\"softmax\")])\n"
    "model.compile(\"adam\", \"categorical_crossentropy\")\n"
    "model.fit(np.ones((2, 4)), np.eye(2), verbose=0)\n"
)


class Keras3LegacySaveFormat(Rule):
    """
    ## What it does
    Checks where Keras models and weights are saved for file names that
    Keras 3 rejects or reads as its legacy format:

    | Keras 1/2 | Keras 3 |
    | --- | --- |
    | `model.save("model")`, `model.save("m.tf")`, `save_format="tf"` (a SavedModel folder) | `model.save("model.keras")`, or `model.export("model")` for serving |
    | `model.save("m.h5")` (HDF5) | `model.save("m.keras")` |
    | `model.save_weights("w.h5")`, `model.save_weights("ckpt")` | `model.save_weights("w.weights.h5")` |
    | `ModelCheckpoint("w.{epoch:02d}.hdf5")` | `ModelCheckpoint("w.{epoch:02d}.keras")` |
    | `ModelCheckpoint("cp.ckpt", save_weights_only=True)` | `ModelCheckpoint("cp.weights.h5", save_weights_only=True)` |

    Calls of `save`, `save_weights` and `keras.models.save_model` on a
    Keras model (found through the code: a `Sequential`, a functional or
    subclassed model, a loaded model, `self` in a model's method,
    `self.model` in a callback), and every `keras.callbacks.ModelCheckpoint`,
    are checked. The path may be a string, an f-string, `"...".format()`,
    `%`, `+`, `os.path.join()` or a `pathlib` `/`, or a name set to one
    of these: what counts is the text it ends with, which the code shows
    (`os.path.join(out, "model.h5")` ends with `model.h5`; a path that ends
    with a value the code does not show is not checked). A `save_weights`
    on an object the code does not tell is checked in a file that uses
    Keras, a `save` only when it passes an argument only Keras takes
    (`save_format=`, `include_optimizer=`).

    ## Why is this bad
    Keras 3 saves a model to a `.keras` zip file and its weights to a
    `.weights.h5` file, and reads the format from the file name (Keras
    3.15.1, `keras/src/saving/saving_api.py`, `save_model` and
    `save_weights`, which `Model.save` and `Model.save_weights` in
    `keras/src/models/model.py` call):

    - `model.save("model")`, Keras 2's SavedModel folder, raises
      `ValueError: Invalid filepath extension for saving` (SavedModel is
      `model.export()` now), and so does `model.save(..., save_format="tf")`
      ("The `save_format` argument is deprecated in Keras 3"), or Keras 2's
      SavedModel arguments `signatures=`, `options=`, `save_traces=`
      ("The following argument(s) are not supported").
    - `model.save_weights("w.h5")` and Keras 2's TensorFlow checkpoint
      `model.save_weights("ckpt")` raise `ValueError: The filename must end
      in .weights.h5`; `save_weights(..., save_format="h5")` raises
      `TypeError` (unexpected keyword argument).
    - `ModelCheckpoint` checks its path when it is built
      (`keras/src/callbacks/model_checkpoint.py`), on the template as
      written: with `save_weights_only=True` it must end in `.weights.h5`,
      otherwise in `.keras` or `.h5` (`.h5` from Keras 3.8; Keras 3.0 to
      3.7 take `.keras` only), so `"weights.{epoch:02d}-{val_loss:.2f}.hdf5"`
      raises `ValueError: The filepath provided must end in .keras`.
    - `model.save("m.h5")` still works, with a warning ("This file format
      is considered legacy"), but the legacy HDF5 file does not come back
      whole: `keras.models.load_model` rebuilds the optimizer without its
      saved state ("Error in loading the saved optimizer state", logged),
      so a training resumed from it restarts Adam's moments, and in Keras
      3.15.1 the loaded model's `fit()` raises `ValueError: Unknown
      variable`; a model compiled with a loss alias such as `"mse"` does
      not load at all (`ValueError: Could not deserialize
      'keras.metrics.mse'`). The `.keras` file restores both. A
      `ModelCheckpoint` of the whole model to `.h5` writes the same file.

    The script stops where it saves, often after the whole training.

    ## Example
    ```python
    checkpoint = ModelCheckpoint("weights.{epoch:02d}-{val_loss:.2f}.hdf5")
    model.fit(x, y, callbacks=[checkpoint])
    model.save("my_model")
    model.save_weights("my_weights.h5")
    ```

    ## Use instead
    ```python
    checkpoint = ModelCheckpoint("weights.{epoch:02d}-{val_loss:.2f}.keras")
    model.fit(x, y, callbacks=[checkpoint])
    model.save("my_model.keras")
    model.save_weights("my_weights.weights.h5")
    ```

    ## Fix safety
    The file name gets the extension Keras 3 takes: Keras 2's extension
    (`.h5`, `.hdf5`, `.tf`; `.ckpt` for weights) is replaced, or the new one
    is added (`"model"` becomes `"model.keras"`, `"ckpt"` becomes
    `"ckpt.weights.h5"`), in the string, f-string or template that ends the
    path, where the path is written or where the name it is passed by is
    set. `save_format=` is removed, and Keras 2's SavedModel arguments when
    they are at their defaults (`signatures=None`, `options=None`,
    `save_traces=True`). The fix is unsafe: the file is another one, in
    another format (a `.keras` zip file where Keras 2 wrote a SavedModel
    folder or an HDF5 file), so whatever reads the old path breaks. Loads
    of the same path in the file (`keras.models.load_model`,
    `load_weights`) are renamed with it; the fix is not offered when the
    same string is used elsewhere in the file, when two saves need
    different names for one string, or, for weights, when the file finds
    its checkpoint with `tf.train.latest_checkpoint` (which finds no
    `.weights.h5` file).

    When the file reads the saved folder as a SavedModel
    (`tf.saved_model.load`, `TFLiteConverter.from_saved_model`),
    `model.save(path)` becomes `model.export(path)`, which writes the
    SavedModel for serving under the same path (without the optimizer, so
    `keras.models.load_model` cannot read it). Removing an argument Keras
    3 rejects from a save whose path is right is safe.

    No fix is offered when the path does not end in a string of the file,
    or for a `ModelCheckpoint` whose `save_weights_only` the code does not
    tell. `model.save(path, zipped=False)` (an unzipped Keras 3 folder)
    and `hf://` paths are not checked.

    ## Options
    `legacy-hdf5` (default `true`): report whole models saved to `.h5` or
    `.hdf5` (`model.save`, and a `ModelCheckpoint` of the whole model from
    Keras 3.8), which Keras 3 still writes in its legacy format; `false`
    reports only the saves that raise.
    """

    code = "KL807"
    name = "keras3-legacy-save-format"
    summary = "Model or weights saved to a file name that Keras 3 rejects or reads as legacy HDF5"
    views = ("source",)
    fix = FixAvailability.SOMETIMES
    options = {"legacy-hdf5": Option(bool, True, "report whole models saved to HDF5 (.h5, .hdf5)")}

    VALID = [
        Valid(_HEAD + "model.save(os.path.join(out, \"model.keras\"))\n"
              "model.save_weights(os.path.join(out, \"model.weights.h5\"))\n"
              "model.export(os.path.join(out, \"serving\"))\n"
              "best = keras.callbacks.ModelCheckpoint(os.path.join(out, \"best.keras\"), save_best_only=True)\n"
              "snap = keras.callbacks.ModelCheckpoint(out + \"/w.{epoch:02d}.weights.h5\", save_weights_only=True)\n",
              "the Keras 3 spellings"),
        Valid("import keras\n\n"
              "def save(model, path):\n    model.save(path)\n    model.save_weights(path + suffix)\n",
              "paths the code does not show"),
        Valid(_HEAD + "model.save(os.path.join(out, \"folder\"), zipped=False)\n", "an unzipped Keras 3 folder"),
        Valid("import keras\nfrom PIL import Image\n\n"
              "img = Image.new(\"RGB\", (2, 2))\nimg.save(\"preview\")\n", "not a Keras model"),
        Valid("import keras\n\n"
              "class Store:\n    def save(self, path):\n        pass\n\n"
              "    def save_weights(self, path):\n        pass\n\n"
              "store = Store()\nstore.save(\"db\")\nstore.save_weights(\"w.h5\")\n", "a class of the file"),
        Valid("import keras\n\n"
              "def export(obj):\n    obj.save(\"snapshot\")\n", "`save()` of an object the code does not tell"),
        Valid("import tf_keras\n\n"
              "model = tf_keras.Sequential([tf_keras.layers.Dense(2)])\nmodel.save(\"saved_model\")\n",
              "Keras 2 itself (tf_keras)"),
        Valid("import keras\n\nmodel = keras.models.load_model(\"pretrained.h5\")\n"
              "model.load_weights(\"extra.h5\")\n", "reading legacy files, which Keras 3 does"),
    ]

    INVALID = [
        Invalid(
            _HEAD + "model.save(os.path.join(out, \"my_model\"))\n",
            _HEAD + "model.save(os.path.join(out, \"my_model.keras\"))\n",
            lines=(7,), note="unsafe: a .keras file, not a SavedModel folder", raises="ValueError"),
        Invalid(
            _HEAD + "model.save(os.path.join(out, \"my_model\"), save_format=\"tf\")\n",
            _HEAD + "model.save(os.path.join(out, \"my_model.keras\"))\n",
            note="save_format= goes too", raises="ValueError"),
        Invalid(
            _HEAD + "model.compile(\"adam\", \"mse\")\n"
            "path = os.path.join(out, \"model.h5\")\nmodel.save(path)\nrestored = keras.models.load_model(path)\n",
            _HEAD + "model.compile(\"adam\", \"mse\")\n"
            "path = os.path.join(out, \"model.keras\")\nmodel.save(path)\nrestored = keras.models.load_model(path)\n",
            lines=(9,), note="legacy HDF5: a loss alias does not load back", raises="ValueError"),
        Invalid(
            _TRAINED + "model.save(f\"{out}/model.h5\")\nrestored = keras.models.load_model(f\"{out}/model.h5\")\n",
            _TRAINED + "model.save(f\"{out}/model.keras\")\n"
            "restored = keras.models.load_model(f\"{out}/model.keras\")\n",
            note="legacy HDF5: the optimizer's state is lost; the load is renamed with the save",
            silent="len(restored.optimizer.variables) < len(model.optimizer.variables)"),
        Invalid(
            _HEAD + "model.save_weights(os.path.join(out, \"w.h5\"))\n"
            "model.load_weights(os.path.join(out, \"w.h5\"))\n",
            _HEAD + "model.save_weights(os.path.join(out, \"w.weights.h5\"))\n"
            "model.load_weights(os.path.join(out, \"w.weights.h5\"))\n",
            lines=(7,), raises="ValueError"),
        Invalid(
            _HEAD + "ckpt = os.path.join(out, \"ckpt\")\nmodel.save_weights(ckpt, save_format=\"tf\")\n",
            _HEAD + "ckpt = os.path.join(out, \"ckpt.weights.h5\")\nmodel.save_weights(ckpt)\n",
            note="Keras 2's TensorFlow checkpoint", raises="TypeError"),
        Invalid(
            _HEAD + "model.save_weights(os.path.join(out, \"w.weights.h5\"), save_format=\"h5\")\n",
            _HEAD + "model.save_weights(os.path.join(out, \"w.weights.h5\"))\n",
            note="safe: only the argument Keras 3 rejects goes", raises="TypeError"),
        Invalid(
            _HEAD + "best = keras.callbacks.ModelCheckpoint(\"weights.{epoch:02d}-{val_loss:.2f}.hdf5\", "
            "save_best_only=True)\n",
            _HEAD + "best = keras.callbacks.ModelCheckpoint(\"weights.{epoch:02d}-{val_loss:.2f}.keras\", "
            "save_best_only=True)\n",
            note="the template is checked as written", raises="ValueError"),
        Invalid(
            _HEAD + "from keras.callbacks import ModelCheckpoint\n\n"
            "snap = ModelCheckpoint(f\"{out}/cp-{{epoch:04d}}.ckpt\", save_weights_only=True)\n",
            _HEAD + "from keras.callbacks import ModelCheckpoint\n\n"
            "snap = ModelCheckpoint(f\"{out}/cp-{{epoch:04d}}.weights.h5\", save_weights_only=True)\n",
            note="an f-string", raises="ValueError"),
        Invalid(
            _HEAD + "best = keras.callbacks.ModelCheckpoint(os.path.join(out, \"best.h5\"), save_best_only=True)\n",
            _HEAD + "best = keras.callbacks.ModelCheckpoint(os.path.join(out, \"best.keras\"), save_best_only=True)\n",
            note="Keras 3.0 to 3.7 take only .keras", target="3.7"),
        Invalid(
            _HEAD + "weights_only = bool(os.environ.get(\"WEIGHTS_ONLY\"))\n"
            "best = keras.callbacks.ModelCheckpoint(os.path.join(out, \"best.hdf5\"),\n"
            "                                       save_weights_only=weights_only)\n",
            None, note="wrong for both settings; which extension is right, the code does not tell",
            raises="ValueError"),
        Invalid(
            _HEAD + "model.save_weights(os.path.join(out, \"w.h5\"))\n"
            "print(os.path.exists(os.path.join(out, \"w.h5\")))\n",
            None, note="the same string is used elsewhere", raises="ValueError"),
        Invalid(
            _TRAINED + "class Snapshot(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        self.model.save_weights(os.path.join(out, \"snap_%d.h5\" % epoch))\n\n"
            "model.fit(np.ones((2, 4)), np.eye(2), verbose=0, callbacks=[Snapshot()])\n",
            _TRAINED + "class Snapshot(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        self.model.save_weights(os.path.join(out, \"snap_%d.weights.h5\" % epoch))\n\n"
            "model.fit(np.ones((2, 4)), np.eye(2), verbose=0, callbacks=[Snapshot()])\n",
            note="the model of a callback; a % template", raises="ValueError"),
        Invalid(
            _HEAD + "import tensorflow as tf\n\n"
            "model.save(os.path.join(out, \"serving\"))\n"
            "served = tf.saved_model.load(os.path.join(out, \"serving\"))\n",
            _HEAD + "import tensorflow as tf\n\n"
            "model.export(os.path.join(out, \"serving\"))\n"
            "served = tf.saved_model.load(os.path.join(out, \"serving\"))\n",
            note="read back as a SavedModel: exported", raises="ValueError"),
        Invalid(
            _HEAD + "model.save(os.path.join(out, \"m.keras\"), signatures=None, options=None)\n",
            _HEAD + "model.save(os.path.join(out, \"m.keras\"))\n",
            note="SavedModel arguments at their defaults: removed (safe)", raises="ValueError"),
    ]

    # ------------------------------------------------------------ checking

    def check(self, ctx) -> None:
        a = ctx.analysis
        if not a.roots or keras2_only(a):
            return
        scan = _Scan()
        ctx.module.visit(scan)
        if not scan.calls:
            return
        quals = {id(node): qual for node, qual, _ in a.calls}
        receivers: dict[int, list] = {}
        sites: dict[int, list] = {}
        for site, obj, name in a.method_calls:
            if name in ("save", "save_weights", "load_weights") and site.node is not None:
                receivers.setdefault(id(site.node), []).append(obj)
                sites.setdefault(id(site.node), []).append(site)
        unresolved = {id(node) for node, name in a.unresolved_calls if name in ("save", "save_weights", "load_weights")}
        callbacks: dict[int, list] = {}
        for cb in a.callbacks:
            if getattr(cb, "qual", None) == MODEL_CHECKPOINT and cb.site is not None:
                callbacks.setdefault(id(cb.site.node), []).append(cb.site)
        callback_classes = {id(c.node) for c in a.classes if c.derives("keras.callbacks.Callback")}
        model_classes = {id(c.node) for c in a.classes if c.derives("keras.Model", "keras.Sequential")}
        paths = _Paths(ctx, scan, quals)

        saves: list[_Save] = []
        loads: list[tuple[str, _Path | None]] = []  # (kind, path)
        latest_checkpoint = False
        for call, top, cls in scan.calls:
            qual = quals.get(id(call))
            method = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
            if qual in LATEST_CHECKPOINT:
                latest_checkpoint = True
            if qual in LOAD_MODEL_FUNCTIONS:
                loads.append(("model", paths.of(_arg(call, 0, "filepath"), (), call)))
            elif qual in SAVEDMODEL_READERS:
                pos, kw = SAVEDMODEL_READERS[qual]
                loads.append(("savedmodel", paths.of(_arg(call, pos, kw), (), call)))
            elif qual in SAVE_MODEL_FUNCTIONS:
                saves.append(_Save("model", call, top, _arg(call, 1, "filepath"), [], True, function=True))
            elif qual == MODEL_CHECKPOINT:
                saves.append(_Save("checkpoint", call, top, _arg(call, 0, "filepath"), callbacks.get(id(call), []),
                                   True))
            elif method in ("save", "save_weights", "load_weights"):
                known = self.receiver(a, call, method, receivers.get(id(call)), id(call) in unresolved,
                                      cls is not None and id(cls) in callback_classes,
                                      cls is not None and id(cls) in model_classes)
                if known is None:
                    continue
                if method == "load_weights":
                    loads.append(("weights", paths.of(_arg(call, 0, "filepath"), sites.get(id(call), []), call)))
                    continue
                keywords = {a_.keyword.value for a_ in call.args if a_.keyword is not None}
                if method == "save" and not known and not keywords & KERAS_SAVE_KEYWORDS:
                    continue
                kind = "model" if method == "save" else "weights"
                saves.append(_Save(kind, call, top, _arg(call, 0, "filepath"), sites.get(id(call), []), known))

        plans = []
        for save in saves:
            plan = self.judge(ctx, paths, save, loads, latest_checkpoint)
            if plan is not None:
                plans.append(plan)
        # one string renamed two ways (a `model` save and a weights save of one name): no fix for either
        wanted: dict[int, set] = {}
        for plan in plans:
            for node, new in plan.renames.items():
                wanted.setdefault(id(node), set()).add(_text(ctx, new))
        for plan in plans:
            fix = None
            if plan.fixable and any(len(wanted[id(n)]) > 1 for n in plan.renames):
                plan.message += "; no fix: another save needs another name for the same string"
            elif plan.fixable:
                fix = ctx.fix(plan.fix_message, self.edits(ctx, plan), safe=plan.safe)
            ctx.report(plan.at, plan.message, fix)

    @staticmethod
    def receiver(a, call: cst.Call, method: str, objs, unresolved: bool, in_callback: bool, in_model: bool):
        """True when the receiver is a Keras model, False when the code does not tell, None when it is not one."""
        if objs:
            models = []
            for obj in objs:
                model = obj
                if isinstance(obj, UserObj):
                    if obj.cls.find_method(method) is not None:
                        return None
                    model = obj.model
                if not isinstance(model, ModelObj):
                    continue
                if model.cls is not None and model.cls.find_method(method) is not None:
                    return None
                if model.site is not None and through_keras2(a, model.site.node):
                    return None
                models.append(model)
            return True if models else None
        if not unresolved:
            return None
        recv = call.func.value
        if in_callback and isinstance(recv, cst.Attribute) and recv.attr.value == "model" \
                and isinstance(recv.value, cst.Name) and recv.value.value == "self":
            return True  # ``self.model`` of a Keras callback
        if in_model and isinstance(recv, cst.Name) and recv.value == "self":
            return True  # a model's own method
        return False

    # ------------------------------------------------------------ judging one save

    def judge(self, ctx, paths, save: "_Save", loads: list, latest_checkpoint: bool):
        call = save.call
        if any(a.star for a in call.args):
            return None
        keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
        if save.kind == "model" and "zipped" in keywords:
            return None
        if save.kind == "weights" and "max_shard_size" in keywords:
            return None
        path = paths.of(save.arg, save.sites, call)
        receiver = _receiver_text(ctx, call, save)
        if path is not None and path.complete and path.tail.startswith("hf://"):
            return None
        if save.kind == "model":
            return self.model_save(ctx, paths, save, path, keywords, loads, receiver)
        if save.kind == "weights":
            return self.weights_save(ctx, paths, save, path, keywords, loads, receiver, latest_checkpoint)
        return self.checkpoint(ctx, paths, save, path, loads, latest_checkpoint)

    def model_save(self, ctx, paths, save, path, keywords, loads, receiver):
        call = save.call
        what = f"`{receiver}.save()`" if not save.function else "`save_model()`"
        unknown_model = "" if save.known else f" (if `{receiver}` is a Keras model)"
        ends = _ends(path, (KERAS_FILE,) + HDF5)
        drop, blocked = [], []
        fmt = keywords.get("save_format")
        for name, default in SAVEDMODEL_ARGUMENTS.items():
            if name in keywords:
                (drop if _is_literal(keywords[name].value, default) else blocked).append(name)
        legacy = path is not None and path.tail.lower().endswith(HDF5)
        if ends is True and not legacy:
            if not drop and not blocked:
                return None  # a .keras path (save_format= is only deprecated there: Keras 3 warns)
            plan = _Plan((keywords[(drop + blocked)[0]].keyword, save.top),
                         f"{what}: Keras 3 rejects Keras 2's SavedModel argument(s) "
                         f"`{'`, `'.join(drop + blocked)}` (ValueError: not supported)")
            plan.call, plan.drop = call, drop + (["save_format"] if fmt is not None else [])
            if blocked:
                plan.message += ": `model.export()` writes a SavedModel"
                return plan
            plan.fixable, plan.safe = True, True
            plan.fix_message = f"Remove `{'`, `'.join(drop)}`"
            return plan
        at = (save.expr, save.top) if save.expr is not None else (call, save.top)
        if ends is None:
            if fmt is None or not (isinstance(fmt.value, cst.SimpleString) and fmt.value.evaluated_value == "tf"):
                return None  # the code does not show how the path ends: it may be right
            return _Plan(at, f"{what} with `save_format=\"tf\"` (a SavedModel folder) raises ValueError in Keras 3 "
                             f"unless the path ends in `.keras` or `.h5`, which the code does not show: save a "
                             f"`.keras` file, or use `model.export()` for a SavedModel{unknown_model}")
        hdf5 = legacy or fmt is not None and isinstance(fmt.value, cst.SimpleString) and \
            fmt.value.evaluated_value in ("h5", "hdf5")
        if legacy:
            if not ctx.options.get("legacy-hdf5", True):
                return None
            message = (f"{what} writes Keras 3's legacy HDF5 format (`{_last(path)}`): `load_model` of it loses "
                       f"the optimizer's state (resuming training fails in Keras 3.15: ValueError) and cannot "
                       f"read losses given by alias such as \"mse\"; save a `.keras` file{unknown_model}")
        else:
            wrote = "HDF5" if hdf5 else "a SavedModel folder"
            message = (f"{what} raises ValueError in Keras 3 (\"Invalid filepath extension for saving\"): Keras 2 "
                       f"wrote {wrote} here (`{_last(path)}`); Keras 3 saves a `.keras` file, and "
                       f"`model.export()` writes a SavedModel{unknown_model}")
        plan = _Plan(at, message)
        plan.call = call
        plan.drop = drop + (["save_format"] if fmt is not None else [])
        if blocked:
            plan.message += f"; `{'`, `'.join(blocked)}` belong to the SavedModel: no fix"
            return plan
        # the intent: a SavedModel read back by TensorFlow, or a Keras model
        readers = [p for kind, p in loads if kind == "savedmodel" and _same(path, p)]
        keras_loads = [p for kind, p in loads if kind in ("model", "weights") and _same(path, p)]
        if readers and not legacy:
            if keras_loads:
                plan.message += "; the file reads the folder both as a SavedModel and with Keras: no fix"
                return plan
            if save.function or any(a.keyword is None and i > 0 or a.keyword is not None and a.keyword.value not in (
                    "filepath", "save_format") for i, a in enumerate(call.args)):
                plan.message += "; the file reads the folder as a SavedModel, which `model.export(path)` writes: no fix"
                return plan
            plan.export = True
            plan.fixable, plan.safe = True, False
            plan.fix_message = ("Use `model.export()` (unsafe: an inference-only SavedModel, which "
                                "`keras.models.load_model` cannot read)")
            return plan
        return self.rename(ctx, paths, plan, path, KERAS_FILE, OLD_MODEL_EXTENSIONS, keras_loads,
                           "a `.keras` zip file, not " + ("an HDF5 file" if hdf5 else "a SavedModel folder"))

    def weights_save(self, ctx, paths, save, path, keywords, loads, receiver, latest_checkpoint):
        call = save.call
        what = f"`{receiver}.save_weights()`"
        ends = _ends(path, (WEIGHTS_FILE,))
        drop = [n for n in ("save_format",) if n in keywords]
        blocked = []
        for name, default in WEIGHTS_ARGUMENTS.items():
            if name in keywords:
                (drop if _is_literal(keywords[name].value, default) else blocked).append(name)
        if len(call.args) > 2 and call.args[2].keyword is None:
            return None  # Keras 2's positional save_format: rare, and not rewritten
        unknown_model = "" if save.known else f" (if `{receiver}` is a Keras model)"
        if ends is not False:
            if not drop and not blocked:
                return None
            name = (drop + blocked)[0]
            plan = _Plan((keywords[name].keyword, save.top),
                         f"{what}: Keras 3 takes no `{'`, `'.join(drop + blocked)}` (TypeError: unexpected keyword "
                         f"argument); the format is the file name's{unknown_model}")
            plan.call, plan.drop = call, drop
            if blocked:
                return plan
            plan.fixable, plan.safe = True, save.known
            plan.fix_message = f"Remove `{'`, `'.join(drop)}`"
            return plan
        message = (f"{what} raises ValueError in Keras 3: the file name must end in `.weights.h5` "
                   f"(`{_last(path)}`: Keras 2 wrote "
                   f"{'HDF5' if path.tail.lower().endswith(HDF5) else 'a TensorFlow checkpoint'} here){unknown_model}")
        if drop:
            message += f"; `{'`, `'.join(drop)}` is rejected too (TypeError)"
        plan = _Plan((save.expr, save.top), message)
        plan.call, plan.drop = call, drop
        if blocked:
            plan.message += f"; `{'`, `'.join(blocked)}` belongs to TensorFlow's checkpoint: no fix"
            return plan
        if latest_checkpoint and not path.tail.lower().endswith(HDF5):
            plan.message += "; the file finds its checkpoints with `tf.train.latest_checkpoint`, which finds no " \
                            "`.weights.h5` file: no fix"
            return plan
        keras_loads = [p for kind, p in loads if kind == "weights" and _same(path, p)]
        return self.rename(ctx, paths, plan, path, WEIGHTS_FILE, OLD_WEIGHTS_EXTENSIONS, keras_loads,
                           "a Keras 3 weights file")

    def checkpoint(self, ctx, paths, save, path, loads, latest_checkpoint):
        call = save.call
        if path is None or save.expr is None:
            return None
        site = save.site
        only = _arg(call, 4, "save_weights_only")
        if only is None:
            weights = False
        else:
            value = site.value("save_weights_only", 4) if site is not None else None
            weights = value.value if isinstance(value, Const) and isinstance(value.value, bool) else None
            if weights is None and isinstance(only.value, cst.Name) and only.value.value in ("True", "False"):
                weights = only.value.value == "True"
        old_target = ctx.target.keras < CHECKPOINT_H5_SINCE
        full_ok = (KERAS_FILE,) if old_target else (KERAS_FILE, ".h5")
        ends_weights = _ends(path, (WEIGHTS_FILE,))
        ends_full = _ends(path, full_ok)
        legacy = not old_target and path.tail.lower().endswith(".h5") and not path.tail.endswith(WEIGHTS_FILE)
        at = (save.expr, save.top)
        if weights is None:
            if ends_weights is False and ends_full is False:
                return _Plan(at, f"`ModelCheckpoint({_quoted(path)})` raises ValueError in Keras 3 when it is built: "
                                 f"the path must end in `.weights.h5` with `save_weights_only=True`, else in "
                                 f"`{'` or `'.join(full_ok)}`; the code does not tell which this is: no fix")
            return None
        if weights:
            if ends_weights is not False:
                return None
            plan = _Plan(at, f"`ModelCheckpoint({_quoted(path)}, save_weights_only=True)` raises ValueError in "
                             f"Keras 3 when it is built: the path must end in `.weights.h5`")
            if latest_checkpoint:
                plan.message += "; the file finds its checkpoints with `tf.train.latest_checkpoint`, which finds " \
                                "no `.weights.h5` file: no fix"
                return plan
            keras_loads = [p for kind, p in loads if kind == "weights" and _same(path, p)]
            return self.rename(ctx, paths, plan, path, WEIGHTS_FILE, OLD_WEIGHTS_EXTENSIONS, keras_loads,
                               "a Keras 3 weights file")
        if ends_full is True and not legacy:
            return None
        if legacy:
            if not ctx.options.get("legacy-hdf5", True):
                return None
            plan = _Plan(at, f"`ModelCheckpoint({_quoted(path)})` saves the whole model in Keras 3's legacy HDF5 "
                             f"format: `load_model` of it loses the optimizer's state (resuming training fails in "
                             f"Keras 3.15: ValueError); save `.keras` files")
        elif ends_full is False:
            since = (" (`.h5` from Keras 3.8; this project targets "
                     f"{ctx.target.describe()})") if old_target and path.tail.lower().endswith(".h5") else ""
            plan = _Plan(at, f"`ModelCheckpoint({_quoted(path)})` raises ValueError in Keras 3 when it is built: "
                             f"a checkpoint of the whole model must end in `{'` or `'.join(full_ok)}`{since}")
        else:
            return None
        keras_loads = [p for kind, p in loads if kind in ("model", "weights") and _same(path, p)]
        return self.rename(ctx, paths, plan, path, KERAS_FILE, OLD_MODEL_EXTENSIONS, keras_loads,
                           "a `.keras` zip file")

    def rename(self, ctx, paths, plan: "_Plan", path, ext: str, old: tuple, keras_loads: list, what: str):
        """The plan, with the renames that give the path (and its loads in the file) the extension ``ext``."""
        if path is not None and path.param:
            plan.message += f"; the path comes from the parameter `{path.param}`, which other calls may set: no fix"
            return plan
        if path is None or path.lit is None:
            plan.message += "; the file name is not written in a string here: no fix"
            return plan
        new = _renamed(path.tail, ext, old, path.complete)
        if new is None:
            plan.message += "; the path names a folder: no fix"
            return plan
        suffix_old, suffix_new = new
        node = _with_suffix(path.lit, suffix_old, suffix_new)
        if node is None:
            plan.message += "; the string cannot be rewritten: no fix"
            return plan
        renames = {path.lit: node}
        for load in keras_loads:
            if load.lit is path.lit:
                continue
            other = _with_suffix(load.lit, suffix_old, suffix_new) if load.lit is not None else None
            if other is None:
                plan.message += "; a load of the same path cannot be renamed with it: no fix"
                return plan
            renames[load.lit] = other
        # the same string used where the fix cannot follow it
        for lit in list(renames):
            elsewhere = [n for n in paths.scan.strings.get(_key(ctx, lit), ()) if all(n is not r for r in renames)]
            if elsewhere:
                line = ctx.line((elsewhere[0], paths.scan.tops[id(elsewhere[0])]))
                plan.message += f"; `{ctx.code(lit)}` is also used on line {line}: no fix"
                return plan
        plan.renames = renames
        plan.scan_tops = paths.scan.tops
        plan.fixable, plan.safe = True, False
        shown = _last_of(_value(node))
        loaded = " and its loads here" if len(renames) > 1 else ""
        plan.fix_message = (f"Save to `{shown}`{loaded} (unsafe: {what}, under another name: whatever reads the "
                            f"old path breaks)")
        return plan

    # ------------------------------------------------------------ edits

    def edits(self, ctx, plan: "_Plan") -> list:
        call = plan.call
        inside = [n for n in plan.renames if call is not None and _contains(call, n)]
        edits = []
        for node, new in plan.renames.items():
            if any(node is n for n in inside) and (plan.drop or plan.export):
                continue
            edits.append(ctx.replace((node, plan.tops(node)), new if isinstance(new, str) else new))
        if call is not None and (plan.drop or plan.export):
            new_call = call
            for node in inside:
                new_call = new_call.deep_replace(node, plan.renames[node])
            for name in plan.drop:
                new_call = without(new_call, name=name)
            if plan.export:
                new_call = new_call.with_changes(func=new_call.func.with_changes(attr=cst.Name("export")))
            edits.append(ctx.replace((call, plan.top), new_call))
        return edits


# ------------------------------------------------------------------ records


@dataclass(eq=False)
class _Save:
    kind: str  # "model", "weights" or "checkpoint"
    call: cst.Call
    top: cst.CSTNode
    arg: cst.Arg | None
    sites: list  # the runs of the call the source view followed
    known: bool  # the receiver is a Keras model (False: the code does not tell)
    function: bool = False  # ``save_model(model, path)``

    @property
    def expr(self):
        return self.arg.value if self.arg is not None else None

    @property
    def site(self):
        return self.sites[0] if self.sites else None


@dataclass(eq=False)
class _Path:
    """What the code shows of a path: the text it ends with, and the string that ends it."""

    tail: str  # the end of the path's value
    complete: bool  # the tail is the whole value
    lit: cst.CSTNode | None  # the string (SimpleString or FormattedString) whose end is the tail
    expr: cst.CSTNode | None = None  # the expression in the call
    code: str = ""  # its source, to match the same expression written twice
    param: str = ""  # the parameter of the function it comes through


@dataclass(eq=False)
class _Plan:
    at: tuple
    message: str
    fixable: bool = False
    safe: bool = False
    fix_message: str = ""
    call: cst.Call | None = None
    drop: list = field(default_factory=list)
    export: bool = False
    renames: dict = field(default_factory=dict)  # string node -> its replacement node
    scan_tops: dict = field(default_factory=dict)

    @property
    def top(self):
        return self.at[1]

    def tops(self, node):
        return self.scan_tops.get(id(node), self.at[1])


# ------------------------------------------------------------------ paths


class _Paths:
    """Resolves the path argument of a call to the text it ends with."""

    def __init__(self, ctx, scan: "_Scan", quals: dict):
        self.ctx = ctx
        self.scan = scan
        self.quals = quals

    def of(self, arg: cst.Arg | None, sites=(), call: cst.Call | None = None) -> _Path | None:
        """The path ``arg`` gives, as the runs of its call (``sites``) and the code show it."""
        if arg is None:
            return None
        hints = []
        for site in sites or ():
            got = site.keywords.get(arg.keyword.value) if arg.keyword is not None else next(
                (p for p in site.positional if p.node is arg.value), None)
            hints.append(got.value if got is not None else None)
        hint = hints[0] if hints else None
        if len({id(h.node) if isinstance(h, Const) else None for h in hints}) > 1:
            hint = None  # runs of the call with different paths
        params = self.scan.functions.get(id(call), ()) if call is not None else ()
        if isinstance(arg.value, cst.Name) and arg.value.value in params:
            # a parameter: the path is the one a call of the function gives, and other calls may give others
            if not isinstance(hint, Const) or hint.node is None or id(hint.node) not in self.scan.tops:
                return None
            path = self.resolve(hint.node, 1)
            if path is not None:
                path.lit, path.param = None, arg.value.value
        else:
            path = self.resolve(arg.value, 0, hint)
        if path is not None:
            path.expr = arg.value
            path.code = self.ctx.code(arg.value)
        return path

    def resolve(self, node, depth: int, hint=None) -> _Path | None:
        if depth > 6 or node is None:
            return None
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            return _Path(value, True, node) if isinstance(value, str) else None
        if isinstance(node, cst.FormattedString):
            parts = list(node.parts)
            if not parts:
                return _Path("", True, node)
            last = parts[-1]
            if not isinstance(last, cst.FormattedStringText):
                return _Path("", False, None)
            complete = all(isinstance(p, cst.FormattedStringText) for p in parts)
            return _Path(_unescape_braces(last.value), complete, node)
        if isinstance(node, cst.ConcatenatedString):
            return self.joined(self.resolve(node.left, depth + 1), self.resolve(node.right, depth + 1))
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.Add):
                return self.joined(self.resolve(node.left, depth + 1), self.resolve(node.right, depth + 1))
            if isinstance(node.operator, cst.Modulo) and isinstance(node.left, cst.SimpleString):
                value = node.left.evaluated_value
                return _Path(_percent_tail(value), False, node.left) if isinstance(value, str) else None
            if isinstance(node.operator, cst.Divide):
                right = self.resolve(node.right, depth + 1)
                return _Path(right.tail, False, right.lit) if right is not None else None
            return None
        if isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "format" and isinstance(func.value,
                                                                                             cst.SimpleString):
                value = func.value.evaluated_value
                return _Path(_format_tail(value), False, func.value) if isinstance(value, str) else None
            qual = self.quals.get(id(node)) or dotted(func)
            args = [a for a in node.args if a.keyword is None]
            if any(a.star for a in node.args):
                return None
            if qual in PATH_JOINS and args:
                last = self.resolve(args[-1].value, depth + 1)
                return _Path(last.tail, False, last.lit) if last is not None else None
            if (qual in PATH_WRAPPERS or qual in ("Path", "fspath")) and len(args) == 1 and len(node.args) == 1:
                return self.resolve(args[0].value, depth + 1)
            return None
        if isinstance(node, cst.Name):
            if isinstance(hint, Const) and isinstance(hint.value, str) and hint.node is not None \
                    and hint.node is not node and id(hint.node) in self.scan.tops:
                return self.resolve(hint.node, depth + 1)
            values = self.scan.assigned.get(node.value, ())
            if len(values) == 1 and node.value not in self.scan.rebound:
                return self.resolve(values[0], depth + 1)
            return None
        return None

    @staticmethod
    def joined(left: _Path | None, right: _Path | None) -> _Path | None:
        if right is None:
            return None
        if not right.complete or left is None:
            return _Path(right.tail, False, right.lit)
        return _Path(left.tail + right.tail, left.complete, right.lit)


def _unescape_braces(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def _format_tail(template: str) -> str:
    """The literal text after the last replacement field of a ``str.format`` template."""
    i, end, n = 0, 0, len(template)
    while i < n:
        c = template[i]
        if c in "{}" and i + 1 < n and template[i + 1] == c:
            i += 2
            continue
        if c == "{":
            depth = 1
            i += 1
            while i < n and depth:
                depth += {"{": 1, "}": -1}.get(template[i], 0)
                i += 1
            end = i
            continue
        i += 1
    return _unescape_braces(template[end:])


def _percent_tail(template: str) -> str:
    """The literal text after the last conversion of a ``%`` template."""
    i, end, n = 0, 0, len(template)
    while i < n:
        if template[i] == "%":
            if i + 1 < n and template[i + 1] == "%":
                i += 2
                continue
            j = i + 1
            if j < n and template[j] == "(":
                j = template.find(")", j) + 1 or n
            while j < n and template[j] in "#0- +*.0123456789hlL":
                j += 1
            end = i = min(j + 1, n)
            continue
        i += 1
    return template[end:].replace("%%", "%")


def _ends(path: _Path | None, suffixes: tuple) -> bool | None:
    """Whether the path's value ends with one of ``suffixes``; None when the code does not show."""
    if path is None:
        return None
    tail = path.tail
    if tail.endswith(suffixes):
        return True
    if path.complete:
        return False
    if not tail:
        return None
    if any(s.endswith(tail) for s in suffixes):
        # ``f"{name}.h5"``: the stem is the unknown part, and a stem that ends in ``.weights`` is rare
        return False if tail.startswith(".") else None
    return False


def _renamed(tail: str, ext: str, old: tuple, complete: bool = True) -> tuple[str, str] | None:
    """(the end of ``tail`` to replace, its replacement) that gives the file name the extension ``ext``;
    ``complete``: the tail is the whole path (else the name's stem may come before it: ``f"{name}.h5"``)."""
    name = tail.replace("\\", "/").rsplit("/", 1)[-1]
    if not name:
        return None  # a folder: "models/"
    if ext == WEIGHTS_FILE and name.lower().endswith(".weights"):
        return "", ".h5"
    for o in old:
        if name.lower().endswith(o) and (len(name) > len(o) or not complete):
            return tail[len(tail) - len(o):], ext
    return "", ext


def _with_suffix(lit: cst.CSTNode, old: str, new: str) -> cst.CSTNode | None:
    """The string ``lit`` with its source text ending in ``new`` in place of ``old``."""
    if isinstance(lit, cst.SimpleString):
        text = lit.value
        quote = lit.quote
        body_end = len(text) - len(quote)
        body = text[:body_end]
        if not body.endswith(old) or len(body) - len(old) < len(lit.prefix) + len(quote):
            return None
        return lit.with_changes(value=body[:len(body) - len(old)] + new + quote)
    if isinstance(lit, cst.FormattedString):
        parts = list(lit.parts)
        if not parts or not isinstance(parts[-1], cst.FormattedStringText) or not parts[-1].value.endswith(old):
            return None
        last = parts[-1].value
        parts[-1] = parts[-1].with_changes(value=last[:len(last) - len(old)] + new)
        return lit.with_changes(parts=parts)
    return None


def _same(save: _Path | None, load: _Path | None) -> bool:
    """Whether a load reads the path a save writes, as far as the code shows."""
    if save is None or load is None:
        return False
    if save.lit is not None and load.lit is save.lit:
        return True
    if save.complete and load.complete:
        return save.tail == load.tail
    return bool(save.code) and save.code == load.code and load.lit is not None


def _last(path: _Path | None) -> str:
    if path is None:
        return "?"
    return _last_of(path.tail if path.complete or path.lit is None else _value(path.lit) or path.tail)


def _last_of(tail: str) -> str:
    name = tail.replace("\\", "/").rsplit("/", 1)[-1]
    return name or tail


def _quoted(path: _Path) -> str:
    return repr(path.tail) if path.complete else f"...{path.tail!r}"


def _key(ctx, lit) -> object:
    """How :class:`_Scan` files a string: its value, or the source of an f-string with values in it."""
    if isinstance(lit, cst.SimpleString):
        return lit.evaluated_value
    if isinstance(lit, cst.FormattedString) and not all(isinstance(p, cst.FormattedStringText) for p in lit.parts):
        return ("f", ctx.code(lit))
    if isinstance(lit, cst.FormattedString):
        return _unescape_braces("".join(p.value for p in lit.parts))
    return None


def _value(lit) -> str:
    """The text a string ends with (an f-string's after its last value)."""
    if isinstance(lit, cst.SimpleString):
        value = lit.evaluated_value
        return value if isinstance(value, str) else ""
    if isinstance(lit, cst.FormattedString) and lit.parts and isinstance(lit.parts[-1], cst.FormattedStringText):
        return _unescape_braces(lit.parts[-1].value)
    return ""


def _text(ctx, new) -> str:
    return new if isinstance(new, str) else ctx.code(new)


def _is_literal(node: cst.BaseExpression, value) -> bool:
    if value is None:
        return isinstance(node, cst.Name) and node.value == "None"
    if value is True or value is False:
        return isinstance(node, cst.Name) and node.value == str(value)
    return False


def _contains(root: cst.CSTNode, node: cst.CSTNode) -> bool:
    stack = [root]
    while stack:
        n = stack.pop()
        if n is node:
            return True
        stack.extend(n.children)
    return False


def _arg(call: cst.Call, pos: int, name: str) -> cst.Arg | None:
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a
    positional = []
    for a in call.args:
        if a.star:
            return None
        if a.keyword is None:
            positional.append(a)
    return positional[pos] if pos < len(positional) else None


def _receiver_text(ctx, call: cst.Call, save: _Save) -> str:
    return "model" if save.kind == "checkpoint" else receiver_text(ctx, call)


class _Scan(cst.CSTVisitor):
    """The calls of the file with their innermost statement and class, the strings, and the names set once."""

    def __init__(self):
        self.calls: list = []  # (Call, innermost statement, innermost ClassDef or None)
        self.functions: dict = {}  # id(Call) -> the names of the parameters of its innermost function
        self.assigned: dict = {}  # name -> [value] of ``name = value``
        self.rebound: set = set()  # names bound otherwise (parameters, loops, ``+=``, ``with ... as``)
        self.strings: dict = {}  # value -> [SimpleString]
        self.tops: dict = {}  # id(string node) -> innermost statement
        self._stmts: list = []
        self._classes: list = []
        self._params: list = []

    def on_visit(self, node) -> bool:
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self._stmts.append(node)
        if isinstance(node, cst.ClassDef):
            self._classes.append(node)
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            params = node.params
            named = (*params.posonly_params, *params.params, *params.kwonly_params,
                     *(p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)))
            self._params.append({p.name.value for p in named})
        return super().on_visit(node)

    def on_leave(self, original_node) -> None:
        super().on_leave(original_node)
        if isinstance(original_node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self._stmts.pop()
        if isinstance(original_node, cst.ClassDef):
            self._classes.pop()
        if isinstance(original_node, (cst.FunctionDef, cst.Lambda)):
            self._params.pop()

    def visit_Call(self, node) -> None:
        if self._stmts:
            self.calls.append((node, self._stmts[-1], self._classes[-1] if self._classes else None))
            if self._params:
                self.functions[id(node)] = self._params[-1]

    def visit_SimpleString(self, node) -> None:
        if self._stmts:
            self.tops[id(node)] = self._stmts[-1]
            value = node.evaluated_value
            if isinstance(value, str):
                self.strings.setdefault(value, []).append(node)

    def visit_FormattedString(self, node) -> None:
        if self._stmts:
            self.tops[id(node)] = self._stmts[-1]
            if all(isinstance(p, cst.FormattedStringText) for p in node.parts):
                self.strings.setdefault(_unescape_braces("".join(p.value for p in node.parts)), []).append(node)
            else:
                self.strings.setdefault(("f", cst.Module([]).code_for_node(node)), []).append(node)

    def visit_Assign(self, node) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                self.assigned.setdefault(t.target.value, []).append(node.value)
            else:
                self._bind(t.target)

    def visit_AnnAssign(self, node) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self.assigned.setdefault(node.target.value, []).append(node.value)

    def visit_AugAssign(self, node) -> None:
        self._bind(node.target)

    def visit_For(self, node) -> None:
        self._bind(node.target)

    def visit_CompFor(self, node) -> None:
        self._bind(node.target)

    def visit_AsName(self, node) -> None:
        self._bind(node.name)

    def visit_Param(self, node) -> None:
        self.rebound.add(node.name.value)

    def visit_NamedExpr(self, node) -> None:
        self._bind(node.target)

    def visit_Global(self, node) -> None:
        for n in node.names:
            self.rebound.add(n.name.value)

    def _bind(self, target) -> None:
        if isinstance(target, cst.Name):
            self.rebound.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for e in target.elements:
                self._bind(e.value)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value)
