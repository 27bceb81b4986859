"""Fine-tune a small BERT preset from KerasHub on SST-2 style sentences."""
import os

os.environ["KERAS_BACKEND"] = "tensorflow"

import keras
import keras_hub
import tensorflow as tf

BATCH_SIZE = 16
EPOCHS = 3

features = [
    "The movie was great!",
    "What a waste of two hours.",
    "An instant classic, I loved every minute.",
    "Boring, predictable and far too long.",
] * 64
labels = [1, 0, 1, 0] * 64

train_ds = (
    tf.data.Dataset.from_tensor_slices((features, labels))
    .shuffle(256)
    .batch(BATCH_SIZE)
    .prefetch(tf.data.AUTOTUNE)
)

classifier = keras_hub.models.BertClassifier.from_preset(
    "bert_tiny_en_uncased",
    num_classes=2,
    dropout=0.1,
)
classifier.summary()

total_steps = len(features) // BATCH_SIZE * EPOCHS
schedule = keras.optimizers.schedules.PolynomialDecay(
    initial_learning_rate=5e-5, decay_steps=total_steps, end_learning_rate=0.0
)
classifier.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=0.01),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
    jit_compile=True,
)
classifier.fit(train_ds, epochs=EPOCHS)

print(classifier.predict(["I would watch this again", "Terrible acting"]))
