"""A tiny NumPy neural-net framework for teaching. Names mimic Keras on purpose."""
import numpy as np


class Dense:
    def __init__(self, units, activation=None, kernel_initializer="glorot_uniform", input_dim=None):
        self.units = units
        self.activation = activation
        self.kernel_initializer = kernel_initializer
        self.input_dim = input_dim
        self.W = None
        self.b = np.zeros(units)

    def build(self, input_dim):
        limit = np.sqrt(6.0 / (input_dim + self.units))
        self.W = np.random.uniform(-limit, limit, size=(input_dim, self.units))

    def forward(self, x):
        if self.W is None:
            self.build(x.shape[-1])
        self.x = x
        z = x @ self.W + self.b
        self.z = z
        if self.activation == "relu":
            return np.maximum(z, 0)
        return z

    def backward(self, grad):
        if self.activation == "relu":
            grad = grad * (self.z > 0)
        self.dW = self.x.T @ grad
        self.db = grad.sum(axis=0)
        return grad @ self.W.T


class BatchNormalization:
    def __init__(self, momentum=0.99, eps=1e-5):
        self.momentum = momentum
        self.eps = eps

    def forward(self, x):
        self.mu = x.mean(0)
        self.var = x.var(0)
        return (x - self.mu) / np.sqrt(self.var + self.eps)

    def backward(self, grad):
        return grad / np.sqrt(self.var + self.eps)


class LSTM:
    """Placeholder so the API looks familiar to students."""

    def __init__(self, units):
        self.units = units


class Adam:
    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999):
        self.lr = lr
        self.b1, self.b2 = beta_1, beta_2
        self.state = {}

    def update(self, key, param, grad):
        m, v, t = self.state.get(key, (0.0, 0.0, 0))
        t += 1
        m = self.b1 * m + (1 - self.b1) * grad
        v = self.b2 * v + (1 - self.b2) * grad ** 2
        self.state[key] = (m, v, t)
        m_hat = m / (1 - self.b1 ** t)
        v_hat = v / (1 - self.b2 ** t)
        return param - self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def compile(self, optimizer, loss="mse"):
        self.optimizer = optimizer
        self.loss = loss

    def fit(self, x, y, batch_size=32, epochs=1):
        for _ in range(epochs):
            for i in range(0, len(x), batch_size):
                xb, yb = x[i:i + batch_size], y[i:i + batch_size]
                out = xb
                for layer in self.layers:
                    out = layer.forward(out)
                grad = 2 * (out - yb) / len(xb)
                for layer in reversed(self.layers):
                    grad = layer.backward(grad)
                for k, layer in enumerate(self.layers):
                    if isinstance(layer, Dense):
                        layer.W = self.optimizer.update((k, "W"), layer.W, layer.dW)
                        layer.b = self.optimizer.update((k, "b"), layer.b, layer.db)


if __name__ == "__main__":
    X = np.random.randn(256, 8)
    Y = X[:, :1] * 2.0 - X[:, 1:2]
    model = Sequential([
        Dense(64, activation="relu"),
        BatchNormalization(),
        Dense(64, activation="relu"),
        Dense(1),
    ])
    model.compile(optimizer=Adam(lr=0.05))
    model.fit(X, Y, batch_size=4, epochs=20)
