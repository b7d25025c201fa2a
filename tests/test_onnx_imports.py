"""from_sklearn and from_torch: chainrule networks that predict what the originals predict."""

import warnings

import numpy as np
import pytest
from onnx_helpers import assert_close

import chainrule as cr

RNG = np.random.default_rng(0)
X = RNG.normal(0, 2, (500, 4))


# -- scikit-learn ---------------------------------------------------------------------------
def sklearn_fitted(estimator, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel", "regressor"])
def test_from_sklearn_predicts_as_sklearn(kind, activation):
    neural_network = pytest.importorskip("sklearn.neural_network")
    options = {
        "hidden_layer_sizes": (10, 7),
        "activation": activation,
        "max_iter": 30,
        "random_state": 0,
    }
    if kind == "regressor":
        est = sklearn_fitted(neural_network.MLPRegressor(**options), X[:, :2] * [3, -1])
        expected = est.predict(X)
    else:
        y = {
            "multiclass": (X[:, 0] > 0).astype(int) + (X[:, 1] > 1),
            "binary": X[:, 0] > X[:, 3],
            "multilabel": (X[:, :3] > 0).astype(int),
        }[kind]
        est = sklearn_fitted(neural_network.MLPClassifier(**options), y)
        expected = est.predict_proba(X)
        if kind == "binary":
            expected = expected[:, 1:]
    net = cr.from_sklearn(est)
    assert net.dtype == np.float64 and net.sizes == [4, 10, 7, expected.shape[1]]
    assert_close(net.predict(X), expected, np.float64)


def test_from_sklearn_accepts_chainrules_estimators_and_float32():
    pytest.importorskip("sklearn")
    from chainrule.sklearn import MLPClassifier

    est = sklearn_fitted(
        MLPClassifier((8,), activation="elu", max_iter=20, random_state=0),
        (X[:, 0] > 0).astype(int) + (X[:, 1] > 1),
    )
    net = cr.from_sklearn(est, dtype="float32")
    assert net.dtype == np.float32 and net.loss.name == "cross_entropy"
    assert_close(net.predict(X), est.predict_proba(X), np.float32)


def test_a_poisson_regressor_imports_with_a_named_loss_and_predicts_as_sklearn():
    pytest.importorskip("sklearn")
    from sklearn.neural_network import MLPRegressor

    y = np.exp(0.3 * X[:, 0])
    est = sklearn_fitted(
        MLPRegressor(loss="poisson", hidden_layer_sizes=(6,), max_iter=30, random_state=0), y
    )
    with pytest.raises(ValueError, match="'poisson'.*pass 'loss'"):
        cr.from_sklearn(est)
    net = cr.from_sklearn(est, loss="squared_error")
    np.testing.assert_allclose(net.predict(X)[:, 0], est.predict(X), rtol=1e-12)


def test_an_estimator_whose_predictions_its_weights_do_not_give_is_refused_not_copied_wrong():
    # a step after the network (here a target scaling kept outside coefs_, as chainrule's
    # MLPRegressor did before it folded it in) would be silently lost: every value off by ~300
    neural_network = pytest.importorskip("sklearn.neural_network")
    from chainrule.onnx import to_onnx

    class Rescaled(neural_network.MLPRegressor):
        def predict(self, X):
            return super().predict(X) * 300 + 50

    reg = sklearn_fitted(Rescaled(hidden_layer_sizes=(6,), max_iter=5, random_state=0), X[:, 0])
    for convert in (cr.from_sklearn, to_onnx):
        with pytest.raises(ValueError, match="not those of its coefs_ and intercepts_"):
            convert(reg)


def test_a_classifier_whose_labels_are_not_those_of_its_probabilities_is_refused():
    # an export computes the labels from the probabilities (the first largest); a predict
    # that does otherwise (here the least probable class) would be silently replaced
    neural_network = pytest.importorskip("sklearn.neural_network")
    from chainrule.onnx import to_onnx

    class Contrary(neural_network.MLPClassifier):
        def predict(self, X):
            return self.classes_[self.predict_proba(X).argmin(axis=1)]

    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    clf = sklearn_fitted(Contrary(hidden_layer_sizes=(6,), max_iter=5, random_state=0), y)
    for convert in (cr.from_sklearn, to_onnx):
        with pytest.raises(ValueError, match="Contrary's labels are not those of its predict_p"):
            convert(clf)


def test_the_imported_network_checks_and_trains():
    neural_network = pytest.importorskip("sklearn.neural_network")
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    net = cr.from_sklearn(sklearn_fitted(neural_network.MLPClassifier((6,), max_iter=5), y))
    assert cr.gradcheck(net, X[:20], y[:20]).max_relative_error < 1e-6
    before = net.compute_loss(X, y)
    net.fit(X, y, optimizer=cr.optim.Adam(learning_rate=0.01), epochs=5, verbose=0, seed=0)
    assert net.compute_loss(X, y) < before


def test_from_sklearn_refuses_other_models_and_unfitted_ones():
    pytest.importorskip("sklearn")
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPRegressor

    with pytest.raises(TypeError, match="MLPClassifier or MLPRegressor, got LogisticRegression"):
        cr.from_sklearn(LogisticRegression().fit(X, X[:, 0] > 0))
    with pytest.raises(NotFittedError):
        cr.from_sklearn(MLPRegressor())


# -- torch ----------------------------------------------------------------------------------
def torch_model(activation, dtype):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 12),
        activation(),
        nn.Dropout(0.3),
        nn.Sequential(nn.Linear(12, 9, bias=False), nn.Identity(), activation()),
        nn.Linear(9, 3),
    )
    return model.to(dtype).eval()


TORCH_ACTIVATIONS = [
    "ReLU",
    "Sigmoid",
    "Tanh",
    "LeakyReLU",
    "ELU",
    "Softplus",
    "GELU",
    "Softmax",
    "Identity",
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", TORCH_ACTIVATIONS)
def test_from_torch_predicts_as_torch(name, dtype):
    torch = pytest.importorskip("torch")
    options = {
        "LeakyReLU": {"negative_slope": 0.2},
        "ELU": {"alpha": 0.7},
        "Softmax": {"dim": 1},
    }.get(name, {})
    model = torch_model(lambda: getattr(torch.nn, name)(**options), getattr(torch, dtype))
    net = cr.from_torch(model)
    assert net.dtype == np.dtype(dtype)
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "Dropout", "Dense", "Dense"]
    assert net.layers[2].train_biases is False  # Linear(bias=False): a zero bias, held fixed
    data = X.astype(dtype)
    with torch.no_grad():
        expected = model(torch.from_numpy(data)).numpy()
    assert_close(net.predict(data), expected, np.dtype(dtype))


def test_from_torch_picks_the_loss_of_its_output():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    assert (
        cr.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=-1))).loss.name
        == "cross_entropy"
    )
    assert cr.from_torch(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())).loss.name == (
        "binary_cross_entropy"
    )
    assert cr.from_torch(nn.Sequential(nn.Linear(2, 1)), loss="mae").loss.name == "mae"


@pytest.mark.parametrize(
    ("layers", "match"),
    [
        (
            lambda nn: [nn.Linear(2, 3), nn.Conv1d(1, 1, 1)],
            r"layer 1 \(Conv1d\(1, 1, kernel_size=\(1,\), stride=\(1,\)\)\) is not supported; "
            "supported: Linear, ReLU",
        ),
        (lambda nn: [nn.Linear(2, 3), nn.LogSoftmax(dim=1)], r"layer 1 \(LogSoftmax"),
        (lambda nn: [nn.ReLU(), nn.Linear(2, 3)], r"layer 0 \(ReLU\(\)\) must follow a Linear"),
        (lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Tanh()], r"layer 2 \(Tanh\(\)\) must follow"),
        (
            lambda nn: [nn.Linear(2, 3), nn.GELU(approximate="tanh")],
            "layer 1 GELU.*only approximate='none'",
        ),
        (lambda nn: [nn.Linear(2, 3), nn.Softplus(beta=2)], "layer 1 Softplus.*only beta=1"),
        (lambda nn: [nn.Linear(2, 3), nn.Softmax(dim=0)], "layer 1 Softmax.*only dim=1"),
        (lambda nn: [nn.Flatten(), nn.Linear(2, 3)], r"layer 0 \(Flatten\(start_dim=1"),
        (lambda nn: [nn.Linear(2, 3), nn.BatchNorm1d(3)], r"layer 1 \(BatchNorm1d\(3"),
        # above its threshold torch's Softplus is x: at threshold 5, 0.0067 from log(1 + e^x)
        (
            lambda nn: [nn.Linear(2, 3), nn.Softplus(threshold=5)],
            r"layer 1 Softplus\(beta=1.*, threshold=5\): only threshold >= 20",
        ),
        (
            lambda nn: [nn.Linear(2, 3), nn.LeakyReLU(-0.5)],
            r"layer 1 LeakyReLU\(negative_slope=-0.5\): 'slope' must be .* got -0.5",
        ),
        (
            lambda nn: [nn.Linear(2, 3), nn.ELU(-1.0)],
            r"layer 1 ELU\(alpha=-1.0\): 'alpha' must be .* got -1.0",
        ),
        (
            lambda nn: [nn.Sequential(nn.Linear(2, 3), nn.Tanh()), nn.Sequential(nn.Flatten())],
            r"layer 1.0 \(Flatten",
        ),
        (lambda nn: [nn.Dropout(0.1)], "the model has no Linear layer"),
        (
            lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1)],
            "from_torch: a Dropout after the last Linear layer is not supported",
        ),
    ],
)
def test_from_torch_refuses_unsupported_layers_by_name(layers, match):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=match) as raised:
        cr.from_torch(torch.nn.Sequential(*layers(torch.nn)))
    assert "\n" not in str(raised.value)


def test_from_torch_refuses_a_subclass_that_changes_forward_and_keeps_one_that_does_not():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Doubled(nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    class Shifted(nn.ReLU):
        def forward(self, x):
            return super().forward(x) + 1

    class Named(nn.Linear):
        """A subclass that computes what Linear computes."""

    for layers, match in [
        ([Doubled(4, 3)], r"layer 0 \(Doubled\(in_features=4.*is not supported"),
        ([nn.Linear(4, 3), Shifted()], r"layer 1 \(Shifted\(\)\) is not supported"),
    ]:
        with pytest.raises(ValueError, match=match):
            cr.from_torch(nn.Sequential(*layers))
    torch.manual_seed(0)
    model = nn.Sequential(Named(4, 3), nn.ReLU(), nn.Linear(3, 2)).double()
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    assert_close(cr.from_torch(model).predict(X), expected, np.float64)


def test_from_torch_needs_a_sequential():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="must be a torch.nn.Sequential, got Linear"):
        cr.from_torch(torch.nn.Linear(2, 3))


def test_torch_to_chainrule_to_onnx():
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from onnx_helpers import run

    model = torch_model(torch.nn.GELU, torch.float64)
    data = X.astype(np.float64)
    with torch.no_grad():
        expected = model(torch.from_numpy(data)).numpy()
    (Y,) = run(cr.onnx.to_onnx(cr.from_torch(model), dtype="float64"), data)
    assert_close(Y, expected, np.float64)
