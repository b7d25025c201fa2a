"""``from chainrule.sklearn import MLPClassifier, MLPRegressor`` (needs scikit-learn)."""

from .estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
