"""KL601 missing-random-seed."""
from __future__ import annotations

import re

import libcst as cst

from klint.engine.rule import FixAvailability, Invalid, Option, Rule, Valid
from klint.source.interpreter import import_bindings
from klint.source.values import LayerObj, ModelObj, Obj, OptimizerObj, UserObj

#: Functions that seed a global random generator, by canonical name.
SEED_FUNCTIONS = frozenset((
    "keras.utils.set_random_seed", "keras.utils.rng_utils.set_random_seed",
    "tensorflow.random.set_seed", "tensorflow.set_random_seed", "tensorflow.compat.v1.set_random_seed",
    "tensorflow.compat.v1.random.set_random_seed",
    "numpy.random.seed", "random.seed",
))

#: The name of a seeding helper of another library or of the project (``seed_everything``,
#: ``set_seed``, ``torch.manual_seed``): the source view cannot see what it seeds, so it counts.
SEED_HELPER = re.compile(r"(^|_)seed(s|_all|_everything)?$")

TRAINING_METHODS = frozenset(("fit", "fit_generator", "train_on_batch"))

#: Libraries whose models are Keras models (built by their own factories, which the source view does not follow).
KERAS_FAMILY = ("keras_hub.", "keras_nlp.", "keras_cv.")

#: Arguments of Keras's ``fit`` that other libraries' ``fit`` (scikit-learn, XGBoost...) do not take.
KERAS_FIT_KEYWORDS = ("epochs", "batch_size", "validation_data", "validation_split", "steps_per_epoch")


def _seed(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a non-negative integer, got {value!r}")
    return value


class MissingRandomSeed(Rule):
    """
    ## What it does
    Checks that a training script (one that calls `fit` or
    `train_on_batch` on a Keras model, or applies gradients with a Keras
    optimizer) seeds the random generators before training, with any of
    `keras.utils.set_random_seed` (`tf.keras.utils.set_random_seed`),
    `tf.random.set_seed`, `numpy.random.seed` or `random.seed`. A call of
    a seeding helper from another module (`seed_everything(42)`,
    `set_seed(0)`) counts as well.

    The finding is reported on the first `fit` or `train_on_batch` call
    (or, in a custom loop, on the first `apply_gradients`). An unseeded
    script is often fine: a final training run does not need to repeat
    itself.

    ## Why is this bad
    Initial weights, dropout masks, data shuffling and augmentation all
    draw from unseeded generators, so two runs of the same script give
    different curves and different final metrics. A change that seems to
    help (a new learning rate, a new layer) may only be run-to-run
    variance, and a run that diverged cannot be reproduced to find out why.

    ## Example
    ```python
    import keras

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=10)
    ```

    ## Use instead
    ```python
    import keras
    keras.utils.set_random_seed(42)

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=10)
    ```

    ## Fix safety
    The fix inserts `keras.utils.set_random_seed(<seed>)` (which seeds
    Python's `random`, NumPy and the backend at once), spelled with the
    file's own imports, right after the imports at the top of the file
    (after the `os.environ` settings that sit among them), and adds the
    import it needs there. Seeding does not change what the script
    computes, only which of its equally likely runs it makes, so the fix is
    safe. No fix is offered when the file has no import block at its top.

    ## Options
    - `seed` (integer, default 42): the seed the fix writes.
    """

    code = "KL601"
    name = "missing-random-seed"
    summary = "Training script that never seeds its random generators"
    views = ("source",)
    fix = FixAvailability.SOMETIMES
    default_enabled = False
    options = {"seed": Option(_seed, 42, "the seed written by the fix")}

    VALID = [
        Valid(
            "import keras\nkeras.utils.set_random_seed(0)\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n"
            "model.fit(x, y, epochs=10)\n",
        ),
        Valid(
            "import numpy as np\nimport tensorflow as tf\n\n"
            "SEED = 7\nnp.random.seed(SEED)\ntf.random.set_seed(SEED)\n\n"
            "model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n"
            "model.fit(x, y, epochs=10)\n",
            "seeded through NumPy and TensorFlow",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n",
            "no training",
        ),
        Valid(
            "import keras\nfrom .utils import seed_everything\n\n"
            "seed_everything(1)\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n"
            "model.fit(x, y, epochs=10)\n",
            "a seeding helper of the project",
        ),
        Valid(
            "from sklearn.neural_network import MLPClassifier\n\n"
            "clf = MLPClassifier()\nclf.fit(X, y)\n",
            "not Keras",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n"
            "model.fit(x, y, epochs=10)\n",
            "import keras\nkeras.utils.set_random_seed(42)\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n"
            "model.fit(x, y, epochs=10)\n",
            lines=(5,),
        ),
        Invalid(
            '"""Train."""\nimport os\n\nos.environ["KERAS_BACKEND"] = "tensorflow"\n\n'
            "import numpy as np\nfrom tensorflow.keras import layers, models\n\n"
            "model = models.Sequential([layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n"
            "model.fit(np.zeros((4, 2)), np.zeros(4), epochs=1)\n",
            '"""Train."""\nimport os\n\nos.environ["KERAS_BACKEND"] = "tensorflow"\n\n'
            "import numpy as np\nfrom tensorflow.keras import layers, models\n"
            "from tensorflow.keras.utils import set_random_seed\nset_random_seed(42)\n\n"
            "model = models.Sequential([layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n"
            "model.fit(np.zeros((4, 2)), np.zeros(4), epochs=1)\n",
            lines=(11,),
            note="after the imports that follow the backend setting; the import is added with it",
        ),
        Invalid(
            "import tensorflow as tf\n\n"
            "model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(1)])\n"
            "opt = tf.keras.optimizers.Adam(1e-3)\n\n"
            "def step(x, y):\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = tf.reduce_mean(tf.square(model(x) - y))\n"
            "    grads = tape.gradient(loss, model.trainable_variables)\n"
            "    opt.apply_gradients(zip(grads, model.trainable_variables))\n",
            "import tensorflow as tf\ntf.keras.utils.set_random_seed(1234)\n\n"
            "model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(1)])\n"
            "opt = tf.keras.optimizers.Adam(1e-3)\n\n"
            "def step(x, y):\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = tf.reduce_mean(tf.square(model(x) - y))\n"
            "    grads = tape.gradient(loss, model.trainable_variables)\n"
            "    opt.apply_gradients(zip(grads, model.trainable_variables))\n",
            lines=(10,),
            options={"seed": 1234},
            note="a custom training loop; a configured seed",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        if not a.roots:
            return  # not Keras code
        first = self.first_training_call(ctx)
        if first is None or self.seeded(ctx):
            return
        ctx.report(first, "training starts here with unseeded random generators: the script never calls "
                          "`keras.utils.set_random_seed` (or `tf.random.set_seed`, `np.random.seed`, `random.seed`), "
                          "so weights, dropout and shuffling differ from run to run", self.make_fix(ctx))

    @staticmethod
    def first_training_call(ctx):
        """The first ``fit``/``train_on_batch`` call in the file, or else the first gradient application."""
        a = ctx.analysis
        calls = [f.site for f in a.fits if f.site is not None and f.site.node is not None]
        for site, receiver, name in a.method_calls:
            if name not in TRAINING_METHODS or site.node is None:
                continue
            if isinstance(receiver, ModelObj) or (isinstance(receiver, UserObj) and receiver.model is not None):
                calls.append(site)  # train_on_batch (fit is among the fits)
            elif isinstance(receiver, Obj) and not isinstance(receiver, (LayerObj, OptimizerObj)) and (
                    receiver.qual.startswith(KERAS_FAMILY) or any(k in site.keywords for k in KERAS_FIT_KEYWORDS)):
                calls.append(site)  # a model from a factory the source view does not follow
        if not calls:
            calls = [(loop.node, loop.top) for loop in a.loops if loop.node is not None and loop.top is not None]
        located = [(ctx.line(c), i, c) for i, c in enumerate(calls)]
        located = [x for x in located if x[0] is not None]
        return min(located)[2] if located else None

    @staticmethod
    def seeded(ctx) -> bool:
        for _node, qual, _top in ctx.analysis.calls:
            if qual in SEED_FUNCTIONS:
                return True
            if not qual.startswith(("keras.", "tensorflow.")) and SEED_HELPER.search(qual.rsplit(".", 1)[-1]):
                return True
        # calls the source view cannot resolve: relative imports, methods of unknown objects
        return any(isinstance(name, str) and SEED_HELPER.search(name)
                   for _node, name in ctx.analysis.unresolved_calls)

    @staticmethod
    def make_fix(ctx):
        anchor, bound = _import_block(ctx.module)
        if anchor is None:
            return None
        text, imports = ctx.ref("keras.utils.set_random_seed")
        root = text.split(".")[0]
        if not imports and root not in bound:
            return None  # the name this file would use is imported only further down
        nl = ctx.module.default_newline
        line = "".join(need.statement() + nl for need in imports) + f"{text}({ctx.options['seed']}){nl}"
        return ctx.fix(f"Seed the random generators with `{text}({ctx.options['seed']})`",
                       [ctx.replace((anchor, anchor), ctx.code(anchor) + line)])


def _import_block(module: cst.Module):
    """The last statement of the import block at the top of the file, and the names that block binds.

    The block is made of import statements, the module docstring, ``try``/``if`` statements holding
    imports, and the configuration lines found among imports (``os.environ[...] = ...``,
    ``matplotlib.use("Agg")``): a seed set after it runs before any model or data is made, and after
    the environment the imports depend on is set.
    """
    last = None
    bound: set = set()
    for stmt in module.body:
        if _is_import_line(stmt):
            last = stmt
            for small in stmt.body:
                bound |= set(import_bindings(small)[0])
            continue
        if last is None and _is_docstring(stmt):
            continue
        if last is not None and (isinstance(stmt, (cst.Try, cst.If)) and _only_imports(stmt)
                                 or _is_configuration(stmt)):
            last = stmt
            continue
        break
    return last, bound


def _is_import_line(stmt) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _is_docstring(stmt) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _only_imports(stmt) -> bool:
    """``try: import x`` / ``except ImportError: x = None`` and the like."""
    blocks = [stmt.body]
    if isinstance(stmt, cst.Try):
        blocks += [h.body for h in stmt.handlers]
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If) and not _only_imports(orelse):
        return False
    if orelse is not None and not isinstance(orelse, cst.If):
        blocks.append(orelse.body)
    for block in blocks:
        for s in getattr(block, "body", ()):
            if not isinstance(s, cst.SimpleStatementLine):
                return False
            for small in s.body:
                if isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass)):
                    continue
                if isinstance(small, cst.Assign) and isinstance(small.value, (cst.Name, cst.SimpleString)):
                    continue  # x = None
                return False
    return True


def _is_configuration(stmt) -> bool:
    """``os.environ["X"] = "1"``, ``os.environ.setdefault(...)``, ``matplotlib.use("Agg")``: set-up between imports."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    for small in stmt.body:
        if isinstance(small, cst.Assign) and all(isinstance(t.target, cst.Subscript) for t in small.targets):
            continue
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and isinstance(
                small.value.func, cst.Attribute):
            continue
        return False
    return True
