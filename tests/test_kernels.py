"""The numba kernels and their NumPy fallbacks give identical results, bit for bit."""

import numpy as np
import pytest

from chainrule.core import kernels as _kernels

pytest.importorskip("numba")
NUMBA = _kernels.numba_kernels()

SGD_OPTIONS = [
    dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False),
    dict(momentum=0.9, dampening=0.0, weight_decay=0.01, nesterov=True),
    dict(momentum=0.5, dampening=0.3, weight_decay=0.02, nesterov=False),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", SGD_OPTIONS)
def test_sgd_kernels_agree(dtype, options):
    rng = np.random.default_rng(0)
    states = [
        [rng.normal(size=1001).astype(dtype), np.zeros(1001, dtype), np.zeros(1001, dtype)]
        for _ in range(2)
    ]
    states[1][0][...] = states[0][0]
    kernels = [NUMBA["sgd_update"], _kernels._sgd_numpy]
    for step in range(5):
        g = rng.normal(size=1001).astype(dtype)
        for kernel, (p, buf, scratch) in zip(kernels, states, strict=True):
            kernel(
                p,
                g,
                buf,
                scratch,
                *_kernels.scalars(
                    dtype, 0.05, options["momentum"], options["dampening"], options["weight_decay"]
                ),
                options["nesterov"],
                step == 0,
            )
    assert np.array_equal(states[0][0], states[1][0])
    assert np.array_equal(states[0][1], states[1][1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight_decay,decoupled", [(0.0, False), (0.1, False), (0.1, True)])
def test_adam_kernels_agree(dtype, weight_decay, decoupled):
    rng = np.random.default_rng(1)
    start = rng.normal(size=777).astype(dtype)
    states = [
        [start.copy(), np.zeros(777, dtype), np.zeros(777, dtype), np.zeros(777, dtype)]
        for _ in range(2)
    ]
    for step in range(1, 6):
        g = rng.normal(size=777).astype(dtype)
        scale1, scale2 = 0.01 / (1 - 0.9**step), 1 / np.sqrt(1 - 0.999**step)
        for kernel, (p, m, v, scratch) in zip(
            [NUMBA["adam_update"], _kernels._adam_numpy], states, strict=True
        ):
            kernel(
                p,
                g,
                m,
                v,
                scratch,
                *_kernels.scalars(dtype, 0.01, 0.9, 0.999, 1e-8, weight_decay),
                decoupled,
                *_kernels.scalars(dtype, scale1, scale2),
            )
    for a, b in zip(states[0][:3], states[1][:3], strict=True):  # parameters and both moments
        assert np.array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_kernels_agree(dtype):
    rng = np.random.default_rng(2)
    A = np.maximum(rng.normal(size=(33, 17)), 0).astype(dtype)
    grad = rng.normal(size=(33, 17)).astype(dtype)
    fast = NUMBA["relu_backward"](grad, A, np.empty_like(A))
    slow = _kernels._relu_backward_numpy(grad, A, np.empty_like(A))
    assert np.array_equal(fast, slow) and np.array_equal(np.signbit(fast), np.signbit(slow))
    transposed = NUMBA["relu_backward"](grad.T, A.T, None)  # not contiguous: fallback
    assert np.array_equal(transposed, slow.T)


def test_switching_kernels_changes_nothing_but_the_speed():
    import chainrule as cr

    def train():
        net = cr.MLP([5, 16, 3], loss="cross_entropy", seed=0)
        rng = np.random.default_rng(0)
        net.fit(
            rng.normal(size=(64, 5)),
            rng.integers(0, 3, 64),
            epochs=3,
            batch_size=16,
            optimizer=cr.optim.SGD(learning_rate=0.1, momentum=0.9),
            verbose=0,
        )
        return net.parameters.copy()

    plain = train()
    cr.use_numba()
    try:
        assert cr.using_numba()
        fast = train()
    finally:
        cr.use_numba(False)
    assert not cr.using_numba() and np.array_equal(plain, fast)
