"""Self-normalizing network (Klambauer et al. 2017) for Fashion-MNIST, flattened inputs."""
import numpy as np
from keras.models import Sequential
from keras.layers import Dense, AlphaDropout, Input
from keras.optimizers import Nadam
from keras.callbacks import EarlyStopping

N_HIDDEN = [256, 256, 128]
DROP = 0.05

x_train = np.random.rand(3000, 784).astype("float32")
y_train = np.random.randint(0, 10, size=(3000,))
# standardize: SELU nets assume zero-mean, unit-variance inputs
x_train = (x_train - x_train.mean(axis=0)) / (x_train.std(axis=0) + 1e-7)

model = Sequential()
model.add(Input(shape=(784,)))
for units in N_HIDDEN:
    model.add(Dense(units, activation="selu", kernel_initializer="lecun_normal"))
    model.add(AlphaDropout(DROP))
model.add(Dense(32, activation="selu"))
model.add(Dense(10, activation="softmax"))

model.compile(optimizer=Nadam(learning_rate=0.002), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, epochs=40, validation_split=0.1,
          callbacks=[EarlyStopping(patience=5)])
