"""chainrule: backpropagation for multilayer perceptrons, from scratch on NumPy.

This module holds the public names. The design is in the subpackages, lowest first (see
``docs/architecture.md``): ``core`` (backpropagation), ``optim``, ``files``, ``training``,
``tables``, ``datasets``, ``explain``, ``sklearn``, ``onnx``, ``distributed``, ``playground``,
``cli``.
"""

import importlib

from . import explain, optim
from ._version import __version__
from .core import activations, initializers, losses
from .core.deprecation import MovedModules, warn_renamed
from .core.gradcheck import GradcheckResult, gradcheck
from .core.history import Callback, History
from .core.kernels import get_kernels, set_kernels, use_numba, using_numba
from .core.layers import Dense, Dropout, Embedding
from .core.network import MLP, Network
from .explain import SpecError, check
from .files.model_file import ModelFileError, load, save
from .onnx import from_sklearn, from_torch, to_onnx
from .tables.encoding import UnseenCategoryWarning
from .tables.model import TabularModel, TrainingDivergedError
from .tables.reading import DataError
from .training import metrics
from .training.callbacks import EarlyStopping, LambdaCallback
from .training.loop import TrainingDivergedWarning

__all__ = [
    "MLP",
    "Callback",
    "DataError",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "Embedding",
    "GradcheckResult",
    "History",
    "LambdaCallback",
    "ModelFileError",
    "Network",
    "SpecError",
    "TabularModel",
    "TrainingDivergedError",
    "TrainingDivergedWarning",
    "UnseenCategoryWarning",
    "__version__",
    "activations",
    "check",
    "explain",
    "from_sklearn",
    "from_torch",
    "gradcheck",
    "initializers",
    "load",
    "losses",
    "metrics",
    "optim",
    "get_kernels",
    "save",
    "set_kernels",
    "to_onnx",
    "use_numba",
    "using_numba",
]

# modules that moved into subpackages (0.2): the old import paths work, with a FutureWarning
_MOVED = {
    "activations": "core.activations",
    "callbacks": "training.callbacks",
    "checkpoint": "files.checkpoint",
    "data": "tables.reading",
    "encoding": "tables.encoding",
    "estimators": "sklearn.estimators",
    "evaluation": "training.evaluation",
    "fit_options": "training.options",
    "gradcheck": "core.gradcheck",
    "initializers": "core.initializers",
    "io": "files.model_file",
    "layers": "core.layers",
    "lbfgs": "training.lbfgs",
    "losses": "core.losses",
    "metrics": "training.metrics",
    "network": "core.network",
    "plots": "files.figures",
    "progress": "training.progress",
    "schedules": "optim.schedules",
    "tabular": "tables.model",
    "train": "training.loop",
}
MovedModules(__name__, _MOVED).install()


# a class's exercises and their grading (chainrule.teaching), imported on first use: importing
# chainrule imports neither typst nor matplotlib
_TEACHING = ("exercise", "grade")


def __getattr__(name):
    """``chainrule.exercise`` and ``chainrule.grade`` (from :mod:`chainrule.teaching`, imported
    on first use); ``chainrule.callbacks``, ``chainrule.schedules``...: the modules 0.1 bound
    here."""
    if name in _TEACHING:
        return getattr(importlib.import_module(f"{__name__}.teaching"), name)
    if name not in _MOVED:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    warn_renamed(f"chainrule.{name}", f"chainrule.{_MOVED[name]}")
    return importlib.import_module(f"{__name__}.{_MOVED[name]}")
