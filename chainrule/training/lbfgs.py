"""Full-batch training with L-BFGS through ``scipy.optimize.minimize`` (method L-BFGS-B).

Each L-BFGS iteration counts as an epoch for the history and the callbacks. Frozen parameters
are pinned with equal lower and upper bounds.
"""

from __future__ import annotations

import time

import numpy as np

from ..core.extras import install_hint
from .evaluation import evaluate
from .events import begin_training, epoch_logs

__all__ = ["fit_lbfgs"]


def _scipy_minimize():
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise ImportError(f"the L-BFGS optimizer needs scipy: {install_hint('lbfgs')}") from None
    return minimize


def _bounds(network) -> list | None:
    """Bounds that pin the frozen parameters (lower = upper = the value); None when none is."""
    frozen = network.frozen
    if frozen is None:
        return None
    return [(v, v) if f else (None, None) for v, f in zip(network.parameters, frozen, strict=True)]


def fit_lbfgs(
    network,
    X,
    T,
    *,
    weights,
    optimizer,
    epochs: int,
    validation,
    metric_names,
    history,
    chain,
    interrupt,
):
    """Minimise the full-batch loss with L-BFGS for at most ``epochs`` iterations, sending the
    events of the training loop to the callbacks ``chain`` (each iteration is an epoch).

    A Ctrl-C (``interrupt.pending``, set by the caller's SIGINT handler) is acted on after an
    iteration: the parameters of the last finished iteration are kept and KeyboardInterrupt
    raised.
    """
    minimize, bounds = _scipy_minimize(), _bounds(network)

    def loss_and_gradient(flat):
        network.parameters[...] = flat
        value = network.forward_backward(X, T, weights)
        return value, network.gradients.astype(np.float64)

    begin_training(network, chain, epochs=epochs, batches=1, initial_epoch=0, samples=X.shape[0])
    state = {"epoch": 0, "started": time.perf_counter(), "last": network.parameters.copy()}

    def after_iteration(flat):
        network.parameters[...] = flat
        state["last"][...] = network.parameters
        logs = epoch_logs(
            network,
            evaluate(network, X, T, weights, metric_names, ""),
            validation=validation,
            metric_names=metric_names,
            learning_rate=optimizer.learning_rate,
            started=state["started"],
        )
        for callback in chain:
            callback.on_epoch_end(state["epoch"], logs)
        state["epoch"] += 1
        state["started"] = time.perf_counter()
        if network.stop_training:
            raise StopIteration
        if interrupt.pending:
            raise KeyboardInterrupt

    def interruptible(flat):
        if interrupt.pending:  # between two evaluations of the line search
            raise KeyboardInterrupt
        return loss_and_gradient(flat)

    try:
        result = minimize(
            interruptible,
            network.parameters.astype(np.float64),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            callback=after_iteration,
            options={
                "maxiter": epochs,
                "maxfun": optimizer.max_fun,
                "gtol": optimizer.tol,
                "maxcor": optimizer.memory,
            },
        )
    except KeyboardInterrupt:
        network.parameters[...] = state["last"]
        raise
    if not network.stop_training:
        network.parameters[...] = result.x
    history.stop_reason = network.stop_reason
    history.optimizer_message = str(result.message)
    for callback in chain:
        callback.on_train_end({})
    network.history = history
    return history
