"""2D U-Net for lesion segmentation on 256x256 slices.

Batch size is 2 because of GPU memory; BN momentum lowered to 0.9 so the moving
statistics follow the noisy small-batch estimates.
"""
import numpy as np
import tensorflow as tf
from tensorflow.keras import Model, Input
from tensorflow.keras.layers import (
    Activation,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Conv2DTranspose,
    MaxPooling2D,
)
from tensorflow.keras.optimizers import Adam
from tensorflow.keras.callbacks import ModelCheckpoint, EarlyStopping

BATCH_SIZE = 2
EPOCHS = 200
BN_MOMENTUM = 0.9


def conv_block(x, filters):
    x = Conv2D(filters, 3, padding="same", kernel_initializer="he_normal")(x)
    x = BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = Activation("relu")(x)
    x = Conv2D(filters, 3, padding="same", kernel_initializer="he_normal")(x)
    x = BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = Activation("relu")(x)
    return x


def encoder_block(x, filters):
    s = conv_block(x, filters)
    p = MaxPooling2D((2, 2))(s)
    return s, p


def decoder_block(x, skip, filters):
    x = Conv2DTranspose(filters, 2, strides=2, padding="same")(x)
    x = Concatenate()([x, skip])
    return conv_block(x, filters)


def build_unet(input_shape=(256, 256, 1)):
    inputs = Input(input_shape)
    s1, p1 = encoder_block(inputs, 32)
    s2, p2 = encoder_block(p1, 64)
    s3, p3 = encoder_block(p2, 128)
    b1 = conv_block(p3, 256)
    d1 = decoder_block(b1, s3, 128)
    d2 = decoder_block(d1, s2, 64)
    d3 = decoder_block(d2, s1, 32)
    outputs = Conv2D(1, 1, padding="same", activation="sigmoid")(d3)
    return Model(inputs, outputs, name="UNET")


def dice_coef(y_true, y_pred, smooth=1.0):
    y_true = tf.reshape(y_true, [-1])
    y_pred = tf.reshape(y_pred, [-1])
    inter = tf.reduce_sum(y_true * y_pred)
    return (2.0 * inter + smooth) / (tf.reduce_sum(y_true) + tf.reduce_sum(y_pred) + smooth)


def dice_loss(y_true, y_pred):
    return 1.0 - dice_coef(y_true, y_pred)


if __name__ == "__main__":
    x = np.random.rand(16, 256, 256, 1).astype("float32")
    y = (np.random.rand(16, 256, 256, 1) > 0.9).astype("float32")

    model = build_unet()
    model.compile(optimizer=Adam(learning_rate=1e-4), loss=dice_loss, metrics=[dice_coef])
    model.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        validation_split=0.25,
        callbacks=[
            ModelCheckpoint("unet_best.keras", save_best_only=True),
            EarlyStopping(patience=20),
        ],
    )
