"""The playground's chain-rule panel is titled with the symbols of its own formulas (issue 26):
"weight w9 from a2 into z4", not "weight w9 from h1_2 into h2_1" above lines in a2 and z4, and
they are the names ``chainrule explain`` gives the same network."""

import re

import pytest

import chainrule as cr
from chainrule.playground.chain import chain_rule

X, T, RATE = [0.3, -0.7], [1.0], 0.1
TARGETS = {
    "weight from an input": ({"kind": "weight", "layer": 1, "from": 1, "to": 2}, 3),
    "weight between hidden layers": ({"kind": "weight", "layer": 2, "from": 1, "to": 0}, 3),
    "weight into the output": ({"kind": "weight", "layer": 3, "from": 1, "to": 0}, 3),
    "bias": ({"kind": "bias", "layer": 2, "to": 1}, 2),
    "neuron": ({"kind": "neuron", "layer": 1, "index": 2}, 2),
}


@pytest.fixture(scope="module")
def network():
    return cr.MLP(
        [2, 3, 2, 1], activation="tanh", loss="binary_cross_entropy", dtype="float64", seed=7
    )


def symbols_of(line: str) -> set[str]:
    """The symbols a printed line ``symbol = formula = numbers = value`` names."""
    return set(re.findall(r"[A-Za-z_][\w/+@]*", line))


@pytest.mark.parametrize("case", TARGETS)
def test_the_panels_title_names_the_symbols_of_its_formulas(network, case):
    target, count = TARGETS[case]
    panel = chain_rule(network, X, T, RATE, target)
    explanation = cr.explain.explain(network, x=X, t=T, learning_rate=RATE)
    trace, printed = explanation.trace, explanation.render("text").splitlines()
    named = [word for word in panel["title"].split() if word in trace]
    # every name in the title is a quantity (no neuron names such as h1_2 beside the symbols)
    assert len(named) == count and panel["title"].startswith(target["kind"]), panel["title"]
    in_formulas = set().union(*(symbols_of(row["line"]) for row in panel["rows"]))
    assert set(named) <= in_formulas, (panel["title"], in_formulas)
    assert all(row["line"] in printed for row in panel["rows"])  # the lines explain prints
    lines = {line.split(" = ", 1)[0]: line for line in printed if " = " in line}
    if target["kind"] == "neuron":  # "neuron with net input z3 and output a3"
        net, out = named
        assert lines[out].startswith(f"{out} = tanh({net})")
        assert trace[net].kind == "net" and trace[out].meta["neuron"] == trace[net].meta["neuron"]
    elif target["kind"] == "weight":  # "weight w9 from a2 into z4": z4 = ... + a2*w9 + ...
        weight, source, net = named
        assert f"{source}*{weight}" in lines[net] and trace[net].kind == "net"
        assert trace[f"dE/d{weight}"].kind == "gradient" and panel["focus"] == f"dE/d{weight}"
    else:  # "bias b5 into z5": z5 = ... + 1*b5
        bias, net = named
        assert f"1*{bias}" in lines[net] and panel["focus"] == f"dE/d{bias}"
