"""Small CNN trained from scratch with KerasCV RandAugment + CutMix."""
import keras
import keras_cv
import numpy as np
import tensorflow as tf
from keras import layers

IMAGE_SIZE = 64
NUM_CLASSES = 10
BATCH = 64
AUTOTUNE = tf.data.AUTOTUNE

rand_augment = keras_cv.layers.RandAugment(value_range=(0, 255), augmentations_per_image=2, magnitude=0.3)
cut_mix = keras_cv.layers.CutMix()


def to_dict(images, labels):
    return {"images": images, "labels": tf.one_hot(labels, NUM_CLASSES)}


def augment(inputs):
    inputs["images"] = rand_augment(inputs["images"])
    return cut_mix(inputs)


def to_tuple(inputs):
    return inputs["images"], inputs["labels"]


def make_pipeline(x, y, training):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(to_dict, num_parallel_calls=AUTOTUNE)
    if training:
        ds = ds.shuffle(1024)
    ds = ds.batch(BATCH)
    if training:
        ds = ds.map(augment, num_parallel_calls=AUTOTUNE)
    return ds.map(to_tuple, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)


def conv_bn_act(x, filters, strides=1):
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("swish")(x)


def build_model():
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in [32, 64, 128, 256]:
        x = conv_bn_act(x, filters, strides=2)
        x = conv_bn_act(x, filters)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs)


if __name__ == "__main__":
    x = np.random.randint(0, 255, size=(512, IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    y = np.random.randint(0, NUM_CLASSES, size=(512,))
    train_ds = make_pipeline(x[:448], y[:448], training=True)
    val_ds = make_pipeline(x[448:], y[448:], training=False)

    model = build_model()
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=2e-3, weight_decay=5e-4),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy"],
    )
    model.fit(train_ds, validation_data=val_ds, epochs=40,
              callbacks=[keras.callbacks.ReduceLROnPlateau(patience=4), keras.callbacks.EarlyStopping(patience=8)])
