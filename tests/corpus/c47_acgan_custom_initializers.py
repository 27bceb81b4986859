"""AC-GAN on 32x32 images, DCGAN-paper initialisation (N(0, 0.02)) for conv layers."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

LATENT = 100
N_CLASSES = 10
BATCH = 64
init = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)
fan_in_init = keras.initializers.VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal")


def build_generator():
    noise = keras.Input((LATENT,))
    label = keras.Input((1,), dtype="int32")
    emb = layers.Flatten()(layers.Embedding(N_CLASSES, LATENT)(label))
    h = layers.Multiply()([noise, emb])
    h = layers.Dense(4 * 4 * 256, activation=tf.nn.leaky_relu,
                     kernel_initializer=keras.initializers.GlorotNormal())(h)
    h = layers.Reshape((4, 4, 256))(h)
    for filters in (128, 64, 32):
        h = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=init)(h)
        h = layers.BatchNormalization()(h)
        h = layers.ReLU()(h)
    img = layers.Conv2D(3, 3, padding="same", activation="tanh", kernel_initializer=init)(h)
    return keras.Model([noise, label], img, name="generator")


def build_discriminator():
    img = keras.Input((32, 32, 3))
    x = img
    for filters in (64, 128, 256):
        x = layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=init)(x)
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    feat = layers.Dense(128, activation="relu", kernel_initializer=fan_in_init)(x)
    aux = layers.Dense(64, activation="tanh", kernel_initializer="zeros")(feat)
    validity = layers.Dense(1, name="validity")(feat)
    cls = layers.Dense(N_CLASSES, name="cls")(aux)
    return keras.Model(img, [validity, cls], name="discriminator")


generator = build_generator()
discriminator = build_discriminator()
d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
bce = keras.losses.BinaryCrossentropy(from_logits=True)
sce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@tf.function
def train_step(real_imgs, real_labels):
    n = tf.shape(real_imgs)[0]
    z = tf.random.normal((n, LATENT))
    fake_labels = tf.random.uniform((n, 1), 0, N_CLASSES, dtype=tf.int32)
    with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
        fake = generator([z, fake_labels], training=True)
        v_real, c_real = discriminator(real_imgs, training=True)
        v_fake, c_fake = discriminator(fake, training=True)
        d_loss = (bce(tf.ones_like(v_real), v_real) + bce(tf.zeros_like(v_fake), v_fake)
                  + sce(real_labels, c_real))
        g_loss = bce(tf.ones_like(v_fake), v_fake) + sce(fake_labels, c_fake)
    d_opt.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                              discriminator.trainable_variables))
    g_opt.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables),
                              generator.trainable_variables))
    return d_loss, g_loss


if __name__ == "__main__":
    images = np.random.uniform(-1, 1, size=(512, 32, 32, 3)).astype("float32")
    labels = np.random.randint(0, N_CLASSES, size=(512, 1)).astype("int32")
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(512).batch(BATCH, drop_remainder=True)
    for epoch in range(50):
        for real_imgs, real_labels in ds:
            d_loss, g_loss = train_step(real_imgs, real_labels)
        print(f"epoch {epoch}: d={float(d_loss):.3f} g={float(g_loss):.3f}")
