"""Bad input raises a ValueError/TypeError naming the argument, the value and the expectation."""

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def net():
    return cr.MLP([3, 4, 2], seed=0)


@pytest.mark.parametrize(
    "X,message",
    [
        ([1.0, 2.0, 3.0], r"'X' must be a 2-D array .* got an array of shape \(3,\)"),
        ([[1.0, 2.0]], r"'X' must have 3 columns, got an array of shape \(1, 2\)"),
        ([[1.0, np.nan, 0.0]], r"'X' must hold only finite values, got nan at index \(0, 1\)"),
        ([[1.0, np.inf, 0.0]], r"finite values, got inf"),
        (
            [[1.0, 3.5e38, 0.0]],
            r"'X' holds 3.5e\+38 at index \(0, 1\), beyond the range of float32 \(\+-3.403e\+38\)",
        ),
        ([["a", "b", "c"]], r"'X' must be a numeric array"),
        (np.zeros((0, 3)), r"at least one sample"),
    ],
)
def test_bad_inputs(net, X, message):
    with pytest.raises(ValueError, match=message):
        net.predict(X)


def test_sample_weight_checked(net):
    X, T = np.zeros((2, 3)), np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"'sample_weight' must have shape \(2,\)"):
        net.compute_loss(X, T, sample_weight=[1.0])
    with pytest.raises(ValueError, match=r"'sample_weight' must be >= 0, got -1"):
        net.compute_loss(X, T, sample_weight=[1.0, -1.0])


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        (
            {"dtype": "float16"},
            ValueError,
            r"'dtype' must be 'float32' or 'float64', got 'float16'",
        ),
        ({"l2": -1}, ValueError, r"'l2' must be a float in \[0.0, inf\], got -1.0"),
        ({"l2": "big"}, TypeError, r"'l2' must be a real number, got 'big'"),
        (
            {"weight_init": "magic"},
            ValueError,
            r"'weight_init' must be one of .*he_normal.*'magic'",
        ),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        cr.MLP([2, 3, 1], **kwargs)


def test_bad_sizes_and_layer_chains():
    with pytest.raises(ValueError, match=r"'sizes' must list at least two positive integers"):
        cr.MLP([3])
    with pytest.raises(ValueError, match=r"layer 1 has n_in=4 but the layer before it has n_out=3"):
        cr.Network([cr.Dense(2, 3), cr.Dense(4, 1)])
    with pytest.raises(ValueError, match=r"'W' must have shape \(2, 3\), got shape \(3, 2\)"):
        cr.Dense(2, 3, W=np.zeros((3, 2)))
    with pytest.raises(
        ValueError, match=r"'b' must hold only finite values, got inf at index \(1,\)"
    ):
        cr.Dense(2, 2, b=[0.0, np.inf])
    with pytest.raises(ValueError, match="last layer must be Dense"):
        cr.Network([cr.Dense(2, 3), cr.Dropout(0.5)])
    with pytest.raises(ValueError, match=r"'values' must have shape \(21,\)"):
        cr.MLP([3, 4, 1]).set_parameters(np.zeros(3))


def test_a_value_within_range_is_not_refused_and_float64_takes_any_finite_value():
    assert cr.MLP([1, 1], seed=0).predict([[3.4e38]]).dtype == np.float32
    assert np.isfinite(cr.MLP([1, 1], seed=0, dtype="float64")._check_X([[1e300]])).all()


def test_overflowing_arithmetic_gives_inf_without_a_warning():
    # 2 * 1e38 + 2 * 1e38 = 4e38 exceeds float32's 3.4e38: the output is +inf, as in PyTorch
    net = cr.Network([cr.Dense(2, 1, W=[[1e38], [1e38]], b=[0.0])], "mse")
    assert np.isposinf(net.predict([[2.0, 2.0]])[0, 0])
    assert net.compute_loss([[2.0, 2.0]], [[0.0]]) == np.inf
