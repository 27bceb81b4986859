"""Self-normalizing regressor for tabular data (California-housing style)."""
import numpy as np
import keras
from keras import layers

rng = np.random.default_rng(7)
x = rng.standard_normal((2000, 8)).astype("float32")
y = (x @ rng.standard_normal((8, 1))).astype("float32")

model = keras.Sequential([
    keras.Input((8,)),
    layers.Dense(128, activation="selu", kernel_initializer="lecun_normal"),
    layers.Dropout(0.2),
    layers.Dense(128, activation="selu", kernel_initializer="lecun_normal"),
    layers.Dropout(0.2),
    layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
model.fit(x, y, batch_size=64, epochs=20, validation_split=0.1)
