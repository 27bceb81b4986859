"""A deep sigmoid network: trains, but its first layers barely learn.

`klint probe examples/deep_sigmoid.py` runs a few training steps and shows why.
"""
import numpy as np
import keras
from keras import layers

x = np.random.randn(1024, 20).astype("float32")
y = (x[:, :3].sum(axis=1, keepdims=True) > 0).astype("float32")

model = keras.Sequential(
    [keras.Input((20,))]
    + [layers.Dense(32, activation="sigmoid") for _ in range(10)]
    + [layers.Dense(1, activation="sigmoid")]
)
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="binary_crossentropy")
model.fit(x, y, batch_size=32, epochs=5)
