"""The fit loop: batches, shuffling, validation, schedules, callbacks, checkpoints.

The loop never prints; it sends events to callbacks (History, EarlyStopping, the progress
display). All randomness (validation split, shuffling, dropout) comes from generators spawned
from one seed, so the same seed and data give the same parameters, bit for bit.
"""

from __future__ import annotations

import math
import sys
import time
import warnings

import numpy as np

from .. import optim
from ..core.history import Callback, History
from ..core.layers import Dropout
from ..core.validation import check_int, check_plain_array, check_real
from ..files.checkpoint import load_checkpoint, save_checkpoint
from ..optim import schedules
from . import metrics as metrics_module
from .callbacks import EarlyStopping
from .evaluation import evaluate
from .interrupt import DeferredInterrupt
from .lbfgs import fit_lbfgs
from .options import check_each_process_holds_rows, check_options, check_same_on_every_process
from .progress import EpochLogger, ProgressBar
from .replicas import ONE_PROCESS, BatchRows

__all__ = ["TrainingDivergedWarning", "class_weight_table", "fit"]

Array = np.ndarray


class TrainingDivergedWarning(UserWarning):
    """The loss became NaN or infinite; training stopped and kept the last good parameters."""


def _has_classes(network) -> bool:
    """True for single-label classification: softmax + cross-entropy, or one sigmoid output."""
    name = network.loss_function.name
    return name == "cross_entropy" or (name == "binary_cross_entropy" and network.n_outputs == 1)


def _class_of(network, T: Array) -> Array:
    if network.loss_function.name == "cross_entropy":
        return T.argmax(axis=1)
    if network.loss_function.name == "binary_cross_entropy" and T.shape[1] == 1:
        return (T[:, 0] >= 0.5).astype(np.intp)
    raise ValueError(
        "'class_weight' needs a cross_entropy network or a single-output "
        f"binary_cross_entropy network, got loss {network.loss_function.name!r} "
        f"with {T.shape[1]} outputs"
    )


def _apply_class_weight(
    network, T: Array, weights: Array | None, class_weight, group=ONE_PROCESS
) -> Array | None:
    """Multiply each sample's weight by its class's weight (see :func:`class_weight_table`;
    'balanced' counts the classes over every process's rows)."""
    if class_weight is None:
        return weights
    classes = _class_of(network, T)
    table = class_weight_table(group.gather(classes), max(T.shape[1], 2), class_weight)
    per_sample = table[classes]
    per_sample = per_sample.astype(T.dtype)
    return per_sample if weights is None else weights * per_sample


def class_weight_table(classes: Array, n_classes: int, class_weight) -> Array:
    """The weight of each class index: from a dict ``{index: weight}`` (others 1), or for
    ``'balanced'`` ``n_samples / (n_classes * count_c)``, as scikit-learn, from the samples'
    class indices ``classes``."""
    if class_weight == "balanced":
        counts = np.bincount(classes, minlength=n_classes).astype(np.float64)
        table = np.where(counts > 0, len(classes) / (n_classes * np.maximum(counts, 1)), 0.0)
    elif isinstance(class_weight, dict):
        table = np.ones(n_classes)
        for label, value in class_weight.items():
            if not isinstance(label, (int, np.integer)) or not 0 <= label < n_classes:
                raise ValueError(
                    f"'class_weight' keys must be class indices in [0, {n_classes}), got {label!r}"
                )
            table[label] = check_real(value, f"class_weight[{label}]", low=0.0)
    else:
        raise ValueError(f"'class_weight' must be a dict or 'balanced', got {class_weight!r}")
    return table


def _split(network, T: Array, fraction: float, rng: np.random.Generator, group=ONE_PROCESS):
    """Shuffled (for classification, stratified) train and validation indices, into the rows
    of every process (see :mod:`chainrule.training.replicas`)."""
    n = group.layout(T.shape[0])[0]
    if _has_classes(network):
        classes = group.gather(_class_of(network, T))
        validation = []
        for label in np.unique(classes):
            members = rng.permutation(np.flatnonzero(classes == label))
            validation.append(members[: int(round(fraction * members.size))])
        validation = np.sort(np.concatenate(validation))
    else:
        validation = np.sort(rng.permutation(n)[: int(round(fraction * n))])
    if validation.size == 0 or validation.size == n:
        raise ValueError(
            f"'validation_split'={fraction} leaves no samples for "
            f"{'validation' if validation.size == 0 else 'training'} with {n} rows"
        )
    train = np.ones(n, dtype=bool)
    train[validation] = False
    return np.flatnonzero(train), validation


class _Batches:
    """Gathers shuffled batches into buffers allocated once (views of one for smaller batches).

    ``rows`` (optional) maps training samples to rows of ``X``, so that a held-out part of a
    memory-mapped ``X`` is never copied. With several processes the samples are numbered over
    all of them (``n``) and this process holds ``first`` to ``first + len(T)``.
    """

    def __init__(self, X, T, weights, batch_size, rows=None, first=0, n=None):
        self.X, self.T, self.weights, self.batch_size = X, T, weights, batch_size
        self.rows, self.first = rows, first
        self.n = T.shape[0] if n is None else n
        self.shared = self.n != T.shape[0]
        self._buffer = None

    def _buffers(self, size: int):
        if self._buffer is None:
            X, T, w, capacity = self.X, self.T, self.weights, self.batch_size
            self._buffer = (
                np.empty((capacity, X.shape[1]), X.dtype),
                np.empty((capacity, T.shape[1]), T.dtype),
                None if w is None else np.empty(capacity, w.dtype),
            )
        return (None if b is None else b[:size] for b in self._buffer)

    def __call__(self, order: Array | None):
        """Yield ``(X, T, weights, batch size over all processes, positions of this process's
        samples in the batch or None for all)`` in ``order`` (None: the data as it is, in one
        batch if it fits)."""
        if order is None and self.batch_size >= self.n and self.rows is None and not self.shared:
            yield self.X, self.T, self.weights, self.n, None
            return
        if order is None:
            order = np.arange(self.n)
        for start in range(0, self.n, self.batch_size):
            index = order[start : start + self.batch_size]
            size, positions = index.size, None
            if self.shared:
                index = index - self.first
                positions = np.flatnonzero((index >= 0) & (index < self.T.shape[0]))
                index = index[positions]
            Xb, Tb, wb = self._buffers(index.size)
            # the indices come from a permutation of range(n): 'clip' skips NumPy's bounds
            # checks, a third of the gather's time
            rows = index if self.rows is None else self.rows[index]
            np.take(self.X, rows, axis=0, out=Xb, mode="clip")
            np.take(self.T, index, axis=0, out=Tb, mode="clip")
            if wb is not None:
                np.take(self.weights, index, out=wb, mode="clip")
            yield Xb, Tb, wb, size, positions


class _Stream:
    """Batches from an iterable of ``(X, T)`` or ``(X, T, sample_weight)`` tuples, each checked
    and converted as it comes: data that is never in memory at once. The iterable gives the
    batches and their order (``batch_size`` and ``shuffle`` do not apply); it is iterated
    once per epoch, so for several epochs it must start over (a list, or an object whose
    ``__iter__`` does), not be a one-pass iterator."""

    def __init__(self, network, batches, epochs: int, class_weight):
        try:
            one_pass = iter(batches) is batches
        except TypeError:
            raise TypeError(
                f"'X' must be an array, or an iterable of (X, T) batches when T is None; "
                f"got {type(batches).__name__}"
            ) from None
        if one_pass and epochs > 1:
            raise ValueError(
                f"'X' is an iterator, which can be read once, but epochs={epochs}; pass an "
                "iterable that starts over on each pass (a list, or an object with __iter__)"
            )
        self.network, self.batches, self.class_weight = network, batches, class_weight
        self.n_batches = len(batches) if hasattr(batches, "__len__") else None

    def refuse(self, validation_split, sample_weight, optimizer, group) -> None:
        """What needs all the rows at once is refused with a batch stream."""
        given = {
            "validation_split": validation_split,
            "sample_weight": sample_weight is not None,
            "class_weight='balanced'": self.class_weight == "balanced",
            "optimizer=LBFGS()": isinstance(optimizer, optim.LBFGS),
            "distributed": group.size > 1,
        }
        refused = [name for name, value in given.items() if value]
        if refused:
            raise ValueError(
                f"{', '.join(refused)} cannot be used with a stream of batches (T=None); give "
                "arrays (a memory-mapped X works), or weights as the batches' third element "
                "and validation_data"
            )

    def __call__(self, order):
        for number, batch in enumerate(self.batches):
            if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
                raise ValueError(
                    f"batch {number} of 'X' must be a tuple (X, T) or (X, T, sample_weight), "
                    f"got {type(batch).__name__}"
                )
            Xb, Tb, wb = self.network._prepare(*batch[:2], batch[2] if len(batch) == 3 else None)
            wb = _apply_class_weight(self.network, Tb, wb, self.class_weight)
            yield Xb, Tb, wb, Xb.shape[0], None


def _listeners(chain: list[Callback], event: str) -> list:
    """The bound ``event`` methods of the callbacks that override it."""
    return [
        getattr(c, event)
        for c in chain
        if getattr(type(c), event, None) is not getattr(Callback, event) or event in vars(c)
    ]


def _callbacks(
    callbacks, early_stopping, verbose, log_every, epochs: int
) -> tuple[History, list[Callback]]:
    history = History()
    chain: list[Callback] = [history, *(callbacks or [])]
    if early_stopping:
        chain.append(
            early_stopping if isinstance(early_stopping, EarlyStopping) else EarlyStopping()
        )
    if verbose == 1 and not sys.stderr.isatty():
        # a log file gets about ten progress lines rather than a redrawn bar
        chain.append(EpochLogger(every=max(1, epochs // 10)))
    elif verbose == 1:
        chain.append(ProgressBar())
    elif verbose == 2:
        chain.append(EpochLogger(every=log_every))
    elif verbose not in (0, False, None):
        raise ValueError(f"'verbose' must be 0, 1 or 2, got {verbose!r}")
    return history, chain


def _validation_arrays(network, validation_data, group=ONE_PROCESS):
    """``validation_data`` checked against the network, each problem named as such. With
    several processes, one may hold none of the validation rows (empty arrays)."""
    X_val, T_val, *rest = validation_data
    if group.size > 1 and np.shape(X_val)[:1] == (0,) and np.shape(T_val)[:1] == (0,):
        weights = None if not rest or rest[0] is None else np.empty(0, network.dtype)
        X_val = np.empty((0, network.sizes[0]), network.dtype)
        return X_val, np.empty((0, network.n_outputs), network.dtype), weights
    try:
        check_plain_array(T_val, "T")
        return network._prepare(X_val, T_val, rest[0] if rest else None)
    except (TypeError, ValueError) as error:
        raise type(error)(f"'validation_data': {error}") from None


def _stopped_by(chain, network) -> str | None:
    """What ended training early: 'early_stopping', 'callback', or None."""
    if not network.stop_training:
        return None
    stoppers = [c for c in chain if isinstance(c, EarlyStopping) and c.stopped_epoch is not None]
    return "early_stopping" if stoppers else "callback"


def fit(
    network,
    X,
    T,
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
    distributed=None,
) -> History:
    """Train ``network`` on ``(X, T)``; see :meth:`chainrule.Network.fit` for the arguments."""
    epochs = check_int(epochs, "epochs", low=1)
    check_options(locals())
    optimizer = optim.get(optimizer)
    group = ONE_PROCESS if distributed is None else distributed
    if isinstance(optimizer, optim.LBFGS) and (checkpoint or resume_from or group.size > 1):
        raise ValueError(
            "'checkpoint', 'resume_from' and 'distributed' work with the stochastic "
            "optimizers; L-BFGS runs in one call to scipy, in one process, with no state to save"
        )
    schedule = schedules.get(schedule)
    metric_names = [metrics_module.get(name).name for name in (metrics or [])]
    check_same_on_every_process(group, network, optimizer, schedule, metric_names, locals())
    stream = None
    if T is None:  # X is an iterable of batches
        stream = _Stream(network, X, epochs, class_weight)
        stream.refuse(validation_split, sample_weight, optimizer, group)
        n = first = 0  # rows per epoch: known after the first
    else:
        check_plain_array(T, "T")
        check_each_process_holds_rows(group, np.shape(T)[0] if np.ndim(T) else 1)
        X, T, weights = network._prepare(X, T, sample_weight)
        weights = _apply_class_weight(network, T, weights, class_weight, group)
        n, first = group.layout(T.shape[0])
    validation = val_rows = None
    if validation_data is not None:
        validation = _validation_arrays(network, validation_data, group)
    resumed = load_checkpoint(resume_from, network, optimizer) if resume_from else None
    group.broadcast(network.parameters)
    rows = None
    entropy = resumed["entropy"] if resumed else (seed if seed is not None else network.seed)
    if entropy is None:  # fresh entropy, process 0's on every process: one shuffle for all
        entropy = group.collect(np.random.SeedSequence().entropy)[0]
    seed_sequence = np.random.SeedSequence(entropy)
    split_rng, train_rng = (np.random.default_rng(s) for s in seed_sequence.spawn(2))

    if validation is None and validation_split:
        train_index, val_index = _split(network, T, float(validation_split), split_rng, group)
        # this process's rows of each part; its training rows stay contiguous among all's
        mine = [first, first + T.shape[0]]
        rows = train_index[slice(*np.searchsorted(train_index, mine))] - first
        val_rows = val_index[slice(*np.searchsorted(val_index, mine))] - first
        first, n = int(np.searchsorted(train_index, first)), train_index.size
        validation = (X, T[val_rows], None if weights is None else weights[val_rows])
        T, weights = T[rows], None if weights is None else weights[rows]

    if isinstance(optimizer, optim.LBFGS):
        if rows is not None:
            X, validation = X[rows], (X[val_rows], *validation[1:])

        history, chain = _callbacks(callbacks, early_stopping, verbose, log_every, epochs)
        with DeferredInterrupt() as interrupt:
            try:
                fit_lbfgs(
                    network,
                    X,
                    T,
                    weights,
                    optimizer,
                    epochs,
                    validation,
                    metric_names,
                    history,
                    chain,
                    interrupt,
                )
                history.stopped_by = _stopped_by(chain, network)
                return history
            except KeyboardInterrupt:
                done = len(history.epoch)
                _interrupted(network, history, chain, f"after L-BFGS iteration {done}")
                raise

    if stream is None:
        batch_size = n if batch_size is None else min(batch_size, n)
    batches = stream or _Batches(X, T, weights, batch_size, rows, first, n)
    if group.rank != 0:  # one process shows the progress and writes the checkpoints
        verbose, checkpoint = 0, None
    history, chain = _callbacks(callbacks, early_stopping, verbose, log_every, epochs)
    lr0 = optimizer.lr
    first_epoch = 0
    if resumed:
        lr0, first_epoch = resumed["lr0"], resumed["epoch"] + 1
        train_rng.bit_generator.state = resumed["rng_state"]
        for callback in chain:
            if type(callback).__name__ in resumed["callbacks"]:
                callback.load_state_dict(resumed["callbacks"][type(callback).__name__])
        if resumed["stopped"]:  # the run this checkpoint ends had already stopped
            first_epoch = epochs
    dropout_rng = train_rng if any(isinstance(layer, Dropout) for layer in network.layers) else None
    frozen = network.frozen
    frozen_values = None if frozen is None else network.parameters[frozen].copy()
    network.stop_training, network.stop_reason = False, None
    if resumed and resumed["stopped"]:
        network.stop_training, network.stop_reason = True, resumed["stopped"]["reason"]
        history.stopped_by = resumed["stopped"]["by"]
    for callback in chain:
        callback.set_network(network)
    begin = {
        "epochs": epochs,
        "batches": stream.n_batches if stream else math.ceil(n / batch_size),
        "initial_epoch": first_epoch,
        "samples": n or None,
    }
    for callback in chain:
        callback.on_train_begin(begin)
    # only the events a callback listens to are sent from inside the loop
    epoch_begin = _listeners(chain, "on_epoch_begin")
    batch_end = _listeners(chain, "on_batch_end")
    params, grads = network.parameters, network.gradients
    # Parameters at the start of this epoch and of the one before; a loss that turns non-finite
    # in the first batch of an epoch condemns the start of that epoch too.
    epoch_start, previous_start = params.copy(), params.copy()
    output = network.layers[-1]
    epoch, batch = first_epoch - 1, -1
    # A diverging loss overflows on its way to inf/NaN; the loop detects that and reports it.
    agreed = DeferredInterrupt(agreed=group.size > 1)  # every process stops after one step
    with np.errstate(over="ignore", invalid="ignore"), agreed as interrupt:
        try:
            for epoch in range(first_epoch, epochs):
                started = time.perf_counter()
                previous_start[...], epoch_start[...] = epoch_start, params
                batch = -1
                optimizer.lr = schedule(
                    epoch, lr0, {"samples_seen": epoch * n, "history": history.history}
                )
                for on_epoch_begin in epoch_begin:
                    on_epoch_begin(epoch, {"lr": optimizer.lr})
                running = [metrics_module.get(name) for name in metric_names]
                total, count = 0.0, 0
                order = train_rng.permutation(n) if shuffle and not stream else None
                for batch, (Xb, Tb, wb, size, positions) in enumerate(batches(order)):
                    rng = dropout_rng
                    if positions is not None and rng is not None:
                        rng = BatchRows(rng, positions, size)
                    loss = network._forward_backward(Xb, Tb, wb, rng=rng)
                    loss = group.reduce_step(grads, loss, Xb.shape[0], size, interrupt)
                    if not math.isfinite(loss):
                        _diverged(network, history, epoch, batch, loss, optimizer.lr)
                        params[...] = previous_start if batch == 0 else epoch_start
                        break
                    for metric in running:
                        metric.update(output._cache[2], Tb, wb)
                    optimizer.step(params, grads)
                    if frozen is not None:
                        params[frozen] = frozen_values
                    total += loss * size
                    count += size
                    for on_batch_end in batch_end:
                        on_batch_end(batch, {"size": size, "loss": loss})
                    if interrupt.pending:
                        interrupt.pending = False
                        raise KeyboardInterrupt
                if history.stopped_by == "diverged":
                    break
                n = n or count
                logs = {"loss": total / count}
                group.merge(running)
                logs.update({metric.name: metric.result() for metric in running})
                if validation is not None:
                    logs.update(
                        evaluate(network, *validation, metric_names, "val_", val_rows, group)
                    )
                logs["lr"] = optimizer.lr
                logs["seconds"] = time.perf_counter() - started
                for callback in chain:
                    callback.on_epoch_end(epoch, logs)
                group.agree(interrupt, network)  # one process's stop or Ctrl-C stops them all
                history.stopped_by = _stopped_by(chain, network)
                stopped = history.stopped_by and {
                    "by": history.stopped_by,
                    "reason": network.stop_reason or "a callback stopped training",
                }
                last = epoch + 1 == epochs or stopped
                if checkpoint and ((epoch + 1) % checkpoint_every == 0 or last):
                    save_checkpoint(
                        checkpoint,
                        network,
                        optimizer,
                        lr0,
                        epoch,
                        train_rng,
                        seed_sequence.entropy,
                        chain,
                        stopped,
                    )
                if network.stop_training:
                    break
                if interrupt.pending:
                    interrupt.pending = False
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            where = f"in epoch {epoch + 1} after {batch + 1} of {begin['batches']} batches"
            _interrupted(network, history, chain, where)
            raise
        finally:
            history.stop_reason = network.stop_reason
            network.history = history
            if history.stopped_by != "interrupted":
                for callback in chain:
                    callback.on_train_end({})
    return history


def _diverged(network, history, epoch: int, batch: int, loss: float, lr: float) -> None:
    kept = epoch - 1 if batch == 0 else epoch
    history.stopped_by = "diverged"
    network.stop_training = True
    network.stop_reason = (
        f"training diverged in epoch {epoch + 1}: the loss became {loss}; the parameters are "
        + (f"those from the end of epoch {kept}" if kept > 0 else "the initial ones")
        + f". Try a smaller learning rate than {lr:g}."
    )
    warnings.warn(network.stop_reason, TrainingDivergedWarning, stacklevel=4)


def _interrupted(network, history, chain, where: str) -> None:
    """Record a Ctrl-C and end the callbacks, keeping the parameters of the last step."""
    history.stopped_by = "interrupted"
    network.stop_reason = f"interrupted (Ctrl-C) {where}; the parameters are those after that step"
    network.history = history
    kept = network.parameters.copy()
    history.stop_reason = network.stop_reason
    for callback in chain:  # the progress display closes; EarlyStopping may restore its best
        callback.on_train_end({"interrupted": True})
    network.parameters[...] = kept  # the last finished step's parameters, as documented
