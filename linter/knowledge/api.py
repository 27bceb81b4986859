"""What klint knows about the Keras API, as plain tables.

Every name here is *canonical*: ``keras.<namespace>.<Name>``, whatever module
path or alias the user's code reached it through (see
:func:`klint.source.names.canonical`). The source view and the model view
both describe layers, optimizers and callbacks with these names, so rules
can be written once against them.
"""
from __future__ import annotations

# ---------------------------------------------------------------- layers

#: Layers that own a kernel, mapped to the constructor argument(s) holding
#: the initializer of the weights that feed the activation.
KERNEL_LAYERS: dict[str, tuple[str, ...]] = {
    **{f"keras.layers.{n}": ("kernel_initializer",) for n in (
        "Dense", "EinsumDense",
        "Conv1D", "Conv2D", "Conv3D",
        "Convolution1D", "Convolution2D", "Convolution3D",
        "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
        "Convolution2DTranspose", "Convolution3DTranspose",
    )},
    **{f"keras.layers.{n}": ("pointwise_initializer",) for n in (
        "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    )},
    **{f"keras.layers.{n}": ("depthwise_initializer",) for n in (
        "DepthwiseConv1D", "DepthwiseConv2D",
    )},
}

#: Constructor positions of ``activation`` for kernel layers that accept it
#: positionally (``Dense(64, "relu")``, ``Conv2D(32, 3, 1, "same", ...)``).
ACTIVATION_POSITION: dict[str, int] = {
    "keras.layers.Dense": 1,
    "keras.layers.EinsumDense": 2,
}

#: Layers that are an activation, mapped to the activation they apply
#: (``None``: read it from the ``activation`` argument, as ``Activation``).
ACTIVATION_LAYERS: dict[str, str | None] = {
    "keras.layers.Activation": None,
    "keras.layers.ReLU": "relu",
    "keras.layers.LeakyReLU": "leaky_relu",
    "keras.layers.PReLU": "prelu",
    "keras.layers.ELU": "elu",
    "keras.layers.Softmax": "softmax",
    "keras.layers.ThresholdedReLU": "relu",
}

NORMALIZATION_LAYERS = frozenset(f"keras.layers.{n}" for n in (
    "BatchNormalization", "SyncBatchNormalization", "LayerNormalization",
    "GroupNormalization", "UnitNormalization", "RMSNormalization",
))

BATCHNORM_LAYERS = frozenset(f"keras.layers.{n}" for n in (
    "BatchNormalization", "SyncBatchNormalization",
))

def _layers(*names: str) -> frozenset:
    return frozenset(f"keras.layers.{n}" for n in names)


#: Dropout layers, and those of them that zero units (AlphaDropout and
#: GaussianDropout do not).
DROPOUT_LAYERS = _layers("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                         "GaussianDropout", "AlphaDropout")
ZEROING_DROPOUT_LAYERS = _layers("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")

#: Layers that keep each unit's value (or drop it) and the last axis: noise,
#: padding, cropping, upsampling, repetition.
SAME_UNIT_LAYERS = DROPOUT_LAYERS | _layers(
    "GaussianNoise", "ActivityRegularization", "Identity", "RepeatVector",
    "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    "UpSampling1D", "UpSampling2D", "UpSampling3D",
)

#: Layers that neither mix nor squash values, only move them around.
SHAPE_LAYERS = SAME_UNIT_LAYERS | _layers("Flatten", "Reshape", "Permute")

MAX_POOLING_LAYERS = _layers(
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
)
AVERAGE_POOLING_LAYERS = _layers(
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
)

#: Layers after which an elementwise activation acts on the output of the
#: layer before them (max pooling commutes with monotonic activations).
TRANSPARENT_LAYERS = SHAPE_LAYERS | MAX_POOLING_LAYERS

RECURRENT_LAYERS = frozenset(f"keras.layers.{n}" for n in (
    "SimpleRNN", "LSTM", "GRU", "RNN", "CuDNNLSTM", "CuDNNGRU",
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
))

#: Layers that sum their inputs: with an input that skips past the layers before it, a residual
#: connection.
ADD_LAYERS = _layers("Add")

#: Functions that merge the tensors they are given, by how: a sum or a product.
MERGE_FUNCTIONS = {
    **{q: "add" for q in ("keras.layers.add", "keras.ops.add", "tensorflow.add", "tensorflow.math.add",
                          "tensorflow.add_n", "tensorflow.math.add_n")},
    **{q: "mul" for q in ("keras.layers.multiply", "keras.ops.multiply", "tensorflow.multiply",
                          "tensorflow.math.multiply")},
}

#: Wrappers whose recurrent-ness is that of the layer they wrap.
WRAPPER_LAYERS = frozenset(f"keras.layers.{n}" for n in ("Bidirectional", "TimeDistributed"))


#: ``keras.applications`` constructors whose models contain BatchNormalization.
APPLICATION_PREFIXES_WITH_BN = (
    "ResNet", "EfficientNet", "MobileNet", "DenseNet", "Inception", "Xception", "NASNet", "ConvNeXt", "RegNet",
)


def application_has_batchnorm(qual: str) -> bool:
    if not qual.startswith("keras.applications."):
        return False
    short = qual.rsplit(".", 1)[1]
    return short[:1].isupper() and short.startswith(APPLICATION_PREFIXES_WITH_BN)


# ----------------------------------------------------------- activations

HE_ACTIVATIONS = frozenset((
    "relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "swish", "mish", "prelu", "hard_silu", "hard_swish",
    "celu",
))
#: The smooth members of the ReLU family, the feed-forward activations of transformers.
SMOOTH_ACTIVATIONS = frozenset(("gelu", "silu", "swish", "mish", "hard_silu", "hard_swish"))
SELU_ACTIVATIONS = frozenset(("selu",))
GLOROT_ACTIVATIONS = frozenset(("tanh", "sigmoid", "softmax", "linear", "hard_sigmoid", "softsign", "log_softmax"))

#: Spellings of activation names (strings and function names) to one name.
ACTIVATION_ALIASES = {
    "leakyrelu": "leaky_relu",
    "leaky_relu": "leaky_relu",
    "swish": "silu",
    "hard_swish": "hard_silu",
    "None": "linear",
}

#: Functions that are activations, by canonical name.
ACTIVATION_FUNCTIONS_MODULES = ("keras.activations", "keras.ops", "keras.backend",
                                "tensorflow.nn", "tensorflow.math", "tensorflow", "tensorflow.keras.activations")


def activation_from_function(qual: str) -> str | None:
    """``tensorflow.nn.relu`` -> ``relu``; ``None`` for anything else."""
    module, _, name = qual.rpartition(".")
    if module not in ACTIVATION_FUNCTIONS_MODULES:
        return None
    name = normalize_activation(name)
    if name in HE_ACTIVATIONS | SELU_ACTIVATIONS | GLOROT_ACTIVATIONS:
        return name
    return None


def normalize_activation(name: str) -> str:
    name = name.strip()
    low = name.lower()
    return ACTIVATION_ALIASES.get(name, ACTIVATION_ALIASES.get(low, low))


def activation_family(act: str) -> str | None:
    """The initializer family an activation wants: ``he``, ``lecun`` or ``glorot``."""
    if act in HE_ACTIVATIONS:
        return "he"
    if act in SELU_ACTIVATIONS:
        return "lecun"
    if act in GLOROT_ACTIVATIONS:
        return "glorot"
    return None


# ----------------------------------------------------------- initializers

#: Initializer spellings (string, class or function name, lower-cased) to
#: ``(family, variant)``.
INITIALIZERS: dict[str, tuple[str, str]] = {
    "glorot_uniform": ("glorot", "uniform"), "glorotuniform": ("glorot", "uniform"),
    "glorot_normal": ("glorot", "normal"), "glorotnormal": ("glorot", "normal"),
    "he_uniform": ("he", "uniform"), "heuniform": ("he", "uniform"),
    "he_normal": ("he", "normal"), "henormal": ("he", "normal"),
    "lecun_uniform": ("lecun", "uniform"), "lecununiform": ("lecun", "uniform"),
    "lecun_normal": ("lecun", "normal"), "lecunnormal": ("lecun", "normal"),
    "variance_scaling": ("lecun", "normal"), "variancescaling": ("lecun", "normal"),
    "xavier_uniform": ("glorot", "uniform"), "xavier_normal": ("glorot", "normal"),
}

#: Class names, for writing a fix in the user's style.
INITIALIZER_CLASSES = {
    ("glorot", "uniform"): "GlorotUniform", ("glorot", "normal"): "GlorotNormal",
    ("he", "uniform"): "HeUniform", ("he", "normal"): "HeNormal",
    ("lecun", "uniform"): "LecunUniform", ("lecun", "normal"): "LecunNormal",
}

DEFAULT_KERNEL_INITIALIZER = ("glorot", "uniform")

# ------------------------------------------------------------- optimizers

OPTIMIZERS = frozenset(f"keras.optimizers.{n}" for n in (
    "SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Ftrl", "Lion", "Adafactor",
    "LossScaleOptimizer", "Lamb", "Muon", "Optimizer",
))

#: String optimizer names (``compile(optimizer="adam")``) to class names.
OPTIMIZER_STRINGS = {
    "sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adamax": "Adamax", "nadam": "Nadam",
    "rmsprop": "RMSprop", "adagrad": "Adagrad", "adadelta": "Adadelta", "ftrl": "Ftrl",
    "lion": "Lion", "adafactor": "Adafactor", "lamb": "Lamb",
}


CLIPPING_ARGUMENTS = ("clipnorm", "clipvalue", "global_clipnorm")

#: Variables made by hand, not by a layer: what a style-transfer or deep-dream loop optimizes.
VARIABLE_CLASSES = frozenset(("tensorflow.Variable", "keras.Variable", "keras.backend.Variable"))

LR_SCHEDULE_PREFIX = "keras.optimizers.schedules."

LR_CALLBACKS = frozenset(("keras.callbacks.ReduceLROnPlateau", "keras.callbacks.LearningRateScheduler"))

# ------------------------------------------------------- training inputs

#: Functions returning batched datasets, with the position of ``batch_size``
#: and its default.
DATASET_FACTORIES: dict[str, tuple[int | None, int | None]] = {
    "keras.utils.image_dataset_from_directory": (None, 32),
    "keras.utils.text_dataset_from_directory": (None, 32),
    "keras.utils.audio_dataset_from_directory": (None, 32),
    "keras.utils.timeseries_dataset_from_array": (None, 128),
    "keras.preprocessing.image_dataset_from_directory": (None, 32),
    "keras.preprocessing.text_dataset_from_directory": (None, 32),
    "keras.preprocessing.timeseries_dataset_from_array": (None, 128),
}

#: ``ImageDataGenerator`` methods returning batch iterators, with the default.
GENERATOR_METHODS = {"flow": 32, "flow_from_directory": 32, "flow_from_dataframe": 32}


GRADIENT_CLIP_FUNCTIONS = frozenset((
    "tensorflow.clip_by_global_norm", "tensorflow.clip_by_norm", "tensorflow.clip_by_value",
    "tensorflow.math.clip_by_global_norm", "tensorflow.math.clip_by_norm", "tensorflow.math.clip_by_value",
    "keras.ops.clip", "tensorflow.clip_by_average_norm",
))
