"""evaluate's metrics (issue 28) side by side with scikit-learn's on the same predictions: the
NumPy functions of chainrule.tables.report, TabularModel.evaluate a few rows at a time against
scikit-learn on all rows at once, and the command line's --metrics, --format json and --data."""

import csv
import json
import warnings

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.tables import model as table_model
from chainrule.tables import report
from chainrule.tables.reading import Table

sk = pytest.importorskip("sklearn.metrics")

REL = 1e-12  # the same numbers, summed in another order at most


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def probabilities(rng, n, k, *, ties=False):
    """Rows of class probabilities (float32 softmax outputs cast to float64, as a network's);
    with ``ties``, rounded so that many scores tie."""
    Z = rng.normal(size=(n, k)).astype(np.float32)
    if ties:
        Z = np.round(Z, 1)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    return (P / P.sum(axis=1, keepdims=True)).astype(np.float64)


def sklearn_classification(truth, P):
    """scikit-learn's numbers for true class indices and probabilities (labels 0..k-1)."""
    k = P.shape[1]
    predicted = P.argmax(axis=1)
    labels = list(range(k))
    expected = {
        "accuracy": sk.accuracy_score(truth, predicted),
        "balanced_accuracy": sk.balanced_accuracy_score(truth, predicted),
        "log_loss": sk.log_loss(truth, P, labels=labels),
        "confusion": sk.confusion_matrix(truth, predicted, labels=labels).tolist(),
    }
    for average in ("macro", "weighted"):
        p, r, f, _ = sk.precision_recall_fscore_support(
            truth, predicted, average=average, zero_division=0
        )
        expected.update({f"precision_{average}": p, f"recall_{average}": r, f"f1_{average}": f})
    p, r, f, s = sk.precision_recall_fscore_support(
        truth, predicted, labels=labels, average=None, zero_division=0
    )
    expected["per_class"] = [
        {"precision": a, "recall": b, "f1": c, "support": d}
        for a, b, c, d in zip(p, r, f, s, strict=True)
    ]
    if k == 2:
        expected["roc_auc"] = sk.roc_auc_score(truth, P[:, 1])
        expected["brier"] = sk.brier_score_loss(truth, P[:, 1])
        p, r, f, _ = sk.precision_recall_fscore_support(truth, predicted, average="binary")
        expected.update(precision=p, recall=r, f1=f)
    else:
        expected["roc_auc"] = sk.roc_auc_score(truth, P, multi_class="ovr", average="macro")
    return expected


def assert_same(ours: dict, theirs: dict, labels):
    for name, value in theirs.items():
        if name == "confusion":
            assert ours[name] == value
        elif name == "per_class":
            for label, scores in zip(labels, value, strict=True):
                assert ours[name][label] == pytest.approx(scores, rel=REL, abs=0), label
        else:
            assert ours[name] == pytest.approx(value, rel=REL, abs=0), name


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("ties", [False, True])
def test_classification_metrics_are_scikit_learn_s(k, ties):
    rng = np.random.default_rng(k + 10 * ties)
    n = 400
    truth = rng.integers(0, k, n)
    P = probabilities(rng, n, k, ties=ties)
    P[np.arange(n), truth] += 0.5 * rng.uniform(size=n)  # better than chance
    P /= P.sum(axis=1, keepdims=True)
    labels = [f"c{i}" for i in range(k)]
    ours = report.classification_metrics(truth, P, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_prob values do not sum to one": float32 rows
        theirs = sklearn_classification(truth, P)
    assert_same(ours, theirs, labels)
    assert list(ours["per_class"]) == labels
    assert ("positive_class" in ours) == (k == 2) and ("brier" in ours) == (k == 2)


def test_a_class_never_predicted_nor_true_is_left_out_of_the_averages_as_in_scikit_learn():
    """Class 2 is neither a true nor a predicted label: scikit-learn's default labels leave it
    out of the macro averages; balanced accuracy leaves out classes without true rows."""
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 200)
    P = probabilities(rng, 200, 3)
    P[:, 2] = 0.0
    P[np.arange(200), truth] += 1.0
    P[:10, 1 - truth[:10]] += 3.0  # a few mistakes
    P /= P.sum(axis=1, keepdims=True)
    ours = report.classification_metrics(truth, P, ["a", "b", "c"])
    predicted = P.argmax(axis=1)
    assert ours["f1_macro"] == pytest.approx(sk.f1_score(truth, predicted, average="macro"))
    assert ours["precision_weighted"] == pytest.approx(
        sk.precision_score(truth, predicted, average="weighted")
    )
    assert ours["balanced_accuracy"] == pytest.approx(sk.balanced_accuracy_score(truth, predicted))
    assert ours["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert ours["roc_auc"] is None  # one-vs-rest needs rows of every class
    assert ours["log_loss"] == pytest.approx(sk.log_loss(truth, P, labels=[0, 1, 2]), rel=REL)


def test_roc_auc_of_one_class_is_undefined_and_ranks_count_ties_as_halves():
    assert report.roc_auc(np.ones(5, bool), np.arange(5.0)) is None
    assert report.roc_auc(np.array([0, 1, 0, 1], bool), np.array([0.1, 0.5, 0.5, 0.9])) == 0.875
    assert sk.roc_auc_score([0, 1, 0, 1], [0.1, 0.5, 0.5, 0.9]) == 0.875


def test_log_loss_clips_a_probability_of_zero_as_scikit_learn():
    truth = np.array([0, 1, 1])
    P = np.array([[1.0, 0.0], [1.0, 0.0], [0.2, 0.8]])
    expected = sk.log_loss(truth, P)
    assert (
        report.log_loss(truth, P) == pytest.approx(expected, rel=REL) and expected > 10
    )  # -log(eps) / 3


def test_regression_metrics_are_scikit_learn_s():
    rng = np.random.default_rng(2)
    truth = 50 + 10 * rng.normal(size=300)
    truth[:3] = 0.0  # MAPE's eps floor
    predicted = truth + rng.normal(size=300)
    ours = report.regression_metrics(truth, predicted)
    theirs = sklearn_regression(truth, predicted)
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(value, rel=REL, abs=0), name
    constant = np.full(4, 2.0)
    assert report.r2_score(constant, constant) == sk.r2_score(constant, constant) == 1.0
    assert report.r2_score(constant, constant + 1) == sk.r2_score(constant, constant + 1) == 0.0


def sklearn_regression(truth, predicted) -> dict:
    """scikit-learn's regression metrics of ``predicted`` against ``truth``."""
    return {
        "mse": sk.mean_squared_error(truth, predicted),
        "rmse": sk.root_mean_squared_error(truth, predicted),
        "mae": sk.mean_absolute_error(truth, predicted),
        "r2": sk.r2_score(truth, predicted),
        "mape": sk.mean_absolute_percentage_error(truth, predicted),
        "median_absolute_error": sk.median_absolute_error(truth, predicted),
    }


def table_of(task, n=90, k=3, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = x @ [1.0, -2.0, 0.5] + rng.normal(scale=0.5, size=n)
    edges = np.quantile(y, np.linspace(0, 1, k + 1)[1:-1])
    labels = np.array([f"k{i}" for i in range(k)], object)[np.digitize(y, edges)]
    data = {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y if task == "regression" else labels}
    return Table("t.csv", ["a", "b", "c", "y"], data)


@pytest.mark.parametrize(
    "task,k", [("classification", 2), ("classification", 3), ("regression", 0)]
)
def test_evaluate_in_blocks_of_seven_rows_gives_scikit_learn_s_numbers_on_all_rows(
    monkeypatch, task, k
):
    """The network's outputs for each block of 7 rows, recorded as evaluate makes them, put
    together: scikit-learn's metrics of all of them at once are evaluate's."""
    table = table_of(task, k=max(k, 2))
    model = table_model.train_table(table, "y", hidden=(8,), epochs=5, verbose=0, seed=1).model
    rows = np.random.default_rng(0).permutation(90)[:60]
    monkeypatch.setattr(table_model, "EVALUATION_ROWS", 7)
    outputs, predict = [], model.network.predict
    monkeypatch.setattr(
        model.network, "predict", lambda X: outputs.append(predict(X)) or outputs[-1]
    )
    result = model.evaluate(table, rows=rows)
    assert result["rows"] == 60 and len(outputs) == 9
    Y = np.concatenate(outputs).astype(np.float64)
    part = table.take(rows)
    if task == "regression":
        predicted = Y[:, 0] * model.target_scale + model.target_mean
        truth = np.asarray(part.data["y"], dtype=np.float64)
        assert_same(result, sklearn_regression(truth, predicted), [])
        whole = model.predict(part)["prediction"]  # one block: the outputs to float32 rounding
        assert result["r2"] == pytest.approx(sk.r2_score(truth, whole), rel=1e-6)
        return
    truth = np.array([model.classes.index(v) for v in part.data["y"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(result, sklearn_classification(truth, Y), model.classes)
    assert result["accuracy"] == np.mean(model.predict(part)["prediction"] == part.data["y"])


def test_evaluate_with_no_rows_says_so():
    model = table_model.train_table(table_of("regression"), "y", epochs=1, verbose=0).model
    with pytest.raises(ValueError, match="no rows to evaluate"):
        model.evaluate(table_of("regression"), rows=np.array([], dtype=int))


def test_metric_names_per_task_and_their_checks():
    assert report.chosen_metrics(None, "classification", 3) == list(
        report.DEFAULTS["classification"]
    )
    assert report.chosen_metrics(" r2, mape ,r2", "regression") == ["r2", "mape"]
    assert "brier" in report.metric_names("classification", 2)
    assert "brier" not in report.metric_names("classification", 3)
    with pytest.raises(ValueError, match=r"unknown metric 'rocauc' \(did you mean 'roc_auc'\?\)"):
        report.chosen_metrics("rocauc", "classification", 2)
    with pytest.raises(ValueError, match="--metrics r2: a metric of regression models"):
        report.chosen_metrics("r2", "classification", 2)
    with pytest.raises(ValueError, match="needs two classes, and this model has 3"):
        report.chosen_metrics("brier", "classification", 3)
    with pytest.raises(ValueError, match="names no metric"):
        report.chosen_metrics(" , ", "regression")


# -- the command line -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    """A model of two classes, 'no' and 'yes', and its CSV."""
    folder = tmp_path_factory.mktemp("binary")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(120, 2))
    y = np.where(x[:, 0] - x[:, 1] + 0.8 * rng.normal(size=120) > 0, "yes", "no")
    path = folder / "b.csv"
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["u", "v", "y"])
        writer.writerows([[f"{a:.5f}", f"{b:.5f}", t] for (a, b), t in zip(x, y, strict=True)])
    model = folder / "b.npz"
    argv = ["train", path, "--target", "y", "--epochs", "20", "--out", model, "--quiet"]
    assert main([str(a) for a in argv]) == 0
    return model, path


def test_evaluate_prints_the_metrics_named_with_the_positive_class(capsys, binary):
    model, path = binary
    capsys.readouterr()
    code, out, _ = run(capsys, "evaluate", model, path, "--metrics", "precision,recall,f1,brier")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["rows:", "120"]
    assert [line.split(":")[0].strip() for line in lines] == [
        "rows",
        "precision",
        "recall",
        "f1",
        "brier",
    ]
    assert all(line.endswith("(positive class 'yes')") for line in lines[1:])
    code, out, _ = run(capsys, "evaluate", model, path, "--metrics", "per_class,recall_macro")
    assert "precision    recall        f1   support" in out and "confusion" not in out
    assert out.splitlines()[1].strip().startswith("recall_macro:")


def test_evaluate_text_by_default_is_the_short_set_and_json_is_everything(capsys, binary):
    model, path = binary
    capsys.readouterr()
    code, out, _ = run(capsys, "evaluate", model, path)
    names = [line.split(":")[0].strip() for line in out.split("\n\n")[0].splitlines()]
    assert names == ["rows", "accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"]
    assert "confusion matrix (rows: true class, columns: predicted)" in out
    code, out, _ = run(capsys, "evaluate", model, path, "--format", "json")
    everything = json.loads(out)
    assert set(report.CLASSIFICATION) <= set(everything)
    assert everything["positive_class"] == "yes" and everything["classes"] == ["no", "yes"]
    code, out, _ = run(capsys, "evaluate", model, path, "--format", "json", "--metrics", "roc_auc")
    assert json.loads(out) == {
        "classes": ["no", "yes"],
        "rows": 120,
        "positive_class": "yes",
        "roc_auc": everything["roc_auc"],
    }


def test_an_unknown_metric_is_one_line_with_a_suggestion_before_the_data_is_read(capsys, binary):
    model, _ = binary
    capsys.readouterr()
    code, out, err = run(capsys, "evaluate", model, "no-such.csv", "--metrics", "acuracy")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(
        "chainrule: error: --metrics: unknown metric 'acuracy' (did you mean 'accuracy'?); "
        "the metrics of this classification model are loss, accuracy, balanced_accuracy,"
    )


def test_regression_metrics_in_the_target_s_units(capsys, tmp_path, regression_csv):
    model = tmp_path / "r.npz"
    argv = ["train", regression_csv, "--target", "target", "--epochs", "5", "--out", model]
    assert run(capsys, *argv, "--quiet")[0] == 0
    code, out, _ = run(capsys, "evaluate", model, regression_csv)
    names = [line.split(":")[0].strip() for line in out.splitlines()]
    assert code == 0 and names == ["rows", "loss", "rmse", "mae", "r2"]
    code, out, _ = run(
        capsys, "evaluate", model, regression_csv, "--metrics", "mse,mape,median_absolute_error"
    )
    assert "mse: " in out and "(in squared units of 'target')" in out
    assert "(a fraction of |y|, not a percentage)" in out
    assert "median_absolute_error: " in out and "(in units of 'target')" in out
    code, _, err = run(capsys, "evaluate", model, regression_csv, "--metrics", "roc_auc")
    assert code == 2 and "--metrics roc_auc: a metric of classification models" in err


def test_evaluate_takes_a_built_in_dataset(capsys, tmp_path):
    model = tmp_path / "m.npz"
    assert (
        run(capsys, "train", "--data", "moons", "--epochs", "3", "--out", model, "--quiet")[0] == 0
    )
    code, out, _ = run(capsys, "evaluate", model, "--data", "moons", "--format", "json")
    result = json.loads(out)
    assert code == 0 and result["rows"] == 400 and 0 <= result["roc_auc"] <= 1
    code, _, err = run(capsys, "evaluate", model, "x.csv", "--data", "moons")
    assert code == 2 and err == "chainrule: error: give a CSV file or --data moons, not both\n"
    code, _, err = run(capsys, "evaluate", model)
    assert code == 2 and "give a CSV file, or --data NAME for a built-in dataset" in err
    code, _, err = run(capsys, "evaluate", model, "--data", "mons")
    assert code == 2 and "unknown dataset 'mons'" in err
