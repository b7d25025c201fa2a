"""Zero within rounding: a cancellation's float noise is shown as 0 (chainrule.explain.rounding)."""

import json

import pytest

import chainrule as cr
from chainrule.explain import Trace, parse_spec


def one_weight(x: float, w: float, b: float, activation: str = "identity") -> str:
    """z1 = x1*w1 + 1*b1 into one output neuron, target 0."""
    return f"""
title = "one weight"
loss = "squared_error"
learning_rate = 0.5
[inputs]
x1 = {x!r}
[[layers]]
name = "output"
activation = "{activation}"
neurons = [{{ name = "o1", net = "z1", out = "y1", target = "t1" }}]
[targets]
o1 = 0.0
[weights]
w1 = {{ from = "x1", to = "o1", value = {w!r} }}
[biases]
b1 = {{ to = "o1", value = {b!r} }}
"""


# 0.1*3 - 0.3 is exactly 0 written in decimals; in float64 it is 2^-54 = 5.55e-17
CANCELLING = one_weight(0.1, 3.0, -0.3)
# 1e-10 * 1e-10 = 1e-20 is small but no cancellation
TINY = one_weight(1e-10, 1e-10, 0.0)


def test_the_cancellation_really_leaves_float_noise():
    trace = Trace(parse_spec(CANCELLING))
    assert trace["z1"].value == 0.1 * 3.0 - 0.3 == 2.0**-54  # the raw value stays as computed
    assert trace["dE/dw1"].value == pytest.approx(2.0**-54 * 0.1, rel=1e-12)


@pytest.mark.parametrize("format", ["text", "markdown", "latex", "json"])
def test_a_cancellation_is_shown_as_0(format):
    rendered = cr.explain(parse_spec(CANCELLING)).render(format)
    assert "e-17" not in rendered and "e-18" not in rendered and "e-33" not in rendered, rendered
    if format == "text":
        assert "z1 = x1*w1 + 1*b1 = 0.1*3 + 1*(-0.3) = 0\n" in rendered
        assert "dE/dw1 = dE/dy1*dy1/dz1*dz1/dw1 = 0*1*0.1 = 0\n" in rendered
        assert "w1+ = w1 - eta*dE/dw1 = 3 - 0.5*0 = 3\n" in rendered
    if format == "json":
        values = {q["symbol"]: q["value"] for q in json.loads(rendered)["quantities"]}
        assert values["z1"] == values["dE/dy1"] == values["dE/dw1"] == values["E"] == 0.0


@pytest.mark.parametrize("format", ["text", "json"])
def test_a_small_value_that_is_no_cancellation_keeps_its_digits(format):
    rendered = cr.explain(parse_spec(TINY)).render(format)
    if format == "text":  # by hand: z1 = 1e-20, dE/dw1 = (y1 - t1) * 1 * x1 = 1e-30
        assert "z1 = x1*w1 + 1*b1 = 1e-10*1e-10 + 1*0 = 1e-20\n" in rendered
        assert "dE/dw1 = dE/dy1*dy1/dz1*dz1/dw1 = 1e-20*1*1e-10 = 1e-30\n" in rendered
    else:
        values = {q["symbol"]: q["value"] for q in json.loads(rendered)["quantities"]}
        assert values["z1"] == pytest.approx(1e-20, rel=1e-12)
        assert values["E"] == pytest.approx(0.5e-40, rel=1e-12)


def test_a_tolerance_is_far_below_a_genuine_value_and_above_the_noise():
    cancelling, tiny = Trace(parse_spec(CANCELLING)), Trace(parse_spec(TINY))
    assert abs(cancelling["z1"].value) < cancelling.rounding_tolerances["z1"] < 1e-14
    assert tiny.rounding_tolerances["z1"] < 1e-30  # 1e-20 is 10^10 times its tolerance
    assert cancelling.rounding_tolerances["x1"] == 0.0  # a given number is exact as written
