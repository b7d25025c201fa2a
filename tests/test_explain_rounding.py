"""Zero within rounding: a cancellation's float noise is shown as 0 and a claim written "0"
means an exact zero (chainrule.explain.rounding, holding.last_digit_unit)."""

import json
import math
import re

import pytest
from test_explain_check import INACTIVE_RELU  # a relu unit at z1 = -0.5, y = 0.1, t = 1

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
    rendered = cr.explain.explain(parse_spec(CANCELLING)).render(format)
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
    rendered = cr.explain.explain(parse_spec(TINY)).render(format)
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
    assert cancelling.rounding_tolerances["x1"] < 1e-14 * 0.1  # a given number is never 0


def verdicts(spec_text: str, claims: dict) -> dict:
    lines = "".join(f'"{name}" = "{text}"\n' for name, text in claims.items())
    return {r.name: r for r in cr.check(parse_spec(spec_text + lines))}


def test_a_claim_written_0_holds_for_an_exact_zero():
    # z1 = 1 * -0.5 < 0: a1 = 0, relu'(z1) = 0, so dE/dz1 = dE/dw1 = 0 exactly
    results = verdicts(INACTIVE_RELU, {"a1": "0", "da1/dz1": "0", "dE/dz1": "-0", "dE/dw1": "0"})
    assert all(r.ok and r.kind == "ok" for r in results.values()), results


def test_a_claim_written_0_is_wrong_for_a_value_that_is_not_zero():
    # by hand: y = 0.8*0 + 0.1 = 0.1 and dE/dy = y - t = 0.1 - 1 = -0.9; at a unit of 1 the
    # first would pass as "0"
    results = verdicts(INACTIVE_RELU, {"y": "0", "dE/dy": "0", "z1": "0"})
    assert not any(r.ok for r in results.values()), results
    assert "you wrote 0, the correct value is 0.1" in results["y"].diagnosis
    assert results["z1"].correct == -0.5


def test_a_zero_written_with_decimals_is_judged_at_its_last_digit():
    # y = 0.04 with b2 = 0.04: "0.0" holds (0.04 rounds to 0.0), "0.00" does not, "0" does not
    spec = INACTIVE_RELU.replace("value = 0.1", "value = 0.04")
    assert verdicts(spec, {"y": "0.0"})["y"].ok
    assert not verdicts(spec, {"y": "0.00"})["y"].ok
    assert not verdicts(spec, {"y": "0"})["y"].ok


def test_a_claim_written_0_holds_for_a_cancellation_and_not_for_a_tiny_value():
    cancelling = verdicts(CANCELLING + "[claims]\n", {"z1": "0", "dE/dw1": "0", "E": "0"})
    assert all(r.ok for r in cancelling.values()), cancelling
    tiny = verdicts(TINY + "[claims]\n", {"z1": "0"})["z1"]
    assert not tiny.ok and re.search(r"the correct value is 1e-20\b", tiny.diagnosis)


@pytest.mark.parametrize("text,unit", [("0", 0.0), ("-0", 0.0), ("0.0", 0.1), ("0e-3", 1e-3),
                                       ("0.00", 0.01), ("12", 1.0), ("6.9e-4", 1e-5)])  # fmt: skip
def test_the_written_precision_of_a_claim(text, unit):
    from chainrule.explain.holding import last_digit_unit

    assert last_digit_unit(text) == pytest.approx(unit, rel=1e-12, abs=0)


def test_an_arithmetic_claim_of_0_holds_for_a_cancellation_only():
    arithmetic = (
        "[arithmetic]\n"
        '"cancels" = { expression = "0.1 * 3 - 0.3", claimed = "0" }\n'  # 5.55e-17 in float64
        '"small" = { expression = "1e-10 * 1e-10", claimed = "0" }\n'
        '"rounded" = { expression = "0.3 - 0.26", claimed = "0" }\n'  # 0.04, at a unit of 1: "0"
        '"decimals" = { expression = "0.3 - 0.26", claimed = "0.0" }\n'
    )
    results = {r.name: r.ok for r in cr.check(parse_spec(CANCELLING + arithmetic))}
    assert results == {"cancels": True, "small": False, "rounded": False, "decimals": True}


def test_a_relu_input_shown_as_0_but_positive_in_float64_is_explained():
    # z1 = 0.1*3 - 0.3 = 5.55e-17 > 0 in float64: relu'(z1) = 1 (the engine's and PyTorch's
    # value), while z1 reads 0; the note says why relu'(0) reads 1 here
    text = cr.explain.explain(parse_spec(one_weight(0.1, 3.0, -0.3, "relu"))).render("text")
    assert "dy1/dz1 = relu'(z1) = relu'(0) = 1\n" in text
    assert (
        "z1 is 0 within rounding but 5.55111512e-17 in float64, and relu' takes it as positive"
        in text
    )
    exact = cr.explain.explain(parse_spec(one_weight(0.5, 2.0, -1.0, "relu"))).render(
        "text"
    )  # exact 0
    assert "dy1/dz1 = relu'(z1) = relu'(0) = 0\n" in exact and "within rounding" not in exact


# One bias shared by both outputs of a softmax with cross-entropy: its gradient is
# (y1 - t1) + (y2 - t2), which is 0 for any weights (the y sum to 1), and 1.1e-16 in float64.
# Moving the given numbers leaves it 0, so only the size of its terms reveals the noise.
SHARED_SOFTMAX_BIAS = """
title = "a bias shared by a softmax layer"
loss = "cross_entropy"
learning_rate = 0.3
[inputs]
x1 = 0.5
[[layers]]
name = "output"
activation = "softmax"
neurons = [{ name = "o1", net = "z1", out = "y1", target = "t1" },
           { name = "o2", net = "z2", out = "y2", target = "t2" }]
[targets]
o1 = 0
o2 = 1
[weights]
w1 = { from = "x1", to = "o1", value = 0.15 }
w2 = { from = "x1", to = "o2", value = -0.6 }
[biases]
b = { to = ["o1", "o2"], value = 0.05 }
[claims]
"dE/db" = "0"
"b+" = "0.05"
"dE/dw1" = "0.2963"
"""


def test_a_gradient_that_is_zero_for_any_givens_is_zero_within_rounding():
    trace = Trace(parse_spec(SHARED_SOFTMAX_BIAS))
    raw = trace["dE/db"].value
    y1 = 1 / (1 + math.exp(-(0.15 - -0.6) * 0.5))  # softmax of two: sigmoid(z1 - z2)
    assert raw != 0 and abs(raw) < 1e-15  # the float noise is really there
    assert trace["dE/dw1"].value == pytest.approx(0.5 * y1, rel=1e-12)
    assert trace.shown_values()["dE/db"] == 0.0
    results = cr.check(parse_spec(SHARED_SOFTMAX_BIAS))
    assert [(r.name, r.ok) for r in results] == [("dE/db", True), ("b+", True), ("dE/dw1", True)]
    assert "e-16" not in cr.explain.explain(parse_spec(SHARED_SOFTMAX_BIAS)).render("text")


def test_adams_step_on_a_gradient_that_is_zero_within_rounding_says_why_it_moves():
    # w - eta*0/(sqrt(0) + eps) printed as 0.0499999983 reads as a wrong sum without the note
    text = SHARED_SOFTMAX_BIAS.replace("[claims]", '[optimizer]\nname = "adam"\n[claims]')
    explanation = cr.explain.explain(parse_spec(text))
    mhat = explanation.trace["mhat_b"].value
    assert mhat != 0 and abs(mhat) < 1e-15
    step = -0.3 * mhat / (math.sqrt(explanation.trace["vhat_b"].value) + 1e-8)
    assert explanation.trace["b+"].value - 0.05 == pytest.approx(step, rel=1e-6)
    lines = explanation.render("text").splitlines()
    note = lines[lines.index(next(line for line in lines if line.startswith("b+ = "))) + 1]
    assert note.startswith("    (mhat_b is 0 within rounding but ") and f"{step:.3g}" in note
    assert explanation.trace["w1+"].note == ""  # a real gradient has no such note
