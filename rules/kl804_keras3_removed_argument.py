"""KL804 keras3-removed-argument."""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.engine.syntax import arg_location, keyword_arg, through_keras2, without
from klint.source.values import Arg, Const, LayerObj, ModelObj, TensorV

#: A ``Gone.safe`` that says every value: the argument did nothing that Keras 3 does not do.
ANY = "any"


@dataclass(frozen=True)
class Gone:
    """A Keras 2 argument that Keras 3 removed, and what a fix may do with it."""

    why: str  # what it was and what Keras 3 does with it, for the message
    safe: object = ()  # values whose removal is exact (Keras 2's default, or a no-op), or ANY
    otherwise: str | None = None  # other values: an unsafe removal, saying what changes; None: no fix
    rename: str | None = None  # the Keras 3 name of the same setting
    rename_safe: bool = True  # else safe only for the values of ``safe`` (Keras 3's default of the new name)
    until: tuple | None = None  # the Keras 3 release that accepts it again: reported for older targets
    advice: str | None = None  # what to do instead, for a value whose removal is not exact


#: Arguments of Keras 2's ``BatchNormalization`` that Keras 3 does not accept: its base layer raises
#: ``ValueError: Unrecognized keyword arguments passed to BatchNormalization`` (keras/src/layers/layer.py).
BATCHNORM = {
    "fused": Gone("chose TensorFlow's fused kernel, a speed setting with the same result; Keras 3 rejects it "
                  "(ValueError: Unrecognized keyword arguments)", safe=ANY),
    "virtual_batch_size": Gone(
        "(Keras 2's ghost batch normalization) is gone: Keras 3 rejects it (ValueError: Unrecognized keyword "
        "arguments)", safe=(None,),
        otherwise="each batch is then normalized as a whole, not in ghost batches of `virtual_batch_size` samples"),
    "adjustment": Gone("(Keras 2's function that adjusted the normalized values in training) is gone: Keras 3 "
                       "rejects it (ValueError: Unrecognized keyword arguments)", safe=(None,),
                       advice="it has no Keras 3 counterpart: a subclass of `BatchNormalization` can do it"),
    # batch renormalization came back in Keras 3.14.0 (keras-team/keras 019d9edeeb)
    "renorm": Gone("(batch renormalization) is in Keras 3.14 and later only: older Keras 3 rejects it "
                   "(ValueError: Unrecognized keyword arguments): target Keras 3.14 or later", safe=(False,),
                   until=(3, 14)),
    "renorm_clipping": Gone("(batch renormalization) is in Keras 3.14 and later only: older Keras 3 rejects it "
                            "(ValueError: Unrecognized keyword arguments)", safe=(None,), until=(3, 14)),
    "renorm_momentum": Gone("(batch renormalization) is in Keras 3.14 and later only: older Keras 3 rejects it "
                            "(ValueError: Unrecognized keyword arguments)", until=(3, 14)),
}

#: Arguments of Keras 2's ``Model.fit``/``evaluate``/``predict`` for its data-loading threads, gone in
#: Keras 3 (keras/src/backend/*/trainer.py): ``fit`` and ``predict`` raise TypeError, ``evaluate``
#: ``ValueError: Arguments not recognized``.
MOVED_TO_PYDATASET = ("load in parallel only when the `keras.utils.PyDataset` they come from is given "
                      "`workers`, `use_multiprocessing` and `max_queue_size`")
LOADING = {
    name: Gone("moved to `keras.utils.PyDataset` in Keras 3: `{method}()` rejects it ({error})",
               safe=(default,), otherwise=f"the data then {MOVED_TO_PYDATASET}")
    for name, default in (("workers", 1), ("max_queue_size", 10), ("use_multiprocessing", False))
}
#: What each method raises for them (Keras 3.15.1, keras/src/backend/tensorflow/trainer.py).
LOADING_ERRORS = {"fit": "TypeError", "evaluate": "ValueError: Arguments not recognized", "predict": "TypeError"}
LOADING_METHODS = ("fit", "evaluate", "predict")

#: Arguments of Keras 2's ``Model.compile`` that Keras 3's rejects (TypeError: unexpected keyword
#: argument, keras/src/trainers/trainer.py). TensorFlow 2's ``tf.keras`` already ignored
#: ``experimental_run_tf_function`` ("Always `True`") and ``sample_weight_mode``, and raised for a
#: ``distribute`` or ``target_tensors`` that is not None (``Model._validate_compile``).
COMPILE = {
    "sample_weight_mode": Gone(
        "is gone: Keras 3 rejects it (TypeError) and, as TensorFlow 2's `tf.keras` did, weights each timestep "
        "by itself when `sample_weight` is 2D", safe=(None,),
        otherwise="Keras 3 weights each timestep when `sample_weight` is 2D, averaging over all of them (Keras "
                  "2.2 divided by the share of non-zero weights)"),
    "target_tensors": Gone("(TF1 graph targets) is gone: Keras 3 rejects it (TypeError)", safe=(None,),
                           advice="pass the targets to `fit()`"),
    "distribute": Gone("is gone: Keras 3 rejects it (TypeError)", safe=(None,),
                       advice="build and compile the model inside `strategy.scope()`"),
    "experimental_run_tf_function": Gone("is gone: Keras 3 rejects it (TypeError); TensorFlow 2.2 and later "
                                         "already ignored it", safe=ANY),
    "experimental_steps_per_execution": Gone("was renamed `steps_per_execution`; Keras 3 rejects the old name "
                                             "(TypeError)", rename="steps_per_execution"),
}

#: Arguments of Keras 2 callbacks that Keras 3 removed (keras/src/callbacks/).
CALLBACKS = {
    "ModelCheckpoint": {
        "period": Gone("(epochs between saves) is gone: Keras 3 rejects it (TypeError)", safe=(1,),
                       advice="Keras 3's `save_freq` counts batches, not epochs: save every N epochs from a "
                              "callback's `on_epoch_end`"),
        "load_weights_on_restart": Gone("is gone: Keras 3 rejects it (TypeError)", safe=(False,),
                                        advice="call `model.load_weights()` before `fit()`"),
        "options": Gone("(TensorFlow's checkpoint options) is gone: Keras 3 rejects it (TypeError)",
                        safe=(None,)),
    },
    # TensorFlow 2's tf.keras warned and ignored these four (``TensorBoard._validate_kwargs``)
    "TensorBoard": {name: Gone("was already ignored by TensorFlow 2's `tf.keras`; Keras 3 rejects it "
                               "(TypeError)", safe=ANY)
                    for name in ("write_grads", "batch_size", "embeddings_layer_names", "embeddings_data")},
    # Keras 2.1.6 to tf.keras 2.15 read ``epsilon`` as ``min_delta``; Keras 3 swallows it in **kwargs
    "ReduceLROnPlateau": {
        "epsilon": Gone("was Keras 2's name of `min_delta`; Keras 3 silently ignores it, so the plateau "
                        "threshold stays at the default 1e-4", rename="min_delta", rename_safe=False,
                        safe=(1e-4,)),
    },
}

#: Keras 3 optimizers with an ``epsilon``, all defaulting to 1e-7, Keras 2's ``K.epsilon()``
#: (keras/src/optimizers/*.py, Keras 3.0 to 3.15).
EPSILON_OPTIMIZERS = frozenset(f"keras.optimizers.{n}" for n in (
    "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Lamb", "Muon"))

#: Layers of Keras 3 that still take ``weights=``: Embedding from Keras 3.3 (keras-team/keras 222174fbb1),
#: and Bidirectional, which stores them on its sub-layers where nothing reads them.
EMBEDDING = "keras.layers.Embedding"
BIDIRECTIONAL = "keras.layers.Bidirectional"
EMBEDDING_WEIGHTS_SINCE = (3, 3)
#: Keras 3.0 and 3.1 reject ``Embedding(input_length=...)``; 3.2 and later warn and ignore it.
INPUT_LENGTH_IGNORED_SINCE = (3, 2)


class Keras3RemovedArgument(Rule):
    """
    ## What it does
    Checks calls of Keras layers, models, optimizers and callbacks for
    Keras 2 (`tf.keras` 2.x) arguments that Keras 3 removed:

    | call | arguments |
    | --- | --- |
    | `BatchNormalization` | `fused`, `virtual_batch_size`, `adjustment`; `renorm`, `renorm_clipping`, `renorm_momentum` when the target is older than Keras 3.14 |
    | any layer | `weights` (initial weights); `Embedding` accepts it from Keras 3.3 |
    | `Embedding` | `input_length` |
    | an optimizer | `epsilon=None` |
    | `model.fit`, `evaluate`, `predict` | `workers`, `max_queue_size`, `use_multiprocessing` |
    | `model.compile` | `sample_weight_mode`, `target_tensors`, `distribute`, `experimental_run_tf_function`, `experimental_steps_per_execution` |
    | `ModelCheckpoint` | `period`, `load_weights_on_restart`, `options` |
    | `TensorBoard` | `write_grads`, `batch_size`, `embeddings_layer_names`, `embeddings_data` |
    | `ReduceLROnPlateau` | `epsilon` |

    Calls are resolved through the file's imports (`keras`, `tf.keras`,
    `from tensorflow.keras.layers import ...`), and arguments are found
    whether written in the call or expanded from a `**` dict. The methods
    are checked on a Keras model the file builds or loads; on a model the
    source view cannot follow (a function's parameter), `compile` and
    `fit` are checked when their arguments are Keras's, `evaluate` and
    `predict` are not. Keras 1
    names (`init=`, `border_mode=`, `nb_epoch=`...), `fit_generator` and
    the optimizers' `lr`/`decay` are other rules' findings (KL803, KL802,
    KL402). `input_shape=` and `input_dim=` are not reported: Keras 3 still
    accepts them, with a warning.

    ## Why is this bad
    Keras 3 checks the keyword arguments it is given (Keras 3.15.1):
    a layer's base class raises `ValueError: Unrecognized keyword arguments
    passed to BatchNormalization: {'fused': True}`
    (`keras/src/layers/layer.py`), `Model.fit` and `predict` raise
    `TypeError: TensorFlowTrainer.fit() got an unexpected keyword argument
    'workers'` and `evaluate` raises `ValueError: Arguments not
    recognized` (`keras/src/backend/tensorflow/trainer.py`), `compile`
    raises `TypeError: Trainer.compile() got an unexpected keyword
    argument 'sample_weight_mode'` (`keras/src/trainers/trainer.py`), and
    `ModelCheckpoint(period=...)` and `TensorBoard(write_grads=...)` raise
    `TypeError` (`keras/src/callbacks/`): the script stops where the
    object is built, or at `fit`, after the data was loaded.

    Others are accepted and misread, which is worse. `Adam(epsilon=None)`
    meant `K.epsilon()` (1e-7) in Keras 2; Keras 3 builds the optimizer but
    its first training step raises `ValueError: None values not
    supported`. `ReduceLROnPlateau(epsilon=...)` was Keras 2's `min_delta`;
    Keras 3 swallows it (`keras/src/callbacks/reduce_lr_on_plateau.py`
    takes `**kwargs`), so the learning rate drops on a different plateau
    than the one the script asks for. `Embedding(input_length=...)` gave
    Keras 2's Sequential model its input shape; Keras 3 warns and ignores
    it (`keras/src/layers/core/embedding.py`), so the model is not built
    until it trains, `summary()` shows no shapes and `count_params()`
    raises `ValueError`. `Bidirectional(weights=...)` is stored on the
    wrapped layers and never read (`keras/src/layers/rnn/bidirectional.py`):
    the layer starts from random weights.

    ## Example
    ```python
    model.add(layers.BatchNormalization(fused=True))
    model.compile("adam", "mse", experimental_steps_per_execution=8)
    model.fit(x, y, workers=1, use_multiprocessing=False,
              callbacks=[ModelCheckpoint("best.keras", period=1)])
    ```

    ## Use instead
    ```python
    model.add(layers.BatchNormalization())
    model.compile("adam", "mse", steps_per_execution=8)
    model.fit(x, y, callbacks=[ModelCheckpoint("best.keras")])
    ```

    ## Fix safety
    An argument is removed when it did nothing Keras 3 does not do: a
    speed setting (`fused`), an argument TensorFlow 2's `tf.keras` already
    ignored (`TensorBoard`'s `write_grads`, `batch_size`,
    `embeddings_layer_names`, `embeddings_data`; `compile`'s
    `experimental_run_tf_function`), or a value that was the Keras 2
    default (`workers=1`, `max_queue_size=10`, `use_multiprocessing=False`,
    `period=1`, an optimizer's `epsilon=None`, which was 1e-7 as Keras 3's
    optimizers default to, `virtual_batch_size=None`,
    `sample_weight_mode=None`, `target_tensors=None`...). These fixes are
    safe, and so is `experimental_steps_per_execution` renamed to
    `steps_per_execution`.
    `Embedding(input_length=n)` becomes `input_shape=(n,)`, Keras 2's own
    reading of it, when the layer may start a Sequential model, and is
    removed when the layer is called on a tensor or follows another layer:
    both safe.

    Unsafe: other loading settings (`workers=4`, `use_multiprocessing=True`)
    are removed, and the data then loads on one thread unless the script
    moves them to its `keras.utils.PyDataset`; `virtual_batch_size=n` is
    removed, so each batch is normalized as a whole;
    `sample_weight_mode="temporal"` is removed: Keras 3 weights each
    timestep by itself when `sample_weight` is 2D, but averages over all
    timesteps where Keras 2.2 divided by the share of non-zero weights;
    `ReduceLROnPlateau`'s `epsilon` becomes `min_delta`, which changes
    when the learning rate drops compared with the Keras 3 run that
    ignored it (safe when it is 1e-4, Keras 3's default).

    No fix is offered for what has no exact Keras 3 spelling: `period=n`
    (n > 1), initial `weights=` of a layer (call `layer.set_weights()` once
    it is built), `adjustment=`, `target_tensors=` or `distribute=` with a
    value, `load_weights_on_restart=True`, batch renormalization on a
    target older than Keras 3.14, or an argument expanded from a `**` dict.
    Calls through `tf_keras` (Keras 2 itself) are not checked.

    ## Options
    None. The findings on `renorm` and `Embedding(weights=...)` depend on
    the Keras release the project targets (`[tool.klint] target-version`).
    """

    code = "KL804"
    name = "keras3-removed-argument"
    summary = "Keras 2 argument that Keras 3 removed"
    views = ("source",)
    fix = FixAvailability.SOMETIMES
    keras3_upgrade = True

    VALID = [
        Valid("import keras\n\nbn = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)\n"),
        Valid("import keras\n\nbn = keras.layers.BatchNormalization(renorm=True, renorm_momentum=0.9)\n",
              "batch renormalization is back in Keras 3.14"),
        Valid("from mylib import BatchNormalization\n\nbn = BatchNormalization(fused=True)\n", "not Keras"),
        Valid("import tf_keras\n\nbn = tf_keras.layers.BatchNormalization(fused=True)\n", "Keras 2 itself"),
        Valid("import numpy as np\nimport keras\n\nemb = keras.layers.Embedding(3, 2, weights=[np.ones((3, 2))])\n",
              "Embedding takes weights= from Keras 3.3"),
        Valid("import keras\n\nemb = keras.layers.Embedding(10, 4, input_length=None)\n"
              "dense = keras.layers.Dense(4, input_shape=(8,))\n",
              "input_length=None is no setting; input_shape is still accepted"),
        Valid("import keras\n\nopt = keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8)\n"),
        Valid(
            "import keras\n\n"
            "class Batches(keras.utils.PyDataset):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(workers=4, use_multiprocessing=True, max_queue_size=8, **kwargs)\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='sgd', loss='mse', steps_per_execution=4)\n"
            "model.fit(Batches(), epochs=1)\n",
            "the loading settings on the PyDataset, where Keras 3 wants them",
        ),
        Valid(
            "from sklearn.ensemble import RandomForestClassifier\n\n"
            "clf = RandomForestClassifier()\nclf.fit([[0]], [0])\nclf.predict([[0]])\n",
            "not a Keras model",
        ),
        Valid(
            "class Trainer:\n"
            "    def fit(self, x, workers=1, use_multiprocessing=False):\n"
            "        return x\n\n"
            "Trainer().fit([1], workers=4, use_multiprocessing=True)\n",
            "a class of the file",
        ),
        Valid("from tensorflow.keras.callbacks import ModelCheckpoint, ReduceLROnPlateau, TensorBoard\n\n"
              "cbs = [ModelCheckpoint('m.keras', save_freq='epoch'), ReduceLROnPlateau(min_delta=1e-3),\n"
              "       TensorBoard(log_dir='logs', histogram_freq=1)]\n"),
    ]

    INVALID = [
        Invalid(
            "import keras\n\nbn = keras.layers.BatchNormalization(momentum=0.9, fused=True)\n",
            "import keras\n\nbn = keras.layers.BatchNormalization(momentum=0.9)\n",
            lines=(3,), raises="ValueError"),
        Invalid(
            "from tensorflow.keras.layers import BatchNormalization\n\n"
            "bn = BatchNormalization(virtual_batch_size=8, adjustment=None)\n",
            "from tensorflow.keras.layers import BatchNormalization\n\nbn = BatchNormalization()\n",
            note="unsafe: ghost batches are gone; adjustment=None is simply removed", raises="ValueError"),
        Invalid(
            "import keras\n\nbn = keras.layers.BatchNormalization(adjustment=lambda shape: (1.0, 0.0))\n",
            None, note="no Keras 3 counterpart", raises="ValueError"),
        Invalid(
            "import keras\n\nbn = keras.layers.BatchNormalization(renorm=True, renorm_clipping={'rmax': 3.0})\n",
            None, lines=(3, 3), target="3.13",
            note="Keras 3.13 has no batch renormalization (the installed Keras runs it)"),
        Invalid(
            "import keras\n\nbn = keras.layers.BatchNormalization(renorm=False, renorm_momentum=0.9)\n",
            "import keras\n\nbn = keras.layers.BatchNormalization()\n", target="3.13",
            note="without renorm the arguments do nothing: removed"),
        Invalid(
            "import numpy as np\nimport keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer=keras.optimizers.Adam(epsilon=None), loss='mse')\n"
            "model.fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)\n",
            "import numpy as np\nimport keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer=keras.optimizers.Adam(), loss='mse')\n"
            "model.fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)\n",
            lines=(5,), note="fails at the first training step", raises="ValueError"),
        Invalid(
            "import numpy as np\nimport keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='sgd', loss='mse')\n"
            "model.fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0, workers=1, use_multiprocessing=False)\n",
            "import numpy as np\nimport keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='sgd', loss='mse')\n"
            "model.fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)\n",
            lines=(6, 6), note="Keras 2's defaults: removed", raises="TypeError"),
        Invalid(
            "import numpy as np\nfrom tensorflow import keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='sgd', loss='mse')\n"
            "loss = model.evaluate(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0, workers=4,\n"
            "                      use_multiprocessing=True)\n",
            "import numpy as np\nfrom tensorflow import keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='sgd', loss='mse')\n"
            "loss = model.evaluate(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)\n",
            lines=(6, 7), note="unsafe: parallel loading belongs on a PyDataset", raises="ValueError"),
        Invalid(
            "import numpy as np\nimport keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "pred = model.predict(np.zeros((2, 2)), verbose=0, max_queue_size=10)\n",
            "import numpy as np\nimport keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "pred = model.predict(np.zeros((2, 2)), verbose=0)\n",
            raises="TypeError"),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((3, 2)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse', sample_weight_mode='temporal',\n"
            "              experimental_steps_per_execution=4)\n",
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((3, 2)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse',\n"
            "              steps_per_execution=4)\n",
            lines=(4, 5), note="unsafe: Keras 3 weights timesteps by itself", raises="TypeError"),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse', experimental_run_tf_function=False, distribute=None)\n",
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n",
            note="arguments TensorFlow 2 already ignored", raises="TypeError"),
        Invalid(
            "import keras\n\n"
            "def build(targets):\n"
            "    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "    model.compile(optimizer='adam', loss='mse', target_tensors=[targets])\n"
            "    return model\n\n"
            "model = build(None)\n",
            None, lines=(5,), note="TF1 graph targets: no fix", raises="TypeError"),
        Invalid(
            "from keras.callbacks import ModelCheckpoint, TensorBoard\n\n"
            "cbs = [ModelCheckpoint('m.keras', save_best_only=True, period=1),\n"
            "       TensorBoard(log_dir='logs', write_grads=True, batch_size=32)]\n",
            "from keras.callbacks import ModelCheckpoint, TensorBoard\n\n"
            "cbs = [ModelCheckpoint('m.keras', save_best_only=True),\n"
            "       TensorBoard(log_dir='logs')]\n",
            lines=(3, 4, 4), raises="TypeError"),
        Invalid(
            "import tensorflow as tf\n\n"
            "checkpoint = tf.keras.callbacks.ModelCheckpoint('m.keras', period=5)\n",
            None, note="every 5 epochs: save_freq counts batches", raises="TypeError"),
        Invalid(
            "import keras\n\ncb = keras.callbacks.ReduceLROnPlateau(patience=2, epsilon=0.01)\n",
            "import keras\n\ncb = keras.callbacks.ReduceLROnPlateau(patience=2, min_delta=0.01)\n",
            note="unsafe: Keras 3 ignored it", silent="cb.min_delta != 0.01"),
        Invalid(
            "import numpy as np\nimport keras\n\n"
            "dense = keras.layers.Dense(2, weights=[np.ones((2, 2)), np.zeros(2)])\n",
            None, note="initial weights: set them once the layer is built", raises="ValueError"),
        Invalid(
            "import keras\n\nconv = keras.layers.Conv2D(8, 3, weights=None)\n",
            "import keras\n\nconv = keras.layers.Conv2D(8, 3)\n", raises="ValueError"),
        Invalid(
            "import numpy as np\nimport keras\n\n"
            "w = [np.full((3, 1), 0.5), np.full((1, 1), 0.5), np.full((1,), 0.5)] * 2\n"
            "layer = keras.layers.Bidirectional(keras.layers.SimpleRNN(1), weights=w)\n"
            "out = layer(np.zeros((1, 2, 3), 'float32'))\n",
            None, note="stored and never read",
            silent="not np.allclose(layer.forward_layer.get_weights()[2], 0.5)"),
        Invalid(
            "from tensorflow.keras.models import Sequential\n"
            "from tensorflow.keras.layers import Dense, Embedding, Flatten\n\n"
            "model = Sequential()\n"
            "model.add(Embedding(100, 8, input_length=5))\n"
            "model.add(Flatten())\n"
            "model.add(Dense(1))\n",
            "from tensorflow.keras.models import Sequential\n"
            "from tensorflow.keras.layers import Dense, Embedding, Flatten\n\n"
            "model = Sequential()\n"
            "model.add(Embedding(100, 8, input_shape=(5,)))\n"
            "model.add(Flatten())\n"
            "model.add(Dense(1))\n",
            lines=(5,), note="the Sequential model's input shape, as Keras 2 read it", silent="not model.built"),
        Invalid(
            "import keras\n\n"
            "tokens = keras.Input((5,))\n"
            "vectors = keras.layers.Embedding(100, 8, input_length=5)(tokens)\n",
            "import keras\n\n"
            "tokens = keras.Input((5,))\n"
            "vectors = keras.layers.Embedding(100, 8)(tokens)\n",
            note="called on a tensor: removed", warns="`input_length` is deprecated"),
        Invalid(
            "import numpy as np\nimport keras\n\n"
            "emb = keras.layers.Embedding(3, 2, weights=[np.ones((3, 2))])\n",
            None, target="3.2", note="Embedding takes weights= from Keras 3.3 (the installed Keras runs it)"),
        Invalid(
            "import keras\n\n"
            "bn_args = {'fused': True, 'momentum': 0.9}\n"
            "bn = keras.layers.BatchNormalization(**bn_args)\n",
            None, lines=(3,), note="from a ** dict: reported on the key, not fixed", raises="ValueError"),
    ]

    # ------------------------------------------------------------------ checking

    def check(self, ctx) -> None:
        self._done: set = set()
        target = getattr(ctx, "target", None)
        self._keras = target.keras if target is not None else (3, 15)
        for layer in ctx.analysis.layers:
            if isinstance(layer, LayerObj) and not layer.library:
                self.check_layer(ctx, layer)
        for opt in ctx.analysis.optimizers:
            if opt.qual in EPSILON_OPTIMIZERS:
                self.check_epsilon(ctx, opt)
        for cb in ctx.analysis.callbacks:
            table = CALLBACKS.get(cb.qual.rsplit(".", 1)[-1]) if cb.qual.startswith("keras.callbacks.") else None
            if table and cb.site is not None and not through_keras2(ctx.analysis, cb.site.node):
                self.check_table(ctx, cb.site, cb.qual.rsplit(".", 1)[-1], table)
        uses_keras = bool(ctx.analysis.roots)
        for info in ctx.analysis.compiles:
            if self.keras_receiver(ctx, info.model, uses_keras):
                self.check_table(ctx, info.site, "compile", COMPILE)
        for info in ctx.analysis.fits:
            if info.model is None and uses_keras and _method_name(info.site) == "fit":
                self.check_table(ctx, info.site, "fit", LOADING)
        for site, receiver, method in ctx.analysis.method_calls:
            if method in LOADING_METHODS and isinstance(receiver, ModelObj) \
                    and self.keras_receiver(ctx, receiver, uses_keras):
                self.check_table(ctx, site, method, LOADING)

    @staticmethod
    def keras_receiver(ctx, model, uses_keras: bool) -> bool:
        """A Keras model (not one of Keras 2's own ``tf_keras``), or an unknown receiver in a Keras file
        whose call the source view recognised as ``compile``/``fit`` by its arguments."""
        if model is None:
            return uses_keras
        if not isinstance(model, ModelObj):
            return False
        return model.site is None or model.site.node is None or not through_keras2(ctx.analysis, model.site.node)

    def check_layer(self, ctx, layer: LayerObj) -> None:
        site = layer.site
        if site is None or site.node is None or through_keras2(ctx.analysis, site.node):
            return
        short = layer.qual.rsplit(".", 1)[-1]
        if layer.qual == "keras.layers.BatchNormalization":
            self.check_table(ctx, site, short, BATCHNORM)
        if "weights" in site.keywords:
            self.check_weights(ctx, layer, short)
        if layer.qual == EMBEDDING and "input_length" in site.keywords:
            self.check_input_length(ctx, layer)

    def check_table(self, ctx, site, what: str, table: dict) -> None:
        if site is None or site.node is None:
            return
        for name, arg in list(site.keywords.items()):
            gone = table.get(name)
            if gone is None or not self.first(site, name):
                continue
            if gone.until is not None and self._keras >= gone.until:
                continue
            where = arg_location(site, arg, name)
            shown = f"`{what}(..., {name}=...)`" if what[:1].isupper() else f"`.{what}(..., {name}=...)`"
            message = f"{shown}: `{name}` " + gone.why.replace("{method}", what).replace("{error}", LOADING_ERRORS.get(what, ""))
            fix = None
            if arg.via == "keyword":
                fix = self.table_fix(ctx, site, name, arg, gone)
            if gone.advice is not None and not (gone.safe == ANY or _is_one_of(arg.value, gone.safe)):
                message += f": {gone.advice}"
            ctx.report(where if where is not None else site, message, fix)

    def table_fix(self, ctx, site, name: str, arg: Arg, gone: Gone):
        kw = keyword_arg(site.node, name)
        if kw is None:
            return None
        if gone.rename is not None:
            if gone.rename in site.keywords:
                return None
            safe = gone.rename_safe or _is_one_of(arg.value, gone.safe)
            message = f"Rename `{name}` to `{gone.rename}`"
            if not safe:
                message += ": the setting that Keras 3 ignored now applies"
            return ctx.fix(message, [ctx.replace((kw.keyword, site.top), gone.rename)], safe=safe)
        removal = [ctx.replace(site, without(site.node, kw))]
        if gone.safe == ANY or _is_one_of(arg.value, gone.safe):
            return ctx.fix(f"Remove `{name}`", removal)
        if name == "renorm_momentum" and _is_one_of(site.value("renorm"), (False,)) or (
                name == "renorm_momentum" and "renorm" not in site.keywords and not site.open_kwargs):
            return ctx.fix("Remove `renorm_momentum` (unused without `renorm`)", removal)
        if gone.otherwise is not None:
            return ctx.fix(f"Remove `{name}`: {gone.otherwise}", removal, safe=False)
        return None

    def check_epsilon(self, ctx, opt) -> None:
        site = opt.site
        if site is None or site.node is None or through_keras2(ctx.analysis, site.node):
            return
        arg = site.keywords.get("epsilon")
        if arg is None or not _is_one_of(arg.value, (None,)) or not self.first(site, "epsilon"):
            return
        short = opt.qual.rsplit(".", 1)[-1]
        fix = None
        kw = keyword_arg(site.node, "epsilon") if arg.via == "keyword" else None
        if kw is not None:
            fix = ctx.fix("Remove `epsilon=None` (Keras 3's default is Keras 2's `K.epsilon()`, 1e-7)",
                          [ctx.replace(site, without(site.node, kw))])
        where = arg_location(site, arg, "epsilon")
        ctx.report(where if where is not None else site,
                   f"`{short}(..., epsilon=None)`: Keras 2 read it as `K.epsilon()` (1e-7); Keras 3 builds the "
                   f"optimizer, but its first training step raises `ValueError: None values not supported`", fix)

    def check_weights(self, ctx, layer: LayerObj, short: str) -> None:
        site = layer.site
        arg = site.keywords["weights"]
        if not self.first(site, "weights"):
            return
        if layer.qual == EMBEDDING:
            if self._keras >= EMBEDDING_WEIGHTS_SINCE:
                return
            message = ("`Embedding(..., weights=...)`: Keras 3.0 to 3.2 reject `weights` (ValueError: "
                       "Unrecognized keyword arguments): target Keras 3.3 or later, or pass "
                       "`embeddings_initializer=keras.initializers.Constant(matrix)`")
        elif layer.qual == BIDIRECTIONAL:
            message = ("`Bidirectional(..., weights=...)`: Keras 3 stores `weights` on the wrapped layers and "
                       "never reads them, so the layer silently starts from random weights: call "
                       "`layer.set_weights(...)` once it is built")
        else:
            message = (f"`{short}(..., weights=...)`: Keras 3 layers take no initial `weights` (ValueError: "
                       f"Unrecognized keyword arguments): call `layer.set_weights(...)` once the layer is built")
        fix = None
        kw = keyword_arg(site.node, "weights") if arg.via == "keyword" else None
        if kw is not None and _is_one_of(arg.value, (None,)):
            fix = ctx.fix("Remove `weights=None`", [ctx.replace(site, without(site.node, kw))])
            message = f"`{short}(..., weights=None)`: Keras 3 rejects `weights` (ValueError: Unrecognized keyword " \
                      f"arguments), and None set no weights"
        where = arg_location(site, arg, "weights")
        ctx.report(where if where is not None else site, message, fix)

    def check_input_length(self, ctx, layer: LayerObj) -> None:
        site = layer.site
        arg = site.keywords["input_length"]
        if _is_one_of(arg.value, (None,)) or not self.first(site, "input_length"):
            return
        starts = _starts_a_model(ctx, layer)
        if self._keras < INPUT_LENGTH_IGNORED_SINCE:
            what = "Keras 3.0 and 3.1 reject it (ValueError: Unrecognized keyword arguments)"
        elif starts:
            what = ("Keras 3 warns and ignores it, so a Sequential model that starts with this layer is not "
                    "built until it trains: `summary()` shows no shapes and `count_params()` raises")
        else:
            what = "Keras 3 warns and ignores it"
        message = f"`Embedding(..., input_length=...)`: Keras 2 made it the layer's input shape; {what}"
        fix = None
        kw = keyword_arg(site.node, "input_length") if arg.via == "keyword" else None
        if kw is not None:
            if starts and not any(
                    k in site.keywords for k in ("input_shape", "batch_input_shape", "batch_shape")):
                fix = ctx.fix("Replace `input_length=n` with `input_shape=(n,)`, as Keras 2 read it", [
                    ctx.replace((kw.keyword, site.top), "input_shape"),
                    ctx.replace((kw.value, site.top), f"({ctx.code(kw.value)},)"),
                ])
            else:
                fix = ctx.fix("Remove `input_length`", [ctx.replace(site, without(site.node, kw))])
        where = arg_location(site, arg, "input_length")
        ctx.report(where if where is not None else site, message, fix)

    def first(self, site, name: str) -> bool:
        """Whether this argument of this call is not reported yet (a layer built in a loop is one call)."""
        key = (id(site.node), name)
        if key in self._done:
            return False
        self._done.add(key)
        return True


# ---------------------------------------------------------------- helpers


def _method_name(site) -> str | None:
    func = site.node.func if site is not None and site.node is not None else None
    return func.attr.value if isinstance(func, cst.Attribute) else None


def _starts_a_model(ctx, layer: LayerObj) -> bool:
    """Whether the layer may be the first of a Sequential model (Keras 2 gave that model its input shape):
    not when it is called on a tensor, follows another layer, or follows a ``keras.Input``."""
    if layer.producers:
        return False
    for m in ctx.analysis.models:
        if isinstance(m, ModelObj) and m.kind == "sequential":
            items = list(m.layers)
            idx = next((i for i, it in enumerate(items) if it is layer), None)
            if idx is not None and (idx > 0 or isinstance(items[0], TensorV)):
                return False
    return True


def _is_one_of(value, consts) -> bool:
    """Whether ``value`` is a literal equal to one of ``consts`` (bools and numbers kept apart)."""
    if not isinstance(value, Const):
        return False
    for c in consts:
        if c is None or isinstance(c, bool):
            if value.value is c:
                return True
        elif not isinstance(value.value, bool) and type(value.value) in (int, float) and value.value == c:
            return True
    return False
