import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D, Dropout

# (train_images, train_labels), _ = keras.datasets.fashion_mnist.load_data()
train_images = np.random.randint(0, 255, size=(2000, 28, 28)).astype("float32") / 255.0
train_labels = np.random.randint(0, 10, size=(2000,))
train_images = train_images[..., None]

EPOCHS = 20
BATCH_SIZE = 64
STEPS_PER_EPOCH = len(train_images) // BATCH_SIZE

lr_schedule = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate=1e-2,
    decay_steps=STEPS_PER_EPOCH * 2,
    decay_rate=0.9,
    staircase=True,
)

model = keras.Sequential([
    keras.Input((28, 28, 1)),
    Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
    MaxPooling2D(),
    Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
    MaxPooling2D(),
    Flatten(),
    Dropout(0.4),
    Dense(128, activation="relu", kernel_initializer="he_normal"),
    Dense(10),
])

model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-2),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)

model.fit(train_images, train_labels, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=0.1)
