"""Wide CNN on CIFAR-10 with linear warmup + cosine decay implemented as a callback."""
import math

import numpy as np
import tensorflow as tf
from tensorflow.keras import Model, Input
from tensorflow.keras.callbacks import Callback, CSVLogger
from tensorflow.keras.layers import (BatchNormalization, Conv2D, Dense, Dropout,
                                     GlobalAveragePooling2D, MaxPooling2D, ReLU)
from tensorflow.keras.optimizers import SGD

EPOCHS = 60
BATCH = 128
PEAK_LR = 0.1
WARMUP_EPOCHS = 5


class WarmupCosine(Callback):
    def __init__(self, peak_lr, total_steps, warmup_steps):
        super().__init__()
        self.peak_lr = peak_lr
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.step = 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.step < self.warmup_steps:
            lr = self.peak_lr * (self.step + 1) / self.warmup_steps
        else:
            progress = (self.step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
            lr = 0.5 * self.peak_lr * (1 + math.cos(math.pi * progress))
        self.model.optimizer.learning_rate = lr
        self.step += 1


def conv_bn(x, filters):
    x = Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal")(x)
    x = BatchNormalization()(x)
    return ReLU()(x)


def build(num_classes=10):
    inp = Input((32, 32, 3))
    x = inp
    for filters in (64, 128, 256):
        x = conv_bn(x, filters)
        x = conv_bn(x, filters)
        x = MaxPooling2D()(x)
    x = GlobalAveragePooling2D()(x)
    x = Dense(256, activation="relu", kernel_initializer="he_normal")(x)
    x = Dropout(0.3)(x)
    out = Dense(num_classes, activation="softmax")(x)
    return Model(inp, out)


if __name__ == "__main__":
    x_train = np.random.rand(512, 32, 32, 3).astype("float32")
    y_train = np.random.randint(0, 10, size=(512,))
    steps_per_epoch = math.ceil(len(x_train) / BATCH)

    model = build()
    model.compile(optimizer=SGD(learning_rate=PEAK_LR, momentum=0.9, nesterov=True),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    sched = WarmupCosine(PEAK_LR, EPOCHS * steps_per_epoch, WARMUP_EPOCHS * steps_per_epoch)
    model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, validation_split=0.1,
              callbacks=[sched, CSVLogger("train_log.csv")])
