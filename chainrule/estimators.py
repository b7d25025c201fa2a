"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor`` on chainrule's engine.

Same constructor parameters, defaults and meanings as ``sklearn.neural_network``'s, plus
chainrule's own (more activations and solvers, ``dropout``, ``dtype``, ``class_weight``,
``early_stopping_monitor``). Fixed relative to scikit-learn's MLP:

* ``warm_start`` and ``partial_fit`` keep the optimizer's state (momentum, Adam's moments);
* ``partial_fit`` works for multi-label targets;
* ``validation_loss_curve_`` is recorded beside ``validation_scores_``;
* ``class_weight`` exists;
* regressors can stop early on the validation loss (``early_stopping_monitor='loss'``).

Needs scikit-learn: ``pip install "chainrule[sklearn]"``.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils._param_validation import Interval, Options, StrOptions
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import (
        _check_sample_weight,
        check_is_fitted,
        column_or_1d,
        validate_data,
    )
except ImportError as error:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        'chainrule.sklearn needs scikit-learn: pip install "chainrule[sklearn]"'
    ) from error

from . import optim, schedules
from ._scaling import mean_and_scale
from .callbacks import Callback
from .network import MLP
from .train import class_weight_table

_ACTIVATIONS = {
    "identity",
    "logistic",
    "tanh",
    "relu",
    "sigmoid",
    "leaky_relu",
    "elu",
    "softplus",
    "gelu",
}
_SOLVERS = {"lbfgs", "sgd", "adam", "adamw", "rmsprop", "adagrad"}
_OUTPUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}


class _Adaptive(schedules.Schedule):
    """scikit-learn's 'adaptive' rate: constant until the stopping rule divides it by 5."""

    def __init__(self):
        self.lr: float | None = None

    def __call__(self, epoch, lr0, context):
        if self.lr is None:
            self.lr = lr0
        return self.lr


class _StoppingRule(Callback):
    """scikit-learn's convergence test, run after every epoch (``_update_no_improvement_count``
    and ``trigger_stopping``): no improvement by ``tol`` for more than ``n_iter_no_change``
    epochs stops training, or for 'adaptive' divides the rate by 5 until it is below 1e-6.
    With validation data the score (or, monitoring 'loss', minus the validation loss) is
    watched, otherwise the training loss."""

    def __init__(
        self, estimator, n_samples: int, validation, adaptive: _Adaptive | None, monitor: str
    ):
        self.estimator, self.n_samples, self.validation = estimator, n_samples, validation
        self.adaptive, self.monitor = adaptive, monitor

    def on_epoch_end(self, epoch, logs):
        est = self.estimator
        est.n_iter_ += 1
        est.t_ += self.n_samples
        est.loss_ = logs["loss"]
        est.loss_curve_.append(logs["loss"])
        if self.validation is not None:
            score = (
                -logs["val_loss"]
                if self.monitor == "loss"
                else est._validation_value(*self.validation)
            )
            est.validation_scores_.append(score)
            est.validation_loss_curve_.append(logs["val_loss"])
            improved = score >= est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                est._best_parameters = self.network.parameters.copy()
        else:
            improved = logs["loss"] <= est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, logs["loss"])
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        if est._no_improvement_count > est.n_iter_no_change:
            if self.adaptive is not None and self.adaptive.lr > 1e-6:
                self.adaptive.lr /= 5.0
                est._no_improvement_count = 0
            else:
                est._converged = True
                self.network.stop_training = True


class _BaseMLP(BaseEstimator):
    """Shared machinery; see :class:`MLPClassifier` and :class:`MLPRegressor`."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(_ACTIVATIONS)],
        "solver": [StrOptions(_SOLVERS)],
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
        "dtype": [StrOptions({"float32", "float64"})],
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
        dtype="float64",
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
    def _encode_targets(self, y, first: bool, sample_weight=None):
        raise NotImplementedError

    def _output(self) -> tuple[str, str]:
        raise NotImplementedError

    def _validation_value(self, X, y) -> float:
        """The early-stopping score on encoded targets (higher is better)."""
        raise NotImplementedError

    # -- fitting ----------------------------------------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if any(not isinstance(s, Integral) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {self.hidden_layer_sizes}.")
        return [int(s) for s in sizes]

    def _optimizer(self):
        rate = self.learning_rate_init
        if self.solver == "lbfgs":
            return optim.LBFGS(max_fun=self.max_fun, tol=self.tol)
        if self.solver == "sgd":
            return optim.SGD(
                lr=rate,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum and self.momentum > 0,
            )
        if self.solver in ("adam", "adamw"):
            return optim.get(
                self.solver, lr=rate, beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon
            )
        return optim.get(self.solver, lr=rate)

    def _schedule(self):
        if self.solver != "sgd" or self.learning_rate == "constant":
            return None
        if self.learning_rate == "invscaling":
            return schedules.InverseScaling(self.power_t)
        return _Adaptive()

    def _initialise(self, n_features: int, n_outputs: int, seed: int) -> None:
        output_activation, loss = self._output()
        self._network = MLP(
            [n_features, *self._hidden_sizes(), n_outputs],
            activation="sigmoid" if self.activation == "logistic" else self.activation,
            output_activation=output_activation,
            loss=loss,
            dropout=self.dropout,
            seed=seed,
            dtype=self.dtype,
            # scikit-learn's initialisation: weights and biases both uniform
            # in +-sqrt(6 / (fan_in + fan_out))
            weight_init="glorot_uniform",
            bias_init="glorot_uniform",
        )
        self._solver = self._optimizer()
        self._adaptive = self._schedule()
        self.n_iter_, self.t_ = 0, 0
        self.loss_curve_ = []
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(self._hidden_sizes()) + 2
        self.out_activation_ = _OUTPUT_NAMES[output_activation]

    def _fit(self, X, y, sample_weight, *, incremental: bool):
        first = not (hasattr(self, "_network") and (incremental or self.warm_start))
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=first,
        )
        if hasattr(X, "toarray"):
            X = X.toarray()
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        T = self._encode_targets(y, first, sample_weight)
        sample_weight = self._sample_weights(T, sample_weight)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        if first:
            self._initialise(X.shape[1], T.shape[1], seed)
        network = self._network
        n = X.shape[0]
        batch_size = min(200, n) if self.batch_size == "auto" else min(self.batch_size, n)
        if self.batch_size != "auto" and self.batch_size > n and not incremental:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is "
                "going to be clipped",
                UserWarning,
                stacklevel=3,
            )
        full_batch = self.solver == "lbfgs"
        # scikit-learn scales the L2 penalty by each batch's size: alpha / n_batch. Weights are
        # rescaled to mean 1, so that the full-batch objective (sum w L + alpha/2 |W|^2) / sum w
        # is exactly that of the data with rows repeated as the weights say.
        total = n if sample_weight is None else float(sample_weight.sum())
        network.alpha = self.alpha / (total if full_batch else batch_size)
        if sample_weight is not None:
            sample_weight = sample_weight * (n / total)
        validation = None
        early = self.early_stopping and not incremental and not full_batch
        if early:
            stratify = T.argmax(axis=1) if self._stratify(T) else None
            train, held = train_test_split(
                np.arange(n),
                test_size=self.validation_fraction,
                random_state=seed,
                stratify=stratify,
            )
            validation = (X[held], T[held])
            X, T = X[train], T[train]
            sample_weight = None if sample_weight is None else sample_weight[train]
            self.validation_scores_, self.validation_loss_curve_ = [], []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
            self._best_parameters = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.validation_loss_curve_ = None
            if first or not hasattr(self, "best_loss_") or self.best_loss_ is None:
                self.best_loss_ = np.inf
        self._no_improvement_count = 0
        self._converged = False
        monitor = _StoppingRule(
            self, X.shape[0], validation, self._adaptive, self.early_stopping_monitor
        )
        history = network.fit(
            X,
            T,
            optimizer=self._solver,
            epochs=1 if incremental else self.max_iter,
            batch_size=None if full_batch else batch_size,
            shuffle=self.shuffle,
            sample_weight=sample_weight,
            schedule=self._adaptive,
            callbacks=[monitor],
            validation_data=validation,
            verbose=2 if self.verbose else 0,
            seed=seed,
        )
        if early and self._best_parameters is not None:
            network.parameters[...] = self._best_parameters
        if full_batch:
            self._converged = (
                "ABNORMAL" not in getattr(history, "optimizer_message", "")
                and self.n_iter_ < self.max_iter
            )
        if not (incremental or self._converged):
            name = "L-BFGS" if full_batch else "Stochastic Optimizer"
            warnings.warn(
                f"{name}: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _stratify(self, T) -> bool:
        return False

    def _sample_weights(self, T, sample_weight):
        return sample_weight

    # -- fitted attributes ------------------------------------------------------------------
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, ``coefs_[i]`` of shape (n_in, n_out) for layer i."""
        check_is_fitted(self, "_network")
        return [layer.W.copy() for layer in self._network.dense_layers]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``intercepts_[i]`` of shape (n_out,) for layer i."""
        check_is_fitted(self, "_network")
        return [layer.b.copy() for layer in self._network.dense_layers]

    @property
    def network_(self):
        """The underlying :class:`chainrule.Network`."""
        check_is_fitted(self, "_network")
        return self._network

    def _forward(self, X) -> np.ndarray:
        check_is_fitted(self, "_network")
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], reset=False, dtype=(np.float64, np.float32)
        )
        if hasattr(X, "toarray"):
            X = X.toarray()
        return self._network.predict(X).astype(np.float64)

    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` (n_samples, n_features) and ``y``; ``sample_weight``
        optional. Returns the estimator."""
        self._validate_params()
        return self._fit(X, y, sample_weight, incremental=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier, a drop-in for ``sklearn.neural_network.MLPClassifier``.

    Softmax and cross-entropy for several classes, one sigmoid output for two, a sigmoid per
    label for multi-label targets (an indicator matrix). Parameters as scikit-learn's, plus
    ``class_weight`` (None, a dict ``{label: weight}`` or ``'balanced'``), ``dropout``,
    ``dtype``, ``early_stopping_monitor`` and the solvers 'adamw', 'rmsprop', 'adagrad'.

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
        dtype="float64",
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

    def _encode_targets(self, y, first: bool, sample_weight=None):
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind == "multiclass-multioutput":
            raise ValueError(
                "MLPClassifier supports multi-label indicator targets, not "
                "multiclass-multioutput ones"
            )
        if first:
            self._label_kind = kind
            if kind == "multilabel-indicator":
                self.classes_ = np.arange(y.shape[1])
            else:
                self.classes_ = np.unique(y)
            if len(self.classes_) < 2 and kind != "multilabel-indicator":
                raise ValueError(
                    f"MLPClassifier needs samples of at least 2 classes in the "
                    f"data, but the data contains only one class: "
                    f"{self.classes_[0]!r}"
                )
        if self._label_kind == "multilabel-indicator":
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"expected a label indicator matrix with {len(self.classes_)} "
                    f"columns, got shape {np.shape(y)}"
                )
            return np.asarray(y, dtype=np.float64)
        y = column_or_1d(y, warn=True)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y has classes {unseen.tolist()} not in classes_ "
                f"{self.classes_.tolist()}; pass every class to the first "
                "partial_fit call"
            )
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return index[:, None].astype(np.float64)
        return np.eye(len(self.classes_))[index]

    def _output(self):
        if self._label_kind == "multilabel-indicator" or len(self.classes_) == 2:
            return "sigmoid", "binary_cross_entropy"
        return "softmax", "cross_entropy"

    def _stratify(self, T) -> bool:
        return self._label_kind != "multilabel-indicator" and T.shape[1] > 1

    def _sample_weights(self, T, sample_weight):
        if self.class_weight is None:
            return sample_weight
        if self._label_kind == "multilabel-indicator":
            raise ValueError("class_weight is not supported for multi-label targets")
        index = (T[:, 0] >= 0.5).astype(int) if T.shape[1] == 1 else T.argmax(axis=1)
        by_index = self.class_weight
        if isinstance(by_index, dict):  # labels to class indices; unknown labels are ignored
            by_index = {
                i: by_index[label] for i, label in enumerate(self.classes_) if label in by_index
            }
        weights = class_weight_table(index, len(self.classes_), by_index)[index]
        return weights if sample_weight is None else weights * sample_weight

    def _validation_value(self, X, T) -> float:
        Y = self._network.predict(X)
        if self._label_kind == "multilabel-indicator":
            return float(np.mean(np.all((Y >= 0.5) == (T >= 0.5), axis=1)))
        if T.shape[1] == 1:
            return float(np.mean((Y[:, 0] >= 0.5) == (T[:, 0] >= 0.5)))
        return float(np.mean(Y.argmax(axis=1) == T.argmax(axis=1)))

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``, keeping the optimizer's state. The first call needs
        ``classes`` (all labels) unless ``y`` is a label indicator matrix."""
        if not hasattr(self, "_network"):
            self._validate_params()
            if classes is None and type_of_target(y) != "multilabel-indicator":
                raise ValueError("classes must be passed on the first call to partial_fit.")
            if classes is not None:
                self.classes_ = np.unique(classes)
                self._label_kind = "multiclass" if len(self.classes_) > 2 else "binary"
                seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
                X_checked = validate_data(
                    self,
                    X,
                    accept_sparse=["csr", "csc"],
                    reset=True,
                    dtype=(np.float64, np.float32),
                )
                self._initialise(
                    X_checked.shape[1], 1 if len(self.classes_) == 2 else len(self.classes_), seed
                )
        return self._fit(X, y, sample_weight, incremental=True)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes)."""
        Y = self._forward(X)
        if self._label_kind != "multilabel-indicator" and Y.shape[1] == 1:
            return np.column_stack([1.0 - Y[:, 0], Y[:, 0]])
        return Y

    def predict_log_proba(self, X) -> np.ndarray:
        """The log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Predicted labels (or a label indicator matrix for multi-label targets)."""
        Y = self._forward(X)
        if self._label_kind == "multilabel-indicator":
            return (Y >= 0.5).astype(int)
        if Y.shape[1] == 1:
            return self.classes_[(Y[:, 0] >= 0.5).astype(int)]
        return self.classes_[Y.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer perceptron regressor, a drop-in for ``sklearn.neural_network.MLPRegressor``:
    an identity output and the squared error ``1/2 (y - t)^2``. Parameters as scikit-learn's,
    plus ``dropout``, ``dtype``, ``early_stopping_monitor`` ('score' is R^2, 'loss' the
    validation loss), the solvers 'adamw', 'rmsprop', 'adagrad', and ``scale_target``
    (default True): targets are standardised for training and predictions mapped back, so
    ``loss_`` and ``loss_curve_`` are in standardised units.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule.sklearn import MLPRegressor
    >>> X = np.linspace(-1, 1, 200)[:, None]
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=2000, random_state=0)
    >>> reg.fit(X, X[:, 0] ** 2).score(X, X[:, 0] ** 2) > 0.95
    True
    """

    _parameter_constraints: dict = {**_BaseMLP._parameter_constraints, "scale_target": ["boolean"]}

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
        dtype="float64",
        early_stopping_monitor="score",
        scale_target=True,
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
        self.scale_target = scale_target

    def _encode_targets(self, y, first: bool, sample_weight=None):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        T = y[:, None] if y.ndim == 1 else y
        if first:
            self._flat_output = y.ndim == 1
            # Targets far from unit scale make the default rate crawl (scikit-learn's MLP
            # needs a TransformedTargetRegressor for that); they are standardised here.
            if self.scale_target:
                self._target_mean, self._target_scale = mean_and_scale(T, sample_weight)
            else:
                self._target_mean, self._target_scale = np.zeros(T.shape[1]), np.ones(T.shape[1])
        return (T - self._target_mean) / self._target_scale

    def _output(self):
        return "identity", "squared_error"

    def _validation_value(self, X, T) -> float:
        from .metrics import R2

        r2 = R2()
        r2.update(self._network.predict(X), T)
        return r2.result()

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``, keeping the optimizer's state."""
        if not hasattr(self, "_network"):
            self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """Predicted values, shape (n_samples,) for one output, else (n_samples, n_outputs)."""
        Y = self._forward(X) * self._target_scale + self._target_mean
        return Y[:, 0] if self._flat_output else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
