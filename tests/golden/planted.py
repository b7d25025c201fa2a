"""A learner's worked exercise with one planted mistake, carried forward: every number the
learner writes, computed independently in float64 (it shares no code with chainrule; it builds
on tests/golden/handcalc.py's activations).

An :class:`Exercise` is a small network worked for ``steps`` optimizer steps: ``X`` (samples x
inputs), ``T`` (samples x outputs), per layer ``W`` (n_in x n_out), ``b`` and an activation;
the loss ``squared_error`` (E_o = 1/2 (t - y)^2) or ``huber`` (E_o = h(y - t)/K, h(r) = r^2/2
for |r| <= delta, else delta (|r| - delta/2)); the samples' errors and gradients combined by
``reduction``; the optimizer ``sgd`` (w+ = w - eta g), ``momentum`` (v = g, then v = mu v + g;
w+ = w - eta v) or ``adam`` (m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2 from 0,
mhat = m/(1 - b1^t), vhat = v/(1 - b2^t), w+ = w - eta mhat/(sqrt(vhat) + eps)).

Names are those of the spec the tests write: the neurons of the layers are numbered 1.. through
the network; a hidden neuron k is ``h<k>`` with net input ``z<k>`` and output ``a<k>``, output
j of K is ``o<j>`` with net input ``z<H + j>``, output ``y<j>`` and target ``t<j>``; the inputs
``x<i>``; weights ``w1..`` layer by layer, row by row (from-neuron outer, to-neuron inner);
biases ``b1..`` neuron by neuron. In a batch every per-sample quantity carries ``[s]``. Step 1
writes every quantity (``z1``, ``da1/dz1``, ``dE/da1``, ``dE/dw1``, ``v_w1``, ``w1+``, ``E+``,
``ΔE``),
step k >= 2 its gradients ``g_w1@k``, the optimizer's buffers, ``w1@k`` and ``E@k``.

A :class:`Plant` is the learner's one mistake, made at one step; everything after it is
computed from the learner's own numbers (carried forward), and a given copied wrong stays wrong.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from golden import handcalc


@dataclass(frozen=True)
class Exercise:
    X: np.ndarray
    T: np.ndarray
    Ws: list
    bs: list
    acts: list
    loss: str = "squared_error"
    delta: float = 1.0  # huber's
    slope: float = 0.01  # leaky_relu's
    lr: float = 0.5
    reduction: str = "mean"
    optimizer: str = "sgd"
    mu: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    steps: int = 1


@dataclass(frozen=True)
class Plant:
    """The learner's mistake ``kind`` (a kind of chainrule's ``check``) at step ``step``, made
    ``at`` a neuron (its number) or a name (a parameter, an input, ``mu``); ``value`` is the
    number a given is copied as, or the factor of an arithmetic slip; ``dropped`` the neurons
    whose paths a path sum leaves out. ``sign`` at a neuron flips its ``dE/dy`` (t - y for
    y - t), at a parameter its update (w + eta g); ``factor_two`` at no name doubles E, at a
    parameter its gradient."""

    kind: str = ""
    step: int = 1
    at: object = None
    value: float = 0.0
    dropped: tuple = ()

    def here(self, kind: str, at=None) -> bool:
        return self.kind == kind and (at is None or self.at == at)


NONE = Plant()


@dataclass
class Layout:
    """Names of the network's quantities, layer by layer."""

    nets: list = field(default_factory=list)  # per layer, its neurons' net-input names
    outs: list = field(default_factory=list)  # per layer, its neurons' output names
    numbers: list = field(default_factory=list)  # per layer, its neurons' numbers
    params: dict = field(default_factory=dict)  # name -> (layer, i, j) or (layer, j)


def layout(ex: Exercise) -> Layout:
    """The names of the module docstring."""
    out, k, w, b = Layout(), 0, 0, 0
    hidden = sum(W.shape[1] for W in ex.Ws[:-1])
    for layer, W in enumerate(ex.Ws):
        numbers = list(range(k + 1, k + W.shape[1] + 1))
        k += W.shape[1]
        last = layer == len(ex.Ws) - 1
        out.numbers.append(numbers)
        out.nets.append([f"z{n}" for n in numbers])
        out.outs.append([f"y{n - hidden}" if last else f"a{n}" for n in numbers])
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                w += 1
                out.params[f"w{w}"] = (layer, i, j)
    for layer, W in enumerate(ex.Ws):
        for j in range(W.shape[1]):
            b += 1
            out.params[f"b{b}"] = (layer, j)
    return out


def _tag(name: str, s: int, n: int) -> str:
    return f"{name}[{s + 1}]" if n > 1 else name


def activation(name: str, z, slope: float):
    return np.where(z > 0, z, slope * z) if name == "leaky_relu" else handcalc.act(name, z)


def derivative(name: str, z, a, slope: float):
    """da/dz, elementwise: relu'(0) = 0, leaky_relu'(z <= 0) = slope."""
    table = {
        "sigmoid": lambda: a * (1 - a),
        "tanh": lambda: 1 - a**2,
        "relu": lambda: (z > 0) * 1.0,
        "leaky_relu": lambda: np.where(z > 0, 1.0, slope),
        "identity": lambda: np.ones_like(z),
    }
    return table[name]()


# the derivative a learner takes where the plant says: (f, z, a, correct, slope) -> theirs
_WRONG_DERIVATIVES = {
    "derivative_at_net": lambda f, z, a, d, slope: z * (1 - z) if f == "sigmoid" else 1 - z**2,
    "inactive_unit": lambda f, z, a, d, slope: np.where(z <= 0, 1.0, d),
    "relu_for_leaky": lambda f, z, a, d, slope: np.where(z <= 0, 0.0, d),
    "missing_derivative": lambda f, z, a, d, slope: np.ones_like(d),
}


def _huber(r, delta: float, swapped: bool):
    """h(r) and h'(r) elementwise, each branch where |r| asks for it, or (``swapped``, the
    planted mistake) each where it does not."""
    inside = (np.abs(r) <= delta) != swapped
    value = np.where(inside, r * r / 2, delta * (np.abs(r) - delta / 2))
    return value, np.where(inside, r, delta * np.sign(r))


def loss(ex: Exercise, Y, T, plant: Plant):
    """Per output and sample: E_o and dE/dy (of the sample's error)."""
    K = Y.shape[1]
    if ex.loss == "huber":
        value, grad = _huber(Y - T, ex.delta, plant.here("huber_branch"))
        E_o, G = value / K, grad / K
    else:
        E_o, G = 0.5 * (T - Y) ** 2, Y - T
    if plant.here("factor_two") and plant.at is None:
        E_o = 2 * E_o
    return E_o, G


def _matrices(ex: Exercise, names: Layout, params: dict):
    Ws = [np.zeros_like(W, dtype=float) for W in ex.Ws]
    bs = [np.zeros_like(b, dtype=float) for b in ex.bs]
    for name, place in names.params.items():
        if len(place) == 3:
            Ws[place[0]][place[1], place[2]] = params[name]
        else:
            bs[place[0]][place[1]] = params[name]
    return Ws, bs


def forward(ex: Exercise, X, Ws, bs):
    Zs, As = [], [X]
    for W, b, f in zip(Ws, bs, ex.acts, strict=True):
        Zs.append(As[-1] @ W + b)
        As.append(activation(f, Zs[-1], ex.slope))
    return Zs, As


def _combine(ex: Exercise, per_sample, plant: Plant):
    """The samples' values combined by the reduction (by the other one where planted)."""
    mean = (ex.reduction == "mean") != plant.here("batch_reduction")
    return per_sample.mean(0) if mean else per_sample.sum(0)


def _name_rows(numbers: dict, names: list, values, n: int) -> None:
    for s in range(n):
        for name, value in zip(names, values[s], strict=True):
            numbers[_tag(name, s, n)] = float(value)


def errors(ex: Exercise, X, T, params: dict, plant: Plant) -> dict:
    """The forward pass and the error: ``z``, ``a``/``y``, ``E_o``, ``E[s]`` and ``E``."""
    names, n = layout(ex), len(X)
    Zs, As = forward(ex, X, *_matrices(ex, names, params))
    E_o, _ = loss(ex, As[-1], T, plant)
    numbers = {}
    for layer in range(len(Zs)):
        _name_rows(numbers, names.nets[layer], Zs[layer], n)
        _name_rows(numbers, names.outs[layer], As[layer + 1], n)
    _name_rows(numbers, [f"E_o{j + 1}" for j in range(T.shape[1])], E_o, n)
    if n > 1:
        _name_rows(numbers, ["E"], E_o.sum(1, keepdims=True), n)
    numbers["E"] = float(_combine(ex, E_o.sum(1), plant))
    return numbers


def _delta(ex, layer, grad, Z, A, plant: Plant, names: Layout, numbers: dict):
    """dE/dz of a layer from dE/d(its outputs), with the planted derivative or softmax
    delta; names the derivatives."""
    n, f = len(Z), ex.acts[layer]
    if f == "softmax":  # dE/dz_j = sum_i dE/dy_i y_i (delta_ij - y_j)
        delta = handcalc.act_grad("softmax", Z, A, grad)
        for c, number in enumerate(names.numbers[layer]):
            if plant.here("softmax_diagonal", number):
                delta[:, c] = grad[:, c] * A[:, c] * (1 - A[:, c])
        return delta
    D = derivative(f, Z, A, ex.slope)
    for c, number in enumerate(names.numbers[layer]):
        wrong = _WRONG_DERIVATIVES.get(plant.kind)
        if wrong and plant.at == number:
            D[:, c] = wrong(f, Z[:, c], A[:, c], D[:, c], ex.slope)
    pairs = zip(names.outs[layer], names.nets[layer], strict=True)
    _name_rows(numbers, [f"d{o}/d{z}" for o, z in pairs], D, n)
    return grad * D


def _path_sums(delta, W, W_after, layer_numbers, next_numbers, plant: Plant):
    """dE/da of a layer's neurons: the sum over the next layer's deltas times the weights,
    with a path left out or the updated weights where planted."""
    P = delta @ W.T
    for c, number in enumerate(layer_numbers):
        if plant.here("dropped_path", number):
            kept = [j for j, m in enumerate(next_numbers) if m not in plant.dropped]
            P[:, c] = delta[:, kept] @ W[c, kept]
        if plant.here("updated_weight", number):
            P[:, c] = delta @ W_after[c]
    return P


def backprop(ex: Exercise, X, T, params: dict, plant: Plant, after=None) -> dict:
    """Step 1's forward and backward pass at ``params``: every named number and the
    gradients ``dE/dp``. ``after``: the parameters after this step (for ``updated_weight``)."""
    names, n = layout(ex), len(X)
    Ws, bs = _matrices(ex, names, params)
    W_after = _matrices(ex, names, after)[0] if after else Ws
    Zs, As = forward(ex, X, Ws, bs)
    numbers = errors(ex, X, T, params, plant)
    _, grad = loss(ex, As[-1], T, plant)
    for c, number in enumerate(names.numbers[-1]):
        if plant.here("sign", number):
            grad[:, c] = -grad[:, c]
    grads = [None] * len(Ws)
    for layer in range(len(Ws) - 1, -1, -1):
        grad_names = [f"dE/d{o}" for o in names.outs[layer]]
        _name_rows(numbers, grad_names, grad, n)
        delta = _delta(ex, layer, grad, Zs[layer], As[layer + 1], plant, names, numbers)
        _name_rows(numbers, [f"dE/d{z}" for z in names.nets[layer]], delta, n)
        grads[layer] = (np.einsum("si,sj->sij", As[layer], delta), delta)
        if layer:
            numbers_before = names.numbers[layer - 1]
            grad = _path_sums(delta, Ws[layer], W_after[layer], numbers_before,
                              names.numbers[layer], plant)  # fmt: skip
    for name, place in names.params.items():
        dW, db = grads[place[0]]
        per_sample = dW[:, place[1], place[2]] if len(place) == 3 else db[:, place[1]]
        if n > 1:
            _name_rows(numbers, [f"dE/d{name}"], per_sample[:, None], n)
        numbers[f"dE/d{name}"] = _gradient(ex, name, per_sample, plant)
    return numbers


def _gradient(ex: Exercise, name: str, per_sample, plant: Plant) -> float:
    """dE/dp from the samples' gradients, doubled or slipped where planted."""
    value = float(_combine(ex, per_sample, plant))
    if plant.here("factor_two", name):
        value *= 2
    if plant.here("arithmetic", name):
        value *= plant.value
    return value


def _suffix(step: int) -> str:
    return "" if step == 1 else f"@{step}"


def update(ex: Exercise, params: dict, grads: dict, state: dict, step: int, plant: Plant):
    """One optimizer step: the parameters after it, the buffers, and the named numbers
    (``v_w1``, ``m_w1``, ``mhat_w1`` ..., ``w1+`` at step 1, ``...@k`` at step k)."""
    new, buffers, numbers = {}, {}, {}
    at = _suffix(step)
    for p, value in params.items():
        g, eta = grads[p], 1.0 if plant.here("rate_forgotten", p) else ex.lr
        move, named = _move(ex, g, state.get(p), step, plant, p)
        buffers[p] = named
        numbers.update({f"{key}_{p}{at}": v for key, v in named.items()})
        sign = -1.0 if plant.here("sign", p) else 1.0
        new[p] = value - sign * eta * move
        numbers[p + "+" if step == 1 else f"{p}@{step}"] = new[p]
    return new, buffers, numbers


def _move(ex: Exercise, g: float, previous, step: int, plant: Plant, p: str):
    """What the optimizer multiplies by eta, and its buffers by name (``v``; ``m``, ``v``,
    ``mhat``, ``vhat``)."""
    if ex.optimizer == "sgd":
        return g, {}
    if ex.optimizer == "momentum":
        minus = plant.here("momentum_sign", p)
        v = g if step == 1 else (g - ex.mu * previous["v"] if minus else ex.mu * previous["v"] + g)
        return v, {"v": v}
    m0, v0 = (previous["m"], previous["v"]) if previous else (0.0, 0.0)
    m = ex.beta1 * m0 + (1 - ex.beta1) * g
    v = ex.beta2 * v0 + (1 - ex.beta2) * g * g
    mhat = m if plant.here("bias_correction", p) else m / (1 - ex.beta1**step)
    vhat = v / (1 - ex.beta2**step)
    return mhat / (np.sqrt(vhat) + ex.eps), {"m": m, "v": v, "mhat": mhat, "vhat": vhat}


def _read(ex: Exercise, plant: Plant, step: int):
    """The exercise as the learner reads it at ``step``: a given copied wrong stays wrong from
    the step it is planted at (an input ``x<i>`` in every sample, or ``mu``)."""
    if not (plant.kind == "given" and step >= plant.step):
        return ex
    if plant.at == "mu":
        return replace(ex, mu=plant.value)
    X = ex.X.copy()
    X[:, int(plant.at[1:]) - 1] = plant.value
    return replace(ex, X=X)


def worked(ex: Exercise, plant: Plant = NONE) -> dict:
    """Every number of the exercise (see the module docstring) as a learner who makes
    ``plant`` writes it: correct before its step, and from there on built on their own."""
    names = layout(ex)
    params = {p: float(initial_value(ex, place)) for p, place in names.params.items()}
    numbers, state = _givens(_read(ex, plant, ex.steps), params), {}
    for step in range(1, ex.steps + 1):
        mistake = plant if plant.step == step else NONE
        params, state, named = _step(_read(ex, plant, step), params, state, step, mistake)
        numbers.update(named)
    return numbers


def _step(ex: Exercise, params: dict, state: dict, step: int, plant: Plant):
    """One step from ``params``: its pass (all of it at step 1, the gradients ``g_p@k``
    later), its update and the error after it (``E+``, ``E_o1+`` or ``E@k``)."""
    after = None
    if plant.kind == "updated_weight":  # the weights after this step, from a right pass
        right = backprop(ex, ex.X, ex.T, params, NONE)
        after = update(ex, params, {p: right[f"dE/d{p}"] for p in params}, state, step, NONE)[0]
    numbers = backprop(ex, ex.X, ex.T, params, plant, after)
    grads = {p: numbers[f"dE/d{p}"] for p in params}
    if step > 1:
        numbers = {f"g_{p}@{step}": g for p, g in grads.items()}
    new, buffers, named = update(ex, params, grads, state, step, plant)
    numbers.update(named)
    then = errors(ex, ex.X, ex.T, new, plant)
    if step == 1:
        numbers.update({_plus(k): v for k, v in then.items() if k.startswith("E")})
        numbers["ΔE"] = then["E"] - numbers["E"]
    else:
        numbers[f"E@{step}"] = then["E"]
    return new, buffers, numbers


def initial_value(ex: Exercise, place: tuple) -> float:
    """A parameter's starting value, at its ``layout`` place."""
    return ex.Ws[place[0]][place[1], place[2]] if len(place) == 3 else ex.bs[place[0]][place[1]]


def _plus(name: str) -> str:
    """A quantity of the pass after the update: ``E+``, ``E_o1+[2]``."""
    return name.replace("[", "+[", 1) if "[" in name else name + "+"


def _givens(ex: Exercise, params: dict) -> dict:
    """The inputs, targets, starting parameters and rates as the learner reads them."""
    n, numbers = len(ex.X), dict(params)
    _name_rows(numbers, [f"x{i + 1}" for i in range(ex.X.shape[1])], ex.X, n)
    _name_rows(numbers, [f"t{j + 1}" for j in range(ex.T.shape[1])], ex.T, n)
    numbers.update(eta=ex.lr, mu=ex.mu)
    return numbers
