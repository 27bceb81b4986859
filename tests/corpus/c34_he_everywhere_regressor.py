"""Surrogate model for a CFD solver: 8 design parameters -> drag coefficient.

All layers use He init "because the network uses ReLU".
"""
import json

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

cfg = json.loads("""
{
  "hidden": [128, 128],
  "init": "he_normal",
  "optimizer": {"name": "adam", "lr": 3e-3},
  "batch_size": 32,
  "epochs": 300
}
""")
INIT = "he_normal"


class Surrogate(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = [layers.Dense(u, activation="relu", kernel_initializer=INIT) for u in cfg["hidden"]]
        self.bottleneck = layers.Dense(32, kernel_initializer="he_uniform")
        self.expand = layers.Dense(16, kernel_initializer=INIT)
        self.act = layers.PReLU()
        self.mix = layers.Dense(16)
        self.cd = layers.Dense(1, kernel_initializer=INIT, name="cd")

    def call(self, x):
        for layer in self.hidden:
            x = layer(x)
        x = self.bottleneck(x)
        x = self.act(self.expand(x))
        h = tf.nn.relu(self.mix(x))
        return self.cd(h)


def main():
    X = np.random.uniform(-1, 1, size=(5000, 8)).astype("float32")
    y = (np.sum(X ** 2, axis=1, keepdims=True) * 0.1 + 0.3).astype("float32")

    model = Surrogate()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=cfg["optimizer"]["lr"]),
        loss="mse",
        metrics=[keras.metrics.RootMeanSquaredError()],
    )
    model.fit(X, y, batch_size=cfg["batch_size"], epochs=cfg["epochs"], validation_split=0.15,
              callbacks=[keras.callbacks.EarlyStopping(patience=25, restore_best_weights=True)])
    model.save("surrogate.keras")


if __name__ == "__main__":
    main()
