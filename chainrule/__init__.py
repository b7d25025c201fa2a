"""chainrule: backpropagation for multilayer perceptrons, from scratch on NumPy."""

from . import activations, initializers, losses
from .gradcheck import GradcheckResult, gradcheck
from .layers import Dense, Dropout
from .network import MLP, Network

__version__ = "0.1.0"

__all__ = [
    "Dense",
    "Dropout",
    "GradcheckResult",
    "MLP",
    "Network",
    "activations",
    "gradcheck",
    "initializers",
    "losses",
    "__version__",
]
