"""The optimizers' names of chainrule 0.1 (``lr``, ``lr_decay``, ``beta1``, ``beta2``, ``eps``):
each still works for one release with a FutureWarning, the new name is silent, both at once are
a TypeError, and what 0.2 wrote (configs, states, pickles, checkpoints) loads silently."""

import inspect
import json
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets, optim
from chainrule.optim.optimizers import RENAMED

DEPRECATED = "is deprecated and will be removed in chainrule 0.3"

# (class, old name, new name, a value away from the default)
ALIASES = [
    (optim.SGD, "lr", "learning_rate", 0.3),
    (optim.Adam, "lr", "learning_rate", 0.3),
    (optim.Adam, "beta1", "beta_1", 0.7),
    (optim.Adam, "beta2", "beta_2", 0.9),
    (optim.Adam, "eps", "epsilon", 1e-4),
    (optim.AdamW, "lr", "learning_rate", 0.3),
    (optim.AdamW, "beta1", "beta_1", 0.7),
    (optim.AdamW, "beta2", "beta_2", 0.9),
    (optim.AdamW, "eps", "epsilon", 1e-4),
    (optim.RMSprop, "lr", "learning_rate", 0.3),
    (optim.RMSprop, "eps", "epsilon", 1e-4),
    (optim.AdaGrad, "lr", "learning_rate", 0.3),
    (optim.AdaGrad, "lr_decay", "learning_rate_decay", 0.2),
    (optim.AdaGrad, "eps", "epsilon", 1e-4),
]
IDS = [f"{cls.__name__}-{old}" for cls, old, _, _ in ALIASES]


@pytest.fixture
def silent():
    """Any warning raised inside is an error (whatever pytest's own filters)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _message(old: str, new: str) -> str:
    return re.escape(f"{old} {DEPRECATED}; use {new}")


# -- keyword arguments ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls,old,new,value", ALIASES, ids=IDS)
def test_an_old_keyword_works_with_a_warning_naming_the_new_one(cls, old, new, value):
    with pytest.warns(FutureWarning, match=_message(f"{cls.__name__}({old}=...)", f"{new}=...")):
        optimizer = cls(**{old: value})
    assert getattr(optimizer, new) == value
    assert repr(optimizer) == repr(cls(**{new: value}))


@pytest.mark.parametrize("cls,old,new,value", ALIASES, ids=IDS)
def test_the_new_keyword_is_silent(silent, cls, old, new, value):
    assert getattr(cls(**{new: value}), new) == value


@pytest.mark.parametrize("cls,old,new,value", ALIASES, ids=IDS)
def test_both_spellings_at_once_are_a_type_error(cls, old, new, value):
    with pytest.raises(TypeError, match=f"got both '{old}' and '{new}'; pass only '{new}'"):
        cls(**{old: value, new: value})


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.AdaGrad])
def test_an_old_keyword_beside_the_positional_rate_is_a_type_error(cls):
    with pytest.raises(TypeError, match="got both 'lr' and 'learning_rate'"):
        cls(0.1, lr=0.2)


def test_a_subclass_written_for_chainrule_0_2_still_passes_lr_up():
    class Halving(optim.Optimizer):
        def __init__(self, lr=0.5):
            super().__init__(lr=lr)

        def _update(self, params, grads):
            params -= self.learning_rate * grads

    with pytest.warns(FutureWarning, match=_message("Optimizer(lr=...)", "learning_rate=...")):
        optimizer = Halving()
    params = np.ones(2)
    optimizer.step(params, np.full(2, 2.0))
    np.testing.assert_array_equal(params, [0.0, 0.0])


def test_the_warning_points_at_the_caller():
    with pytest.warns(FutureWarning) as caught:
        optim.AdamW(lr=0.1)
    assert caught[0].filename == __file__


# -- attributes ----------------------------------------------------------------------------------
ATTRIBUTES = [*ALIASES, (optim.LBFGS, "lr", "learning_rate", 0.5)]


@pytest.mark.parametrize("cls,old,new,value", ATTRIBUTES, ids=[*IDS, "LBFGS-lr"])
def test_an_old_attribute_reads_and_writes_the_new_one_with_a_warning(cls, old, new, value):
    optimizer = cls()
    name = cls.__name__
    with pytest.warns(FutureWarning, match=_message(f"{name}.{old}", f"{name}.{new}")):
        assert getattr(optimizer, old) == getattr(optimizer, new)
    with pytest.warns(FutureWarning, match=_message(f"{name}.{old}", f"{name}.{new}")):
        setattr(optimizer, old, value)
    assert getattr(optimizer, new) == value
    assert old not in vars(optimizer)


@pytest.mark.parametrize("cls,old,new,value", ATTRIBUTES, ids=[*IDS, "LBFGS-lr"])
def test_the_new_attribute_is_silent(silent, cls, old, new, value):
    optimizer = cls()
    setattr(optimizer, new, value)
    assert getattr(optimizer, new) == value


def test_a_schedule_s_rate_reaches_the_step_through_either_name():
    new, old = optim.SGD(0.1), optim.SGD(0.1)
    a, b = np.ones(3), np.ones(3)
    new.learning_rate = 0.5
    with pytest.warns(FutureWarning):
        old.lr = 0.5
    new.step(a, np.full(3, 2.0))
    old.step(b, np.full(3, 2.0))
    np.testing.assert_array_equal(a, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(a, b)


# -- what the optimizers write: new names only ---------------------------------------------------
def test_config_repr_hyperparameters_and_state_use_the_new_names(silent):
    adam = optim.Adam(0.01, 0.8, 0.99, 1e-6)
    assert adam.config() == {
        "name": "Adam",
        "learning_rate": 0.01,
        "beta_1": 0.8,
        "beta_2": 0.99,
        "epsilon": 1e-6,
        "weight_decay": 0.0,
        "form": "torch",
    }
    assert repr(adam) == (
        "Adam(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-06, weight_decay=0.0, "
        "form='torch')"
    )
    assert set(optim.AdaGrad().hyperparameters()) == {
        "learning_rate",
        "learning_rate_decay",
        "weight_decay",
        "initial_accumulator_value",
        "epsilon",
    }
    assert set(adam.state_dict()) == {"steps", "learning_rate", "state"}


def test_adamw_is_adam_with_another_weight_decay_and_no_form():
    adam, adamw = inspect.signature(optim.Adam), inspect.signature(optim.AdamW)
    assert list(adamw.parameters) == [name for name in adam.parameters if name != "form"]
    for name, parameter in adamw.parameters.items():
        expected = 0.01 if name == "weight_decay" else adam.parameters[name].default
        assert parameter.default == expected
    assert repr(optim.AdamW(0.2, 0.5, epsilon=1e-3)) == (
        "AdamW(learning_rate=0.2, beta_1=0.5, beta_2=0.999, epsilon=0.001, weight_decay=0.01)"
    )
    with pytest.raises(TypeError, match="AdamW\\(\\) got an unexpected keyword argument 'form'"):
        optim.AdamW(form="torch")
    with pytest.raises(TypeError, match="AdamW\\(\\) too many positional arguments"):
        optim.AdamW(0.1, 0.9, 0.999, 1e-8, 0.01, "torch")


# -- optim.get -----------------------------------------------------------------------------------
def test_get_with_an_old_option_warns_and_the_new_one_is_silent():
    with pytest.warns(FutureWarning, match=_message("optim.get(lr=...)", "learning_rate=...")):
        old = optim.get("adagrad", lr=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = optim.get("adagrad", learning_rate=0.2)
    assert repr(old) == repr(new)
    with pytest.raises(TypeError, match="got both 'eps' and 'epsilon'"):
        optim.get("adam", eps=0.1, epsilon=0.1)


@pytest.mark.parametrize(
    "config,built",
    [
        ({"name": "SGD", "lr": 0.2, "momentum": 0.9}, optim.SGD(0.2, 0.9)),
        (
            {"name": "Adam", "lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
            optim.Adam(0.02, 0.8, 0.99, 1e-6),
        ),
        (
            {"name": "AdamW", "lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
            optim.AdamW(0.02, 0.8, 0.99, 1e-6),
        ),
        ({"name": "RMSprop", "lr": 0.02, "eps": 1e-3}, optim.RMSprop(0.02, epsilon=1e-3)),
        (
            {"name": "AdaGrad", "lr": 0.02, "lr_decay": 0.1, "eps": 1e-3},
            optim.AdaGrad(0.02, 0.1, epsilon=1e-3),
        ),
    ],
    ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"],
)
def test_a_config_written_by_chainrule_0_2_builds_silently(silent, config, built):
    assert repr(optim.get(config)) == repr(built)
    assert repr(optim.get(built.config())) == repr(built)


# -- what chainrule 0.1 wrote loads silently -----------------------------------------------------
def test_a_state_dict_written_by_chainrule_0_2_loads_silently(silent):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=5) for _ in range(6)]
    a, b = np.ones(5), np.ones(5)
    first = optim.Adam(0.05)
    for g in grads[:3]:
        first.step(a, g)
    state = first.state_dict()
    old = {"steps": state["steps"], "lr": state["learning_rate"], "state": state["state"]}
    second = optim.Adam(0.9)
    second.load_state_dict(old)
    assert second.learning_rate == 0.05
    b[...] = a
    for g in grads[3:]:
        first.step(a, g)
        second.step(b, g)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", [optim.AdaGrad(0.1, 0.2, epsilon=1e-3), optim.LBFGS()])
def test_an_optimizer_pickled_by_chainrule_0_2_unpickles_silently(silent, optimizer):
    old_names = {new: old for old, new in RENAMED.items()}
    attributes = {old_names.get(k, k): v for k, v in optimizer.__getstate__().items()}
    assert "lr" in attributes  # what 0.1's instances held
    restored = type(optimizer).__new__(type(optimizer))  # as pickle.loads does
    restored.__setstate__(attributes)
    assert restored.learning_rate == optimizer.learning_rate
    if isinstance(optimizer, optim.AdaGrad):
        assert repr(restored) == repr(optimizer)


def _train(optimizer, epochs, **options):
    data = datasets.moons(n_samples=120)
    net = cr.MLP([2, 6, 2], loss="cross_entropy", seed=3)
    history = net.fit(
        data.X, data.y, optimizer=optimizer, epochs=epochs, batch_size=16, verbose=0, **options
    )
    return net, history


def _as_written_by_0_2(path) -> None:
    """Rewrite the checkpoint at ``path`` with chainrule 0.1's optimizer keys: ``lr`` in its
    optimizer part, ``lr``, ``beta1``, ``beta2``, ``eps`` in that part's config."""
    with np.load(path) as archive:
        members = {name: archive[name] for name in archive.files}
    header = json.loads(members.pop("__header__").tobytes().decode("utf-8"))
    part = header["optimizer"]
    part["lr"] = part.pop("learning_rate")
    old_names = {new: old for old, new in RENAMED.items()}
    part["config"] = {old_names.get(key, key): value for key, value in part["config"].items()}
    assert {"lr", "beta1", "beta2", "eps"} <= set(part["config"])
    encoded = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as stream:
        np.savez(stream, __header__=encoded, **members)


def test_a_checkpoint_written_by_chainrule_0_2_resumes_silently_and_identically(tmp_path):
    def adam():
        return optim.Adam(0.02, 0.8, 0.99, 1e-6)

    whole, whole_history = _train(adam(), 5)
    path = tmp_path / "state.npz"
    _train(adam(), 3, checkpoint=path)
    _as_written_by_0_2(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        resumed, history = _train(adam(), 5, resume_from=path)
    np.testing.assert_array_equal(resumed.parameters, whole.parameters)
    assert history["loss"] == whole_history["loss"]


def test_a_model_file_keeps_the_history_key_lr(tmp_path):
    """The per-epoch logs and History keep the key 'lr' (a file format), as 0.2 wrote it."""
    net, history = _train(optim.SGD(0.1), 2)
    cr.save(net, tmp_path / "model.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        loaded = cr.load(tmp_path / "model.npz")
    assert loaded.history["lr"] == history["lr"] == [0.1, 0.1]


def test_epoch_logs_records_the_rate_under_lr():
    """epoch_logs is new in 0.2 (it has no old keyword); the log key stays 'lr'."""
    from chainrule.training.events import epoch_logs

    net = cr.MLP([2, 1], loss="mse")
    logs = epoch_logs(net, {"loss": 1.0}, learning_rate=0.3, validation=None, metric_names=[],
                      started=0.0)  # fmt: skip
    assert logs["lr"] == 0.3
