"""KL302 legacy-gradient-api."""
from __future__ import annotations

import libcst as cst

from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.source.values import ModelObj, OptimizerObj, UserObj

#: What to do instead: gradients come from a tape, eagerly.
USE_TAPE = ("compute gradients with `tf.GradientTape` (to monitor them during training, use "
            "`klint.keras.TrainingMonitor`, which records per-layer gradient norms correctly under Keras 3)")
RUN_EAGERLY = "call the model eagerly and compute gradients with `tf.GradientTape`"

#: Functions of the TF1 graph world, by canonical name: what is wrong with them, and what to do instead.
LEGACY_FUNCTIONS = {
    "keras.backend.gradients": (
        "builds symbolic TF1 gradients, which fail under eager execution and are gone in Keras 3", USE_TAPE),
    "keras.backend.function": (
        "compiles a TF1 graph function from symbolic tensors, which is gone in Keras 3", RUN_EAGERLY),
    "keras.backend.get_session": ("returns the TF1 session, which TF2 and Keras 3 models do not run in", RUN_EAGERLY),
    "keras.backend.set_session": ("sets the TF1 session, which TF2 and Keras 3 models do not run in", RUN_EAGERLY),
    "tensorflow.compat.v1.Session": ("runs a TF1 graph, which TF2 and Keras 3 models are not part of", RUN_EAGERLY),
    "tensorflow.compat.v1.InteractiveSession": (
        "runs a TF1 graph, which TF2 and Keras 3 models are not part of", RUN_EAGERLY),
    "tensorflow.Session": ("is TF1 only: TF2 has no `tf.Session`", RUN_EAGERLY),
    "tensorflow.InteractiveSession": ("is TF1 only: TF2 has no `tf.InteractiveSession`", RUN_EAGERLY),
}

#: Methods of the Keras 2 optimizer API (removed in TF 2.11 and Keras 3).
LEGACY_OPTIMIZER_METHODS = frozenset(("get_gradients", "get_updates"))

#: Attributes of Keras 2 graph-mode models.
LEGACY_MODEL_ATTRIBUTES = frozenset(("total_loss",))


class LegacyGradientApi(Rule):
    """
    ## What it does
    Checks for the TF1 / Keras 2 ways of getting at gradients that no
    longer work under TF2 or Keras 3:

    - `keras.backend.gradients(loss, tensors)` (`K.gradients`);
    - `keras.backend.function(inputs, outputs)` (`K.function`);
    - `optimizer.get_gradients(...)` and `optimizer.get_updates(...)` on a
      Keras optimizer;
    - `model.total_loss`, the graph-mode loss tensor of a Keras 2 model;
    - TF1 sessions in Keras code: `tf.compat.v1.Session`,
      `tf.compat.v1.InteractiveSession`, `tf.Session`,
      `keras.backend.get_session()` and `keras.backend.set_session()`.

    Names are resolved through the file's imports, whatever the spelling
    (`from keras import backend as K`, `tf.keras.backend`, ...). Sessions
    are reported only in files that use Keras.

    ## Why is this bad
    These APIs work on a symbolic graph that TF2 models, which run
    eagerly, do not build. `K.gradients` raises as soon as it runs under
    eager execution, Keras 3 removed `keras.backend.gradients`,
    `keras.backend.function` and the session functions, and the optimizers
    of TF 2.11 and Keras 3 have no `get_gradients`. A script that trains
    fine and then computes saliency maps or monitors gradients this way
    crashes after the training it paid for, or needs
    `tf.compat.v1.disable_eager_execution()`, which changes how the whole
    model runs. (Keras 3.15.1: the public `keras.backend` module,
    `keras/backend/__init__.py` in the wheel, has no `gradients`, `function`,
    `get_session` or `set_session`, so each raises `AttributeError`; the
    optimizers of `keras/src/optimizers/base_optimizer.py` have no
    `get_gradients` or `get_updates`, and models no `total_loss`.)

    ## Example
    ```python
    from keras import backend as K

    grads = K.gradients(loss, model.input)[0]
    saliency = K.function([model.input], [grads])
    ```

    ## Use instead
    ```python
    import tensorflow as tf

    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = model(x)[:, class_idx]
    grads = tape.gradient(loss, x)
    ```
    To watch gradients during `fit`, use `klint.keras.TrainingMonitor`:
    it records per-layer gradient norms inside the train step, and
    `klint report` diagnoses them.

    ## Fix safety
    No fix is offered: the replacement restructures the code around a
    `tf.GradientTape` block, which depends on what the gradients are for.

    ## Options
    None.
    """

    code = "KL302"
    name = "legacy-gradient-api"
    summary = "TF1/Keras 2 gradient API that TF2 and Keras 3 do not support"
    views = ("source",)
    fix = FixAvailability.NONE
    keras3_upgrade = True

    VALID = [
        Valid(
            "import tensorflow as tf\n\n"
            "def saliency(model, x, class_idx):\n"
            "    x = tf.convert_to_tensor(x)\n"
            "    with tf.GradientTape() as tape:\n"
            "        tape.watch(x)\n"
            "        score = model(x)[:, class_idx]\n"
            "    return tape.gradient(score, x)\n",
        ),
        Valid(
            "import keras\n\n"
            "class VAE(keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.total_loss = keras.metrics.Mean(name='total_loss')\n\n"
            "    def report(self):\n"
            "        return self.total_loss.result()\n",
            "a model's own attribute named total_loss",
        ),
        Valid(
            "import tensorflow as tf\n\n"
            "sess = tf.compat.v1.Session()\n",
            "a TF1 session in a file that does not use Keras",
        ),
        Valid(
            "class Backend:\n"
            "    def gradients(self, loss, xs):\n"
            "        return []\n\n"
            "K = Backend()\n"
            "grads = K.gradients(1.0, [])\n",
            "a homonym",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\n"
            "from keras import backend as K\n\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])\n"
            "loss = model.output[:, 0]\n"
            "grads = K.gradients(loss, model.input)[0]\n"
            "fn = K.function([model.input], [grads])\n",
            None,
            lines=(6, 7),
            raises="AttributeError",
        ),
        Invalid(
            "import tensorflow as tf\n\n"
            "model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n"
            "grads = model.optimizer.get_gradients(model.total_loss, model.trainable_weights)\n",
            None,
            note="the Keras 2 optimizer and model API",
            raises="AttributeError",
        ),
        Invalid(
            "import tensorflow as tf\n"
            "from tensorflow import keras\n\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])\n"
            "sess = tf.compat.v1.Session()\n"
            "keras.backend.set_session(sess)\n",
            None,
            lines=(5, 6),
            note="TF1 sessions in Keras code",
            raises="AttributeError",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        keras_file = bool(a.roots)
        wanted: dict = {}  # id(Call node) -> (node, qual, statement)
        for node, qual, top in a.calls:
            if qual not in LEGACY_FUNCTIONS:
                continue
            if not qual.startswith("keras.") and not keras_file:
                continue  # a TF1 script without Keras is not this linter's business
            wanted.setdefault(id(node), (node, qual, top))
        for node, qual, top in wanted.values():
            problem, instead = LEGACY_FUNCTIONS[qual]
            ctx.report((node, top), f"`{ctx.code(node.func)}` {problem}: {instead}")
        done: set = set()
        for site, receiver, method in a.method_calls:
            if method not in LEGACY_OPTIMIZER_METHODS or not isinstance(receiver, OptimizerObj):
                continue
            if site.node is None or id(site.node) in done:
                continue
            done.add(id(site.node))
            ctx.report(site, (
                f"`{ctx.code(site.node.func)}()` is Keras 2 optimizer API, which the optimizers of "
                f"TF 2.11+ and Keras 3 do not have: {USE_TAPE}"))
        for node, top, receiver, attr in a.attributes:
            if attr not in LEGACY_MODEL_ATTRIBUTES or id(node) in done or not _legacy_model_attr(receiver, attr):
                continue
            done.add(id(node))
            ctx.report((node, top), (
                f"`{ctx.code(node)}` is the graph-mode loss tensor of a Keras 2 model, which TF2 and Keras 3 "
                f"models do not have: compute the loss inside a `tf.GradientTape` block, and its gradients with "
                f"`tape.gradient`"))


def _legacy_model_attr(receiver, attr: str) -> bool:
    """Whether ``receiver.attr`` reads the Keras 2 model attribute, not one the file set itself."""
    if isinstance(receiver, UserObj):
        if attr in receiver.attrs or _defines(receiver.cls, attr):
            return False
        model = receiver.model
        return model is not None and attr not in model.attrs
    if isinstance(receiver, ModelObj):
        if receiver.instance is not None and attr in receiver.instance.attrs:
            return False
        if receiver.cls is not None and _defines(receiver.cls, attr):
            return False
        return attr not in receiver.attrs
    return False


def _defines(cls, attr: str, depth: int = 0) -> bool:
    """Whether a class of the file (or one of its bases) defines ``attr``: a method, a class attribute,
    or an assignment to ``self.<attr>`` in any of its methods."""
    if attr in cls.attrs or cls.find_method(attr) is not None:
        return True
    stack: list = [cls.node]
    while stack:
        node = stack.pop()
        targets = ()
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            targets = [node.target]
        if any(isinstance(t, cst.Attribute) and t.attr.value == attr for t in targets):
            return True
        stack.extend(node.children)
    return depth < 8 and any(_defines(b, attr, depth + 1) for b in cls.bases if hasattr(b, "node") and
                             isinstance(b.node, cst.ClassDef))


