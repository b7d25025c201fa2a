"""An estimator's pickle records the chainrule version that wrote it; unpickling warns
(ChainruleVersionWarning, as scikit-learn's InconsistentVersionWarning) when it differs or is
missing, and a pickle this version cannot restore fails in ``pickle.loads`` with one error
naming both versions, not later in ``predict`` with a bare AttributeError.

The pickles are real bytes: written by this version with its version string patched, or
forged as another layout would write them (the state ``__getstate__`` gives, edited).
"""

import copy
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import chainrule  # noqa: E402
from chainrule.sklearn import (  # noqa: E402
    ChainruleUnpicklingError,
    ChainruleVersionWarning,
    MLPClassifier,
    MLPRegressor,
    estimators,  # noqa: E402
)

VERSION = chainrule.__version__


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0)]


def fit(kind):
    X, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        if kind == "classifier":
            return MLPClassifier((5,), max_iter=5, random_state=0).fit(X, y), X
        return MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, X[:, 0]), X


@pytest.fixture(params=["classifier", "regressor"])
def fitted(request):
    return fit(request.param)


class Forged:
    """Pickles as ``cls`` with ``state``: the bytes another chainrule would have written."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    def __reduce__(self):
        return object.__new__, (self.cls,), self.state


def forged(model, **edits):
    """The pickle of ``model`` with its state edited (a value None removes the key)."""
    state = model.__getstate__()
    for key, value in edits.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    return pickle.dumps(Forged(type(model), state))


def test_a_pickle_records_the_version_and_loads_silently_in_the_same_version(fitted):
    model, X = fitted
    assert model.__getstate__()["_chainrule_version"] == VERSION
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for restored in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
            np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert "_chainrule_version" not in vars(model)  # recorded in the pickle only
    unfitted = pickle.loads(pickle.dumps(MLPClassifier(alpha=0.5)))
    assert unfitted.alpha == 0.5


def test_a_pickle_from_another_version_warns_naming_both(fitted, monkeypatch):
    model, X = fitted
    monkeypatch.setattr(estimators, "__version__", "0.0.9")  # the version that pickles it
    written = pickle.dumps(model)
    monkeypatch.undo()
    with pytest.warns(ChainruleVersionWarning) as caught:
        restored = pickle.loads(written)
    [warning] = caught.list
    name = type(model).__name__
    assert str(warning.message) == (
        f"unpickling a {name} pickled by chainrule 0.0.9 with chainrule {VERSION}: it may "
        f"predict differently or fail; refit it with chainrule {VERSION}, or load it with the "
        "version that pickled it"
    )
    assert issubclass(ChainruleVersionWarning, UserWarning)
    assert (warning.message.original_version, warning.message.current_version) == (
        "0.0.9",
        VERSION,
    )
    assert warning.filename == __file__  # the line that unpickles
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_a_pickle_that_records_no_version_warns(fitted):
    model, X = fitted
    with pytest.warns(ChainruleVersionWarning, match="that records no chainrule version") as w:
        restored = pickle.loads(forged(model, _chainrule_version=None))
    assert w.list[0].message.original_version is None
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


@pytest.mark.parametrize(
    "edits, problem",
    [
        ({"coefs_": None}, "it was fitted but lacks 'coefs_'"),
        ({"n_outputs_": None, "out_activation_": None}, "lacks 'n_outputs_', 'out_activation_'"),
        ({"activation": None, "dtype": None}, "it lacks the parameter(s) 'activation', 'dtype'"),
        ({"activation": "swish"}, "swish"),
        ({"n_features_in_": 7}, "but n_features_in_ is 7"),
    ],
)
def test_a_pickle_from_another_layout_fails_at_load_naming_both_versions(fitted, edits, problem):
    model, X = fitted
    written = forged(model, _chainrule_version="0.0.9", **edits)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one error, no warning besides
        with pytest.raises(ChainruleUnpicklingError) as failed:
            pickle.loads(written)
    message = str(failed.value)
    name = type(model).__name__
    assert message.startswith(
        f"cannot restore this {name}, pickled by chainrule 0.0.9, with chainrule {VERSION}: "
    )
    assert problem in message
    assert message.endswith(
        f"; refit it with chainrule {VERSION}, or load it with the version that pickled it"
    )
    assert isinstance(failed.value, pickle.UnpicklingError)
    assert isinstance(failed.value, ValueError)
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


def test_a_classifier_pickle_without_its_label_binarizer_fails_at_load():
    model, _ = fit("classifier")
    with pytest.raises(
        ChainruleUnpicklingError,
        match="by a chainrule that recorded no version, .*'_label_binarizer'",
    ):
        pickle.loads(forged(model, _label_binarizer=None, _chainrule_version=None))


def test_coefs_that_do_not_chain_fail_at_load(fitted):
    model, _ = fitted
    broken = [model.coefs_[0], model.coefs_[1][:2]]
    with pytest.raises(ChainruleUnpicklingError, match="must be lists of matching layers"):
        pickle.loads(forged(model, coefs_=broken))


def test_a_hostile_version_string_is_shown_quoted(fitted):
    model, _ = fitted
    with pytest.warns(ChainruleVersionWarning, match=r"by chainrule '\\x1b\[2J0\.0' with"):
        pickle.loads(forged(model, _chainrule_version="\x1b[2J0.0"))


def test_a_state_that_is_not_a_dict_fails_at_load():
    written = pickle.dumps(Forged(MLPClassifier, ["not", "a", "dict"]))
    with pytest.raises(
        ChainruleUnpicklingError,
        match="pickled by a chainrule that recorded no version, with chainrule",
    ):
        pickle.loads(written)
