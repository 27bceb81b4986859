"""Spam or not: a small text-feature classifier, as posted in a forum question."""
import numpy as np
import tensorflow as tf

features = np.random.rand(1000, 300).astype("float32")
labels = np.random.randint(0, 2, size=(1000, 1)).astype("float32")

model = tf.keras.Sequential([
    tf.keras.layers.Input(shape=(300,)),
    tf.keras.layers.Dense(64, activation="tanh"),
    tf.keras.layers.Dense(1, activation="softmax"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(features, labels, batch_size=32, epochs=10)
