"""Recurrent GAN for synthetic sensor sequences.

Generator: stacked LSTM -> per-step Dense.  Discriminator: 1D convnet.
"""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

SEQ_LEN = 48
N_FEATURES = 6
LATENT = 32
BATCH_SIZE = 64


def build_generator():
    z = keras.Input((SEQ_LEN, LATENT))
    h = layers.LSTM(128, return_sequences=True)(z)
    h = layers.LSTM(128, return_sequences=True)(h)
    out = layers.TimeDistributed(layers.Dense(N_FEATURES, activation="tanh"))(h)
    return keras.Model(z, out, name="generator")


def build_discriminator():
    x_in = keras.Input((SEQ_LEN, N_FEATURES))
    x = layers.Conv1D(64, 5, strides=2, padding="same", kernel_initializer="he_normal")(x_in)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv1D(128, 5, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    logit = layers.Dense(1)(x)
    return keras.Model(x_in, logit, name="discriminator")


class SeqGAN(keras.Model):
    def __init__(self, generator, discriminator, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def compile(self, g_opt, d_opt, **kwargs):
        super().compile(**kwargs)
        self.g_opt = g_opt
        self.d_opt = d_opt

    def train_step(self, real):
        batch = tf.shape(real)[0]
        z = tf.random.normal((batch, SEQ_LEN, LATENT))
        with tf.GradientTape() as d_tape:
            fake = self.generator(z, training=True)
            real_logit = self.discriminator(real, training=True)
            fake_logit = self.discriminator(fake, training=True)
            d_loss = self.bce(tf.ones_like(real_logit), real_logit) + self.bce(
                tf.zeros_like(fake_logit), fake_logit
            )
        d_grads = d_tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_opt.apply_gradients(zip(d_grads, self.discriminator.trainable_variables))

        z = tf.random.normal((batch, SEQ_LEN, LATENT))
        with tf.GradientTape() as g_tape:
            fake_logit = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = self.bce(tf.ones_like(fake_logit), fake_logit)
        g_grads = g_tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_opt.apply_gradients(zip(g_grads, self.generator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}


if __name__ == "__main__":
    data = np.tanh(np.cumsum(np.random.randn(1024, SEQ_LEN, N_FEATURES) * 0.1, axis=1)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(data).shuffle(1024).batch(BATCH_SIZE, drop_remainder=True)

    gan = SeqGAN(build_generator(), build_discriminator())
    gan.compile(
        g_opt=keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
        d_opt=keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
    )
    gan.fit(ds, epochs=100)
