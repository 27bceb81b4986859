"""KL803 keras1-argument."""
from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.engine.syntax import through_keras2, without
from klint.knowledge.names import canonical
from klint.source.values import UNKNOWN, Arg, CallSite, Const, ModelObj, Ref, SeqV, UserObj, Value

# ----------------------------------------------------------------------------- the Keras 1 API
#
# Read from Keras 1.2.2 (``keras/layers/*.py``) and from the converters Keras 2.0 to 2.3 applied to
# it (``keras/legacy/interfaces.py``, 2.2.4): each table says what a Keras 1 keyword became.

#: The weights of a layer with a kernel (``legacy_dense_support``, ``legacy_conv*_support``).
_KERNEL = {
    "init": "kernel_initializer", "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint", "b_constraint": "bias_constraint", "bias": "use_bias",
}
_DENSE = {"output_dim": "units", **_KERNEL}
_CONV = {"nb_filter": "filters", "border_mode": "padding", "atrous_rate": "dilation_rate", **_KERNEL}
_CONV1D = {**_CONV, "filter_length": "kernel_size", "subsample_length": "strides"}
_CONVND = {**_CONV, "subsample": "strides"}
#: ``legacy_separable_conv2d_support``: its regularizers already had their Keras 2 names in Keras 1.
_SEPARABLE = {k: v for k, v in _CONVND.items() if not k.startswith("W_") and k != "init"}
#: ``legacy_recurrent_support`` (Keras 1 recurrent layers had no weight constraints).
_RNN = {
    "output_dim": "units", "init": "kernel_initializer", "inner_init": "recurrent_initializer",
    "inner_activation": "recurrent_activation", "W_regularizer": "kernel_regularizer",
    "U_regularizer": "recurrent_regularizer", "b_regularizer": "bias_regularizer",
    "dropout_W": "dropout", "dropout_U": "recurrent_dropout",
}
_POOL1D = {"pool_length": "pool_size", "stride": "strides", "border_mode": "padding"}
_POOLND = {"border_mode": "padding"}


@dataclass(frozen=True)
class Spec:
    """What a Keras 1 call of one Keras class may hold: plain renames, keywords with their own
    conversion (``special``), and how many ints its Keras 1 kernel size was spelled with."""

    renames: dict = field(default_factory=dict)
    special: frozenset = frozenset()
    kernel: int = 0  # 1: filter_length; 2: nb_row, nb_col; 3: kernel_dim1..3


_DIM = frozenset(("dim_ordering",))
_SHAPE = frozenset(("input_dim", "input_length"))  # (length, dim) of a sequence layer

SPECS: dict[str, Spec] = {
    "Dense": Spec(_DENSE),
    **{n: Spec({"p": "rate"}) for n in ("Dropout", "SpatialDropout1D", "GaussianDropout")},
    **{n: Spec({"p": "rate"}, _DIM) for n in ("SpatialDropout2D", "SpatialDropout3D")},
    "GaussianNoise": Spec({"sigma": "stddev"}),
    "Embedding": Spec({"init": "embeddings_initializer", "W_regularizer": "embeddings_regularizer",
                       "W_constraint": "embeddings_constraint"}, frozenset(("dropout",))),
    **{n: Spec(_POOL1D) for n in ("MaxPooling1D", "AveragePooling1D", "MaxPool1D", "AvgPool1D")},
    **{n: Spec(_POOLND, _DIM) for n in ("MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D",
                                         "MaxPooling3D", "AveragePooling3D", "MaxPool3D", "AvgPool3D")},
    **{n: Spec({}, _DIM) for n in (
        "GlobalMaxPooling2D", "GlobalAveragePooling2D", "GlobalMaxPool2D", "GlobalAvgPool2D",
        "GlobalMaxPooling3D", "GlobalAveragePooling3D", "GlobalMaxPool3D", "GlobalAvgPool3D",
        "UpSampling2D", "UpSampling3D", "ZeroPadding2D", "ZeroPadding3D", "Cropping2D", "Cropping3D")},
    "UpSampling1D": Spec({"length": "size"}),
    "PReLU": Spec({"init": "alpha_initializer"}),
    "SimpleRNN": Spec(_RNN, _SHAPE | {"consume_less"}),
    "GRU": Spec(_RNN, _SHAPE | {"consume_less"}),
    "LSTM": Spec(_RNN, _SHAPE | {"consume_less", "forget_bias_init"}),
    **{n: Spec(_CONV1D, _SHAPE, 1) for n in ("Conv1D", "Convolution1D", "AtrousConvolution1D", "AtrousConv1D")},
    **{n: Spec(_CONVND, _DIM, 2) for n in ("Conv2D", "Convolution2D", "AtrousConvolution2D", "AtrousConv2D")},
    # legacy_deconv2d_support drops ``output_shape``
    **{n: Spec(_CONVND, _DIM | {"output_shape"}, 2) for n in (
        "Deconvolution2D", "Deconv2D", "Conv2DTranspose", "Convolution2DTranspose")},
    **{n: Spec(_SEPARABLE, _DIM | {"init"}, 2) for n in ("SeparableConv2D", "SeparableConvolution2D")},
    **{n: Spec(_CONVND, _DIM, 3) for n in (
        "Conv3D", "Convolution3D", "Conv3DTranspose", "Convolution3DTranspose", "Deconvolution3D", "Deconv3D")},
    # legacy_convlstm2d_support: the convolution's arguments and the recurrent ones
    "ConvLSTM2D": Spec({**_CONVND, **{k: v for k, v in _RNN.items() if k != "output_dim"}},
                       _DIM | {"forget_bias_init"}, 2),
    "BatchNormalization": Spec({"beta_init": "beta_initializer", "gamma_init": "gamma_initializer"},
                               frozenset(("mode",))),
    "InputLayer": Spec({"input_dtype": "dtype"}),
}

#: Keras 1 (and Keras 2 alias) class names that Keras 3 does not export, and the class that
#: computes the same thing (Keras 2.2.4 ``keras/layers/convolutional.py`` aliases and
#: ``keras/legacy/layers.py``).
RENAMED_CLASSES = {
    "AtrousConvolution1D": "Conv1D", "AtrousConv1D": "Conv1D",
    "AtrousConvolution2D": "Conv2D", "AtrousConv2D": "Conv2D",
    "Deconvolution2D": "Conv2DTranspose", "Deconv2D": "Conv2DTranspose",
    "Deconvolution3D": "Conv3DTranspose", "Deconv3D": "Conv3DTranspose",
}

#: Keras 1 layers that Keras 2 moved to ``keras.legacy`` or dropped, and Keras 3 does not have.
REMOVED_CLASSES = {
    "MaxoutDense": "Keras 3 has no maxout layer: write it as a `Dense(units * k)` followed by a max over "
                   "groups of `k` (a `Reshape` and `keras.ops.max`)",
    "Highway": "Keras 3 has no highway layer: write it as a small custom layer (`y = t * h(x) + (1 - t) * x`)",
    "TimeDistributedDense": "use `TimeDistributed(Dense(...))`, or `Dense(...)`, which Keras 3 applies to the "
                            "last axis of a sequence already",
    "SReLU": "it went to keras-contrib in Keras 2 and is in no Keras 3 release",
    "ParametricSoftplus": "it went to keras-contrib in Keras 2 and is in no Keras 3 release",
}

#: The Keras 1 spellings of layer classes: a call of one of them is Keras 1 code, whose third
#: positional int is a kernel size (``nb_col``), not Keras 3's ``strides``.
KERAS1_SPELLINGS = frozenset((
    "Convolution2D", "Convolution3D", "SeparableConvolution2D", "AtrousConvolution2D", "AtrousConv2D",
    "Deconvolution2D", "Deconv2D", "Deconvolution3D", "Deconv3D",
))

DATA_FORMATS = {"tf": "channels_last", "th": "channels_first"}
#: ``consume_less`` -> ``implementation`` (``legacy_recurrent_support``'s value conversion).
IMPLEMENTATIONS = {"cpu": 0, "mem": 1, "gpu": 2}

MODEL_ARGS = {"input": "inputs", "output": "outputs"}  # legacy_model_constructor_support
FIT_ARGS = {"nb_epoch": "epochs"}  # keras/engine/training.py (2.2.4), Model.fit


class Keras1Argument(Rule):
    """
    ## What it does
    Checks the constructor calls of Keras layers, `Model(...)` and
    `model.fit(...)` for Keras 1 arguments, which Keras 2 still converted
    with a warning and Keras 3 rejects or reads differently:

    | Keras 1 | Keras 3 |
    | --- | --- |
    | `output_dim` (Dense, recurrent), `nb_filter` | `units`, `filters` |
    | `init`, `W_regularizer`, `b_regularizer`, `W_constraint`, `b_constraint`, `bias` | `kernel_initializer`, `kernel_regularizer`, `bias_regularizer`, `kernel_constraint`, `bias_constraint`, `use_bias` (Embedding: `embeddings_*`; PReLU: `alpha_initializer`) |
    | `inner_init`, `inner_activation`, `U_regularizer`, `dropout_W`, `dropout_U` | `recurrent_initializer`, `recurrent_activation`, `recurrent_regularizer`, `dropout`, `recurrent_dropout` |
    | `nb_row, nb_col` (keywords, or `Convolution2D(32, 3, 3)`), `kernel_dim1..3`, `filter_length` | `kernel_size` |
    | `border_mode`, `subsample`, `subsample_length`, `atrous_rate` | `padding`, `strides`, `dilation_rate` |
    | `dim_ordering='tf'` / `'th'` / `'default'` | `data_format='channels_last'` / `'channels_first'` / nothing |
    | `pool_length`, `stride` (1D pooling), `length` (UpSampling1D) | `pool_size`, `strides`, `size` |
    | `p` (dropout layers), `sigma` (GaussianNoise) | `rate`, `stddev` |
    | `consume_less` (LSTM, GRU) | `implementation` |
    | `forget_bias_init='one'` / `'zero'` (LSTM) | nothing / `unit_forget_bias=False` |
    | `input_dim`, `input_length` (recurrent layers, Conv1D) | `input_shape=(input_length, input_dim)` |
    | `beta_init`, `gamma_init`, `mode=0` (BatchNormalization) | `beta_initializer`, `gamma_initializer`, nothing |
    | `input_dtype` (InputLayer) | `dtype` |
    | `Model(input=, output=)` | `Model(inputs=, outputs=)` |
    | `fit(nb_epoch=)` | `fit(epochs=)` |

    It also reports the Keras 1 classes that Keras 3 does not export:
    `AtrousConvolution1D/2D` (now `Conv1D`/`Conv2D` with `dilation_rate`),
    `Deconvolution2D` (now `Conv2DTranspose`), and `MaxoutDense`,
    `Highway`, `TimeDistributedDense`, `SReLU`, `ParametricSoftplus`,
    which have no replacement. Layers are found through the file's imports
    (`keras.layers.Dense`, `tf.keras.layers.Dense`, `from
    keras.layers.core import Dense` are the same class), not by their
    spelling, also in a branch that a constant turns off (`if not
    data_augmentation:`). Code reached through `tf_keras` (Keras 2
    itself) is not checked.

    ## Why is this bad
    Keras 3 layers pass unknown keywords to `Layer.__init__`, which raises
    `ValueError: Unrecognized keyword arguments passed to Dense: {'init':
    'uniform'}` (Keras 3.15.1, `keras/src/layers/layer.py`); a renamed
    required argument (`Dense(output_dim=10)`, `Dropout(p=0.5)`,
    `Conv2D(nb_filter=32, ...)`) raises `TypeError: missing 1 required
    positional argument`; `Model(input=, output=)` raises `ValueError:
    Unrecognized keyword arguments passed to Model`, and
    `fit(nb_epoch=)` raises `TypeError: unexpected keyword argument`.
    The script stops where the model is built or trained.

    Some Keras 1 spellings run, and mean something else. Keras 3's
    `Conv2D(filters, kernel_size, strides, ...)` reads Keras 1's
    `Convolution2D(32, 3, 3)` as a 3x3 kernel with **strides 3**, so the
    feature maps shrink threefold at every layer without an error.
    `LSTM(32, input_dim=8)` is read as a one-dimensional input shape
    `(8,)` (`Layer.__init__` turns `input_dim` into `input_shape=(8,)`),
    so the model fails to build; Keras 1 meant sequences of 8 features.
    `InputLayer(input_dtype='int32')` is silently ignored
    (`keras/src/layers/core/input_layer.py` drops unknown keywords), so
    the input is `float32`. These behaviours are the same in every Keras 3
    release (3.0 to 3.15).

    ## Example
    ```python
    model = Sequential()
    model.add(Convolution2D(32, 3, 3, border_mode="same", input_shape=(28, 28, 1)))
    model.add(Dense(output_dim=10, init="uniform", W_regularizer=l2(0.01)))
    model.fit(x, y, nb_epoch=10)
    ```

    ## Use instead
    ```python
    model = Sequential()
    model.add(Convolution2D(32, (3, 3), padding="same", input_shape=(28, 28, 1)))
    model.add(Dense(units=10, kernel_initializer="uniform", kernel_regularizer=l2(0.01)))
    model.fit(x, y, epochs=10)
    ```

    ## Fix safety
    One fix per call rewrites all its Keras 1 arguments, keeping the
    call's layout. A rename carries the value over unchanged, and the value
    conversions are the ones Keras 2's converters applied
    (`keras/legacy/interfaces.py`): `dim_ordering='th'` becomes
    `data_format='channels_first'`, `nb_row, nb_col` become the tuple
    `kernel_size=(nb_row, nb_col)`, `consume_less='gpu'` becomes
    `implementation=2` (a speed setting: the layer computes the same
    function), `mode=0` and `dim_ordering='default'` go (Keras 3's
    default is the same), `forget_bias_init='one'` goes (Keras 3's
    `unit_forget_bias=True` initializes the forget gate bias to ones), and
    a recurrent layer's `input_dim=d, input_length=n` become
    `input_shape=(n, d)`. These keep the Keras 1 meaning exactly, so the
    fix is safe. The `Convolution2D(32, 3, 3)` fix changes what Keras 3
    was running (strides 3 become 1), which is what the code means.
    `Deconvolution2D` becomes `Conv2DTranspose` and drops its
    `output_shape`: unsafe, since Keras 3 computes the output size, which
    can differ from the one given when the strides are above 1.

    No fix is offered when any Keras 1 argument of the call has no exact
    replacement: `dim_ordering` or `forget_bias_init` that is not a
    literal the table knows, `border_mode='full'`, `mode=1` (sample-wise)
    or `mode=2` (batch statistics at test time too), Embedding's `dropout` (use a
    `SpatialDropout1D` after it), an argument from a `**` dict, a Keras 1
    name next to its Keras 3 name, or a removed class imported by name
    (`from keras.layers import AtrousConvolution2D`: the import has to be
    changed too; `layers.AtrousConvolution2D(...)` is fixed).

    A Keras 3 spelled `Conv2D(32, 3, 3)` is reported only when the call
    also has Keras 1 keywords (`border_mode`, `init`...), since
    `tf.keras` code may mean strides 3. `fit_generator` and the other
    generator methods are left to KL802, which rewrites the whole call;
    `evaluate` and `predict` had no renamed arguments in Keras 1.

    ## Options
    None.
    """

    code = "KL803"
    name = "keras1-argument"
    summary = "Keras 1 layer, model or fit argument that Keras 3 rejects or reads differently"
    views = ("source",)
    fix = FixAvailability.SOMETIMES

    VALID = [
        Valid("import keras\n\nlayer = keras.layers.Dense(units=10, kernel_initializer='uniform', use_bias=False)\n"),
        Valid("from tensorflow.keras.layers import Conv2D\n\nconv = Conv2D(32, 3, 2, padding='same')\n",
              "Keras 3 code: the third positional is strides"),
        Valid("from keras.layers import Convolution2D\n\nconv = Convolution2D(32, (3, 3), (2, 2))\n",
              "a Keras 3 alias with a kernel tuple"),
        Valid("from keras.layers import Embedding\n\nemb = Embedding(1000, output_dim=64, input_length=20)\n",
              "Embedding's output_dim is not renamed"),
        Valid("from torch.nn import Dropout\n\ndrop = Dropout(p=0.5)\n", "not Keras"),
        Valid("import tf_keras\n\nmodel = tf_keras.Sequential([tf_keras.layers.Dense(1, input_dim=3)])\n"
              "model.compile('sgd', 'mse')\nmodel.fit(x, y, nb_epoch=2)\nlayer = tf_keras.layers.Dropout(p=0.5)\n",
              "Keras 2 itself (tf_keras): not code for Keras 3"),
        Valid("class Dense:\n    def __init__(self, output_dim, init=None):\n        pass\n\n"
              "layer = Dense(output_dim=4, init='uniform')\n", "a class of the file"),
        Valid("import keras\n\nclass Block(keras.layers.Layer):\n    def __init__(self, init='zeros', **kw):\n"
              "        super().__init__(**kw)\n\nblock = Block(init='ones')\n", "a layer class of the file"),
        Valid("import keras\n\nx = keras.Input((3,))\nmodel = keras.Model(inputs=x, outputs=keras.layers.Dense(2)(x))\n"
              "model.compile('sgd', 'mse')\n", "Keras 3 spelling"),
        Valid("from keras.layers import LSTM\n\nrnn = LSTM(8, input_shape=(None, 3), implementation=2)\n"),
        Valid("import keras\n\nmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
              "model.compile('sgd', 'mse')\nmodel.fit_generator(batches, steps_per_epoch=10, nb_epoch=2)\n",
              "generator methods are KL802's"),
        Valid("import keras\nfrom sklearn.neural_network import MLPClassifier\n\nclf = MLPClassifier()\n"
              "clf.fit(x, y, nb_epoch=3)\n", "not a Keras model"),
        Valid("import keras\n\ndata_augmentation = True\nmodel = keras.Sequential([keras.layers.Dense(1)])\n"
              "if not data_augmentation:\n    model.fit(x, y, epochs=2)\n", "Keras 3 code in a branch that does not run"),

    ]

    INVALID = [
        Invalid(
            "from keras.layers import Dense\n\nlayer = Dense(output_dim=4, init='uniform', bias=False)\n",
            "from keras.layers import Dense\n\nlayer = Dense(units=4, kernel_initializer='uniform', use_bias=False)\n",
            lines=(3,), raises="TypeError"),
        Invalid(
            "from keras.layers import Convolution2D\n\nconv = Convolution2D(8, 3, 3)\n",
            "from keras.layers import Convolution2D\n\nconv = Convolution2D(8, (3, 3))\n",
            note="Keras 3 reads the third positional as strides", silent="conv.strides == (3, 3)"),
        Invalid(
            "import keras\n\nmodel = keras.Sequential()\n"
            "model.add(keras.layers.Convolution2D(8, 3, 3, border_mode='same', subsample=(2, 2),\n"
            "                                     dim_ordering='tf', input_shape=(8, 8, 1)))\n",
            "import keras\n\nmodel = keras.Sequential()\n"
            "model.add(keras.layers.Convolution2D(8, (3, 3), padding='same', strides=(2, 2),\n"
            "                                     data_format='channels_last', input_shape=(8, 8, 1)))\n",
            lines=(4,), raises="ValueError"),
        Invalid(
            "from tensorflow.keras.layers import Conv2D\n\nconv = Conv2D(8, 3, 3, border_mode='same')\n",
            "from tensorflow.keras.layers import Conv2D\n\nconv = Conv2D(8, (3, 3), padding='same')\n",
            note="a Keras 3 spelling with Keras 1 keywords", raises="ValueError"),
        Invalid(
            "import tensorflow as tf\n\npool = tf.keras.layers.MaxPooling2D(pool_size=(2, 2), dim_ordering='th')\n",
            "import tensorflow as tf\n\npool = tf.keras.layers.MaxPooling2D(pool_size=(2, 2), data_format='channels_first')\n",
            raises="ValueError"),
        Invalid(
            "from keras.layers import MaxPooling1D, Dropout, GaussianNoise\n\n"
            "pool = MaxPooling1D(pool_length=2, stride=2, border_mode='valid')\n"
            "drop = Dropout(p=0.5)\nnoise = GaussianNoise(sigma=0.1)\n",
            "from keras.layers import MaxPooling1D, Dropout, GaussianNoise\n\n"
            "pool = MaxPooling1D(pool_size=2, strides=2, padding='valid')\n"
            "drop = Dropout(rate=0.5)\nnoise = GaussianNoise(stddev=0.1)\n",
            lines=(3, 4, 5), raises="ValueError"),
        Invalid(
            "import keras\nfrom keras.layers import LSTM\n\nmodel = keras.Sequential([\n"
            "    LSTM(4, input_dim=3, input_length=5, dropout_W=0.2, dropout_U=0.2, consume_less='gpu'),\n])\n",
            "import keras\nfrom keras.layers import LSTM\n\nmodel = keras.Sequential([\n"
            "    LSTM(4, input_shape=(5, 3), dropout=0.2, recurrent_dropout=0.2, implementation=2),\n])\n",
            raises="ValueError"),
        Invalid(
            "import keras\n\nmodel = keras.Sequential([keras.layers.GRU(4, input_dim=3)])\n",
            "import keras\n\nmodel = keras.Sequential([keras.layers.GRU(4, input_shape=(None, 3))])\n",
            note="Keras 3 reads input_dim as a one-dimensional input shape", raises="ValueError"),
        Invalid(
            "from keras.layers import LSTM\n\nrnn = LSTM(\n    8,\n    inner_activation='sigmoid',\n"
            "    forget_bias_init='one',\n)\n",
            "from keras.layers import LSTM\n\nrnn = LSTM(\n    8,\n    recurrent_activation='sigmoid',\n)\n",
            note="forget_bias_init='one' is Keras 3's default; the layout is kept", raises="ValueError"),
        Invalid(
            "from keras.layers import BatchNormalization\n\n"
            "bn = BatchNormalization(mode=0, axis=-1, beta_init='zero', gamma_init='one')\n",
            "from keras.layers import BatchNormalization\n\n"
            "bn = BatchNormalization(axis=-1, beta_initializer='zero', gamma_initializer='one')\n",
            raises="ValueError"),
        Invalid(
            "from keras.layers import BatchNormalization\n\nbn = BatchNormalization(mode=2)\n",
            None, note="per-sample normalization is gone: no fix", raises="ValueError"),
        Invalid(
            "import numpy as np\nfrom keras.models import Model\nfrom keras.layers import Input, Dense\n\n"
            "x = Input(shape=(3,))\nmodel = Model(input=x, output=Dense(2, init='zero')(x))\n"
            "model.compile('sgd', 'mse')\nmodel.fit(np.zeros((4, 3)), np.zeros((4, 2)), nb_epoch=1, verbose=0)\n",
            "import numpy as np\nfrom keras.models import Model\nfrom keras.layers import Input, Dense\n\n"
            "x = Input(shape=(3,))\nmodel = Model(inputs=x, outputs=Dense(2, kernel_initializer='zero')(x))\n"
            "model.compile('sgd', 'mse')\nmodel.fit(np.zeros((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0)\n",
            lines=(6, 6, 8), note="nested calls are fixed in turn", raises="ValueError"),
        Invalid(
            "import numpy as np\nimport keras\n\nmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
            "model.compile('sgd', 'mse')\nmodel.fit(np.zeros((4, 3)), np.zeros((4, 1)), batch_size=2, nb_epoch=1)\n",
            "import numpy as np\nimport keras\n\nmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
            "model.compile('sgd', 'mse')\nmodel.fit(np.zeros((4, 3)), np.zeros((4, 1)), batch_size=2, epochs=1)\n",
            raises="TypeError"),
        Invalid(
            "from keras import layers\n\nconv = layers.AtrousConvolution2D(8, 3, 3, atrous_rate=(2, 2))\n",
            "from keras import layers\n\nconv = layers.Conv2D(8, (3, 3), dilation_rate=(2, 2))\n",
            note="a Keras 1 class: the Keras 3 one with the same function", raises="AttributeError"),
        Invalid(
            "import keras\n\ndeconv = keras.layers.Deconvolution2D(4, 3, 3, output_shape=(None, 16, 16, 4), "
            "subsample=(2, 2))\n",
            "import keras\n\ndeconv = keras.layers.Conv2DTranspose(4, (3, 3), strides=(2, 2))\n",
            note="unsafe: Keras 3 computes the output shape", raises="AttributeError"),
        Invalid(
            "from keras.layers import Conv3D\n\nconv = Conv3D(4, 3, 3, 3, border_mode='same')\n",
            "from keras.layers import Conv3D\n\nconv = Conv3D(4, (3, 3, 3), padding='same')\n",
            raises="ValueError"),
        Invalid(
            "from keras.layers import Convolution2D\n\nconv = Convolution2D(nb_filter=8, nb_row=3, nb_col=3)\n",
            "from keras.layers import Convolution2D\n\nconv = Convolution2D(filters=8, kernel_size=(3, 3))\n",
            raises="TypeError"),
        Invalid(
            "from keras.layers import InputLayer\n\nlayer = InputLayer(shape=(3,), input_dtype='int32')\n",
            "from keras.layers import InputLayer\n\nlayer = InputLayer(shape=(3,), dtype='int32')\n",
            note="Keras 3 drops the keyword without a word", silent="layer.dtype != 'int32'"),
        Invalid(
            "from keras.layers import Embedding\n\nemb = Embedding(100, 8, init='uniform', dropout=0.2)\n",
            None, note="Embedding's dropout has no exact replacement", raises="ValueError"),
        Invalid(
            "from keras import backend as K\nfrom keras.layers import Conv2D\n\n"
            "conv = Conv2D(8, (3, 3), dim_ordering=K.image_data_format())\n",
            None, note="a dim_ordering that is not a literal", raises="ValueError"),
        Invalid(
            "from keras.layers import ConvLSTM2D\n\nlayer = ConvLSTM2D(nb_filter=4, nb_row=3, nb_col=3,\n"
            "                   border_mode='same', return_sequences=True)\n",
            "from keras.layers import ConvLSTM2D\n\nlayer = ConvLSTM2D(filters=4, kernel_size=(3, 3),\n"
            "                   padding='same', return_sequences=True)\n",
            note="the line break after a removed argument is kept", raises="TypeError"),
        Invalid(
            "from keras.layers import SeparableConv2D\n\nconv = SeparableConv2D(8, (3, 3), init='he_normal')\n",
            "from keras.layers import SeparableConv2D\n\n"
            "conv = SeparableConv2D(8, (3, 3), depthwise_initializer='he_normal', pointwise_initializer='he_normal')\n",
            note="one Keras 1 initializer for both kernels", raises="ValueError"),
        Invalid(
            "import keras\n\nmodel = keras.Sequential([\n"
            "    keras.layers.Conv1D(4, 3, input_dim=2, input_length=6),\n    keras.layers.UpSampling1D(length=2),\n])\n",
            "import keras\n\nmodel = keras.Sequential([\n"
            "    keras.layers.Conv1D(4, 3, input_shape=(6, 2)),\n    keras.layers.UpSampling1D(size=2),\n])\n",
            lines=(4, 5), raises="ValueError"),
        Invalid(
            "from keras.layers import Conv2D\n\nconv = Conv2D(8, (3, 3), border_mode='full')\n",
            None, note="Theano's full convolution has no Keras 3 padding", raises="ValueError"),
        Invalid(
            "from keras.layers import Dense\n\nargs = {'init': 'zero'}\nlayer = Dense(4, **args)\n",
            None, note="from a ** dict: reported, not fixed", raises="ValueError"),
        Invalid(
            "from keras.layers import AtrousConvolution2D\n\nconv = AtrousConvolution2D(8, 3, 3, atrous_rate=(2, 2))\n",
            None, note="imported by name: the import has to change too", raises="ImportError"),
        Invalid(
            "import keras\n\nlayer = keras.layers.Highway()\n",
            None, note="a Keras 1 layer with no Keras 3 replacement", raises="AttributeError"),
    ]

    def check(self, ctx) -> None:
        done: set = set()
        for layer in ctx.analysis.layers:
            site = layer.site
            if site is None or site.node is None or site.top is None or id(site.node) in done:
                continue
            if not layer.qual.startswith("keras.layers."):
                continue
            done.add(id(site.node))
            self.check_layer(ctx, site, layer.qual.rsplit(".", 1)[1])
        # Keras 1 layers under ``keras.legacy`` (Keras 2's home for them) are no layers to the source view
        for call, qual, top in ctx.analysis.calls:
            if id(call) in done or not qual.startswith(("keras.legacy.layers.", "keras.layers.")):
                continue
            short = qual.rsplit(".", 1)[1]
            if short in REMOVED_CLASSES or short in RENAMED_CLASSES:
                done.add(id(call))
                ctx.report((call, top), f"`{short}` is not in Keras 3: {REMOVED_CLASSES.get(short) or _renamed(short)}")
        for model in ctx.analysis.models:
            site = model.site
            if model.qual != "keras.Model" or site is None or site.node is None or id(site.node) in done:
                continue
            done.add(id(site.node))
            self.check_plain(ctx, site, "Model", MODEL_ARGS)
        for fit in ctx.analysis.fits:
            site = fit.site
            if site is None or site.node is None or id(site.node) in done or not _is_keras_model(fit.model):
                continue
            func = site.node.func
            if not isinstance(func, cst.Attribute) or func.attr.value != "fit":
                continue  # fit_generator & co: KL802 rewrites those calls whole
            done.add(id(site.node))
            self.check_plain(ctx, site, "fit", FIT_ARGS)
        self.check_unrun(ctx, done)

    def check_unrun(self, ctx, done: set) -> None:
        """The calls the source view did not run: a branch that a constant turns off (``if not
        data_augmentation:``) is code to upgrade too. Their callee is resolved through the module's
        imports, their receiver through its variables."""
        scope = ctx.analysis.module_scope
        if scope is None:
            return
        seen = set(done)
        seen.update(id(c) for c, _, _ in ctx.analysis.calls)
        seen.update(id(s.node) for s, _, _ in ctx.analysis.method_calls if s is not None)
        finder = _Calls()
        ctx.module.visit(finder)
        for call, top in finder.calls:
            if id(call) in seen:
                continue
            path = _dotted(call.func)
            if path is None:
                continue
            head = scope.vars.get(path[0])
            if head is None and len(path) == 1:
                head = _star_ref(scope, path[0])
            if isinstance(head, Ref):
                qual = canonical(".".join([head.raw, *path[1:]]))
                short = qual.rsplit(".", 1)[1]
                if qual.startswith("keras.layers."):
                    self.check_layer(ctx, _site(call, top), short)
                elif qual.startswith("keras.legacy.layers.") and short in REMOVED_CLASSES:
                    ctx.report((call, top), f"`{short}` is not in Keras 3: {REMOVED_CLASSES[short]}")
                elif qual == "keras.Model":
                    self.check_plain(ctx, _site(call, top), "Model", MODEL_ARGS)
            elif len(path) == 2 and path[1] == "fit" and _is_keras_model(head):
                self.check_plain(ctx, _site(call, top), "fit", FIT_ARGS)

    # ------------------------------------------------------------------ layers

    def check_layer(self, ctx, site, short: str) -> None:
        if through_keras2(ctx.analysis, site.node):
            return  # Keras 2 itself: not code that runs on Keras 3
        if short in REMOVED_CLASSES:
            ctx.report(site, f"`{short}` is not in Keras 3: {REMOVED_CLASSES[short]}")
            return
        spec = SPECS.get(short)
        if spec is None:
            return
        plan = _Plan(ctx, site, short)
        for name, arg in site.keywords.items():
            if name in spec.special:
                self.special(plan, spec, name, arg)
            elif name == "border_mode" and isinstance(arg.value, Const) and arg.value.value == "full":
                plan.item("`border_mode='full'` (Theano's full convolution) is gone: Keras 3 pads `'valid'` or "
                          "`'same'` only (a `ZeroPadding2D` of `kernel_size - 1` before a `'valid'` convolution "
                          "gives the full one)", fixable=False)
            elif name in spec.renames:
                self.rename(plan, name, arg, spec.renames[name])
        keras1 = bool(plan.items) or short in KERAS1_SPELLINGS
        keywords = len(plan.items)
        if spec.kernel == 2:
            self.kernel_2d(plan, keras1)
        elif spec.kernel == 3:
            self.kernel_3d(plan, keras1)
        plan.items = plan.items[keywords:] + plan.items[:keywords]  # the kernel size first, as in the call
        new_class = RENAMED_CLASSES.get(short)
        if new_class is not None:
            self.rename_class(plan, short, new_class)
        plan.report()

    def check_plain(self, ctx, site, what: str, table: dict) -> None:
        if through_keras2(ctx.analysis, site.node):
            return
        plan = _Plan(ctx, site, what)
        for name, arg in site.keywords.items():
            if name in table:
                self.rename(plan, name, arg, table[name])
        plan.report()

    @staticmethod
    def rename(plan, name: str, arg: Arg, new: str, text: str | None = None) -> None:
        node = plan.keyword(name, arg)
        what = text or f"`{name}` is `{new}`"
        if node is None:
            plan.item(what, fixable=False)
        elif new in plan.site.keywords:
            plan.item(f"{what}, which the call also sets", fixable=False)
        else:
            plan.item(what)
            plan.ops[id(node)] = ("set", new, None)

    def special(self, plan, spec: Spec, name: str, arg: Arg) -> None:
        value = arg.value
        literal = value.value if isinstance(value, Const) else _NOT_LITERAL
        if name == "dim_ordering":
            if literal == "default":
                self.remove(plan, name, arg, "`dim_ordering='default'` goes (Keras 3's default `data_format` "
                                             "is the configured image data format, as Keras 1's was)")
            elif literal in DATA_FORMATS:
                self.convert(plan, name, arg, "data_format", repr(DATA_FORMATS[literal]),
                             f"`dim_ordering={literal!r}` is `data_format={DATA_FORMATS[literal]!r}`")
            else:
                plan.item("`dim_ordering` is `data_format` (`'channels_last'` for `'tf'`, `'channels_first'` "
                          "for `'th'`)", fixable=False)
        elif name == "consume_less":
            if plan.short == "SimpleRNN":
                self.remove(plan, name, arg, "`consume_less` goes (Keras 1's SimpleRNN did not use it)")
            elif literal in IMPLEMENTATIONS:
                self.convert(plan, name, arg, "implementation", str(IMPLEMENTATIONS[literal]),
                             f"`consume_less={literal!r}` is `implementation={IMPLEMENTATIONS[literal]}`")
            else:
                self.remove(plan, name, arg, "`consume_less` goes (a speed setting: Keras 3 picks its own)")
        elif name == "forget_bias_init":
            if "unit_forget_bias" in plan.site.keywords:
                plan.item("`forget_bias_init` is `unit_forget_bias`, which the call also sets", fixable=False)
            elif literal == "one":
                self.remove(plan, name, arg, "`forget_bias_init='one'` goes (Keras 3's `unit_forget_bias=True` "
                                             "is the same)")
            elif literal in ("zero", "zeros"):
                self.convert(plan, name, arg, "unit_forget_bias", "False",
                             f"`forget_bias_init={literal!r}` is `unit_forget_bias=False`")
            else:
                plan.item("`forget_bias_init` is gone: Keras 3 sets the forget gate bias to ones "
                          "(`unit_forget_bias=True`) or to the `bias_initializer`", fixable=False)
        elif name == "mode":
            if literal == 0 and not isinstance(literal, bool):
                self.remove(plan, name, arg, "`mode=0` goes (feature-wise normalization is all Keras 3 does)")
            else:
                plan.item("`mode` is gone: Keras 3 normalizes feature-wise (Keras 1's `mode=0`) only",
                          fixable=False)
        elif name == "dropout":  # Embedding
            plan.item("`dropout` is gone: apply a `SpatialDropout1D` layer after the embedding", fixable=False)
        elif name == "output_shape":  # Deconvolution2D
            self.remove(plan, name, arg, "`output_shape` goes (Keras 3 computes it)", safe=False)
        elif name == "init":  # SeparableConv2D: one initializer for both kernels
            node = plan.keyword(name, arg)
            both = ("depthwise_initializer", "pointwise_initializer")
            what = "`init` is `depthwise_initializer` and `pointwise_initializer`"
            if node is None or literal is _NOT_LITERAL or any(b in plan.site.keywords for b in both):
                plan.item(what, fixable=False)
            else:
                plan.item(what)
                plan.ops[id(node)] = ("split", both, None)
        elif name == "input_dim":
            self.input_shape(plan, arg)
        elif name == "input_length":
            if "input_dim" not in plan.site.keywords:
                self.remove(plan, name, arg, "`input_length` goes (without `input_dim`, Keras 1 did not use it)")

    @staticmethod
    def remove(plan, name: str, arg: Arg, what: str, safe: bool = True) -> None:
        node = plan.keyword(name, arg)
        plan.item(what, fixable=node is not None)
        if node is not None:
            plan.ops[id(node)] = ("remove", None, None)
            plan.safe = plan.safe and safe

    @staticmethod
    def convert(plan, name: str, arg: Arg, new: str, value: str, what: str) -> None:
        node = plan.keyword(name, arg)
        if node is None or new in plan.site.keywords:
            plan.item(what, fixable=False)
            return
        plan.item(what)
        plan.ops[id(node)] = ("set", new, cst.parse_expression(value))

    @staticmethod
    def input_shape(plan, arg: Arg) -> None:
        """A sequence layer's ``input_dim=d, input_length=n``: ``input_shape=(n, d)``."""
        site = plan.site
        what = ("`input_dim` (and `input_length`) are `input_shape=(input_length, input_dim)`; Keras 3 reads "
                "`input_dim=d` as a one-dimensional input shape `(d,)`")
        dim = plan.keyword("input_dim", arg)
        length_arg = site.keywords.get("input_length")
        length = plan.keyword("input_length", length_arg) if length_arg is not None else None
        if dim is None or (length_arg is not None and length is None) or \
                "input_shape" in site.keywords or "batch_input_shape" in site.keywords:
            plan.item(what, fixable=False)
            return
        plan.item(what)
        first = length.value if length is not None else cst.Name("None")
        plan.ops[id(dim)] = ("set", "input_shape", _tuple([first, dim.value]))
        if length is not None:
            plan.ops[id(length)] = ("remove", None, None)

    def kernel_2d(self, plan, keras1: bool) -> None:
        """``nb_row, nb_col``: keywords, or Keras 1's second and third positional arguments."""
        site, kw = plan.site, plan.site.keywords
        if "nb_row" in kw or "nb_col" in kw:
            self.kernel_keywords(plan, ("nb_row", "nb_col"))
            return
        pos = site.positional
        if not keras1 or site.open_args or len(pos) < 3 or any(p.via != "positional" for p in pos[:3]):
            return
        if not all(_may_be_int(p.value) for p in pos[1:3]):
            return
        extra = len(pos) - 3
        row, col = plan.ctx.code(pos[1].node), plan.ctx.code(pos[2].node)
        what = (f"`{row}, {col}` are Keras 1's `nb_row, nb_col`, the kernel size `({row}, {col})` (Keras 3 reads "
                f"the third positional argument as `strides={col}`)")
        if plan.short == "Deconvolution2D" and extra == 1:
            plan.item("`output_shape` goes (Keras 3 computes it)")
            plan.ops[id(_holder(site.node, pos[3].node))] = ("remove", None, None)
            plan.safe = False
            extra = 0
        if extra or "kernel_size" in kw:
            plan.item(what + "; the positional arguments after it are Keras 1's", fixable=False)
            return
        plan.item(what)
        plan.ops[id(_holder(site.node, pos[1].node))] = ("value", None, _tuple([pos[1].node, pos[2].node]))
        plan.ops[id(_holder(site.node, pos[2].node))] = ("remove", None, None)

    def kernel_3d(self, plan, keras1: bool) -> None:
        site, kw = plan.site, plan.site.keywords
        names = ("kernel_dim1", "kernel_dim2", "kernel_dim3")
        if any(n in kw for n in names):
            self.kernel_keywords(plan, names)
            return
        pos = site.positional
        if site.open_args or len(pos) != 4 or any(p.via != "positional" for p in pos):
            return
        if not all(_may_be_int(p.value) for p in pos[1:]):
            return
        # Keras 3 reads the fourth as ``padding``: an int there is Keras 1 code whatever the spelling
        if not keras1 and not (isinstance(pos[3].value, Const) and type(pos[3].value.value) is int):
            return
        texts = [plan.ctx.code(p.node) for p in pos[1:]]
        what = (f"the positional `{', '.join(texts)}` are `kernel_size=({', '.join(texts)})` (Keras 3 reads them "
                f"as `kernel_size, strides, padding`)")
        if "kernel_size" in kw:
            plan.item(what, fixable=False)
            return
        plan.item(what)
        plan.ops[id(_holder(site.node, pos[1].node))] = ("value", None, _tuple([p.node for p in pos[1:]]))
        for p in pos[2:]:
            plan.ops[id(_holder(site.node, p.node))] = ("remove", None, None)

    @staticmethod
    def kernel_keywords(plan, names: tuple) -> None:
        """``nb_row=3, nb_col=3`` (or the first given positionally after the filters)."""
        site, kw = plan.site, plan.site.keywords
        what = f"`{', '.join(names)}` are `kernel_size=({', '.join(names)})`"
        given = [n for n in names if n in kw]
        missing = len(names) - len(given)
        pos = site.positional
        nodes = [plan.keyword(n, kw[n]) for n in given]
        if any(n is None for n in nodes) or "kernel_size" in kw or site.open_args:
            plan.item(what, fixable=False)
            return
        lead = []
        if missing:
            # Keras 1's ``Convolution2D(32, 3, nb_col=3)``: the missing ones are the positional ones after the filters
            if len(pos) != 1 + missing or any(p.via != "positional" for p in pos):
                plan.item(what, fixable=False)
                return
            lead = [_holder(site.node, p.node) for p in pos[1:]]
        elif len(pos) > 1:
            plan.item(what, fixable=False)
            return
        values = [a.value for a in lead] + [n.value for n in nodes]
        plan.item(what)
        if lead:
            plan.ops[id(lead[0])] = ("value", None, _tuple(values))
            for a in lead[1:] + nodes:
                plan.ops[id(a)] = ("remove", None, None)
        else:
            plan.ops[id(nodes[0])] = ("set", "kernel_size", _tuple(values))
            for a in nodes[1:]:
                plan.ops[id(a)] = ("remove", None, None)

    @staticmethod
    def rename_class(plan, short: str, new: str) -> None:
        func = plan.site.node.func
        what = f"`{short}` is not in Keras 3: {_renamed(short)}"
        if not isinstance(func, cst.Attribute):
            plan.item(what + f" (import `{new}` in its place)", fixable=False)
            return
        text, imports = plan.ctx.ref(f"keras.layers.{new}")
        plan.item(what)
        plan.func = (cst.parse_expression(text), imports)


_NOT_LITERAL = object()


class _Plan:
    """The Keras 1 arguments of one call, with the edits that rewrite them: ``ops`` maps id(cst.Arg) to
    ("set", new keyword, new value or None), ("value", None, new value), ("split", keywords, None)
    or ("remove", None, None)."""

    def __init__(self, ctx, site, short: str):
        self.ctx = ctx
        self.site = site
        self.short = short
        self.items: list[str] = []
        self.ops: dict = {}
        self.fixable = True
        self.safe = True
        self.func = None

    def item(self, text: str, fixable: bool = True) -> None:
        self.items.append(text)
        self.fixable = self.fixable and fixable

    def keyword(self, name: str, arg: Arg) -> cst.Arg | None:
        """The argument node that spells ``name=`` in the call, or None (it comes from a ``**`` dict)."""
        if arg is None or arg.via != "keyword":
            return None
        for a in self.site.node.args:
            if a.keyword is not None and a.keyword.value == name:
                return a
        return None

    def report(self) -> None:
        if not self.items:
            return
        call = self.site.node
        head = self.ctx.code(call.func)
        message = f"`{head}(...)` has Keras 1 arguments: " + "; ".join(self.items)
        fix = None
        if self.fixable:
            new = _rewrite(call, self.ops)
            if self.func is not None:
                new = new.with_changes(func=self.func[0])
            fix = self.ctx.fix("Rewrite the Keras 1 arguments for Keras 3", [self.ctx.replace(self.site, new)],
                               safe=self.safe, imports=self.func[1] if self.func else None)
        self.ctx.report(self.site, message, fix)


def _rewrite(call: cst.Call, ops: dict) -> cst.Call:
    """``call`` with the edits of ``ops`` made to its arguments, keeping its layout."""
    args: list = []
    removed: list = []
    for a in call.args:
        op = ops.get(id(a))
        if op is None:
            args.append(a)
            continue
        kind, new, value = op
        if kind == "set":
            args.append(a.with_changes(keyword=cst.Name(new), value=value if value is not None else a.value))
        elif kind == "value":
            args.append(a.with_changes(value=value))
        elif kind == "split":
            first, second = new
            args.append(a.with_changes(keyword=cst.Name(first), comma=_separator(call)))
            args.append(a.with_changes(keyword=cst.Name(second), value=a.value.deep_clone()))
        else:
            removed.append(len(args))
            args.append(a)
    call = call.with_changes(args=args)
    for idx in reversed(removed):
        call = without(call, args[idx])
    return call


def _separator(call: cst.Call) -> cst.Comma:
    for a in call.args:
        if isinstance(a.comma, cst.Comma):
            return a.comma
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _tuple(values: list) -> cst.Tuple:
    elements = [cst.Element(v, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                for v in values[:-1]] + [cst.Element(values[-1])]
    return cst.Tuple(elements)


def _holder(call: cst.Call, value: cst.CSTNode) -> cst.Arg:
    return next(a for a in call.args if a.value is value)


def _may_be_int(v) -> bool:
    """Whether a positional value may be one int of a Keras 1 kernel size (not a tuple, a string...)."""
    if isinstance(v, Const):
        return type(v.value) is int
    return not isinstance(v, SeqV)


class _Calls(cst.CSTVisitor):
    """Every call, with the innermost statement that holds it (as the source view's sites have)."""

    def __init__(self):
        self.calls: list = []
        self._stmts: list = []

    def on_visit(self, node) -> bool:
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self._stmts.append(node)
        elif isinstance(node, cst.Call) and self._stmts:
            self.calls.append((node, self._stmts[-1]))
        return True

    def on_leave(self, original_node) -> None:
        if isinstance(original_node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self._stmts.pop()


def _dotted(node) -> list | None:
    """``a.b.c`` as ``["a", "b", "c"]``; None for anything else."""
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return head + [node.attr.value] if head else None
    return None


def _site(call: cst.Call, top) -> CallSite:
    """A call's arguments as the source view would give them, read from the literals alone."""
    site = CallSite(call, top)
    for a in call.args:
        if a.star == "*":
            site.open_args = True
        elif a.star == "**":
            site.open_kwargs = True
        elif a.keyword is None:
            site.positional.append(Arg(_literal(a.value), a.value, "positional", None, top))
        else:
            site.keywords[a.keyword.value] = Arg(_literal(a.value), a.value, "keyword", a.keyword.value, top)
    return site


def _literal(node) -> Value:
    if isinstance(node, cst.Integer):
        try:
            return Const(int(node.value, 0), node)
        except ValueError:
            return UNKNOWN
    if isinstance(node, cst.SimpleString):
        try:
            return Const(node.evaluated_value, node)
        except Exception:  # noqa: BLE001 - a string libcst cannot evaluate is no literal here
            return UNKNOWN
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return Const({"True": True, "False": False, "None": None}[node.value], node)
    if isinstance(node, (cst.Tuple, cst.List)):
        return SeqV([], node)
    return UNKNOWN


def _star_ref(scope, name: str) -> Ref | None:
    """A layer class that ``from keras.layers import *`` brought in (as the source view reads it)."""
    for module in reversed(getattr(scope, "stars", None) or []):
        qual = canonical(f"{module}.{name}")
        short = qual.rsplit(".", 1)[1]
        if qual.startswith("keras.layers.") and (short in SPECS or short in REMOVED_CLASSES):
            return Ref(f"{module}.{name}", qual)
    return None


def _is_keras_model(model) -> bool:
    return isinstance(model, ModelObj) or (isinstance(model, UserObj) and model.model is not None)


def _renamed(short: str) -> str:
    new = RENAMED_CLASSES[short]
    if short.startswith("Atrous"):
        return f"use `{new}`, whose `dilation_rate` is Keras 1's `atrous_rate`"
    return f"use `{new}`, the same layer"
