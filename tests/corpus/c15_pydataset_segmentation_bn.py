"""Oxford-pets style segmentation with a Sequence/PyDataset loader (Keras 3)."""
import math
import random

import numpy as np
import keras
from keras import layers

img_size = (128, 128)
num_classes = 3


class PetsSegmentation(keras.utils.PyDataset):
    """Helper to iterate over the data (as numpy arrays)."""

    def __init__(self, images, masks, batch_size=4, shuffle=True, **kwargs):
        super().__init__(**kwargs)
        self.images = images
        self.masks = masks
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.indices = list(range(len(images)))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, idx):
        batch_idx = self.indices[idx * self.batch_size : (idx + 1) * self.batch_size]
        x = self.images[batch_idx].astype("float32") / 255.0
        y = self.masks[batch_idx]
        return x, y

    def on_epoch_end(self):
        if self.shuffle:
            random.shuffle(self.indices)


def get_model(img_size, num_classes):
    inputs = keras.Input(shape=img_size + (3,))

    # Entry block
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    for filters in [64, 128]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    for filters in [128, 64, 32]:
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)

        x = layers.UpSampling2D(2)(x)

        # Project residual
        residual = layers.UpSampling2D(2)(previous_block_activation)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    # Add a per-pixel classification layer
    outputs = layers.Conv2D(num_classes, 3, activation="softmax", padding="same")(x)

    return keras.Model(inputs, outputs)


if __name__ == "__main__":
    images = np.random.randint(0, 255, size=(64,) + img_size + (3,)).astype("uint8")
    masks = np.random.randint(0, num_classes, size=(64,) + img_size + (1,)).astype("uint8")
    train_gen = PetsSegmentation(images[:56], masks[:56])
    val_gen = PetsSegmentation(images[56:], masks[56:], shuffle=False)

    model = get_model(img_size, num_classes)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    callbacks = [keras.callbacks.ModelCheckpoint("oxford_segmentation.keras", save_best_only=True)]
    model.fit(train_gen, epochs=50, validation_data=val_gen, callbacks=callbacks)
