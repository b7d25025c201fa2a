"""chainrule's scikit-learn estimators in ONNX: through to_onnx and inside skl2onnx pipelines,
checked against predict and predict_proba in onnxruntime."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx  # noqa: E402
from onnx_helpers import assert_close, run  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from chainrule.onnx import register_skl2onnx, to_onnx  # noqa: E402
from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(0, 2, (1000, 4))
TEXT_LABELS = np.array(["cat", "dog", "bird"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1)]
BINARY_LABELS = np.where(X[:, 0] + X[:, 2] > 0, 7, -1)
MULTILABEL = (X[:, :3] > 0).astype(int)


def fitted(estimator, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def classifiers():
    return {
        "text": fitted(
            MLPClassifier((12,), activation="tanh", max_iter=40, random_state=0), TEXT_LABELS
        ),
        "binary": fitted(
            MLPClassifier((12, 6), activation="gelu", max_iter=40, random_state=0), BINARY_LABELS
        ),
        "multilabel": fitted(MLPClassifier((12,), max_iter=40, random_state=0), MULTILABEL),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["text", "binary", "multilabel"])
def test_classifier_labels_and_probabilities(classifiers, kind, dtype):
    clf = classifiers[kind]
    model = to_onnx(clf, dtype=dtype)
    assert [o.name for o in model.graph.output] == ["output_label", "output_probability"]
    for n in (1, 1000):
        labels, probabilities = run(model, X[:n].astype(dtype))
        np.testing.assert_array_equal(labels, clf.predict(X[:n]))
        assert_close(probabilities, clf.predict_proba(X[:n]), dtype)


def test_text_labels_are_onnx_strings(classifiers):
    model = to_onnx(classifiers["text"])
    label = model.graph.output[0].type.tensor_type
    assert label.elem_type == onnx.TensorProto.STRING
    assert label.shape.dim[0].dim_param == "batch"
    assert run(model, X[:3].astype(np.float32))[0].dtype == object


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regressor_values(dtype, n_outputs):
    y = X[:, 0] * 3 - X[:, 1] if n_outputs == 1 else X[:, :2] * [3, -2]
    reg = fitted(
        MLPRegressor(hidden_layer_sizes=(16,), max_iter=30, random_state=0, scale_target=False), y
    )
    model = to_onnx(reg, dtype=dtype)
    for n in (1, 1000):
        (values,) = run(model, X[:n].astype(dtype))
        assert_close(values, reg.predict(X[:n]).reshape(n, n_outputs), dtype)


def test_regressor_with_target_scaling():
    # Only the public fitted attributes are read (as skl2onnx's own converter does); this holds
    # once coefs_ and intercepts_ include the target's scale and mean.
    y = X[:, 0] * 300 + 50
    reg = fitted(
        MLPRegressor(hidden_layer_sizes=(16,), max_iter=30, random_state=0, scale_target=True), y
    )
    (values,) = run(to_onnx(reg, dtype=np.float64), X)
    assert_close(values[:, 0], reg.predict(X), np.float64)


def test_scikit_learns_own_mlp_exports_too():
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    clf = fitted(SklearnMLP((8,), max_iter=40, random_state=0), TEXT_LABELS)
    labels, probabilities = run(to_onnx(clf, dtype=np.float64), X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    assert_close(probabilities, clf.predict_proba(X), np.float64)


def test_an_unfitted_estimator_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        to_onnx(MLPClassifier())


# -- skl2onnx -------------------------------------------------------------------------------
skl2onnx = pytest.importorskip("skl2onnx")


@pytest.fixture(scope="module")
def registered():
    register_skl2onnx()
    register_skl2onnx()  # a second call changes nothing


def pipeline(estimator, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make_pipeline(StandardScaler(), estimator).fit(X * 50 + 10, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("labels", ["text", "binary"])
def test_classifier_pipeline(registered, labels, dtype):
    y = TEXT_LABELS if labels == "text" else BINARY_LABELS
    pipe = pipeline(MLPClassifier((12,), max_iter=40, random_state=0), y)
    data = (X * 50 + 10).astype(dtype)
    model = skl2onnx.to_onnx(pipe, data[:1], options={"zipmap": False})
    onnx.checker.check_model(model, full_check=True)
    for n in (1, 1000):
        predicted, probabilities = run(model, data[:n])
        np.testing.assert_array_equal(predicted, pipe.predict(data[:n]))
        assert_close(probabilities, pipe.predict_proba(data[:n]), dtype)


def test_classifier_pipeline_with_skl2onnx_defaults(registered):
    # skl2onnx's default output: a ZipMap of {class: probability} per row
    pipe = pipeline(MLPClassifier((12,), max_iter=40, random_state=0), TEXT_LABELS)
    data = (X * 50 + 10).astype(np.float32)
    predicted, rows = run(skl2onnx.to_onnx(pipe, data[:1]), data)
    np.testing.assert_array_equal(predicted, pipe.predict(data))
    expected = pipe.predict_proba(data)
    classes = pipe[-1].classes_
    as_matrix = np.array([[row[c] for c in classes] for row in rows], dtype=np.float32)
    assert_close(as_matrix, expected, np.float32)


@pytest.mark.parametrize("zipmap", [True, False, "columns"])
def test_pipeline_outputs_are_named_as_for_scikit_learns_own_mlp(registered, zipmap):
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    data = (X * 50 + 10).astype(np.float32)
    names = {}
    for estimator in (SklearnMLP((12,), max_iter=40, random_state=0), MLPClassifier((12,))):
        pipe = pipeline(estimator.set_params(max_iter=40, random_state=0), TEXT_LABELS)
        model = skl2onnx.to_onnx(pipe, data[:1], options={"zipmap": zipmap})
        names[type(estimator).__module__] = [o.name for o in model.graph.output]
        outputs = run(model, data)
        np.testing.assert_array_equal(outputs[0], pipe.predict(data))
        if zipmap == "columns":  # one output per class: "sbird", "scat", "sdog"
            probabilities = np.stack(outputs[1:], axis=1)
        elif zipmap:
            probabilities = np.array([[row[c] for c in pipe.classes_] for row in outputs[1]])
        else:
            probabilities = outputs[1]
        assert_close(probabilities.astype(np.float32), pipe.predict_proba(data), np.float32)
    assert (
        names["chainrule.sklearn.estimators"]
        == names["sklearn.neural_network._multilayer_perceptron"]
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regressor_pipeline(registered, dtype):
    # ELU: onnxruntime has no float64 Elu kernel at skl2onnx's default opset (22)
    y = X[:, :2] * [3, -2]
    pipe = pipeline(
        MLPRegressor(
            hidden_layer_sizes=(16,),
            activation="elu",
            max_iter=30,
            random_state=0,
            scale_target=False,
        ),
        y,
    )
    data = (X * 50 + 10).astype(dtype)
    model = skl2onnx.to_onnx(pipe, data[:1])
    assert model.graph.output[0].name == "variable"
    (values,) = run(model, data)
    assert_close(values, pipe.predict(data), dtype)


@pytest.mark.parametrize("zipmap", [True, False])
def test_multilabel_classifier_in_skl2onnx(registered, classifiers, zipmap):
    clf = classifiers["multilabel"]
    data = X.astype(np.float32)
    model = skl2onnx.to_onnx(clf, data[:1], options={"zipmap": zipmap})
    onnx.checker.check_model(model, full_check=True)
    indicators, probabilities = run(model, data)
    np.testing.assert_array_equal(indicators, clf.predict(X))
    if not zipmap:
        assert_close(probabilities, clf.predict_proba(X), np.float32)


def test_skl2onnx_options_nocl_and_output_class_labels(registered, classifiers):
    clf = classifiers["text"]
    data = X.astype(np.float32)
    model = skl2onnx.to_onnx(clf, data[:1], options={"zipmap": False, "nocl": True})
    indices, _ = run(model, data)
    np.testing.assert_array_equal(clf.classes_[indices], clf.predict(X))
    model = skl2onnx.to_onnx(clf, data[:1], options={"zipmap": False, "output_class_labels": True})
    assert run(model, data)[2].tolist() == ["bird", "cat", "dog"]


@pytest.mark.parametrize("opset", [12, {"": 9, "ai.onnx.ml": 1}])
def test_skl2onnx_below_opset_13_is_refused_by_name(registered, classifiers, opset):
    with pytest.raises(ValueError, match="MLPClassifier needs skl2onnx's 'target_opset' >= 13"):
        skl2onnx.to_onnx(classifiers["text"], X[:1].astype(np.float32), target_opset=opset)
    model = skl2onnx.to_onnx(classifiers["text"], X[:1].astype(np.float32), target_opset=13)
    assert model.opset_import[0].version <= 13


def test_a_probability_of_exactly_one_half_is_labelled_as_predict_labels_it(classifiers):
    """scikit-learn's LabelBinarizer (and so predict) gives the second class only above 0.5."""
    clf = fitted(MLPClassifier((3,), max_iter=5, random_state=0), BINARY_LABELS)
    for W in clf.coefs_:
        W[...] = 0.0
    clf.intercepts_[-1][...] = 0.0  # every output is sigmoid(0) = 0.5 exactly
    assert np.all(clf.predict_proba(X[:5])[:, 1] == 0.5)
    labels, _ = run(to_onnx(clf, dtype=np.float64), X[:5])
    np.testing.assert_array_equal(labels, clf.predict(X[:5]))
    np.testing.assert_array_equal(labels, -1)


def test_a_poisson_regressor_exports_its_exponential_output():
    reg = fitted(
        MLPRegressor(loss="poisson", hidden_layer_sizes=(6,), max_iter=20, random_state=0),
        np.exp(0.3 * X[:, 0]),
    )
    (Y,) = run(to_onnx(reg, dtype=np.float64), X)
    assert_close(Y[:, 0], reg.predict(X), np.float64)
