"""The elementwise work of a training step, and which implementation of it runs.

Two sets of kernels do the same work: the NumPy reference (here; a few passes over memory per
operation, one thread) and numba's compiled ones (:mod:`.compiled`; one fused pass, split over
the cores). The work is the optimizers' update, the bias addition with the activation, the
activation's backward pass, the bias gradient, the loss's output delta and the gather of a
shuffled batch. Matrix products are BLAS's in both.

Which set runs is :func:`set_kernels`' choice, or the environment variable
``CHAINRULE_KERNELS`` read at import (``auto``, ``numpy`` or ``numba``; the older
``CHAINRULE_NUMBA=1`` means ``numba``):

- ``'numpy'``: always the reference.
- ``'numba'``: always numba (the ``fast`` extra).
- ``'auto'`` (default): numba for a fit long enough for the compiled kernels to repay
  loading numba (:func:`worth_compiling`, measured in benchmarks/RESULTS.md), where numba is
  installed; the reference otherwise, and outside fit.

The results agree within float rounding (tests/test_kernels.py bounds the difference for every
optimizer and activation), and each set is deterministic: the same seed, kernels and number of
threads give the same bits.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib.util
import math
import os
import warnings
from dataclasses import dataclass

import numpy as np

from .extras import install_hint

__all__ = [
    "CHOICES",
    "Kernels",
    "NUMPY",
    "configuration",
    "current",
    "fit_work",
    "for_fit",
    "get_kernels",
    "numba_kernels",
    "pinned",
    "scalars",
    "set_kernels",
    "use_numba",
    "using_numba",
    "with_weight_decay",
    "worth_compiling",
]

Array = np.ndarray

CHOICES = ("auto", "numpy", "numba")
"""The values of :func:`set_kernels` and ``CHAINRULE_KERNELS``."""

STEP_COST = 1e6
"""What a training step costs beyond its arithmetic (Python, NumPy's calls: about 50 µs on the
host measured), in parameter-samples: a fit's work is ``steps * (STEP_COST + parameters *
batch size)``."""

MIN_WORK = 1e11
"""'auto' compiles for fits of at least this much work: about 5 s of NumPy training on the
host measured, where the compiled kernels took 0.73-0.96x NumPy's epoch time (0.89-1.08x on
the MNIST-shaped network at batch 32), against 0.5 s to load numba and its cached kernels
(benchmarks/RESULTS.md, "Compiled kernels")."""


@dataclass(frozen=True)
class Kernels:
    """One implementation of the training step's elementwise work.

    Every kernel writes into the buffers it is given. ``scalars`` are already cast to the
    parameters' dtype where a signature says so.
    """

    name: str
    sgd_update: object  # (p, g, buf, scratch, lr, momentum, dampening, wd, nesterov, first)
    adam_update: object  # (p, g, m, v, scratch, lr, b1, b2, eps, wd, decoupled, s1, s2)
    rmsprop_update: object  # (p, g, square_avg, grad_avg, buf, scratch, lr, rho, eps, wd, ...)
    adagrad_update: object  # (p, g, total, rate, weight_decay, epsilon)
    take_rows: object  # (X, rows, out) -> out = X[rows]
    bias_activation: object  # (Z, b, activation, out) -> A = f(Z + b); Z becomes Z + b
    bias_softmax: object  # (Z, b, activation, out) -> (A, log_norm), as above
    activation_backward: object  # (grad, Z, A, activation, out) -> dE/dZ
    column_sums: object  # (delta, out) -> out = sum over rows of delta
    output_delta: object  # (loss, Y, T, weights, n) -> dE/dZ of the output (or dE/dY)


# -- the NumPy reference -------------------------------------------------------------------------
def _sgd_numpy(p, g, buf, scratch, lr, momentum, dampening, weight_decay, nesterov, first):
    if weight_decay:
        np.multiply(p, weight_decay, out=scratch)
        scratch += g
        g = scratch.copy() if momentum else scratch
    if momentum:
        if first:
            np.copyto(buf, g)
        else:
            buf *= momentum
            if dampening:
                np.multiply(g, 1 - dampening, out=scratch)
                buf += scratch
            else:
                buf += g
        if nesterov:
            np.multiply(buf, momentum, out=scratch)
            scratch += g
            g = scratch
        else:
            g = buf
    np.multiply(g, lr, out=scratch)
    p -= scratch


def _adam_numpy(
    p, g, m, v, scratch, lr, beta1, beta2, eps, weight_decay, decoupled, scale1, scale2
):
    if decoupled:
        p *= 1 - lr * weight_decay
    elif weight_decay:
        np.multiply(p, weight_decay, out=scratch)
        scratch += g
        g = scratch.copy()
    m *= beta1
    np.multiply(g, 1 - beta1, out=scratch)
    m += scratch
    v *= beta2
    np.multiply(g, g, out=scratch)
    scratch *= 1 - beta2
    v += scratch
    np.sqrt(v, out=scratch)
    scratch *= scale2
    scratch += eps
    np.divide(m, scratch, out=scratch)
    scratch *= scale1
    p -= scratch


def with_weight_decay(p: Array, g: Array, weight_decay: float, scratch: Array) -> Array:
    """``g + weight_decay * p`` into ``scratch`` (or ``g`` itself when there is no decay)."""
    if not weight_decay:
        return g
    np.multiply(p, weight_decay, out=scratch)
    scratch += g
    return scratch


def _rmsprop_numpy(p, g, square_avg, grad_avg, buf, scratch, lr, rho, eps, weight_decay,
                   momentum, centered):  # fmt: skip
    g = with_weight_decay(p, g, weight_decay, scratch)
    square_avg *= rho
    square_avg += (1.0 - rho) * g * g
    if centered:
        grad_avg *= rho
        grad_avg += (1.0 - rho) * g
        denominator = np.sqrt(square_avg - grad_avg * grad_avg)
    else:
        denominator = np.sqrt(square_avg)
    denominator += eps
    if momentum:
        buf *= momentum
        buf += g / denominator
        p -= lr * buf
    else:
        p -= lr * (g / denominator)


def _adagrad_numpy(p, g, total, rate, weight_decay, eps):
    g = g + weight_decay * p if weight_decay else g
    total += g * g
    p -= rate * (g / (np.sqrt(total) + eps))


def _bias_activation_numpy(Z, b, activation, out):
    Z += b
    return activation.forward(Z, out)


def _bias_softmax_numpy(Z, b, activation, out):
    Z += b
    return activation.forward_log_norm(Z, out)


def _activation_backward_numpy(grad, Z, A, activation, out):
    return activation.backward(grad, Z, A, out)


def _output_delta_numpy(loss, Y, T, weights, n):
    gradient = loss.gradient(Y, T)
    if weights is not None:
        gradient *= (weights / n)[:, None]
    elif n > 1:  # a factor of 1 would change nothing
        gradient *= Y.dtype.type(1.0 / n)
    return gradient


NUMPY = Kernels(
    "numpy",
    sgd_update=_sgd_numpy,
    adam_update=_adam_numpy,
    rmsprop_update=_rmsprop_numpy,
    adagrad_update=_adagrad_numpy,
    take_rows=lambda X, rows, out: np.take(X, rows, axis=0, out=out, mode="clip"),
    bias_activation=_bias_activation_numpy,
    bias_softmax=_bias_softmax_numpy,
    activation_backward=_activation_backward_numpy,
    column_sums=lambda delta, out: np.add.reduce(delta, axis=0, out=out),
    output_delta=_output_delta_numpy,
)
"""The reference: NumPy, one thread, results the tests compare everything else with."""


# -- numba ---------------------------------------------------------------------------------------
@functools.cache
def numba_kernels(threads: int = 1) -> Kernels:
    """The compiled kernels on ``threads`` threads (compiled at their first call, then loaded
    from numba's cache), with the reference for what they do not cover; ImportError without
    numba."""
    from . import compiled

    built = compiled.build()
    parallel_min = compiled.PARALLEL_MIN if threads > 1 else math.inf

    def pick(name, size):  # the serial build, or the threaded one for a large array
        return built[name][size >= parallel_min]

    return Kernels("numba", **_compiled_updates(pick), **_compiled_layers(pick, threads))


def _plain(*arrays) -> bool:
    """What the compiled kernels take: C-ordered float32/float64 arrays."""
    return all(a.flags.c_contiguous and a.dtype.kind == "f" for a in arrays)


def _flat(p, *others) -> bool:
    """What the compiled updates take: one plain vector and others of its shape."""
    return p.ndim == 1 and _plain(p, *others) and all(a.shape == p.shape for a in others)


def _compiled_updates(pick) -> dict:
    """The optimizers' updates, compiled where :func:`_flat` holds."""

    def sgd(p, g, buf, scratch, *rates):
        if not _flat(p, g, buf):
            return NUMPY.sgd_update(p, g, buf, scratch, *rates)
        pick("sgd", p.size)(p, g, buf, *rates)

    def adam(p, g, m, v, scratch, *rates):
        if not _flat(p, g, m, v):
            return NUMPY.adam_update(p, g, m, v, scratch, *rates)
        pick("adam", p.size)(p, g, m, v, *rates)

    def rmsprop(p, g, square_avg, grad_avg, buf, scratch, lr, rho, eps, wd, momentum, centered):
        if not _flat(p, g, square_avg, grad_avg, buf):
            return NUMPY.rmsprop_update(p, g, square_avg, grad_avg, buf, scratch, lr, rho, eps,
                                        wd, momentum, centered)  # fmt: skip
        rates = scalars(p.dtype, lr, rho, eps, wd, momentum)
        pick("rmsprop", p.size)(p, g, square_avg, grad_avg, buf, *rates, centered)

    def adagrad(p, g, total, rate, weight_decay, eps):
        if not _flat(p, g, total):
            return NUMPY.adagrad_update(p, g, total, rate, weight_decay, eps)
        pick("adagrad", p.size)(p, g, total, *scalars(p.dtype, rate, weight_decay, eps))

    return {
        "sgd_update": sgd, "adam_update": adam, "rmsprop_update": rmsprop,
        "adagrad_update": adagrad,
    }  # fmt: skip


def _compiled_layers(pick, threads: int) -> dict:
    """The layers' and the loss's elementwise passes and the gather, compiled where
    :func:`_plain` holds."""
    from . import compiled

    def take_rows(X, rows, out):  # one thread: NumPy's gather is as fast
        if threads == 1 or not (_plain(X, out) and X.dtype == out.dtype and rows.dtype.kind == "i"):
            return NUMPY.take_rows(X, rows, out)
        pick("take_rows", out.size)(X, rows, out)
        return out

    def bias_activation(Z, b, activation, out):
        name = activation.name
        if name not in ("relu", "identity") or not _plain(Z, b, out):
            return NUMPY.bias_activation(Z, b, activation, out)
        if name == "identity":
            pick("bias_add", Z.size)(Z, b)
            return activation.forward(Z, out)
        if out is Z:
            pick("bias_relu_in_place", Z.size)(Z, b)
        else:
            pick("bias_relu", Z.size)(Z, b, out)
        return out

    def bias_softmax(Z, b, activation, out):
        if not _plain(Z, b, out):
            return NUMPY.bias_softmax(Z, b, activation, out)
        log_norm = np.empty((Z.shape[0], 1), Z.dtype)
        pick("bias_softmax", Z.size)(Z, b, out, log_norm)
        return out, log_norm

    def activation_backward(grad, Z, A, activation, out):
        kernel = compiled.BACKWARD.get(activation.name)
        if kernel is None or out is None or not _plain(grad, A, out):
            return NUMPY.activation_backward(grad, Z, A, activation, out)
        pick(kernel, A.size)(grad, A, out)
        return out

    def column_sums(delta, out):
        if not _plain(delta, out) or delta.shape[0] == 0:
            return NUMPY.column_sums(delta, out)
        blocks = -(-delta.shape[0] // compiled.ROWS_PER_BLOCK)
        partial = np.empty((blocks, delta.shape[1]), delta.dtype)
        pick("column_sums", delta.size)(delta, out, partial)
        return out

    def output_delta(loss, Y, T, weights, n):
        if loss.name != "cross_entropy" or weights is not None or n == 0 or not _plain(Y, T):
            return NUMPY.output_delta(loss, Y, T, weights, n)
        out = np.empty_like(Y)  # the gradient of cross-entropy with softmax: Y - T, over n
        pick("scaled_difference", Y.size)(Y, T, Y.dtype.type(1.0 / n), out)
        return out

    return {
        "take_rows": take_rows, "bias_activation": bias_activation, "bias_softmax": bias_softmax,
        "activation_backward": activation_backward, "column_sums": column_sums,
        "output_delta": output_delta,
    }  # fmt: skip


# -- the choice ----------------------------------------------------------------------------------
_setting, _threads = "auto", 1
_in_fit: contextvars.ContextVar[Kernels | None] = contextvars.ContextVar(
    "chainrule_kernels", default=None
)


def _numba_or_hint() -> Kernels:
    try:
        kernels = numba_kernels(_threads)
    except ImportError:
        raise ImportError(f"the numba kernels need numba: {install_hint('fast')}") from None
    if _threads > 1:  # numba's thread count is the calling thread's own
        import numba

        if not os.environ.get("NUMBA_THREADING_LAYER"):  # fits in two threads: never workqueue
            numba.config.THREADING_LAYER = "threadsafe"
        numba.set_num_threads(min(_threads, numba.config.NUMBA_NUM_THREADS))
    return kernels


def set_kernels(choice: str, *, threads: int = 1) -> None:
    """Choose the kernels of training: ``'auto'`` (default), ``'numpy'`` or ``'numba'``.

    ``'auto'`` compiles for a fit large enough to pay for it (:func:`worth_compiling`) where
    numba is installed; ``'numpy'`` and ``'numba'`` force either. The environment variables
    ``CHAINRULE_KERNELS`` and ``CHAINRULE_KERNEL_THREADS`` set the same at import.

    Parameters
    ----------
    choice : {'auto', 'numpy', 'numba'}
    threads : int, default=1
        The threads numba's kernels split large arrays over (at most numba's own count). One
        by default: beside OpenBLAS's threads, more were slower on every host measured
        (benchmarks/RESULTS.md, "Compiled kernels").

    Raises
    ------
    ValueError
        For another choice, or ``threads`` below 1.
    ImportError
        For ``'numba'`` where numba is not installed (the ``fast`` extra).
    """
    global _setting, _threads
    if choice not in CHOICES:
        raise ValueError(f"kernels must be one of {', '.join(map(repr, CHOICES))}, got {choice!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a whole number of at least 1, got {threads!r}")
    _setting, _threads = choice, threads
    if choice == "numba":
        _numba_or_hint()


def get_kernels() -> tuple[str, int]:
    """The choice made by :func:`set_kernels` and its thread count: ``('auto', 1)`` by
    default."""
    return _setting, _threads


def use_numba(enabled: bool = True) -> None:
    """``set_kernels('numba')`` (True) or ``set_kernels('numpy')`` (False)."""
    set_kernels("numba" if enabled else "numpy")


def using_numba() -> bool:
    """True where the numba kernels run now: inside a fit that chose them, or forced."""
    return current().name == "numba"


def fit_work(steps: float, n_params: int, batch_size: float) -> float:
    """A fit's work in parameter-samples: ``steps * (STEP_COST + n_params * batch_size)``."""
    return steps * (STEP_COST + n_params * batch_size)


def worth_compiling(work: float) -> bool:
    """'auto''s rule: numba for a fit of at least :data:`MIN_WORK` (:func:`fit_work`), where
    numba is installed. A rule of the configuration alone, never of timings, so that the same
    configuration always runs on the same kernels and gives the same bits."""
    return work >= MIN_WORK and importlib.util.find_spec("numba") is not None


def current() -> Kernels:
    """The kernels that run here and now."""
    chosen = _in_fit.get()
    if chosen is not None:
        return chosen
    return _numba_or_hint() if _setting == "numba" else NUMPY


@contextlib.contextmanager
def for_fit(work: float):
    """Run a fit's steps on the kernels chosen for it: those :func:`pinned` (or an outer
    fit's), else :func:`set_kernels`' choice for a fit of this ``work``."""
    if _in_fit.get() is not None:  # pinned by the caller, or an outer fit's
        chosen = _in_fit.get()
    elif _setting == "numpy":
        chosen = NUMPY
    elif _setting == "numba" or worth_compiling(work):
        chosen = _numba_or_hint()
    else:
        chosen = NUMPY
    token = _in_fit.set(chosen)
    try:
        yield chosen
    finally:
        _in_fit.reset(token)


@contextlib.contextmanager
def pinned(chosen: Kernels):
    """Run the fits inside on ``chosen`` (:data:`NUMPY` or :func:`numba_kernels`'s) whatever
    :func:`set_kernels` says, in this thread: the playground pins NumPy's, so that its curve is
    bit for bit the one its Python program draws, however long it runs; the scikit-learn
    estimators pin NumPy's, so that they compute as scikit-learn does."""
    token = _in_fit.set(chosen)
    try:
        yield chosen
    finally:
        _in_fit.reset(token)


def configuration() -> dict:
    """What decides the kernels of a fit: the choice, its threads, and whether numba is
    installed (data-parallel processes must agree on it, or their replicas drift apart)."""
    return {
        "kernels": _setting,
        "kernel threads": _threads,
        "numba installed": importlib.util.find_spec("numba") is not None,
    }


def scalars(dtype, *values):
    """Each value as a scalar of ``dtype``, so that NumPy and numba round alike."""
    kind = np.dtype(dtype).type
    return tuple(kind(value) for value in values)


def _from_environment() -> tuple[str, int]:
    """``CHAINRULE_KERNELS`` and ``CHAINRULE_KERNEL_THREADS``; a value that is not one of
    theirs warns and leaves the default."""
    choice = os.environ.get("CHAINRULE_KERNELS", "").strip().lower()
    if not choice:
        older = os.environ.get("CHAINRULE_NUMBA", "").strip().lower()
        choice = "numba" if older in ("1", "true", "yes") else "auto"
    elif choice not in CHOICES:
        warnings.warn(
            f"CHAINRULE_KERNELS={choice!r} is not one of {', '.join(CHOICES)}; using 'auto'",
            stacklevel=2,
        )
        choice = "auto"
    threads = os.environ.get("CHAINRULE_KERNEL_THREADS", "1").strip()
    if not (threads.isascii() and threads.isdecimal()) or int(threads) < 1:
        warnings.warn(
            f"CHAINRULE_KERNEL_THREADS={threads!r} is not a whole number of at least 1; using 1",
            stacklevel=2,
        )
        threads = "1"
    return choice, int(threads)


_setting, _threads = _from_environment()
