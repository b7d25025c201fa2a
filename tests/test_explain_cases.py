"""Worked examples of every case a course teaches, against numbers computed independently
(tests/golden/handcalc.py, float64 by hand; cross-checked with torch autograd and torch.optim):
softmax with cross-entropy and with squared error, sigmoid with binary cross-entropy, a batch
(mean and sum), several steps of momentum, Nesterov and Adam."""

from pathlib import Path

import numpy as np
import pytest
from golden import handcalc

import chainrule as cr
from chainrule.explain import Trace, load_spec, parse_spec

EXAMPLES = Path(__file__).parent.parent / "examples"

# examples/softmax_cross_entropy.toml, typed again: W[i, j] from neuron i to neuron j
SOFTMAX_X = np.array([[0.5, -0.3]])
SOFTMAX_T = np.array([[0.0, 1.0, 0.0]])
SOFTMAX_W = [
    np.array([[0.1, -0.2], [0.4, 0.3]]),
    np.array([[0.5, -0.3, 0.2], [0.1, 0.6, -0.4]]),
]
SOFTMAX_B = [np.array([0.0, 0.1]), np.array([0.0, 0.2, -0.1])]
SOFTMAX_NAMES = {  # spec name -> (layer, i, j) in W, or (layer, j) in b
    "w1": (0, 0, 0), "w2": (0, 0, 1), "w3": (0, 1, 0), "w4": (0, 1, 1),
    "w5": (1, 0, 0), "w6": (1, 0, 1), "w7": (1, 0, 2),
    "w8": (1, 1, 0), "w9": (1, 1, 1), "w10": (1, 1, 2),
    "b1": (0, 0), "b2": (0, 1), "b3": (1, 0), "b4": (1, 1), "b5": (1, 2),
}  # fmt: skip


def by_name(grads, names):
    out = {}
    for name, place in names.items():
        dW, db = grads[place[0]]
        out[name] = dW[place[1], place[2]] if len(place) == 3 else db[place[1]]
    return out


def softmax_spec(loss="cross_entropy", claims=""):
    text = (EXAMPLES / "softmax_cross_entropy.toml").read_text().split("\n[claims]\n")[0]
    return parse_spec(text.replace('loss = "cross_entropy"', f'loss = "{loss}"') + claims)


def torch_gradients(X, T, Ws, bs, acts, loss, reduction="mean"):
    torch = pytest.importorskip("torch")
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in Ws + bs]
    A = torch.tensor(X, dtype=torch.float64)
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda z: z,
                 "softmax": lambda z: torch.softmax(z, dim=1)}  # fmt: skip
    for k, f in enumerate(acts):
        A = functions[f](A @ params[k] + params[len(Ws) + k])
    T_ = torch.tensor(T, dtype=torch.float64)
    if loss == "cross_entropy":
        per = -(T_ * torch.log(A)).sum(1)
    elif loss == "binary_cross_entropy":
        per = torch.nn.functional.binary_cross_entropy(A, T_, reduction="none").mean(1)
    else:
        per = 0.5 * ((T_ - A) ** 2).sum(1)
    E = per.mean() if reduction == "mean" else per.sum()
    E.backward()
    n = len(Ws)
    return float(E.detach()), [
        (params[k].grad.numpy(), params[n + k].grad.numpy()) for k in range(n)
    ]


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_softmax_output_against_the_hand_computation_and_torch(loss):
    trace = Trace(softmax_spec(loss))
    acts = ["sigmoid", "softmax"]
    E, grads = handcalc.step(SOFTMAX_X, SOFTMAX_T, SOFTMAX_W, SOFTMAX_B, acts, loss)
    assert trace["E"].value == pytest.approx(E, rel=1e-14)
    A1 = handcalc.act("sigmoid", SOFTMAX_X @ SOFTMAX_W[0] + SOFTMAX_B[0])
    Y = handcalc.act("softmax", A1 @ SOFTMAX_W[1] + SOFTMAX_B[1])[0]
    for j in range(3):  # the Jacobian entries, y_i (delta_ij - y_j)
        for i in range(3):
            expected = Y[i] * ((i == j) - Y[j])
            assert trace[f"dy{i + 1}/dz{j + 3}"].value == pytest.approx(expected, rel=1e-14)
    deltas = [trace[f"dE/dz{j}"].value for j in (3, 4, 5)]
    if loss == "cross_entropy":  # the shortcut y - t
        np.testing.assert_allclose(deltas, Y - SOFTMAX_T[0], rtol=1e-14)
        assert trace["dE/dz4"].simplified == [("s", "y2"), ("o", "-"), ("s", "t2")]
    else:  # no shortcut: the full Jacobian sum of dE/dy = y - t
        J = np.diag(Y) - np.outer(Y, Y)
        np.testing.assert_allclose(deltas, (Y - SOFTMAX_T[0]) @ J, rtol=1e-14)
        assert not trace["dE/dz4"].simplified
    ours = {name: trace[f"dE/d{name}"].value for name in SOFTMAX_NAMES}
    hand = by_name(grads, SOFTMAX_NAMES)
    for name in SOFTMAX_NAMES:
        assert ours[name] == pytest.approx(hand[name], rel=1e-13, abs=1e-16), name
    E_torch, grads_torch = torch_gradients(SOFTMAX_X, SOFTMAX_T, SOFTMAX_W, SOFTMAX_B, acts, loss)
    assert E_torch == pytest.approx(E, rel=1e-14)
    for name, value in by_name(grads_torch, SOFTMAX_NAMES).items():
        assert hand[name] == pytest.approx(value, rel=1e-12, abs=1e-16), name


def test_sigmoid_with_binary_cross_entropy_delta_is_y_minus_t_over_k():
    text = (EXAMPLES / "softmax_cross_entropy.toml").read_text().split("\n[claims]\n")[0]
    text = text.replace('loss = "cross_entropy"', 'loss = "binary_cross_entropy"')
    text = text.replace('activation = "softmax"', 'activation = "sigmoid"')
    text = text.replace("o1 = 0\n", "o1 = 0.2\n")
    trace = Trace(parse_spec(text))
    T = np.array([[0.2, 1.0, 0.0]])
    acts = ["sigmoid", "sigmoid"]
    E, grads = handcalc.step(SOFTMAX_X, T, SOFTMAX_W, SOFTMAX_B, acts, "binary_cross_entropy")
    assert trace["E"].value == pytest.approx(E, rel=1e-14)
    A1 = handcalc.act("sigmoid", SOFTMAX_X @ SOFTMAX_W[0] + SOFTMAX_B[0])
    Y = handcalc.act("sigmoid", A1 @ SOFTMAX_W[1] + SOFTMAX_B[1])[0]
    np.testing.assert_allclose(
        [trace[f"dE/dz{j}"].value for j in (3, 4, 5)], (Y - T[0]) / 3, rtol=1e-13
    )
    hand = by_name(grads, SOFTMAX_NAMES)
    for name in SOFTMAX_NAMES:
        assert trace[f"dE/d{name}"].value == pytest.approx(hand[name], rel=1e-13), name
    E_torch, grads_torch = torch_gradients(SOFTMAX_X, T, SOFTMAX_W, SOFTMAX_B, acts,
                                           "binary_cross_entropy")  # fmt: skip
    assert E_torch == pytest.approx(E, rel=1e-14)
    for name, value in by_name(grads_torch, SOFTMAX_NAMES).items():
        assert hand[name] == pytest.approx(value, rel=1e-12), name
    text_out = cr.explain.explain(parse_spec(text)).render("text")
    assert "the mean over the outputs of -(t log y + (1 - t) log(1 - y))" in text_out
    assert "(1/3)*(y1 - t1)" in text_out and "y*(1 - y) cancels" in text_out


# examples/batch_two_samples.toml, typed again
BATCH_X = np.array([[1.0, 0.0], [0.5, -1.0]])
BATCH_T = np.array([[1.0], [-0.5]])
BATCH_W = [np.array([[0.5, -0.5], [0.3, 0.8]]), np.array([[0.7], [-0.2]])]
BATCH_B = [np.array([0.1, -0.1]), np.array([0.2])]
BATCH_NAMES = {"w1": (0, 0, 0), "w2": (0, 0, 1), "w3": (0, 1, 0), "w4": (0, 1, 1),
               "w5": (1, 0, 0), "w6": (1, 1, 0),
               "b1": (0, 0), "b2": (0, 1), "b3": (1, 0)}  # fmt: skip


def batch_text(reduction="mean", extra=""):
    text = (EXAMPLES / "batch_two_samples.toml").read_text().split("\n[claims]\n")[0]
    return text.replace('reduction = "mean"', f'reduction = "{reduction}"') + extra


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batch_against_the_hand_computation_and_torch(reduction):
    trace = Trace(parse_spec(batch_text(reduction)))
    acts = ["tanh", "identity"]
    E, grads = handcalc.step(BATCH_X, BATCH_T, BATCH_W, BATCH_B, acts, "squared_error", reduction)
    assert trace["E"].value == pytest.approx(E, rel=1e-14)
    hand = by_name(grads, BATCH_NAMES)
    for name in BATCH_NAMES:
        assert trace[f"dE/d{name}"].value == pytest.approx(hand[name], rel=1e-13), name
    for s in (1, 2):  # each sample's own term is that sample's gradient alone
        _, single = handcalc.step(BATCH_X[s - 1 : s], BATCH_T[s - 1 : s], BATCH_W, BATCH_B, acts,
                                  "squared_error")  # fmt: skip
        for name, value in by_name(single, BATCH_NAMES).items():
            assert trace[f"dE/d{name}[{s}]"].value == pytest.approx(value, rel=1e-13, abs=1e-16)
    E_torch, grads_torch = torch_gradients(BATCH_X, BATCH_T, BATCH_W, BATCH_B, acts,
                                           "squared_error", reduction)  # fmt: skip
    assert E_torch == pytest.approx(E, rel=1e-14)
    for name, value in by_name(grads_torch, BATCH_NAMES).items():
        assert hand[name] == pytest.approx(value, rel=1e-12), name
    scale = 0.5 if reduction == "mean" else 1.0
    assert trace["w5+"].value == pytest.approx(0.7 - 0.5 * hand["w5"], rel=1e-14)
    assert trace["dE/dw5"].formula[0] == (("o", "(1/2)*(") if scale == 0.5 else ("s", "dE/dw5[1]"))
    # the engine's steps continue from the same batch
    rows = dict(cr.explain.explain(parse_spec(batch_text(reduction)), steps=1).steps.rows)
    assert rows[0] == pytest.approx(E, rel=1e-14) and rows[1] == pytest.approx(
        trace["E+"].value, rel=1e-13
    )


OPTIMIZERS = {
    "momentum": '\n[optimizer]\nname = "momentum"\nmomentum = 0.9\nsteps = 3\n',
    "nesterov": '\n[optimizer]\nname = "nesterov"\nmomentum = 0.8\nsteps = 3\n',
    "adam": '\n[optimizer]\nname = "adam"\nbeta1 = 0.9\nbeta2 = 0.99\neps = 1e-8\nsteps = 3\n',
}


def _flat_gradient(p):
    """The batch's gradient as a vector in BATCH_NAMES order, by hand."""
    Ws = [BATCH_W[0].copy(), BATCH_W[1].copy()]
    bs = [BATCH_B[0].copy(), BATCH_B[1].copy()]
    for value, place in zip(p, BATCH_NAMES.values(), strict=True):
        if len(place) == 3:
            Ws[place[0]][place[1], place[2]] = value
        else:
            bs[place[0]][place[1]] = value
    _, grads = handcalc.step(BATCH_X, BATCH_T, Ws, bs, ["tanh", "identity"], "squared_error")
    return np.array(list(by_name(grads, BATCH_NAMES).values()))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_steps_written_out_against_the_hand_rules_and_torch_optim(name):
    torch = pytest.importorskip("torch")
    trace = Trace(parse_spec(batch_text(extra=OPTIMIZERS[name])))
    start = np.array([0.5, -0.5, 0.3, 0.8, 0.7, -0.2, 0.1, -0.1, 0.2])
    if name == "adam":
        history = handcalc.adam_steps(start, _flat_gradient, 0.5, 0.9, 0.99, 1e-8, 3)
    else:
        mu = 0.9 if name == "momentum" else 0.8
        history = handcalc.momentum_steps(start, _flat_gradient, 0.5, mu, 3, name == "nesterov")
    names = list(BATCH_NAMES)
    for step, record in enumerate(history, 1):
        after = (lambda p: f"{p}+") if step == 1 else (lambda p, k=step: f"{p}@{k}")
        tag = "" if step == 1 else f"@{step}"
        for index, p in enumerate(names):
            assert trace[after(p)].value == pytest.approx(record[0][index], rel=1e-12, abs=1e-14), (
                p,
                step,
            )
            if name == "adam":
                for symbol, value in zip(("m", "v", "mhat", "vhat"), record[1:], strict=True):
                    assert trace[f"{symbol}_{p}{tag}"].value == pytest.approx(
                        value[index], rel=1e-12
                    )
            else:
                assert trace[f"v_{p}{tag}"].value == pytest.approx(record[1][index], rel=1e-12)
    # torch.optim from the same start on the same batch
    params = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    if name == "adam":
        optimizer = torch.optim.Adam([params], lr=0.5, betas=(0.9, 0.99), eps=1e-8)
    else:
        optimizer = torch.optim.SGD([params], lr=0.5, momentum=mu, nesterov=name == "nesterov")
    for record in history:
        optimizer.zero_grad()
        params.grad = torch.tensor(_flat_gradient(params.detach().numpy().copy()))
        optimizer.step()
        np.testing.assert_allclose(params.detach().numpy(), record[0], rtol=1e-12, atol=1e-14)
    # the engine's own optimizer, through explain --steps, agrees with the written-out steps
    rows = dict(cr.explain.explain(trace.spec, steps=3).steps.rows)
    assert rows[3] == pytest.approx(trace["E@3"].value, rel=1e-12)


def test_the_spec_examples_are_the_cases_above():
    spec = load_spec(EXAMPLES / "softmax_cross_entropy.toml")
    assert spec.layers[-1].activation == "softmax" and spec.loss == "cross_entropy"
    spec = load_spec(EXAMPLES / "batch_two_samples.toml")
    assert spec.n_samples == 2 and spec.reduction == "mean"


@pytest.mark.parametrize(
    "path",
    [
        EXAMPLES / "seed001.toml",
        EXAMPLES / "softmax_cross_entropy.toml",
        EXAMPLES / "batch_two_samples.toml",
        Path(__file__).parent / "golden" / "shared_parameters.toml",
    ],
)
def test_matrix_form_equals_the_worked_numbers(path):
    from chainrule.explain.matrix import matrix_steps

    spec = load_spec(path)
    trace = Trace(spec)
    steps = {step.name: step for step in matrix_steps(spec)}
    assert float(steps["E"].value) == pytest.approx(trace["E"].value, rel=1e-13)
    totals = dict.fromkeys(spec.parameters, 0.0)
    for k in range(1, len(spec.layers) + 1):
        for grads, names in ((steps[f"dW{k}"].value, steps[f"W{k}"].names),
                             (steps[f"db{k}"].value[None], [steps[f"b{k}"].names])):  # fmt: skip
            for i, row in enumerate(names):
                for j, name in enumerate(row):
                    if name is not None:
                        totals[name] += grads[i, j]
    for name, total in totals.items():  # a shared parameter: the sum of its entries
        assert total == pytest.approx(trace[f"dE/d{name}"].value, rel=1e-12, abs=1e-16), name
    for k in range(1, len(spec.layers) + 1):
        for name, value in zip(
            np.ravel(steps[f"W{k}"].names), np.ravel(steps[f"W{k}+"].value), strict=True
        ):
            if name is not None and name + "+" in trace:
                assert value == pytest.approx(trace[name + "+"].value, rel=1e-13), name
    text = cr.explain.explain(spec).render("matrix")
    n = spec.n_samples
    assert f"X ({n}, {len(spec.inputs)}) = " in text
    assert f"dE/dA1 ({n}, {len(spec.layers[0].neurons)}) = Delta2 @ W2^T = " in text


GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("example", ["softmax_cross_entropy", "batch_two_samples"])
@pytest.mark.parametrize("format,suffix", [("text", "txt"), ("markdown", "md"), ("json", "json")])
def test_new_cases_match_their_golden_files(example, format, suffix):
    explanation = cr.explain.explain(parse_spec((EXAMPLES / f"{example}.toml").read_text(),
                                        f"examples/{example}.toml"))  # fmt: skip
    assert explanation.render(format) == (GOLDEN / f"{example}_explain.{suffix}").read_text()


@pytest.mark.parametrize(
    "example,X,T,Ws,bs,acts,loss,names",
    [
        ("softmax_cross_entropy", SOFTMAX_X, SOFTMAX_T, SOFTMAX_W, SOFTMAX_B,
         ["sigmoid", "softmax"], "cross_entropy", SOFTMAX_NAMES),
        ("batch_two_samples", BATCH_X, BATCH_T, BATCH_W, BATCH_B,
         ["tanh", "identity"], "squared_error", BATCH_NAMES),
    ],
)  # fmt: skip
def test_the_golden_files_numbers_are_the_independent_ones(example, X, T, Ws, bs, acts, loss,
                                                           names):  # fmt: skip
    import json

    document = json.loads((GOLDEN / f"{example}_explain.json").read_text())
    values = {q["symbol"]: q["value"] for q in document["quantities"]}
    E, grads = handcalc.step(X, T, Ws, bs, acts, loss)
    assert values["E"] == pytest.approx(E, rel=1e-14)
    for name, value in by_name(grads, names).items():
        assert values[f"dE/d{name}"] == pytest.approx(value, rel=1e-13, abs=1e-16), name
        assert values[f"{name}+"] == pytest.approx(
            values[name] - document_rate(example) * value, rel=1e-13
        )
    text = (GOLDEN / f"{example}_explain.txt").read_text()
    line = next(row for row in text.splitlines() if row.startswith("E = "))
    assert float(line.rsplit("= ", 1)[1]) == pytest.approx(E, rel=1e-8)


def document_rate(example):
    return {"softmax_cross_entropy": 0.1, "batch_two_samples": 0.5}[example]


STARTERS = Path(cr.__file__).parent / "explain" / "starters"


@pytest.mark.parametrize("kind", ["bce", "momentum", "adam"])
@pytest.mark.parametrize("format,suffix", [("text", "txt"), ("markdown", "md"), ("json", "json")])
def test_starters_match_their_golden_files(kind, format, suffix):
    explanation = cr.explain.explain(STARTERS / f"{kind}.toml")
    assert explanation.render(format) == (GOLDEN / f"starter_{kind}_explain.{suffix}").read_text()


def _golden_values(name):
    import json

    document = json.loads((GOLDEN / f"starter_{name}_explain.json").read_text())
    return {q["symbol"]: q["value"] for q in document["quantities"]}


def test_the_bce_starters_golden_numbers_are_the_independent_ones():
    values = _golden_values("bce")
    X, T = np.array([[0.5, -1.0]]), np.array([[1.0]])
    Ws = [np.array([[0.4, -0.3], [0.2, 0.5]]), np.array([[0.6], [-0.7]])]
    bs = [np.array([0.0, 0.0]), np.array([0.2])]
    E, grads = handcalc.step(X, T, Ws, bs, ["tanh", "sigmoid"], "binary_cross_entropy")
    assert values["E"] == pytest.approx(E, rel=1e-14)
    names = BATCH_NAMES  # the same 2-2-1 layout
    for name, value in by_name(grads, names).items():
        assert values[f"dE/d{name}"] == pytest.approx(value, rel=1e-13, abs=1e-16), name
    _, torch_grads = torch_gradients(X, T, Ws, bs, ["tanh", "sigmoid"], "binary_cross_entropy")
    for name, value in by_name(torch_grads, names).items():
        assert values[f"dE/d{name}"] == pytest.approx(value, rel=1e-12, abs=1e-16), name


def _one_neuron_gradient(p):
    """dE/dw and dE/db of y = sigmoid(w*1 + b), E = 1/2 (1 - y)^2, by hand."""
    w, b = p
    y = 1 / (1 + np.exp(-(w + b)))
    delta = (y - 1.0) * y * (1 - y)
    return np.array([delta * 1.0, delta])


@pytest.mark.parametrize("kind", ["momentum", "adam"])
def test_the_optimizer_starters_golden_numbers_are_the_independent_ones(kind):
    values = _golden_values(kind)
    start = np.array([0.5, 0.0])
    if kind == "momentum":
        history = handcalc.momentum_steps(start, _one_neuron_gradient, 0.5, 0.9, 2)
        for step, (_, v) in enumerate(history, 1):
            tag = "" if step == 1 else f"@{step}"
            assert values[f"v_w{tag}"] == pytest.approx(v[0], rel=1e-13)
            assert values[f"v_b{tag}"] == pytest.approx(v[1], rel=1e-13)
    else:
        history = handcalc.adam_steps(start, _one_neuron_gradient, 0.1, 0.9, 0.999, 1e-8, 2)
        for step, (_, m, v, mhat, vhat) in enumerate(history, 1):
            tag = "" if step == 1 else f"@{step}"
            for symbol, array in (("m", m), ("v", v), ("mhat", mhat), ("vhat", vhat)):
                assert values[f"{symbol}_w{tag}"] == pytest.approx(array[0], rel=1e-13)
    assert values["w+"] == pytest.approx(history[0][0][0], rel=1e-13)
    assert values["w@2"] == pytest.approx(history[1][0][0], rel=1e-13)
    assert values["b@2"] == pytest.approx(history[1][0][1], rel=1e-12, abs=1e-15)
