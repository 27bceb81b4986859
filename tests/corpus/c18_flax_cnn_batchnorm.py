"""MNIST CNN in Flax/Optax with BatchNorm (JAX only, no Keras)."""
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn
from flax.training import train_state


class CNN(nn.Module):
    num_classes: int = 10

    @nn.compact
    def __call__(self, x, train: bool = True):
        x = nn.Conv(features=32, kernel_size=(3, 3))(x)
        x = nn.BatchNorm(use_running_average=not train)(x)
        x = nn.relu(x)
        x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
        x = nn.Conv(features=64, kernel_size=(3, 3))(x)
        x = nn.relu(x)
        x = x.reshape((x.shape[0], -1))
        x = nn.Dense(features=256)(x)
        x = nn.relu(x)
        x = nn.Dense(features=self.num_classes)(x)
        return x


class TrainState(train_state.TrainState):
    batch_stats: Any


def create_train_state(rng, learning_rate=0.01, momentum=0.9):
    model = CNN()
    variables = model.init(rng, jnp.ones([1, 28, 28, 1]), train=False)
    tx = optax.sgd(learning_rate, momentum)
    return TrainState.create(
        apply_fn=model.apply, params=variables["params"], tx=tx, batch_stats=variables["batch_stats"]
    )


@jax.jit
def train_step(state, batch):
    def loss_fn(params):
        logits, updates = state.apply_fn(
            {"params": params, "batch_stats": state.batch_stats},
            batch["image"],
            train=True,
            mutable=["batch_stats"],
        )
        one_hot = jax.nn.one_hot(batch["label"], 10)
        loss = optax.softmax_cross_entropy(logits, one_hot).mean()
        return loss, updates

    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    state = state.apply_gradients(grads=grads)
    state = state.replace(batch_stats=updates["batch_stats"])
    return state, loss


def main():
    batch_size = 4
    images = np.random.rand(64, 28, 28, 1).astype(np.float32)
    labels = np.random.randint(0, 10, size=(64,))
    state = create_train_state(jax.random.PRNGKey(0), learning_rate=0.1)
    adam_tx = optax.adam(learning_rate=0.05)
    del adam_tx
    for epoch in range(3):
        perm = np.random.permutation(len(images))
        for i in range(0, len(images), batch_size):
            idx = perm[i:i + batch_size]
            state, loss = train_step(state, {"image": images[idx], "label": labels[idx]})
        print(f"epoch {epoch}: loss {loss:.4f}")


if __name__ == "__main__":
    main()
