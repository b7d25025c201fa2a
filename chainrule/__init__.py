"""chainrule: backpropagation for multilayer perceptrons, from scratch on NumPy."""

from . import activations, initializers, losses, metrics, optim, schedules
from ._kernels import use_numba, using_numba
from ._version import __version__
from .callbacks import Callback, EarlyStopping, History, LambdaCallback
from .explain import check, explain
from .gradcheck import GradcheckResult, gradcheck
from .io import ModelFileError, load, save
from .layers import Dense, Dropout
from .network import MLP, Network
from .onnx import from_sklearn, from_torch
from .tabular import TabularModel
from .train import TrainingDivergedWarning

__all__ = [
    "MLP",
    "Callback",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "GradcheckResult",
    "History",
    "LambdaCallback",
    "ModelFileError",
    "Network",
    "TabularModel",
    "TrainingDivergedWarning",
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
    "save",
    "schedules",
    "use_numba",
    "using_numba",
]
