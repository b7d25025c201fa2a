"""The scikit-learn estimators: scikit-learn's own estimator checks, meta-estimators, the
fitted attributes, and the fixes over scikit-learn's MLP (optimizer state kept across
warm_start and partial_fit, multi-label partial_fit, validation loss curve, class_weight)."""

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_multilabel_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

STOCHASTIC_WEIGHTS = (
    "mini-batch training with shuffling visits repeated rows in other batches than the "
    "weighted ones, so the optimisation path differs although the loss is the same; "
    "scikit-learn checks its own MLP here only with lbfgs, and so does the lbfgs instance "
    "in this list, which passes"
)


def expected_failures(estimator):
    if estimator.solver == "lbfgs":
        return {}
    return {
        "check_sample_weight_equivalence_on_dense_data": STOCHASTIC_WEIGHTS,
        "check_sample_weight_equivalence_on_sparse_data": STOCHASTIC_WEIGHTS,
    }


@parametrize_with_checks(
    [MLPClassifier(max_iter=100), MLPRegressor(max_iter=100), MLPRegressor(solver="lbfgs")],
    expected_failed_checks=expected_failures,
)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


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


def test_fitted_attributes(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8, 6), max_iter=50, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(50\\) reached"):
        clf.fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 8), (8, 6), (6, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (6,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    assert clf.n_iter_ == 50 == len(clf.loss_curve_) and clf.t_ == 50 * 150
    assert clf.loss_ == clf.loss_curve_[-1] and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.n_features_in_ == 4 and list(clf.classes_) == [0, 1, 2]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    assert np.array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_binary_labels_and_a_logistic_output():
    X, y = load_iris(return_X_y=True)
    labels = np.where(y == 0, "setosa", "other")
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0).fit(X, labels)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    assert clf.predict_proba(X).shape == (150, 2) and set(clf.predict(X)) <= {"setosa", "other"}
    assert clf.score(X, labels) > 0.95


def test_feature_names_are_recorded():
    pandas = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = MLPClassifier(max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert list(clf.feature_names_in_) == list(X.columns) and pandas is not None


def _sgd(**options):
    return MLPRegressor(
        hidden_layer_sizes=(10,),
        solver="sgd",
        momentum=0.9,
        learning_rate_init=0.01,
        shuffle=False,
        random_state=0,
        tol=0,
        n_iter_no_change=1000,
        **options,
    )


def test_warm_start_keeps_the_momentum():
    X, y = make_regression(n_samples=120, n_features=4, noise=0.1, random_state=0)
    y = y / y.std()
    once = _sgd(max_iter=10)
    twice = _sgd(max_iter=5, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once.fit(X, y)
        twice.fit(X, y).fit(X, y)
    for a, b in zip(once.coefs_, twice.coefs_):
        np.testing.assert_array_equal(a, b)
    assert twice.n_iter_ == 10


def test_partial_fit_keeps_the_adam_moments():
    X, y = make_regression(n_samples=100, n_features=3, noise=0.1, random_state=1)
    y = y / y.std()
    whole = MLPRegressor(
        hidden_layer_sizes=(7,),
        shuffle=False,
        random_state=0,
        tol=0,
        n_iter_no_change=1000,
        max_iter=4,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole.fit(X, y)
    pieces = MLPRegressor(hidden_layer_sizes=(7,), shuffle=False, random_state=0)
    for _ in range(4):
        pieces.partial_fit(X, y)
    for a, b in zip(whole.coefs_, pieces.coefs_):
        np.testing.assert_array_equal(a, b)


def test_partial_fit_multilabel():
    X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(32,), random_state=0, learning_rate_init=0.01)
    for _ in range(60):
        clf.partial_fit(X, Y)
    assert clf.predict(X).shape == (200, 4) and clf.out_activation_ == "logistic"
    assert clf.score(X, Y) > 0.5  # subset accuracy
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(X, Y[:, 0])


def test_partial_fit_with_classes_and_an_unseen_label(iris):
    X, y = iris
    clf = MLPClassifier(random_state=0)
    clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    clf.partial_fit(X, y)
    assert list(clf.classes_) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"y has classes \[7\] not in classes_"):
        clf.partial_fit(X[:2], [7, 0])


def test_early_stopping_records_scores_and_losses_and_restores_the_best(iris):
    X, y = iris
    clf = MLPClassifier(
        hidden_layer_sizes=(20,),
        early_stopping=True,
        max_iter=500,
        n_iter_no_change=5,
        random_state=0,
        learning_rate_init=0.01,
    )
    clf.fit(StandardScaler().fit_transform(X), y)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None


def test_regressor_can_stop_on_the_validation_loss():
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
    best = int(np.argmin(reg.validation_loss_curve_))
    assert reg.validation_scores_[best] == reg.best_validation_score_
    assert reg.n_iter_ < 1000


def test_class_weight_moves_predictions_to_the_heavy_class(iris):
    X, y = iris
    X = StandardScaler().fit_transform(X)
    plain = MLPClassifier(
        hidden_layer_sizes=(4,), max_iter=100, learning_rate_init=0.01, random_state=0
    )
    heavy = clone(plain).set_params(class_weight={1: 50.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain.fit(X, y)
        heavy.fit(X, y)
    assert heavy.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean() + 0.1
    weighted = clone(plain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted.fit(X, y, sample_weight=np.where(y == 1, 50.0, 1.0))
    for a, b in zip(heavy.coefs_, weighted.coefs_):
        np.testing.assert_array_equal(a, b)
    # 'balanced' is the sample weight n / (n_classes * count of the sample's class)
    X, y = X[:120], y[:120]  # 50, 50 and 20 samples
    balanced = clone(plain).set_params(class_weight="balanced")
    weighted = clone(plain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        balanced.fit(X, y)
        weighted.fit(X, y, sample_weight=np.select([y == 2], [120 / 60], 120 / 150))
    for a, b in zip(balanced.coefs_, weighted.coefs_):
        np.testing.assert_array_equal(a, b)


def test_lbfgs_and_the_extra_solvers(iris):
    X, y = iris
    X = StandardScaler().fit_transform(X)
    for solver in ("lbfgs", "adamw", "rmsprop", "adagrad"):
        clf = MLPClassifier(
            hidden_layer_sizes=(10,),
            solver=solver,
            max_iter=300,
            random_state=0,
            learning_rate_init=0.01,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            assert clf.fit(X, y).score(X, y) > 0.9, solver


def test_adaptive_rate_divides_by_five_on_plateaus():
    X, y = make_regression(n_samples=80, n_features=3, noise=20, random_state=0)
    reg = MLPRegressor(
        solver="sgd",
        learning_rate="adaptive",
        n_iter_no_change=2,
        max_iter=300,
        random_state=0,
        learning_rate_init=0.01,
    )
    reg.fit(X, y / y.std())
    divisions = np.log(0.01 / reg._adaptive.lr) / np.log(5)
    assert divisions >= 1 and divisions == pytest.approx(round(divisions), abs=1e-9)


@pytest.mark.parametrize(
    "params,message",
    [
        ({"alpha": -1}, "'alpha' parameter of MLPClassifier must be a float in the range"),
        ({"solver": "newton"}, "'solver' parameter of MLPClassifier must be a str among"),
        ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes must be > 0"),
    ],
)
def test_bad_parameters_are_named(iris, params, message):
    X, y = iris
    with pytest.raises((InvalidParameterError, ValueError), match=message):
        MLPClassifier(**params).fit(X, y)
