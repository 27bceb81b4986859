"""Baseline with scikit-learn before moving to Keras (tabular churn data)."""
import numpy as np
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import classification_report

rng = np.random.default_rng(42)
X = rng.normal(size=(600, 12))
y = (X[:, 0] + 0.5 * X[:, 3] - X[:, 7] > 0).astype(int)

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

pipe = Pipeline([
    ("scaler", StandardScaler()),
    ("mlp", MLPClassifier(hidden_layer_sizes=(64, 32), activation="relu", solver="adam",
                          learning_rate_init=0.01, batch_size=8, max_iter=300, early_stopping=True)),
])

param_grid = {
    "mlp__hidden_layer_sizes": [(64,), (64, 32), (128, 64)],
    "mlp__learning_rate_init": [0.1, 0.01, 0.001],
    "mlp__alpha": [1e-4, 1e-3],
}

search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=-1, verbose=1)
search.fit(X_train, y_train)
print("best params:", search.best_params_)
print(classification_report(y_test, search.predict(X_test)))

# Compare with plain SGD solver at a high constant rate
sgd_mlp = MLPClassifier(hidden_layer_sizes=(32,), solver="sgd", learning_rate="constant",
                        learning_rate_init=0.5, momentum=0.9, batch_size=4, max_iter=200)
sgd_mlp.fit(StandardScaler().fit_transform(X_train), y_train)
