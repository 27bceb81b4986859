"""Text generation with an RNN (TF tutorial), trained with a hand-written loop.

Gradients are clipped by global norm before each update.
"""
import time

import numpy as np
import tensorflow as tf

text = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
        "All:\nSpeak, speak.\n\n") * 200
vocab = sorted(set(text))
ids_from_chars = {c: i for i, c in enumerate(vocab)}
all_ids = np.array([ids_from_chars[c] for c in text], dtype=np.int64)

seq_length = 100
BATCH_SIZE = 64
BUFFER_SIZE = 10000
EPOCHS = 20
CLIP_NORM = 5.0


def split_input_target(sequence):
    return sequence[:-1], sequence[1:]


ids_dataset = tf.data.Dataset.from_tensor_slices(all_ids)
sequences = ids_dataset.batch(seq_length + 1, drop_remainder=True)
dataset = (
    sequences.map(split_input_target)
    .shuffle(BUFFER_SIZE)
    .batch(BATCH_SIZE, drop_remainder=True)
    .prefetch(tf.data.experimental.AUTOTUNE)
)


class MyModel(tf.keras.Model):
    def __init__(self, vocab_size, embedding_dim, rnn_units):
        super().__init__()
        self.embedding = tf.keras.layers.Embedding(vocab_size, embedding_dim)
        self.gru = tf.keras.layers.GRU(rnn_units, return_sequences=True, return_state=True)
        self.dense = tf.keras.layers.Dense(vocab_size)

    def call(self, inputs, states=None, return_state=False, training=False):
        x = inputs
        x = self.embedding(x, training=training)
        if states is None:
            x, states = self.gru(x, training=training)
        else:
            x, states = self.gru(x, initial_state=states, training=training)
        x = self.dense(x, training=training)

        if return_state:
            return x, states
        else:
            return x


model = MyModel(vocab_size=len(vocab), embedding_dim=256, rnn_units=1024)
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = tf.keras.optimizers.Adam(learning_rate=2e-3)
mean_loss = tf.keras.metrics.Mean()


@tf.function
def train_step(inputs, labels):
    with tf.GradientTape() as tape:
        predictions = model(inputs, training=True)
        loss = loss_fn(labels, predictions)
    grads = tape.gradient(loss, model.trainable_variables)
    grads, _ = tf.clip_by_global_norm(grads, CLIP_NORM)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


for epoch in range(EPOCHS):
    start = time.time()
    mean_loss.reset_state()
    for batch_n, (inp, target) in enumerate(dataset):
        loss = train_step(inp, target)
        mean_loss.update_state(loss)
        if batch_n % 50 == 0:
            print(f"Epoch {epoch+1} Batch {batch_n} Loss {loss:.4f}")
    if (epoch + 1) % 5 == 0:
        model.save_weights(f"./training_checkpoints/ckpt_{epoch}.weights.h5")
    print(f"Epoch {epoch+1} Loss: {mean_loss.result().numpy():.4f}")
    print(f"Time taken for 1 epoch {time.time() - start:.2f} sec")
