"""Train MobileNetV3Small from scratch on a 20-class product dataset.

Phase 1: high LR for a few epochs.  Phase 2: drop the LR by hand and continue.
"""
import numpy as np
import tensorflow as tf
import keras
from keras import layers

NUM_CLASSES = 20
IMG = 128
BATCH = 32


def make_ds(n, training):
    x = np.random.randint(0, 255, size=(n, IMG, IMG, 3)).astype("float32")
    y = np.random.randint(0, NUM_CLASSES, size=(n,))
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        ds = ds.shuffle(n)
    return ds.batch(BATCH).prefetch(tf.data.AUTOTUNE)


train_ds = make_ds(256, True)
val_ds = make_ds(64, False)

backbone = keras.applications.MobileNetV3Small(
    input_shape=(IMG, IMG, 3), include_top=False, weights=None, include_preprocessing=True
)
inputs = keras.Input((IMG, IMG, 3))
x = backbone(inputs)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
model = keras.Model(inputs, outputs)

model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.fit(train_ds, validation_data=val_ds, epochs=5)

# phase 2
model.optimizer.learning_rate = 1e-4
model.fit(train_ds, validation_data=val_ds, epochs=25,
          callbacks=[keras.callbacks.ModelCheckpoint("mnv3_products.keras", save_best_only=True)])
