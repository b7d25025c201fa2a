"""Defaults chosen by measurement: the batch size of ``fit`` and of ``chainrule train``, Adam's.

chainrule alone, on the time-to-accuracy cases of benchmarks/time_to_accuracy.py (their data,
networks and targets as they are; the optimizer is replaced by the one under test), and on
tables trained the way ``chainrule train`` trains them (:func:`chainrule.tables.model.train_table`,
the CLI's own function, with its defaults but for the setting under test).

    python benchmarks/defaults.py                    # every sweep, seeds 0-2, Markdown
    python benchmarks/defaults.py --sweep batch      # batch 16-256, Adam() (fit's default)
    python benchmarks/defaults.py --sweep lr         # Adam lr 3e-4 to 1e-2 at batch 32
    python benchmarks/defaults.py --sweep adam       # betas / eps at batch 32, lr 1e-3
    python benchmarks/defaults.py --sweep lr --final # no stop: best and last score at the cap
    python benchmarks/defaults.py --sweep lr --hidden 64,64,64,64  # a deeper network
    python benchmarks/defaults.py --sweep cli        # train_table's defaults on tables
    python benchmarks/defaults.py --sweep cli --seeds 10 --case diabetes

Epochs to the target are the robust number on a shared host; seconds are noisy, so beside the
measured time to target each row gives epochs x the fastest epoch seen for that setting (the
time a quiet host would take). Settings alternate within each seed's round and their order
rotates from round to round, as in time_to_accuracy.py. Each case's epochs are capped
(``SWEEP_EPOCHS``) to keep a whole run to minutes; a setting that does not reach the target
within the cap shows ``>cap``. The lr and adam sweeps leave out mnist unless it is named.

The ``cli`` sweep: ``tabular`` is the time-to-accuracy case's 220 000 rows as one table
(``--validation-split 0.1`` holds out 22 000), trained until the validation accuracy reaches
0.95 (at most 10 epochs); ``diabetes``, ``breast_cancer`` and ``wine`` are scikit-learn's
bundled sets, a quarter of the rows held out as a test set (stratified for classes, by the
seed), the rest trained by ``train_table`` for its default 100 epochs keeping the epoch with
the lowest validation loss, as ``chainrule train`` does; the score is the test set's R^2 or
accuracy.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
import warnings

import numpy as np

if __package__ in (None, ""):  # this checkout's chainrule, not an installed copy
    sys.path[:0] = [__file__.rsplit("/", 1)[0], __file__.rsplit("/", 2)[0] or "."]
import time_to_accuracy as tta  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.tables.reading import Table  # noqa: E402

SEEDS = 3
SWEEP_EPOCHS = {"tabular": 10, "mnist": 3, "digits": 200, "friedman": 100}
FINAL_EPOCHS = {"tabular": 6, "mnist": 2, "digits": 150, "friedman": 60}  # with --final
BATCHES = [16, 32, 64, 128, 256]
LRS = [3e-4, 1e-3, 3e-3, 1e-2]
ADAM = {  # beta1, beta2, eps
    "0.9, 0.999, 1e-8 (torch, scikit-learn)": (0.9, 0.999, 1e-8),
    "0.9, 0.999, 1e-7 (Keras)": (0.9, 0.999, 1e-7),
    "0.9, 0.99, 1e-8": (0.9, 0.99, 1e-8),
}
# mnist reaches its target in the first epoch at every batch size, lr, beta and eps measured:
# it measures an epoch's cost (the batch sweep), not the optimizer (--case mnist to run it)
UNSATURATED = ["tabular", "digits", "friedman"]
DEFAULT_BATCH = 32  # fit's and the CLI's default, the batch of the lr and adam sweeps


def _adam_at(batch_size, **adam):
    """A contender for :func:`time_to_accuracy.rounds`: chainrule with Adam(**adam)."""

    def contender(case, data, seed, target, stop):
        case = dataclasses.replace(case, batch_size=batch_size)
        return tta.run_chainrule(case, data, seed, target, stop, optimizer=cr.optim.Adam(**adam))

    return contender


def contenders(sweep: str) -> dict:
    if sweep == "batch":
        return {f"batch {b}": _adam_at(b) for b in BATCHES}
    if sweep == "lr":
        return {f"lr {lr:g}": _adam_at(DEFAULT_BATCH, learning_rate=lr) for lr in LRS}
    return {
        f"betas, eps {name}": _adam_at(DEFAULT_BATCH, beta_1=b1, beta_2=b2, epsilon=eps)
        for name, (b1, b2, eps) in ADAM.items()
    }


def _epochs(result, cap) -> str:
    return str(result.epochs) if result.reached else f">{cap}"


def _median_epochs(runs, cap) -> str:
    middle = statistics.median(r.epochs if r.reached else math.inf for r in runs)
    return f"{middle:g}" if middle != math.inf else f">{cap}"


def sweep_table(case, data, seeds, sweep) -> list[str]:
    results = tta.rounds(case, data, seeds, contenders(sweep))
    cap = case.max_epochs
    rows = [
        "| setting | epochs to target, per seed | median epochs | fastest epoch s | "
        "epochs x fastest epoch s, median | time to target s, median (range) | "
        "best score, median | reached |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        fastest = min(s for r in runs for s in r.epoch_seconds)
        quiet = statistics.median(r.epochs * fastest if r.reached else math.inf for r in runs)
        quiet_text = "—" if quiet == math.inf else f"{quiet:.2f}"
        rows.append(
            f"| {name} | {', '.join(_epochs(r, cap) for r in runs)} | "
            f"{_median_epochs(runs, cap)} | {fastest:.3f} | {quiet_text} | "
            f"{tta._spread([r.seconds for r in runs])} | "
            f"{statistics.median(max(r.scores) for r in runs):.4f} | "
            f"{sum(r.reached for r in runs)}/{len(runs)} |"
        )
    return rows


def final_table(case, data, seeds, sweep) -> list[str]:
    """Every setting trained for ``case.max_epochs`` epochs without stopping at the target:
    does a setting that is fast to the target settle lower, or swing?"""
    results = tta.rounds(case, data, seeds, contenders(sweep), stop=False)
    rows = [
        "| setting | best score, median (range) | epoch of best, median | last score, median "
        "(range) | epochs to target, median |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        to_target = [
            next((i + 1 for i, v in enumerate(r.scores) if v >= case.target), math.inf)
            for r in runs
        ]
        middle = statistics.median(to_target)
        rows.append(
            f"| {name} | {tta._spread([max(r.scores) for r in runs], 4)} | "
            f"{statistics.median(int(np.argmax(r.scores)) + 1 for r in runs):g} | "
            f"{tta._spread([r.scores[-1] for r in runs], 4)} | "
            f"{f'{middle:g}' if middle != math.inf else f'>{case.max_epochs}'} |"
        )
    return rows


# -- the CLI's function on tables ---------------------------------------------------------------

CLI_SETTINGS = {
    **{f"batch {b}": {"batch_size": b} for b in BATCHES},
    **{f"lr {lr:g}": {"learning_rate": lr} for lr in LRS if lr != 1e-3},
}


def _table(X, y, names, target, classes=None):
    data = {name: np.asarray(X[:, i], dtype=np.float64) for i, name in enumerate(names)}
    data[target] = (
        np.asarray(y, dtype=np.float64)
        if classes is None
        else np.array(classes, dtype=object)[np.asarray(y)]
    )
    return Table(f"<{target}>", [*names, target], data)


def small_tables():
    """``{name: (X, y, feature names, task)}`` of scikit-learn's bundled sets."""
    from sklearn import datasets

    sets = {}
    for name, load, task in (
        ("diabetes", datasets.load_diabetes, "regression"),
        ("breast_cancer", datasets.load_breast_cancer, "classification"),
        ("wine", datasets.load_wine, "classification"),
    ):
        bunch = load()
        names = [str(n).replace(" ", "_") for n in bunch.feature_names]
        sets[name] = (bunch.data, bunch.target, names, task)
    return sets


def cli_small(name, X, y, names, task, seeds) -> list[str]:
    from sklearn.model_selection import train_test_split

    from chainrule.tables.model import train_table

    classification = task == "classification"
    classes = [f"c{k}" for k in np.unique(y)] if classification else None
    results = {setting: [] for setting in CLI_SETTINGS}
    settings = list(CLI_SETTINGS)
    for i, seed in enumerate(seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=y if classification else None
        )
        train = _table(X_train, y_train, names, "y", classes)
        test = _table(X_test, y_test, names, "y", classes)
        shift = i % len(settings)
        for setting in settings[shift:] + settings[:shift]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run = train_table(
                    train, "y", task=task, seed=seed, verbose=0, **CLI_SETTINGS[setting]
                )
            metrics = run.model.evaluate(test)
            results[setting].append(
                (
                    metrics["accuracy" if classification else "r2"],
                    metrics["loss"],
                    run.model.kept_epoch,
                    run.seconds,
                )
            )
    metric = "accuracy" if classification else "R²"
    rows = [
        f"{name}: {len(X)} rows, {X.shape[1]} features, test {metric} after train_table's "
        f"100 epochs (epoch of the lowest validation loss kept); seeds {len(seeds)}.",
        "",
        f"| setting | test {metric}, median (range) | mean | test loss, median (range) | "
        "epoch kept, median (range) | seconds, median |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for setting, runs in results.items():
        scores, losses, kept, seconds = zip(*runs, strict=True)
        rows.append(
            f"| {setting} | {tta._spread(scores, 4)} | {statistics.mean(scores):.4f} | "
            f"{tta._spread(losses, 4)} | "
            f"{tta._spread(kept, 0)} | {statistics.median(seconds):.2f} |"
        )
    return rows


def cli_tabular(seeds, target=0.95, cap=10) -> list[str]:
    from chainrule.tables.model import train_table

    X, y, X_val, y_val = tta.tabular_data()
    X, y = np.vstack([X, X_val]), np.concatenate([y, y_val])
    table = _table(X, y, [f"x{i}" for i in range(X.shape[1])], "y", [f"c{k}" for k in range(7)])

    class Stop(cr.Callback):
        def on_epoch_end(self, epoch, logs):
            self.reached = logs["val_accuracy"] >= target
            if self.reached:
                self.network.stop_training = True

    settings = {s: v for s, v in CLI_SETTINGS.items() if s.startswith("batch")}
    settings.update({s: v for s, v in CLI_SETTINGS.items() if s.startswith("lr")})
    results = {setting: [] for setting in settings}
    names = list(settings)
    for i, seed in enumerate(seeds):
        shift = i % len(names)
        for setting in names[shift:] + names[:shift]:
            tta.bench._settle()
            stop = Stop()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                started = time.perf_counter()
                run = train_table(
                    table,
                    "y",
                    task="classification",
                    seed=seed,
                    verbose=0,
                    epochs=cap,
                    callbacks=[stop],
                    keep="last",
                    **settings[setting],
                )
            seconds = time.perf_counter() - started
            epochs = len(run.history.history["loss"])
            results[setting].append((epochs, stop.reached, seconds))
    rows = [
        "tabular through train_table (the CLI's hidden 64,32, standardised, "
        "--validation-split 0.1): "
        f"epochs to validation accuracy >= {target}, at most {cap}; seeds {len(seeds)}.",
        "",
        "| setting | epochs to target, per seed | seconds (validation included), median (range) "
        "| s per epoch, median | reached |",
        "|---|---:|---:|---:|---:|",
    ]
    for setting, runs in results.items():
        epochs = ", ".join(str(e) if ok else f">{cap}" for e, ok, _ in runs)
        rows.append(
            f"| {setting} | {epochs} | {tta._spread([s for _, _, s in runs])} | "
            f"{statistics.median(s / e for e, _, s in runs):.3f} | "
            f"{sum(ok for _, ok, _ in runs)}/{len(runs)} |"
        )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", choices=["batch", "lr", "adam", "cli"], action="append")
    parser.add_argument("--case", action="append", help="a case of the sweeps (default: all)")
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--final", action="store_true", help="train to the cap, no stop")
    parser.add_argument(
        "--hidden",
        metavar="A,B,...",
        help="hidden widths replacing the cases' own, e.g. 64,64,64,64",
    )
    args = parser.parse_args(argv)
    seeds = range(args.seeds)
    tables = ["tabular", "diabetes", "breast_cancer", "wine"]
    for name in args.case or []:
        if name not in (tables if args.sweep == ["cli"] else tta.CASES):
            parser.error(
                f"--case {name!r}: expected one of {', '.join(tta.CASES)} or, with --sweep cli "
                f"alone, {', '.join(tables)}"
            )
    for sweep in args.sweep or ["batch", "lr", "adam", "cli"]:
        print(f"\n### {sweep}\n")
        if sweep == "cli":
            tables = small_tables()
            for name in args.case or ["tabular", *tables]:
                started = time.perf_counter()
                if name == "tabular":
                    rows = cli_tabular(seeds)
                else:
                    rows = cli_small(name, *tables[name], seeds)
                print("\n".join(rows), f"\n\n({time.perf_counter() - started:.0f} s)\n", flush=True)
            continue
        for name in args.case or (list(tta.CASES) if sweep == "batch" else UNSATURATED):
            started = time.perf_counter()
            cap = (FINAL_EPOCHS if args.final else SWEEP_EPOCHS)[name]
            case = dataclasses.replace(tta.CASES[name], target=tta.TARGETS[name], max_epochs=cap)
            if args.hidden:
                hidden = [int(width) for width in args.hidden.split(",")]
                case.sizes = [case.sizes[0], *hidden, case.sizes[-1]]
            data = case.data()
            print(f"#### {name}, {'-'.join(map(str, case.sizes))}\n")
            print(
                f"Target: validation {'accuracy' if case.classification else 'R²'} >= "
                f"{case.target}, at most {case.max_epochs} epochs; seeds {len(seeds)}.\n"
            )
            print("\n".join((final_table if args.final else sweep_table)(case, data, seeds, sweep)))
            print(f"\n({time.perf_counter() - started:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
