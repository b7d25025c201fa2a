"""What :meth:`TabularModel.evaluate <chainrule.tables.model.TabularModel.evaluate>` and
``chainrule evaluate`` report: the standard classification and regression metrics, computed
as scikit-learn computes them (``sklearn.metrics``, with its default arguments; NumPy only, as
scikit-learn is an optional extra), over every row at once.

The rows go through the network a block at a time; what each block leaves is small (each
row's true class and the float64 probabilities of its classes, ``n x k`` numbers, or its true
and predicted value), so the metrics are computed on all of them together and equal
scikit-learn's on the same predictions, however the rows were split into blocks (or over the
processes of an MPI group).

Notation: ``n`` rows, ``k`` classes, ``C`` the confusion matrix (``C[i, j]`` the rows of true
class ``i`` predicted as ``j``); for class ``c``: ``tp_c = C[c, c]``, ``true_c = sum_j C[c, j]``
(its support), ``pred_c = sum_i C[i, c]``. A ratio whose denominator is 0 is 0, as
scikit-learn's ``zero_division='warn'`` gives (without the warning).
"""

from __future__ import annotations

import numpy as np

from ..core.terminal import printable
from .reading import did_you_mean, numeric_column

__all__ = [
    "CLASSIFICATION",
    "DEFAULTS",
    "POSITIVE_CLASS",
    "REGRESSION",
    "Tally",
    "accuracy",
    "average_ranks",
    "balanced_accuracy",
    "brier_score",
    "chosen_metrics",
    "classification_metrics",
    "confusion_matrix",
    "log_loss",
    "metric_names",
    "per_class_scores",
    "r2_score",
    "regression_metrics",
    "roc_auc",
    "roc_auc_ovr",
    "selected",
    "text_report",
]

Array = np.ndarray

#: The names ``evaluate`` reports for a classifier, in the order it shows them (after
#: ``positive_class``, the label of the second of two classes).
CLASSIFICATION = (
    "loss",
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "log_loss",
    "brier",
    "per_class",
    "confusion",
)

#: Those of a classifier that belong to the positive class (the second of two classes).
POSITIVE_CLASS = ("precision", "recall", "f1", "brier")

#: The names ``evaluate`` reports for a regression model, in the order it shows them.
REGRESSION = ("loss", "mse", "rmse", "mae", "r2", "mape", "median_absolute_error")

#: What ``chainrule evaluate`` prints without ``--metrics``.
DEFAULTS = {
    "classification": (
        "accuracy",
        "balanced_accuracy",
        "f1_macro",
        "roc_auc",
        "log_loss",
        "confusion",
    ),
    "regression": ("loss", "rmse", "mae", "r2"),
}


# -- classification ------------------------------------------------------------------------------


def confusion_matrix(truth: Array, predicted: Array, k: int) -> Array:
    """``C[i, j]``: the number of rows of true class ``i`` predicted as class ``j`` (int64)."""
    return np.bincount(truth * k + predicted, minlength=k * k).reshape(k, k)


def _ratio(numerator: Array, denominator: Array) -> Array:
    """``numerator / denominator`` elementwise, 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    return np.divide(numerator, denominator, out=out, where=denominator != 0)


def accuracy(confusion: Array) -> float:
    """``sum_c tp_c / n``: the fraction of rows whose predicted class is the true one."""
    return float(np.trace(confusion) / confusion.sum())


def balanced_accuracy(confusion: Array) -> float:
    """The mean over the classes that have rows of their recall ``tp_c / true_c``
    (scikit-learn's ``balanced_accuracy_score``: a class absent from the true labels is left
    out)."""
    support = confusion.sum(axis=1)
    has_rows = support > 0
    return float(np.mean(np.diag(confusion)[has_rows] / support[has_rows]))


def per_class_scores(confusion: Array) -> tuple[Array, Array, Array, Array]:
    """Each class's precision ``tp_c / pred_c``, recall ``tp_c / true_c``, F1
    ``2 tp_c / (true_c + pred_c)`` (the harmonic mean of the two) and support ``true_c``
    (scikit-learn's ``precision_recall_fscore_support(average=None)``)."""
    tp = np.diag(confusion)
    true, pred = confusion.sum(axis=1), confusion.sum(axis=0)
    return _ratio(tp, pred), _ratio(tp, true), _ratio(2 * tp, true + pred), true


def _averages(scores: Array, confusion: Array, support: Array) -> tuple[float, float]:
    """The ``'macro'`` and ``'weighted'`` averages of per-class scores: the plain mean and the
    mean weighted by support, over the classes that are a true or a predicted label of some row
    (scikit-learn's labels when none are given)."""
    seen = (confusion.sum(axis=0) + confusion.sum(axis=1)) > 0
    return (
        float(np.mean(scores[seen])),
        float(np.average(scores[seen], weights=support[seen])),
    )


def average_ranks(values: Array) -> Array:
    """The rank of each value from 1 (smallest), tied values sharing the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    return (last - (counts - 1) / 2.0)[inverse.ravel()]


def roc_auc(positive: Array, scores: Array) -> float | None:
    """The area under the ROC curve: the probability that a positive row scores above a
    negative one, ties counting one half (Mann-Whitney), from the scores' ranks::

        AUC = (sum of the positives' ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg)

    scikit-learn's ``roc_auc_score`` (the trapezoids under ``roc_curve``) equals it. None when
    every row is positive or every row negative (scikit-learn warns and returns NaN)."""
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    rank_sum = float(average_ranks(scores)[positive].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def roc_auc_ovr(truth: Array, P: Array) -> float | None:
    """ROC AUC of a classifier: for two classes the second's (``P[:, 1]`` as its score); for
    more, one-vs-rest, macro-averaged: the mean over the classes ``c`` of the AUC of
    ``truth == c`` scored by ``P[:, c]`` (scikit-learn's ``roc_auc_score(multi_class='ovr')``).
    None when a class has no row (the AUC of that class is undefined)."""
    k = P.shape[1]
    if k == 2:
        return roc_auc(truth == 1, P[:, 1])
    if np.unique(truth).size < k:
        return None
    return float(np.mean([roc_auc(truth == c, P[:, c]) for c in range(k)]))


def log_loss(truth: Array, P: Array) -> float:
    """``-(1/n) sum_i log p_i[y_i]``, each probability clipped to ``[eps, 1 - eps]`` (``eps`` of
    float64), as scikit-learn's ``log_loss``; ``P`` is used as given (scikit-learn no longer
    rescales rows to sum to 1)."""
    eps = np.finfo(np.float64).eps
    chosen = np.clip(P[np.arange(len(truth)), truth], eps, 1 - eps)
    return float(np.mean(-np.log(chosen)))


def brier_score(positive: Array, p: Array) -> float:
    """``(1/n) sum_i (p_i - o_i)^2``, ``o_i`` 1 for a positive row and 0 otherwise, ``p_i`` its
    predicted probability of the positive class (scikit-learn's ``brier_score_loss`` on that
    column)."""
    return float(np.mean((np.asarray(positive, dtype=np.float64) - p) ** 2))


def classification_metrics(truth: Array, P: Array, classes: list[str]) -> dict:
    """Every classification metric of :data:`CLASSIFICATION` but the loss, for rows of true
    class indices ``truth`` and class probabilities ``P`` (``n x k``, float64), the predicted
    class being the most probable (the first, on a tie). With two classes, ``positive_class``
    names the second, whose precision, recall, F1 and Brier score are given too."""
    k = len(classes)
    confusion = confusion_matrix(truth, P.argmax(axis=1), k)
    precision, recall, f1, support = per_class_scores(confusion)
    result = {"accuracy": accuracy(confusion), "balanced_accuracy": balanced_accuracy(confusion)}
    if k == 2:
        result["positive_class"] = classes[1]
        result.update(precision=float(precision[1]), recall=float(recall[1]), f1=float(f1[1]))
    for name, scores in (("precision", precision), ("recall", recall), ("f1", f1)):
        result[f"{name}_macro"], result[f"{name}_weighted"] = _averages(scores, confusion, support)
    result["roc_auc"] = roc_auc_ovr(truth, P)
    result["log_loss"] = log_loss(truth, P)
    if k == 2:
        result["brier"] = brier_score(truth == 1, P[:, 1])
    result["per_class"] = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
    }
    result["confusion"] = confusion.tolist()
    order = ("positive_class", *CLASSIFICATION)
    return {name: result[name] for name in sorted(result, key=order.index)}


# -- regression ----------------------------------------------------------------------------------


def r2_score(truth: Array, predicted: Array) -> float:
    """``1 - sum (y - yhat)^2 / sum (y - mean y)^2``; when every ``y`` is the same, 1 for
    exact predictions and 0 otherwise (scikit-learn's ``force_finite``)."""
    residual = float(np.sum((truth - predicted) ** 2))
    total = float(np.sum((truth - np.mean(truth)) ** 2))
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return 1.0 - residual / total


def regression_metrics(truth: Array, predicted: Array) -> dict:
    """Every regression metric of :data:`REGRESSION` but the loss, in the target's units:
    ``mse = mean (y - yhat)^2``, ``rmse = sqrt(mse)``, ``mae = mean |y - yhat|``, ``r2`` (see
    :func:`r2_score`), ``mape = mean |y - yhat| / max(|y|, eps)`` (a fraction, not a percentage;
    ``eps`` of float64, so a target of 0 gives a huge term, as in scikit-learn) and
    ``median_absolute_error = median |y - yhat|``."""
    errors = np.abs(truth - predicted)
    mse = float(np.mean(errors**2))
    eps = np.finfo(np.float64).eps
    return {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": float(np.mean(errors)),
        "r2": r2_score(truth, predicted),
        "mape": float(np.mean(errors / np.maximum(np.abs(truth), eps))),
        "median_absolute_error": float(np.median(errors)),
    }


# -- over blocks of rows -------------------------------------------------------------------------


class Tally:
    """What :meth:`TabularModel.evaluate` keeps from blocks of rows: each block's loss and size,
    and per row its true class and class probabilities (classification) or its true and
    predicted value in the target's units (regression); :meth:`result` gathers them over a
    process group and computes every metric on all the rows at once."""

    def __init__(self, model):
        self.model = model
        self.losses, self.sizes, self.truth, self.outputs = [], [], [], []

    def add(self, X: Array, T: Array, table) -> None:
        """One block: its inputs ``X``, targets ``T`` (class indices, or the standardised
        target, as the network trains on) and its rows ``table`` (for the target's values)."""
        n, model = len(T), self.model
        if not n:  # with a group, a process may hold none of the rows
            return
        Y = model.network.predict(X).astype(np.float64)
        self.losses.append(model.network.compute_loss(X, T))
        self.sizes.append(n)
        if model.task == "classification":
            self.truth.append(np.asarray(T, dtype=np.intp))
            self.outputs.append(Y)
            return
        self.truth.append(numeric_column(table, model.target))
        self.outputs.append(model.in_target_units(Y))

    def _mean_loss(self) -> float:
        """The mean loss over this process's rows: one block's as computed, else the blocks'
        losses weighted by their rows."""
        if len(self.losses) <= 1:
            return self.losses[0] if self.losses else 0.0
        return float(np.dot(self.losses, self.sizes) / sum(self.sizes))

    def _gathered(self, parts: list, group, width: int, dtype) -> Array:
        """This process's rows of ``parts`` after every other process's, in rank order."""
        mine = np.concatenate(parts) if parts else np.empty((0, width) if width else 0, dtype)
        if width:
            return group.gather(mine.ravel()).reshape(-1, width)
        return group.gather(mine)

    def result(self, group) -> dict:
        """``rows``, ``loss`` and the metrics of every process's rows."""
        rows = int(group.sum([sum(self.sizes)])[0])
        if rows == 0:
            raise ValueError("there are no rows to evaluate")
        loss = group.weighted_mean(self._mean_loss(), sum(self.sizes))
        model = self.model
        if model.task == "classification":
            truth = self._gathered(self.truth, group, 0, np.intp).astype(np.intp)
            P = self._gathered(self.outputs, group, len(model.classes), np.float64)
            return {"rows": rows, "loss": loss, **classification_metrics(truth, P, model.classes)}
        truth = self._gathered(self.truth, group, 0, np.float64)
        predicted = self._gathered(self.outputs, group, 0, np.float64)
        return {"rows": rows, "loss": loss, **regression_metrics(truth, predicted)}


# -- choosing and showing ------------------------------------------------------------------------


def metric_names(task: str, n_classes: int = 0) -> tuple[str, ...]:
    """The names ``evaluate`` can show for a model: :data:`CLASSIFICATION` (without the
    positive class's for more than two classes) or :data:`REGRESSION`."""
    if task == "regression":
        return REGRESSION
    if n_classes == 2:
        return CLASSIFICATION
    return tuple(name for name in CLASSIFICATION if name not in POSITIVE_CLASS)


def chosen_metrics(text: str | None, task: str, n_classes: int = 0) -> list[str]:
    """The metrics ``--metrics a,b,...`` names (:data:`DEFAULTS` without it), each checked.

    Raises
    ------
    ValueError
        One line naming the first unknown name, the closest known one, and every known one.
    """
    if text is None:
        return list(DEFAULTS[task])
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    known = metric_names(task, n_classes)
    if not names:
        raise ValueError(
            f"--metrics names no metric, got {text!r}; the known ones: {', '.join(known)}"
        )
    for name in names:
        if name not in known:
            raise ValueError(_unknown_metric(name, task, n_classes, known))
    return names


def _unknown_metric(name: str, task: str, n_classes: int, known) -> str:
    """Why ``name`` is not a metric of this model, with the closest known name."""
    listed = f"the metrics of this {task} model are {', '.join(known)}"
    if name in POSITIVE_CLASS and task == "classification":
        return (
            f"--metrics {name}: the positive class's {name} needs two classes, and this model "
            f"has {n_classes} (per_class shows each class's); {listed}"
        )
    if name in CLASSIFICATION or name in REGRESSION:
        other = "classification" if task == "regression" else "regression"
        return f"--metrics {name}: a metric of {other} models; {listed}"
    return f"--metrics: unknown metric {name!r}{did_you_mean(name, known)}; {listed}"


def selected(result: dict, names: list[str]) -> dict:
    """``result`` (of :meth:`TabularModel.evaluate`) restricted to ``rows`` and ``names``, with
    ``positive_class`` where a positive class's metric is among them."""
    shown = {"rows": result["rows"]}
    if "positive_class" in result and any(n in POSITIVE_CLASS or n == "roc_auc" for n in names):
        shown["positive_class"] = result["positive_class"]
    return {**shown, **{name: result[name] for name in names}}


def _notes(model) -> dict:
    """What to say after a value: its units, or the class it is about."""
    units = f" (in units of {model.target!r})"
    if model.task == "regression":
        return {
            "loss": " (on the standardised target)",
            "mse": f" (in squared units of {model.target!r})",
            "rmse": units,
            "mae": units,
            "median_absolute_error": units,
            "mape": " (a fraction of |y|, not a percentage)",
        }
    if len(model.classes) == 2:
        positive = f" (positive class {model.classes[1]!r})"
        return {name: positive for name in (*POSITIVE_CLASS, "roc_auc")}
    return {"roc_auc": " (one-vs-rest, macro average)"}


def _value(value) -> str:
    if value is None:
        return "undefined (a class has no rows)"
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def text_report(result: dict, names: list[str], model) -> list[str]:
    """The lines ``chainrule evaluate`` prints: ``rows`` and each scalar metric of ``names`` as
    ``name: value (note)``, then the per-class table and the confusion matrix when named.
    Labels come from a file: they are shown escaped (:func:`~chainrule.core.terminal.printable`),
    and the columns are lined up on what is shown."""
    scalars = ["rows", *(n for n in names if n not in ("per_class", "confusion"))]
    width = max(len(name) for name in scalars)
    notes = _notes(model)
    lines = [
        printable(f"{name:>{width}}: {_value(result[name])}{notes.get(name, '')}")
        for name in scalars
    ]
    if "per_class" in names:
        lines += ["", *_per_class_lines(result["per_class"])]
    if "confusion" in names:
        lines += ["", *_confusion_lines(result["confusion"], model.classes)]
    return lines


def _per_class_lines(per_class: dict) -> list[str]:
    """Each class's precision, recall, F1 and support, a row each (as scikit-learn's
    ``classification_report``)."""
    labels = {printable(label): scores for label, scores in per_class.items()}
    width = max(9, *(len(label) for label in labels)) + 2
    lines = [" " * width + "".join(f"{h:>10}" for h in ("precision", "recall", "f1", "support"))]
    for label, scores in labels.items():
        values = [f"{scores[key]:>10.4f}" for key in ("precision", "recall", "f1")]
        lines.append(f"{label:>{width}}" + "".join(values) + f"{scores['support']:>10}")
    return lines


def _confusion_lines(confusion: list, classes: list[str]) -> list[str]:
    """The confusion matrix under a heading, a row per true class."""
    classes = [printable(c) for c in classes]
    width = max(len(c) for c in classes) + 2
    lines = ["confusion matrix (rows: true class, columns: predicted)"]
    lines.append(" " * width + "".join(f"{c:>{width}}" for c in classes))
    for label, row in zip(classes, confusion, strict=True):
        lines.append(f"{label:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    return lines
