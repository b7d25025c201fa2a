"""Every activation: value, derivative (against finite differences), stability, registry."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import activations

ELEMENTWISE = [name for name in activations.NAMES if name != "softmax"]

# Reference formulas written independently of the implementation (math module, per element).
REFERENCE = {
    "identity": lambda z: z,
    "linear": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "logistic": lambda z: 1 / (1 + math.exp(-z)),
    "tanh": math.tanh,
    "relu": lambda z: max(z, 0.0),
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "elu": lambda z: z if z > 0 else math.exp(z) - 1,
    "softplus": lambda z: math.log(1 + math.exp(z)),
    "gelu": lambda z: 0.5 * z * (1 + math.erf(z / math.sqrt(2))),
    "exp": math.exp,
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_values_match_reference_formulas(name):
    z = np.linspace(-4, 4, 41)
    expected = [REFERENCE[name](v) for v in z]
    np.testing.assert_allclose(
        activations.get(name)(z[None, :])[0], expected, rtol=1e-14, atol=1e-15
    )


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_differences(name):
    z = np.linspace(-3, 3, 37) + 0.013  # keeps clear of the kinks at 0
    f = activations.get(name)
    h = 1e-6
    numeric = (f((z + h)[None])[0] - f((z - h)[None])[0]) / (2 * h)
    analytic = f.derivative(z, f(z[None])[0])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)


def test_softmax_rows_sum_to_one_and_backward_is_the_jacobian():
    f = activations.get("softmax")
    z = np.array([[0.3, -1.2, 2.0]])
    a = f(z)
    assert a.sum() == pytest.approx(1.0, abs=1e-15)
    jacobian = np.diag(a[0]) - np.outer(a[0], a[0])
    g = np.array([[0.5, -0.25, 2.0]])
    np.testing.assert_allclose(f.backward(g, z, a), g @ jacobian, rtol=1e-14)


# exp (the Poisson output) has no finite value at z = 1000: it is checked up to float's range
@pytest.mark.parametrize("name", [name for name in activations.NAMES if name != "exp"])
def test_stable_at_large_magnitude(name):
    f = activations.get(name)
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = f(z)
        d = f.backward(np.ones_like(z), z, a)
    assert np.isfinite(a).all() and np.isfinite(d).all()


def test_exp_is_finite_up_to_the_float_range():
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 709.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = activations.get("exp")(z)
    assert np.isfinite(a).all() and a[0, 0] == 0.0


def test_sigmoid_limits_are_exact():
    a = activations.get("sigmoid")(np.array([[-1000.0, 1000.0]]))
    assert a[0, 0] == 0.0 and a[0, 1] == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_within_two_ulps_everywhere_and_the_same_in_place(dtype):
    # reference in 80-bit extended precision, independent of the implementation's split
    z = np.linspace(-700, 700, 140001).astype(dtype)
    if dtype is np.float32:
        z = z[np.abs(z) < 85]  # past that, float32's sigmoid underflows or rounds to 1
    exact = 1 / (1 + np.exp(-z.astype(np.longdouble)))
    a = activations.get("sigmoid")(z[None, :])[0]
    ulps = np.abs(a - exact) / (exact * np.finfo(dtype).eps)
    assert a.dtype == dtype and float(ulps.max()) <= 2.0
    in_place = z[None, :].copy()
    activations.get("sigmoid").forward(in_place, in_place)
    np.testing.assert_array_equal(in_place[0], a)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "elu", {"name": "elu", "alpha": 0.5}])
def test_fused_backward_is_grad_times_the_derivative_into_out(name):
    f = activations.get(name)
    rng = np.random.default_rng(3)
    a = f(rng.standard_normal((4, 3)) * 2)
    grad = rng.standard_normal((4, 3))
    out = np.empty_like(a)
    assert f.backward(grad, a, a, out) is out
    np.testing.assert_array_equal(out, grad * f.derivative(a, a))


def test_relu_propagates_nan_and_writes_into_out():
    z = np.array([[-0.0, 0.0, np.nan, -1.5, 2.5, np.inf, -np.inf]], dtype=np.float32)
    out = np.empty_like(z)
    result = activations.get("relu").forward(z, out)
    assert result is out and out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.0, 0.0, np.nan, 0.0, 2.5, np.inf, 0.0]])
    assert not np.signbit(out[0, 0])


def test_relu_derivative_is_zero_at_zero_like_pytorch():
    f = activations.get("relu")
    assert f.derivative(np.array([0.0]), np.array([0.0]))[0] == 0.0


def test_leaky_relu_slope_and_elu_alpha_are_settable():
    leaky = activations.get({"name": "leaky_relu", "slope": 0.2})
    assert leaky(np.array([[-1.0]]))[0, 0] == pytest.approx(-0.2)
    assert activations.leaky_relu().params == {"slope": 0.01}
    elu = activations.elu(alpha=2.0)
    assert elu(np.array([[-1.0]]))[0, 0] == pytest.approx(2 * (math.exp(-1) - 1))


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu_in_place_gives_the_formula_at_every_kind_of_input(alpha):
    """``max(z, 0) + alpha expm1(min(z, 0))`` written over ``z`` itself (the layer's buffer):
    the formula's numbers, infinities and NaN included."""
    z = np.array([[-np.inf, -30.0, -1.0, -1e-30, 0.0, 1e-30, 2.0, np.inf, np.nan]])
    expected = [[-alpha, alpha * math.expm1(-30.0), alpha * math.expm1(-1.0),
                 alpha * math.expm1(-1e-30), 0.0, 1e-30, 2.0, np.inf, np.nan]]  # fmt: skip
    f = activations.elu(alpha)
    np.testing.assert_array_equal(f.forward(z.copy(), None), expected)
    buffer = z.copy()
    assert f.forward(buffer, buffer) is buffer
    np.testing.assert_array_equal(buffer, expected)


def test_aliases_point_to_the_same_function():
    assert activations.get("logistic").name == "sigmoid"


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'relux'; known: .*sigmoid"):
        cr.Dense(2, 2, "relux")


def test_bad_parameter_is_named():
    with pytest.raises(ValueError, match="slope"):
        activations.get({"name": "leaky_relu", "slope": -1})


def test_float32_in_float32_out():
    for name in activations.NAMES:
        z = np.ones((2, 3), dtype=np.float32)
        assert activations.get(name)(z).dtype == np.float32, name
