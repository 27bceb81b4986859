"""Train an MLP on the UCI covertype-like data with configurable depth.

Example:
    python c43_argparse_mlp_research.py --depth 4 --width 512 --lr 0.05
"""
import argparse
import os

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--out", default="runs/mlp")
    return p.parse_args()


def load_data(n=8000, d=54, classes=7, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = rng.integers(0, classes, size=(n,))
    return x, y


def make_dataset(x, y, batch_size, shuffle):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def dense_block(x, units, dropout, **layer_kwargs):
    x = layers.Dense(units, use_bias=False, **layer_kwargs)(x)
    x = layers.BatchNormalization(momentum=0.99)(x)
    x = layers.Activation("relu")(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return x


def build_model(n_features, n_classes, depth, width, dropout):
    inputs = keras.Input((n_features,))
    x = inputs
    for i in range(depth):
        x = dense_block(x, width // (2 ** i), dropout, kernel_initializer="he_normal",
                        kernel_regularizer=keras.regularizers.l2(1e-5))
    outputs = layers.Dense(n_classes)(x)
    return keras.Model(inputs, outputs)


def main():
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    x, y = load_data()
    n_val = len(x) // 10
    train_ds = make_dataset(x[n_val:], y[n_val:], args.batch_size, shuffle=True)
    val_ds = make_dataset(x[:n_val], y[:n_val], args.batch_size, shuffle=False)

    model = build_model(x.shape[1], 7, args.depth, args.width, args.dropout)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=args.lr, momentum=0.9, nesterov=True),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=args.epochs,
        callbacks=[
            keras.callbacks.ReduceLROnPlateau(factor=0.3, patience=3),
            keras.callbacks.ModelCheckpoint(os.path.join(args.out, "best.keras"), save_best_only=True),
            keras.callbacks.TensorBoard(os.path.join(args.out, "tb")),
        ],
    )


if __name__ == "__main__":
    main()
