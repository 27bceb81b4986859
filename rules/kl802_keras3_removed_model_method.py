"""KL802 keras3-removed-model-method."""
from __future__ import annotations

import libcst as cst

from klint.engine.context import ImportNeed
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.engine.syntax import KERAS2_ROOTS, dotted, keras2_only, receiver_text, through_keras2
from klint.knowledge.losses import model_outputs, output_activation
from klint.knowledge.names import is_keras
from klint.source.values import Arg, Const, DatasetV, ModelObj, Obj, Ref, UserObj

#: The generator methods of Keras 1/2 models, and the Keras 3 method that takes a generator in their place.
GENERATOR_METHODS = {"fit_generator": "fit", "evaluate_generator": "evaluate", "predict_generator": "predict"}

#: The other model methods Keras 3 removed (Keras 2's ``Sequential.predict_proba``/``predict_classes``).
PREDICT_METHODS = ("predict_proba", "predict_classes")

METHODS = frozenset(GENERATOR_METHODS) | frozenset(PREDICT_METHODS)

#: The parameters after the generator, in order, that every Keras 2 release (2.0 to 2.15, and tf.keras)
#: gives the generator methods; further positions changed between releases (``validation_freq`` came in
#: 2.2.5, ``callbacks`` of ``evaluate_generator`` in 2.2.5), so an argument there is not rewritten.
POSITIONAL = {
    "fit_generator": ("steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data", "validation_steps"),
    "evaluate_generator": ("steps",),
    "predict_generator": ("steps",),
}

#: The same positions in Keras 1, where they count samples rather than batches.
POSITIONAL_KERAS1 = {
    "fit_generator": ("samples_per_epoch", "nb_epoch", "verbose", "callbacks", "validation_data", "nb_val_samples"),
    "evaluate_generator": ("val_samples",),
    "predict_generator": ("val_samples",),
}

#: Keyword arguments the Keras 3 method takes as they are.
KEPT = {
    "fit_generator": frozenset(("steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data",
                                "validation_steps", "validation_freq", "class_weight", "shuffle", "initial_epoch")),
    "evaluate_generator": frozenset(("steps", "callbacks", "verbose")),
    "predict_generator": frozenset(("steps", "callbacks", "verbose")),
}

#: Exact renames: Keras 1's ``nb_epoch``, and the generator itself, which is ``x`` in Keras 3.
RENAMED = {"generator": "x", "nb_epoch": "epochs"}

#: The data-loading arguments (Keras 2, then Keras 1 spellings), with their Keras 1/2 default: Keras 3's
#: ``fit``/``evaluate``/``predict`` reject them; they belong to the ``keras.utils.PyDataset`` now.
QUEUE = {"max_queue_size": 10, "workers": 1, "use_multiprocessing": False,
         "max_q_size": 10, "nb_worker": 1, "pickle_safe": False}

#: The ``ImageDataGenerator`` methods that make batch iterators, and the position of their ``batch_size``
#: (the same from Keras 1 to Keras 3's legacy ``ImageDataGenerator``; the default is 32 for all).
FLOW_BATCH = {"flow": 2, "flow_from_directory": 5, "flow_from_dataframe": 9}
FLOW_DEFAULT = 32

#: The names of a generator function's parameter that sets its batch size.
BATCH_PARAMS = frozenset(("batch_size", "batchsize", "bs", "batch"))

#: The arguments that count batches: Keras 3 takes only an int.
STEP_ARGS = frozenset(("steps_per_epoch", "validation_steps", "steps"))

#: Keras 1 arguments that count samples, and the Keras 3 argument that counts batches instead.
SAMPLES = {"samples_per_epoch": "steps_per_epoch", "nb_val_samples": "validation_steps", "val_samples": "steps"}

#: Keyword arguments only Keras 1 spelled: a file that writes one is Keras 1 code, where the second positional
#: argument of a generator method counted samples.
KERAS1_KEYWORDS = frozenset(("nb_epoch", "samples_per_epoch", "nb_val_samples", "val_samples", "nb_worker",
                             "pickle_safe", "max_q_size", "nb_filter", "nb_row", "nb_col", "border_mode",
                             "subsample", "dim_ordering", "output_dim", "W_regularizer", "b_regularizer"))

#: The arguments of ``predict_proba``/``predict_classes`` (Keras 2.1 to 2.15: ``x, batch_size, verbose,
#: steps``), which Keras 3's ``predict(x, batch_size, verbose, steps, callbacks)`` takes in the same order.
PREDICT_ARGS = ("x", "batch_size", "verbose", "steps")

#: A receiver the code does not show (a parameter, what a function of another module returns).
UNKNOWN_RECEIVER = "unknown"

#: ``self.model`` in a Keras callback: the model it trains, whose layers the code does not show.
CALLBACK_MODEL = "callback"

_GEN = (
    "import numpy as np\n"
    "import keras\n\n"
    "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation=\"softmax\")])\n"
    "model.compile(\"sgd\", \"sparse_categorical_crossentropy\")\n\n"
    "def batches():\n"
    "    while True:\n"
    "        yield np.zeros((8, 4)), np.zeros((8,))\n\n"
)

_X = "x = np.zeros((8, 4))\n"

_FLOW = (
    "import numpy as np\n"
    "import keras\n"
    "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n\n"
    "model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])\n"
    "model.compile(\"sgd\", \"mse\")\n"
    "x, y = np.zeros((8, 2, 2, 1)), np.zeros((8, 2))\n"
    "datagen = ImageDataGenerator()\n\n"
)

_MATH = ("ImageDataGenerator\n", "ImageDataGenerator\nimport math\n")


def _model(units: int, activation: str) -> str:
    return (
        "import numpy as np\n"
        "from tensorflow.keras.models import Sequential\n"
        "from tensorflow.keras.layers import Dense\n\n"
        "model = Sequential()\n"
        f"model.add(Dense({units}, input_dim=4, activation=\"{activation}\"))\n"
        + _X
    )


class Keras3RemovedModelMethod(Rule):
    """
    ## What it does
    Checks calls of the model methods that Keras 3 removed, on a Keras
    model (a `Sequential`, a functional `Model`, a subclass of `Model`, a
    model from `load_model` or `clone_model`):

    | Keras 1/2 | Keras 3 |
    | --- | --- |
    | `fit_generator(gen, ...)` | `fit(gen, ...)` |
    | `evaluate_generator(gen, ...)` | `evaluate(gen, ...)` |
    | `predict_generator(gen, ...)` | `predict(gen, ...)` |
    | `predict_proba(x)` | `predict(x)` |
    | `predict_classes(x)` | `predict(x).argmax(axis=-1)`, or `(predict(x) > 0.5).astype("int32")` for one unit |

    The model is found through the code: `model` must be a Keras model
    where the call runs (or `self.model` in a `keras.callbacks.Callback`),
    not any object of that name. A `*_generator`
    call or `predict_classes` on an object the code does not tell (a
    function's parameter, a model built in another module) is reported
    too in a file that uses Keras, unless the file defines a method of
    that name; `predict_proba` is reported only on a known Keras model,
    since scikit-learn estimators have it.

    ## Why is this bad
    Keras 3's models have `fit`, `evaluate` and `predict`, which take a
    Python generator, a `keras.utils.PyDataset` or a `tf.data.Dataset`,
    and none of these methods (Keras 3.15.1: `keras/src/trainers/trainer.py`
    defines the training methods of every model, `keras/src/models/` has
    none of them). `model.fit_generator(...)` raises `AttributeError:
    'Sequential' object has no attribute 'fit_generator'`, so a Keras 2
    script stops where it starts training; `predict_classes` and
    `predict_proba` stop it after the training, when it evaluates. The
    data-loading arguments of the generator methods (`workers`,
    `use_multiprocessing`, `max_queue_size`) moved to the `PyDataset`:
    Keras 3's `fit` and `predict` reject them with `TypeError`, `evaluate`
    with `ValueError: Arguments not recognized`.

    ## Example
    ```python
    model.fit_generator(train_gen, 100, 10, validation_data=val_gen, workers=1)
    labels = model.predict_classes(x_test)
    ```

    ## Use instead
    ```python
    model.fit(train_gen, steps_per_epoch=100, epochs=10, validation_data=val_gen)
    labels = model.predict(x_test, verbose=0).argmax(axis=-1)
    ```

    ## Fix safety
    The whole call is rewritten in one fix. A `*_generator` method becomes
    `fit`, `evaluate` or `predict`; its positional arguments after the
    generator become keywords (`steps_per_epoch`, `epochs`, `verbose`,
    `callbacks`, `validation_data`, `validation_steps` for `fit`; `steps`
    for the others), since `fit(x, y, batch_size, ...)` reads them in
    another order; `generator=` becomes `x=` and Keras 1's `nb_epoch=`
    becomes `epochs=`. `evaluate_generator` and `predict_generator` were
    silent unless told otherwise (`verbose=0`), so `verbose=0` is added
    when the call does not set it (Keras 3's `verbose="auto"` shows a
    progress bar). These are exact renames:
    the fix is safe. `workers`, `use_multiprocessing` and `max_queue_size`
    (Keras 1: `nb_worker`, `pickle_safe`, `max_q_size`) are removed, which
    is safe at their defaults (1, False, 10); set otherwise, the fix is
    unsafe: the data then loads in one worker thread, until they are set
    on the `PyDataset` (`super().__init__(workers=4,
    use_multiprocessing=True)` in a `keras.utils.PyDataset`, which a
    `keras.utils.Sequence` is in Keras 3). No fix is offered for
    positional arguments past those the Keras 2 releases agree on,
    `*args`/`**kwargs`, or an argument these methods never took. In a
    file written for Keras 1 (one that spells a Keras 1 argument such as
    `nb_epoch=` or `border_mode=`) the second positional argument is
    Keras 1's `samples_per_epoch` (see below).
    A fractional step count (`steps_per_epoch=len(x) / 32`, which Keras
    1/2 ran as its ceiling and Keras 3 rejects with `TypeError`) becomes
    `math.ceil(len(x) / 32)`, the same number of steps.

    Keras 1's `samples_per_epoch`, `nb_val_samples` and `val_samples`
    (and the second positional argument in Keras 1 code) count samples
    (Keras 1.2.2 `keras/engine/training.py` ran batches while fewer
    samples had been seen), where Keras 3 counts batches. When the code
    shows the generator's batch size, the fix writes
    `steps_per_epoch=math.ceil(samples_per_epoch / B)` (and
    `validation_steps`, `steps` alike): the generator is an
    `ImageDataGenerator`'s `flow(x, y, batch_size=B)`,
    `flow_from_directory(...)` or `flow_from_dataframe(...)` (32 by
    default), or a generator function of the file called with its
    `batch_size` (`batchsize`, `bs`, `batch`) parameter, or with its
    default; the call may be inline or bound to a name in the same
    scope. This fix is unsafe: it is the number of batches Keras 1 ran
    when all were full, and short batches (the end of a pass over the
    data) made Keras 1 run more; Keras 3 also ends an epoch where a
    `flow()` iterator's pass over its data ends, where Keras 1 went round
    it, and Keras 2's legacy interface had run `samples_per_epoch //
    batch_size` steps for a `flow()` iterator and `samples_per_epoch`
    steps otherwise. Where the batch size is unknown, no fix is offered.
    `nb_val_samples` without a validation generator (no
    `validation_data`, or a tuple of arrays) was ignored by Keras 1 and
    is removed.

    Keras 3 takes only a generator that yields tuples (`ValueError: When
    passing a Python generator to a Keras model, the generator must return
    a tuple`), where `predict_generator` also took bare inputs and the
    others lists. A generator function of the file (or a generator
    expression) that yields lists gets no fix, nor one that yields bare
    inputs to `predict_generator`; `predict_generator` over a generator the
    code does not show gets an unsafe fix. Keras's own data
    (`keras.utils.Sequence`, `ImageDataGenerator.flow`, `tf.data`) needs
    no tuples.

    `predict_proba(x)` becomes `predict(x, verbose=0)`: Keras 2's
    `predict_proba` returned `predict`'s output (after a warning when it
    fell outside [0, 1]) with `verbose=0` (Keras 2.1 to 2.15), so
    the fix is safe. `predict_classes(x)` returned
    `predict(x).argmax(axis=-1)` when the output had more than one unit
    and `(predict(x) > 0.5).astype("int32")` otherwise; the fix writes the
    branch that the model's output layer gives (its unit count, or a
    softmax), with `verbose=0` as for `predict_proba`. It is unsafe: Keras 2 chose the branch from the output's
    shape at run time, and the fix from the code, which a model changed
    where the code cannot be followed would make wrong. No fix is offered
    when the output is not known (a loaded model, several outputs, a
    sigmoid of unknown size, which Keras 2 thresholded for one unit and
    took the argmax of for several). A functional `Model` had no
    `predict_classes` even in Keras 2 (`AttributeError` there too); it is
    reported and fixed in the same way.

    On an object the code does not tell (a parameter, what a function of
    another module returns), a `*_generator` call gets the same rewrite,
    unsafe, since the object might not be a Keras model.
    Models of `tf_keras` (Keras 2 itself) are not checked.

    ## Options
    None.
    """

    code = "KL802"
    name = "keras3-removed-model-method"
    summary = "Model method that Keras 3 removed (`fit_generator`, `predict_classes`...)"
    views = ("source",)
    fix = FixAvailability.SOMETIMES

    VALID = [
        Valid(_GEN + "model.fit(batches(), steps_per_epoch=1, epochs=1, verbose=0)\n"
              "labels = model.predict(np.zeros((8, 4)), verbose=0).argmax(axis=-1)\n", "the Keras 3 spelling"),
        Valid("from sklearn.linear_model import LogisticRegression\n\n"
              "clf = LogisticRegression().fit(x, y)\np = clf.predict_proba(x)\n", "a scikit-learn estimator"),
        Valid("import keras\n\n"
              "def report(model, x):\n    return model.predict_proba(x)\n", "`predict_proba` of an unknown object"),
        Valid("import keras\n\n"
              "class Wrapper:\n"
              "    def fit_generator(self, gen, steps):\n        pass\n"
              "    def predict_classes(self, x):\n        return x\n\n"
              "def run(w, gen):\n    w.fit_generator(gen, 10)\n    return w.predict_classes(gen)\n",
              "a class of the file that defines the methods"),
        Valid("import keras\n\n"
              "class Net(keras.Model):\n"
              "    def predict_classes(self, x):\n        return self.predict(x).argmax(-1)\n\n"
              "net = Net()\nlabels = net.predict_classes(x)\n", "a model subclass that defines the method"),
        Valid("import tf_keras\n\n"
              "model = tf_keras.Sequential([tf_keras.layers.Dense(2)])\n"
              "model.fit_generator(gen, steps_per_epoch=10)\n", "Keras 2 itself (tf_keras)"),
        Valid(_FLOW + "import math\n\n"
              "model.fit(datagen.flow(x, y, batch_size=4), steps_per_epoch=math.ceil(len(x) / 4), epochs=1)\n",
              "batch counts, as Keras 3 takes them"),
        Valid("import torch\n\ndef train(model, loader):\n    model.fit_generator(loader)\n", "no Keras in the file"),
    ]

    INVALID = [
        Invalid(
            _GEN + "model.fit_generator(batches(), steps_per_epoch=1, epochs=1, verbose=0)\n",
            _GEN + "model.fit(batches(), steps_per_epoch=1, epochs=1, verbose=0)\n",
            lines=(11,), raises="AttributeError"),
        Invalid(
            _GEN + "model.fit_generator(batches(), 1, 2, 0)\n",
            _GEN + "model.fit(batches(), steps_per_epoch=1, epochs=2, verbose=0)\n",
            note="positional arguments become keywords", raises="AttributeError"),
        Invalid(
            _GEN + "model.fit_generator(\n    generator=batches(),\n    steps_per_epoch=1,\n    verbose=0,\n"
            "    max_queue_size=10,\n    workers=1,\n    use_multiprocessing=False,\n)\n",
            _GEN + "model.fit(\n    x=batches(),\n    steps_per_epoch=1,\n    verbose=0,\n)\n",
            note="queue arguments at their defaults are removed (safe)", raises="AttributeError"),
        Invalid(
            _GEN + "model.fit_generator(batches(), steps_per_epoch=1, workers=4, use_multiprocessing=True, "
            "verbose=0)\n",
            _GEN + "model.fit(batches(), steps_per_epoch=1, verbose=0)\n",
            note="unsafe: the workers belong to a PyDataset now", raises="AttributeError"),
        Invalid(
            _GEN + "model.fit_generator(batches(),\n                    steps_per_epoch=16 / 8,\n"
            "                    verbose=0)\n",
            _GEN.replace("import keras\n", "import keras\nimport math\n")
            + "model.fit(batches(),\n          steps_per_epoch=math.ceil(16 / 8),\n          verbose=0)\n",
            note="a fractional step count: Keras 2 ran its ceiling, Keras 3 takes an int", raises="AttributeError"),
        Invalid(
            _GEN + "model.fit_generator(batches(), samples_per_epoch=8, nb_epoch=1, verbose=0)\n",
            None, note="Keras 1 counted samples: no exact edit", raises="AttributeError"),
        Invalid(
            _GEN + "model.fit_generator(batches(), 8, nb_epoch=1, verbose=0)\n",
            None, note="in Keras 1 code, the second positional argument counts samples", raises="AttributeError"),
        Invalid(
            _FLOW + "model.fit_generator(datagen.flow(x, y, batch_size=4), samples_per_epoch=len(x), nb_epoch=1,\n"
            "                    verbose=0)\n",
            _FLOW.replace(*_MATH) + "model.fit(datagen.flow(x, y, batch_size=4), steps_per_epoch=math.ceil(len(x) / 4), "
            "epochs=1,\n          verbose=0)\n",
            note="unsafe: samples become batches of the `flow()` batch size", raises="AttributeError"),
        Invalid(
            _FLOW + "bs = 4\ntrain = datagen.flow(x, y, batch_size=bs)\n"
            "model.fit_generator(train, 8, nb_epoch=1, verbose=0,\n"
            "                    validation_data=datagen.flow(x, y), nb_val_samples=8)\n",
            _FLOW.replace(*_MATH) + "bs = 4\ntrain = datagen.flow(x, y, batch_size=bs)\n"
            "model.fit(train, steps_per_epoch=math.ceil(8 / bs), epochs=1, verbose=0,\n"
            "          validation_data=datagen.flow(x, y), validation_steps=math.ceil(8 / 32))\n",
            note="a generator bound to a name; the validation flow's default batch size (32)",
            raises="AttributeError"),
        Invalid(
            _FLOW + "bs = 4\ntrain = datagen.flow(x, y, batch_size=bs)\nbs = 2\n"
            "model.fit_generator(train, samples_per_epoch=8, nb_epoch=1, verbose=0,\n"
            "                    validation_data=(x, y), nb_val_samples=8)\n",
            _FLOW.replace(*_MATH) + "bs = 4\ntrain = datagen.flow(x, y, batch_size=bs)\nbs = 2\n"
            "model.fit(train, steps_per_epoch=math.ceil(8 / 4), epochs=1, verbose=0,\n"
            "          validation_data=(x, y))\n",
            note="a rebound name: the batch size it had; `nb_val_samples` of arrays was ignored",
            raises="AttributeError"),
        Invalid(
            _FLOW + "def flow(x, y, batch_size=4):\n    while True:\n        yield x[:batch_size], y[:batch_size]\n\n"
            "loss = model.evaluate_generator(flow(x, y), val_samples=8)\n"
            "probs = model.predict_generator(flow(x, y, 2), val_samples=8)\n",
            _FLOW.replace(*_MATH) + "def flow(x, y, batch_size=4):\n    while True:\n"
            "        yield x[:batch_size], y[:batch_size]\n\n"
            "loss = model.evaluate(flow(x, y), steps=math.ceil(8 / 4), verbose=0)\n"
            "probs = model.predict(flow(x, y, 2), steps=math.ceil(8 / 2), verbose=0)\n",
            note="a generator function of the file: its batch-size argument, or its default",
            raises="AttributeError"),
        Invalid(
            _FLOW + "def run(gen):\n    model.fit_generator(gen, samples_per_epoch=8, nb_epoch=1, verbose=0)\n\n"
            "run(datagen.flow(x, y, batch_size=4))\nrun(datagen.flow(x, y, batch_size=2))\n",
            None, note="a parameter given flows of two batch sizes", raises="AttributeError"),
        Invalid(
            _FLOW + "def run(gen):\n    model.fit_generator(gen, samples_per_epoch=8, nb_epoch=1, verbose=0)\n\n"
            "run(datagen.flow(x, y, batch_size=4))\n",
            _FLOW.replace(*_MATH) + "def run(gen):\n"
            "    model.fit(gen, steps_per_epoch=math.ceil(8 / 4), epochs=1, verbose=0)\n\n"
            "run(datagen.flow(x, y, batch_size=4))\n",
            note="a parameter the analysis follows to one flow", raises="AttributeError"),
        Invalid(
            _FLOW + "class ImageDataGenerator:\n"
            "    def flow(self, x, y, batch_size=4):\n"
            "        while True:\n            yield x, y\n\n"
            "model.fit_generator(ImageDataGenerator().flow(x, y, batch_size=8), samples_per_epoch=8, nb_epoch=1)\n",
            None, note="a class of the file, not Keras's", raises="AttributeError"),
        Invalid(
            _FLOW + "model.fit_generator(datagen.flow(x, y, batch_size=np.random.randint(1, 5)), "
            "samples_per_epoch=8, nb_epoch=1)\n",
            None, note="a batch size the code computes where it cannot be followed", raises="AttributeError"),
        Invalid(
            _GEN + "def train(net, data):\n    net.fit_generator(data, steps_per_epoch=1, verbose=0)\n\n"
            "train(getattr(keras.models, \"clone_model\")(model), batches())\n",
            _GEN + "def train(net, data):\n    net.fit(data, steps_per_epoch=1, verbose=0)\n\n"
            "train(getattr(keras.models, \"clone_model\")(model), batches())\n",
            note="unsafe: a receiver the code does not tell", raises="AttributeError"),
        Invalid(
            _GEN + "loss = model.evaluate_generator(batches(), steps=1)\n",
            _GEN + "loss = model.evaluate(batches(), steps=1, verbose=0)\n",
            note="silent, as Keras 2 was", raises="AttributeError"),
        Invalid(
            _GEN + "probs = model.predict_generator(generator=((x,) for x, _ in batches()), steps=1)\n",
            _GEN + "probs = model.predict(x=((x,) for x, _ in batches()), steps=1, verbose=0)\n",
            raises="AttributeError"),
        Invalid(
            _GEN + "probs = model.predict_generator((x for x, _ in batches()), steps=1)\n",
            None, note="bare inputs: Keras 3 takes only tuples from a generator", raises="AttributeError"),
        Invalid(
            _model(3, "softmax") + "probs = model.predict_proba(x)\n",
            _model(3, "softmax") + "probs = model.predict(x, verbose=0)\n",
            lines=(8,), raises="AttributeError"),
        Invalid(
            _GEN + "class Probe(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        self.p = self.model.predict_proba(np.zeros((2, 4)))\n\n"
            "model.fit(batches(), steps_per_epoch=1, verbose=0, callbacks=[Probe()])\n",
            _GEN + "class Probe(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        self.p = self.model.predict(np.zeros((2, 4)), verbose=0)\n\n"
            "model.fit(batches(), steps_per_epoch=1, verbose=0, callbacks=[Probe()])\n",
            note="`self.model` of a callback is the model it trains", raises="AttributeError"),
        Invalid(
            _model(3, "softmax") + "labels = model.predict_classes(x, batch_size=4)\n",
            _model(3, "softmax") + "labels = model.predict(x, batch_size=4, verbose=0).argmax(axis=-1)\n",
            note="unsafe: the branch is chosen from the output layer", raises="AttributeError"),
        Invalid(
            _model(1, "sigmoid") + "labels = model.predict_classes(x)\n",
            _model(1, "sigmoid") + "labels = (model.predict(x, verbose=0) > 0.5).astype(\"int32\")\n",
            note="one sigmoid unit", raises="AttributeError"),
        Invalid(
            "import numpy as np\nimport keras\n\n"
            "inputs = keras.Input((4,))\n"
            "outputs = keras.layers.Dense(3, activation=\"softmax\")(inputs)\n"
            "model = keras.Model(inputs, outputs)\n" + _X
            + "labels = model.predict_classes(x)\n",
            "import numpy as np\nimport keras\n\n"
            "inputs = keras.Input((4,))\n"
            "outputs = keras.layers.Dense(3, activation=\"softmax\")(inputs)\n"
            "model = keras.Model(inputs, outputs)\n" + _X
            + "labels = model.predict(x, verbose=0).argmax(axis=-1)\n",
            note="a functional model (no predict_classes in Keras 2 either)", raises="AttributeError"),
        Invalid(
            _model(3, "softmax") + "from tensorflow.keras.models import clone_model\n\n"
            "copy = clone_model(model)\nlabels = copy.predict_classes(x)\n",
            None, note="the output of a cloned model is not known here", raises="AttributeError"),
    ]

    # ------------------------------------------------------------ checking

    def check(self, ctx) -> None:
        a = ctx.analysis
        scan = _Scan()
        ctx.module.visit(scan)
        if not scan.calls:
            return
        keras1 = bool(scan.keywords & KERAS1_KEYWORDS)
        # every receiver a call had (a function that runs twice runs its calls twice)
        receivers: dict[int, list] = {}
        sites: dict[int, object] = {}
        every: dict[int, list] = {}
        for site, obj, name in a.method_calls:
            if name not in METHODS or site.node is None:
                continue
            receivers.setdefault(id(site.node), []).append(obj)
            sites.setdefault(id(site.node), site)
            every.setdefault(id(site.node), []).append(site)
        unresolved = {id(node) for node, name in a.unresolved_calls if name in METHODS}
        keras_file = any(r not in KERAS2_ROOTS for r in a.roots)
        for call, top in scan.calls:
            name = call.func.attr.value
            site = sites.get(id(call))
            kinds = [self.keras_model(a, o, name) for o in receivers.get(id(call), ())]
            if id(call) in unresolved:
                kinds.append(CALLBACK_MODEL if _callback_model(a, scan, call) else UNKNOWN_RECEIVER)
            if any(k is False for k in kinds):
                continue  # a class of the file with that method, or Keras 2
            models = [k for k in kinds if isinstance(k, ModelObj) or k is CALLBACK_MODEL]
            guessed = UNKNOWN_RECEIVER in kinds and keras_file and name != "predict_proba" \
                and name not in scan.defined
            if not models and not guessed:
                continue
            known = len(models) == len(kinds)
            top = site.top if site is not None and site.top is not None else top
            if name in GENERATOR_METHODS:
                self.generator_call(ctx, scan, call, top, site, name, known, keras1, every.get(id(call), []))
            elif name == "predict_proba":
                self.predict_proba(ctx, call, top, known)
            else:
                self.predict_classes(ctx, call, top, models if known else None)

    @staticmethod
    def keras_model(a, obj, name: str):
        """The Keras model a receiver is; None when it is none; False when the method is its own;
        ``UNKNOWN_RECEIVER`` for an object of another module, which the code does not show."""
        model = obj
        if isinstance(obj, UserObj):
            if obj.cls.find_method(name) is not None:
                return False
            model = obj.model
        if not isinstance(model, ModelObj):
            if isinstance(obj, Obj) and not is_keras(obj.qual):
                # what a function of another module returns (``Model.getModel(name)``), or a library's
                return UNKNOWN_RECEIVER
            return None
        if model.cls is not None and model.cls.find_method(name) is not None:
            return False
        if keras2_only(a) or (model.site is not None and through_keras2(a, model.site.node)):
            return False
        return model

    # ----------------------------------------------------- the generator methods

    def generator_call(self, ctx, scan, call: cst.Call, top, site, name: str, known: bool, keras1: bool,
                       sites: list = ()) -> None:
        new = GENERATOR_METHODS[name]
        receiver = receiver_text(ctx, call)
        message = f"`{receiver}.{name}()` was removed in Keras 3 (AttributeError): `{new}()` takes generators"
        args = list(call.args)
        problems: list[str] = []
        unsafe: list[str] = []
        drop: list[int] = []
        named: dict[int, str] = {}
        if any(a.star for a in args):
            problems.append("`*args`/`**kwargs` cannot be rewritten")
        positional = [i for i, a in enumerate(args) if a.keyword is None and not a.star]
        if not positional and not any(a.keyword is not None and a.keyword.value == "generator" for a in args):
            problems.append("the call gives no generator")
        batches = self.batches(scan, site, call)
        if batches == "list":
            problems.append("the generator yields lists, where Keras 3 takes only tuples (`yield x, y`)")
        elif batches == "bare" and name == "predict_generator":
            problems.append("the generator yields bare inputs, which Keras 2 accepted and Keras 3 does not: "
                            "yield tuples (`yield (x,)`)")
        elif batches is None and name == "predict_generator":
            unsafe.append("tuples")
        order = POSITIONAL_KERAS1[name] if keras1 else POSITIONAL[name]
        samples: list = []  # (index, Keras 1 name, how the call gives it) of the arguments that count samples
        for n, i in enumerate(positional[1:]):
            if n >= len(order):
                problems.append(f"positional argument {n + 2} means different things across Keras 2 releases: "
                                f"pass it by keyword")
                break
            param = order[n]
            if param in SAMPLES:
                samples.append((i, param, f"positional argument {n + 2} is Keras 1's `{param}`"))
                continue
            named[i] = RENAMED.get(param, param)
        given = set()
        for i, arg in enumerate(args):
            if arg.keyword is None:
                continue
            kw = arg.keyword.value
            given.add(kw)
            if kw in RENAMED:
                named[i] = RENAMED[kw]
            elif kw in QUEUE:
                drop.append(i)
                if not _is_default(site, arg, QUEUE[kw]):
                    unsafe.append(kw)
            elif kw in SAMPLES:
                samples.append((i, kw, f"`{kw}`"))
            elif kw not in KEPT[name]:
                problems.append(f"`{name}` never took `{kw}`")
        # Keras 1's sample counts become batch counts where the generator's batch size is known
        counted: dict[int, cst.BaseExpression] = {}  # index -> the batch size that divides it
        notes: dict[int, str] = {}  # index -> where that batch size comes from
        ignored = False
        for i, kw, how in samples:
            if kw == "nb_val_samples":
                val = self.argument(args, named, "validation_data")
                if val is None or isinstance(val.value, (cst.Tuple, cst.List)):
                    drop.append(i)  # Keras 1 read it only from a validation generator
                    ignored = True
                    continue
                gen_node, what = val.value, "the validation generator"
            else:
                val = self.argument(args, named, "generator")
                gen_node = val.value if val is not None else None
                what = "the generator"
            # what the argument is each time the call runs (a function's call runs once per call of it)
            gen_value = [_site_value(s, args, val) for s in sites] if val is not None else []
            batch = _batch_size(ctx, scan, call, gen_node, gen_value)
            if batch is None:
                problems.append(f"{how} counts samples, where Keras 3 takes `{SAMPLES[kw]}`, a number of batches "
                                f"(`math.ceil({kw} / batch_size)`), and the batch size of {what} is not known here")
                continue
            den, source = batch
            named[i] = SAMPLES[kw]
            counted[i] = den
            notes[i] = source
        given |= {named[i] for i in named}
        # Keras 1/2 ran batches while their count was below a fractional step count (its ceiling);
        # Keras 3 takes only an int (TypeError)
        fractional = [i for i, arg in enumerate(args) if i not in drop and i not in counted
                      and (named.get(i) or (arg.keyword.value if arg.keyword is not None else None)) in STEP_ARGS
                      and _fractional(site, arg, positional.index(i) if i in positional else None)]
        ceil, imports = None, []
        if (fractional or counted) and not problems:
            ceil, imports = _math_ceil(ctx.analysis)
            if ceil is None:
                problems.append(f"{'a fractional step count' if fractional else 'a step count'} needs "
                                f"`math.ceil`, and `math` names something else here")
        fix = None
        if problems:
            message += ": " + "; ".join(problems)
        else:
            new_args = []
            for i, arg in enumerate(args):
                if i in named:
                    arg = arg.with_changes(keyword=cst.Name(named[i]),
                                           equal=arg.equal if arg.keyword is not None else _equal())
                if i in fractional:
                    arg = arg.with_changes(value=cst.Call(func=cst.parse_expression(ceil), args=[cst.Arg(arg.value)]))
                elif i in counted:
                    arg = arg.with_changes(value=_ceil_div(ceil, arg.value, counted[i]))
                new_args.append(arg)
            for i in sorted(drop, reverse=True):
                _drop(new_args, i)
            if name != "fit_generator" and "verbose" not in given:
                new_args = _append(new_args, call, _kwarg("verbose", cst.Integer("0")))
            new_call = call.with_changes(func=call.func.with_changes(attr=cst.Name(new)), args=new_args)
            new_call = _realign(new_call, len(name) - len(new))
            what = f"Use `{new}()`"
            queue = [u for u in unsafe if u in QUEUE]
            if queue:
                message += (f"; `{'`, `'.join(queue)}` {'belongs' if len(queue) == 1 else 'belong'} to the "
                            f"`PyDataset` in Keras 3 and {'is' if len(queue) == 1 else 'are'} removed here: the data "
                            f"loads with the `PyDataset`'s own settings until it sets "
                            f"{'it' if len(queue) == 1 else 'them'}")
                what += f" without `{'`, `'.join(queue)}`"
            if "tuples" in unsafe:
                message += ("; Keras 3's `predict()` takes only a generator that yields tuples (`yield (x,)`), "
                            "where `predict_generator` also took bare inputs")
            if fractional:
                message += ("; Keras 3 takes only a whole number of steps, and Keras 2 ran the ceiling of a "
                            "fraction: `math.ceil()`")
            if counted:
                parts = [f"`{SAMPLES[kw]}=math.ceil({kw} / {ctx.code(counted[i]).strip()})` ({notes[i]})"
                         for i, kw, _ in samples if i in counted]
                message += (f"; Keras 1 counted samples where Keras 3 counts batches: {', '.join(parts)}, as many "
                            f"batches as Keras 1 ran if every batch was full (short batches made it run more")
                if any("ImageDataGenerator" in n for n in notes.values()):
                    message += ("; Keras 3 also ends an epoch where a `flow()` pass over the data ends, and "
                                "Keras 1 went round it")
                message += ")"
                what += " and batch counts"
            if ignored:
                message += "; `nb_val_samples` is removed: Keras 1 read it only with a validation generator"
            if not known:
                message += f" (if `{receiver}` is a Keras model)"
            fix = ctx.fix(what, [ctx.replace((call, top), new_call)], safe=not unsafe and not counted and known,
                          imports=imports)
        ctx.report((call.func.attr, top), message, fix)

    @staticmethod
    def argument(args: list, named: dict, param: str) -> cst.Arg | None:
        """The argument of the call that is ``param`` (by keyword, or by position as ``named`` reads it)."""
        for i, arg in enumerate(args):
            if arg.star:
                continue
            if (arg.keyword is not None and arg.keyword.value == param) or named.get(i) == param:
                return arg
            if param in ("generator", "x") and arg.keyword is None and i == 0:
                return arg
        return None

    @staticmethod
    def batches(scan, site, call: cst.Call) -> str | None:
        """What the generator of a call yields: ``tuple``, ``list``, ``bare`` (inputs alone), or None when
        the code does not tell. Keras's own data (a ``Sequence``, ``ImageDataGenerator.flow``, ``tf.data``)
        counts as tuples: Keras 3 reads it whatever its batches are."""
        node = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "generator"), None)
        if node is None:
            node = next((a.value for a in call.args if a.keyword is None and not a.star), None)
        if site is not None:
            got = site.arg("generator", 0)
            if isinstance(got, Arg) and isinstance(got.value, DatasetV):
                return "tuple"
        for _ in range(3):
            if isinstance(node, cst.Name) and len(scan.assigned.get(node.value, ())) == 1:
                node = scan.assigned[node.value][0]
            else:
                break
        if isinstance(node, cst.GeneratorExp):
            return _batch_kind([node.elt], _unpacked(node.for_in))
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            defs = scan.functions.get(node.func.value, ())
            if len(defs) == 1:
                yields = _Yields()
                defs[0].body.visit(yields)
                if yields.values and None not in yields.values:
                    return _batch_kind(yields.values, None)
        return None

    # ------------------------------------------------- predict_proba, predict_classes

    def predict_proba(self, ctx, call: cst.Call, top, known: bool) -> None:
        receiver = receiver_text(ctx, call)
        message = (f"`{receiver}.predict_proba()` was removed in Keras 3 (AttributeError): `predict()` returns "
                   f"the same values")
        new_call = self.predict_call(call)
        fix = None
        if new_call is not None:
            new_call = _realign(new_call, len("predict_proba") - len("predict"))
            fix = ctx.fix("Use `predict()`", [ctx.replace((call, top), new_call)], safe=known)
        if not known:
            message += f" (if `{receiver}` is a Keras model)"
        ctx.report((call.func.attr, top), message, fix)

    def predict_classes(self, ctx, call: cst.Call, top, models) -> None:
        receiver = receiver_text(ctx, call)
        message = f"`{receiver}.predict_classes()` was removed in Keras 3 (AttributeError)"
        branch = None
        if models:
            branches = {self.branch(ctx.analysis, m) for m in models}
            branch = branches.pop() if len(branches) == 1 else None
        new_call = self.predict_call(call) if branch is not None else None
        fix = None
        if new_call is None:
            message += (": use `predict(x).argmax(axis=-1)` for an output of several units (softmax), or "
                        "`(predict(x) > 0.5).astype(\"int32\")` for a single (sigmoid) unit")
        elif branch == "argmax":
            message += ": the output has several units, so Keras 2 returned `predict(x).argmax(axis=-1)`"
            new_call = _realign(new_call, len("predict_classes") - len("predict"))
            new = cst.Call(func=cst.Attribute(new_call, cst.Name("argmax")),
                           args=[_kwarg("axis", cst.UnaryOperation(cst.Minus(), cst.Integer("1")))])
            fix = ctx.fix("Use `predict(x).argmax(axis=-1)`", [ctx.replace((call, top), new)], safe=False)
        else:
            message += ": the output has one unit, so Keras 2 returned `(predict(x) > 0.5).astype(\"int32\")`"
            new_call = _realign(new_call, len("predict_classes") - len("predict") - 1)  # after "("
            compared = cst.Comparison(new_call, [cst.ComparisonTarget(cst.GreaterThan(), cst.Float("0.5"))],
                                      lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            new = cst.Call(func=cst.Attribute(compared, cst.Name("astype")),
                           args=[cst.Arg(cst.SimpleString('"int32"'))])
            fix = ctx.fix("Use `(predict(x) > 0.5).astype(\"int32\")`", [ctx.replace((call, top), new)], safe=False)
        if models and all(isinstance(m, ModelObj) and m.kind == "functional" for m in models):
            message += " (a functional `Model` had no `predict_classes` in Keras 2 either)"
        ctx.report((call.func.attr, top), message, fix)

    @staticmethod
    def branch(a, model) -> str | None:
        """``argmax`` or ``threshold``: what Keras 2's ``predict_classes`` did with this model's output."""
        outs = model_outputs(a, model) if isinstance(model, ModelObj) else None
        if not outs or len(outs) != 1:
            return None
        out = output_activation(outs[0])
        if out is None:
            return None
        if out.units is not None:
            return "argmax" if out.units > 1 else "threshold"
        return "argmax" if out.activation == "softmax" else None

    @staticmethod
    def predict_call(call: cst.Call) -> cst.Call | None:
        """``receiver.predict(...)`` with the call's arguments, silent unless they say; None if they cannot pass."""
        args = list(call.args)
        seen = set()
        for i, arg in enumerate(args):
            if arg.star:
                return None
            if arg.keyword is None:
                if i >= len(PREDICT_ARGS):
                    return None
                seen.add(PREDICT_ARGS[i])
            elif arg.keyword.value in PREDICT_ARGS:
                seen.add(arg.keyword.value)
            else:
                return None
        if "x" not in seen:
            return None
        if "verbose" not in seen:
            args = _append(args, call, _kwarg("verbose", cst.Integer("0")))
        return call.with_changes(func=call.func.with_changes(attr=cst.Name("predict")), args=args)


# ------------------------------------------------------------------ helpers


class _Scan(cst.CSTVisitor):
    """The calls of the removed methods with their innermost statement, the keyword names the file
    spells, and the methods its classes define."""

    def __init__(self):
        self.calls: list = []
        self.keywords: set = set()
        self.defined: set = set()
        self.functions: dict = {}  # name -> [FunctionDef]
        self.assigned: dict = {}  # name -> [value] of ``name = value``
        self.owner: dict = {}  # id(call) -> the ClassDef it is in
        self.scope: dict = {}  # id(call) -> the innermost FunctionDef it is in (None: the module)
        #: (id of a FunctionDef or 0 for the module, name or dotted attribute) -> the values bound to it there
        #: (None for a binding that is not ``name = value``: a loop variable, an unpacking, ``+=``)
        self.binds: dict = {}
        self.params: dict = {}  # id(FunctionDef) -> its parameter names
        self.methods: set = set()  # ids of the functions defined in a class body
        self._funcs: list = []
        self._stmts: list = []
        self._classes = 0
        self._class_nodes: list = []

    def visit_SimpleStatementLine(self, node) -> None:
        self._stmts.append(node)

    def leave_SimpleStatementLine(self, node) -> None:
        self._stmts.pop()

    def visit_ClassDef(self, node) -> None:
        self._classes += 1
        self._class_nodes.append(node)
        self._stmts.append(node)

    def leave_ClassDef(self, node) -> None:
        self._classes -= 1
        self._class_nodes.pop()
        self._stmts.pop()

    def visit_FunctionDef(self, node) -> None:
        if self._classes:
            self.defined.add(node.name.value)
        if self._class_nodes and self._class_nodes[-1].body is not None and any(
                s is node for s in self._class_nodes[-1].body.body):
            self.methods.add(id(node))
        ps = node.params
        self.params[id(node)] = {p.name.value for p in (*ps.posonly_params, *ps.params, *ps.kwonly_params)} | {
            p.name.value for p in (ps.star_arg, ps.star_kwarg) if isinstance(p, cst.Param)}
        self._bind(node.name.value, None)
        self._funcs.append(node)
        self.functions.setdefault(node.name.value, []).append(node)
        self._stmts.append(node)

    def visit_Assign(self, node) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                self.assigned.setdefault(t.target.value, []).append(node.value)
            self._bind_target(t.target, node.value)

    def visit_AnnAssign(self, node) -> None:
        if node.value is not None:
            self._bind_target(node.target, node.value)

    def visit_AugAssign(self, node) -> None:
        self._bind_target(node.target, None)

    def visit_For(self, node) -> None:
        self._bind_target(node.target, None)

    def visit_CompFor(self, node) -> None:
        pass  # a comprehension's variables are its own

    def visit_WithItem(self, node) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, None)

    def visit_NamedExpr(self, node) -> None:
        self._bind_target(node.target, None)

    def _bind_target(self, target, value) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for e in target.elements:
                self._bind_target(e.value, None)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, None)
        else:
            key = dotted(target)
            if key is not None:
                self._bind(key, value)

    def _bind(self, key: str, value) -> None:
        scope = id(self._funcs[-1]) if self._funcs else 0
        self.binds.setdefault((scope, key), []).append(value)

    def leave_FunctionDef(self, node) -> None:
        self._funcs.pop()
        self._stmts.pop()

    def on_visit(self, node) -> bool:
        if isinstance(node, cst.BaseCompoundStatement) and not isinstance(node, (cst.ClassDef, cst.FunctionDef)):
            self._stmts.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node) -> None:
        super().on_leave(original_node)
        if isinstance(original_node, cst.BaseCompoundStatement) and not isinstance(
                original_node, (cst.ClassDef, cst.FunctionDef)):
            self._stmts.pop()

    def visit_Call(self, node) -> None:
        self.scope[id(node)] = self._funcs[-1] if self._funcs else None
        for a in node.args:
            if a.keyword is not None:
                self.keywords.add(a.keyword.value)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in METHODS and self._stmts:
            self.calls.append((node, self._stmts[-1]))
            if self._class_nodes:
                self.owner[id(node)] = self._class_nodes[-1]


def _site_value(site, args: list, arg: cst.Arg | None):
    """What the analysis knows the argument ``arg`` of the call evaluates to, or None."""
    if site is None or arg is None:
        return None
    if arg.keyword is not None:
        got = site.keywords.get(arg.keyword.value)
    else:
        i = next(i for i, x in enumerate(args) if x is arg)
        got = site.positional[i] if i < len(site.positional) else None
    return got.value if isinstance(got, Arg) else None


def _resolve(scan, scope, name: str):
    """The value of ``name = value``, the one binding of the name where a call in ``scope`` reads it
    (its function, else the module), or None."""
    if scope is not None:
        if name in scan.params.get(id(scope), ()):
            return None
        local = scan.binds.get((id(scope), name), [])
        if local:
            return local[0] if len(local) == 1 else None
    module = scan.binds.get((0, name), [])
    return module[0] if len(module) == 1 else None


_ARITH = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power)


def _pure(node) -> bool:
    """Whether an expression reads names and computes, without calls: it can be written twice."""
    if isinstance(node, (cst.Name, cst.Integer)):
        return True
    if isinstance(node, cst.Attribute):
        return _pure(node.value)
    if isinstance(node, cst.Subscript):
        return _pure(node.value) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index) and (
            isinstance(node.slice[0].slice.value, cst.SimpleString) or _pure(node.slice[0].slice.value))
    if isinstance(node, cst.BinaryOperation):
        return isinstance(node.operator, _ARITH) and _pure(node.left) and _pure(node.right)
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, cst.Minus) and _pure(node.expression)
    return False


class _Keys(cst.CSTVisitor):
    """The names and dotted attribute chains an expression reads."""

    def __init__(self):
        self.keys: set = set()

    def visit_Attribute(self, node) -> None:
        key = dotted(node)
        if key is not None:
            self.keys.add(key)

    def visit_Name(self, node) -> None:
        self.keys.add(node.value)


def _reuse(scan, expr, made: cst.Call, call: cst.Call, inline: bool):
    """``expr``, an argument of the call ``made`` that built the generator, if it means the same at ``call``
    (the generator method's call): a name or attribute bound once where both read it."""
    if not _pure(expr):
        return None
    if inline:
        return expr.deep_clone()
    s1, s2 = scan.scope.get(id(made)), scan.scope.get(id(call))
    keys = _Keys()
    expr.visit(keys)
    for key in keys.keys:
        if s1 is s2:
            if len(scan.binds.get((id(s1) if s1 is not None else 0, key), ())) > 1:
                return None
        elif s1 is None:  # built at module level, read in a function
            root = key.split(".", 1)[0]
            if root in scan.params.get(id(s2), ()) or scan.binds.get((id(s2), key)) \
                    or scan.binds.get((id(s2), root)) or len(scan.binds.get((0, key), ())) > 1:
                return None
        else:
            return None
    return expr.deep_clone()


def _int_of(scan, scope, node) -> cst.Integer | None:
    """A positive integer literal for ``node``: itself, or the literal its name is bound to."""
    for _ in range(3):
        if isinstance(node, cst.Integer):
            return cst.Integer(node.value) if node.evaluated_value > 0 else None
        if not isinstance(node, cst.Name):
            return None
        node = _resolve(scan, scope, node.value)
    return None


def _const_int(value) -> cst.Integer | None:
    if isinstance(value, Const) and isinstance(value.value, int) and not isinstance(value.value, bool) \
            and value.value > 0:
        return cst.Integer(str(value.value))
    return None


class _Reads(cst.CSTVisitor):
    def __init__(self, name: str):
        self.name = name
        self.found = False

    def visit_Name(self, node) -> None:
        if node.value == self.name:
            self.found = True


def _batch_size(ctx, scan, call: cst.Call, gen_node, gen_value):
    """The batch size a generator argument of ``call`` yields, as an expression that can be written at
    ``call``, and a description of where it comes from; None when the code does not tell."""
    a = ctx.analysis
    scope = scan.scope.get(id(call))
    node, inline = gen_node, True
    for _ in range(3):
        if not isinstance(node, cst.Name):
            break
        got = _resolve(scan, scope, node.value)
        if got is None:
            node = None
            break
        node, inline = got, False
        scope = scan.scope.get(id(node), scope)
    flows = {id(site.node): (site, method) for site, obj, method in a.method_calls
             if method in FLOW_BATCH and isinstance(obj, Obj) and obj.qual.rsplit(".", 1)[-1] == "ImageDataGenerator"
             and is_keras(obj.qual) and site.node is not None}
    if isinstance(node, cst.Call) and id(node) in flows:
        fsite, method = flows[id(node)]
        where = f"`ImageDataGenerator.{method}()`'s batch size"
        arg = fsite.keywords.get("batch_size")
        if arg is None:
            idx = FLOW_BATCH[method]
            if idx < len(fsite.positional):
                arg = fsite.positional[idx]
            elif fsite.open_args or fsite.open_kwargs:
                return None
            else:
                return cst.Integer(str(FLOW_DEFAULT)), f"{where} ({FLOW_DEFAULT}, its default)"
        den = _reuse(scan, arg.node, node, call, inline) if arg.via in ("keyword", "positional") else None
        den = den or _const_int(arg.value)
        return (den, where) if den is not None else None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
        return _own_batch_size(scan, call, node, inline)
    if node is not None or not gen_value:
        return None
    # what the analysis followed (a parameter given a flow): the same constant batch size every time
    found = set()
    for d in gen_value:
        if not (isinstance(d, DatasetV) and d.what.startswith("ImageDataGenerator.")):
            return None
        method = d.what[len("ImageDataGenerator."):].rstrip("()")
        if d.batch is not None:
            den = _const_int(d.batch.value)
            if den is None:
                return None
            found.add((den.value, f"`ImageDataGenerator.{method}()`'s batch size"))
        elif method == "flow" and d.default is not None:
            found.add((str(d.default), f"`ImageDataGenerator.{method}()`'s batch size ({d.default}, its default)"))
        else:
            return None
    if len({v for v, _ in found}) != 1:
        return None
    value, where = sorted(found)[0]
    return cst.Integer(value), where


def _own_batch_size(scan, call: cst.Call, gen: cst.Call, inline: bool):
    """The batch size of ``gen``, a call of a generator function of the file, from the argument (or the
    default) of its batch-size parameter."""
    fname = gen.func.value
    defs = scan.functions.get(fname, ())
    if len(defs) != 1 or id(defs[0]) in scan.methods:
        return None
    if sum(len(v) for (sc, k), v in scan.binds.items() if k == fname) != 1:
        return None  # the name is bound to something else too
    fdef = defs[0]
    yields = _Yields()
    fdef.body.visit(yields)
    if not yields.values:
        return None  # not a generator function
    ps = fdef.params
    positional = [*ps.posonly_params, *ps.params]
    batch = [p for p in (*positional, *ps.kwonly_params) if p.name.value.lower() in BATCH_PARAMS]
    if len(batch) != 1:
        return None
    param = batch[0]
    pname = param.name.value
    reads = _Reads(pname)
    fdef.body.visit(reads)
    if not reads.found or any(a.star for a in gen.args):
        return None
    where = f"`{fname}()`'s `{pname}`"
    given = next((a.value for a in gen.args if a.keyword is not None and a.keyword.value == pname), None)
    if given is None and param in positional:
        idx = positional.index(param)
        given_pos = [a for a in gen.args if a.keyword is None]
        if idx < len(given_pos):
            given = given_pos[idx].value
    if given is None:
        if param.default is None:
            return None
        den = _int_of(scan, None, param.default)
        return (den, f"{where} ({den.value}, its default)") if den is not None else None
    den = _reuse(scan, given, gen, call, inline) or _int_of(scan, scan.scope.get(id(gen)), given)
    return (den, where) if den is not None else None


def _ceil_div(ceil: str, num: cst.BaseExpression, den: cst.BaseExpression) -> cst.Call:
    """``math.ceil(num / den)``, with the parentheses the operands need."""
    paren = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]}
    tight = (cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.MatrixMultiply, cst.Power)
    if not num.lpar and (isinstance(num, (cst.BooleanOperation, cst.Comparison, cst.IfExp, cst.Lambda))
                         or (isinstance(num, cst.BinaryOperation) and not isinstance(num.operator, tight))
                         or (isinstance(num, cst.UnaryOperation) and isinstance(num.operator, cst.Not))):
        num = num.with_changes(**paren)
    if not den.lpar and isinstance(den, (cst.BinaryOperation, cst.BooleanOperation, cst.Comparison, cst.IfExp)):
        den = den.with_changes(**paren)
    div = cst.BinaryOperation(num, cst.Divide(whitespace_before=cst.SimpleWhitespace(" "),
                                              whitespace_after=cst.SimpleWhitespace(" ")), den)
    return cst.Call(func=cst.parse_expression(ceil), args=[cst.Arg(div)])


def _callback_model(a, scan, call: cst.Call) -> bool:
    """Whether the receiver is ``self.model`` in a method of a ``keras.callbacks.Callback`` subclass."""
    recv = call.func.value
    if not (isinstance(recv, cst.Attribute) and recv.attr.value == "model" and isinstance(recv.value, cst.Name)
            and recv.value.value == "self"):
        return False
    owner = scan.owner.get(id(call))
    cls = next((c for c in a.classes if c.node is owner), None) if owner is not None else None
    return cls is not None and cls.derives("keras.callbacks.Callback")


class _Yields(cst.CSTVisitor):
    """The values a generator function yields (None for ``yield from`` or a bare ``yield``), not those
    of the functions and classes it defines."""

    def __init__(self):
        self.values: list = []

    def visit_Yield(self, node) -> None:
        self.values.append(node.value if isinstance(node.value, cst.BaseExpression) else None)

    def visit_FunctionDef(self, node) -> bool:
        return False

    def visit_Lambda(self, node) -> bool:
        return False

    def visit_ClassDef(self, node) -> bool:
        return False


def _unpacked(comp: cst.CompFor | None) -> set:
    """The names a comprehension's ``for`` targets unpack from a tuple (``x`` of ``for x, _ in ...``)."""
    names: set = set()
    while comp is not None:
        if isinstance(comp.target, (cst.Tuple, cst.List)):
            names |= {e.value.value for e in comp.target.elements if isinstance(e.value, cst.Name)}
        comp = comp.inner_for_in
    return names


def _batch_kind(values: list, unpacked: set | None) -> str | None:
    """``tuple`` when every value is a tuple display, ``list`` when one is a list, ``bare`` otherwise (when
    ``unpacked`` is None, or the value is a name unpacked from a tuple), None when that cannot be told."""
    if all(isinstance(v, cst.Tuple) for v in values):
        return "tuple"
    if any(isinstance(v, cst.List) for v in values):
        return "list"
    if unpacked is None:
        return "bare"
    if all(isinstance(v, cst.Name) and v.value in unpacked for v in values):
        return "bare"
    return None


def _is_default(site, arg: cst.Arg, default) -> bool:
    """Whether a keyword argument is at its Keras 1/2 default, as written or as the code computes it."""
    value = None
    if site is not None:
        got = site.keywords.get(arg.keyword.value)
        if isinstance(got, Arg) and isinstance(got.value, Const):
            value = got.value.value
    if value is None:
        node = arg.value
        if isinstance(node, cst.Integer):
            value = node.evaluated_value
        elif isinstance(node, cst.Name) and node.value in ("True", "False"):
            value = node.value == "True"
        else:
            return False
    if isinstance(default, bool):
        return value is default or (not isinstance(value, bool) and value == int(default))
    return not isinstance(value, bool) and value == default


def _fractional(site, arg: cst.Arg, pos: int | None) -> bool:
    """Whether an argument is a fraction: a true division, a float literal, or a name the code sets to one."""
    node = arg.value
    if isinstance(node, cst.Float) or (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide)):
        return True
    if site is None:
        return False
    got = site.positional[pos] if pos is not None and pos < len(site.positional) else (
        site.keywords.get(arg.keyword.value) if arg.keyword is not None else None)
    return isinstance(got, Arg) and isinstance(got.value, Const) and isinstance(got.value.value, float)


def _math_ceil(a) -> tuple[str | None, list]:
    """How the file spells ``math.ceil``, and the import it needs; None when ``math`` is another name here."""
    scope = a.module_scope.vars if a.module_scope is not None else {}
    for local, bound in scope.items():
        if isinstance(bound, Ref) and bound.raw == "math":
            return f"{local}.ceil", []
    if "math" in scope:
        return None, []
    return "math.ceil", [ImportNeed(None, "math")]


def _realign(call: cst.Call, delta: int) -> cst.Call:
    """``call`` with the continuation lines of its arguments moved ``delta`` columns left, when they line
    up under its opening parenthesis (the text before the parenthesis got ``delta`` characters shorter)."""
    if delta <= 0 or isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call  # a hanging indent: it does not follow the parenthesis
    widths = {len(w.last_line.value) for a in call.args for w in (a.comma.whitespace_after if isinstance(
        a.comma, cst.Comma) else None, a.whitespace_after_arg) if isinstance(w, cst.ParenthesizedWhitespace)}
    if len(widths) != 1 or min(widths) <= delta:
        return call

    def shift(w):
        if not isinstance(w, cst.ParenthesizedWhitespace):
            return w
        return w.with_changes(last_line=cst.SimpleWhitespace(w.last_line.value[delta:]))

    class Nested(cst.CSTTransformer):
        # the continuation lines inside an argument (``datagen.flow(x,\n batch_size=32)``) move with it
        def leave_ParenthesizedWhitespace(self, original, updated):
            return shift(updated) if len(updated.last_line.value) > delta else updated

    args = []
    for a in call.args:
        comma = a.comma.with_changes(whitespace_after=shift(a.comma.whitespace_after)) if isinstance(
            a.comma, cst.Comma) else a.comma
        args.append(a.with_changes(value=a.value.visit(Nested()), comma=comma,
                                   whitespace_after_arg=shift(a.whitespace_after_arg)))
    return call.with_changes(args=args)


def _equal() -> cst.AssignEqual:
    return cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def _kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(keyword=cst.Name(name), value=value, equal=_equal())


def _drop(args: list, idx: int) -> None:
    """Remove ``args[idx]``, keeping the call's layout: the last argument leaves its comma to the one before."""
    removed = args.pop(idx)
    if idx == len(args) and args:
        args[-1] = args[-1].with_changes(comma=removed.comma, whitespace_after_arg=removed.whitespace_after_arg)


def _append(args: list, call: cst.Call, new: cst.Arg) -> list:
    """``args`` with ``new`` added at the end, in the call's layout (before a trailing comma)."""
    args = list(args)
    if not args:
        return [new]
    last = args[-1]
    comma = last.comma
    tail = last.whitespace_after_arg
    sep = next((a.comma for a in args[:-1] if isinstance(a.comma, cst.Comma)), None)
    if sep is None:
        before = call.whitespace_before_args
        sep = cst.Comma(whitespace_after=before) if isinstance(before, cst.ParenthesizedWhitespace) \
            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if isinstance(comma, cst.Comma):
        args[-1] = last.with_changes(comma=sep, whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(new.with_changes(comma=comma, whitespace_after_arg=tail))
    else:
        args[-1] = last.with_changes(comma=sep, whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(new.with_changes(whitespace_after_arg=tail))
    return args
