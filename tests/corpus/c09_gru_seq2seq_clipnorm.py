"""Character-level sequence-to-sequence (English -> French) with GRUs.

Teacher forcing during training; the decoder gets the encoder's final state.
"""
import argparse

import numpy as np
import keras
from keras import layers


def build_model(num_encoder_tokens, num_decoder_tokens, latent_dim=256):
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens), name="encoder_inputs")
    encoder_gru = layers.GRU(latent_dim, return_state=True, name="encoder_gru")
    _, state_h = encoder_gru(encoder_inputs)

    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens), name="decoder_inputs")
    decoder_gru = layers.GRU(latent_dim, return_sequences=True, return_state=True, name="decoder_gru")
    decoder_outputs, _ = decoder_gru(decoder_inputs, initial_state=state_h)
    decoder_dense = layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)

    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)


def fake_corpus(n, max_len, n_tokens, seed=0):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_tokens, size=(n, max_len))
    return np.eye(n_tokens, dtype="float32")[idx]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=256)
    parser.add_argument("--num-samples", type=int, default=1000)
    args = parser.parse_args()

    num_encoder_tokens, num_decoder_tokens = 71, 93
    encoder_input_data = fake_corpus(args.num_samples, 16, num_encoder_tokens)
    decoder_input_data = fake_corpus(args.num_samples, 59, num_decoder_tokens, seed=1)
    decoder_target_data = np.roll(decoder_input_data, -1, axis=1)

    model = build_model(num_encoder_tokens, num_decoder_tokens, args.latent_dim)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        [encoder_input_data, decoder_input_data],
        decoder_target_data,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_split=0.2,
        callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)],
    )
    model.save("s2s_gru.keras")


if __name__ == "__main__":
    main()
