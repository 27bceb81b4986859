"""Train a small sentiment classifier on synthetic data.

Every choice flagged by `klint check examples/unstable_train.py` is one that
makes training diverge, oscillate or learn slowly.
"""
import numpy as np
import keras
from keras import layers

VOCAB_SIZE = 5000
SEQUENCE_LENGTH = 100
BATCH_SIZE = 8
LEARNING_RATE = 0.01


def build_model():
    inputs = keras.Input(shape=(SEQUENCE_LENGTH,))
    x = layers.Embedding(VOCAB_SIZE, 64)(inputs)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    x = layers.Dense(128)(x)
    x = layers.Activation("relu")(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(32, activation="relu")(x)  # hidden layer
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def main():
    x = np.random.randint(0, VOCAB_SIZE, size=(2048, SEQUENCE_LENGTH))
    y = np.random.randint(0, 2, size=(2048,))
    model = build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=3, validation_split=0.1)


if __name__ == "__main__":
    main()
