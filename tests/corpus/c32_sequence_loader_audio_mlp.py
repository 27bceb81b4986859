"""Keyword spotting on precomputed MFCC features, streamed with keras.utils.Sequence."""
import math

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class MFCCSequence(keras.utils.Sequence):
    def __init__(self, features, labels, batch_size=32, augment=False, **kwargs):
        super().__init__(**kwargs)
        self.features = features
        self.labels = labels
        self.batch_size = batch_size
        self.augment = augment

    def __len__(self):
        return math.ceil(len(self.features) / self.batch_size)

    def __getitem__(self, idx):
        sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        x = self.features[sl]
        if self.augment:
            x = x + np.random.normal(scale=0.05, size=x.shape).astype("float32")
        return x, self.labels[sl]


def build(num_words=12, input_dim=40 * 49):
    model = keras.Sequential([
        keras.Input((input_dim,)),
        layers.Dense(512, kernel_initializer="he_normal", use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.Dropout(0.3),
        layers.BatchNormalization(),
        layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
        layers.Dropout(0.3),
        layers.Dense(num_words, activation="softmax"),
    ])
    return model


if __name__ == "__main__":
    feats = np.random.randn(4096, 40 * 49).astype("float32")
    labels = np.random.randint(0, 12, size=(4096,))
    train_seq = MFCCSequence(feats[:3584], labels[:3584], augment=True)
    val_seq = MFCCSequence(feats[3584:], labels[3584:])

    model = build()
    model.compile(optimizer=keras.optimizers.Nadam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_seq, validation_data=val_seq, epochs=25,
              callbacks=[keras.callbacks.EarlyStopping(patience=4, restore_best_weights=True),
                         keras.callbacks.ModelCheckpoint("kws_mlp.keras", save_best_only=True)])
