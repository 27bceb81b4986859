"""Monthly sunspot forecasting with stacked SimpleRNNs (course exercise solution)."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import Sequential
from tensorflow.keras.layers import SimpleRNN, Dense, Lambda

WINDOW = 30
BATCH = 32
SHUFFLE = 1000

time = np.arange(3000, dtype="float32")
series = (np.abs(np.sin(time / 66.0)) * 150 + np.random.randn(3000) * 10).astype("float32")
split = 2500


def windowed_dataset(series, window_size, batch_size, shuffle_buffer):
    ds = tf.data.Dataset.from_tensor_slices(series)
    ds = ds.window(window_size + 1, shift=1, drop_remainder=True)
    ds = ds.flat_map(lambda w: w.batch(window_size + 1))
    ds = ds.shuffle(shuffle_buffer).map(lambda w: (w[:-1], w[-1]))
    return ds.batch(batch_size).prefetch(1)


train_set = windowed_dataset(series[:split], WINDOW, BATCH, SHUFFLE)

model = Sequential([
    Lambda(lambda x: tf.expand_dims(x, axis=-1), input_shape=[WINDOW]),
    SimpleRNN(40, return_sequences=True),
    SimpleRNN(40),
    Dense(10, activation="relu"),
    Dense(1),
    Lambda(lambda x: x * 100.0),
])

model.compile(loss=tf.keras.losses.Huber(), optimizer="nadam", metrics=["mae"])
history = model.fit(train_set, epochs=100)
