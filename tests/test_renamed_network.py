"""The Network's renamed public names ("one public API"): each old spelling still works for one
release with a FutureWarning naming the new one, the new one is silent, giving both is a
TypeError, and files written under the old names load without a warning.

=========================================  =========================================
old                                        new
=========================================  =========================================
``Network(alpha=)``, ``MLP(alpha=)``       ``l2=``
``net.alpha``                              ``net.l2``
``net.loss_function``                      ``net.loss`` (the Loss)
``net.loss(X, T)``                         ``net.compute_loss(X, y)``
``T=`` (fit, compute_loss, ...)            ``y=``
``fit(distributed=)``                      ``fit(group=)``
config key ``'alpha'`` (files, pickles)    ``'l2'``, read silently
=========================================  =========================================
"""

import inspect
import json
import pickle
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import losses
from chainrule.core.network import Network
from chainrule.training import loop

OLD = r"is deprecated and will be removed in chainrule 0\.3; use "


def data(n=12):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, np.tanh(X @ [[1.0], [-0.5], [0.25]])


def network(**options):
    return cr.MLP([3, 4, 1], activation="tanh", dtype="float64", seed=0, **options)


def silently(call, *args, **kwargs):
    """``call(*args, **kwargs)``, failing on any warning at all."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call(*args, **kwargs)


# -- alpha -> l2 -------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [network, lambda **o: cr.Network([cr.Dense(3, 1)], **o)])
def test_l2_is_the_penalty_and_alpha_is_its_old_keyword(build):
    assert silently(build, l2=0.25).l2 == 0.25
    with pytest.warns(FutureWarning, match=rf"\(alpha=\.\.\.\) {OLD}l2=\.\.\.") as record:
        old = build(alpha=0.25)
    assert record[0].filename == __file__  # the warning points at the caller
    assert old.l2 == 0.25 and old.config() == build(l2=0.25).config()
    with pytest.raises(TypeError, match="both 'alpha' and 'l2'"):
        build(alpha=0.25, l2=0.25)


def test_the_penalty_value_and_gradient_come_from_l2():
    X, y = data()
    net = network(l2=0.3)
    value, _ = net.loss_and_gradients(X, y)
    squares = sum(float((layer.W**2).sum()) for layer in net.dense_layers)
    assert value == pytest.approx(network().compute_loss(X, y) + 0.15 * squares, rel=1e-13)


def test_net_alpha_reads_and_writes_l2_with_a_warning():
    net = network(l2=0.5)
    with pytest.warns(FutureWarning, match=rf"Network\.alpha {OLD}Network\.l2"):
        assert net.alpha == 0.5
    with pytest.warns(FutureWarning, match=rf"Network\.alpha {OLD}Network\.l2"):
        net.alpha = 0.125
    assert silently(getattr, net, "l2") == 0.125
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="'alpha' must be"):
        net.alpha = -1.0


def test_the_config_writes_l2_and_reads_the_old_alpha_silently():
    config = network(l2=0.5).config()
    assert config["l2"] == 0.5 and "alpha" not in config
    old = {("alpha" if key == "l2" else key): value for key, value in config.items()}
    rebuilt = silently(Network.from_config, old)
    assert rebuilt.l2 == 0.5 and rebuilt.config() == config
    with pytest.raises(ValueError, match="both 'l2' .* and its old name 'alpha'"):
        Network.from_config({**config, "alpha": 0.5})


def test_an_old_pickle_with_alpha_loads_silently():
    net = network(l2=0.5)
    old = pickle.dumps(net, protocol=0).replace(b"Vl2\n", b"Valpha\n")
    assert b"Valpha\n" in old  # the pickle of 0.1, whose config held 'alpha'
    again = silently(pickle.loads, old)
    assert again.l2 == 0.5
    np.testing.assert_array_equal(again.parameters, net.parameters)


def test_an_old_checkpoint_with_alpha_resumes_silently(tmp_path):
    X, y = data()
    path = tmp_path / "run.ckpt"
    options = dict(epochs=2, batch_size=4, seed=0, verbose=0)
    network(l2=0.01).fit(X, y, checkpoint=path, **options)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["__header__"].tobytes())
    header["config"]["alpha"] = header["config"].pop("l2")
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)
    resumed = network(l2=0.01)
    silently(resumed.fit, X, y, resume_from=path, **{**options, "epochs": 3})
    straight = network(l2=0.01)
    straight.fit(X, y, **{**options, "epochs": 3})
    np.testing.assert_array_equal(resumed.parameters, straight.parameters)


# -- the loss ------------------------------------------------------------------------------------
def test_net_loss_is_the_loss():
    net = cr.MLP([3, 2], loss={"name": "huber", "delta": 0.5}, seed=0)
    assert isinstance(net.loss, losses.Loss)
    assert net.loss.name == "huber" and net.loss.config() == {"name": "huber", "delta": 0.5}
    assert repr(net.loss) == "Loss('huber', delta=0.5)"
    assert net.loss.config() == net.config()["loss"]


def test_setting_net_loss_checks_it_against_the_output():
    net = cr.MLP([3, 2], loss="mse", seed=0)
    net.loss = "mae"
    assert net.loss.name == "mae" and net.config()["loss"] == {"name": "mae"}
    with pytest.raises(ValueError, match="needs output activation 'softmax', got 'identity'"):
        net.loss = "cross_entropy"
    assert net.loss.name == "mae"


def test_a_pickled_loss_is_the_plain_loss():
    net = network()
    again = pickle.loads(pickle.dumps(net.loss))
    assert type(again) is losses.Loss and again.config() == net.loss.config()
    copy = pickle.loads(pickle.dumps(net))
    assert type(copy).__name__ == "Network" and copy.loss.config() == net.loss.config()
    X, y = data()
    assert copy.compute_loss(X, y) == net.compute_loss(X, y)  # the copy's loss is its own


def test_net_loss_function_is_net_loss_with_a_warning():
    net = network()
    with pytest.warns(FutureWarning, match=rf"Network\.loss_function {OLD}Network\.loss"):
        assert net.loss_function.config() == net.loss.config()
    with pytest.warns(FutureWarning, match=rf"Network\.loss_function {OLD}Network\.loss"):
        net.loss_function = "mae"
    assert net.loss.name == "mae"


def test_calling_net_loss_computes_the_loss_with_a_warning():
    X, y = data()
    net = network()
    expected = silently(net.compute_loss, X, y)
    weights = np.linspace(0.5, 2.0, len(y))
    message = rf"calling net\.loss\(X, T\) {OLD}net\.compute_loss\(X, y\)"
    with pytest.warns(FutureWarning, match=message) as record:
        assert net.loss(X, y) == expected
    assert record[0].filename == __file__
    with pytest.warns(FutureWarning, match=message):
        assert net.loss(X, T=y) == expected
    with pytest.warns(FutureWarning, match=message):
        assert net.loss(X, y, sample_weight=weights) == net.compute_loss(X, y, weights)
    with pytest.warns(FutureWarning), pytest.raises(TypeError, match="both 'T' and 'y'"):
        net.loss(X, T=y, y=y)


# -- T -> y ---------------------------------------------------------------------------------------
def _fit(net, X, **targets):
    net.fit(X, **targets, epochs=2, seed=0, verbose=0)
    return net.parameters.copy()


def _loop_fit(net, X, **targets):
    loop.fit(net, X, **targets, epochs=2, seed=0, verbose=0)
    return net.parameters.copy()


# check_data and forward_backward were never released with ``T`` (they were private in 0.1):
# they have no old keyword to keep
TAKING_TARGETS = {
    "compute_loss": lambda net, X, **targets: net.compute_loss(X, **targets),
    "loss_and_gradients": lambda net, X, **targets: net.loss_and_gradients(X, **targets)[0],
    "gradcheck": lambda net, X, **targets: cr.gradcheck(net, X, **targets).analytic,
    "fit": _fit,
    "loop.fit": _loop_fit,
}


@pytest.mark.parametrize("name", sorted(TAKING_TARGETS))
def test_targets_are_y_and_T_is_their_old_keyword(name):
    call = TAKING_TARGETS[name]
    X, y = data()
    new = silently(call, network(), X, y=y)
    assert np.all(np.isfinite(new))
    with pytest.warns(FutureWarning, match=rf"\(T=\.\.\.\) {OLD}y=\.\.\."):
        old = call(network(), X, T=y)
    np.testing.assert_array_equal(old, new)
    with pytest.raises(TypeError, match="both 'T' and 'y'"):
        call(network(), X, T=y, y=y)


@pytest.mark.parametrize(
    "function",
    [
        Network.fit,
        Network.compute_loss,
        Network.loss_and_gradients,
        Network.check_data,
        Network.forward_backward,
        loop.fit,
        cr.gradcheck,
    ],
)
def test_the_signatures_show_the_new_names(function):
    parameters = inspect.signature(function).parameters
    assert "y" in parameters and "T" not in parameters
    assert "distributed" not in parameters
    assert "y" in function.__doc__ or "compute_loss" in function.__doc__


def test_targets_given_positionally_and_as_T_are_refused():
    X, y = data()
    with pytest.raises(TypeError, match="both 'T' and 'y'"):
        network().compute_loss(X, y, T=y)
    with pytest.raises(TypeError, match="both 'T' and 'y'"):
        cr.gradcheck(network(), X, y, T=y)


# -- distributed -> group ------------------------------------------------------------------------
@pytest.mark.parametrize("fit", [Network.fit, lambda net, *a, **o: loop.fit(net, *a, **o)])
def test_the_process_group_is_group_and_distributed_is_its_old_keyword(fit):
    X, y = data()
    options = dict(epochs=2, seed=0, verbose=0)
    new, old = network(), network()
    silently(fit, new, X, y, group=None, **options)
    with pytest.warns(FutureWarning, match=rf"\(distributed=\.\.\.\) {OLD}group=\.\.\."):
        fit(old, X, y, distributed=None, **options)
    np.testing.assert_array_equal(old.parameters, new.parameters)
    with pytest.raises(TypeError, match="both 'distributed' and 'group'"):
        fit(network(), X, y, distributed=None, group=None, **options)
    assert "group" in inspect.signature(Network.fit).parameters
    assert "group" in inspect.signature(loop.fit).parameters


def test_lbfgs_refuses_a_group_by_its_name(tmp_path):
    X, y = data()
    with pytest.raises(ValueError, match="'checkpoint', 'resume_from' and 'group' work with"):
        network().fit(X, y, optimizer=cr.optim.LBFGS(), checkpoint=tmp_path / "c", verbose=0)


def test_the_old_names_warn_where_the_caller_is():
    """The warning points at the line that used the old name, not inside chainrule."""
    X, y = data()
    with pytest.warns(FutureWarning) as record:
        network().fit(X, T=y, epochs=1, verbose=0)
        network().compute_loss(X, T=y)
        network(alpha=0.1)
    assert [r.filename for r in record] == [__file__] * 3
