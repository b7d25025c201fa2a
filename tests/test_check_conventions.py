"""Momentum and Nesterov written in other conventions, and the blame order (issue 26).

A learner may write momentum in the classic convention (v = mu*v - g, w+ = w + eta*v) or with
the rate inside (v = mu*v - eta*g, w+ = w + v), Nesterov in Keras's convention, by the look-ahead
form of Sutskever et al., or as plain momentum: ``check`` names the convention and says whether
the learner's update goes with their velocity. An update that moves with the gradient is the
update's own mistake, not a sign flipped upstream where the learner's numbers show it was
right; two mistakes on different paths each get their own diagnosis.

The learner's numbers come from tests/golden/conventions.py (float64 by hand, no chainrule
code) on two networks of this file's own, written as a student writes them (4 or 6 significant
digits) into a spec in tmp_path.
"""

import numpy as np
import pytest
from golden import conventions as golden

import chainrule as cr

# 2-2-1, tanh hidden, sigmoid output: the momentum and Nesterov sheets
NET_M = golden.Net(
    x=(0.6, -0.2),
    t=(0.9,),
    W1=((0.4, -0.3), (0.7, 0.5)),
    W2=((0.6,), (-0.8,)),
    b1=(0.1, -0.2),
    b2=(0.05,),
    hidden="tanh",
    output="sigmoid",
)
# 2-2-2, sigmoid hidden, tanh outputs: the gradient-descent sheets (a hidden neuron, two paths)
NET_S = golden.Net(
    x=(1.0, -0.5),
    t=(0.3, -0.6),
    W1=((0.2, -0.4), (0.5, 0.3)),
    W2=((0.7, -0.2), (-0.5, 0.6)),
    b1=(0.1, 0.0),
    b2=(-0.1, 0.2),
    hidden="sigmoid",
    output="tanh",
)
LR, MU = 0.4, 0.8
ASKS_MOMENTUM = "the spec asks for torch's v = mu*v + g, w+ = w - eta*v"
ASKS_NESTEROV = "the spec asks for torch's v = mu*v + g, w+ = w - eta*(g + mu*v)"


def spec_text(net: golden.Net, optimizer: str, steps: int) -> str:
    """``net`` as a spec file: inputs x1.., hidden h1.. (z1.., a1..), outputs o1.. (net inputs
    numbered on, outputs y1.., targets t1..), the parameters named as ``net.names``."""
    (n_in, n_hidden), (_, n_out) = net.shapes
    hidden = [f'{{ name = "h{j}", net = "z{j}", out = "a{j}" }}' for j in range(1, n_hidden + 1)]
    outputs = [
        f'{{ name = "o{k}", net = "z{n_hidden + k}", out = "y{k}", target = "t{k}" }}'
        for k in range(1, n_out + 1)
    ]
    edges = [(f"x{i}", f"h{j}") for i in range(1, n_in + 1) for j in range(1, n_hidden + 1)]
    edges += [(f"h{j}", f"o{k}") for j in range(1, n_hidden + 1) for k in range(1, n_out + 1)]
    ends = [f"h{j}" for j in range(1, n_hidden + 1)] + [f"o{k}" for k in range(1, n_out + 1)]
    values = dict(zip(net.names, net.start, strict=True))
    lines = [
        'title = "a learner\'s sheet"',
        'loss = "squared_error"',
        f"learning_rate = {LR}",
        f'[optimizer]\nname = "{optimizer}"\nsteps = {steps}',
        f"momentum = {MU}" if optimizer != "sgd" else "",
        "[inputs]",
        *(f"x{i} = {v}" for i, v in enumerate(net.x, 1)),
        f'[[layers]]\nname = "hidden"\nactivation = "{net.hidden}"',
        f"neurons = [{', '.join(hidden)}]",
        f'[[layers]]\nname = "output"\nactivation = "{net.output}"',
        f"neurons = [{', '.join(outputs)}]",
        "[targets]",
        *(f"o{k} = {v}" for k, v in enumerate(net.t, 1)),
        "[weights]",
        *(
            f'w{n} = {{ from = "{a}", to = "{b}", value = {values[f"w{n}"]} }}'
            for n, (a, b) in enumerate(edges, 1)
        ),
        "[biases]",
        *(f'b{n} = {{ to = "{b}", value = {values[f"b{n}"]} }}' for n, b in enumerate(ends, 1)),
    ]
    return "\n".join(lines) + "\n"


def check(tmp_path, net, optimizer, steps, claims: dict) -> dict:
    """The verdicts on ``claims`` (name: value, written as given or to 4 significant digits)."""
    written = "".join(
        f'"{n}" = "{v if isinstance(v, str) else f"{v:.4g}"}"\n' for n, v in claims.items()
    )
    path = tmp_path / "sheet.toml"
    path.write_text(spec_text(net, optimizer, steps) + "\n[claims]\n" + written)
    return {r.name: r for r in cr.check(path)}


def kinds(results: dict) -> dict:
    return {name: r.kind for name, r in results.items()}


def by_name(net, vector) -> dict:
    return dict(zip(net.names, vector, strict=True))


def error_at(net, parameters: dict) -> float:
    return golden.backprop(net, np.array([parameters[n] for n in net.names]))["E"]


def history(rule, net=NET_M, steps=2):
    """Per step: the gradients, velocities and parameters of ``rule``, each by name."""
    runs = golden.run(rule, net.start, golden.gradient_of(net), LR, MU, steps)
    return [{key: by_name(net, value) for key, value in step.items()} for step in runs]


def sheet(rule, steps, digits=6):
    """A learner's ``steps`` steps of ``rule``: step 1 for every parameter (its velocity and
    update) to 6 digits, the error after it, then w5's step 2: its gradient to 6 digits, its
    velocity and update to ``digits``. (At 4, plain momentum's w5@2 and the look-ahead form's
    differ by less than the last digit; at 6, a mistake recognised on the learner's own numbers
    may lie beyond the last digit of a step-2 number, the rounding of the 6-digit parameters
    carried through the gradient at them.)"""
    one, two = history(rule)
    claims = {"dE/dw5": one["g"]["w5"]}
    claims |= {f"v_{p}": f"{one['v'][p]:.6g}" for p in NET_M.names}
    claims |= {f"{p}+": f"{one['p'][p]:.6g}" for p in NET_M.names}
    claims |= {"E+": error_at(NET_M, one["p"])}
    if steps == 1:
        return claims
    claims["g_w5@2"] = f"{two['g']['w5']:.6g}"
    return claims | {n: f"{two[k]['w5']:.{digits}g}" for n, k in (("v_w5@2", "v"), ("w5@2", "p"))}


def sheet_kinds(steps, velocity, update, error, gradient_2, velocity_2, update_2) -> dict:
    """The verdicts expected on :func:`sheet`'s claims: ``velocity`` on every step-1 velocity,
    ``update`` on every step-1 update, ``error`` on E+, then those of w5's step 2."""
    expected = {"dE/dw5": "ok"}
    expected |= {f"v_{p}": velocity for p in NET_M.names}
    expected |= {f"{p}+": update for p in NET_M.names}
    expected["E+"] = error
    if steps == 2:
        expected |= {"g_w5@2": gradient_2, "v_w5@2": velocity_2, "w5@2": update_2}
    return expected


def pairs(steps):
    """w5's (velocity, update) at each of ``steps`` steps."""
    return [("v_w5", "w5+"), ("v_w5@2", "w5@2")][:steps]


# -- the golden rules themselves ---------------------------------------------------------------


def test_the_golden_torch_rules_are_torch_optim_sgd():
    torch = pytest.importorskip("torch")
    gradient = golden.gradient_of(NET_M)
    for rule, nesterov in ((golden.torch_momentum, False), (golden.torch_nesterov, True)):
        runs = golden.run(rule, NET_M.start, gradient, LR, MU, 3)
        params = torch.tensor(NET_M.start, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([params], lr=LR, momentum=MU, nesterov=nesterov)
        for step in runs:
            params.grad = torch.tensor(gradient(params.detach().numpy().copy()))
            optimizer.step()
            np.testing.assert_allclose(params.detach().numpy(), step["p"], rtol=1e-13)


def test_the_other_conventions_are_the_same_method():
    """Classic and Keras give torch's parameters, their velocities torch's times -1 or -eta; the
    look-ahead point p + mu v is torch's Nesterov parameter; and explain's numbers are torch's."""
    torch_m, torch_n = (
        history(golden.torch_momentum, steps=3),
        history(golden.torch_nesterov, steps=3),
    )
    for rule, reference, scale in (
        (golden.classic, torch_m, -1.0),
        (golden.classic_rate, torch_m, -LR),
        (golden.keras, torch_n, -LR),
    ):
        for step, torch_step in zip(history(rule, steps=3), reference, strict=True):
            for name in NET_M.names:
                assert step["p"][name] == pytest.approx(torch_step["p"][name], rel=1e-12)
                assert step["v"][name] == pytest.approx(scale * torch_step["v"][name], rel=1e-12)
    for step, torch_step in zip(history(golden.lookahead, steps=3), torch_n, strict=True):
        for name in NET_M.names:
            point = step["p"][name] + MU * step["v"][name]
            assert point == pytest.approx(torch_step["p"][name], rel=1e-12, abs=1e-15)
    trace = cr.explain.explain(cr.explain.parse_spec(spec_text(NET_M, "nesterov", 2))).trace
    assert trace["v_w5@2"].value == pytest.approx(torch_n[1]["v"]["w5"], rel=1e-12)
    assert trace["w5@2"].value == pytest.approx(torch_n[1]["p"]["w5"], rel=1e-12)


# -- 1. momentum in the classic convention ----------------------------------------------------


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize(
    "rule, words",
    [
        (golden.classic, "the classic convention, v = mu*v - g (then w+ = w + eta*v)"),
        (golden.classic_rate, "eta inside the velocity, v = mu*v - eta*g (then w+ = w + v)"),
    ],
    ids=["classic", "eta_inside"],
)
def test_a_classic_velocity_with_its_own_update_is_named_and_consistent(
    tmp_path, rule, words, steps
):
    results = check(tmp_path, NET_M, "momentum", steps, sheet(rule, steps))
    assert kinds(results) == sheet_kinds(
        steps, "momentum_convention", "ok", "ok", "ok", "momentum_convention", "ok"
    )
    for velocity, update in pairs(steps):
        diagnosis = results[velocity].diagnosis
        assert words in diagnosis and ASKS_MOMENTUM in diagnosis, diagnosis
        assert f"consistent with your update {update}, but the spec asks" in diagnosis


@pytest.mark.parametrize("steps", [1, 2])
def test_a_classic_velocity_without_its_update_is_named_alone(tmp_path, steps):
    claims = {v: value for v, value in sheet(golden.classic, steps).items() if v.startswith("v_w5")}
    results = check(tmp_path, NET_M, "momentum", steps, claims)
    assert set(kinds(results).values()) == {"momentum_convention"}
    assert not any("consistent" in r.diagnosis for r in results.values())
    formula = "v_w5 = -dE/dw5" if steps == 1 else "v_w5@2 = mu*v_w5 - g_w5@2"
    assert f"{formula}: the classic convention" in results[pairs(steps)[-1][0]].diagnosis


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize(
    "optimizer,rule,kind,follows",
    [
        (
            "momentum",
            "classic_mixed",
            "momentum_convention",
            "the classic convention (v = mu*v - g)",
        ),
        ("nesterov", "keras_mixed", "nesterov_convention", "Keras's convention (v = mu*v - eta*g)"),
    ],
    ids=["classic-momentum", "keras-nesterov"],
)
def test_torchs_update_on_a_velocity_of_another_convention_subtracts_it(
    tmp_path, steps, optimizer, rule, kind, follows
):
    # the learner writes every parameter's velocity (another convention) and update (torch's
    # rule on it), then carries their parameters into step 2
    results = check(tmp_path, NET_M, optimizer, steps, sheet(getattr(golden, rule), steps, 4))
    assert kinds(results) == sheet_kinds(steps, kind, kind, "inherited", "inherited", kind, kind)
    assert not any("consistent" in r.diagnosis for r in results.values())
    for velocity, update in pairs(steps):
        diagnosis = results[update].diagnosis
        assert f"{update} subtracts a velocity written in the other convention" in diagnosis
        assert f"your {velocity} follows {follows}" in diagnosis


@pytest.mark.parametrize("steps", [1, 2])
def test_keras_nesterov_is_named_and_consistent_with_its_update(tmp_path, steps):
    results = check(tmp_path, NET_M, "nesterov", steps, sheet(golden.keras, steps))
    assert kinds(results) == sheet_kinds(
        steps, "nesterov_convention", "ok", "ok", "ok", "nesterov_convention", "ok"
    )
    for velocity, update in pairs(steps):
        diagnosis = results[velocity].diagnosis
        assert "Keras's convention, v = mu*v - eta*g (then w+ = w + mu*v - eta*g" in diagnosis
        assert f"consistent with your update {update}, but {ASKS_NESTEROV}" in diagnosis


LOOK_AHEAD = "the look-ahead form of Sutskever et al."


@pytest.mark.parametrize("steps", [1, 2])
def test_the_look_ahead_form_of_nesterov_is_named_at_each_step(tmp_path, steps):
    # Sutskever et al.: v = mu*v - eta*grad(w + mu*v), w+ = w + v. Its first step is the plain
    # step; its gradient at step 2 is taken at w+ + mu*v, which is torch's w+: it holds
    results = check(tmp_path, NET_M, "nesterov", steps, sheet(golden.lookahead, steps))
    assert kinds(results) == sheet_kinds(
        steps,
        "nesterov_convention",
        "nesterov_convention",
        "inherited",
        "ok",
        "nesterov_convention",
        "nesterov_convention",
    )
    for p in NET_M.names:
        assert f"consistent with your update {p}+ by {LOOK_AHEAD} (w+ = w + v)" in (
            results[f"v_{p}"].diagnosis
        )
        diagnosis = results[f"{p}+"].diagnosis
        assert "is the plain step w - eta*g" in diagnosis
        assert f"the first step of {LOOK_AHEAD}" in diagnosis
    if steps == 2:
        assert f"w5@2 follows {LOOK_AHEAD}" in results["w5@2"].diagnosis
        assert "torch's Nesterov v = mu*v + g" in results["w5@2"].diagnosis
        assert f"consistent with your update w5@2 by {LOOK_AHEAD}" in results["v_w5@2"].diagnosis


@pytest.mark.parametrize("steps", [1, 2])
def test_plain_momentum_where_nesterov_is_asked(tmp_path, steps):
    results = check(tmp_path, NET_M, "nesterov", steps, sheet(golden.torch_momentum, steps))
    assert kinds(results) == sheet_kinds(
        steps,
        "ok",
        "nesterov_convention",
        "inherited",
        "inherited",
        "inherited",
        "nesterov_convention",
    )
    for p in NET_M.names:
        assert "plain momentum's update" in results[f"{p}+"].diagnosis
    if steps == 2:
        diagnosis = results["w5@2"].diagnosis
        assert "w5@2 = w5+ - eta*v_w5@2 is plain momentum's update" in diagnosis
        assert "look-ahead" not in diagnosis


# -- 3. an update moving with the gradient is the update's own mistake -------------------------


def moved_with_the_gradient(steps):
    """The learner's gradient descent on NET_S with w1's update at the last step moving with
    the gradient."""
    return golden.sgd_sheet(NET_S, LR, steps, plants=[(steps, "w1", "sign")])


@pytest.mark.parametrize(
    "written",
    [
        ("dE/dy1", "dE/dy2", "dE/dw1"),  # dE/dy and dE/dw right
        ("dE/dw1",),  # dE/dy not written, dE/dw is
        ("dE/dy1", "dE/dy2"),  # dE/dw not written
        ("dE/dw6",),  # another gradient from dE/dy2, right
        (),  # nothing before it
    ],
    ids=["dy_and_dw", "dw", "dy", "a_sibling", "nothing"],
)
def test_an_update_moving_with_the_gradient_is_its_own_mistake_at_step_1(tmp_path, written):
    ((numbers, after),) = moved_with_the_gradient(1)
    claims = {n: numbers[n] for n in written} | {"w1+": after[0]}
    results = check(tmp_path, NET_S, "sgd", 1, claims)
    assert kinds(results) == dict.fromkeys(written, "ok") | {"w1+": "sign"}
    assert "Most likely w1+ moves with the gradient" in results["w1+"].diagnosis


@pytest.mark.parametrize("gradient_written", [True, False])
def test_an_update_moving_with_the_gradient_is_its_own_mistake_at_step_2(
    tmp_path, gradient_written
):
    (numbers, after), (numbers2, after2) = moved_with_the_gradient(2)
    claims = {"dE/dy1": numbers["dE/dy1"], "dE/dw1": numbers["dE/dw1"], "w1+": after[0]}
    if gradient_written:
        claims["g_w1@2"] = numbers2["dE/dw1"]
    claims["w1@2"] = after2[0]
    results = check(tmp_path, NET_S, "sgd", 2, claims)
    assert kinds(results) == dict.fromkeys(claims, "ok") | {"w1@2": "sign"}
    assert "Most likely w1@2 moves with the gradient" in results["w1@2"].diagnosis


def test_a_right_gradient_rules_out_a_flip_in_the_delta_it_shares_at_step_1(tmp_path):
    # dE/dw1 and dE/dw3 share dE/da1 and dE/dz1: the right dE/dw1 shows they were right, so a
    # dE/dw3 with the wrong sign is not blamed on them (it was, the first flip upstream)
    numbers = golden.backprop(NET_S, NET_S.start)
    claims = {"dE/dw1": numbers["dE/dw1"], "dE/dw3": -numbers["dE/dw3"]}
    results = check(tmp_path, NET_S, "sgd", 1, claims)
    assert kinds(results) == {"dE/dw1": "ok", "dE/dw3": "sign"}
    assert "Most likely dz1/dw3 has the right size but the wrong sign" in (
        results["dE/dw3"].diagnosis
    )


# -- 4. two independent mistakes on one sheet -------------------------------------------------


def test_a_dropped_path_and_a_forgotten_rate_on_different_paths_at_step_1(tmp_path):
    # h1's dE/da1 leaves out the path via o2; the output weight w8 (h2 -> o2) forgets eta
    ((numbers, after),) = golden.sgd_sheet(NET_S, LR, 1, drop=(1, 2), plants=[(1, "w8", "rate")])
    p = by_name(NET_S, after)
    claims = {
        "dE/dy2": numbers["dE/dy2"],
        "dE/da1": numbers["dE/da1"],
        "dE/dw1": numbers["dE/dw1"],
        "dE/dw8": numbers["dE/dw8"],
        "w1+": p["w1"],
        "w8+": p["w8"],
        "E+": error_at(NET_S, p),
    }
    results = check(tmp_path, NET_S, "sgd", 1, claims)
    assert kinds(results) == {
        "dE/dy2": "ok",
        "dE/da1": "dropped_path",
        "dE/dw1": "inherited",
        "dE/dw8": "ok",
        "w1+": "inherited",
        "w8+": "rate_forgotten",
        "E+": "inherited",
    }
    assert "leaves out the path(s) via o2 (w6)" in results["dE/da1"].diagnosis
    assert "w8+ leaves out the learning rate" in results["w8+"].diagnosis
    assert "your own w1+, w8+, which are wrong" in results["E+"].diagnosis


@pytest.mark.parametrize(
    "drop, plants, first, mistakes",
    [
        # the dropped path at step 1, carried on; w8 forgets eta at step 2
        ((1, 2), [(2, "w8", "rate")], "inherited", {"w8@2": "rate_forgotten"}),
        # both at step 2: w1 moves with the gradient, w8 forgets eta
        (
            None,
            [(2, "w1", "sign"), (2, "w8", "rate")],
            "ok",
            {"w1@2": "sign", "w8@2": "rate_forgotten"},
        ),
    ],
)
def test_two_mistakes_on_different_paths_at_step_2(tmp_path, drop, plants, first, mistakes):
    (numbers, after), (numbers2, after2) = golden.sgd_sheet(NET_S, LR, 2, drop, plants)
    p, p2 = by_name(NET_S, after), by_name(NET_S, after2)
    claims = {
        "dE/dw8": numbers["dE/dw8"],
        "w1+": f"{p['w1']:.6g}",
        "w8+": f"{p['w8']:.6g}",
        "g_w1@2": numbers2["dE/dw1"],
        "g_w8@2": numbers2["dE/dw8"],
        "w1@2": p2["w1"],
        "w8@2": p2["w8"],
    }
    if drop:
        claims = {"dE/da1": numbers["dE/da1"]} | claims
    results = check(tmp_path, NET_S, "sgd", 2, claims)
    expected = dict.fromkeys(claims, first) | {"dE/dw8": "ok", "w8+": "ok"}
    if drop:
        expected |= {"dE/da1": "dropped_path", "g_w1@2": "inherited", "w1@2": "inherited"}
    assert kinds(results) == expected | mistakes
