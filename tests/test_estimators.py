"""The scikit-learn estimators, side by side with scikit-learn's own MLP on the same data:
the same numbers (to float rounding), warnings, errors and verbose lines; scikit-learn's
estimator checks; and chainrule's extras (kept optimizer state, multi-label partial_fit,
validation loss curve, class_weight, target scaling folded into coefs_)."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

import scipy.sparse  # noqa: E402
from sklearn import neural_network  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_iris,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

PAIRS = {MLPClassifier: neural_network.MLPClassifier, MLPRegressor: neural_network.MLPRegressor}


@parametrize_with_checks(
    [
        MLPClassifier(max_iter=100),
        MLPRegressor(max_iter=100),
        MLPRegressor(solver="lbfgs"),
        MLPClassifier(solver="sgd", max_iter=100),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _both(cls, fit=None, **params):
    """chainrule's estimator and scikit-learn's with the same parameters (fitted by ``fit``)."""
    ours, theirs = cls(**params), PAIRS[cls](**params)
    if fit is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit(ours)
            fit(theirs)
    return ours, theirs


def _assert_same_model(ours, theirs, rtol=1e-7):
    for ours_array, their_array in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        assert ours_array.dtype == their_array.dtype
        np.testing.assert_allclose(ours_array, their_array, rtol=rtol, atol=1e-12)
    for name in ("n_iter_", "n_outputs_", "n_layers_", "out_activation_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=rtol)
    for name in ("loss_curve_", "validation_scores_", "best_loss_", "best_validation_score_"):
        if hasattr(theirs, name) and getattr(theirs, name) is not None:
            np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=rtol)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5))
    weights = rng.integers(0, 4, size=90).astype(float)
    Y = X @ rng.normal(size=(5, 3)) + 0.1 * rng.normal(size=(90, 3))
    labels = np.digitize(Y[:, 0], [-1.0, 1.0])
    return X, Y, labels, weights


SOLVERS = [
    {"solver": "adam"},
    {"solver": "sgd", "learning_rate": "adaptive", "n_iter_no_change": 2},
    {"solver": "sgd", "learning_rate": "invscaling", "nesterovs_momentum": False},
    {"solver": "lbfgs"},
    {"solver": "adam", "early_stopping": True, "validation_fraction": 0.2},
    {"solver": "sgd", "activation": "logistic", "batch_size": 16, "alpha": 0.1},
    {"solver": "adam", "activation": "tanh", "shuffle": False},
]


@pytest.mark.parametrize("params", SOLVERS)
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_classifier_fits_what_scikit_learn_fits(data, params, target):
    X, Y, labels, weights = data
    y = {"multiclass": labels, "binary": labels == 1, "multilabel": Y > 0}[target]
    ours, theirs = _both(
        MLPClassifier,
        lambda est: est.fit(X, y, sample_weight=weights),
        hidden_layer_sizes=(6, 4),
        max_iter=25,
        random_state=0,
        learning_rate_init=0.01,
        **params,
    )
    _assert_same_model(ours, theirs, rtol=1e-6 if params["solver"] == "lbfgs" else 1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-6)
    assert np.array_equal(ours.predict(X), theirs.predict(X))
    assert ours.score(X, y, sample_weight=weights) == theirs.score(X, y, sample_weight=weights)


@pytest.mark.parametrize("params", SOLVERS)
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_fits_what_scikit_learn_fits(data, params, loss):
    X, Y, _, weights = data
    targets = np.exp(Y / 3) if loss == "poisson" else Y
    ours, theirs = _both(
        MLPRegressor,
        lambda est: est.fit(X, targets, sample_weight=weights),
        loss=loss,
        hidden_layer_sizes=(6,),
        max_iter=25,
        random_state=0,
        learning_rate_init=0.01,
        **params,
    )
    _assert_same_model(ours, theirs, rtol=1e-6 if params["solver"] == "lbfgs" else 1e-9)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6)


def test_single_output_regression_and_float32_follow_the_input(data):
    X, Y, _, _ = data
    X32, y32 = X.astype(np.float32), Y[:, 0].astype(np.float32)
    for solver in ("adam", "lbfgs"):
        ours, theirs = _both(
            MLPRegressor,
            lambda est: est.fit(X32, y32),
            hidden_layer_sizes=(5,),
            max_iter=15,
            random_state=0,
            solver=solver,
        )
        _assert_same_model(ours, theirs, rtol=1e-6)
        assert ours.predict(X32).dtype == theirs.predict(X32).dtype
        assert ours.predict(X32).shape == theirs.predict(X32).shape == (90,)
    forced = MLPRegressor(hidden_layer_sizes=(5,), max_iter=2, dtype="float32", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert forced.fit(X, Y[:, 0]).coefs_[0].dtype == np.float32


def test_defaults_and_signatures_are_scikit_learn_s():
    for ours, theirs in PAIRS.items():
        their_params = theirs().get_params()
        our_params = ours().get_params()
        assert {k: our_params[k] for k in their_params} == their_params
        extras = set(our_params) - set(their_params)
        assert extras <= {"dropout", "dtype", "early_stopping_monitor", "class_weight"} | {
            "scale_target"
        }
    assert MLPRegressor().scale_target is False and MLPRegressor().dtype is None
    assert MLPRegressor("poisson").loss == neural_network.MLPRegressor("poisson").loss


def test_integer_weights_equal_repeated_rows_and_alpha_scales_with_the_weights(data):
    X, Y, _, weights = data
    repeated = np.repeat(np.arange(90), weights.astype(int))
    by_weight = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
    by_repeat = clone(by_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        by_weight.fit(X, Y, sample_weight=weights)
        by_repeat.fit(X[repeated], Y[repeated])
    np.testing.assert_allclose(by_weight.predict(X), by_repeat.predict(X), rtol=1e-4, atol=1e-6)
    # weights x10 divide alpha's share by 10, in scikit-learn as here, for every solver
    for solver in ("lbfgs", "adam"):
        ours, theirs = _both(
            MLPRegressor,
            lambda est: est.fit(X, Y, sample_weight=10 * weights),
            hidden_layer_sizes=(4,),
            solver=solver,
            alpha=1.0,
            max_iter=20,
            random_state=0,
        )
        _assert_same_model(ours, theirs, rtol=1e-6)


def test_coefs_and_intercepts_are_the_model(data):
    X, Y, labels, _ = data
    ours, theirs = _both(
        MLPClassifier,
        lambda est: est.fit(X, labels),
        hidden_layer_sizes=(5,),
        max_iter=5,
        random_state=0,
    )
    for est in (ours, theirs):  # the same edits on both: in place, an element, the list
        est.coefs_[0] *= 2.0
        est.intercepts_[1][0] += 1.0
        est.coefs_[1] = est.coefs_[1][:, ::-1].copy()
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-12)
    ours.coefs_ = [W.copy() for W in theirs.coefs_]
    ours.intercepts_ = list(theirs.intercepts_)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-12)
    ours.coefs_[0] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="coefs_ and intercepts_ must be lists of matching"):
        ours.predict(X)


def _forward(est, X):
    """A forward pass over coefs_ and intercepts_ alone, as skl2onnx computes one."""
    hidden = {"relu": lambda Z: np.maximum(Z, 0), "tanh": np.tanh}[est.activation]
    A = X
    for position, (W, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        A = A @ W + b
        if position < len(est.coefs_) - 1:
            A = hidden(A)
    return A


def test_scale_target_is_folded_into_the_output_layer(data):
    X, Y, _, _ = data
    y = 1e4 + 500 * Y[:, :2]
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        scale_target=True,
        learning_rate_init=0.01,
        max_iter=500,
        random_state=0,
    )
    reg.fit(X, y)
    np.testing.assert_allclose(_forward(reg, X), reg.predict(X), rtol=1e-12)
    assert reg.score(X, y) > 0.9
    plain = clone(reg).set_params(scale_target=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert plain.fit(X, y).score(X, y) < reg.score(X, y)
    warm = clone(reg).set_params(warm_start=True, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X, y)
        first = warm.score(X, y)
        warm.fit(X, y)  # unfolded for training and folded again
        warm.partial_fit(X, y)
    assert warm.score(X, y) > first
    np.testing.assert_allclose(_forward(warm, X), warm.predict(X), rtol=1e-12)
    with pytest.raises(ValueError, match="scale_target=True needs loss='squared_error'"):
        MLPRegressor("poisson", scale_target=True).fit(X, np.exp(Y[:, 0]))


def test_warm_start_counts_and_honours_changes_as_scikit_learn(data):
    X, Y, _, _ = data
    for change in ({"learning_rate_init": 0.05}, {"solver": "sgd"}, {"momentum": 0.5}):
        ours, theirs = _both(
            MLPRegressor,
            lambda est, change=change: est.fit(X, Y).set_params(**change).fit(X, Y),
            hidden_layer_sizes=(5,),
            max_iter=7,
            warm_start=True,
            random_state=0,
        )
        _assert_same_model(ours, theirs, rtol=1e-9)
        assert ours.t_ == theirs.t_ == 14 * 90 and ours.n_iter_ == 7
    ours = MLPRegressor(hidden_layer_sizes=(5,), warm_start=True, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, Y)
    with pytest.raises(ValueError, match="set warm_start=False to fit a new network"):
        ours.set_params(hidden_layer_sizes=(6, 2)).fit(X, Y)


def test_warm_start_and_partial_fit_keep_the_optimizer_state(data):
    X, Y, _, _ = data
    options = dict(hidden_layer_sizes=(6,), shuffle=False, random_state=0, tol=0)
    once = MLPRegressor(max_iter=10, solver="sgd", **options)
    twice = MLPRegressor(max_iter=5, solver="sgd", warm_start=True, **options)
    whole = MLPRegressor(max_iter=4, **options)
    pieces = MLPRegressor(**options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once.fit(X, Y)
        twice.fit(X, Y).fit(X, Y)
        whole.fit(X, Y)
    for _ in range(4):
        pieces.partial_fit(X, Y)
    for a, b in zip(once.coefs_ + whole.coefs_, twice.coefs_ + pieces.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert pieces.n_iter_ == 1 and len(pieces.loss_curve_) == 4  # as scikit-learn counts
    # the documented departure: scikit-learn's second warm fit starts a new optimizer
    their_once = neural_network.MLPRegressor(max_iter=10, solver="sgd", **options)
    their_twice = neural_network.MLPRegressor(max_iter=5, solver="sgd", warm_start=True, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        their_once.fit(X, Y)
        their_twice.fit(X, Y).fit(X, Y)
    np.testing.assert_array_equal(their_once.coefs_[0], once.coefs_[0])
    assert not np.allclose(their_twice.coefs_[0], twice.coefs_[0], rtol=1e-3)


def _outcome(action):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            action()
        except Exception as error:  # noqa: BLE001 - the exception itself is compared
            return type(error), str(error), []
    return None, None, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize(
    "cls,params,action",
    [
        (
            MLPClassifier,
            {"early_stopping": True},
            lambda e, X, y: e.partial_fit(X, y, classes=[0, 1, 2]),
        ),
        (MLPClassifier, {}, lambda e, X, y: e.partial_fit(X, y)),
        (MLPClassifier, {}, lambda e, X, y: e.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)),
        (MLPClassifier, {"warm_start": True}, lambda e, X, y: e.fit(X, y).fit(X, y % 2)),
        (
            MLPClassifier,
            {"early_stopping": True, "validation_fraction": 0.01},
            lambda e, X, y: e.fit(X, y),
        ),
        (MLPClassifier, {"max_iter": 3}, lambda e, X, y: e.fit(X, y)),
        (MLPClassifier, {"solver": "lbfgs", "max_iter": 3}, lambda e, X, y: e.fit(X, y)),
        (MLPClassifier, {"solver": "lbfgs", "max_fun": 4}, lambda e, X, y: e.fit(X, y)),
        (MLPClassifier, {"batch_size": 500, "max_iter": 2}, lambda e, X, y: e.fit(X, y)),
        (MLPClassifier, {}, lambda e, X, y: e.fit(X[:, :0], y)),
        (MLPClassifier, {"max_iter": 3}, lambda e, X, y: e.fit(X, np.zeros_like(y))),
        (MLPRegressor, {"max_iter": 3}, lambda e, X, y: e.fit(X[:1], y[:1])),
        (MLPRegressor, {}, lambda e, X, y: e.fit(X[:0], y[:0])),
        (MLPRegressor, {}, lambda e, X, y: e.fit(X, y[:-1])),
        (MLPRegressor, {}, lambda e, X, y: e.predict(X)),
        (MLPRegressor, {}, lambda e, X, y: e.fit(np.where(X > 1, np.nan, X), y)),
        (MLPRegressor, {}, lambda e, X, y: e.fit(X, np.where(y > 1, np.inf, y))),
        (MLPRegressor, {"hidden_layer_sizes": (3, 0)}, lambda e, X, y: e.fit(X, y)),
        (MLPRegressor, {"alpha": -1.0}, lambda e, X, y: e.fit(X, y)),
        (MLPRegressor, {"max_iter": 2}, lambda e, X, y: e.fit(X, y).predict(X[:, :2])),
        (
            MLPRegressor,
            {"solver": "sgd", "learning_rate_init": 10.0, "max_iter": 5},
            lambda e, X, y: e.fit(X * 1e150, y),
        ),
    ],
)
def test_same_errors_and_warnings_as_scikit_learn(data, cls, params, action):
    X, _, labels, _ = data
    y = labels if cls is MLPClassifier else X[:, 0]
    ours, theirs = cls(random_state=0, **params), PAIRS[cls](random_state=0, **params)
    assert _outcome(lambda: action(ours, X, y)) == _outcome(lambda: action(theirs, X, y))


def test_weights_summing_to_zero_raise_scikit_learn_s_errors_and_no_other_warning(data):
    X, _, labels, weights = data
    zero_first_batch = np.r_[np.zeros(10), np.ones(80)]
    held_out_zero = np.where(weights > 1, 0.0, weights)  # the rows held out here weigh 0
    for params, sample_weight, expected in [
        (
            {"batch_size": 5, "shuffle": False},
            zero_first_batch,
            (ZeroDivisionError, "Weights sum to zero, can't be normalized", []),
        ),
        (
            {"early_stopping": True},
            held_out_zero,
            (ValueError, "Sample weights must contain at least one non-zero number.", []),
        ),
    ]:
        ours, theirs = _both(MLPClassifier, hidden_layer_sizes=(6,), random_state=0, **params)
        outcomes = [
            _outcome(lambda est=est, w=sample_weight: est.fit(X, labels, sample_weight=w))
            for est in (ours, theirs)
        ]
        assert outcomes[0] == outcomes[1] == expected
    # the validation loss, chainrule's extra, refuses the same weights with the same error
    monitored = MLPClassifier(
        hidden_layer_sizes=(6,), random_state=0, early_stopping=True, early_stopping_monitor="loss"
    )
    assert _outcome(lambda: monitored.fit(X, labels, sample_weight=held_out_zero)) == expected


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_input_is_fitted_with_scikit_learn_s_rounding(data, solver):
    # scikit-learn's float32 fit: 'lbfgs' evaluates in float32 (scipy keeps its start's dtype)
    # and ends with float64 coefs_; the log-loss sums in float64 (boolean targets); Adam's
    # step is computed in float64 (its rate is a float64 scalar) and rounded once
    X, _, labels, _ = data
    ours, theirs = _both(
        MLPClassifier,
        lambda est: est.fit(X.astype(np.float32), labels),
        hidden_layer_sizes=(6,),
        solver=solver,
        max_iter=30,
        learning_rate_init=0.01,
        random_state=0,
    )
    expected = np.float64 if solver == "lbfgs" else np.float32
    assert ours.coefs_[0].dtype == theirs.coefs_[0].dtype == expected
    _assert_same_model(ours, theirs, rtol=1e-9)


def test_a_warm_start_from_lbfgs_continues_with_a_fresh_stochastic_solver(data):
    X, _, labels, _ = data
    options = dict(hidden_layer_sizes=(5,), random_state=0, warm_start=True)
    ours = MLPClassifier(solver="lbfgs", max_iter=20, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, labels).set_params(solver="adam", max_iter=8).fit(X, labels)
        # scikit-learn fails there (no loss_curve_ after 'lbfgs'); the same continuation on
        # its side: an 'adam' model given the 'lbfgs' parameters and a fresh loss curve
        start = neural_network.MLPClassifier(solver="lbfgs", max_iter=20, **options)
        start.fit(X, labels)
        theirs = neural_network.MLPClassifier(solver="adam", max_iter=1, **options)
        theirs.fit(X, labels).set_params(max_iter=8)
        theirs.coefs_ = [W.copy() for W in start.coefs_]
        theirs.intercepts_ = [b.copy() for b in start.intercepts_]
        theirs.loss_curve_, theirs.best_loss_, theirs._no_improvement_count = [], np.inf, 0
        theirs.fit(X, labels)
    _assert_same_model(ours, theirs, rtol=1e-9)


def test_lbfgs_has_no_partial_fit():
    assert not hasattr(neural_network.MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    # scikit-learn's regressor misses the same guard (its lambda is never called) and runs a
    # whole lbfgs fit; chainrule's refuses as the classifier does
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")


def test_verbose_prints_scikit_learn_s_lines(data, capsys):
    X, _, labels, _ = data
    printed = []
    for cls in (MLPClassifier, neural_network.MLPClassifier):
        est = cls(
            hidden_layer_sizes=(4,),
            verbose=True,
            random_state=0,
            early_stopping=True,
            n_iter_no_change=2,
            max_iter=30,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, labels)
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1]
    assert printed[0].startswith("Iteration 1, loss = ") and "Validation score: " in printed[0]


def test_multilabel_partial_fit_with_or_without_classes():
    X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    ours, theirs = MLPClassifier(random_state=0), neural_network.MLPClassifier(random_state=0)
    for _ in range(3):
        ours.partial_fit(X, Y, classes=[0, 1, 2])
        theirs.partial_fit(X, Y, classes=[0, 1, 2])
    _assert_same_model(ours, theirs, rtol=1e-9)
    assert np.array_equal(ours.predict(X), theirs.predict(X))
    without = MLPClassifier(random_state=0)
    for _ in range(3):
        without.partial_fit(X, Y)  # chainrule's extra: no classes needed for an indicator
    _assert_same_model(without, ours, rtol=0)


def test_pickles_hold_no_training_rows_and_are_scikit_learn_sized():
    X, y = load_iris(return_X_y=True)
    ours, theirs = _both(MLPClassifier, lambda est: est.fit(X, y), max_iter=5, random_state=0)
    blob = pickle.dumps(ours)
    assert X[-1].tobytes() not in blob and X[:, 0].copy().tobytes() not in blob
    assert len(blob) <= 1.5 * len(pickle.dumps(theirs))
    loaded = pickle.loads(blob)
    np.testing.assert_array_equal(loaded.predict_proba(X), ours.predict_proba(X))
    for est in (ours, loaded):  # the optimizer state travels too
        est.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.predict_proba(X), ours.predict_proba(X))
    loaded.coefs_[0][:] = 0.0  # still the model after loading
    np.testing.assert_array_equal(loaded.network_.dense_layers[0].W, 0.0)
    network = pickle.loads(pickle.dumps(ours.network_))
    assert np.shares_memory(network.dense_layers[1].W, network.parameters)
    assert all(layer.cache is None for layer in network.dense_layers)


@pytest.mark.parametrize("solver", ["sgd", "adamw", "rmsprop", "adagrad"])
def test_every_solver_pickles_and_continues_identically(data, solver):
    X, Y, _, _ = data
    est = MLPRegressor(hidden_layer_sizes=(5,), solver=solver, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, Y)
    loaded = pickle.loads(pickle.dumps(est))  # chainrule's solvers failed to unpickle
    for model in (est, loaded):
        model.partial_fit(X, Y)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_sparse_input_fits_what_dense_input_fits(data):
    X, Y, labels, _ = data
    sparse_X = scipy.sparse.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    for cls, y in ((MLPClassifier, labels), (MLPRegressor, Y)):
        for solver in ("adam", "lbfgs"):
            on_sparse = cls(hidden_layer_sizes=(5,), max_iter=10, random_state=0, solver=solver)
            on_dense = clone(on_sparse)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                on_sparse.fit(sparse_X.tocsc(), y)
                on_dense.fit(sparse_X.toarray(), y)
            _assert_same_model(on_sparse, on_dense, rtol=1e-6)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_is_never_densified(fmt):
    """500 rows of 20,000 features, 5,000 of them non-zero: densified, X alone would take
    80 MB; fitting (the whole of X in one batch) and predicting stay within a quarter of it.
    tracemalloc sees numpy's and scipy's arrays."""
    import tracemalloc

    n, d = 500, 20_000
    rng = np.random.default_rng(0)
    X = scipy.sparse.random(n, d, density=5e-4, format=fmt, random_state=rng)
    dense_bytes = n * d * np.dtype(np.float64).itemsize
    targets = {MLPClassifier: np.arange(n) % 3, MLPRegressor: np.asarray(X.sum(axis=1)).ravel()}
    for cls, y in targets.items():
        for solver in ("adam", "lbfgs"):
            est = cls(hidden_layer_sizes=(2,), max_iter=3, batch_size=n, solver=solver)
            tracemalloc.start()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    est.set_params(random_state=0).fit(X, y)
                est.predict(X)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert peak < dense_bytes / 4, (cls.__name__, solver, peak)


def test_an_older_scikit_learn_is_named(tmp_path):
    fake = tmp_path / "sklearn"
    fake.mkdir()
    (fake / "__init__.py").write_text('__version__ = "1.4.2"\n')
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", "import chainrule.sklearn"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{root}", "PATH": ""},
    )
    assert result.returncode == 1
    assert (
        'needs scikit-learn >= 1.6, found 1.4.2: pip install -U "scikit-learn>=1.6"'
        in (result.stderr.splitlines()[-1])
    )


# -- chainrule's extras --------------------------------------------------------------------
@pytest.fixture
def iris():
    return load_iris(return_X_y=True)


def test_pipeline_grid_search_cross_validation_and_clone(iris):
    X, y = iris
    pipeline = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=300, random_state=0
        ),
    )
    scores = cross_val_score(pipeline, X, y, cv=3)
    assert scores.mean() > 0.9
    search = GridSearchCV(pipeline, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=3).fit(X, y)
    assert search.best_score_ > 0.9
    twin = clone(pipeline[-1])
    assert twin.get_params() == pipeline[-1].get_params() and not hasattr(twin, "coefs_")


def test_feature_names_are_recorded():
    pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = MLPClassifier(max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert list(clf.feature_names_in_) == list(X.columns)


def test_early_stopping_records_validation_losses_and_can_monitor_them():
    X, y = make_regression(n_samples=300, n_features=5, noise=5, random_state=0)
    reg = MLPRegressor(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        early_stopping_monitor="loss",
        n_iter_no_change=3,
        max_iter=1000,
        random_state=0,
        learning_rate_init=0.01,
    )
    reg.fit(X, y / y.std())
    assert len(reg.validation_scores_) == len(reg.validation_loss_curve_) == reg.n_iter_
    np.testing.assert_array_equal(reg.validation_scores_, -np.array(reg.validation_loss_curve_))
    assert reg.best_validation_score_ == max(reg.validation_scores_) and reg.best_loss_ is None
    assert reg.n_iter_ < 1000


def test_class_weight_equals_the_matching_sample_weight(iris):
    X, y = iris
    X = StandardScaler().fit_transform(X)
    plain = MLPClassifier(
        hidden_layer_sizes=(4,), max_iter=30, learning_rate_init=0.01, random_state=0
    )
    # iris's classes are balanced ('balanced' weighs each by 1): see the test after this one
    weighted_by_class = clone(plain).set_params(class_weight={1: 50.0})
    weighted = clone(plain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted_by_class.fit(X, y)
        weighted.fit(X, y, sample_weight=np.where(y == 1, 50.0, 1.0))
    for a, b in zip(weighted_by_class.coefs_, weighted.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_balanced_class_weight_is_scikit_learn_s_on_imbalanced_classes(iris, solver):
    """20, 5 and 50 rows of the classes 'a', 'b', 'c' (iris's 1, 2, 0): 'balanced' must weigh
    each sample as scikit-learn's compute_class_weight does, n / (n_classes * count), times
    any sample_weight given."""
    from sklearn.utils.class_weight import compute_class_weight

    X, y = iris
    rows = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:20]])
    rows = np.concatenate([rows, np.flatnonzero(y == 2)[:5]])
    X, y = StandardScaler().fit_transform(X[rows]), np.array(["c", "a", "b"])[y[rows]]
    classes = np.unique(y)
    by_class = compute_class_weight("balanced", classes=classes, y=y)
    np.testing.assert_allclose(by_class, [75 / 60, 75 / 15, 75 / 150], rtol=1e-15)
    balanced_weight = by_class[np.searchsorted(classes, y)]
    sample_weight = np.random.default_rng(0).integers(1, 4, len(y)).astype(float)
    plain = MLPClassifier(
        hidden_layer_sizes=(4,), max_iter=30, learning_rate_init=0.01, random_state=0
    ).set_params(solver=solver)
    fits = {}
    for name, class_weight, weights in [
        ("balanced", "balanced", None),
        ("by hand", None, balanced_weight),
        ("balanced times sample_weight", "balanced", sample_weight),
        ("both by hand", None, balanced_weight * sample_weight),
        ("unweighted", None, None),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = clone(plain).set_params(class_weight=class_weight)
            fits[name] = est.fit(X, y, sample_weight=weights).coefs_ + est.intercepts_
    for ours, by_hand in [
        ("balanced", "by hand"),
        ("balanced times sample_weight", "both by hand"),
    ]:
        for a, b in zip(fits[ours], fits[by_hand], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=ours)
    # the weights matter here: the unweighted fit is another model
    assert not np.array_equal(fits["balanced"][0], fits["unweighted"][0])


def test_the_extra_solvers_and_dropout_learn(iris):
    X, y = iris
    X = StandardScaler().fit_transform(X)
    for options in (
        {"solver": "adamw"},
        {"solver": "rmsprop"},
        {"solver": "adagrad"},
        {"dropout": 0.1},
    ):
        clf = MLPClassifier(
            hidden_layer_sizes=(10,),
            max_iter=200,
            random_state=0,
            learning_rate_init=0.01,
            **options,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            assert clf.fit(X, y).score(X, y) > 0.9, options


def test_bad_extras_are_named(iris):
    X, y = iris
    with pytest.raises(InvalidParameterError, match="'dtype' parameter of MLPClassifier"):
        MLPClassifier(dtype="float16").fit(X, y)
    with pytest.raises(ValueError, match="class_weight is not supported for multi-label"):
        MLPClassifier(class_weight="balanced").fit(X, np.eye(3)[y].astype(int))


@pytest.mark.parametrize(
    "solver, parameter, value",
    [("adamw", "beta_1", 0.5), ("adamw", "beta_2", 0.9), ("adamw", "epsilon", 0.3),
     ("rmsprop", "epsilon", 0.3)],
)  # fmt: skip
def test_the_extra_solvers_read_the_parameters_that_mean_the_same(data, solver, parameter, value):
    """'adamw' and 'rmsprop' follow beta_1, beta_2 and epsilon as 'adam' does: a fit with
    another value is another fit, the same one chainrule's optimizer makes with that value."""
    X, Y, _, _ = data
    common = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=4, random_state=0)
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for options in ({}, {parameter: value}):
            fits.append(MLPRegressor(**common, **options).fit(X, Y).predict(X))
    assert not np.allclose(fits[0], fits[1], rtol=1e-9, atol=0)
