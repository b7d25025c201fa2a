"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor`` on chainrule's engine.

A drop-in for ``sklearn.neural_network`` (scikit-learn >= 1.6): the same constructor parameters,
defaults and meanings, the same initialisation, shuffling and validation split drawn from
``random_state``, the same objective (:mod:`chainrule.sklearn.solvers`: a sample-weighted
average, ``alpha`` divided by each batch's weight sum), the same solvers, stopping rule,
warnings, errors and ``verbose`` lines. With the same data and ``random_state`` both fit the
same parameters, to floating-point rounding (but see ``warm_start`` below).

``coefs_`` and ``intercepts_`` are the model, as in scikit-learn: lists of arrays that can be
read, edited in place or replaced, and predictions follow them. They are views into the flat
parameter buffer of a :class:`chainrule.Network` (``network_``), which is rebuilt around new
arrays when they are assigned.

Beyond scikit-learn (every extra defaults to scikit-learn's behaviour):

* more hidden activations ('sigmoid', 'leaky_relu', 'elu', 'softplus', 'gelu') and solvers
  ('adamw', 'rmsprop', 'adagrad', at a constant rate ``learning_rate_init``). Each reads the
  parameters that mean the same for it, as scikit-learn's solvers do: 'adamw' ``beta_1``,
  ``beta_2`` and ``epsilon`` (with torch's decoupled weight decay 0.01 besides ``alpha``'s
  L2 penalty), 'rmsprop' ``epsilon`` (torch's other defaults: ``rho=0.99``, no momentum),
  'adagrad' none (torch's defaults: ``epsilon=1e-10``); the others (``momentum``,
  ``learning_rate``, ``power_t``...) are ignored, as scikit-learn ignores ``momentum`` for
  'adam';
* ``dropout`` after every hidden layer; ``dtype`` to force float32 or float64 (default: the
  input's, as scikit-learn: float32 input is fitted in float32, and 'lbfgs' then returns
  float64 ``coefs_``, as scikit-learn's does);
* ``class_weight`` for the classifier; ``scale_target`` for the regressor;
* ``validation_loss_curve_`` beside ``validation_scores_``; ``early_stopping_monitor='loss'``;
* ``partial_fit`` works for multi-label targets without ``classes``; a warm start from 'lbfgs'
  to a stochastic solver (where scikit-learn fails) starts that solver afresh.

Threads and pickles: ``fit`` and ``partial_fit`` refuse, with a ``RuntimeError``, to start
while either runs on the same estimator (fit clones in parallel instead); ``predict`` may run
in several threads at once, not during a fit of the same estimator. A pickle records the
chainrule version; unpickling warns (:class:`ChainruleVersionWarning`) when it differs or is
missing, and a pickle this version cannot restore raises :class:`ChainruleUnpicklingError`
naming both versions.

One deliberate departure: a second ``fit`` with ``warm_start=True`` continues the optimizer's
state (momentum, Adam's moments and step count, an 'adaptive' rate) unless a solver
hyperparameter changed, where scikit-learn starts a new optimizer. So ``fit`` twice with
``max_iter=5`` equals one ``fit`` with ``max_iter=10``, and differs from scikit-learn's second
fit (the first fit, and every fit without ``warm_start``, are scikit-learn's).

Needs scikit-learn (the ``sklearn`` extra).
"""

from __future__ import annotations

import pickle
import re
import threading
import warnings
from functools import partial, wraps
from itertools import pairwise
from numbers import Integral, Real

import numpy as np

from ..core import kernels
from ..core.extras import install_hint

try:
    import sklearn
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(f"chainrule.sklearn needs scikit-learn: {install_hint('sklearn')}") from None

_FOUND = re.match(r"(\d+)\.(\d+)", sklearn.__version__)
if _FOUND is None or tuple(map(int, _FOUND.groups())) < (1, 6):
    raise ImportError(
        f"chainrule.sklearn needs scikit-learn >= 1.6, found {sklearn.__version__}: "
        'pip install -U "scikit-learn>=1.6"'
    )

import scipy.optimize  # noqa: E402
from sklearn.base import (  # noqa: E402
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    is_classifier,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import LabelBinarizer  # noqa: E402
from sklearn.utils import (  # noqa: E402
    check_random_state,
    column_or_1d,
    shuffle,
)
from sklearn.utils._param_validation import Interval, Options, StrOptions  # noqa: E402
from sklearn.utils.metaestimators import available_if  # noqa: E402
from sklearn.utils.multiclass import (  # noqa: E402
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.optimize import _check_optimize_result  # noqa: E402
from sklearn.utils.validation import (  # noqa: E402
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .. import optim  # noqa: E402
from .._version import __version__  # noqa: E402
from ..core.history import Callback  # noqa: E402
from ..core.layers import Dense, Dropout  # noqa: E402
from ..core.network import Network  # noqa: E402
from ..tables.scaling import mean_and_scale  # noqa: E402
from ..training.batches import ArrayBatches  # noqa: E402
from ..training.loop import FitLock, run_epochs  # noqa: E402
from ..training.splits import class_weight_table  # noqa: E402
from . import solvers as solvers  # noqa: E402

__all__ = [
    "ChainruleUnpicklingError",
    "ChainruleVersionWarning",
    "MLPClassifier",
    "MLPRegressor",
]

_SKLEARN_ACTIVATIONS = {"identity", "logistic", "tanh", "relu"}
_ACTIVATIONS = _SKLEARN_ACTIVATIONS | {"sigmoid", "leaky_relu", "elu", "softplus", "gelu"}
_STOCHASTIC = {"sgd", "adam", "adamw", "rmsprop", "adagrad"}
_CHAINRULE_NAMES = {"logistic": "sigmoid"}  # scikit-learn's activation names -> chainrule's


class ChainruleVersionWarning(UserWarning):
    """An estimator was unpickled by another chainrule version than the one that pickled it,
    or its pickle records none (pickled before chainrule recorded it): it may predict
    differently or fail. Refit it with this version, or load it with the one that pickled it.
    As scikit-learn's ``InconsistentVersionWarning``, with the same attributes
    (``original_version`` None when the pickle records none)."""

    def __init__(self, *, estimator_name: str, current_version: str, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self) -> str:
        if self.original_version is None:
            origin = "that records no chainrule version (pickled before chainrule recorded it)"
        else:
            origin = f"pickled by {_pickled_by(self.original_version)}"
        return (
            f"unpickling a {self.estimator_name} {origin} with chainrule "
            f"{self.current_version}: it may predict differently or fail; refit it with "
            f"chainrule {self.current_version}, or load it with the version that pickled it"
        )


class ChainruleUnpicklingError(pickle.UnpicklingError, ValueError):
    """A pickled estimator that this chainrule version cannot restore (it lacks what this
    version needs, or holds what it cannot use); the message names both versions and what is
    wrong. Raised by ``pickle.load`` itself, not later by ``predict``."""


def _restore_pickled(estimator, state, restore) -> None:
    """Restore ``estimator`` from a pickle's ``state`` with ``restore(state)``, checked against
    this version: a state that lacks a parameter, or that ``restore`` cannot take, raises
    :class:`ChainruleUnpicklingError` naming both versions; one pickled by another version (or
    recording none) warns with :class:`ChainruleVersionWarning`."""
    name = type(estimator).__name__
    pickled = state.get("_chainrule_version") if isinstance(state, dict) else None
    try:
        state = dict(state)
        state.pop("_chainrule_version", None)
        missing = [p for p in estimator._get_param_names() if p not in state]
        if missing:
            raise ValueError(f"it lacks the parameter(s) {', '.join(map(repr, missing))}")
        restore(state)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as error:
        raise ChainruleUnpicklingError(
            f"cannot restore this {name}, pickled by {_pickled_by(pickled)}, "
            f"with chainrule {__version__}: {error}; refit it with chainrule "
            f"{__version__}, or load it with the version that pickled it"
        ) from None
    if pickled != __version__:
        warnings.warn(
            ChainruleVersionWarning(
                estimator_name=name, current_version=__version__, original_version=pickled
            ),
            stacklevel=3,  # the caller of __setstate__ (pickle.loads)
        )


def _pickled_by(pickled) -> str:
    """Which chainrule wrote a pickle, from the version it records (None: none), as a message
    says it; a version is quoted unless it looks like one (it was read from the pickle)."""
    if pickled is None:
        return "a chainrule that recorded no version"
    text = str(pickled)
    return f"chainrule {text}" if re.fullmatch(r"[\w.+!-]{1,40}", text) else f"chainrule {text!r}"


# guards the first creation of an estimator's FitLock (two threads would each make one)
_MAKING_LOCKS = threading.Lock()


def _one_fit_at_a_time(method):
    """``fit`` and ``partial_fit`` refused at once, with a RuntimeError, while either already
    runs on the same estimator (in another thread, or from inside it): two would interleave
    their steps on the same ``coefs_`` (see :class:`chainrule.training.loop.FitLock`)."""

    @wraps(method)
    def one_at_a_time(self, *args, **kwargs):
        with _MAKING_LOCKS:
            lock = self.__dict__.get("_fit_lock")
            if lock is None:
                lock = self._fit_lock = FitLock()  # not pickled: see __getstate__
        call = f"{type(self).__name__}.{method.__name__}"
        advice = "Wait for it to return, or fit a clone (sklearn.base.clone(estimator))."
        with lock.hold(call, "this estimator", advice):
            return method(self, *args, **kwargs)

    return one_at_a_time


class _ShuffledRows:
    """scikit-learn's order of the samples: each epoch shuffles the last epoch's order with
    ``sklearn.utils.shuffle`` and the estimator's ``random_state``."""

    def __init__(self, n_samples: int, random_state):
        self.rows = np.arange(n_samples, dtype=int)
        self.random_state = random_state

    def __call__(self):
        self.rows = shuffle(self.rows, random_state=self.random_state)
        return self.rows


class _EpochEnd(Callback):
    """The estimator's :meth:`_BaseMLP._end_epoch` as a callback of the training loop."""

    def __init__(self, estimator, n_samples: int, validation, incremental: bool):
        self.estimator, self.n_samples = estimator, n_samples
        self.validation, self.incremental = validation, incremental

    def on_epoch_end(self, epoch, logs):
        stop = self.estimator._end_epoch(
            self.network, logs["loss"], self.n_samples, self.validation, self.incremental
        )
        self.network.stop_training = stop


class _BaseMLP(BaseEstimator):
    """Shared machinery, following ``BaseMultilayerPerceptron``; see :class:`MLPClassifier`
    and :class:`MLPRegressor`."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(_ACTIVATIONS)],
        "solver": [StrOptions(_STOCHASTIC | {"lbfgs"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "early_stopping_monitor": [StrOptions({"score", "loss"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        dtype=None,
        early_stopping_monitor="score",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.dtype = dtype
        self.early_stopping_monitor = early_stopping_monitor

    # -- what subclasses provide ------------------------------------------------------------
    def _validate_input(self, X, y, incremental: bool, reset: bool):
        raise NotImplementedError

    def _out_activation(self) -> str:
        raise NotImplementedError

    def _score(self, X, y, sample_weight=None) -> float:
        raise NotImplementedError

    def _predict(self, X, check_input=True):
        raise NotImplementedError

    def _class_weights(self, y, sample_weight):
        return sample_weight

    def _training_targets(self, y, sample_weight, first_pass: bool):
        """The targets the network trains on (the regressor may standardise them)."""
        return y

    def _leave_training(self) -> None:
        """Called once training ends (the regressor folds its target scaling back in)."""

    # -- the model: coefs_ and intercepts_ over a chainrule Network ---------------------------
    def _network_view(self) -> Network:
        """The network whose parameters are ``coefs_`` and ``intercepts_``; rebuilt around
        their values when arrays were assigned (or after unpickling)."""
        network = getattr(self, "_network", None)
        if network is not None:
            dense = network.dense_layers
            if (
                len(dense) == len(self.coefs_) == len(self.intercepts_)
                and all(W is layer.W for W, layer in zip(self.coefs_, dense, strict=True))
                and all(b is layer.b for b, layer in zip(self.intercepts_, dense, strict=True))
            ):
                return network
        return self._bind_network()

    def _bind_network(self) -> Network:
        coefs, intercepts = list(self.coefs_), list(self.intercepts_)
        shapes = [np.shape(W) for W in coefs], [np.shape(b) for b in intercepts]
        chained = len(coefs) == len(intercepts) >= 1 and all(
            len(W) == 2 and b == (W[1],) for W, b in zip(*shapes, strict=True)
        )
        chained = chained and all(a[1] == b[0] for a, b in pairwise(shapes[0]))
        if not chained:
            raise ValueError(
                "coefs_ and intercepts_ must be lists of matching layers, coefs_[i] of shape "
                "(n_in, n_out) and intercepts_[i] of shape (n_out,), each n_out the next "
                f"n_in; got coefs_ shapes {shapes[0]} and intercepts_ shapes {shapes[1]}"
            )
        dtype = np.result_type(*coefs, *intercepts)
        dtype = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)
        hidden = _CHAINRULE_NAMES.get(self.activation, self.activation)
        output = _CHAINRULE_NAMES.get(self.out_activation_, self.out_activation_)
        layers: list = []
        for position, (n_in, n_out) in enumerate(shapes[0]):
            last = position == len(coefs) - 1
            activation = output if last else hidden
            layers.append(Dense(n_in, n_out, activation, weight_init="zeros"))  # set below
            if self.dropout and not last:
                layers.append(Dropout(self.dropout))
        network = Network(layers, dtype=dtype.name)
        for layer, W, b in zip(network.dense_layers, coefs, intercepts, strict=True):
            layer.W[...] = W
            layer.b[...] = b
        previous = getattr(self, "_network", None)
        if previous is not None and previous.n_params != network.n_params:
            self._optimizer = None  # its state was laid out for the old buffer
        self._network = network
        self.coefs_ = [layer.W for layer in network.dense_layers]
        self.intercepts_ = [layer.b for layer in network.dense_layers]
        return network

    @property
    def network_(self) -> Network:
        """The underlying :class:`chainrule.Network` (its parameters are ``coefs_`` and
        ``intercepts_``)."""
        check_is_fitted(self, "coefs_")
        return self._network_view()

    def __getstate__(self):
        # a copy: scikit-learn's is the instance's own __dict__ (Python 3.11's object.__getstate__)
        state = dict(super().__getstate__())
        state.pop("_network", None)  # rebuilt from coefs_ and intercepts_ on first use
        state.pop("_fit_lock", None)  # a lock is not pickled: the copy makes its own
        state["_chainrule_version"] = __version__
        return state

    def __setstate__(self, state):
        """Restore a pickle, checked against what this version needs (see
        :func:`_restore_pickled`): its parameters, and the fitted model they describe."""
        base = super().__setstate__

        def restore(checked):
            base(checked)
            self._check_restored()

        _restore_pickled(self, state, restore)

    _FITTED = ("coefs_", "intercepts_", "n_outputs_", "n_layers_", "out_activation_")
    _FITTED += ("n_iter_", "n_features_in_")

    def _check_restored(self) -> None:
        """A restored fitted estimator holds what :meth:`predict` reads, consistent with
        itself: its network is built now (a pickle from another layout fails here, not in a
        later ``predict``)."""
        if not any(name.endswith("_") and not name.startswith("__") for name in vars(self)):
            return  # never fitted (scikit-learn's test): its parameters are all it holds
        missing = [name for name in self._FITTED if name not in vars(self)]
        if missing:
            raise ValueError(f"it was fitted but lacks {', '.join(map(repr, missing))}")
        network = self._bind_network()  # shapes, dtypes, activations as this version reads
        if (network.n_inputs, network.n_outputs) != (self.n_features_in_, self.n_outputs_):
            raise ValueError(
                f"its network maps {network.n_inputs} inputs to {network.n_outputs} outputs, "
                f"but n_features_in_ is {self.n_features_in_!r} and n_outputs_ "
                f"{self.n_outputs_!r}"
            )

    def _forward_pass_fast(self, X, check_input=True):
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        network = self._network_view()
        A = X.astype(network.dtype, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            for layer in network.layers:
                A = layer.forward(A)
        return A

    def predict(self, X):
        """Predictions for ``X`` (n_samples, n_features), dense or sparse: class labels (a
        label indicator matrix for multi-label targets), or values of shape (n_samples,) for
        one output and (n_samples, n_outputs) for several.

        Thread-safe: several threads may predict with one fitted estimator at once (it reads
        ``coefs_`` and ``intercepts_`` and returns a new array); not while ``fit`` or
        ``partial_fit`` runs on the same estimator in another thread (they update those
        arrays in place): predict with a clone then."""
        check_is_fitted(self)
        return self._predict(X)

    def _score_with_function(self, X, y, sample_weight, score_function):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    # -- fitting ----------------------------------------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return sizes

    def _init_coef(self, fan_in, fan_out, dtype):
        # scikit-learn's Glorot initialisation, drawn in the same order from the same state
        factor = 2.0 if self.activation in ("logistic", "sigmoid") else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        W = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
        b = self._random_state.uniform(-bound, bound, fan_out)
        return W.astype(dtype, copy=False), b.astype(dtype, copy=False)

    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._out_activation()
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in pairwise(layer_units):
            W, b = self._init_coef(fan_in, fan_out, dtype)
            self.coefs_.append(W)
            self.intercepts_.append(b)
        self._network = None
        self._optimizer = None
        self._best_parameters = self._bind_network().parameters.copy()
        if self.solver in _STOCHASTIC:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            self._reset_stopping_state()

    def _reset_stopping_state(self):
        if self.early_stopping:
            self.validation_scores_, self.validation_loss_curve_ = [], []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = self.validation_loss_curve_ = None
            self.best_validation_score_ = None

    def _work_dtype(self, X):
        return X.dtype if self.dtype is None else np.dtype(self.dtype)

    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden = self._hidden_sizes()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [X.shape[1], *hidden, self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, self._work_dtype(X))
        network = self._network_view()
        if network.sizes != layer_units:
            raise ValueError(
                f"warm_start=True and partial_fit continue the fitted network, of layer sizes "
                f"{network.sizes}, but hidden_layer_sizes={self.hidden_layer_sizes!r} and "
                f"the data ask for {layer_units}; set warm_start=False to fit a new network"
            )
        dtype = network.dtype
        sample_weight = self._class_weights(y, sample_weight)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=dtype)
        if getattr(X, "format", None) == "csc":
            X = X.tocsr()  # rows are gathered batch by batch
        X = X.astype(dtype, copy=False)
        T = np.asarray(self._training_targets(y, sample_weight, first_pass), dtype=dtype)
        try:
            with kernels.pinned(kernels.NUMPY):  # scikit-learn's arithmetic, whatever the choice
                if self.solver == "lbfgs":
                    self._fit_lbfgs(network, X, T, sample_weight)
                else:
                    self._fit_stochastic(network, X, T, y, sample_weight, incremental)
        finally:
            self._leave_training()
        if not np.isfinite(self._network_view().parameters).all():
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def _backprop(self, network: Network, X, T, sample_weight, rng=None) -> float:
        """scikit-learn's objective on one batch; fills ``network.gradients``.

        ``E = sum_i w_i L_i / sum w + alpha/2 sum W^2 / sum w``; the output delta is
        ``(y - t) w_i``, propagated back, and every gradient is divided by ``sum w``.
        """
        A = network.forward(X, rng)
        loss = solvers.LOSSES[self.out_activation_](T, A, sample_weight)
        squares = sum(np.dot(W.ravel(), W.ravel()) for W in self.coefs_)
        weight_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        loss += (0.5 * self.alpha) * squares / weight_sum
        delta = A - T
        if sample_weight is not None:
            delta *= sample_weight.reshape(-1, 1)
        network.backward(delta, preactivation=True)
        for layer in network.dense_layers:
            layer.dW += self.alpha * layer.W
        network.gradients /= weight_sum
        return loss

    def _fit_lbfgs(self, network, X, T, sample_weight):
        def loss_and_gradient(packed):
            network.parameters[...] = packed
            loss = self._backprop(network, X, T, sample_weight)
            return loss, network.gradients.astype(np.float64)

        options = {"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol}
        try:  # scikit-learn >= 1.7 passes scipy's iprint only where scipy still takes it
            from sklearn.utils.fixes import _get_additional_lbfgs_options_dict

            verbose = self.verbose is True or self.verbose >= 1
            options.update(_get_additional_lbfgs_options_dict("iprint", 1 if verbose else -1))
        except ImportError:  # pragma: no cover - scikit-learn 1.6
            pass
        # scipy evaluates the objective in its start's dtype: float32 input, float32 steps, as
        # scikit-learn's (whose float32 start is its input's)
        result = scipy.optimize.minimize(
            loss_and_gradient,
            network.parameters.copy(),
            method="L-BFGS-B",
            jac=True,
            options=options,
        )
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = result.fun
        if self.dtype is None and network.dtype != np.float64:
            # scikit-learn's coefs_ are then float64 views of scipy's float64 result
            self.coefs_ = [W.astype(np.float64) for W in self.coefs_]
            self.intercepts_ = [b.astype(np.float64) for b in self.intercepts_]
            network = self._bind_network()
        network.parameters[...] = result.x

    def _solver_settings(self) -> tuple:
        return (
            self.solver,
            self.learning_rate_init,
            self.learning_rate,
            self.power_t,
            self.momentum,
            self.nesterovs_momentum,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        )

    def _make_optimizer(self):
        """scikit-learn's solver: chainrule's SGD or Adam in their scikit-learn form, with
        scikit-learn's rate bookkeeping; chainrule's other optimizers at a constant rate."""
        rate = self.learning_rate_init
        if self.solver == "sgd":
            sgd = optim.SGD(
                rate, self.momentum, nesterov=self.nesterovs_momentum, form="scikit-learn"
            )
            return solvers.Schedule(sgd, self.learning_rate, self.power_t)
        if self.solver == "adam":
            optimizer = optim.Adam(
                rate, self.beta_1, self.beta_2, self.epsilon, form="scikit-learn"
            )
        elif self.solver == "adamw":
            optimizer = optim.AdamW(
                rate, beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon
            )
        elif self.solver == "rmsprop":
            optimizer = optim.RMSprop(rate, epsilon=self.epsilon)
        else:
            optimizer = optim.AdaGrad(rate)
        return solvers.Schedule(optimizer)

    def _fit_stochastic(self, network, X, T, y, sample_weight, incremental):
        """scikit-learn's stochastic training: the optimizer (kept or new), the validation
        split, then epochs until the stopping rule, ``max_iter`` or one epoch (``partial_fit``)."""
        settings = self._solver_settings()
        kept = getattr(self, "_optimizer", None) is not None and (
            incremental or getattr(self, "_optimizer_settings", None) == settings
        )
        if not kept:
            self._optimizer = self._make_optimizer()
            self._optimizer_settings = settings
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not hasattr(self, "loss_curve_"):  # a warm start from 'lbfgs'
            self.loss_curve_, self._no_improvement_count = [], 0
            self._reset_stopping_state()
        elif self.early_stopping != (getattr(self, "validation_scores_", None) is not None):
            self._reset_stopping_state()
        validation = None
        if self.early_stopping:
            X, T, sample_weight, validation = self._split_validation(X, T, y, sample_weight)
        batch_size = self._batch_size(X.shape[0])
        rng = None
        if self.dropout:
            rng = np.random.default_rng(self._random_state.randint(np.iinfo(np.int32).max))
        try:
            self._epochs(network, (X, T, sample_weight), batch_size, rng, validation, incremental)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=2)
        if self.early_stopping:
            network.parameters[...] = self._best_parameters

    def _split_validation(self, X, T, y, sample_weight):
        """scikit-learn's validation split, drawn from ``random_state``: the training rows'
        ``X, T, sample_weight`` and the held-out ``(X, labels, sample_weight, T)``."""
        # scikit-learn stratifies single-output (binary) classification only
        stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
        train, held = train_test_split(
            np.arange(X.shape[0]),
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        if held.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        held_weight = None if sample_weight is None else sample_weight[held]
        validation = (X[held], self._validation_targets(y[held]), held_weight, T[held])
        sample_weight = None if sample_weight is None else sample_weight[train]
        return X[train], T[train], sample_weight, validation

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped",
                stacklevel=3,  # fit's (or partial_fit's) _fit, as before the split
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _epochs(self, network, data, batch_size, rng, validation, incremental):
        """Epochs over ``data = (X, T, sample_weight)`` on chainrule's training loop, in
        scikit-learn's order: shuffle, a step after each batch, then (:meth:`_end_epoch`) the
        loss, the stopping rule and the rate's update."""
        n_samples = data[0].shape[0]
        self.n_iter_ = 0
        run_epochs(
            network,
            self._optimizer.optimizer,
            ArrayBatches(*data, batch_size),
            epochs=1 if incremental else self.max_iter,
            callbacks=[_EpochEnd(self, n_samples, validation, incremental)],
            order=_ShuffledRows(n_samples, self._random_state) if self.shuffle else None,
            objective=partial(self._backprop, network),
            rng=rng,
            stop_on_divergence=False,  # scikit-learn goes on, then refuses non-finite weights
        )

    def _end_epoch(self, network, loss: float, n_samples: int, validation, incremental) -> bool:
        """scikit-learn's bookkeeping after an epoch of mean batch loss ``loss``; True to stop."""
        self.n_iter_ += 1
        self.loss_ = loss
        self.t_ += n_samples
        self.loss_curve_.append(self.loss_)
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
        self._update_no_improvement_count(network, validation)
        self._optimizer.iteration_ends(self.t_)
        if self._stop_without_improvement(validation is not None):
            return True
        if not incremental and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return False

    def _stop_without_improvement(self, early_stopping: bool) -> bool:
        """True to stop once more epochs than ``n_iter_no_change`` went without improvement;
        an 'adaptive' rate is divided by 5 instead (while above 1e-6), the count restarted."""
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        watched = "Validation score" if early_stopping else "Training loss"
        message = (
            f"{watched} did not improve more than tol={self.tol:f} for "
            f"{self.n_iter_no_change} consecutive epochs."
        )
        if self._optimizer.trigger_stopping(message, self.verbose):
            return True
        self._no_improvement_count = 0
        return False

    def _validation_targets(self, y):
        return y

    def _update_no_improvement_count(self, network, validation):
        """scikit-learn's stopping rule: one more epoch without improvement when the
        validation score is below the best plus ``tol`` (or the training loss above the best
        minus ``tol``), else the count restarts."""
        if validation is None:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
            return
        X_val, y_val, weight_val, T_val = validation
        if self.early_stopping_monitor == "score":  # scikit-learn's score, and its errors, first
            score = self._score(X_val, y_val, sample_weight=weight_val)
        elif weight_val is not None:  # scikit-learn's error for weights that are all zero
            _check_sample_weight(weight_val, X_val)
        Y = self._forward_pass_fast(X_val, check_input=False)
        weight_sum = X_val.shape[0] if weight_val is None else weight_val.sum()
        squares = sum(np.dot(W.ravel(), W.ravel()) for W in self.coefs_)
        with np.errstate(divide="ignore", invalid="ignore"):  # an extra: it adds no warning
            val_loss = solvers.LOSSES[self.out_activation_](T_val, Y, weight_val)
            val_loss = float(val_loss + 0.5 * self.alpha * squares / weight_sum)
        self.validation_loss_curve_.append(val_loss)
        if self.early_stopping_monitor == "loss":
            score = -val_loss
        self.validation_scores_.append(score)
        if self.verbose:
            print(f"Validation score: {score:f}")
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_parameters = network.parameters.copy()

    @_fit_context(prefer_skip_nested_validation=True)
    @_one_fit_at_a_time
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix ``X`` (n_samples, n_features), dense or sparse, and
        targets ``y``; ``sample_weight`` (n_samples,) optional. Returns the estimator.

        Raises ``RuntimeError`` at once, without waiting or touching the estimator, when
        ``fit`` or ``partial_fit`` already runs on it (in another thread): one estimator
        trains in one call at a time. Fit clones to train in parallel."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                f" optimizers. {self.solver} is not stochastic."
            )
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier, a drop-in for ``sklearn.neural_network.MLPClassifier``.

    Softmax and the log-loss for several classes, one logistic output for two, a logistic
    output per label for multi-label targets (an indicator matrix). Parameters as
    scikit-learn's, plus ``class_weight`` (None, a dict ``{label: weight}`` or 'balanced',
    multiplying the sample weights), ``dropout``, ``dtype``, ``early_stopping_monitor`` and the
    solvers 'adamw', 'rmsprop', 'adagrad'.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from chainrule.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=500, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _FITTED = (*_BaseMLP._FITTED, "classes_", "_label_binarizer")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        dtype=None,
        early_stopping_monitor="score",
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            dtype=dtype,
            early_stopping_monitor=early_stopping_monitor,
        )
        self.class_weight = class_weight

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        return X, self._label_binarizer.transform(y).astype(bool)

    def _out_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validation_targets(self, y):
        return self._label_binarizer.inverse_transform(y)

    def _class_weights(self, y, sample_weight):
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multi-label targets")
        index = y[:, 0].astype(int) if y.shape[1] == 1 else y.argmax(axis=1)
        by_index = self.class_weight
        if isinstance(by_index, dict):  # labels to class indices; unknown labels are ignored
            by_index = {
                i: by_index[label] for i, label in enumerate(self.classes_) if label in by_index
            }
        weights = class_weight_table(index, len(self.classes_), by_index)[index]
        return weights if sample_weight is None else weights * sample_weight

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    @_one_fit_at_a_time
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over ``(X, y)``, keeping the optimizer's state. The first call needs
        ``classes`` (every label), unless ``y`` is a label indicator matrix. Refused while
        ``fit`` or ``partial_fit`` runs on this estimator, as :meth:`fit` is."""
        first = not hasattr(self, "classes_")
        if first and classes is None and type_of_target(y).startswith("multilabel"):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        elif _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X):
        """The log of :meth:`predict_proba`."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer perceptron regressor, a drop-in for ``sklearn.neural_network.MLPRegressor``.

    ``loss='squared_error'``: an identity output and half the squared error (averaged over
    outputs); ``loss='poisson'``: an exponential output and half the Poisson deviance.
    Parameters as scikit-learn's, plus ``dropout``, ``dtype``, ``early_stopping_monitor``
    ('score' is R^2, 'loss' the validation loss), the solvers 'adamw', 'rmsprop', 'adagrad',
    and ``scale_target`` (default False, scikit-learn's behaviour): True trains on
    standardised targets (so ``loss_`` and ``loss_curve_`` are in standardised units) and then
    folds the scaling into the output layer, so that ``coefs_`` and ``intercepts_`` give
    :meth:`predict`'s values.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule.sklearn import MLPRegressor
    >>> X = np.linspace(-1, 1, 200)[:, None]
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=2000, random_state=0)
    >>> reg.fit(X, X[:, 0] ** 2).score(X, X[:, 0] ** 2) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
        "scale_target": ["boolean"],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        dtype=None,
        early_stopping_monitor="score",
        scale_target=False,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            dtype=dtype,
            early_stopping_monitor=early_stopping_monitor,
        )
        self.loss = loss
        self.scale_target = scale_target

    def _validate_input(self, X, y, incremental, reset):
        if self.scale_target and self.loss != "squared_error":
            raise ValueError(
                f"scale_target=True needs loss='squared_error' (an identity output), got "
                f"loss={self.loss!r}"
            )
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _out_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    # Target scaling: the network trains on (y - mean) / scale; afterwards the output layer
    # holds W * scale and b * scale + mean, so that coefs_ and intercepts_ predict y itself.
    def _training_targets(self, y, sample_weight, first_pass):
        if first_pass:
            if self.scale_target:
                self._target_mean, self._target_scale = mean_and_scale(y, sample_weight)
            else:
                self._target_mean = self._target_scale = None
        elif getattr(self, "_target_mean", None) is not None:
            output = self._network_view().dense_layers[-1]
            output.b -= self._target_mean.astype(output.b.dtype)
            output.b /= self._target_scale.astype(output.b.dtype)
            output.W /= self._target_scale.astype(output.W.dtype)
        self._in_training_units = self._target_mean is not None
        if not self._in_training_units:
            return y
        return (y - self._target_mean) / self._target_scale

    def _leave_training(self):
        if getattr(self, "_in_training_units", False):
            output = self._network_view().dense_layers[-1]
            output.W *= self._target_scale.astype(output.W.dtype)
            output.b *= self._target_scale.astype(output.b.dtype)
            output.b += self._target_mean.astype(output.b.dtype)
            self._in_training_units = False

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    @_one_fit_at_a_time
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``, keeping the optimizer's state. Only for the stochastic
        solvers, as the classifier's (scikit-learn's regressor offers it for 'lbfgs' too,
        through a guard that never runs, and then runs a whole L-BFGS fit). Refused while
        ``fit`` or ``partial_fit`` runs on this estimator, as :meth:`fit` is."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if getattr(self, "_in_training_units", False):  # validation during training
            y_pred = y_pred * self._target_scale + self._target_mean
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, r2_score)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
