"""``from chainrule.sklearn import MLPClassifier, MLPRegressor`` (needs scikit-learn), the drop-in
for scikit-learn's MLP; ``TableClassifier`` and ``TableRegressor``, the table route on raw
DataFrames."""

from .estimators import (
    ChainruleUnpicklingError,
    ChainruleVersionWarning,
    MLPClassifier,
    MLPRegressor,
)
from .tables import TableClassifier, TableRegressor

__all__ = [
    "ChainruleUnpicklingError",
    "ChainruleVersionWarning",
    "MLPClassifier",
    "MLPRegressor",
    "TableClassifier",
    "TableRegressor",
]
