"""KL301 missing-gradient-clipping."""
from __future__ import annotations

from klint.engine.rule import FixAvailability, Invalid, Option, Rule, Valid
from klint.knowledge.layers import WRAPPING_OPTIMIZERS, is_recurrent, optimizer_clipping


class MissingGradientClipping(Rule):
    """
    ## What it does
    Checks that an optimizer training a model with a recurrent layer
    (SimpleRNN, LSTM, GRU, ConvLSTM1D/2D/3D, RNN, or Bidirectional or
    TimeDistributed around one) clips its gradients with `clipnorm`,
    `clipvalue` or `global_clipnorm`.

    The optimizer is linked to the model through `model.compile(...)`
    (by keyword or position, string optimizers such as `"rmsprop"`
    included) or through a custom training loop,
    `tape.gradient(loss, model.trainable_variables)` followed by
    `optimizer.apply_gradients(...)`. In a custom loop, gradients clipped
    with `tf.clip_by_global_norm`, `tf.clip_by_norm` or `tf.clip_by_value`
    before they are applied count as clipped, and so does a `train_step`
    of a model subclass that clips them.

    ## Why is this bad
    Backpropagation through time multiplies the recurrent Jacobian once per
    time step. When its norm exceeds one, gradients grow exponentially with
    the sequence length: a single long or unusual sequence produces an
    update large enough to throw the weights far away, the loss spikes or
    becomes NaN, and training never recovers. Clipping bounds the update
    and is standard practice for every recurrent network.

    ## Example
    ```python
    model = keras.Sequential([keras.layers.GRU(64), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    ```

    ## Use instead
    ```python
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse")
    ```

    ## Fix safety
    The fix adds `clipnorm=1.0` to the optimizer; a string optimizer becomes
    the optimizer class, spelled with the file's own imports
    (`"rmsprop"` becomes `keras.optimizers.RMSprop(clipnorm=1.0)`). Clipping
    at norm 1.0 leaves ordinary updates untouched and only bounds the rare
    exploding ones. The fix is safe.

    ## Options
    - `always` (boolean, default false): report every optimizer without
      clipping, whatever model it trains.
    """

    code = "KL301"
    name = "missing-gradient-clipping"
    summary = "Recurrent model trained without gradient clipping"
    views = ("source", "model")
    fix = FixAvailability.SOMETIMES
    options = {"always": Option(bool, False, "report every unclipped optimizer")}

    VALID = [
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.layers.GRU(32), keras.layers.Dense(1)])\n"
            "model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss='mse')\n",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n",
            "no recurrent layer",
        ),
        Valid(
            "import tensorflow as tf\n\n"
            "model = tf.keras.Sequential([tf.keras.layers.LSTM(16), tf.keras.layers.Dense(1)])\n"
            "opt = tf.keras.optimizers.Adam()\n\n"
            "def step(x, y):\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = tf.reduce_mean(tf.square(model(x) - y))\n"
            "    grads = tape.gradient(loss, model.trainable_variables)\n"
            "    grads, _ = tf.clip_by_global_norm(grads, 1.0)\n"
            "    opt.apply_gradients(zip(grads, model.trainable_variables))\n",
            "a custom loop that clips its gradients",
        ),
    ]

    INVALID = [
        Invalid(
            "import tensorflow as tf\n\n"
            "model = tf.keras.Sequential([\n"
            "    tf.keras.layers.GRU(64, return_sequences=True),\n"
            "    tf.keras.layers.GRU(32),\n"
            "    tf.keras.layers.Dense(1),\n"
            "])\n"
            "model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3), loss='mse')\n",
            "import tensorflow as tf\n\n"
            "model = tf.keras.Sequential([\n"
            "    tf.keras.layers.GRU(64, return_sequences=True),\n"
            "    tf.keras.layers.GRU(32),\n"
            "    tf.keras.layers.Dense(1),\n"
            "])\n"
            "model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0), loss='mse')\n",
            lines=(8,),
        ),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.layers.Embedding(5000, 64),\n"
            "    keras.layers.Bidirectional(keras.layers.LSTM(32)),\n"
            "    keras.layers.Dense(1, activation='sigmoid'),\n"
            "])\n"
            "model.compile(optimizer='rmsprop', loss='binary_crossentropy')\n",
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.layers.Embedding(5000, 64),\n"
            "    keras.layers.Bidirectional(keras.layers.LSTM(32)),\n"
            "    keras.layers.Dense(1, activation='sigmoid'),\n"
            "])\n"
            "model.compile(optimizer=keras.optimizers.RMSprop(clipnorm=1.0), loss='binary_crossentropy')\n",
            lines=(8,),
            note="a string optimizer becomes the class",
        ),
        Invalid(
            "from keras.layers import LSTM, Dense\nfrom keras.models import Sequential\n\n"
            "model = Sequential([LSTM(8), Dense(1)])\n"
            "model.compile('adam', 'mse')\n",
            "from keras.layers import LSTM, Dense\nfrom keras.models import Sequential\n"
            "from keras.optimizers import Adam\n\n"
            "model = Sequential([LSTM(8), Dense(1)])\n"
            "model.compile(Adam(clipnorm=1.0), 'mse')\n",
            lines=(5,),
            note="a positional string optimizer; the import is added",
        ),
        Invalid(
            "import tensorflow as tf\nfrom tensorflow import keras\n\n"
            "encoder = keras.Sequential([keras.layers.LSTM(128), keras.layers.Dense(32)])\n"
            "opt = keras.optimizers.Adam(learning_rate=5e-4)\n\n\n"
            "def train_step(x, y):\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = tf.reduce_mean(tf.square(encoder(x, training=True) - y))\n"
            "    gradients = tape.gradient(loss, encoder.trainable_weights)\n"
            "    opt.apply_gradients(zip(gradients, encoder.trainable_weights))\n",
            "import tensorflow as tf\nfrom tensorflow import keras\n\n"
            "encoder = keras.Sequential([keras.layers.LSTM(128), keras.layers.Dense(32)])\n"
            "opt = keras.optimizers.Adam(learning_rate=5e-4, clipnorm=1.0)\n\n\n"
            "def train_step(x, y):\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = tf.reduce_mean(tf.square(encoder(x, training=True) - y))\n"
            "    gradients = tape.gradient(loss, encoder.trainable_weights)\n"
            "    opt.apply_gradients(zip(gradients, encoder.trainable_weights))\n",
            lines=(5,),
            note="a custom training loop",
        ),
        Invalid(
            "import keras\n\nopt = keras.optimizers.SGD(0.01)\n",
            "import keras\n\nopt = keras.optimizers.SGD(0.01, clipnorm=1.0)\n",
            options={"always": True},
            note="with always = true",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        always = ctx.options["always"]
        done: set = set()
        for opt in a.optimizers:
            if opt.qual in WRAPPING_OPTIMIZERS or optimizer_clipping(opt) is not False:
                continue
            origin = opt.origin
            key = getattr(origin, "node", None)
            key = id(key) if key is not None else id(opt)
            if origin is None or key in done:
                continue
            culprit = None if always else self.recurrent_layer(a, opt)
            if not always and culprit is None:
                continue
            done.add(key)
            if always:
                message = f"`{opt.short}` applies gradients without clipping"
            else:
                line = ctx.line(culprit)
                name = culprit.qual.rsplit(".", 1)[1]
                where = f" on line {line}" if line else ""
                message = (f"`{opt.short}` trains a model with a recurrent layer (`{name}`{where}) but does not "
                           f"clip gradients: set `clipnorm` (or `clipvalue`/`global_clipnorm`)")
            ctx.report(opt, message, self.make_fix(ctx, opt))
        # custom loops whose optimizer the source view cannot see
        for loop in a.loops:
            if loop.optimizer is not None or loop.clipped or loop.owner is not None:
                continue
            layers = a.layers_of(loop.models)
            culprit = next((l for l in layers if is_recurrent(l)), None)
            if culprit is not None:
                ctx.report((loop.node, loop.top), (
                    f"gradients of a recurrent model (`{culprit.qual.rsplit('.', 1)[1]}`) are applied "
                    "without clipping: clip them with `tf.clip_by_global_norm` or set `clipnorm` on the optimizer"))

    def make_fix(self, ctx, opt):
        if opt.string is not None:
            text, imports = ctx.ref(opt.qual)
            return ctx.fix(f"Use `{opt.short}(clipnorm=1.0)`", [ctx.replace(opt.string, f"{text}(clipnorm=1.0)")],
                           imports=imports)
        return ctx.fix("Add `clipnorm=1.0`", [ctx.add_keyword(opt.site, "clipnorm", "1.0")])

    def recurrent_layer(self, a, opt):
        """A recurrent layer in a model this optimizer trains without clipping, if any."""
        for model in opt.models:
            if model is not None and self.clipped_by_train_step(a, model):
                continue
            for layer in a.layers_of([model]):
                if is_recurrent(layer):
                    return layer
        for loop in opt.loops:
            if loop.clipped:
                continue
            for layer in a.layers_of(loop.models):
                if is_recurrent(layer):
                    return layer
        return None

    @staticmethod
    def clipped_by_train_step(a, model) -> bool:
        cls = getattr(model, "cls", None)
        if cls is None:
            return False
        return any(loop.owner is cls and loop.clipped for loop in a.loops)
