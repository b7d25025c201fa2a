"""``from chainrule.sklearn import MLPClassifier, MLPRegressor`` (needs scikit-learn)."""

from .estimators import (
    ChainruleUnpicklingError,
    ChainruleVersionWarning,
    MLPClassifier,
    MLPRegressor,
)

__all__ = ["ChainruleUnpicklingError", "ChainruleVersionWarning", "MLPClassifier", "MLPRegressor"]
