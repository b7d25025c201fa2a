"""Optimizers (update rules as torch.optim) and learning-rate schedules (:mod:`.schedules`)."""

from . import schedules
from .optimizers import LBFGS, SGD, AdaGrad, Adam, AdamW, Optimizer, RMSprop, get

__all__ = ["LBFGS", "SGD", "AdaGrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get", "schedules"]
