"""``Network``: layers and a loss over one flat parameter buffer; ``MLP`` builds one from sizes.

Forward pass, layer by layer: ``Z = A_prev @ W + b``, ``A = f(Z)``.
Loss: ``E = sum_i w_i L_i(y_i, t_i) / n + l2/2 sum W^2 + l1 sum |W|`` (weights only).
Backward pass: ``delta_L = dE/dZ_L``, then for each layer
``dW = A_prev.T @ delta``, ``db = sum_i delta_i``, ``delta_prev = (delta @ W.T) * f'(Z_prev)``.
Each hidden neuron's delta sums over every path to the outputs: that is the matrix product.
"""

from __future__ import annotations

import dataclasses
import weakref

import numpy as np

from . import kernels as _kernels
from . import losses
from .deprecation import renamed_arguments, warn_renamed
from .layers import Dense, Dropout, Embedding
from .validation import CONSTRAINTS, as_dtype, check_matrix, check_real, check_sample_weight

__all__ = ["MLP", "Network"]

Array = np.ndarray


class Network:
    """A feedforward network: a sequence of layers, a loss, and one flat parameter buffer.

    Parameters
    ----------
    layers : list of Dense, Dropout or Embedding
        Consecutive layers; each Dense layer's ``n_in`` equals the previous one's ``n_out``.
        The last layer is Dense; an :class:`~chainrule.core.layers.Embedding` only comes
        first.
    loss : str, dict or Loss, default='mse'
        See :mod:`chainrule.core.losses`. ``binary_cross_entropy`` needs a sigmoid output and
        ``cross_entropy`` a softmax output (their fused output delta is ``y - t``).
    l2 : float, default=0
        L2 penalty ``l2/2 * sum(W**2)`` over the weights (not the biases), as Keras's
        ``L1L2(l1, l2)``. Formerly ``alpha`` (still accepted, with a ``FutureWarning``).
    l1 : float, default=0
        L1 penalty ``l1 * sum(|W|)`` over the weights.
    seed : int or None
        Seeds the initializers (and, through :meth:`fit`, shuffling and dropout).
    dtype : {'float32', 'float64'}, default='float32'

    Attributes
    ----------
    loss : Loss
        The loss (as ``keras.Model.loss``); :meth:`compute_loss` evaluates it on data.
    l2, l1 : float
        The penalties.
    parameters : ndarray of shape (n_params,)
        Every weight and bias (and input scale, ``Dense(input_scale=)``); each layer's ``W``
        and ``b`` are views into it.
    gradients : ndarray of shape (n_params,)
        The gradient buffer, same layout; each layer's ``dW`` and ``db`` are views into it.

    Examples
    --------
    >>> import chainrule as cr
    >>> net = cr.Network([cr.Dense(2, 3, "tanh"), cr.Dense(3, 1, "sigmoid")],
    ...                  loss="binary_cross_entropy", seed=0)
    >>> net.predict([[0.0, 1.0]]).shape
    (1, 1)
    """

    @renamed_arguments(alpha="l2")
    def __init__(
        self,
        layers,
        loss="mse",
        *,
        l2: float = 0.0,
        l1: float = 0.0,
        seed: int | None = None,
        dtype="float32",
    ):
        self.layers = list(layers)
        self._loss = _NetworkLoss.bound(losses.get(loss), self)
        self.l2 = CONSTRAINTS["l2"].check(l2, "l2")
        self.l1 = CONSTRAINTS["l1"].check(l1, "l1")
        self.dtype = as_dtype(dtype)
        self.seed = seed
        self._check_architecture()
        sizes = [layer.n_params for layer in self.layers]
        self.parameters = np.zeros(sum(sizes), dtype=self.dtype)
        self.gradients = np.zeros(sum(sizes), dtype=self.dtype)
        self.layers[-1].keep_net_input = True  # losses are computed from the output's Z
        rng = np.random.default_rng(seed)
        start = 0
        for layer, size in zip(self.layers, sizes, strict=True):
            layer.bind(
                self.parameters[start : start + size], self.gradients[start : start + size], rng
            )
            start += size
        self.history = None

    def _check_architecture(self) -> None:
        if not self.layers:
            raise ValueError("'layers' must hold at least one Dense layer, got an empty list")
        for position, layer in enumerate(self.layers):
            if not isinstance(layer, (Dense, Dropout, Embedding)):
                raise TypeError(
                    f"layer {position} must be Dense, Dropout or Embedding, got {layer!r}"
                )
            if isinstance(layer, Embedding) and position > 0:
                raise ValueError(f"layer {position} is an Embedding: only the first layer can be")
        if not isinstance(self.layers[-1], Dense):
            raise ValueError(f"the last layer must be Dense, got {self.layers[-1]!r}")
        width = None
        sized = [layer for layer in self.layers if not isinstance(layer, Dropout)]
        for position, layer in enumerate(sized):
            if width is not None and layer.n_in != width:
                raise ValueError(
                    f"layer {position} has n_in={layer.n_in} but the layer before it has "
                    f"n_out={width}"
                )
            width = layer.n_out
        self._check_loss(self._loss)

    def _check_loss(self, loss: losses.Loss) -> None:
        needed = loss.pairs_with
        output = self.layers[-1].activation.name
        if needed is not None and output != needed:
            raise ValueError(
                f"loss {loss.name!r} needs output activation {needed!r}, got {output!r}"
            )

    # -- renamed attributes ----------------------------------------------------------------
    @property
    def loss(self) -> losses.Loss:
        """The network's :class:`~chainrule.core.losses.Loss` (its name, config, gradient).

        Setting it takes what ``Network(loss=...)`` takes. Calling it as ``net.loss(X, y)``
        (the method of chainrule 0.1) still computes :meth:`compute_loss`, with a
        ``FutureWarning``.
        """
        return self._loss

    @loss.setter
    def loss(self, value) -> None:
        loss = losses.get(value)
        self._check_loss(loss)
        self._loss = _NetworkLoss.bound(loss, self)

    @property
    def loss_function(self) -> losses.Loss:
        """Deprecated: :attr:`loss`."""
        warn_renamed("Network.loss_function", "Network.loss")
        return self.loss

    @loss_function.setter
    def loss_function(self, value) -> None:
        warn_renamed("Network.loss_function", "Network.loss")
        self.loss = value

    @property
    def alpha(self) -> float:
        """Deprecated: :attr:`l2`."""
        warn_renamed("Network.alpha", "Network.l2")
        return self.l2

    @alpha.setter
    def alpha(self, value: float) -> None:
        warn_renamed("Network.alpha", "Network.l2")
        self.l2 = check_real(value, "alpha", low=0.0)

    # -- structure -------------------------------------------------------------------------
    @property
    def dense_layers(self) -> list[Dense]:
        """The layers that hold parameters, in order."""
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def embedding(self) -> Embedding | None:
        """The first layer where it is an :class:`~chainrule.core.layers.Embedding`, else None."""
        return self.layers[0] if isinstance(self.layers[0], Embedding) else None

    @property
    def n_inputs(self) -> int:
        return (self.embedding or self.dense_layers[0]).n_in

    @property
    def n_outputs(self) -> int:
        return self.dense_layers[-1].n_out

    @property
    def sizes(self) -> list[int]:
        """Layer widths from the input to the output, e.g. ``[2, 2, 2]``."""
        return [self.n_inputs] + [layer.n_out for layer in self.dense_layers]

    @property
    def n_params(self) -> int:
        return self.parameters.size

    @property
    def frozen(self) -> Array | None:
        """A boolean mask over :attr:`parameters` of the entries held fixed, or None."""
        mask = np.zeros(self.n_params, dtype=bool)
        start = 0
        for layer in self.layers:
            if isinstance(layer, Dense):
                split = start + layer.n_in * layer.n_out
                mask[start:split] = not layer.train_weights
                mask[split : split + layer.n_out] = not layer.train_biases  # never an input scale
            start += layer.n_params
        return mask if mask.any() else None

    # -- computation -------------------------------------------------------------------------
    def _check_X(self, X) -> Array:
        return check_matrix(X, "X", self.dtype, n_columns=self.n_inputs)

    def predict(self, X) -> Array:
        """Return the network's outputs ``Y`` of shape (n_samples, n_outputs) for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)

        Notes
        -----
        Inputs so large that the arithmetic overflows give infinite or NaN outputs, without a
        warning (as in PyTorch; ``fit`` treats them the same way).

        Thread-safe: it only reads the parameters and returns a new array, so several threads
        may predict with one network at once (NumPy releases the GIL in the matrix products).
        Not while :meth:`fit` trains the same network in another thread: fit updates the
        parameters in place, so predict would see them in the middle of a step. Predict with a
        copy (:meth:`copy`) instead.
        """
        A = self._check_X(X)
        with np.errstate(over="ignore", invalid="ignore"):
            for layer in self.layers:
                A = layer.forward(A)
        return A

    def _penalty(self) -> float:
        if not (self.l2 or self.l1):
            return 0.0
        total = 0.0
        for layer in self.dense_layers:
            if self.l2:
                total += 0.5 * self.l2 * float(np.vdot(layer.W, layer.W))
            if self.l1:
                total += self.l1 * float(np.abs(layer.W).sum())
        return total

    def _data_loss(
        self, Y: Array, T: Array, Z: Array, weights: Array | None, log_norm: Array | None = None
    ) -> float:
        from_log_norm = self._loss.value_from_log_norm
        if log_norm is not None and from_log_norm is not None:
            per_sample = from_log_norm(T, Z, log_norm)  # what the output softmax computed
        else:
            per_sample = self._loss.value(Y, T, Z)
        if weights is not None:
            per_sample = per_sample * weights
        return float(np.add.reduce(per_sample, dtype=np.float64) / Y.shape[0])

    def check_data(self, X, y, sample_weight=None) -> tuple[Array, Array, Array | None]:
        """``X``, ``y`` and ``sample_weight`` checked against the network and converted to its
        dtype: the targets ``y`` with the outputs' shape (class labels one-hot), weights 1-D
        or None.

        Parameters
        ----------
        X, y, sample_weight
            As in :meth:`compute_loss`.

        Raises
        ------
        ValueError or TypeError
            Naming the argument, the bad value and what was expected.
        """
        X = self._check_X(X)
        T = losses.prepare_targets(self._loss, y, X.shape[0], self.n_outputs, self.dtype)
        weights = check_sample_weight(sample_weight, X.shape[0], self.dtype)
        return X, T, weights

    @renamed_arguments(T="y")
    def compute_loss(self, X, y, sample_weight=None) -> float:
        """Return the loss ``E`` on ``(X, y)``, the penalty included.

        Formerly ``net.loss(X, T)``, which still works for one release with a
        ``FutureWarning`` (:attr:`loss` is now the :class:`~chainrule.core.losses.Loss`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
        y : array-like of shape (n_samples, n_outputs)
            Targets; 1-D for a single output or for class labels with ``cross_entropy``.
            Formerly ``T`` (still accepted, with a ``FutureWarning``).
        sample_weight : array-like of shape (n_samples,), optional
        """
        return self._outputs_and_loss(*self.check_data(X, y, sample_weight))[1]

    def _outputs_and_loss(self, X: Array, T: Array, weights) -> tuple[Array, float]:
        """Outputs and loss on checked arrays, without caching (the net input of the output
        layer is kept apart from its activation, for the losses computed from it)."""
        A = X
        with np.errstate(over="ignore", invalid="ignore"):  # overflow gives inf, as in predict
            for layer in self.layers[:-1]:
                A = layer.forward(A)
            output = self.layers[-1]
            Z = A @ output.effective_W + output.b
            Y = output.activation.forward(Z, None)
            return Y, self._data_loss(Y, T, Z, weights) + self._penalty()

    @renamed_arguments(T="y")
    def loss_and_gradients(
        self, X, y, sample_weight=None
    ) -> tuple[float, list[tuple[Array, Array]]]:
        """Return the loss and, for each Dense layer, copies of ``(dW, db)``.

        Same arguments as :meth:`compute_loss` (targets ``y``, formerly ``T``). Gradients have
        the shapes of ``W`` and ``b`` and the network's dtype. :attr:`gradients` holds the same
        numbers as one flat vector (and, for a layer with an input scale, its ``du`` after
        ``db``).
        """
        X, T, weights = self.check_data(X, y, sample_weight)
        value = self.forward_backward(X, T, weights)
        return value, [(layer.dW.copy(), layer.db.copy()) for layer in self.dense_layers]

    def forward(self, X: Array, rng=None) -> Array:
        """The forward pass of training on checked ``X``: each layer keeps what its backward
        pass needs (``rng`` switches dropout on); return the outputs ``Y``."""
        A = X
        for layer in self.layers:
            A = layer.forward(A, keep=True, rng=rng)
        return A

    def backward(self, delta: Array, *, preactivation: bool = False) -> None:
        """The backward pass after :meth:`forward`: from ``delta = dE/dY`` (``dE/dZ`` of the
        output layer with ``preactivation``, as the fused losses give it), each layer from the
        last writes its ``dW = A_prev^T delta`` and ``db = sum_i delta_i`` into
        :attr:`gradients` and hands ``delta W^T`` (times ``f'(Z_prev)``) to the layer before.
        No penalty is added."""
        for position in range(len(self.layers) - 1, -1, -1):
            delta = self.layers[position].backward(
                delta, preactivation=preactivation, need_input_grad=position > 0
            )
            preactivation = False

    def forward_backward(self, X: Array, y: Array, weights: Array | None = None, rng=None) -> float:
        """One forward and backward pass: return the loss ``E`` and fill :attr:`gradients`.

        The backward pass every trainer uses (the training loop, L-BFGS, gradcheck, explain).
        ``X``, the targets ``y`` and ``weights`` must come from
        :meth:`check_data` (nothing is checked or copied here); ``rng`` switches dropout on
        (training). The outputs of the pass are kept as :attr:`outputs` until the next one.
        With ``delta_L = dE/dZ_L`` (``(y - t) / n`` for the fused losses, scaled by ``w_i``),
        each Dense layer, from the last, writes ``dW = X^T delta``, ``db = sum_i delta_i`` and
        hands ``delta W^T`` to the layer before; the penalty adds ``l2 W + l1 sign(W)`` to each
        trained ``dW``.
        """
        T = y  # the targets matrix of the formulas
        self.forward(X, rng)
        output = self.layers[-1]
        _, Z, Y = output.cache
        value = self._data_loss(Y, T, Z, weights, output.log_norm)
        gradient = _kernels.current().output_delta(self._loss, Y, T, weights, X.shape[0])
        self.backward(gradient, preactivation=self._loss.fused)
        if self.l2 or self.l1:
            for layer in self.dense_layers:
                if layer.train_weights:
                    if self.l2:
                        layer.dW += self.l2 * layer.W
                    if self.l1:
                        layer.dW += self.l1 * np.sign(layer.W)
            value += self._penalty()
        return value

    @property
    def outputs(self) -> Array | None:
        """The outputs ``Y`` of the last :meth:`forward_backward` (a buffer it reuses), or None
        before the first."""
        cache = self.layers[-1].cache
        return None if cache is None else cache[2]

    @renamed_arguments(T="y", distributed="group")
    def fit(
        self,
        X,
        y=None,
        *,
        optimizer="adam",
        epochs: int = 10,
        batch_size: int | None = 32,
        shuffle: bool = True,
        validation_split: float = 0.0,
        validation_data=None,
        sample_weight=None,
        class_weight=None,
        metrics=None,
        schedule=None,
        callbacks=None,
        early_stopping=False,
        verbose: int = 1,
        log_every: int = 1,
        checkpoint=None,
        checkpoint_every: int = 1,
        resume_from=None,
        seed: int | None = None,
        group=None,
    ):
        """Train the network; return a :class:`History` of per-epoch records.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs), or an iterable of batches
            May be memory-mapped (``np.load(path, mmap_mode='r')``): batches are gathered from
            the map and nothing copies it whole. With ``y=None``, an iterable of ``(X, y)`` or
            ``(X, y, sample_weight)`` batches, read once per epoch in its own order (so
            ``batch_size`` and ``shuffle`` do not apply; ``validation_split``,
            ``sample_weight``, ``class_weight='balanced'``, L-BFGS and ``group`` need
            arrays).
        y : array-like of shape (n_samples, n_outputs)
            The targets, as in :meth:`compute_loss` (class labels allowed with
            ``cross_entropy``). Formerly ``T`` (still accepted, with a ``FutureWarning``).
        optimizer : str or optimizer, default='adam'
            An instance from :mod:`chainrule.optim` (``SGD(learning_rate=0.1, momentum=0.9)``,
            ``Adam()``, ``LBFGS()``...) or a name with default settings.
        epochs : int, default=10
        batch_size : int or None, default=32
            ``1`` is per-sample learning (the textbooks'); ``None`` is the full batch. A batch
            larger than the data is the full batch.
        shuffle : bool, default=True
        validation_split : float in [0, 1), default=0
            A shuffled (for classification, stratified) fraction held out for validation.
        validation_data : tuple ``(X_val, y_val[, sample_weight_val])``, optional
            Takes precedence over ``validation_split``.
        sample_weight : array-like of shape (n_samples,), optional
        class_weight : dict ``{class index: weight}`` or 'balanced', optional
        metrics : list of str, optional
            Recorded per epoch on the training batches and the validation data:
            ``'accuracy'``, ``'mse'``, ``'mae'``, ``'r2'``.
        schedule : str or Schedule, optional
            A learning-rate schedule from :mod:`chainrule.optim.schedules`, evaluated every epoch.
        callbacks : list of Callback, optional
        early_stopping : bool or EarlyStopping, default=False
            True monitors ``val_loss`` (``loss`` without validation) with patience 5 and puts
            back the best epoch's parameters.
        verbose : {0, 1, 2}, default=1
            0 silent, 1 a live progress display, 2 one line every ``log_every`` epochs (stderr).
        log_every : int, default=1
        checkpoint : str or os.PathLike, optional
            Write a checkpoint there every ``checkpoint_every`` epochs (atomically).
        checkpoint_every : int, default=1
            A checkpoint is also written after the last epoch and when training stops early,
            recording what stopped it.
        resume_from : str or os.PathLike, optional
            Continue from a checkpoint up to ``epochs`` in total: the result is identical, bit
            for bit, to an uninterrupted run with the same seed. A checkpoint of a run that had
            stopped early trains no more.
        seed : int, optional
            Seeds the validation split, shuffling and dropout (default: the network's seed).
        group : chainrule.distributed.MPIGroup, optional
            The process group (torch.distributed's name) to train data-parallel with, the
            processes of an MPI job: ``X``, ``y`` and ``sample_weight`` are this process's
            block of the rows (see :mod:`chainrule.distributed`), ``batch_size`` the global
            batch; every process ends with the parameters one process would reach on all the
            rows. Formerly ``distributed`` (still accepted, with a ``FutureWarning``).

        Returns
        -------
        History
            Also kept as ``network.history``. A loss that turns NaN or infinite stops training
            with a :class:`~chainrule.training.loop.TrainingDivergedWarning` and keeps parameters
            whose loss was finite (those from the start of the epoch, or of the one before when the
            first batch diverged); ``history.stop_reason`` says which, ``history.stopped_by``
            is ``'diverged'``.

        Raises
        ------
        KeyboardInterrupt
            On Ctrl-C, acted on between two steps (never inside an optimizer update), after
            keeping the last finished step's parameters and recording the interruption in
            ``network.history`` (``stopped_by == 'interrupted'``).
        RuntimeError
            When a ``fit`` is already running on this network, in another thread or as the
            caller of a callback that calls ``fit``: one network trains in one ``fit`` at a
            time (two would interleave their steps on the same parameters). The second call
            is refused at once, without waiting and without touching the network; the first
            goes on. Train a copy (:meth:`copy`) to train in parallel.

        Notes
        -----
        Thread safety: ``fit`` is refused, not queued, while another runs on the same network
        (above). :meth:`predict` only reads the parameters, so any number of threads may call
        it at once on one network; not while ``fit`` runs on it in another thread (see
        :meth:`predict`: predict with a copy instead).
        """
        # the one import that climbs (docs/architecture.md): the engine sits above the network
        # and uses only its public methods, as keras.Model.fit hands the model to its trainer
        from ..training.loop import fit

        return fit(
            self,
            X,
            y,
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            validation_split=validation_split,
            validation_data=validation_data,
            sample_weight=sample_weight,
            class_weight=class_weight,
            metrics=metrics,
            schedule=schedule,
            callbacks=callbacks,
            early_stopping=early_stopping,
            verbose=verbose,
            log_every=log_every,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            resume_from=resume_from,
            seed=seed,
            group=group,
        )

    # -- parameters ----------------------------------------------------------------------------
    def set_parameters(self, values) -> None:
        """Copy ``values`` (shape ``(n_params,)``) into :attr:`parameters`, keeping the views."""
        array = np.asarray(values, dtype=np.float64)
        if array.shape != self.parameters.shape:
            raise ValueError(
                f"'values' must have shape {self.parameters.shape}, got shape {array.shape}"
            )
        self.parameters[...] = array

    def config(self) -> dict:
        """The architecture, loss and penalties as JSON-ready data (parameters excluded)."""
        return {
            "layers": [layer.config() for layer in self.layers],
            "loss": self._loss.config(),
            "l2": self.l2,
            "l1": self.l1,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict, parameters=None, *, dtype=None) -> Network:
        """Rebuild a network from :meth:`config` (and, optionally, its flat parameters).

        A config written before the L2 penalty was renamed (its key ``'alpha'``, as in model
        files, checkpoints and pickles of chainrule 0.1) is read as ``'l2'``, silently.

        Raises
        ------
        ValueError
            If the config holds both ``'l2'`` and its old name ``'alpha'``.
        """
        layers = []
        for layer in config["layers"]:
            options = {k: v for k, v in layer.items() if k != "type"}
            layers.append(_LAYER_TYPES[layer["type"]](**options))
        network = cls(
            layers,
            config["loss"],
            l2=_l2_of(config),
            l1=config.get("l1", 0.0),
            dtype=dtype or config.get("dtype", "float32"),
        )
        if parameters is not None:
            network.set_parameters(parameters)
        return network

    def __reduce__(self):
        # Pickled as its architecture and one parameter vector: the layers' W and b are views
        # into it again after loading, and no batch cache or gradient buffer is written.
        return _unpickle, (self.config(), self.parameters, self.seed, self.history)

    def copy(self, dtype=None) -> Network:
        """An independent network with the same architecture and parameters (cast to ``dtype``)."""
        return Network.from_config(self.config(), self.parameters, dtype=dtype)

    def summary(self) -> str:
        """A one-table description: layers, activations, parameter counts."""
        rows = [f"{'layer':<8}{'type':<10}{'shape':<14}{'activation':<14}{'params':>8}"]
        for position, layer in enumerate(self.layers):
            if isinstance(layer, Dense):
                shape = f"{layer.n_in} -> {layer.n_out}"
                rows.append(
                    f"{position:<8}{'Dense':<10}{shape:<14}"
                    f"{layer.activation.name:<14}{layer.n_params:>8}"
                )
            elif isinstance(layer, Embedding):
                shape = f"{layer.n_in} -> {layer.n_out}"
                groups = f"{len(layer.groups)} x {layer.width}"
                rows.append(
                    f"{position:<8}{'Embedding':<10}{shape:<14}{groups:<14}{layer.n_params:>8}"
                )
            else:
                rows.append(f"{position:<8}{'Dropout':<10}{'':<14}{f'rate {layer.rate}':<14}{0:>8}")
        rows.append(
            f"loss: {self._loss.name}; parameters: {self.n_params}; dtype: {self.dtype.name}"
        )
        return "\n".join(rows)

    def __repr__(self) -> str:
        return f"Network(sizes={self.sizes}, loss={self._loss.name!r}, dtype={self.dtype.name!r})"


_LAYER_TYPES = {"Dense": Dense, "Dropout": Dropout, "Embedding": Embedding}


def _l2_of(config: dict) -> float:
    """The L2 penalty a config records, under ``'l2'`` or its old name ``'alpha'``."""
    if "l2" in config and "alpha" in config:
        raise ValueError(
            f"a network config holds both 'l2' ({config['l2']!r}) and its old name 'alpha' "
            f"({config['alpha']!r}); expected only 'l2'"
        )
    return config.get("l2", config.get("alpha", 0.0))


def _unpickle(config: dict, parameters, seed, history) -> Network:
    network = Network.from_config(config, parameters)
    network.seed, network.history = seed, history
    return network


class _NetworkLoss(losses.Loss):
    """A network's :class:`~chainrule.core.losses.Loss`, still callable for one release as
    the method ``net.loss(X, T)`` of chainrule 0.1 (now :meth:`Network.compute_loss`).

    Everything else is the loss's own: its name, config and repr, and its pickle, which is the
    plain loss (rebuilt by name, without the network). It holds the network weakly.
    """

    @classmethod
    def bound(cls, loss: losses.Loss, network: Network) -> _NetworkLoss:
        """``loss`` as the loss of ``network``."""
        bound = cls(
            **{field.name: getattr(loss, field.name) for field in dataclasses.fields(losses.Loss)}
        )
        object.__setattr__(bound, "_network", weakref.ref(network))
        return bound

    def __call__(self, X, *args, **kwargs) -> float:
        """Deprecated: ``net.compute_loss(X, y, sample_weight=None)``, which takes the same
        arguments (and the old method's ``T``, which this warning covers)."""
        warn_renamed("calling net.loss(X, T)", "net.compute_loss(X, y)")
        if "T" in kwargs:
            if "y" in kwargs:
                raise TypeError("net.loss() got both 'T' and 'y'; pass only 'y' to compute_loss")
            kwargs["y"] = kwargs.pop("T")
        network = self._network()
        if network is None:
            raise ReferenceError(
                f"the network of loss {self.name!r} no longer exists; call compute_loss on "
                "a network"
            )
        return network.compute_loss(X, *args, **kwargs)

    def __repr__(self) -> str:
        return super().__repr__().replace(type(self).__name__, "Loss", 1)


@renamed_arguments(alpha="l2")
def MLP(
    sizes,
    activation="relu",
    output_activation=None,
    loss="mse",
    *,
    dropout: float = 0.0,
    input_scale: float | None = None,
    weight_init="auto",
    bias_init="zeros",
    l2: float = 0.0,
    l1: float = 0.0,
    seed: int | None = None,
    dtype="float32",
) -> Network:
    """Build a multilayer perceptron from its layer widths.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_inputs, hidden_1, ..., n_outputs]``, at least two entries.
    activation : str, dict or Activation, default='relu'
        The hidden layers' activation.
    output_activation : str, dict, Activation or None
        None picks the one the loss pairs with (softmax for ``cross_entropy``, sigmoid for
        ``binary_cross_entropy``) and ``identity`` otherwise.
    loss : str, dict or Loss, default='mse'
    dropout : float, default=0
        When > 0, a :class:`Dropout` of this rate after every hidden layer.
    input_scale : float or None, default=None
        The first layer's learned scale of each input (``Dense(input_scale=)``); None: none.
    weight_init, bias_init, l2, l1, seed, dtype
        As in :class:`Dense` and :class:`Network` (``l2`` was ``alpha``, still accepted with
        a ``FutureWarning``).

    Examples
    --------
    >>> import chainrule as cr
    >>> net = cr.MLP([4, 16, 3], loss="cross_entropy", seed=0)
    >>> [layer.activation.name for layer in net.layers]
    ['relu', 'softmax']
    """
    sizes = list(sizes)
    if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in sizes):
        raise ValueError(f"'sizes' must list at least two positive integers, got {sizes!r}")
    if output_activation is None:
        output_activation = losses.output_activation_for(loss)
    layers: list = []
    for position, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = position == len(sizes) - 2
        layers.append(
            Dense(
                n_in,
                n_out,
                output_activation if last else activation,
                weight_init=weight_init,
                bias_init=bias_init,
                input_scale=input_scale if position == 0 else None,
            )
        )
        if dropout and not last:
            layers.append(Dropout(dropout))
    return Network(layers, loss, l2=l2, l1=l1, seed=seed, dtype=dtype)
