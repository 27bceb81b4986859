"""Multi-horizon load forecasting with a GRU encoder, trained with GradientTape.

Usage: python c29_gru_forecaster_custom_loop.py [--epochs N]
"""
import argparse
import logging

import numpy as np
import tensorflow as tf

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("forecaster")

HPARAMS = {
    "window": 168,
    "horizon": 24,
    "hidden": 128,
    "optimizer": {"learning_rate": 0.01, "beta_1": 0.9},
    "batch_size": 64,
}


class Forecaster(tf.keras.Model):
    def __init__(self, hidden, horizon, **kwargs):
        super().__init__(**kwargs)
        self.gru1 = tf.keras.layers.GRU(hidden, return_sequences=True)
        self.gru2 = tf.keras.layers.GRU(hidden)
        self.proj = tf.keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")
        self.head = tf.keras.layers.Dense(horizon)

    def call(self, x, training=False):
        h = self.gru1(x, training=training)
        h = self.gru2(h, training=training)
        return self.head(self.proj(h))


def windows(series, window, horizon, batch_size):
    ds = tf.keras.utils.timeseries_dataset_from_array(
        series[:-horizon], None, sequence_length=window, batch_size=None
    )
    targets = tf.keras.utils.timeseries_dataset_from_array(
        series[window:], None, sequence_length=horizon, batch_size=None
    )
    ds = tf.data.Dataset.zip((ds, targets)).map(lambda x, y: (x, y[:, 0]))
    return ds.shuffle(2048).batch(batch_size)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()

    t = np.arange(5000, dtype="float32")
    series = (np.sin(2 * np.pi * t / 24) + 0.3 * np.sin(2 * np.pi * t / 168)
              + 0.1 * np.random.randn(len(t))).astype("float32")[:, None]
    train_ds = windows(series, HPARAMS["window"], HPARAMS["horizon"], HPARAMS["batch_size"])

    model = Forecaster(HPARAMS["hidden"], HPARAMS["horizon"])
    optimizer = tf.keras.optimizers.Adam(**HPARAMS["optimizer"])
    loss_fn = tf.keras.losses.Huber()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = loss_fn(y, pred)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    for epoch in range(args.epochs):
        losses = [float(train_step(x, y)) for x, y in train_ds]
        log.info("epoch %d loss %.4f", epoch, np.mean(losses))
    model.save_weights("forecaster.weights.h5")


if __name__ == "__main__":
    main()
