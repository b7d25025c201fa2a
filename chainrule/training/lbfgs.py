"""Full-batch training with L-BFGS through ``scipy.optimize.minimize`` (method L-BFGS-B).

Each L-BFGS iteration counts as an epoch for the history and the callbacks. Frozen parameters
are pinned with equal lower and upper bounds.
"""

from __future__ import annotations

import time

import numpy as np

from .evaluation import evaluate

__all__ = ["fit_lbfgs"]


def _scipy_minimize():
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise ImportError(
            'the L-BFGS optimizer needs scipy: pip install "chainrule[lbfgs]"'
        ) from None
    return minimize


def fit_lbfgs(
    network, X, T, weights, optimizer, epochs, validation, metric_names, history, chain, interrupt
):
    """Minimise the full-batch loss with L-BFGS for at most ``epochs`` iterations.

    A Ctrl-C (``interrupt.pending``, set by the caller's SIGINT handler) is acted on after an
    iteration: the parameters of the last finished iteration are kept and KeyboardInterrupt
    raised.
    """
    minimize = _scipy_minimize()
    frozen = network.frozen
    bounds = None
    if frozen is not None:
        bounds = [
            (v, v) if f else (None, None) for v, f in zip(network.parameters, frozen, strict=True)
        ]

    def loss_and_gradient(flat):
        network.parameters[...] = flat
        value = network.forward_backward(X, T, weights)
        return value, network.gradients.astype(np.float64)

    network.stop_training, network.stop_reason = False, None
    for callback in chain:
        callback.set_network(network)
    for callback in chain:
        callback.on_train_begin(
            {"epochs": epochs, "batches": 1, "initial_epoch": 0, "samples": X.shape[0]}
        )
    state = {"epoch": 0, "started": time.perf_counter(), "last": network.parameters.copy()}

    def after_iteration(flat):
        network.parameters[...] = flat
        state["last"][...] = network.parameters
        logs = evaluate(network, X, T, weights, metric_names, "")
        if validation is not None:
            logs.update(evaluate(network, *validation, metric_names, "val_"))
        logs["lr"] = optimizer.lr
        logs["seconds"] = time.perf_counter() - state["started"]
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
