"""Every mistake ``check`` names, at step 1 and at a later step (issue 26), on networks of this
file's own: the learner's numbers come from tests/golden/planted.py (float64 by hand, no
chainrule code), which plants one mistake and carries it forward to every later number the
learner writes. Each case writes a spec file with the learner's numbers as claims, rounded to
five significant digits, and checks every verdict: the claims where the mistake is made get its
kind and words, those built on them are ``inherited``, and the others hold.

The list is complete: the kinds docs/spec-format.md's "How claims are judged" names (by the
words of :data:`chainrule.explain.mistakes.FAMILIES`), the kinds chainrule/explain's code can
produce and the kinds the tests cover are the same set. A test in ``tests/test_check_*.py``
covers a kind at a step when it writes the kind as a string literal in a
``pytest.mark.parametrize`` row or in an ``assert``, and that row or test gives the step:

- a parametrize row with the argument names ``kind`` and ``step``: that kind at that step;
- a parametrize row with ``step`` (or ``steps``) but no ``kind``: every kind its asserts name,
  at that step (at steps 1 to ``steps``: an exercise of 2 steps covers steps 1 and 2);
- a test whose name ends with ``_at_step_<N>``: every kind its asserts name, at step N;
- a dict in an ``assert`` from a claim's name to the kind (``{"v_w5@2": "momentum_sign"}``):
  the kind at the claim's step (``@k``: k, else 1).

Every kind must be covered at its first step (1; 2 for ``momentum_sign``: the velocity has no
momentum term at step 1) and at a later one.
"""

import ast
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from golden import planted
from golden.planted import Exercise, Plant

import chainrule as cr
from chainrule.explain import mistakes
from chainrule.explain.mistakes import FAMILIES

ROOT = Path(__file__).parent.parent
FIRST_STEP = {"momentum_sign": 2}
NOT_MISTAKES = {"ok", "rounding", "unknown_name"}
CHECK_OWN = {"inherited", "given", "arithmetic"}  # named by check itself, not by a family


def rows(*values):
    return np.array(values, dtype=float)


# -- the networks ----------------------------------------------------------------------------

# 2-2-2, tanh hidden, sigmoid outputs: neurons h1, h2 (z1, z2) and o1, o2 (z3, z4)
TANH = Exercise(
    X=rows([0.6, -0.4]),
    T=rows([0.2, 0.7]),
    Ws=[rows([0.3, -0.5], [0.8, 0.2]), rows([0.6, -0.7], [0.4, 0.9])],
    bs=[rows(0.1, -0.2), rows(-0.1, 0.25)],
    acts=["tanh", "sigmoid"],
    lr=0.5,
    steps=2,
)
# 2-2-3, sigmoid hidden, softmax outputs with squared error (no shortcut for the delta)
SOFTMAX = Exercise(
    X=rows([0.3, 0.9]),
    T=rows([0.0, 0.0, 1.0]),
    Ws=[rows([0.5, -0.3], [0.2, 0.7]), rows([0.4, -0.6, 0.1], [-0.2, 0.5, 0.3])],
    bs=[rows(0.0, 0.1), rows(0.1, -0.1, 0.0)],
    acts=["sigmoid", "softmax"],
    lr=0.8,
    steps=2,
)
# 1-2-1, relu hidden, identity output: h1 is active at step 1 and inactive after it
RELU = Exercise(
    X=rows([0.8]),
    T=rows([1.5]),
    Ws=[rows([0.25, 0.6]), rows([-1.4], [0.9])],
    bs=[rows(0.05, 0.0), rows(0.2)],
    acts=["relu", "identity"],
    lr=0.5,
    steps=2,
)
# the same with h1 inactive from the start
RELU_OFF = replace(RELU, Ws=[rows([-0.25, 0.6]), rows([-1.4], [0.9])])
# 1-2-1, leaky_relu hidden (slope 0.1): h1's net input is negative at both steps
LEAKY = replace(RELU, Ws=[rows([-0.7, 0.6]), rows([0.5], [0.9])], acts=["leaky_relu", "identity"],
                slope=0.1, lr=0.3)  # fmt: skip
# 2-1-1, tanh hidden, identity output, huber with delta 0.5: |y - t| > delta at step 1,
# <= delta at step 2
HUBER = Exercise(
    X=rows([0.5, -1.0]),
    T=rows([1.2]),
    Ws=[rows([0.4], [-0.3]), rows([0.8])],
    bs=[rows(0.1), rows(-0.2)],
    acts=["tanh", "identity"],
    loss="huber",
    delta=0.5,
    lr=1.0,
    steps=2,
)
# two samples through a 2-2-1 network, sigmoid hidden, identity output, the mean error
BATCH = Exercise(
    X=rows([0.9, -0.2], [-0.5, 0.4]),
    T=rows([0.8], [-0.6]),
    Ws=[rows([0.2, -0.6], [0.5, 0.3]), rows([0.7], [-0.4])],
    bs=[rows(0.0, 0.2), rows(0.1)],
    acts=["sigmoid", "identity"],
    lr=0.4,
    steps=2,
)
MOMENTUM = replace(TANH, optimizer="momentum", mu=0.8, steps=3)
ADAM = replace(TANH, optimizer="adam", lr=0.05, beta1=0.8, beta2=0.99)


# -- spec files and claims -------------------------------------------------------------------


def _neuron(names, layer: int, c: int, hidden: int) -> str:
    number = names.numbers[layer][c]
    return f"o{number - hidden}" if layer == len(names.numbers) - 1 else f"h{number}"


def _value(values) -> str:
    return repr(float(values[0])) if len(values) == 1 else str([float(v) for v in values])


def _optimizer(ex: Exercise) -> list[str]:
    lines = ["[optimizer]", f'name = "{ex.optimizer}"', f"steps = {ex.steps}"]
    if ex.optimizer == "momentum":
        lines.append(f"momentum = {ex.mu!r}")
    if ex.optimizer == "adam":
        lines += [f"beta1 = {ex.beta1!r}", f"beta2 = {ex.beta2!r}", f"eps = {ex.eps!r}"]
    return lines


def _layers(ex: Exercise, names) -> list[str]:
    hidden, lines = names.numbers[-1][0] - 1, []
    for layer, f in enumerate(ex.acts):
        neurons = []
        for c, (net, out) in enumerate(zip(names.nets[layer], names.outs[layer], strict=True)):
            neuron = _neuron(names, layer, c, hidden)
            target = f', target = "t{neuron[1:]}"' if neuron[0] == "o" else ""
            neurons.append(f'{{ name = "{neuron}", net = "{net}", out = "{out}"{target} }}')
        lines += ["[[layers]]", f'name = "layer {layer + 1}"', f'activation = "{f}"']
        lines += [f"slope = {ex.slope!r}"] if f == "leaky_relu" else []
        lines.append(f"neurons = [{', '.join(neurons)}]")
    lines.append("[targets]")
    lines += [f"o{j + 1} = {_value(ex.T[:, j])}" for j in range(ex.T.shape[1])]
    return lines


def _parameters(ex: Exercise, names) -> list[str]:
    hidden = names.numbers[-1][0] - 1
    weights, biases = ["[weights]"], ["[biases]"]
    for name, place in names.params.items():
        layer, value = place[0], planted.initial_value(ex, place)
        to = _neuron(names, layer, place[-1], hidden)
        if len(place) == 2:
            biases.append(f'{name} = {{ to = "{to}", value = {float(value)!r} }}')
            continue
        source = f"x{place[1] + 1}" if layer == 0 else _neuron(names, layer - 1, place[1], hidden)
        weights.append(f'{name} = {{ from = "{source}", to = "{to}", value = {float(value)!r} }}')
    return weights + biases


def spec_text(ex: Exercise, claims: dict) -> str:
    """The spec file of ``ex`` with ``claims`` (name -> the number written)."""
    names = planted.layout(ex)
    lines = [f'loss = "{ex.loss}"', f"learning_rate = {ex.lr!r}", f'reduction = "{ex.reduction}"']
    lines += [f"huber_delta = {ex.delta!r}"] if ex.loss == "huber" else []
    lines += _optimizer(ex) + ["[inputs]"]
    lines += [f"x{i + 1} = {_value(ex.X[:, i])}" for i in range(ex.X.shape[1])]
    lines += _layers(ex, names) + _parameters(ex, names) + ["[claims]"]
    lines += [f'"{name}" = "{text}"' for name, text in claims.items()]
    return "\n".join(lines) + "\n"


def written(value: float, digits: int = 5) -> str:
    """A number as a learner writes it, to ``digits`` significant digits (an exact 0 as ``0``)."""
    return f"{value:.{digits}g}"


def holds(text: str, value: float) -> bool:
    """Whether ``text`` is ``value`` rounded or truncated to its last written digit (an exact
    ``0`` only for 0)."""
    mantissa, _, exponent = text.partition("e")
    unit = 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))
    if mantissa.lstrip("-") == "0":
        return value == 0
    claimed = float(text)
    truncated = claimed * value > 0 and abs(claimed) <= abs(value) < abs(claimed) + unit
    return abs(claimed - value) <= unit / 2 * (1 + 1e-9) or truncated


# -- one planted mistake per kind, at step 1 and at a later step --------------------------------

GRADIENTS = "g@k"  # in Case.planted_at: every gradient of the plant's step that it changes


@dataclass(frozen=True)
class Case:
    exercise: Exercise
    plant: Plant
    planted_at: tuple  # the claims the mistake is made at: they get its kind
    words: tuple  # what the diagnosis of each of them says
    extra: tuple = ()  # claims beyond the sheet's
    digits: int = 5  # the significant digits the learner writes

    def sheet(self) -> list[str]:
        """The claims: where the mistake is made and the extra ones, then every gradient,
        update and error of each step."""
        params = list(planted.layout(self.exercise).params)
        names = [*self.extra, *(n for n in self.planted_at if n != GRADIENTS), "E"]
        names += [*(f"dE/d{p}" for p in params), *(f"{p}+" for p in params), "E+", "ΔE"]
        for k in range(2, self.exercise.steps + 1):
            names += [*(f"g_{p}@{k}" for p in params), *(f"{p}@{k}" for p in params), f"E@{k}"]
        return list(dict.fromkeys(names))

    def planted(self, claims: dict, right: dict) -> list[str]:
        """The claims the mistake is made at, :data:`GRADIENTS` written out: at a later step
        its pass is no claim, so each gradient the mistake changes is one."""
        names = [n for n in self.planted_at if n != GRADIENTS]
        if GRADIENTS in self.planted_at:
            for p in planted.layout(self.exercise).params:
                g = f"g_{p}@{self.plant.step}"
                names += [g] if not holds(claims[g], right[g]) else []
        return names


def check(tmp_path, case: Case):
    """The learner's numbers as claims, the correct ones, and check's verdicts by name."""
    mine, right = planted.worked(case.exercise, case.plant), planted.worked(case.exercise)
    claims = {n: written(mine[n], case.digits) for n in case.sheet()}
    path = tmp_path / "exercise.toml"
    path.write_text(spec_text(case.exercise, claims))
    results = {r.name: r for r in cr.check(path)}
    return claims, {n: right[n] for n in claims}, results


def _at2(*words):
    return ("at step 2 (the pass at the parameters after step 1)", *words)


DROPPED = "leaves out the path(s) via o2"
UPDATED = "uses the updated weights"
AT_NET = "evaluated at the net input"
ACTIVE = "takes the unit as active"
LEAKY_WORDS = ("leaky_relu'(z1) as relu's 0", "passes back the slope 0.1")
MISSING = "is left out of the chain"
RATE = "leaves out the learning rate"
REDUCTION = "is the sum over the 2 samples, but the spec says mean"
DIAGONAL = "keeps only the diagonal term dE/dy3*dy3/dz5 of the softmax Jacobian"
UNCORRECTED = "leaves out the bias correction"
MINUS = "subtracts the momentum term"
TWICE = "is twice its correct value"
BATCH_PARAMS = list(planted.layout(BATCH).params)


@pytest.mark.parametrize(
    "kind, step, case",
    [
        ("dropped_path", 1, Case(TANH, Plant("dropped_path", 1, 1, dropped=(4,)), ("dE/da1",),
                                 (DROPPED,))),
        ("dropped_path", 2, Case(TANH, Plant("dropped_path", 2, 1, dropped=(4,)), (GRADIENTS,),
                                 _at2(DROPPED))),
        ("updated_weight", 1, Case(TANH, Plant("updated_weight", 1, 2), ("dE/da2",), (UPDATED,))),
        ("updated_weight", 2, Case(MOMENTUM, Plant("updated_weight", 2, 2), (GRADIENTS,),
                                   _at2(UPDATED))),
        ("softmax_diagonal", 1, Case(SOFTMAX, Plant("softmax_diagonal", 1, 5), ("dE/dz5",),
                                     (DIAGONAL,))),
        ("softmax_diagonal", 2, Case(SOFTMAX, Plant("softmax_diagonal", 2, 5), (GRADIENTS,),
                                     _at2(DIAGONAL))),
        ("derivative_at_net", 1, Case(TANH, Plant("derivative_at_net", 1, 2), ("da2/dz2",),
                                      (AT_NET,))),
        ("derivative_at_net", 2, Case(TANH, Plant("derivative_at_net", 2, 2), (GRADIENTS,),
                                      _at2(AT_NET))),
        ("inactive_unit", 1, Case(RELU_OFF, Plant("inactive_unit", 1, 1), ("dE/dw1", "dE/db1"),
                                  (ACTIVE, "z1 = -0.15 <= 0"))),
        ("inactive_unit", 2, Case(RELU, Plant("inactive_unit", 2, 1), (GRADIENTS,),
                                  _at2(ACTIVE, "relu'(z) = 1 only for z > 0"))),
        ("relu_for_leaky", 1, Case(LEAKY, Plant("relu_for_leaky", 1, 1), ("da1/dz1",),
                                   LEAKY_WORDS)),
        ("relu_for_leaky", 2, Case(LEAKY, Plant("relu_for_leaky", 2, 1), (GRADIENTS,),
                                   _at2(*LEAKY_WORDS))),
        ("missing_derivative", 1, Case(TANH, Plant("missing_derivative", 1, 1), ("dE/dz1",),
                                       (MISSING,))),
        ("missing_derivative", 2, Case(TANH, Plant("missing_derivative", 2, 3), (GRADIENTS,),
                                       _at2(MISSING))),
        ("rate_forgotten", 1, Case(TANH, Plant("rate_forgotten", 1, "w6"), ("w6+",), (RATE,))),
        ("rate_forgotten", 2, Case(MOMENTUM, Plant("rate_forgotten", 2, "w6"), ("w6@2",),
                                   (RATE,))),
        ("bias_correction", 1, Case(ADAM, Plant("bias_correction", 1, "w8"), ("mhat_w8",),
                                    (UNCORRECTED,))),
        ("bias_correction", 2, Case(ADAM, Plant("bias_correction", 2, "w8"), ("mhat_w8@2",),
                                    (UNCORRECTED,))),
        ("momentum_sign", 2, Case(MOMENTUM, Plant("momentum_sign", 2, "b4"), ("v_b4@2",),
                                  (MINUS,))),
        ("momentum_sign", 3, Case(MOMENTUM, Plant("momentum_sign", 3, "b4"), ("v_b4@3",),
                                  (MINUS,))),
        ("batch_reduction", 1, Case(BATCH, Plant("batch_reduction", 1),
                                    ("E", *(f"dE/d{p}" for p in BATCH_PARAMS), "E+"),
                                    (REDUCTION,))),
        ("batch_reduction", 2, Case(BATCH, Plant("batch_reduction", 2), (GRADIENTS, "E@2"),
                                    ("at step 2 (the pass at the parameters after step ",
                                     REDUCTION))),
        ("huber_branch", 1, Case(HUBER, Plant("huber_branch", 1), ("E_o1", "dE/dy1", "E+"),
                                 ("huber's quadratic branch r^2/2", "is above delta = 0.5"),
                                 digits=6)),
        ("huber_branch", 2, Case(HUBER, Plant("huber_branch", 2), (GRADIENTS, "E@2"),
                                 ("huber's", "at step 2 (the pass at the parameters after step "),
                                 digits=6)),
        ("factor_two", 1, Case(TANH, Plant("factor_two", 1), ("E", "E+"), (TWICE,))),
        ("factor_two", 2, Case(TANH, Plant("factor_two", 2, "w5"), ("g_w5@2",), _at2(TWICE))),
        ("sign", 1, Case(TANH, Plant("sign", 1, 3), ("dE/dy1",), ("the wrong sign",))),
        ("sign", 2, Case(TANH, Plant("sign", 2, "w7"), ("w7@2",),
                         ("moves with the gradient instead of against it",))),
        ("given", 1, Case(replace(TANH, steps=1), Plant("given", 1, "x2", -0.04), ("x2",),
                          ("x2 is given in the spec as -0.4",))),
        ("given", 2, Case(MOMENTUM, Plant("given", 2, "mu", 0.08), ("mu",),
                          ("mu is given in the spec as 0.8",))),
        ("inherited", 1, Case(BATCH, Plant("arithmetic", 1, "b3", 0.8), ("dE/db3",),
                              ("arithmetic slip",))),
        ("inherited", 2, Case(RELU, Plant("arithmetic", 2, "w4", 0.8), ("g_w4@2",),
                              ("arithmetic slip",))),
        ("arithmetic", 1, Case(TANH, Plant("arithmetic", 1, "w3", 1.37), ("dE/dw3",),
                               ("Most likely an arithmetic slip: dE/dw3 = ",))),
        ("arithmetic", 2, Case(MOMENTUM, Plant("arithmetic", 2, "w3", 1.37), ("g_w3@2",),
                               ("arithmetic slip: g_w3@2 = dE/dw3 at the parameters after step "
                                "1: the forward and backward pass of step 1 with w1+ = ",
                                "in place of w1, w2,"))),
    ],
    ids=lambda value: None if isinstance(value, (str, int)) else "planted",
)  # fmt: skip
def test_a_planted_mistake_is_named_and_what_follows_from_it_is_inherited(
    tmp_path, kind, step, case
):
    claims, right, results = check(tmp_path, case)
    assert set(results) == set(claims)
    planted_at = case.planted(claims, right)
    for name in planted_at:  # where the learner erred: the mistake, in words
        assert not holds(claims[name], right[name]), name
        assert results[name].kind == case.plant.kind, (name, results[name].diagnosis)
        assert all(w in results[name].diagnosis for w in case.words), results[name].diagnosis
    for name in set(claims) - set(planted_at):  # built on it: inherited; else: right
        expected = "ok" if holds(claims[name], right[name]) else "inherited"
        assert results[name].kind == expected, (name, claims[name], results[name].diagnosis)
        assert expected == "ok" or "It follows correctly from your own" in results[name].diagnosis
        assert expected == "ok" or _step_of(name) >= step, name  # before it: every claim holds
    verdicts = [r.kind for r in results.values()]
    assert kind in verdicts and "inherited" in verdicts
    for result in results.values():
        assert "=  =" not in result.diagnosis and not result.diagnosis.endswith("= ")


def _step_of(name: str) -> int:
    """The step a claim belongs to: k for ``@k``, else 1."""
    found = re.search(r"@(\d+)$", name)
    return int(found.group(1)) if found else 1


def test_an_inactive_unit_at_step_2_is_named_and_no_longer_an_empty_arithmetic_slip(tmp_path):
    # the case: h1 is active at step 1 and inactive after it (z1+ <= 0), so g_w1@2 = 0;
    # a learner who takes it as active writes g_w1@2 != 0 (without writing w1+ or b1+)
    mine = planted.worked(RELU, Plant("inactive_unit", 2, 1))
    claims = {"g_w1@2": written(mine["g_w1@2"]), "g_w2@2": written(mine["g_w2@2"])}
    path = tmp_path / "relu.toml"
    path.write_text(spec_text(RELU, claims))
    first, second = cr.check(path)
    assert first.kind == "inactive_unit" and second.kind == "ok", first.diagnosis
    assert re.search(r"at step 2 .*da1/dz1 takes the unit as active, but z1 = -\d", first.diagnosis)


def test_a_slip_at_step_2_names_the_parameters_its_pass_starts_from(tmp_path):
    mine = planted.worked(MOMENTUM, Plant("arithmetic", 2, "b4", 1.37))
    claims = {"E@2": written(mine["E@2"] * 1.1), "g_b4@2": written(mine["g_b4@2"])}
    path = tmp_path / "slip.toml"
    path.write_text(spec_text(MOMENTUM, claims))
    results = {r.name: r for r in cr.check(path)}
    assert results["g_b4@2"].kind == results["E@2"].kind == "arithmetic"
    right = planted.worked(MOMENTUM)
    start = f"w1+ = {right['w1+']:.9g}, w2+ = {right['w2+']:.9g}"
    assert start in results["g_b4@2"].diagnosis
    assert "dE/db4 at the parameters after step 1: the forward and backward" in (
        results["g_b4@2"].diagnosis
    )
    assert "E@2 = E at the parameters after step 2: the forward pass of step 1 with w1@2 = " in (
        results["E@2"].diagnosis
    )


# -- the list is complete --------------------------------------------------------------------


def _documented() -> set[str]:
    """The kinds docs/spec-format.md's "How claims are judged" lists, by their words."""
    text = (ROOT / "docs" / "spec-format.md").read_text()
    section = text.split("## How claims are judged")[1].split("\n## ")[0]
    words = re.findall(r"^- \*\*(.+?)\*\*", section, flags=re.MULTILINE)
    kinds = {w: k for k, w in FAMILIES.items()}
    assert set(words) <= set(kinds), f"no kind in mistakes.FAMILIES for {set(words) - set(kinds)}"
    return {kinds[w] for w in words}


def _literal_kind(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _written_in_code() -> set[str]:
    """The kinds chainrule/explain's code writes out: the first item of every tuple a mistake
    family yields, and every kind a ``ClaimResult`` is made with."""
    kinds = set()
    for path in (ROOT / "chainrule" / "explain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Yield) and isinstance(node.value, ast.Tuple):
                kinds.add(_literal_kind(node.value.elts[0]) if len(node.value.elts) == 3 else None)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "ClaimResult":
                kinds.add(_literal_kind(node.args[4]) if len(node.args) > 4 else None)
    return {k for k in kinds if k} - NOT_MISTAKES


def _parametrized(function) -> list[tuple[list[str], list]]:
    """(argument names, literal rows) of each ``pytest.mark.parametrize`` of ``function``."""
    found = []
    for decorator in function.decorator_list:
        if getattr(getattr(decorator, "func", None), "attr", "") != "parametrize":
            continue
        names = [n.strip() for n in ast.literal_eval(decorator.args[0]).split(",")]
        values = decorator.args[1].elts if isinstance(decorator.args[1], ast.List) else []
        found.append((names, [v.elts if isinstance(v, ast.Tuple) else [v] for v in values]))
    return found


def _covered_by(function) -> set[tuple[str, int]]:
    """The (kind, step) pairs one test covers, by the convention of the module docstring."""
    asserted = {
        k for node in ast.walk(function) if isinstance(node, ast.Assert)
        for k in map(_literal_kind, ast.walk(node)) if k in FAMILIES
    }  # fmt: skip
    pairs = set()
    for names, literal_rows in _parametrized(function):
        for row in (r for r in literal_rows if len(r) == len(names)):
            values = dict(zip(names, row, strict=True))
            kinds = [_literal_kind(values["kind"])] if "kind" in values else asserted
            if "step" in values:
                steps = [ast.literal_eval(values["step"])]
            elif "steps" in values:
                steps = range(1, ast.literal_eval(values["steps"]) + 1)
            else:
                continue
            pairs |= {(k, s) for k in kinds for s in steps}
    named = re.search(r"_at_step_(\d+)$", function.name)
    if named:
        pairs |= {(k, int(named.group(1))) for k in asserted}
    return pairs | _claimed_kinds(function)


def _claimed_kinds(function) -> set[tuple[str, int]]:
    """(kind, step) for each claim's name mapped to a kind by a dict in an ``assert``."""
    pairs = set()
    for node in ast.walk(function):
        dicts = [d for d in ast.walk(node) if isinstance(d, ast.Dict)]
        for d in dicts if isinstance(node, ast.Assert) else ():
            for key, value in zip(d.keys, d.values, strict=True):
                name, kind = _literal_kind(key), _literal_kind(value)
                pairs |= {(kind, _step_of(name))} if name and kind in FAMILIES else set()
    return pairs


def _covered() -> dict[str, set[int]]:
    """Per kind, the steps the tests in tests/test_check_*.py cover it at."""
    covered: dict[str, set[int]] = {}
    for path in (ROOT / "tests").glob("test_check_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for kind, step in _covered_by(node):
                    covered.setdefault(kind, set()).add(step)
    return covered


def test_the_documented_list_the_code_and_the_tests_name_the_same_kinds():
    documented = _documented()
    assert documented == set(FAMILIES), f"not in docs/spec-format.md: {set(FAMILIES) - documented}"
    # the families: one bullet each in mistakes.py's docstring; check's own: its verdicts
    families = set(re.findall(r"^- ``(\w+)``:", mistakes.__doc__, flags=re.MULTILINE))
    assert families | CHECK_OWN == set(FAMILIES), families ^ (set(FAMILIES) - CHECK_OWN)
    written_out = _written_in_code()
    assert CHECK_OWN <= written_out <= set(FAMILIES), written_out - set(FAMILIES)
    covered = _covered()
    for kind in FAMILIES:
        first = FIRST_STEP.get(kind, 1)
        steps = covered.get(kind, set())
        assert first in steps and any(s > first for s in steps), f"{kind}: steps {steps}"
