"""
Timeseries anomaly detection using a Conv1D autoencoder (after keras.io),
with ELU activations and a separable bottleneck.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import keras
from keras import layers

TIME_STEPS = 288

values = np.sin(np.linspace(0, 100 * np.pi, 4032)) + 0.05 * np.random.randn(4032)
training_mean, training_std = values.mean(), values.std()
df_training_value = (values - training_mean) / training_std


def create_sequences(values, time_steps=TIME_STEPS):
    output = []
    for i in range(len(values) - time_steps + 1):
        output.append(values[i : (i + time_steps)])
    return np.stack(output)


x_train = create_sequences(df_training_value)[..., None].astype("float32")
print("Training input shape: ", x_train.shape)

model = keras.Sequential(
    [
        layers.Input(shape=(x_train.shape[1], x_train.shape[2])),
        layers.Conv1D(filters=32, kernel_size=7, padding="same", strides=2, activation="elu"),
        layers.Dropout(rate=0.2),
        layers.SeparableConv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="elu"),
        layers.Conv1DTranspose(filters=16, kernel_size=7, padding="same", strides=2,
                               activation="elu", kernel_initializer="he_uniform"),
        layers.Dropout(rate=0.2),
        layers.Conv1DTranspose(filters=32, kernel_size=7, padding="same", strides=2,
                               activation="elu", kernel_initializer="he_uniform"),
        layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
model.summary()

history = model.fit(
    x_train,
    x_train,
    epochs=50,
    batch_size=128,
    validation_split=0.1,
    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, mode="min")],
)

x_train_pred = model.predict(x_train)
train_mae_loss = np.mean(np.abs(x_train_pred - x_train), axis=1)
threshold = np.max(train_mae_loss)
print("Reconstruction error threshold: ", threshold)
