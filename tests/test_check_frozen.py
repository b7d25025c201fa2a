"""Fixed parameters (issue 26): a parameter the spec holds fixed has its ``p+`` (and ``p@k``),
its unchanged value, which ``explain`` shows and ``check`` accepts; a learner who updates it
anyway is told so (``frozen_updated``), and what they build on it is inherited. The learner's
numbers come from tests/golden/frozen.py (float64 by hand, no chainrule code), on a network of
this file's own: 3-2-2, tanh hidden, sigmoid outputs, squared error, w2 and b3 fixed.

Also: a worked example that overflows is refused by ``check`` as by ``explain``, in one line
and without NumPy's warnings."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from golden import frozen

import chainrule as cr
from chainrule.explain import parse_spec

SPEC = """\
title = "A 3-2-2 network with a fixed weight and a fixed bias"
loss = "squared_error"
learning_rate = 0.3
fixed = ["w2", "b3"]

[inputs]
x1 = 0.8
x2 = -0.4
x3 = 0.25

[[layers]]
name = "hidden"
activation = "tanh"
neurons = [{ name = "h1", net = "z1", out = "a1" }, { name = "h2", net = "z2", out = "a2" }]

[[layers]]
name = "output"
activation = "sigmoid"
neurons = [
  { name = "o1", net = "z3", out = "y1", target = "t1" },
  { name = "o2", net = "z4", out = "y2", target = "t2" },
]

[targets]
o1 = 0.9
o2 = 0.2

[weights]
w1 = { from = "x1", to = "h1", value = 0.35 }
w2 = { from = "x1", to = "h2", value = -0.6 }
w3 = { from = "x2", to = "h1", value = 0.7 }
w4 = { from = "x2", to = "h2", value = 0.15 }
w5 = { from = "x3", to = "h1", value = -0.25 }
w6 = { from = "x3", to = "h2", value = 0.45 }
w7 = { from = "h1", to = "o1", value = 0.8 }
w8 = { from = "h1", to = "o2", value = -0.5 }
w9 = { from = "h2", to = "o1", value = 0.4 }
w10 = { from = "h2", to = "o2", value = 0.65 }

[biases]
b1 = { to = "h1", value = 0.1 }
b2 = { to = "h2", value = -0.2 }
b3 = { to = "o1", value = 0.05 }
b4 = { to = "o2", value = 0.3 }
"""

NET = frozen.Net(  # SPEC typed again: W[i, j] from neuron i to neuron j
    X=np.array([[0.8, -0.4, 0.25]]),
    T=np.array([[0.9, 0.2]]),
    Ws=[np.array([[0.35, -0.6], [0.7, 0.15], [-0.25, 0.45]]), np.array([[0.8, -0.5], [0.4, 0.65]])],
    bs=[np.array([0.1, -0.2]), np.array([0.05, 0.3])],
    acts=["tanh", "sigmoid"],
    names={
        "w1": (0, 0, 0),
        "w2": (0, 0, 1),
        "w3": (0, 1, 0),
        "w4": (0, 1, 1),
        "w5": (0, 2, 0),
        "w6": (0, 2, 1),
        "w7": (1, 0, 0),
        "w8": (1, 0, 1),
        "w9": (1, 1, 0),
        "w10": (1, 1, 1),
        "b1": (0, 0),
        "b2": (0, 1),
        "b3": (1, 0),
        "b4": (1, 1),
    },
    symbols=[(["z1", "z2"], ["a1", "a2"]), (["z3", "z4"], ["y1", "y2"])],
    errors=["E_o1", "E_o2"],
)
TRAINED = set(NET.names) - {"w2", "b3"}
RATE, MU = 0.3, 0.8
FIXED_WORDS = "w2 is fixed (it does not train)"


def spec_text(optimizer: str, steps: int) -> str:
    momentum = f"momentum = {MU}\n" if optimizer in ("momentum", "nesterov") else ""
    return SPEC + f'\n[optimizer]\nname = "{optimizer}"\n{momentum}steps = {steps}\n'


def numbers(optimizer: str, steps: int, moving) -> dict:
    return frozen.learner(NET, moving, optimizer, steps, RATE, MU)


def checked(optimizer: str, steps: int, claims: dict) -> dict:
    """``chainrule.check``'s verdicts on ``claims`` (name: value), each written to 6
    significant digits as a learner rounds them (trailing zeros kept), by name."""
    lines = "".join(f'"{name}" = "{value:#.6g}"\n' for name, value in claims.items())
    spec = parse_spec(spec_text(optimizer, steps) + "\n[claims]\n" + lines)
    return {result.name: result for result in cr.check(spec)}


def claimed(mine: dict, names: list) -> dict:
    return {name: mine[name] for name in names}


# a learner's page, in the order they write it: what comes before the planted w2+, the
# planted w2+ itself, what is built on it, and what it does not reach
BEFORE = ["z1", "z2", "a2", "y1", "E", "dE/dw2", "dE/dw9", "w9+"]
AFTER = ["z2+", "a2+", "z3+", "y1+", "E_o1+", "E+"]
UNREACHED = ["z1+", "a1+", "w1+", "b3+"]
LATER = {
    "sgd": ["g_w9@2", "w9@2", "g_b1@2", "E@2"],
    "momentum": ["g_w9@2", "v_w9@2", "w9@2", "E@2"],
    "nesterov": ["g_w9@2", "v_w9@2", "w9@2", "E@2"],
    "adam": ["g_w9@2", "m_w9@2", "vhat_w9@2", "w9@2", "E@2"],
}


@pytest.mark.parametrize(
    "optimizer, steps",
    [("sgd", 1), ("sgd", 2), ("momentum", 1), ("momentum", 2), ("nesterov", 2), ("adam", 2)],
)
def test_an_update_of_a_fixed_parameter_is_named_and_carried_forward(optimizer, steps):
    mine = numbers(optimizer, steps, TRAINED | {"w2"})  # the mistake: w2 updated all the same
    correct = numbers(optimizer, steps, TRAINED)
    assert mine["w2+"] != correct["w2+"] == -0.6 and correct["b3+"] == 0.05
    later = LATER[optimizer] + ["w2@2", "b3@2"] if steps == 2 else []
    results = checked(optimizer, steps, claimed(mine, BEFORE + ["w2+"] + AFTER + UNREACHED + later))
    for name, result in results.items():  # chainrule's correct values are the hand-computed ones
        assert result.correct == pytest.approx(correct[name], rel=1e-8, abs=1e-12), name
    assert all(results[name].kind == "ok" for name in BEFORE + UNREACHED), results
    planted = results["w2+"]
    assert planted.kind == "frozen_updated", planted.diagnosis
    assert f"{FIXED_WORDS}: w2+ = w2; you applied the update w2 - eta*" in planted.diagnosis
    assert all(results[name].kind == "inherited" for name in AFTER), results
    assert "from your own z2+" in results["a2+"].diagnosis
    if steps == 2:
        assert all(results[name].kind == "inherited" for name in LATER[optimizer]), results
        twice = results["w2@2"]
        assert twice.kind == "frozen_updated", twice.diagnosis
        assert f"{FIXED_WORDS}: w2@2 = w2;" in twice.diagnosis
        assert twice.diagnosis.endswith("at each of the 2 steps")
        assert results["b3@2"].kind == "ok"


def test_the_update_is_named_when_only_what_follows_from_it_is_written():
    # the learner wrote no w2+, only the net input that used their updated w2
    mine = numbers("momentum", 2, TRAINED | {"w2"})
    results = checked("momentum", 2, claimed(mine, ["z2+", "a2+", "w2@2", "E@2"]))
    assert results["z2+"].kind == "frozen_updated"
    assert FIXED_WORDS in results["z2+"].diagnosis and "w2+ = w2" in results["z2+"].diagnosis
    assert results["a2+"].kind == "inherited"
    # w2@2 replays both steps from w2 itself, the second gradient at the learner's w2+
    assert results["w2@2"].kind == "frozen_updated" and results["E@2"].kind == "inherited"


def test_a_fixed_parameters_unchanged_value_is_a_claim_that_holds():
    # before issue 26, "w2+" and "w2@2" named no quantity, so that a right claim was refused
    correct = numbers("momentum", 2, TRAINED)
    results = checked(
        "momentum", 2, claimed(correct, ["w2+", "b3+", "z2+", "w2@2", "b3@2", "w9@2", "E@2"])
    )
    assert all(result.ok and result.kind == "ok" for result in results.values()), results


def test_explain_shows_a_fixed_parameters_value_in_every_format():
    explanation = cr.explain.explain(parse_spec(spec_text("momentum", 2)))
    text = explanation.render("text")
    assert "w2+ = w2 = (-0.6)\n    (fixed: it does not train)\n" in text
    assert "b3+ = b3 = 0.05\n" in text and "w2@2 = w2+ = (-0.6)\n" in text
    assert "z2+ = x1*w2+ + x2*w4+ + x3*w6+ + 1*b2+ = 0.8*(-0.6) + " in text
    markdown = explanation.render("markdown")
    assert "$$w_{2}^{+} = w_{2} = (-0.6)$$\n\n*fixed: it does not train*" in markdown
    assert r"b_{3}^{+} &= b_{3} = 0.05" in explanation.render("latex")
    rows = {q["symbol"]: q for q in json.loads(explanation.render("json"))["quantities"]}
    assert rows["w2+"]["section"] == "update"
    assert {k: rows["w2+"][k] for k in ("kind", "formula", "value", "note")} == {
        "kind": "frozen",
        "formula": "w2",
        "value": -0.6,
        "note": "fixed: it does not train",
    }
    assert rows["b3@2"]["formula"] == "b3+" and rows["b3@2"]["section"] == "steps"
    for format in ("text", "markdown", "latex", "json"):
        matrix = explanation.render(format, form="matrix")
        assert "fixed: w2, b3; they do not train: W+ and b+ keep their values" in matrix


# -- a worked example that overflows ----------------------------------------------------------


def test_explain_and_check_refuse_an_overflow_in_one_line_without_numpys_warnings(tmp_path):
    """Weights of 1e308 make z3 = a1*w7 + a2*w9 + b3 overflow; with a second step the engine
    computes the gradients too (a NumPy overflow warning reached stderr there)."""
    huge = re.sub(r"(?m)^(w\d+ = .* value = )[-.\d]+", r"\g<1>1e308", SPEC)
    assert huge.count("1e308") == 10
    for steps in (1, 2):
        path = tmp_path / f"huge{steps}.toml"
        path.write_text(
            huge + f'[claims]\nz1 = "0.1"\n[optimizer]\nname = "sgd"\nsteps = {steps}\n'
        )
        for command in ("explain", "check"):
            done = subprocess.run(
                [sys.executable, "-m", "chainrule.cli", command, str(path)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 2 and done.stdout == "", (command, done.stdout[-500:])
            assert done.stderr.splitlines() == [
                f"chainrule: error: {path}: the worked example overflows: z3 = inf, computed "
                "from the file's numbers. Fix: give numbers of a smaller magnitude"
            ], done.stderr
