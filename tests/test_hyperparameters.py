"""Every hyperparameter at a NON-default value, where it does not drop out of the formula,
against an independent reference: torch (float64), scikit-learn's own optimizers and MLPs,
scipy's L-BFGS-B on a hand-written objective, or a float64 hand computation. Each value is
chosen so that ignoring the hyperparameter, or hard-coding its default, fails."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.core import activations, losses
from chainrule.core import kernels as _kernels
from chainrule.optim import schedules
from chainrule.sklearn import solvers as solvers


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _t(torch, array, grad=False):
    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=grad)


# -- activations: forward, derivative and backward (out of place and in place) vs torch -------
Z = np.concatenate(
    [
        [[-3.0, -1.2, -0.4, -1e-3, 0.0, 1e-3, 0.5, 2.0]],
        np.random.default_rng(0).normal(0.0, 2.0, (3, 8)),
    ]
)

ACTIVATIONS = [  # (chainrule spec, torch function of (F, z))
    ({"name": "leaky_relu", "slope": 0.3}, lambda F, z: F.leaky_relu(z, 0.3)),
    ({"name": "leaky_relu", "slope": 1.7}, lambda F, z: F.leaky_relu(z, 1.7)),
    ({"name": "elu", "alpha": 0.4}, lambda F, z: F.elu(z, alpha=0.4)),
    ({"name": "elu", "alpha": 2.5}, lambda F, z: F.elu(z, alpha=2.5)),
]


@pytest.mark.parametrize(
    "spec,reference", ACTIVATIONS, ids=["slope0.3", "slope1.7", "alpha0.4", "alpha2.5"]
)
def test_activation_hyperparameter_value_derivative_and_backward_match_torch(
    torch, spec, reference
):
    f = activations.get(spec)
    z = _t(torch, Z, grad=True)
    expected = reference(torch.nn.functional, z)
    grad = np.random.default_rng(1).normal(size=Z.shape)
    (expected_back,) = torch.autograd.grad(expected, z, _t(torch, grad), retain_graph=True)
    (expected_slope,) = torch.autograd.grad(expected, z, torch.ones_like(z))
    A = f(Z)
    np.testing.assert_allclose(A, expected.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(f.derivative(Z, A), expected_slope.numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(f.backward(grad, Z, A), expected_back.numpy(), rtol=1e-13)
    in_place = Z.copy()  # as a Dense layer runs it: A written over Z, backward read from A
    f.forward(in_place, in_place)
    np.testing.assert_allclose(
        f.backward(grad, in_place, in_place), expected_back.numpy(), rtol=1e-13
    )


# -- Huber's delta: per-sample value and gradient vs torch.nn.functional.huber_loss --------------
# residuals on both sides of both deltas (0.3 and 2.5), of both signs, none on a kink
R = np.array([[-3.0, -1.0, -0.31, -0.29], [-0.1, 0.0, 0.2, 0.29], [0.31, 1.0, 2.6, 4.0]])


@pytest.mark.parametrize("delta", [0.3, 2.5])
def test_huber_delta_value_and_gradient_match_torch(torch, delta):
    T = np.random.default_rng(2).normal(size=R.shape)
    Y = T + R
    loss = losses.get({"name": "huber", "delta": delta})
    y = _t(torch, Y, grad=True)
    per_sample = torch.nn.functional.huber_loss(y, _t(torch, T), reduction="none", delta=delta)
    per_sample = per_sample.mean(dim=1)
    per_sample.sum().backward()
    np.testing.assert_allclose(loss.value(Y, T, None), per_sample.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(loss.gradient(Y, T), y.grad.numpy(), rtol=1e-13, atol=1e-16)
    # and by hand: h(r) = r^2/2 inside delta, delta (|r| - delta/2) outside
    h = np.where(np.abs(R) <= delta, 0.5 * R**2, delta * (np.abs(R) - 0.5 * delta))
    np.testing.assert_allclose(loss.value(Y, T, None), h.mean(axis=1), rtol=1e-13)


NETWORKS = [  # (hidden activation spec, its torch function, Huber delta)
    ({"name": "leaky_relu", "slope": 0.3}, lambda F, z: F.leaky_relu(z, 0.3), 0.3),
    ({"name": "elu", "alpha": 0.4}, lambda F, z: F.elu(z, alpha=0.4), 2.5),
    ({"name": "elu", "alpha": 2.5}, lambda F, z: F.elu(z, alpha=2.5), 0.3),
]


@pytest.mark.parametrize("hidden,reference,delta", NETWORKS, ids=["leaky", "elu0.4", "elu2.5"])
def test_network_with_hyperparameters_gives_torch_s_loss_and_gradients(
    torch, hidden, reference, delta
):
    """The configs travel through MLP and Dense: loss and every gradient vs torch autograd."""
    rng = np.random.default_rng(3)
    net = cr.MLP(
        [4, 6, 3], activation=hidden, loss={"name": "huber", "delta": delta}, dtype="float64"
    )
    net.set_parameters(rng.normal(0.0, 0.8, net.n_params))
    X, T = rng.normal(size=(10, 4)), 3.0 * rng.normal(size=(10, 3))
    value, grads = net.loss_and_gradients(X, T)
    F = torch.nn.functional
    params = [(_t(torch, d.W, True), _t(torch, d.b, True)) for d in net.dense_layers]
    hidden_out = reference(F, _t(torch, X) @ params[0][0] + params[0][1])
    Y = hidden_out @ params[1][0] + params[1][1]
    expected = F.huber_loss(Y, _t(torch, T), delta=delta)
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    for (dW, db), (W, b) in zip(grads, params, strict=True):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-11, atol=1e-14)


# -- L-BFGS: max_fun, tol and memory vs scipy's L-BFGS-B on a hand-written least squares -------
@pytest.mark.parametrize(
    "options,epochs",
    [({"memory": 2}, 12), ({"max_fun": 6}, 100), ({"tol": 0.05}, 200)],
    ids=["memory", "max_fun", "tol"],
)
def test_lbfgs_options_are_scipy_s(options, epochs):
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 5)) * [1.0, 4.0, 0.2, 9.0, 0.5]  # ill-conditioned: many iterations
    t = X @ rng.normal(size=5) + 0.1 * rng.normal(size=30)
    net = cr.MLP([5, 1], loss="mse", dtype="float64")
    net.set_parameters(np.arange(net.n_params, dtype=float))
    w_at, b_at = net.dense_layers[0].W[:, 0].astype(int), int(net.dense_layers[0].b[0])
    start = rng.normal(size=net.n_params)
    net.set_parameters(start)

    def objective(flat):  # mean (Xw + b - t)^2 and its gradient
        r = X @ flat[w_at] + flat[b_at] - t
        grad = np.empty_like(flat)
        grad[w_at], grad[b_at] = 2 * X.T @ r / len(t), 2 * r.mean()
        return r @ r / len(t), grad

    settings = {"maxiter": epochs, "maxfun": 15000, "gtol": 1e-7, "maxcor": 10}
    key = {"memory": "maxcor", "max_fun": "maxfun", "tol": "gtol"}
    settings.update({key[name]: value for name, value in options.items()})
    expected = optimize.minimize(objective, start, jac=True, method="L-BFGS-B", options=settings)
    history = net.fit(X, t, optimizer=optim.LBFGS(**options), epochs=epochs, verbose=0)
    if "memory" not in options:
        assert expected.nit < epochs  # stopped by the option, not by the epoch count
    assert len(history["loss"]) == expected.nit
    np.testing.assert_allclose(net.parameters, expected.x, rtol=1e-9, atol=1e-12)


def test_lbfgs_memory_matters_on_this_problem():
    """Guards the test above: memory=2 and the default memory=10 differ here."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 5)) * [1.0, 4.0, 0.2, 9.0, 0.5]
    t = X @ rng.normal(size=5) + 0.1 * rng.normal(size=30)
    start = rng.normal(size=6)
    ends = []
    for memory in (2, 10):
        net = cr.MLP([5, 1], loss="mse", dtype="float64")
        net.set_parameters(start)
        net.fit(X, t, optimizer=optim.LBFGS(memory=memory), epochs=12, verbose=0)
        ends.append(net.parameters.copy())
    assert not np.allclose(ends[0], ends[1], rtol=1e-6)


# -- schedules ----------------------------------------------------------------------------------
def _torch_rates(torch, make, lr0, epochs):
    """The rate torch's scheduler gives at each of ``epochs`` epochs (one step per epoch)."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    scheduler = make(optimizer)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_step_and_exponential_decay_match_torch(torch):
    sched = torch.optim.lr_scheduler
    step = schedules.StepDecay(step_size=3, gamma=0.3)
    expected = _torch_rates(torch, lambda o: sched.StepLR(o, step_size=3, gamma=0.3), 0.7, 12)
    np.testing.assert_allclose([step(e, 0.7, {}) for e in range(12)], expected, rtol=1e-12)
    exponential = schedules.ExponentialDecay(gamma=0.8)
    expected = _torch_rates(torch, lambda o: sched.ExponentialLR(o, gamma=0.8), 0.7, 12)
    np.testing.assert_allclose([exponential(e, 0.7, {}) for e in range(12)], expected, rtol=1e-12)


def test_cosine_min_lr_and_warmup_match_torch_and_the_formula(torch):
    epochs, warmup, min_lr, lr0 = 12, 3, 0.05, 0.5
    cosine = schedules.Cosine(epochs=epochs, min_lr=min_lr, warmup=warmup)
    rates = [cosine(e, lr0, {}) for e in range(epochs + 3)]
    # linear warm-up by hand: lr0 (e + 1) / warmup
    np.testing.assert_allclose(rates[:warmup], [lr0 / 3, 2 * lr0 / 3, lr0], rtol=1e-15)
    # then torch's cosine annealing over the remaining epochs down to min_lr
    annealing = torch.optim.lr_scheduler.CosineAnnealingLR
    expected = _torch_rates(
        torch, lambda o: annealing(o, T_max=epochs - warmup, eta_min=min_lr), lr0, epochs - warmup
    )
    expected.append(min_lr)  # at epoch == epochs
    np.testing.assert_allclose(rates[warmup : epochs + 1], expected, rtol=1e-12)
    assert rates[epochs + 1 :] == [min_lr, min_lr]  # held at min_lr past the end
    halfway = warmup + (epochs - warmup) / 3
    assert cosine(halfway, lr0, {}) == pytest.approx(
        min_lr + (lr0 - min_lr) * 0.5 * (1 + math.cos(math.pi / 3)), rel=1e-14
    )


@pytest.mark.parametrize("power_t", [0.25, 0.8])
def test_inverse_scaling_power_t_matches_scikit_learn(power_t):
    stochastic = pytest.importorskip("sklearn.neural_network._stochastic_optimizers")
    reference = stochastic.SGDOptimizer(
        [np.zeros(1)], learning_rate_init=0.3, lr_schedule="invscaling", power_t=power_t
    )
    schedule = schedules.InverseScaling(power_t=power_t)
    for seen in (0, 7, 90, 1234):
        reference.iteration_ends(seen)
        got = schedule(3, 0.3, {"samples_seen": seen})
        assert got == pytest.approx(reference.learning_rate, rel=1e-14)
        assert got == pytest.approx(0.3 * (seen + 1.0) ** -power_t, rel=1e-14)


# torch moves its best only on an improvement of more than tol, scikit-learn's rule (ours) on
# any: the histories below mix large improvements, none, and ones smaller than tol placed
# where both rules then count the same epochs.
PLATEAUS = [
    (  # min: factor, patience, tol, min_lr all non-default; 'loss' differs from the monitor
        {"monitor": "val_loss", "factor": 0.5, "patience": 3, "tol": 0.05, "min_lr": 0.3},
        "min",
        "1.0 0.8 0.8 0.85 0.9 0.8 0.6 0.57 0.62 0.6 0.63 0.7 0.45 0.45 0.42 0.5 0.43 0.51 0.53"
        " 0.2 0.2 0.2 0.3 0.2 0.2 0.2 0.2 0.2",
    ),
    (
        {"monitor": "val_accuracy", "mode": "max", "factor": 0.3, "patience": 1, "tol": 0.01},
        "max",
        "0.5 0.6 0.6 0.59 0.7 0.706 0.69 0.8 0.8 0.805 0.9 0.95 0.95",
    ),
    (
        {"factor": 0.7, "patience": 4, "tol": 0.1},
        "min",
        "5.0 4.0 3.94 3.95 4.0 4.5 3.0 2.0 2.0 2.0 2.0 2.0 2.0 1.0 1.0",
    ),
]


@pytest.mark.parametrize("options,mode,values", PLATEAUS, ids=["min", "max", "default-mode"])
def test_reduce_on_plateau_matches_torch(torch, options, mode, values):
    values = [float(v) for v in values.split()]
    plateau = schedules.ReduceOnPlateau(**options)
    monitor = options.get("monitor", "loss")
    decoy = list(np.linspace(3.0, 0.1, len(values)))  # always improving: never cut
    history = {"val_loss" if monitor == "loss" else "loss": decoy, monitor: values}
    # torch's patience counts the bad epochs it tolerates; ours, the ones that trigger a cut
    sgd = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2.0)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(
        sgd,
        mode=mode,
        factor=options["factor"],
        patience=options["patience"] - 1,
        threshold=options["tol"],
        threshold_mode="abs",
        min_lr=options.get("min_lr", 0.0),
    )
    expected = [2.0]
    for value in values:
        reference.step(value)
        expected.append(sgd.param_groups[0]["lr"])
    got = [
        plateau(epoch, 2.0, {"history": {k: v[:epoch] for k, v in history.items()}})
        for epoch in range(len(values) + 1)
    ]
    assert len(set(got)) >= 3  # the rate was cut at least twice
    np.testing.assert_allclose(got, expected, rtol=1e-13)


# -- the scikit-learn solvers vs scikit-learn's own optimizers and MLPs ------------------------
@pytest.mark.parametrize(
    "schedule,momentum,nesterov,power_t",
    [
        ("constant", 0.6, True, 0.5),
        ("constant", 0.6, False, 0.5),
        ("invscaling", 0.3, True, 0.25),
        ("invscaling", 0.0, False, 0.8),
    ],
)
def test_sklearn_sgd_solver_matches_scikit_learn_s(schedule, momentum, nesterov, power_t):
    stochastic = pytest.importorskip("sklearn.neural_network._stochastic_optimizers")
    rng = np.random.default_rng(6)
    start = rng.normal(size=6)
    ours_p, their_p = start.copy(), start.copy()
    sgd = optim.SGD(0.1, momentum, nesterov=nesterov, form="scikit-learn")
    ours = solvers.Schedule(sgd, schedule, power_t)
    theirs = stochastic.SGDOptimizer([their_p], 0.1, schedule, momentum, nesterov, power_t)
    for step in range(6):
        g = rng.normal(size=6) + ours_p
        ours.optimizer.step(ours_p, g)
        theirs.update_params([their_p], [g.copy()])
        if step % 2:  # an epoch of two batches of 5 samples ends
            ours.iteration_ends(5 * (step + 1))
            theirs.iteration_ends(5 * (step + 1))
            assert ours.learning_rate == pytest.approx(theirs.learning_rate, rel=1e-15)
    np.testing.assert_allclose(ours_p, their_p, rtol=1e-13, atol=1e-15)


def test_sklearn_adam_solver_matches_scikit_learn_s():
    stochastic = pytest.importorskip("sklearn.neural_network._stochastic_optimizers")
    rng = np.random.default_rng(7)
    start = rng.normal(size=6)
    ours_p, their_p = start.copy(), start.copy()
    ours = solvers.Schedule(optim.Adam(0.05, 0.6, 0.95, 1e-2, form="scikit-learn"))
    theirs = stochastic.AdamOptimizer([their_p], 0.05, beta_1=0.6, beta_2=0.95, epsilon=1e-2)
    for _ in range(5):
        g = rng.normal(size=6) + ours_p
        ours.optimizer.step(ours_p, g)
        theirs.update_params([their_p], [g.copy()])
    np.testing.assert_allclose(ours_p, their_p, rtol=1e-13, atol=1e-15)


ESTIMATOR_OPTIONS = [
    {"solver": "adam", "beta_1": 0.6, "beta_2": 0.95, "epsilon": 1e-3},
    {"solver": "sgd", "momentum": 0.5},
    {"solver": "sgd", "momentum": 0.5, "nesterovs_momentum": False},
    {"solver": "sgd", "momentum": 0.3, "learning_rate": "invscaling", "power_t": 0.2},
]


@pytest.mark.parametrize("options", ESTIMATOR_OPTIONS, ids=lambda o: "-".join(map(str, o)))
def test_regressor_solver_options_fit_what_scikit_learn_fits(options):
    neural_network = pytest.importorskip("sklearn.neural_network")
    from chainrule.sklearn import MLPRegressor

    rng = np.random.default_rng(8)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=40)
    common = dict(
        hidden_layer_sizes=(4,),
        batch_size=10,
        max_iter=5,
        learning_rate_init=0.05,
        random_state=0,
        **options,
    )
    ours, theirs = MLPRegressor(**common), neural_network.MLPRegressor(**common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after 5 epochs
        ours.fit(X, y)
        theirs.fit(X, y)
    pairs = zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True)
    for a, b in pairs:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)


def test_regressor_adamw_passes_beta_1_beta_2_epsilon_to_torch_s_adamw(torch):
    """solver='adamw' (chainrule only): 4 full-batch epochs vs torch.optim.AdamW on
    scikit-learn's objective 0.5 mean (y - t)^2 from scikit-learn's initial weights."""
    pytest.importorskip("sklearn")
    from chainrule.sklearn import MLPRegressor

    rng = np.random.default_rng(9)
    X = rng.normal(size=(20, 3))
    y = np.tanh(X @ [1.0, -2.0, 0.5])
    ours = MLPRegressor(
        solver="adamw",
        hidden_layer_sizes=(4,),
        activation="tanh",
        alpha=0.0,
        batch_size=20,
        shuffle=False,
        max_iter=4,
        learning_rate_init=0.05,
        beta_1=0.6,
        beta_2=0.9,
        epsilon=1e-2,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y)
    state, params = np.random.RandomState(0), []  # scikit-learn's Glorot uniform, in order
    for fan_in, fan_out in [(3, 4), (4, 1)]:
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        params.append(_t(torch, state.uniform(-bound, bound, (fan_in, fan_out)), True))
        params.append(_t(torch, state.uniform(-bound, bound, fan_out), True))
    adamw = torch.optim.AdamW(params, lr=0.05, betas=(0.6, 0.9), eps=1e-2, weight_decay=0.01)
    for _ in range(4):
        adamw.zero_grad()
        out = torch.tanh(_t(torch, X) @ params[0] + params[1]) @ params[2] + params[3]
        (0.5 * ((out[:, 0] - _t(torch, y)) ** 2).mean()).backward()
        adamw.step()
    expected = [p.detach().numpy() for p in params]
    got = [ours.coefs_[0], ours.intercepts_[0], ours.coefs_[1], ours.intercepts_[1]]
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


# -- optimizers: 5 steps on a quadratic vs torch.optim, every option away from its default ------
# (last in the file, NumPy's cases before numba's: numba's compile kernels, which a planted bug
# caught earlier need not wait for)
@pytest.fixture
def kernels(request):
    """Run the optimizers' updates with the kernels the test's ``choice`` names."""
    if request.param == "numba":
        pytest.importorskip("numba")
    before = _kernels.get_kernels()
    cr.set_kernels(request.param)
    try:
        yield request.param
    finally:
        cr.set_kernels(before[0], threads=before[1])


ADAGRAD = dict(
    learning_rate=0.1,
    learning_rate_decay=0.3,
    weight_decay=0.2,
    initial_accumulator_value=0.5,
    epsilon=0.1,
)
TORCH_ADAGRAD = dict(lr=0.1, lr_decay=0.3, weight_decay=0.2, initial_accumulator_value=0.5, eps=0.1)
PLAIN_CASES = [  # RMSprop and AdaGrad
    (
        optim.RMSprop,
        {"learning_rate": 0.02, "rho": 0.8, "epsilon": 1e-2, "momentum": 0.3, "weight_decay": 0.1},
        "RMSprop",
        {"lr": 0.02, "alpha": 0.8, "eps": 1e-2, "momentum": 0.3, "weight_decay": 0.1},
    ),
    (
        optim.RMSprop,
        {"learning_rate": 0.02, "rho": 0.7, "epsilon": 0.05, "centered": True},
        "RMSprop",
        {"lr": 0.02, "alpha": 0.7, "eps": 0.05, "centered": True},
    ),
    (
        optim.AdaGrad,
        ADAGRAD,
        "Adagrad",
        TORCH_ADAGRAD,
    ),
]

OPTIMIZER_CASES = [  # (ours, our options, torch's name, torch's options)
    (optim.SGD, {"learning_rate": 0.05, "momentum": 0.7}, "SGD", {"lr": 0.05, "momentum": 0.7}),
    (
        optim.SGD,
        {"learning_rate": 0.05, "momentum": 0.6, "dampening": 0.4, "weight_decay": 0.3},
        "SGD",
        {"lr": 0.05, "momentum": 0.6, "dampening": 0.4, "weight_decay": 0.3},
    ),
    (
        optim.SGD,
        {"learning_rate": 0.04, "momentum": 0.6, "nesterov": True, "weight_decay": 0.2},
        "SGD",
        {"lr": 0.04, "momentum": 0.6, "nesterov": True, "weight_decay": 0.2},
    ),
    (
        optim.SGD,
        {"learning_rate": 0.05, "weight_decay": 0.3},
        "SGD",
        {"lr": 0.05, "weight_decay": 0.3},
    ),
    (
        optim.Adam,
        {
            "learning_rate": 0.05,
            "beta_1": 0.6,
            "beta_2": 0.95,
            "epsilon": 1e-3,
            "weight_decay": 0.3,
        },
        "Adam",
        {"lr": 0.05, "betas": (0.6, 0.95), "eps": 1e-3, "weight_decay": 0.3},
    ),
    (
        optim.AdamW,
        {"learning_rate": 0.05, "beta_1": 0.7, "beta_2": 0.9, "epsilon": 1e-2, "weight_decay": 0.4},
        "AdamW",
        {"lr": 0.05, "betas": (0.7, 0.9), "eps": 1e-2, "weight_decay": 0.4},
    ),
    *PLAIN_CASES,
]


def _run_against_torch(torch, ours, our_options, theirs, their_options):
    rng = np.random.default_rng(4)
    start, targets = rng.normal(size=7), rng.normal(size=(5, 7))
    curvature = np.linspace(0.3, 3.0, 7)
    params = start.copy()
    torch_params = _t(torch, start, grad=True)
    optimizer = ours(**our_options)
    torch_optimizer = getattr(torch.optim, theirs)([torch_params], **their_options)
    for target in targets:
        optimizer.step(params, (params - target) * curvature)
        torch_params.grad = (torch_params.detach() - _t(torch, target)) * _t(torch, curvature)
        torch_optimizer.step()
    assert not np.allclose(params, start, rtol=1e-3)  # the steps moved the parameters
    np.testing.assert_allclose(params, torch_params.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "ours,our_options,theirs,their_options",
    OPTIMIZER_CASES,
    ids=[
        "sgd-momentum",
        "sgd-dampening",
        "sgd-nesterov",
        "sgd-decay",
        "adam",
        "adamw",
        "rmsprop-momentum",
        "rmsprop-centered",
        "adagrad",
    ],  # fmt: skip
)
@pytest.mark.parametrize("kernels", ["numpy", "numba"], indirect=True)  # numba's cases last
def test_optimizer_hyperparameters_match_torch_with_either_kernel(
    torch, kernels, ours, our_options, theirs, their_options
):
    _run_against_torch(torch, ours, our_options, theirs, their_options)
