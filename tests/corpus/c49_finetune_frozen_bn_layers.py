"""Fine-tune a pretrained cell-segmentation network on a new microscope.

Only 40 annotated crops, batch of 4: BatchNorm layers are frozen so their
statistics from pre-training are kept.
"""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

PRETRAINED = "checkpoints/cellseg_pretrained.weights.h5"
BATCH_SIZE = 4


def down(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return layers.MaxPooling2D()(x)


def up(x, filters):
    x = layers.UpSampling2D()(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal")(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_net():
    inp = keras.Input((128, 128, 1))
    x = down(inp, 32)
    x = down(x, 64)
    x = up(x, 64)
    x = up(x, 32)
    out = layers.Conv2D(1, 1, activation="sigmoid")(x)
    return keras.Model(inp, out)


model = build_net()
try:
    model.load_weights(PRETRAINED)
except (OSError, ValueError, FileNotFoundError):
    print("no pretrained weights found, continuing from scratch")

for layer in model.layers:
    if isinstance(layer, layers.BatchNormalization):
        layer.trainable = False

x = np.random.rand(40, 128, 128, 1).astype("float32")
y = (np.random.rand(40, 128, 128, 1) > 0.8).astype("float32")
train_ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(40).batch(BATCH_SIZE)

model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-4),
              loss="binary_crossentropy",
              metrics=[keras.metrics.BinaryIoU(target_class_ids=[1])])
model.fit(train_ds, epochs=100, callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=10)])
