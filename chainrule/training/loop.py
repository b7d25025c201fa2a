"""The training engine. :func:`fit` checks its options and assembles the parts of a run (the
batches, the validation data, the random generators, the callbacks, a resumed state); the loop
(:func:`_train`, :func:`_epoch`, :func:`_end_epoch`) runs epochs of steps and sends events to the
callbacks (History, EarlyStopping, the progress display, the caller's). It never prints.

All randomness (validation split, shuffling, dropout) comes from generators spawned from one
seed, so the same seed and data give the same parameters, bit for bit.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
import warnings
import weakref
from dataclasses import dataclass

import numpy as np

from .. import optim
from ..core import kernels
from ..core.deprecation import renamed_arguments
from ..core.history import Callback, History
from ..core.layers import Dropout
from ..core.validation import check_plain_array
from ..files.checkpoint import load_checkpoint, save_checkpoint
from ..optim import schedules
from . import metrics as metrics_module
from .batches import ArrayBatches, StreamBatches, clip_batch_size
from .callbacks import EarlyStopping
from .events import begin_training, epoch_logs
from .interrupt import DeferredInterrupt
from .lbfgs import fit_lbfgs
from .options import (
    FitOptions,
    check_each_process_holds_rows,
    check_options,
    check_same_on_every_process,
)
from .progress import EpochLogger, ProgressBar
from .replicas import ONE_PROCESS, BatchRows
from .splits import apply_class_weight, class_indices, split_rows

__all__ = ["FitLock", "TrainingDivergedWarning", "fit", "run_epochs"]

Array = np.ndarray


class FitLock:
    """Refuses a second ``fit`` on one object while one runs, instead of letting the two
    interleave their steps on the same parameters (which ends with parameters that neither
    run, nor the two one after the other, would give).

    Tried, never waited on: :meth:`hold` raises ``RuntimeError`` at once when another call
    holds it, in another thread or earlier in the same one (a callback that calls ``fit``).
    It is held for the whole call and released on every way out: a return, an exception,
    Ctrl-C. Its owner is recorded inside the ``try`` whose ``finally`` clears it, so a
    ``KeyboardInterrupt`` at any instruction leaves it held only if the call owns it and
    then releases it. Never pickled or copied: each object makes its own (a network's is kept
    here, beside it: :func:`fit` holds it; the scikit-learn estimators keep their own).
    """

    def __init__(self):
        self._guard = threading.Lock()  # held while the owner is read or set, never longer
        self._owner = None  # the running call's token
        self._holder = ""  # what runs, and in which thread: for the error message

    @contextlib.contextmanager
    def hold(self, call: str, owner: str, advice: str):
        """Hold the lock while the block runs ``call`` (``'Network.fit'``) on ``owner``
        (``'this network'``); if it is held already, raise ``RuntimeError`` ending with
        ``advice``."""
        token = object()
        try:
            with self._guard:
                if self._owner is not None:
                    raise RuntimeError(
                        f"{call} cannot start: {self._holder} is already training {owner}; "
                        f"two at once would interleave their steps on the same parameters. "
                        f"{advice}"
                    )
                self._owner = token
                self._holder = f"{call} in thread {threading.current_thread().name!r}"
            yield
        finally:
            with self._guard:
                if self._owner is token:
                    self._owner = None


# each network's FitLock, made on its first fit (guarded: two threads would make one each)
_FIT_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MAKING_LOCKS = threading.Lock()


def _fit_lock(network) -> FitLock:
    with _MAKING_LOCKS:
        lock = _FIT_LOCKS.get(network)
        if lock is None:
            lock = _FIT_LOCKS[network] = FitLock()
    return lock


class TrainingDivergedWarning(UserWarning):
    """The loss became NaN or infinite; training stopped and kept the last good parameters."""


@dataclass
class _Data:
    """The training rows of this process and what validates: arrays, or a stream of batches."""

    X: object
    T: Array | None
    weights: Array | None
    n: int  # training samples over every process (0: a stream, known after its first epoch)
    first: int  # this process's first sample among all
    rows: Array | None = None  # training samples' rows of X (after a validation split)
    validation: tuple | None = None
    val_rows: Array | None = None


@dataclass
class _Run:
    """One call of :func:`fit`: its parts, assembled once, and the state the loop moves on."""

    network: object
    optimizer: object
    schedule: object
    metric_names: list
    group: object
    batches: object
    data: _Data
    shuffle: bool
    epochs: int
    history: History
    chain: list
    train_rng: np.random.Generator
    entropy: object
    lr0: float
    first_epoch: int = 0
    checkpoint: object = None
    checkpoint_every: int = 1
    n_batches: int | None = None
    stopped: dict | None = None  # the stop a resumed checkpoint recorded
    # the parts a caller may replace (the scikit-learn estimators' solvers do)
    order: object = None  # () -> the epoch's order of the samples; None: shuffle or not
    objective: object = None  # (X, T, weights, rng) -> loss, filling the gradients
    stop_on_divergence: bool = True  # else a non-finite loss goes on (as in scikit-learn)

    def __post_init__(self):
        if self.objective is None:
            self.objective = self.network.forward_backward


@renamed_arguments(T="y", distributed="group")
def fit(
    network,
    X,
    y,
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
) -> History:
    """Train ``network`` on ``(X, y)``; see :meth:`chainrule.Network.fit` for the arguments
    (``y`` was ``T`` and ``group`` was ``distributed``, both still accepted with a
    ``FutureWarning``). One fit at a time on a network: a second while one runs raises
    ``RuntimeError`` at once (:class:`FitLock`)."""
    advice = "Wait for it to return, or train a copy (net.copy())."
    with _fit_lock(network).hold("Network.fit", "this network", advice):
        options = FitOptions(
            streamed=y is None, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
            validation_split=validation_split, validation_data=validation_data,
            sample_weight=sample_weight, class_weight=class_weight, metrics=metrics,
            callbacks=callbacks, early_stopping=early_stopping, verbose=verbose,
            log_every=log_every, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
            resume_from=resume_from, seed=seed,
        )  # fmt: skip
        check_options(options)
        optimizer = optim.get(optimizer)
        group = ONE_PROCESS if group is None else group
        if isinstance(optimizer, optim.LBFGS) and (checkpoint or resume_from or group.size > 1):
            raise ValueError(
                "'checkpoint', 'resume_from' and 'group' work with the stochastic optimizers; "
                "L-BFGS runs in one call to scipy, in one process, with no state to save"
            )
        schedule = schedules.get(schedule)
        metric_names = [metrics_module.get(name).name for name in (metrics or [])]
        check_same_on_every_process(group, network, optimizer, schedule, metric_names, options)
        data, stream = _training_data(network, X, y, options, optimizer, group)
        resumed = load_checkpoint(resume_from, network, optimizer) if resume_from else None
        group.broadcast(network.parameters)
        entropy = resumed["entropy"] if resumed else (seed if seed is not None else network.seed)
        if entropy is None:  # fresh entropy, process 0's on every process: one shuffle for all
            entropy = group.collect(np.random.SeedSequence().entropy)[0]
        split_rng, train_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(entropy).spawn(2)
        )
        if data.validation is None and validation_split:
            _hold_out(network, data, float(validation_split), split_rng, group)
        if group.rank != 0:  # one process shows the progress and writes the checkpoints
            verbose, checkpoint = 0, None
        history, chain = _callbacks(callbacks, early_stopping, verbose, log_every, epochs)
        if isinstance(optimizer, optim.LBFGS):
            return _fit_lbfgs(network, data, optimizer, epochs, metric_names, history, chain)
        if stream is None:
            batch_size = clip_batch_size(batch_size, data.n)
        batches = stream or ArrayBatches(
            data.X, data.T, data.weights, batch_size, data.rows, data.first, data.n
        )
        run = _Run(
            network, optimizer, schedule, metric_names, group, batches, data, shuffle, epochs,
            history, chain, train_rng, entropy, optimizer.learning_rate, checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            n_batches=stream.n_batches if stream else math.ceil(data.n / batch_size),
        )  # fmt: skip
        if resumed:
            _resume(run, resumed)
        return _train(run)


def run_epochs(
    network,
    optimizer,
    batches: ArrayBatches,
    *,
    epochs: int,
    callbacks=(),
    order=None,
    objective=None,
    rng: np.random.Generator | None = None,
    stop_on_divergence: bool = True,
) -> History:
    """The loop of :func:`fit` on parts its caller assembled and checked (the scikit-learn
    estimators' stochastic solvers run on it): ``epochs`` passes over ``batches`` in the
    order ``order()`` gives (None: as they are), a step of ``optimizer`` after
    ``objective(X, T, weights, rng)`` (default :meth:`Network.forward_backward`) on each, the
    events to ``callbacks`` (after a new History), Ctrl-C between two steps. The rate is left to
    the optimizer (no schedule); ``rng`` draws the dropout masks. With
    ``stop_on_divergence=False`` a non-finite loss does not stop the run."""
    history = History()
    run = _Run(
        network, optimizer, None, [], ONE_PROCESS, batches, _Data(None, None, None, batches.n, 0),
        False, epochs, history, [history, *callbacks], rng, None, optimizer.learning_rate,
        n_batches=math.ceil(batches.n / batches.batch_size), order=order, objective=objective,
        stop_on_divergence=stop_on_divergence,
    )  # fmt: skip
    return _train(run)


def _training_data(network, X, T, options: FitOptions, optimizer, group) -> tuple[_Data, object]:
    """The rows to train on, checked and weighted, and the validation data when given; for a
    stream of batches (``T`` None) the stream too."""
    stream = None
    if T is None:  # X is an iterable of batches
        stream = StreamBatches(network, X, options.epochs, options.class_weight)
        stream.refuse(options.validation_split, options.sample_weight, optimizer, group)
        data = _Data(X, None, None, 0, 0)
    else:
        check_plain_array(T, "T")
        check_each_process_holds_rows(group, np.shape(T)[0] if np.ndim(T) else 1)
        X, T, weights = network.check_data(X, T, options.sample_weight)
        weights = apply_class_weight(network, T, weights, options.class_weight, group)
        data = _Data(X, T, weights, *group.layout(T.shape[0]))
    if options.validation_data is not None:
        data.validation = _validation_arrays(network, options.validation_data, group)
    return data, stream


def _hold_out(network, data: _Data, fraction: float, rng, group) -> None:
    """Split ``data`` into training and validation rows (this process's of each part; its
    training rows stay contiguous among all's)."""
    train_index, val_index = split_rows(
        fraction, rng, data.T.shape[0], class_indices(network, data.T), group
    )
    mine = [data.first, data.first + data.T.shape[0]]
    rows = train_index[slice(*np.searchsorted(train_index, mine))] - data.first
    val_rows = val_index[slice(*np.searchsorted(val_index, mine))] - data.first
    weights = data.weights
    data.validation = (data.X, data.T[val_rows], None if weights is None else weights[val_rows])
    data.rows, data.val_rows = rows, val_rows
    data.first, data.n = int(np.searchsorted(train_index, data.first)), train_index.size
    data.T, data.weights = data.T[rows], None if weights is None else weights[rows]


def _fit_lbfgs(network, data: _Data, optimizer, epochs, metric_names, history, chain) -> History:
    """Full-batch L-BFGS (one process), with the same events and Ctrl-C handling."""
    X, validation = data.X, data.validation
    if data.rows is not None:
        X, validation = X[data.rows], (X[data.val_rows], *validation[1:])
    with DeferredInterrupt() as interrupt:
        try:
            fit_lbfgs(
                network, X, data.T, weights=data.weights, optimizer=optimizer, epochs=epochs,
                validation=validation, metric_names=metric_names, history=history, chain=chain,
                interrupt=interrupt,
            )  # fmt: skip
            history.stopped_by = _stopped_by(chain, network)
            return history
        except KeyboardInterrupt:
            done = len(history.epoch)
            _interrupted(network, history, chain, f"after L-BFGS iteration {done}")
            raise


def _resume(run: _Run, resumed: dict) -> None:
    """Continue the run a checkpoint recorded: its rate, epoch, generator and callbacks."""
    run.lr0, run.first_epoch = resumed["lr0"], resumed["epoch"] + 1
    run.train_rng.bit_generator.state = resumed["rng_state"]
    for callback in run.chain:
        if type(callback).__name__ in resumed["callbacks"]:
            callback.load_state_dict(resumed["callbacks"][type(callback).__name__])
    if resumed["stopped"]:  # the run this checkpoint ends had already stopped
        run.first_epoch, run.stopped = run.epochs, resumed["stopped"]


class _Position:
    """Where the loop is (for the Ctrl-C message), the parameters it may fall back to, and
    what every step reads, worked out once per run."""

    def __init__(self, run: _Run):
        network, params = run.network, run.network.parameters
        self.epoch, self.batch = run.first_epoch - 1, -1
        # the parameters at the start of this epoch and of the one before: a loss that turns
        # non-finite in the first batch of an epoch condemns the start of that epoch too
        self.epoch_start, self.previous_start = params.copy(), params.copy()
        has_dropout = any(isinstance(layer, Dropout) for layer in network.layers)
        self.dropout_rng = run.train_rng if has_dropout else None
        self.frozen = network.frozen
        self.frozen_values = None if self.frozen is None else params[self.frozen].copy()
        # only the events a callback listens to are sent from inside the loop
        self.epoch_begin = _listeners(run.chain, "on_epoch_begin")
        self.batch_end = _listeners(run.chain, "on_batch_end")


def _train(run: _Run) -> History:
    """The loop: epochs of steps, with events to the callbacks; Ctrl-C is acted on between
    steps (every process alike), keeping the last finished step's parameters."""
    network, history, chain = run.network, run.history, run.chain
    if run.stopped:
        history.stopped_by = run.stopped["by"]
    begin_training(
        network, chain, epochs=run.epochs, batches=run.n_batches, initial_epoch=run.first_epoch,
        samples=run.data.n or None, stop_reason=run.stopped["reason"] if run.stopped else None,
    )  # fmt: skip
    at = _Position(run)
    # a diverging loss overflows on its way to inf/NaN; the loop detects that and reports it
    agreed = DeferredInterrupt(agreed=run.group.size > 1)  # every process stops after one step
    chosen = kernels.for_fit(_work(run))
    with np.errstate(over="ignore", invalid="ignore"), agreed as interrupt, chosen:
        try:
            for epoch in range(run.first_epoch, run.epochs):
                at.epoch = epoch
                logs = _epoch(run, at, interrupt)
                if logs is None:  # diverged
                    break
                _end_epoch(run, epoch, logs, interrupt)
                if network.stop_training:
                    break
                _raise_if_requested(interrupt)
        except KeyboardInterrupt:
            where = f"in epoch {at.epoch + 1} after {at.batch + 1} of {run.n_batches} batches"
            _interrupted(network, history, chain, where)
            raise
        finally:
            history.stop_reason = network.stop_reason
            network.history = history
            if history.stopped_by != "interrupted":
                for callback in chain:
                    callback.on_train_end({})
    return history


def _work(run: _Run) -> float:
    """The fit's work (:func:`chainrule.core.kernels.fit_work`) that the kernels' choice
    weighs: every configured epoch, so that a resumed run chooses as the whole run did. A
    stream's batches count as one sample each (their size is not known before they come), and
    a stream of unknown length as no work: 'auto' leaves it to NumPy."""
    steps = (run.n_batches or 0) * run.epochs
    batch_size = getattr(run.batches, "batch_size", 1)
    return kernels.fit_work(steps, run.network.n_params, batch_size)


def _raise_if_requested(interrupt) -> None:
    if interrupt.pending:
        interrupt.pending = False
        raise KeyboardInterrupt


def _epoch(run: _Run, at: _Position, interrupt) -> dict | None:
    """One pass over the batches: a step on each; the epoch's logs, or None when the loss
    turned non-finite (the parameters are then put back: see :func:`_diverged`)."""
    network, optimizer, params = run.network, run.optimizer, run.network.parameters
    started = time.perf_counter()
    at.previous_start[...], at.epoch_start[...] = at.epoch_start, params
    at.batch = -1
    if run.schedule is not None:  # None: the rate is the optimizer's own business
        context = {"samples_seen": at.epoch * run.data.n, "history": run.history.history}
        optimizer.learning_rate = run.schedule(at.epoch, run.lr0, context)
    for on_epoch_begin in at.epoch_begin:
        on_epoch_begin(at.epoch, {"lr": optimizer.learning_rate})
    running = [metrics_module.get(name) for name in run.metric_names]
    total, count = 0.0, 0
    order = _order(run)
    for at.batch, (Xb, Tb, wb, size, positions) in enumerate(run.batches(order)):
        rng = at.dropout_rng
        if positions is not None and rng is not None:
            rng = BatchRows(rng, positions, size)
        loss = run.objective(Xb, Tb, wb, rng)
        loss = run.group.reduce_step(network.gradients, loss, Xb.shape[0], size, interrupt)
        if run.stop_on_divergence and not math.isfinite(loss):
            _diverged(network, run.history, at.epoch, at.batch, loss, optimizer.learning_rate)
            params[...] = at.previous_start if at.batch == 0 else at.epoch_start
            return None
        for metric in running:
            metric.update(network.outputs, Tb, wb)
        optimizer.step(params, network.gradients)
        if at.frozen is not None:
            params[at.frozen] = at.frozen_values
        total, count = total + loss * size, count + size
        for on_batch_end in at.batch_end:
            on_batch_end(at.batch, {"size": size, "loss": loss})
        _raise_if_requested(interrupt)
    run.data.n = run.data.n or count
    return _epoch_logs(run, total / count, running, started)


def _order(run: _Run) -> Array | None:
    """The order of the samples this epoch: the caller's, a permutation from the run's
    generator (``shuffle``; a stream keeps its own order), or None (as they are)."""
    if run.order is not None:
        return run.order()
    if run.shuffle and not isinstance(run.batches, StreamBatches):
        return run.train_rng.permutation(run.data.n)
    return None


def _epoch_logs(run: _Run, loss: float, running: list, started: float) -> dict:
    """The epoch's loss, metrics (over every process), validation results, rate and time."""
    run.group.merge(running)
    return epoch_logs(
        run.network,
        {"loss": loss, **{metric.name: metric.result() for metric in running}},
        validation=run.data.validation,
        metric_names=run.metric_names,
        learning_rate=run.optimizer.learning_rate,
        started=started,
        val_rows=run.data.val_rows,
        group=run.group,
    )


def _end_epoch(run: _Run, epoch: int, logs: dict, interrupt) -> None:
    """Send the epoch's logs to the callbacks, agree on a stop over the processes, and write
    a checkpoint when one is due (or the run ends)."""
    network, history = run.network, run.history
    for callback in run.chain:
        callback.on_epoch_end(epoch, logs)
    run.group.agree(interrupt, network)  # one process's stop or Ctrl-C stops them all
    history.stopped_by = _stopped_by(run.chain, network)
    stopped = history.stopped_by and {
        "by": history.stopped_by,
        "reason": network.stop_reason or "a callback stopped training",
    }
    last = epoch + 1 == run.epochs or stopped
    if run.checkpoint and ((epoch + 1) % run.checkpoint_every == 0 or last):
        save_checkpoint(
            run.checkpoint,
            network,
            run.optimizer,
            lr0=run.lr0,
            epoch=epoch,
            rng=run.train_rng,
            entropy=run.entropy,
            callbacks=run.chain,
            stopped=stopped,
        )


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
    """The callbacks of a run: its History, the caller's, EarlyStopping when asked for and the
    progress display that ``verbose`` (already checked by :func:`check_options`) names."""
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
        return network.check_data(X_val, T_val, rest[0] if rest else None)
    except (TypeError, ValueError) as error:
        raise type(error)(f"'validation_data': {error}") from None


def _stopped_by(chain, network) -> str | None:
    """What ended training early: 'early_stopping', 'callback', or None."""
    if not network.stop_training:
        return None
    stoppers = [c for c in chain if isinstance(c, EarlyStopping) and c.stopped_epoch is not None]
    return "early_stopping" if stoppers else "callback"


def _diverged(network, history, epoch: int, batch: int, loss: float, lr: float) -> None:
    kept = epoch - 1 if batch == 0 else epoch
    history.stopped_by = "diverged"
    network.stop_training = True
    network.stop_reason = (
        f"training diverged in epoch {epoch + 1}: the loss became {loss}; the parameters are "
        + (f"those from the end of epoch {kept}" if kept > 0 else "the initial ones")
        + f". Try a smaller learning rate than {lr:g}."
    )
    # the user's fit call: Network.fit and fit (each behind its renamed_arguments wrapper),
    # _train, _epoch and this function are between
    warnings.warn(network.stop_reason, TrainingDivergedWarning, stacklevel=8)


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
