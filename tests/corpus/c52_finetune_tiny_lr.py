"""Fine-tuning a small CNN with a learning rate that lost a few digits."""
import numpy as np
from tensorflow import keras

LR = 3e-9

x = np.random.rand(512, 28, 28, 1).astype("float32")
y = np.random.randint(0, 10, size=(512,))

model = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(16, 3, activation="relu", kernel_initializer="he_normal"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss="sparse_categorical_crossentropy")
model.fit(x, y, batch_size=64, epochs=3)
