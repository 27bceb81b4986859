"""What Keras 3 removed or moved, as plain tables, for the upgrade rules (KL8xx).

Read from the Keras 3 sources and checked against Keras 3.15.1 (``keras/api``
and ``keras/src``): a Keras 1/2 module path that no longer imports, the module
whose members took its place, and the names each of those modules exports, so
that a fix rewrites an import only when every name it imports is there.
"""
from __future__ import annotations

#: The Keras version these tables were read from.
KERAS_VERSION = "3.15.1"

#: The roots through which a script reaches Keras 3's public API (``tensorflow.keras`` is Keras 3 from
#: TensorFlow 2.16 on). ``keras.src`` is Keras's private tree, where ``layers/core`` still exists, and
#: ``tf_keras`` is Keras 2 itself: neither is checked.
KERAS3_ROOTS = ("keras", "tensorflow.keras")

#: Keras 1/2 modules that do not import in Keras 3 (``ModuleNotFoundError``), relative to the Keras
#: root (``keras``, ``tensorflow.keras``...): the module whose members replace theirs, or None.
REMOVED_MODULES = {
    "layers.core": "layers", "layers.convolutional": "layers", "layers.convolutional_recurrent": "layers",
    "layers.recurrent": "layers", "layers.normalization": "layers", "layers.embeddings": "layers",
    "layers.pooling": "layers", "layers.merge": "layers", "layers.advanced_activations": "layers",
    "layers.wrappers": "layers", "layers.noise": "layers", "layers.local": "layers",
    "layers.cudnn_recurrent": "layers",
    "layers.experimental.preprocessing": "layers", "layers.experimental": "layers",
    "utils.np_utils": "utils", "utils.generic_utils": "utils", "utils.data_utils": "utils",
    "utils.vis_utils": "utils", "utils.all_utils": "utils", "utils.layer_utils": None, "utils.conv_utils": None,
    "engine": None, "engine.topology": None, "engine.training": None, "engine.sequential": None,
    "wrappers.scikit_learn": None,
    "preprocessing.text": None,
}

#: Why a removed module has no replacement, for the message.
NO_REPLACEMENT = {
    "wrappers.scikit_learn": "use `keras.wrappers.SKLearnClassifier`/`SKLearnRegressor` (Keras 3.5 and later) "
                             "or SciKeras, whose `KerasClassifier`/`KerasRegressor` take the same build function",
    "preprocessing.text": "`Tokenizer` and `one_hot` are kept only for TensorFlow, in "
                          "`tensorflow.keras.preprocessing.text`; Keras 3's own is `keras.layers.TextVectorization`",
    "engine": "import `Model`, `Sequential`, `Input` and `Layer` from `keras` and `keras.layers`",
    "engine.topology": "import `Model`, `Input` and `Layer` from `keras` and `keras.layers`",
    "engine.training": "import `Model` from `keras`",
    "engine.sequential": "import `Sequential` from `keras`",
    "utils.layer_utils": "its helpers are private in Keras 3",
    "utils.conv_utils": "its helpers are private in Keras 3",
}

#: Keras 2's preprocessing utilities that Keras 3 keeps only in the API it gives TensorFlow
#: (``tensorflow.keras``, ``keras/_tf_keras`` in the Keras 3.15.1 wheel, backed by
#: ``keras/src/legacy/preprocessing``): ``from keras.preprocessing.image import ImageDataGenerator``
#: raises ImportError on Keras 3, ``from tensorflow.keras.preprocessing.image import ...`` is the same
#: class. Every public name of each ``tensorflow.keras`` module.
TF_KERAS_ONLY = {
    "preprocessing.image": frozenset((
        "DirectoryIterator", "ImageDataGenerator", "Iterator", "NumpyArrayIterator", "apply_affine_transform",
        "apply_brightness_shift", "apply_channel_shift", "array_to_img", "img_to_array", "load_img",
        "random_brightness", "random_channel_shift", "random_rotation", "random_shear", "random_shift",
        "random_zoom", "save_img", "smart_resize",
    )),
    "preprocessing.sequence": frozenset(("TimeseriesGenerator", "make_sampling_table", "pad_sequences", "skipgrams")),
    "preprocessing.text": frozenset((
        "Tokenizer", "hashing_trick", "one_hot", "text_to_word_sequence", "tokenizer_from_json")),
}
#: What standalone Keras 3 still has of those modules (the rest raise ImportError there).
KERAS3_KEEPS = {
    "preprocessing.image": frozenset(("array_to_img", "img_to_array", "load_img", "save_img", "smart_resize")),
    "preprocessing.sequence": frozenset(("pad_sequences",)),
    "preprocessing.text": frozenset(),
}

#: Keras 3 modules that still import but whose members raise when used.
RAISING_MODULES = {
    # keras.optimizers.legacy.Adam(...) raises ImportError: "`keras.optimizers.legacy` is not supported
    # in Keras 3" (keras/src/optimizers/__init__.py, LegacyOptimizerWarning)
    "optimizers.legacy": "optimizers",
}

#: Where the members of ``keras.engine`` are in Keras 3 (a module of this table, relative to the root;
#: "" is the root itself): a fix moves an import when all its names have the same home.
ENGINE_HOMES = {
    "Layer": "layers", "InputSpec": "layers", "Input": "layers", "InputLayer": "layers",
    "Model": "", "Sequential": "", "get_source_inputs": "utils",
}

#: Layers removed in Keras 3 whose replacement computes the same function: imported as an alias of
#: it (``from keras.layers import LSTM as CuDNNLSTM``), every use stays as written.
SAME_FUNCTION = {
    # CuDNNLSTM/CuDNNGRU were LSTM/GRU with tanh and sigmoid, run by cuDNN; Keras 3's LSTM/GRU use
    # cuDNN by themselves with those activations (keras/src/layers/rnn/lstm.py, gru.py)
    "CuDNNLSTM": "LSTM",
    "CuDNNGRU": "GRU",
}

#: Keras 2 aliases of a layer class that Keras 3 dropped: the same class under another name
#: (Keras 2.2.4 ``keras/layers/convolutional.py``: ``Deconvolution2D = Deconv2D = Conv2DTranspose``,
#: ``Deconvolution3D = Deconv3D = Conv3DTranspose``), so importing the Keras 3 class under the old
#: name is exact. Keras 2's other aliases (``Convolution2D``, ``SeparableConvolution1D``, ``MaxPool2D``,
#: ``AvgPool2D``, ``GlobalMaxPool2D``, ``Convolution2DTranspose``...) are still in Keras 3.15.1's
#: ``keras.layers``; ``AtrousConvolution1D``/``2D`` (Keras 1's signature, in ``keras.legacy`` of Keras 2)
#: are not aliases of one Keras 3 class and have no entry. Keras 1's ``Deconvolution2D(nb_filter,
#: nb_row, nb_col, output_shape, ...)`` is the same name with Keras 1 arguments, which KL803 rewrites.
KERAS2_ALIASES = {
    "Deconvolution2D": "Conv2DTranspose", "Deconv2D": "Conv2DTranspose",
    "Deconvolution3D": "Conv3DTranspose", "Deconv3D": "Conv3DTranspose",
}

#: Keras 1's functional ``merge(inputs, mode=..., concat_axis=-1, dot_axes=-1, output_shape=None,
#: output_mask=None, arguments=None, name=None)`` (Keras 1.2.2 ``keras/engine/topology.py``), mode by
#: mode: the Keras 3 function (in ``keras.layers``) that computes it, the ``merge`` argument it reads
#: with its Keras 1 default (None: none) and the keyword it becomes. ``cos`` is ``dot`` of the two
#: inputs divided by ``max(sqrt(|a|^2 |b|^2), epsilon)`` with an axis added; Keras 3 normalizes each
#: input first (``l2_normalize``) and adds no axis, so it is not exact.
MERGE_MODES = {
    "concat": ("concatenate", "concat_axis", "-1", "axis"),
    "sum": ("add", None, None, None),
    "mul": ("multiply", None, None, None),
    "ave": ("average", None, None, None),
    "max": ("maximum", None, None, None),
    "dot": ("dot", "dot_axes", "-1", "axes"),
    "cos": ("dot", "dot_axes", "-1", "axes"),
}

#: ``merge``'s parameters in order (Keras 1.2.2), and its default mode.
MERGE_PARAMETERS = ("inputs", "mode", "concat_axis", "dot_axes", "output_shape", "output_mask", "arguments",
                    "name")
MERGE_DEFAULT_MODE = "sum"

#: Names removed with their module, and what replaces them (no fix: the call changes).
REMOVED_NAMES = {
    "layers.Merge": "`Merge` (Keras 1's layer that merges Sequential branches) is gone and has no one-line "
                    "replacement: build the model with the functional API and merge the branch outputs with "
                    "`Concatenate`, `Add`, `Multiply`, `Average`, `Maximum` or `Dot` for the mode it was given",
    "layers.merge": "`merge` is gone: use `concatenate`, `add`, `multiply`, `average`, `maximum` or `dot`",
    **{f"layers.{old}": f"`{old}` (a Keras 2 alias of `{new}`) is gone: import `{new}`"
       for old, new in KERAS2_ALIASES.items()},
    "layers.CuDNNLSTM": "`CuDNNLSTM` is gone: `LSTM` uses the cuDNN kernel by itself on a GPU",
    "layers.CuDNNGRU": "`CuDNNGRU` is gone: `GRU` uses the cuDNN kernel by itself on a GPU",
}

#: The public names of the Keras 3 modules that replace removed ones (Keras 3.15.1).
EXPORTS = {
    "layers": frozenset((
    'Activation', 'ActivityRegularization', 'AdaptiveAveragePooling1D', 'AdaptiveAveragePooling2D',
    'AdaptiveAveragePooling3D', 'AdaptiveMaxPooling1D', 'AdaptiveMaxPooling2D', 'AdaptiveMaxPooling3D', 'Add',
    'AdditiveAttention', 'AlphaDropout', 'Attention', 'AugMix', 'AutoContrast', 'Average', 'AveragePooling1D',
    'AveragePooling2D', 'AveragePooling3D', 'AvgPool1D', 'AvgPool2D', 'AvgPool3D', 'BatchNormalization',
    'Bidirectional', 'CategoryEncoding', 'CenterCrop', 'Concatenate',
    'ContrastLimitedAdaptiveHistogramEqualization', 'Conv1D', 'Conv1DTranspose', 'Conv2D', 'Conv2DTranspose',
    'Conv3D', 'Conv3DTranspose', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D', 'Convolution1D',
    'Convolution1DTranspose', 'Convolution2D', 'Convolution2DTranspose', 'Convolution3D',
    'Convolution3DTranspose', 'Cropping1D', 'Cropping2D', 'Cropping3D', 'CutMix', 'Dense', 'DepthwiseConv1D',
    'DepthwiseConv2D', 'Discretization', 'Dot', 'Dropout', 'ELU', 'EinsumDense', 'Embedding', 'Equalization',
    'Flatten', 'FlaxLayer', 'GRU', 'GRUCell', 'GaussianDropout', 'GaussianNoise', 'GlobalAveragePooling1D',
    'GlobalAveragePooling2D', 'GlobalAveragePooling3D', 'GlobalAvgPool1D', 'GlobalAvgPool2D',
    'GlobalAvgPool3D', 'GlobalMaxPool1D', 'GlobalMaxPool2D', 'GlobalMaxPool3D', 'GlobalMaxPooling1D',
    'GlobalMaxPooling2D', 'GlobalMaxPooling3D', 'GroupNormalization', 'GroupQueryAttention', 'HashedCrossing',
    'Hashing', 'Identity', 'Input', 'InputLayer', 'InputSpec', 'IntegerLookup', 'JaxLayer', 'LSTM', 'LSTMCell',
    'Lambda', 'Layer', 'LayerNormalization', 'LeakyReLU', 'Masking', 'MaxNumBoundingBoxes', 'MaxPool1D',
    'MaxPool2D', 'MaxPool3D', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'Maximum', 'MelSpectrogram',
    'Minimum', 'MixUp', 'MultiHeadAttention', 'Multiply', 'Normalization', 'PReLU', 'Permute', 'Pipeline',
    'RMSNormalization', 'RNN', 'RandAugment', 'RandomBrightness', 'RandomColorDegeneration',
    'RandomColorJitter', 'RandomContrast', 'RandomCrop', 'RandomElasticTransform', 'RandomErasing',
    'RandomFlip', 'RandomGaussianBlur', 'RandomGrayscale', 'RandomHue', 'RandomInvert', 'RandomPerspective',
    'RandomPosterization', 'RandomRotation', 'RandomSaturation', 'RandomSharpness', 'RandomShear',
    'RandomTranslation', 'RandomZoom', 'ReLU', 'RepeatVector', 'Rescaling', 'Reshape', 'Resizing',
    'ReversibleEmbedding', 'STFTSpectrogram', 'SeparableConv1D', 'SeparableConv2D', 'SeparableConvolution1D',
    'SeparableConvolution2D', 'SimpleRNN', 'SimpleRNNCell', 'Softmax', 'Solarization', 'SpatialDropout1D',
    'SpatialDropout2D', 'SpatialDropout3D', 'SpectralNormalization', 'StackedRNNCells', 'StringLookup',
    'Subtract', 'TFSMLayer', 'TextVectorization', 'TimeDistributed', 'TorchModuleWrapper', 'UnitNormalization',
    'UpSampling1D', 'UpSampling2D', 'UpSampling3D', 'Wrapper', 'ZeroPadding1D', 'ZeroPadding2D',
    'ZeroPadding3D', 'add', 'average', 'concatenate', 'deserialize', 'dot', 'maximum', 'minimum', 'multiply',
    'serialize', 'subtract',
    )),
    "utils": frozenset((
    'Config', 'CustomObjectScope', 'FeatureSpace', 'Progbar', 'PyDataset', 'Sequence', 'array_to_img',
    'audio_dataset_from_directory', 'bounding_boxes', 'clear_session', 'custom_object_scope',
    'deserialize_keras_object', 'disable_interactive_logging', 'enable_interactive_logging',
    'get_custom_objects', 'get_file', 'get_registered_name', 'get_registered_object', 'get_source_inputs',
    'image_dataset_from_directory', 'img_to_array', 'is_interactive_logging_enabled', 'is_keras_tensor',
    'legacy', 'load_img', 'model_to_dot', 'normalize', 'pack_x_y_sample_weight', 'pad_sequences', 'plot_model',
    'register_keras_serializable', 'save_img', 'serialize_keras_object', 'set_random_seed', 'split_dataset',
    'standardize_dtype', 'text_dataset_from_directory', 'timeseries_dataset_from_array', 'to_categorical',
    'unpack_x_y_sample_weight',
    )),
    "optimizers": frozenset((
    'Adadelta', 'Adafactor', 'Adagrad', 'Adam', 'AdamW', 'Adamax', 'Ftrl', 'Lamb', 'Lion',
    'LossScaleOptimizer', 'MultiOptimizer', 'Muon', 'Nadam', 'Optimizer', 'OptimizerMap', 'RMSprop', 'SGD',
    'ScheduleFreeAdamW', 'deserialize', 'get', 'legacy', 'schedules', 'serialize',
    )),
}
