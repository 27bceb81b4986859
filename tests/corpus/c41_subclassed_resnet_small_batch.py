"""Subclassed residual network for 64x64 histology patches."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class ResidualBlock(layers.Layer):
    def __init__(self, filters, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                                   kernel_initializer="he_normal")
        self.bn1 = layers.BatchNormalization()
        self.conv2 = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                   kernel_initializer="he_normal")
        self.bn2 = layers.BatchNormalization()
        self.proj = None
        if stride != 1:
            self.proj = layers.Conv2D(filters, 1, strides=stride, use_bias=False)

    def call(self, x, training=False):
        shortcut = self.proj(x) if self.proj is not None else x
        y = tf.nn.relu(self.bn1(self.conv1(x), training=training))
        y = self.bn2(self.conv2(y), training=training)
        return tf.nn.relu(y + shortcut)


class PatchNet(keras.Model):
    def __init__(self, num_classes=4, **kwargs):
        super().__init__(**kwargs)
        self.stem = layers.Conv2D(32, 5, strides=2, padding="same", use_bias=False,
                                  kernel_initializer="he_normal")
        self.stem_bn = layers.BatchNormalization()
        self.blocks = [ResidualBlock(32), ResidualBlock(64, 2), ResidualBlock(64), ResidualBlock(128, 2)]
        self.pool = layers.GlobalAveragePooling2D()
        self.classifier = layers.Dense(num_classes)

    def call(self, x, training=False):
        x = tf.nn.relu(self.stem_bn(self.stem(x), training=training))
        for block in self.blocks:
            x = block(x, training=training)
        return self.classifier(self.pool(x))


if __name__ == "__main__":
    x = np.random.rand(240, 64, 64, 3).astype("float32")
    y = np.random.randint(0, 4, size=(240,))
    model = PatchNet()
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x, y, batch_size=12, epochs=60, validation_split=0.1,
              callbacks=[keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)])
