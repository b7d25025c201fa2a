"""Losses: values against direct formulas, scaling, stability and target checks."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import losses


def one_layer(output, loss, W, b):
    return cr.Network([cr.Dense(len(W), len(b), output, W=W, b=b)], loss, dtype="float64")


X = np.array([[0.5, -1.0], [2.0, 0.25]])
W = [[0.3, -0.7], [1.1, 0.4]]
B = [0.05, -0.2]
Z = X @ np.array(W) + np.array(B)


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_squared_error_is_half_the_sum_over_outputs_mean_over_samples():
    T = np.array([[0.1, 0.9], [0.7, -0.3]])
    expected = np.mean([0.5 * sum((T[i, k] - Z[i, k]) ** 2 for k in range(2)) for i in range(2)])
    assert one_layer("identity", "squared_error", W, B).compute_loss(X, T) == pytest.approx(
        expected, rel=1e-14
    )


def test_mse_mae_huber_are_means_over_outputs():
    T = np.array([[0.1, 0.9], [0.7, -3.3]])
    R = Z - T
    assert one_layer("identity", "mse", W, B).compute_loss(X, T) == pytest.approx(
        np.mean(R**2), rel=1e-14
    )
    mae = one_layer("identity", "mae", W, B).compute_loss(X, T)
    assert mae == pytest.approx(np.mean(abs(R)), rel=1e-14)
    h = [0.5 * r * r if abs(r) <= 1 else abs(r) - 0.5 for r in R.ravel()]
    assert one_layer("identity", "huber", W, B).compute_loss(X, T) == pytest.approx(
        np.mean(h), rel=1e-14
    )


def test_binary_cross_entropy_matches_its_definition():
    T = np.array([[1.0, 0.0], [0.25, 1.0]])
    Y = np.vectorize(sigmoid)(Z)
    expected = np.mean(-(T * np.log(Y) + (1 - T) * np.log(1 - Y)))
    net = one_layer("sigmoid", "binary_cross_entropy", W, B)
    assert net.compute_loss(X, T) == pytest.approx(expected, rel=1e-13)


def test_cross_entropy_matches_its_definition():
    labels = np.array([1, 0])
    Y = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(Y[[0, 1], labels]))
    assert one_layer("softmax", "cross_entropy", W, B).compute_loss(X, labels) == pytest.approx(
        expected, rel=1e-13
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_from_the_softmax_log_norm_is_bit_identical_to_recomputing_it(dtype):
    # training reads log sum exp(z) from the output softmax's forward pass instead of a second
    # pass over Z; the value must be the one computed from Z alone, bit for bit
    rng = np.random.default_rng(3)
    Z = (rng.standard_normal((300, 10)) * rng.choice([0.01, 1.0, 30.0], (300, 1))).astype(dtype)
    Z[0] = 0.0
    T = rng.dirichlet(np.ones(10), 300).astype(dtype)
    T[:150] = np.eye(10, dtype=dtype)[rng.integers(0, 10, 150)]
    shift = Z.max(axis=1, keepdims=True)
    log_norm = shift + np.log(np.exp(Z - shift).sum(axis=1, keepdims=True))
    expected = np.einsum("ij,ij->i", T, log_norm - Z)
    Y, kept = cr.activations.softmax_and_log_norm(Z, np.empty_like(Z))
    loss = losses.get("cross_entropy")
    assert np.array_equal(loss.value_from_log_norm(T, Z, kept), expected)
    assert np.array_equal(loss.value(Y, T, Z), expected)
    assert np.array_equal(Y, cr.activations.get("softmax")(Z))


def test_training_loss_with_the_kept_log_norm_equals_the_loss_recomputed():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((64, 5)).astype(np.float32)
    labels = rng.integers(0, 4, 64)
    net = cr.MLP([5, 8, 4], activation="relu", loss="cross_entropy", seed=0)
    Xc, T, _ = net.check_data(X, labels, None)
    value = net.forward_backward(Xc, T, None)
    assert net.layers[-1].log_norm is not None  # the value came from the softmax's pass
    assert value == net.compute_loss(X, labels)


@pytest.mark.parametrize(
    "output,loss,T",
    [
        ("sigmoid", "binary_cross_entropy", [[0.0, 1.0]]),  # both confidently wrong
        ("softmax", "cross_entropy", [1]),
    ],
)
def test_fused_losses_stay_finite_at_huge_net_inputs(output, loss, T):
    net = one_layer(output, loss, [[1000.0, -1000.0]], [0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = net.loss_and_gradients([[1.0]], T)
    assert np.isfinite(value) and value == pytest.approx(
        2000.0 if loss == "cross_entropy" else 1000.0
    )
    assert all(np.isfinite(g).all() for pair in grads for g in pair)


def test_fused_output_delta_is_y_minus_t():
    net = one_layer("softmax", "cross_entropy", W, B)
    T = np.array([[0.0, 1.0], [1.0, 0.0]])
    _, grads = net.loss_and_gradients(X, T)
    Y = net.predict(X)
    np.testing.assert_allclose(grads[0][1], (Y - T).mean(axis=0), rtol=1e-14)


def test_fused_losses_require_their_output_activation():
    with pytest.raises(ValueError, match="needs output activation 'softmax', got 'relu'"):
        cr.Network([cr.Dense(2, 3, "relu")], "cross_entropy")
    with pytest.raises(ValueError, match="needs output activation 'sigmoid'"):
        cr.MLP([2, 1], output_activation="identity", loss="binary_cross_entropy")


def test_unknown_loss_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; known: .*cross_entropy"):
        losses.get("hinge")


@pytest.mark.parametrize(
    "T,message",
    [
        ([7, 0], r"class label 7, but the network has 2 outputs"),
        ([0.5, 1], r"class labels must be integers, got 0.5"),
        ([[0.5, 0.6], [1, 0]], r"summing to 1.1"),
        ([0, 1, 1], r"must have 2 rows"),
    ],
)
def test_cross_entropy_targets_are_checked(T, message):
    with pytest.raises(ValueError, match=message):
        one_layer("softmax", "cross_entropy", W, B).compute_loss(X, T)


def test_binary_cross_entropy_targets_must_lie_in_unit_interval():
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\], got 1.5"):
        one_layer("sigmoid", "binary_cross_entropy", W, B).compute_loss(X, [[1.5, 0], [0, 1]])


def test_targets_are_never_broadcast():
    net = one_layer("identity", "mse", W, B)
    with pytest.raises(ValueError, match=r"must have shape \(2, 2\).*got shape \(2, 1\)"):
        net.compute_loss(X, [[1.0], [2.0]])
    with pytest.raises(
        ValueError, match=r"'T' must hold only finite values, got nan at index \(0, 1\)"
    ):
        net.compute_loss(X, [[1.0, np.nan], [2.0, 0.0]])


def test_one_dimensional_targets_allowed_for_a_single_output():
    net = one_layer("identity", "mse", [[1.0], [2.0]], [0.0])
    assert net.compute_loss(X, [0.0, 1.0]) == net.compute_loss(X, [[0.0], [1.0]])
