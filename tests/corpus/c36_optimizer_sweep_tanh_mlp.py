"""Reproduce the 'optimizer comparison' figure from a 2014-era paper on a tanh MLP."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers

rng = np.random.default_rng(3)
X = rng.normal(size=(4000, 20)).astype("float32")
y = (np.sin(X[:, 0]) + X[:, 1] * X[:, 2] > 0).astype("float32")


def tanh_mlp():
    return keras.Sequential([
        keras.Input((20,)),
        layers.Dense(100, activation="tanh"),
        layers.Dense(100, activation="tanh", kernel_initializer="glorot_normal"),
        layers.Dense(1, activation="sigmoid"),
    ])


OPTIMIZERS = {
    "adadelta": lambda: keras.optimizers.Adadelta(learning_rate=1.0, rho=0.95),
    "adagrad": lambda: keras.optimizers.Adagrad(0.1),
    "sgd": lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "rmsprop": lambda: keras.optimizers.RMSprop(learning_rate=1e-3),
}

histories = {}
for name, make_opt in OPTIMIZERS.items():
    keras.utils.set_random_seed(0)
    model = tanh_mlp()
    model.compile(optimizer=make_opt(), loss="binary_crossentropy", metrics=["accuracy"])
    histories[name] = model.fit(X, y, batch_size=100, epochs=30, verbose=0).history["loss"]

for name, losses in histories.items():
    plt.plot(losses, label=name)
plt.yscale("log")
plt.legend()
plt.savefig("optimizer_comparison.png")
