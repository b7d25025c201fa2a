"""Commands for tables: ``train``, ``evaluate``, ``predict``, ``info``, ``gradcheck``,
``datasets``."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io as text_io
import json
import os
import sys
import warnings

import numpy as np

from ..core.activations import NAMES as ACTIVATIONS
from ..core.history import Callback
from ..core.losses import NAMES as LOSSES
from ..core.terminal import printable
from ..core.validation import CONSTRAINTS, Interval
from ..files.atomic import atomic_open
from ..files.header import MAX_WIDTH
from ..tables.encoding import (
    IMPUTE,
    MIN_FREQUENCY,
    SCALING,
    FilledGapsWarning,
    UnseenCategoryWarning,
    infrequent_count,
)
from .common import (
    CommandError,
    add_renamed_flag,
    check_output,
    flag_type,
    option_type,
    plain_warnings,
    positive_int,
    stopped,
    write_text,
)

__all__ = ["DEFAULT_OUT", "EXAMPLES", "HelpFormatter", "STRICT", "add_commands"]


def _table(args):
    """The table and target; with ``--distributed``, this rank's block of the rows."""
    from ..datasets import load_dataset
    from ..tables.reading import dataset_table

    group = getattr(args, "distributed", None)
    if getattr(args, "data", None):
        dataset = load_dataset(args.data)
        table = dataset_table(dataset)
        return (table.take(group.block(table.n_rows)) if group else table), dataset.target_name
    if not args.csv:
        raise CommandError(
            "give a CSV file, or --data NAME for a built-in dataset (chainrule datasets lists them)"
        )
    if group:
        from ..distributed import read_rows

        with _rank_0_tells(group):
            return read_rows(args.csv, group, decimal=args.decimal), args.target
    return _read(args), args.target


@contextlib.contextmanager
def _rank_0_tells(group):
    """Within the block, warnings are one line each, from rank 0 alone with a ``group`` (every
    rank would say the same)."""
    with plain_warnings():
        if group and group.rank != 0:
            warnings.simplefilter("ignore")
        yield


def _read(args):
    """The CSV file (``--decimal`` its numbers' mark), its warnings one line each."""
    from ..tables.reading import read_csv

    with plain_warnings():
        return read_csv(args.csv, decimal=args.decimal)


def _names(text: str | None) -> list[str] | None:
    """Column names given as ``a,b,c``."""
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise CommandError(f"--hidden must list layer widths like 64,32, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise CommandError(f"--hidden widths must be >= 1, got {text!r}")
    if any(size > MAX_WIDTH for size in sizes):
        raise CommandError(f"--hidden widths must be at most {MAX_WIDTH}, got {text!r}")
    return sizes


def _print_summary(run, train_metrics, validation_metrics, *, plain: bool = False) -> None:
    """The metrics table and what was kept; ``plain``: no terminal styling (under ``mpirun``
    a rank's stdout is a pseudo-terminal even when mpirun's own is a file)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    keys = [k for k in ("loss", "accuracy", "mse", "rmse", "mae", "r2") if k in train_metrics]
    target = escape(repr(run.model.target))  # a column name is no markup
    table = Table(title=f"chainrule: {run.model.task} of {target}")
    table.add_column("")
    regression = run.model.task == "regression"
    for key in keys:
        label = "loss (standardised)" if key == "loss" and regression else key
        table.add_column(label, justify="right")
    table.add_row(
        f"training ({train_metrics['rows']} rows)", *[f"{train_metrics[k]:.4g}" for k in keys]
    )
    if validation_metrics:
        table.add_row(
            f"validation ({validation_metrics['rows']} rows)",
            *[f"{validation_metrics[k]:.4g}" for k in keys],
        )
    if regression:
        table.caption = f"mse, rmse and mae in the units of {target}"
    Console(file=sys.stdout, width=100, force_terminal=False if plain else None).print(table)
    history = run.history
    print(
        f"{len(history.epoch)} epochs in {run.seconds:.2f} s"
        + (f"; {history.stop_reason}" if history.stop_reason else "")
    )
    if run.model.kept_epoch:
        print(
            f"kept the parameters of epoch {run.model.kept_epoch}, the lowest validation loss "
            "(--keep last keeps the last epoch's)"
        )


def _check_outputs(args, table, target) -> None:
    """Every output option, checked before training: folders, formats, what --boundary needs."""
    from ..tables.model import plan

    outputs = {"--out": args.out, "--plot": args.plot, "--boundary": args.boundary}
    outputs["--save-interrupted"] = args.save_interrupted
    targets = {}
    for option, path in outputs.items():
        if path is None:
            continue
        real = check_output(path, option, {"the CSV file": getattr(args, "csv", None)})
        if real in targets:
            raise CommandError(f"{targets[real]} and {option} name the same file {path!r}")
        targets[real] = option
    if args.plot or args.boundary:
        from ..files.figures import check_format

        for option in ("--plot", "--boundary"):
            if getattr(args, option[2:]):
                check_format(getattr(args, option[2:]), option)
    if args.boundary and args.missing_indicators:
        raise CommandError(
            "--boundary draws a network of exactly two inputs, and --missing-indicators adds "
            "one for each column with missing cells; leave out one of them"
        )
    if args.boundary:
        with warnings.catch_warnings():  # its notes come once, from training
            warnings.simplefilter("ignore", UserWarning)
            task, features = plan(
                table,
                target,
                args.task,
                features=_names(args.features),
                drop=[*(_names(args.drop) or ()), *_weight_column(args, table)],
                group=args.distributed or None,
            )
        if task != "classification" or len(features) != 2:
            raise CommandError(
                f"--boundary needs a classifier on exactly two feature columns, got a {task} "
                f"on {len(features)} ({', '.join(features)})"
            )


def _weight_column(args, table) -> list[str]:
    """The --sample-weight column, when the table has it (training names one it lacks)."""
    return [args.sample_weight] if args.sample_weight in table.columns else []


def _train(args) -> int:
    """The ``train`` command: check the outputs, train, then write every output or none."""
    if args.cv is not None:
        return _cross_validate(args)
    if args.distributed is True:
        from .distributed import on_ranks

        return on_ranks(_train, args)  # back here with args.distributed the MPI group
    if args.out is None:  # the default file is written, but replaced only when named
        if os.path.lexists(DEFAULT_OUT):
            raise CommandError(
                f"{DEFAULT_OUT} exists; pass --out {DEFAULT_OUT} to replace it, or another --out"
            )
        args.out = DEFAULT_OUT
    table, target = _table(args)
    _check_target_named(table, target)
    group = args.distributed or None
    table = _rows_with_target(args, table, target, group)
    _check_outputs(args, table, target)
    return _train_and_write(args, table, target, group)


def _check_target_named(table, target) -> None:
    """A CommandError when no --target was given (a built-in dataset names its own)."""
    if target is None:
        raise CommandError(
            f"pass --target COLUMN to name the column to predict, e.g. --target "
            f"{table.columns[-1]}; the columns are {', '.join(table.columns)}"
        )


def _train_and_write(args, table, target, group) -> int:
    """Train on the table, then write every output or none and report (rank 0 alone)."""
    from ..tables.model import TrainingDivergedError, TrainingInterrupted

    try:
        run = _fit(args, table, target, group)
    except TrainingDivergedError as error:
        return _diverged(args, error, group)
    except TrainingInterrupted as interrupt:
        return _interrupted(args, interrupt, group)
    train_metrics, validation_metrics = _run_metrics(run, table, group)
    boundary = _boundary_data(args, run.model, table, group)
    if group and group.rank != 0:
        return 0  # rank 0 writes and prints
    return _write_and_report(args, run, boundary, (train_metrics, validation_metrics), group)


def _cross_validate(args) -> int:
    """``train --cv K``: each fold's metrics on the rows it held out, their mean and standard
    deviation; then, with --out, the final model on all the rows, as without --cv."""
    from ..tables.model import TrainingDivergedError, TrainingInterrupted, cross_validate

    _check_cv_options(args)
    table, target = _table(args)
    _check_target_named(table, target)
    table = _rows_with_target(args, table, target, None)
    if args.out is not None:
        _check_outputs(args, table, target)  # before any training
    options = _route_options(args)
    if not args.quiet:  # which fold the progress display is about
        options["callbacks"] = [_FoldHeading(args.cv)]
    try:
        with plain_warnings():
            results = cross_validate(table, target, args.cv, **options)
    except TrainingDivergedError as error:
        print(f"chainrule: error: {error} Nothing was written.", file=sys.stderr)
        return 1
    except TrainingInterrupted as interrupt:
        line, code = stopped(interrupt.run.history.stop_reason)
        print(f"{line} during cross-validation; nothing was written", file=sys.stderr)
        return code
    for line in _fold_lines(args, results, target):
        print(printable(line))
    if args.out is None:
        print(
            f"no model written (--out FILE trains the final model on all {table.n_rows} rows "
            "after the folds)"
        )
        return 0
    print(f"the final model, trained on all {table.n_rows} rows as without --cv:")
    return _train_and_write(args, table, target, None)


class _FoldHeading(Callback):
    """``fold k of K`` on stderr as each fold's training begins (before its progress)."""

    def __init__(self, folds: int):
        self.folds, self.fold = folds, 0

    def on_train_begin(self, logs) -> None:
        self.fold += 1
        print(f"fold {self.fold} of {self.folds}", file=sys.stderr)


def _check_cv_options(args) -> None:
    """--cv's companions: not --distributed; the final model's outputs only with --out."""
    if args.distributed:
        raise CommandError(
            f"--cv {args.cv} trains its {args.cv} models one after another in one process; "
            "it cannot run with --distributed (leave out one of them)"
        )
    if args.out is None:
        for option in ("--plot", "--boundary", "--save-interrupted"):
            if getattr(args, option[2:].replace("-", "_")):
                raise CommandError(
                    f"{option} is for the final model, which --cv trains only with --out "
                    f"FILE; pass --out too, or leave out {option}"
                )


def _fold_lines(args, results: list[dict], target: str) -> list[str]:
    """The lines of ``train --cv``'s table: a heading, a row per fold (its held-out rows and
    the metrics ``evaluate`` shows by default), then their mean and standard deviation."""
    from ..tables.report import DEFAULTS

    task = "classification" if "accuracy" in results[0] else "regression"
    names = [name for name in DEFAULTS[task] if name not in ("per_class", "confusion")]
    folds = "shuffled folds" + (" stratified by class" if task == "classification" else "")
    rows = [[str(r["fold"]), str(r["rows"]), *(_cell(r[n]) for n in names)] for r in results]
    for label, summary in (("mean", np.mean), ("std", np.std)):
        values = [[r[n] for r in results if r[n] is not None] for n in names]
        rows.append([label, "", *(_cell(summary(v) if v else None) for v in values)])
    header = ["fold", "rows", *names]
    widths = [max(len(row[j]) for row in [header, *rows]) for j in range(len(header))]
    lines = [
        f"{args.cv}-fold cross-validation of {target!r} ({task}; {folds}, --seed {args.seed})",
        "the scores of each fold's model on the rows it held out:",
    ]
    for row in [header, *rows]:
        lines.append("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    return lines


def _cell(value) -> str:
    """A metric as the --cv table shows it: 4 decimals (4 significant digits when large)."""
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"


def _rows_with_target(args, table, target, group):
    """The rows that have a target: with --drop-missing-target the others are left out (said in
    one line, by rank 0); without it, a missing target is an error naming the row and the
    option."""
    from ..tables.reading import rows_with_target

    with _rank_0_tells(group):
        return rows_with_target(table, target, drop=args.drop_missing_target, group=group)[0]


def _fit(args, table, target, group):
    """The training run the options ask for, its warnings one line each (rank 0's only)."""
    from ..tables.model import train_table

    with plain_warnings():
        if group and group.rank != 0:  # rank 0 tells
            warnings.simplefilter("ignore")
        return train_table(table, target, group=group, **_route_options(args))


def _route_options(args) -> dict:
    """train_table's options as the command line gives them (all but the MPI group)."""
    return dict(
        task=args.task,
        hidden=_hidden(args.hidden),
        activation=args.activation,
        loss=args.loss,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        early_stopping=args.early_stopping,
        patience=args.patience,
        seed=args.seed,
        verbose=0 if args.quiet else 1,
        features=_names(args.features),
        drop=_names(args.drop) or (),
        categorical=_names(args.categorical) or (),
        impute=args.impute,
        missing_indicators=args.missing_indicators,
        min_frequency=args.min_frequency,
        scaling=args.scaling,
        keep=args.keep,
        sample_weight=args.sample_weight,
        class_weight=args.class_weight,
        dropout=args.dropout,
        l2=args.l2,
        input_scale=args.input_scale,
        embedding_size=args.embedding_size,
    )


def _diverged(args, error, group) -> int:
    """Say (rank 0) that training diverged and --out was left as it was; exit code 1."""
    if not group or group.rank == 0:
        print(f"chainrule: error: {error} {args.out} was left as it was.", file=sys.stderr)
    return 1


def _interrupted(args, interrupt, group) -> int:
    """After Ctrl-C or SIGTERM: the model of that step to --save-interrupted if asked, one line."""
    kept = ""
    if args.save_interrupted and (not group or group.rank == 0):
        interrupt.run.model.save(args.save_interrupted)
        kept = f"; the model of that step was written to {args.save_interrupted}"
    line, code = stopped(interrupt.run.history.stop_reason)
    if not group or group.rank == 0:
        print(f"{line}; {args.out} was left as it was{kept}", file=sys.stderr)
    return code


def _run_metrics(run, table, group):
    """The metrics on the training rows and on the validation rows (None without them)."""
    model = run.model
    with warnings.catch_warnings():  # an unseen category, a filled gap: said in training
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        warnings.simplefilter("ignore", FilledGapsWarning)
        train_metrics = _evaluate_rows(model, table, run.train_rows, group)
        validation_metrics = (
            _evaluate_rows(model, table, run.validation_rows, group)
            if run.validation_rows is not None
            else None
        )
    return train_metrics, validation_metrics


def _boundary_data(args, model, table, group):
    """With --boundary, the inputs and class indices to draw (every rank's); else None."""
    if not args.boundary:
        return None
    from ..tables.encoding import encode

    X, T = encode(table, model.columns), model.labels_to_indices(table)
    if group:
        X, T = np.vstack(group.collect(X)), group.gather(T)
    return X, T


def _write_and_report(args, run, boundary, metrics, group) -> int:
    """Write every output or none, then print the summary and what was written."""
    from ..files.atomic import staged_writes

    files = None
    try:
        with staged_writes() as files:  # every output, or none
            _write_outputs(args, run, boundary, files)
        _print_summary(run, *metrics, plain=bool(group))
        print(f"model written to {args.out}")
        if args.plot:
            print(f"curves written to {args.plot}")
        if args.boundary:
            print(f"decision boundary written to {args.boundary}")
    except KeyboardInterrupt:
        if files is None or not files.committed:
            raise
        written = ", ".join(path for path in (args.out, args.plot, args.boundary) if path)
        line, code = stopped("interrupted")
        print(f"{line} after the run had finished: {written} written", file=sys.stderr)
        return code
    return 0


def _write_outputs(args, run, boundary, files) -> None:
    """The model and the figures asked for, into the group of atomic writes ``files``."""
    model_file = files.open(args.out, what="--out")
    run.model.save(model_file)
    _read_back(files, model_file, args.out)
    if args.plot:
        from ..files import figures as plots

        plots.curves(run.history, files.open(args.plot, what="--plot"), args.plot)
    if args.boundary:
        from ..files import figures as plots

        plots.decision_boundary(
            run.model, *boundary, files.open(args.boundary, what="--boundary"), args.boundary
        )


def _read_back(files, model_file, out: str) -> None:
    """Load the model from its temporary file before it replaces ``out``: a model that
    ``info`` and ``predict`` would refuse is an error, and ``out`` is left as it was."""
    from ..files.model_file import ModelFileError
    from ..tables.model import TabularModel

    model_file.flush()
    staged = files.temporary(model_file)
    try:
        TabularModel.load(staged)
    except ModelFileError as error:
        reason = str(error).replace(staged, out)
        raise CommandError(
            f"the trained model cannot be read back ({reason}); {out} was left as it was"
        ) from None


def _evaluate_rows(model, table, rows, group):
    """The model's metrics on the table's ``rows`` (indices over the whole table); with a
    ``group``, ``table`` is this rank's block and the metrics are over every rank's rows."""
    if group:
        rows = rows[(rows >= table.first) & (rows < table.first + table.n_rows)] - table.first
    return model.evaluate(table, rows=rows, group=group)


def _inputs(args) -> dict:
    """The files evaluate, predict and gradcheck read, for :func:`check_output`."""
    return {"the model file": args.model, "the CSV file": args.csv}


def _model_and_table(args):
    from ..tables.model import TabularModel

    return TabularModel.load(args.model), _labelled_table(args)


def _labelled_table(args):
    """The rows evaluate and gradcheck read: the CSV file, or evaluate's --data NAME."""
    from ..tables.reading import dataset_table

    name = getattr(args, "data", None)
    if name and args.csv:
        raise CommandError(f"give a CSV file or --data {name}, not both")
    if name:
        from ..datasets import load_dataset

        return dataset_table(load_dataset(name))
    if not args.csv:
        raise CommandError(
            "give a CSV file, or --data NAME for a built-in dataset (chainrule datasets lists them)"
        )
    return _read(args)


def _evaluate(args) -> int:
    from ..tables.model import TabularModel
    from ..tables.report import chosen_metrics, selected, text_report

    if args.plot:
        from ..files import figures as plots

        check_output(args.plot, "--plot", _inputs(args))
        plots.check_format(args.plot, "--plot")
    model = TabularModel.load(args.model)
    names = chosen_metrics(args.metrics, model.task, len(model.classes))  # before reading
    table = _labelled_table(args)
    with plain_warnings():
        result = model.evaluate(table, strict=args.strict)
    if args.format == "json":
        shown = result if args.metrics is None else selected(result, names)
        print(json.dumps({"classes": model.classes or None, **shown}, indent=2))
    else:
        for line in text_report(result, names, model):
            print(printable(line))
    if args.plot:
        _plot_evaluation(args, model, table, result)
    return 0


def _plot_evaluation(args, model, table, result) -> None:
    """The confusion matrix (classification) or predicted against actual values, to --plot."""
    from ..files import figures as plots

    with atomic_open(args.plot, what="--plot") as stream:
        if "confusion" in result:
            plots.confusion_matrix(result["confusion"], model.classes, stream, args.plot)
            shown = "confusion matrix"
        else:
            actual = table.data[model.target].astype(np.float64)
            predicted = model.predict(table)["prediction"]
            plots.predicted_vs_actual(actual, predicted, model.target, stream, args.plot)
            shown = "predicted against actual values"
    print(f"{shown} written to {args.plot}", file=sys.stderr)


def _predict(args) -> int:
    from ..tables.reading import read_as_text

    if args.output:
        check_output(args.output, "--output", _inputs(args))
    model, table = _model_and_table(args)
    if args.id is not None and args.id not in table.columns:
        from ..tables.reading import did_you_mean

        raise CommandError(
            f"--id {args.id!r} is not a column of {args.csv}{did_you_mean(args.id, table.columns)}"
            f"; the columns are {', '.join(table.columns)}"
        )
    with plain_warnings():
        predictions = model.predict(table, strict=args.strict)
    kept = [args.id] if args.id is not None else table.columns
    passed = read_as_text(args.csv, kept)  # as written: 02134 stays 02134, 1e3 stays 1e3
    buffer = text_io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = list(predictions)
    writer.writerow([*kept, *names])
    writer.writerows(
        zip(
            *(passed.column(name) for name in kept),
            *(_prediction_text(predictions[name], name.startswith("p_")) for name in names),
            strict=True,
        )
    )
    write_text(buffer.getvalue(), args.output, what="--output")
    if args.output:
        print(f"{table.n_rows} predictions written to {args.output}", file=sys.stderr)
    return 0


def _prediction_text(values: np.ndarray, probability: bool) -> list[str]:
    """Predictions as CSV fields: labels as they are; probabilities to 6 significant digits
    (the network's float32 outputs hold about 7, not the 17 of their float64 repr); values in
    the target's units exactly (their mean may be far larger than their spread)."""
    if values.dtype == object:
        return list(values)
    if probability:
        return [f"{v:.6g}" for v in values.tolist()]
    return [repr(v) for v in values.tolist()]


def _fill(column) -> str:
    """A column's fill as ``info`` shows it: a category quoted; a number to 12 significant
    digits (a median of two values or a mean carries float64 rounding, 0.15000000000000002 for
    0.1 and 0.2; ``--format json`` has the exact value); or that there is none."""
    if column.fill is None:
        return "a missing cell is refused (no fill value: trained with --impute none)"
    value = repr(column.fill) if column.kind == "categorical" else f"{column.fill:.12g}"
    return f"missing cells filled with {value}"


def _column_line(column) -> str:
    """``info``'s line for a column: a categorical one's categories (and how many infrequent
    ones share an input), a numeric one's scaling
    (robust: its median and interquartile range, then standardised; or standardised alone)
    and missing indicator; and either's fill."""
    if column.kind == "categorical":
        inputs = list(column.categories)
        if column.infrequent:
            inputs.append(f"{column.pooled_label} ({infrequent_count(column)})")
        return f"  column {column.name!r}: one-hot over {', '.join(inputs)}; {_fill(column)}"
    scaling = "scaling standard (standardised only)"
    if column.spread is not None:
        scaling = (
            f"scaling robust (median {column.center:.6g}, interquartile range "
            f"{column.spread:.6g}, smoothly clipped to +-3, then standardised)"
        )
    indicator = f"; input {column.name}=missing: 1 where missing" if column.indicator else ""
    return f"  column {column.name!r}: numeric; {scaling}; {_fill(column)}{indicator}"


def _column_summary(column) -> dict:
    """``info --format json``'s entry for a column: the model file's, and for a numeric one its
    scaling (``robust`` with ``center`` and ``spread``, or ``standard``) and indicator."""
    summary = column.to_dict()
    if column.kind == "numeric":
        summary["scaling"] = "standard" if column.spread is None else "robust"
        if column.spread is not None:
            summary.update(center=column.center, spread=column.spread)
        summary["missing_indicator"] = column.indicator
    return summary


def _info(args) -> int:
    from ..tables.model import TabularModel
    from .common import say  # names, labels and notes from the model file, escaped

    model = TabularModel.load(args.model)
    network, history = model.network, model.network.history
    summary = {
        "task": model.task,
        "target": model.target,
        "features": model.features,
        "columns": [_column_summary(column) for column in model.columns],
        "classes": model.classes or None,
        "sizes": network.sizes,
        "activations": [layer.activation.name for layer in network.dense_layers],
        "loss": network.loss.name,
        "parameters": network.n_params,
        "dtype": network.dtype.name,
        "dropout": _dropout(network),
        "l2": network.l2,
        "input_scale": network.dense_layers[0].input_scale,
        "embedded": _embedded(model),
        **network.file_info,
    }
    if history is not None:
        summary["epochs"] = len(history.epoch)
        summary["final"] = {k: v[-1] for k, v in history.history.items()}
        if "val_loss" in history.history:
            best = int(np.argmin(history.history["val_loss"]))
            summary["best_epoch"] = best + 1
        summary["stop_reason"] = history.stop_reason
        summary["kept_epoch"] = model.kept_epoch or len(history.epoch)
    if args.format == "json":
        print(json.dumps(summary, indent=2))
        return 0
    print(network.summary())
    say(
        f"written by chainrule {network.file_info['chainrule_version']} (model format "
        f"{network.file_info['format_version']})"
    )
    say(
        f"task: {model.task} of {model.target!r} from {len(model.features)} features "
        f"({', '.join(model.features)})"
    )
    for column in model.columns:
        say(_column_line(column))
    if summary["dropout"] or summary["l2"]:
        say(f"regularisation: dropout {summary['dropout']:g}, l2 {summary['l2']:g}")
    if summary["input_scale"] is not None:
        inputs = "input of the first Dense layer" if summary["embedded"] else "input"
        say(f"input scale: learned, one per {inputs}, stored as s / {summary['input_scale']:g}")
    if summary["embedded"]:
        width = network.embedding.width
        say(f"embedded ({width} numbers each): {', '.join(summary['embedded'])}")
    if model.classes:
        say(f"classes: {', '.join(model.classes)}")
    if history is not None:
        final = ", ".join(f"{k} {v:.4g}" for k, v in summary["final"].items() if k != "seconds")
        say(f"trained {summary['epochs']} epochs; last epoch: {final}")
        if "best_epoch" in summary:
            say(f"best validation loss at epoch {summary['best_epoch']}")
        kept = f"epoch {model.kept_epoch} (the best)" if model.kept_epoch else "the last epoch"
        say(f"parameters kept: {kept}")
        if history.stop_reason:
            say(f"stopped: {history.stop_reason}")
    return 0


def _embedded(model) -> list[str]:
    """The names of the columns the model's Embedding layer embeds, in order."""
    embedding = model.network.embedding
    if embedding is None:
        return []
    starts, position, names = {start for start, _ in embedding.groups}, 0, []
    for column in model.columns:
        if position in starts:
            names.append(column.name)
        position += len(column.inputs)
    return names


def _dropout(network) -> float:
    """The rate of the network's dropout layers (one after every hidden layer), or 0."""
    return next((layer.rate for layer in network.layers if hasattr(layer, "rate")), 0.0)


def _gradcheck(args) -> int:
    from ..core.gradcheck import gradcheck

    model, table = _model_and_table(args)
    X, T = model.inputs(table)[: args.rows], model.labels_to_indices(table)[: args.rows]
    result = gradcheck(model.network, X, T)
    verdict = "ok" if result.max_relative_error < args.tolerance else "MISMATCH"
    print(
        f"{verdict}: worst relative error {result.max_relative_error:.3g} at {result.where} "
        f"over {result.analytic.size} parameters and {len(X)} rows (float64, finite "
        "differences)"
    )
    return 0 if verdict == "ok" else 1


def _datasets(args) -> int:
    from ..datasets import LOADERS

    for name, loader in LOADERS.items():
        dataset = loader()
        print(
            f"{name:<9} {dataset.description}; features {', '.join(dataset.feature_names)}; "
            f"target {dataset.target_name!r}"
        )
    return 0


EXAMPLES = {
    "train": [
        "chainrule train --data xor",
        "chainrule train people.csv --target label --drop person --out m.npz",
        "chainrule train people.csv --target label --impute none --scaling standard",
        "chainrule train houses.csv --target price --features rooms,area,town --epochs 200",
    ],
    "evaluate": [
        "chainrule evaluate m.npz test.csv --plot figure.png",
        "chainrule evaluate m.npz test.csv --metrics f1_macro,roc_auc,per_class",
        "chainrule evaluate m.npz --data moons --format json",
    ],
    "predict": ["chainrule predict m.npz new.csv --id person -o predictions.csv"],
    "info": ["chainrule info m.npz --format json"],
    "gradcheck": ["chainrule gradcheck m.npz train.csv --rows 8"],
    "datasets": ["chainrule datasets"],
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help with each option's default (where it has one) and the examples kept as written."""

    def _get_help_string(self, action):
        text = action.help or ""
        shown = action.default is not None and action.default is not False
        if shown and action.default != argparse.SUPPRESS and action.option_strings:
            text += f" (default: {action.default})"
        return text


#: The model file ``train`` writes without --out; one already there is replaced only when named.
DEFAULT_OUT = "model.npz"

STRICT = (
    "refuse a category not seen in training (default: encode it as the column's infrequent "
    "categories are, or as all zeros where it has none, with a warning naming the value and "
    "column)"
)


# The arguments that several commands declare alike, by name: see _add_shared.
_SHARED = {
    "model": (["model"], {"help": "a model file written by train"}),
    "--format": (
        ["--format"],
        {"choices": ["text", "json"], "default": "text", "help": "output"},
    ),
    "--strict": (["--strict"], {"action": "store_true", "help": STRICT}),
    "--decimal": (
        ["--decimal"],
        {
            "choices": [".", ","],
            "help": "the decimal mark of the file's numbers: , reads 5,1 as 5.1; . keeps such "
            "columns as text (default: a ; or tab separated file's columns of 5,1-like numbers "
            "are read as numbers, with a warning)",
        },
    ),
}


def _add_shared(parser, *names: str) -> None:
    """Declare the arguments of :data:`_SHARED` named in ``names`` on ``parser``, in order."""
    for name in names:
        flags, options = _SHARED[name]
        parser.add_argument(*flags, **options)


def _add_parser(commands, name: str, summary: str, **options):
    """A subcommand's parser, with its one-line help, its examples and each option's default."""
    examples = "\n".join(f"  {line}" for line in EXAMPLES[name])
    return commands.add_parser(
        name,
        help=summary,
        formatter_class=HelpFormatter,
        epilog=f"examples:\n{examples}",
        **options,
    )


def add_commands(commands) -> None:
    """Register train, evaluate, predict, info, gradcheck and datasets."""
    _add_train(commands)
    _add_evaluate(commands)
    _add_predict(commands)
    _add_info(commands)
    _add_gradcheck(commands)
    _add_datasets(commands)


def _add_train(commands) -> None:
    """Register ``train``."""
    train = _add_parser(
        commands,
        "train",
        "train a network on a CSV file",
        description="Train a network on a CSV file. Every output is checked before training "
        "and written only when the run succeeds (atomically: an existing file is replaced "
        "whole or left as it was). A run that diverges exits 1, Ctrl-C exits 130, SIGTERM "
        "143; each leaves --out as it was.",
    )
    _add_data_options(train)
    _add_network_options(train)
    _add_training_options(train)
    _add_output_options(train)
    train.set_defaults(handler=_train)


def _add_data_options(train) -> None:
    """train's data: the file or dataset, the target, the task and the feature columns."""
    train.add_argument("csv", nargs="?", help="a CSV file with a header row")
    train.add_argument("--target", help="the column to predict")
    train.add_argument("--data", help="a built-in dataset instead of a CSV (see: datasets)")
    train.add_argument(
        "--task",
        choices=["classification", "regression"],
        help="default: inferred from the target column",
    )
    train.add_argument(
        "--features",
        metavar="A,B,...",
        help="the feature columns (default: every column but the target, --drop and "
        "identifier-like columns: all values distinct integers or text)",
    )
    train.add_argument("--drop", metavar="A,B,...", help="columns not to use as features")
    _add_shared(train, "--decimal")
    train.add_argument(
        "--drop-missing-target",
        action="store_true",
        help="leave out the rows whose target is missing, saying how many (default: such a "
        "row is an error naming it)",
    )
    train.add_argument(
        "--categorical",
        metavar="A,B,...",
        help="columns to one-hot encode besides the text ones (e.g. integer codes)",
    )
    train.add_argument(
        "--impute",
        choices=IMPUTE,
        default="median",
        help="fill missing cells with the training rows' median, mean or most frequent value "
        "(categories: the most frequent), said in one line; every column's fill value is "
        "stored in the model, so evaluate and predict fill a missing cell too. none: a "
        "missing cell is an error naming the row and column, then and after",
    )
    train.add_argument(
        "--missing-indicators",
        action="store_true",
        help="give each numeric column with missing cells in the training rows a second "
        "input, 1 where the cell is missing (stored in the model). Off by default: it lost on "
        "3 of the 10 real tables measured (benchmarks/RESULTS.md, Tables by default)",
    )
    train.add_argument(
        "--min-frequency",
        metavar="N|auto|none",
        type=_min_frequency,
        default="auto",
        help="categories found in fewer than N rows share one input, which a category unseen "
        "in training also takes at predict time (with a warning); none: an input for every "
        "category; auto (the default): 40, in columns of more than 50 categories only (a job "
        "title, a name), chosen on real tables (benchmarks/RESULTS.md, Many-valued columns)",
    )
    train.add_argument(
        "--scaling",
        choices=SCALING,
        default="robust",
        help="numeric columns: robust centres each on its training rows' median, divides it "
        "by their interquartile range and clips it smoothly to +-3 before standardising; "
        "standard standardises only",
    )
    train.add_argument(
        "--sample-weight",
        metavar="COLUMN",
        help="a numeric column weighing each row (not a feature; every value >= 0): the loss "
        "is sum(w * L) / n, so a weight of 2 counts a row twice",
    )
    train.add_argument(
        "--class-weight",
        metavar="balanced|JSON",
        type=_class_weight,
        help="weights by class, multiplied into the sample weights: balanced (n / (k * "
        "count), as scikit-learn) or a JSON object of weights by label, other classes 1: "
        "'{\"yes\": 3}'",
    )


def _word_or_number(text: str, constraint: Interval, words: dict):
    """A flag's value: one of ``words`` (any case), mapped to its meaning, or a number that
    ``constraint`` holds."""
    word = text.strip().lower()
    if word in words:
        return words[word]
    try:
        return constraint.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {', '.join(words)} or {constraint}, got {text!r}"
        ) from None


def _patience(text: str):
    """``--patience``: ``auto``, ``none`` or a whole number >= 1."""
    return _word_or_number(text, CONSTRAINTS["patience"], {"auto": "auto", "none": None})


def _min_frequency(text: str):
    """``--min-frequency``: ``auto``, ``none`` or a whole number >= 1."""
    return _word_or_number(text, MIN_FREQUENCY, {"auto": "auto", "none": None})


def _class_weight(text: str):
    """--class-weight's value: 'balanced' or a dict of weights by label."""
    from ..tables.weights import class_weight_from_text

    try:
        return class_weight_from_text(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _or_none(name: str):
    """A flag's parser: a number in ``CONSTRAINTS[name]``, or 'none' (None)."""
    number = option_type(name)

    def parse(text: str):
        return None if text.strip().lower() == "none" else number(text)

    return parse


def _add_network_options(train) -> None:
    """train's network: the hidden layers, their activation and the loss."""
    train.add_argument("--hidden", default="64,32", help="hidden layer widths")
    train.add_argument(
        "--dropout",
        type=option_type("dropout"),
        default=0.1,
        metavar="RATE",
        help="dropout after every hidden layer: the fraction of its units zeroed at each step "
        "(0 for none)",
    )
    train.add_argument(
        "--l2",
        type=option_type("l2"),
        default=0.0,
        metavar="L2",
        help="L2 penalty on the weights, l2/2 * sum(W**2), added to the loss",
    )
    train.add_argument(
        "--input-scale",
        type=_or_none("input_scale"),
        default=6.0,
        metavar="C|none",
        help="a learned scale of each input before the first layer, stored as s / C: Adam "
        "moves it about C times as far as a weight (RealMLP's factor; none: no scale)",
    )
    train.add_argument(
        "--embedding-size",
        type=_or_none("embedding_size"),
        default=4,
        metavar="N|none",
        help="a learned embedding of N numbers for each text column of more than N inputs (its "
        "categories, those pooled by --min-frequency counting as one), before the first layer, "
        "as RealMLP's (none: an input per category)",
    )
    train.add_argument(
        "--activation",
        default="elu",
        choices=ACTIVATIONS,
        help="hidden layers' activation: elu, chosen on 20 real tables (worse than relu on two, "
        "cells and diamonds: benchmarks/RESULTS.md, 'ELU hidden layers')",
    )
    train.add_argument(
        "--loss",
        choices=LOSSES,
        help="default: cross_entropy (classes) or mse (values); binary_cross_entropy on two "
        "classes is trained as cross_entropy over two outputs (the same loss)",
    )


def _add_training_options(train) -> None:
    """train's optimisation: optimizer, steps, validation, stopping and the seed."""
    train.add_argument(
        "--optimizer",
        default="adam",
        choices=["adam", "adamw", "sgd", "rmsprop", "adagrad", "lbfgs"],
        help="how the weights are updated",
    )
    learning_rate = train.add_argument(
        "--learning-rate",
        type=option_type("learning_rate"),
        default=1e-3,
        metavar="RATE",
        help="the optimizer's learning rate",
    )
    add_renamed_flag(train, "--lr", learning_rate)
    train.add_argument(
        "--epochs",
        type=option_type("epochs"),
        default=100,
        help="passes over the data, at most (see --patience)",
    )
    train.add_argument(
        "--batch-size",
        type=option_type("batch_size"),
        default=32,
        help="rows per step (clipped to the training rows, with a note)",
    )
    validation_split = train.add_argument(
        "--validation-split",
        type=option_type("validation_split"),
        metavar="FRACTION",
        default=0.1,
        help="fraction held out for validation, stratified by class (0 for none)",
    )
    add_renamed_flag(train, "--val", validation_split)
    train.add_argument(
        "--early-stopping",
        action="store_true",
        help="stop when the validation loss (without validation rows: the training loss) has "
        "not improved for 5 epochs, instead of --patience and whatever --keep says; keep the "
        "best",
    )
    train.add_argument(
        "--patience",
        type=_patience,
        default="auto",
        metavar="N|auto|none",
        help="with validation rows and --keep best, stop after N epochs without a lower "
        "validation loss (auto: 40); none: run every epoch",
    )
    train.add_argument(
        "--keep",
        choices=["best", "last"],
        default="best",
        help="with validation rows, keep the parameters of the epoch with the lowest validation "
        "loss, or of the last epoch",
    )
    train.add_argument(
        "--seed",
        type=option_type("seed"),
        default=0,
        help="initial weights, split, shuffling and dropout masks",
    )
    train.add_argument(
        "--cv",
        type=flag_type(Interval(int, 2)),
        metavar="K",
        help="cross-validate: train K models, each on all the rows but one of K folds "
        "(stratified by class for classification, drawn by --seed), and print each fold's "
        "metrics on the rows it held out with their mean and standard deviation; nothing is "
        "written unless --out is given too, which then trains the final model on all the "
        "rows, as without --cv",
    )


def _add_output_options(train) -> None:
    """train's outputs and how it runs: files, progress display, MPI."""
    train.add_argument(
        "--out",
        metavar="FILE",
        help=f"model file (default: {DEFAULT_OUT}, when no such file exists yet; a file named "
        "by --out is replaced)",
    )
    train.add_argument("--plot", metavar="FILE", help="loss and metric curves (.png/.svg)")
    train.add_argument(
        "--boundary", metavar="FILE", help="decision boundary with the data, for two features"
    )
    train.add_argument(
        "--save-interrupted",
        metavar="FILE",
        help="on Ctrl-C, write the model of the last finished step here (by default an "
        "interrupted run writes nothing)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress display")
    train.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel on the ranks of an MPI job, each reading its part of the file: "
        "mpirun -n K chainrule train ...",
    )


def _add_evaluate(commands) -> None:
    """Register ``evaluate``."""
    evaluate = _add_parser(commands, "evaluate", "metrics of a model on a labelled CSV")
    _add_shared(evaluate, "model")
    evaluate.add_argument(
        "csv", nargs="?", help="a CSV or Parquet file with the model's columns and target"
    )
    evaluate.add_argument("--data", help="a built-in dataset instead of a CSV (see: datasets)")
    evaluate.add_argument(
        "--metrics",
        metavar="A,B,...",
        help="the metrics to show (default: accuracy, balanced_accuracy, f1_macro, roc_auc, "
        "log_loss and the confusion matrix for classes; loss, rmse, mae and r2 for values; "
        "--format json without --metrics shows them all). Classes: loss, accuracy, "
        "balanced_accuracy, precision, recall, f1 (the second of two classes), "
        "precision_macro, recall_macro, f1_macro, precision_weighted, recall_weighted, "
        "f1_weighted, roc_auc (one-vs-rest macro beyond two classes), log_loss, brier (two "
        "classes), per_class, confusion. Values: loss, mse, rmse, mae, r2, mape, "
        "median_absolute_error. Computed as scikit-learn computes them",
    )
    _add_shared(evaluate, "--format", "--strict", "--decimal")
    evaluate.add_argument(
        "--plot",
        metavar="FILE",
        help="draw the confusion matrix (classes) or predicted against actual values (regression)",
    )
    evaluate.set_defaults(handler=_evaluate)


def _add_predict(commands) -> None:
    """Register ``predict``."""
    predict = _add_parser(commands, "predict", "predictions for each row of a CSV")
    _add_shared(predict, "model")
    predict.add_argument("csv", help="a CSV or Parquet file with the model's feature columns")
    predict.add_argument("-o", "--output", metavar="FILE", help="write a CSV (default: stdout)")
    _add_shared(predict, "--strict", "--decimal")
    predict.add_argument(
        "--id",
        metavar="COLUMN",
        help="write only this column (e.g. an identifier) and the predictions (default: every "
        "input column, then the predictions)",
    )
    predict.set_defaults(handler=_predict)


def _add_info(commands) -> None:
    """Register ``info``."""
    info = _add_parser(commands, "info", "architecture and training history of a model")
    _add_shared(info, "model", "--format")
    info.set_defaults(handler=_info)


def _add_gradcheck(commands) -> None:
    """Register ``gradcheck``."""
    gradcheck = _add_parser(
        commands, "gradcheck", "backpropagation against finite differences on a model and data"
    )
    _add_shared(gradcheck, "model")
    _add_shared(gradcheck, "--decimal")
    gradcheck.add_argument("csv", help="a CSV file with the model's columns and target")
    gradcheck.add_argument("--rows", type=positive_int, default=16, help="rows to check on")
    gradcheck.add_argument(
        "--tolerance", type=float, default=1e-6, help="largest relative error that passes"
    )
    gradcheck.set_defaults(handler=_gradcheck)


def _add_datasets(commands) -> None:
    """Register ``datasets``."""
    datasets = _add_parser(commands, "datasets", "list the built-in datasets")
    datasets.set_defaults(handler=_datasets)
