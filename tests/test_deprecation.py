"""Old spellings (0.1) still work for one release, each with a FutureWarning naming the new one."""

import importlib
import inspect
import pickle
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr

MOVED = {
    "activations": "core.activations",
    "callbacks": "training.callbacks",
    "io": "files.model_file",
    "network": "core.network",
    "schedules": "optim.schedules",
    "tabular": "tables.model",
    "train": "training.loop",
    "estimators": "sklearn.estimators",
}


@pytest.mark.parametrize("old,new", sorted(MOVED.items()))
def test_a_moved_module_imports_as_its_new_self_with_a_future_warning(old, new):
    sys.modules.pop(f"chainrule.{old}", None)
    with pytest.warns(FutureWarning, match=rf"chainrule\.{old} is deprecated.*chainrule\.{new}"):
        module = importlib.import_module(f"chainrule.{old}")
    assert module is importlib.import_module(f"chainrule.{new}")
    assert module.__spec__.name == f"chainrule.{new}"  # the module keeps its own identity


def test_a_pickle_that_names_an_old_module_still_loads():
    """0.1 pickled a network as chainrule.network._unpickle(...): it loads, with a warning."""
    net = cr.MLP([2, 3, 1], seed=0)
    data = pickle.dumps(net, protocol=0).replace(b"chainrule.core.network", b"chainrule.network")
    assert b"chainrule.network" in data
    code = (
        "import pickle, sys, warnings; warnings.simplefilter('error');"
        "pickle.loads(sys.stdin.buffer.read())"
    )
    failed = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True)
    assert b"FutureWarning: the module chainrule.network is deprecated" in failed.stderr
    sys.modules.pop("chainrule.network", None)
    with pytest.warns(FutureWarning):
        again = pickle.loads(data)
    np.testing.assert_array_equal(again.parameters, net.parameters)


def test_cr_schedules_is_cr_optim_schedules_with_a_warning():
    vars(cr).pop("schedules", None)  # set by an earlier `import chainrule.schedules` (which warned)
    with pytest.warns(FutureWarning, match="use chainrule.optim.schedules"):
        schedules = cr.schedules
    assert schedules is cr.optim.schedules


def test_calling_the_explain_subpackage_calls_explain_with_a_warning():
    import chainrule.explain

    net = cr.MLP([2, 2, 1], activation="sigmoid", loss="squared_error", dtype="float64", seed=0)
    with pytest.warns(FutureWarning, match=r"use chainrule\.explain\.explain\(\.\.\.\)"):
        old = cr.explain(net, x=[0.05, 0.1], t=[1.0])
    assert cr.explain is chainrule.explain and callable(cr.explain.explain)
    assert old.render("text") == cr.explain.explain(net, x=[0.05, 0.1], t=[1.0]).render("text")


def test_every_public_exception_and_to_onnx_are_exported():
    for name in [
        "DataError",
        "ModelFileError",
        "SpecError",
        "TrainingDivergedError",
        "TrainingDivergedWarning",
        "UnseenCategoryWarning",
        "to_onnx",
    ]:
        assert name in cr.__all__ and getattr(cr, name) is not None
    assert issubclass(cr.DataError, ValueError) and issubclass(cr.ModelFileError, ValueError)


def test_the_modules_0_1_bound_on_chainrule_are_there_with_a_warning():
    """``cr.callbacks.Callback`` and ``cr.data.Table`` worked in 0.1 (import side effects)."""
    for name, new in [("callbacks", "training.callbacks"), ("data", "tables.reading")]:
        vars(cr).pop(name, None)
        with pytest.warns(FutureWarning, match=rf"chainrule\.{new}"):
            module = getattr(cr, name)
        assert module is importlib.import_module(f"chainrule.{new}")
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        cr.nothing  # noqa: B018


def _scaled(X, y, *, weight=1.0):
    """Return ``weight * (X + y)``."""
    return weight * (X + y)


def test_renamed_arguments_accepts_the_old_keyword_with_a_warning():
    from chainrule.core.deprecation import renamed_arguments

    scaled = renamed_arguments(T="y", w="weight")(_scaled)
    assert scaled.__name__ == "_scaled" and scaled.__doc__ == _scaled.__doc__
    assert list(inspect.signature(scaled).parameters) == ["X", "y", "weight"]
    assert scaled(1.0, 2.0, weight=3.0) == scaled(1.0, y=2.0, weight=3.0) == 9.0
    with pytest.warns(
        FutureWarning, match=r"_scaled\(T=\.\.\.\) is deprecated .* use y=\.\.\."
    ) as rec:
        assert scaled(1.0, T=2.0) == 3.0
    assert rec[0].filename == __file__
    with pytest.warns(FutureWarning, match=r"_scaled\(w=\.\.\.\).* use weight=\.\.\."):
        assert scaled(1.0, 2.0, w=3.0) == 9.0


def test_renamed_arguments_refuses_both_spellings_and_an_unknown_new_name():
    from chainrule.core.deprecation import renamed_arguments

    scaled = renamed_arguments(T="y")(_scaled)
    with pytest.raises(TypeError, match=r"_scaled\(\) got both 'T' and 'y'; pass only 'y'"):
        scaled(1.0, y=2.0, T=2.0)
    with pytest.raises(TypeError, match="got both 'T' and 'y'"):
        scaled(1.0, 2.0, T=2.0)  # y given by position
    with pytest.raises(TypeError, match="has no parameter 'targets' to rename 'T' to"):
        renamed_arguments(T="targets")(_scaled)
