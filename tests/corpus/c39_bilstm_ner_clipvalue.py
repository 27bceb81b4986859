"""BiLSTM sequence tagger for named-entity recognition (CoNLL-style tags)."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import Model, Input
from tensorflow.keras.layers import LSTM, Embedding, Dense, TimeDistributed, Dropout, Bidirectional
from tensorflow.keras.optimizers import Adam

MAX_LEN = 50
N_WORDS = 5000
N_TAGS = 9
EMB_DIM = 100

X = np.random.randint(1, N_WORDS, size=(2000, MAX_LEN))
Y = np.random.randint(0, N_TAGS, size=(2000, MAX_LEN))

input_word = Input(shape=(MAX_LEN,))
model = Embedding(input_dim=N_WORDS, output_dim=EMB_DIM, mask_zero=True)(input_word)
model = Dropout(0.1)(model)
model = Bidirectional(LSTM(units=100, return_sequences=True, recurrent_dropout=0.1))(model)
out = TimeDistributed(Dense(N_TAGS, activation="softmax"))(model)
model = Model(input_word, out)

model.compile(optimizer=Adam(learning_rate=1e-3, clipvalue=5.0),
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.summary()

history = model.fit(X, Y, batch_size=32, epochs=5, validation_split=0.1, verbose=1)
