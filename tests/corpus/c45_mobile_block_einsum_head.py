"""Tiny mobile-style classifier for 96x96 drone imagery.

Inverted-residual blocks (expand -> depthwise -> project) and an EinsumDense head.
"""
import numpy as np
import tensorflow as tf
import keras
from keras import layers

IMG = 96
CLASSES = 6


def inverted_residual(x, expansion, out_ch, stride):
    in_ch = x.shape[-1]
    h = layers.Conv2D(in_ch * expansion, 1, use_bias=False, kernel_initializer="he_normal")(x)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU(max_value=6.0)(h)
    h = layers.DepthwiseConv2D(3, strides=stride, padding="same", activation="relu6")(h)
    h = layers.Conv2D(out_ch, 1, use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    if stride == 1 and in_ch == out_ch:
        h = layers.Add()([x, h])
    return h


def build():
    inputs = keras.Input((IMG, IMG, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu6",
                      kernel_initializer=keras.initializers.HeUniform())(x)
    for expansion, out_ch, stride in [(1, 16, 1), (6, 24, 2), (6, 24, 1), (6, 32, 2), (6, 32, 1)]:
        x = inverted_residual(x, expansion, out_ch, stride)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Reshape((1, -1))(x)
    x = layers.EinsumDense("bsd,de->bse", output_shape=(1, 64), activation="gelu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="tiny_mobile")


if __name__ == "__main__":
    x = np.random.randint(0, 255, size=(320, IMG, IMG, 3)).astype("float32")
    y = np.random.randint(0, CLASSES, size=(320,))
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(320).batch(32).prefetch(2)

    model = build()
    model.compile(optimizer=keras.optimizers.Lion(learning_rate=3e-4, weight_decay=0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train, epochs=30, callbacks=[keras.callbacks.EarlyStopping(patience=5)])
