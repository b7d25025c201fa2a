"""Learning-rate schedules against their formulas, and 'adaptive' against scikit-learn's."""

import contextlib
import io
import math
import warnings

import numpy as np
import pytest

from chainrule.optim import schedules


def test_constant_step_exponential():
    assert schedules.get(None)(7, 0.1, {}) == 0.1
    assert [schedules.StepDecay(2, 0.5)(e, 1.0, {}) for e in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    assert schedules.ExponentialDecay(0.9)(3, 2.0, {}) == pytest.approx(2.0 * 0.9**3)


def test_inverse_scaling_counts_samples_like_scikit_learn():
    assert schedules.InverseScaling(0.5)(2, 0.1, {"samples_seen": 99}) == pytest.approx(0.01)


def test_cosine_with_warmup():
    cosine = schedules.Cosine(epochs=10, min_lr=0.0, warmup=2)
    assert cosine(0, 1.0, {}) == 0.5 and cosine(1, 1.0, {}) == 1.0
    assert cosine(2, 1.0, {}) == 1.0
    assert cosine(6, 1.0, {}) == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 8)))
    assert cosine(10, 1.0, {}) == pytest.approx(0.0, abs=1e-15)


def test_reduce_on_plateau_divides_after_patience_epochs_without_improvement():
    plateau = schedules.ReduceOnPlateau(factor=0.2, patience=2, tol=1e-4)
    history = {"loss": [1.0, 0.5, 0.49995, 0.4999]}
    assert plateau(4, 1.0, {"history": history}) == pytest.approx(0.2)
    history["loss"] += [0.3, 0.3, 0.3]
    assert plateau(7, 1.0, {"history": history}) == pytest.approx(0.04)


def test_plateau_on_a_score_maximises():
    plateau = schedules.get("plateau", monitor="val_accuracy", mode="max", patience=1)
    assert plateau(3, 1.0, {"history": {"val_accuracy": [0.5, 0.6, 0.6]}}) == pytest.approx(0.2)


def test_bad_schedules():
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        schedules.get("linear")
    with pytest.raises(ValueError, match="'warmup' must be < epochs=5, got 5"):
        schedules.Cosine(epochs=5, warmup=5)


@pytest.mark.parametrize("n_iter_no_change", [1, 3, 10])
def test_plateau_divides_the_rate_when_scikit_learn_s_adaptive_does(n_iter_no_change):
    neural_network = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=60)
    model = neural_network.MLPRegressor(
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.05,
        n_iter_no_change=n_iter_no_change,
        tol=1e-2,
        max_iter=60,
        random_state=0,
        verbose=True,
    )
    lines = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(lines):
        warnings.simplefilter("ignore")
        model.fit(X, y)
    divided, epoch = [], 0  # the epochs after which scikit-learn divided its rate
    for line in lines.getvalue().splitlines():
        epoch = int(line.split(",")[0].split()[1]) if line.startswith("Iteration") else epoch
        if "Setting learning rate" in line:
            divided.append(epoch)
    assert divided
    plateau = schedules.ReduceOnPlateau(factor=0.2, patience=n_iter_no_change + 1, tol=1e-2)
    curve = model.loss_curve_
    rates = [plateau(e, 0.05, {"history": {"loss": curve[:e]}}) for e in range(len(curve))]
    assert [e for e in range(1, len(rates)) if rates[e] < rates[e - 1]] == divided
