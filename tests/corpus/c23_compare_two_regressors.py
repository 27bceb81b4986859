"""Compare a narrow and a wide MLP on a house-price style regression problem."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.default_rng(7)
X = rng.normal(size=(2000, 13)).astype("float32")
w = rng.normal(size=(13, 1)).astype("float32")
y = X @ w + 0.1 * rng.normal(size=(2000, 1)).astype("float32")

x_train, x_val = X[:1600], X[1600:]
y_train, y_val = y[:1600], y[1600:]

normalizer = layers.Normalization()
normalizer.adapt(x_train)


def mlp(widths, name):
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(13,)))
    model.add(normalizer)
    for units in widths:
        model.add(layers.Dense(units, activation="relu", kernel_initializer="he_uniform"))
    model.add(layers.Dense(1))
    return model


reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5, min_lr=1e-5)
early_stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=15, restore_best_weights=True)

narrow = mlp([32, 32], "narrow")
narrow.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
hist_narrow = narrow.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=200,
                         batch_size=64, callbacks=[reduce_lr, early_stop], verbose=0)

wide = mlp([256, 256, 128], "wide")
wide.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="mse", metrics=["mae"])
hist_wide = wide.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=200,
                     batch_size=64, callbacks=[early_stop], verbose=0)

for name, hist in [("narrow", hist_narrow), ("wide", hist_wide)]:
    print(name, "best val_mae:", min(hist.history["val_mae"]))
