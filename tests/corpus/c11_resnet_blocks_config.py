"""ResNet-20 style CIFAR model, research-code style (config dict + helper blocks).

Trained on a workstation GPU with little memory, hence the tiny batch.
"""
import math

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

CONFIG = {
    "num_classes": 10,
    "depth": 20,
    "batch_size": 8,
    "epochs": 182,
    "base_lr": 0.1,
    "momentum": 0.9,
    "weight_decay": 1e-4,
}

L2 = keras.regularizers.l2(CONFIG["weight_decay"])


def conv3x3(filters, stride=1, **kwargs):
    return layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                         kernel_initializer="he_normal", kernel_regularizer=L2, **kwargs)


def residual_block(x, filters, stride=1):
    shortcut = x
    y = conv3x3(filters, stride)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = conv3x3(filters)(y)
    y = layers.BatchNormalization()(y)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                 kernel_initializer="he_normal", kernel_regularizer=L2)(shortcut)
        shortcut = layers.BatchNormalization()(shortcut)
    y = layers.Add()([y, shortcut])
    return layers.ReLU()(y)


def build_resnet(input_shape=(32, 32, 3), num_classes=10, depth=20):
    n = (depth - 2) // 6
    inputs = keras.Input(input_shape)
    x = conv3x3(16)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    for stage, filters in enumerate([16, 32, 64]):
        for i in range(n):
            stride = 2 if (stage > 0 and i == 0) else 1
            x = residual_block(x, filters, stride)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, kernel_regularizer=L2)(x)
    return keras.Model(inputs, outputs, name=f"resnet{depth}")


def step_decay(epoch, lr):
    # divide by 10 at epochs 91 and 136 (He et al. 2016)
    if epoch in (91, 136):
        return lr * 0.1
    return lr


def make_dataset(x, y, training=True):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        ds = ds.shuffle(10000).map(
            lambda img, lbl: (tf.image.random_flip_left_right(img), lbl),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.batch(CONFIG["batch_size"]).prefetch(tf.data.AUTOTUNE)


def main():
    x_train = np.random.rand(256, 32, 32, 3).astype("float32")
    y_train = np.random.randint(0, CONFIG["num_classes"], size=(256,))
    x_val = np.random.rand(64, 32, 32, 3).astype("float32")
    y_val = np.random.randint(0, CONFIG["num_classes"], size=(64,))

    model = build_resnet(num_classes=CONFIG["num_classes"], depth=CONFIG["depth"])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=CONFIG["base_lr"], momentum=CONFIG["momentum"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    callbacks = [
        keras.callbacks.LearningRateScheduler(step_decay),
        keras.callbacks.ModelCheckpoint("resnet20.weights.h5", save_weights_only=True),
    ]
    model.fit(make_dataset(x_train, y_train), validation_data=make_dataset(x_val, y_val, False),
              epochs=CONFIG["epochs"], callbacks=callbacks)
    print("steps/epoch:", math.ceil(len(x_train) / CONFIG["batch_size"]))


if __name__ == "__main__":
    main()
