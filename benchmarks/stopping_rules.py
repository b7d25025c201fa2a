"""When to stop by default (issue 28): stopping rules judged on the real tables' whole runs.

The table route trains 100 epochs and keeps the best validation epoch. A rule that stops
earlier keeps the best validation epoch *among those it ran*, and training is deterministic, so
its model is exactly the whole run's model at that epoch. So one whole run per table and split,
with the parameters of every epoch kept, tells what every rule would have given, without
training again: ``record`` trains this checkout's defaults on the splits of
``benchmarks/real_tables.py`` (the same tables, seeds and CSV files), scores every epoch's
parameters on the test rows and writes each run's validation losses, test scores and epoch
times as JSON lines; ``judge`` replays the rules on them and prints, per rule, the splits whose
kept model changed, the median score change per table against the run's own noise (the
defaults trained again with ``seed + 1000``, recorded by ``record --reseed``) and the time.

    pip install ".[bench]"
    nice -n 19 python benchmarks/stopping_rules.py record --seeds 0,1,2 --out runs.jsonl
    nice -n 19 python benchmarks/stopping_rules.py record --seeds 0,1,2 --reseed --out runs.jsonl
    python benchmarks/stopping_rules.py judge runs.jsonl

A rule is ``patience`` epochs without a better validation loss, where the patience may grow
with the best epoch so far (``relative``: at least ``floor`` epochs and at least ``factor``
times the best epoch's number) or be counted in optimizer steps (``steps``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_tables  # noqa: E402

from chainrule.core.history import Callback  # noqa: E402
from chainrule.tables.reading import as_table  # noqa: E402

WHOLE = {"patience": None}
"""Every epoch runs (the best one kept), whatever the default stopping."""


class Snapshots(Callback):
    """A callback keeping a copy of the parameters at the end of every epoch."""

    def __init__(self):
        self.parameters = []

    def on_epoch_end(self, epoch, logs):
        self.parameters.append(self.network.parameters.copy())


def _outputs(model, X):
    """The test predictions of ``model``'s network as it stands (as ``TabularModel.predict``)."""
    Y = model.network.predict(X).astype(np.float64)
    if model.task == "regression":
        return model.in_target_units(Y), None
    return np.array(model.classes, dtype=object)[Y.argmax(axis=1)], Y


def record_one(train, test, target, task, seed, folder: Path, options: dict) -> dict:
    """One whole run of the defaults: per epoch its validation loss, seconds and test scores."""
    import chainrule as cr

    train_csv, test_csv = folder / "train.csv", folder / "test.csv"
    train.to_csv(train_csv, index=False)
    test.drop(columns=[target]).to_csv(test_csv, index=False)
    snapshots = Snapshots()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        model = cr.TabularModel.train(
            str(train_csv), target, seed=seed, callbacks=[snapshots], **{**WHOLE, **options}
        )
        seconds = time.perf_counter() - started
        X = model.inputs(as_table(str(test_csv)))
    history = model.network.history
    per_epoch = []
    for parameters in snapshots.parameters:
        model.network.parameters[...] = parameters
        prediction, proba = _outputs(model, X)
        per_epoch.append(real_tables.scores(task, test[target], prediction, proba, model.classes))
    rows = real_tables.training_rows(train, target, task)
    return {
        "seconds": seconds,
        "steps_per_epoch": math.ceil(rows / options.get("batch_size", 32)),
        "val_loss": [float(v) for v in history.history["val_loss"]],
        "epoch_seconds": [float(s) for s in history.history["seconds"]],
        "scores": per_epoch,
        "kept_epoch": model.kept_epoch,
    }


def record(tables, seeds, out: Path, reseed: bool, variant: str) -> None:
    options = real_tables.named_options(tuple(variant.split("+"))) if variant else {}
    for name in tables:
        for seed in seeds:
            frame, target, task = real_tables.load(name, None, seed)
            train, test = real_tables.split(frame, target, task, seed)
            trained = seed + 1000 if reseed else seed
            with tempfile.TemporaryDirectory() as folder:
                found = record_one(train, test, target, task, trained, Path(folder), options)
            row = {"table": name, "seed": seed, "reseed": reseed, "variant": variant, **found}
            print(name, seed, reseed, f"{found['seconds']:.2f} s", found["kept_epoch"], flush=True)
            with open(out, "a") as file:
                file.write(json.dumps(row) + "\n")


# -- the rules ------------------------------------------------------------------------------------
def stop_epoch(val_loss, patience, cap: int, min_rise=None, window: int = 5) -> int:
    """The number of epochs a rule runs: it stops once ``patience(best)`` epochs have passed
    since the best epoch ``best`` (numbered from 1) and, with ``min_rise``, the median of the
    last ``window`` losses is above ``best_loss + min_rise * |best_loss|``; or after ``cap``
    epochs. (``EarlyStopping(patience, min_rise=...)`` written out again.)"""
    best, best_epoch = math.inf, 0
    for epoch, loss in enumerate(val_loss[:cap], start=1):
        if loss < best:
            best, best_epoch = loss, epoch
            continue
        risen = min_rise is None or (
            np.median(val_loss[max(0, epoch - window) : epoch]) > best + min_rise * abs(best)
        )
        if epoch - best_epoch >= patience(best_epoch) and risen:
            return epoch
    return min(cap, len(val_loss))


def kept(val_loss, ran: int) -> int:
    """The best validation epoch (from 1) among the first ``ran``; the first of equals."""
    return int(np.argmin(val_loss[:ran])) + 1


def rules(steps_per_epoch: int) -> dict:
    """Every rule tried, by name: (a function of the best epoch giving the patience in epochs,
    the most epochs run, ``min_rise``). A run recorded with more epochs holds the shorter runs
    as its first epochs (training is deterministic), so a cap below its epochs replays those."""
    found = {}
    for cap in (100, 200, 300):
        found[f"{cap} epochs"] = (lambda best: math.inf, cap, None)
        for p in (10, 20, 30, 40, 50):
            found[f"patience {p}, {cap}"] = (lambda best, p=p: p, cap, None)
        for floor in (20, 50):
            for factor in (0.5, 1.0):
                found[f"max({floor}, {factor:g} x best), {cap}"] = (
                    lambda best, f=floor, k=factor: max(f, k * best),
                    cap,
                    None,
                )
        found[f"max(10, 5000 steps), {cap}"] = (
            lambda best: max(10, 5000 / steps_per_epoch),
            cap,
            None,
        )
        for p in (10, 20):
            for rise in (0.1, 0.2, 0.3, 0.5):
                found[f"patience {p} + rise {rise:g}, {cap}"] = (lambda best, p=p: p, cap, rise)
    return found


def replay(run, name) -> tuple[int, float]:
    """``name``'s stop on ``run``: the epoch it keeps and the epochs it runs."""
    patience, cap, rise = rules(run["steps_per_epoch"])[name]
    ran = stop_epoch(run["val_loss"], patience, cap, rise)
    return kept(run["val_loss"], ran), ran


BIG = ("loans", "hmda", "ames", "diamonds")
"""The tables whose time is furthest from HistGradientBoosting's (benchmarks/RESULTS.md)."""


def judge(paths, variant: str = "", detail=()) -> None:
    """Every rule on ``variant``'s runs against the defaults' whole runs, split by split: the
    runs recorded with the defaults (and their reseeded twins) against themselves, a
    variant's runs against the defaults' run on the same split."""
    runs = [json.loads(line) for path in paths for line in Path(path).read_text().splitlines()]
    base = {(r["table"], r["seed"], r["reseed"]): r for r in runs if r.get("variant", "") == ""}
    noise = _noise(base)
    pairs = [
        (r, base[r["table"], r["seed"], r["reseed"]])
        for r in runs
        if r.get("variant", "") == variant and (r["table"], r["seed"], r["reseed"]) in base
    ]
    print(f"variant {variant or 'defaults'}: {len(pairs)} runs\n")
    print(
        "| rule | kept model changed | mean change where it changed | worst (table) | "
        f"epochs / 100: {', '.join(BIG)}; all (medians) |"
    )
    print("|---|---:|---:|---|---|")
    longest = max(len(run["val_loss"]) for run, _ in pairs)
    for name, (_, cap, _) in rules(1).items():
        if cap <= longest:
            print(_row(name, pairs))
    for name in detail:
        _detail(pairs, name, noise)


def _changes(pairs, name):
    """Per run: (table, score, change against the base run's kept epoch, epochs / 100)."""
    for run, before in pairs:
        epoch, ran = replay(run, name)
        whole = kept(before["val_loss"], len(before["val_loss"]))
        for key, value in run["scores"][epoch - 1].items():
            change = value - before["scores"][whole - 1][key]
            yield run["table"], key, change, ran / len(before["val_loss"])


def _row(name, pairs) -> str:
    changes = list(_changes(pairs, name))
    firsts = [c for c in changes if c[1] in ("r2", "roc_auc")]  # one score per run
    moved = [c for c in firsts if c[2] != 0]
    worst = min(firsts, key=lambda c: c[2])
    mean = statistics.mean(c[2] for c in moved) if moved else 0.0
    times = [
        statistics.median(c[3] for c in firsts if c[0] == table)
        for table in BIG
        if any(c[0] == table for c in firsts)
    ]
    every = statistics.median(c[3] for c in firsts)
    return (
        f"| {name} | {len(moved)} of {len(firsts)} | {mean:+.4f} | "
        f"{worst[2]:+.4f} ({worst[0]}) | {', '.join(f'{t:.2f}' for t in times)}; {every:.2f} |"
    )


def _detail(pairs, name, noise) -> None:
    by_table = {}
    for table, key, change, ratio in _changes(pairs, name):
        entry = by_table.setdefault((table, key), ([], []))
        entry[0].append(change)
        entry[1].append(ratio)
    print(f"\n{name}\n")
    print("| table | score | noise | median (mean; min, max) change | better/equal/worse | time |")
    print("|---|---|---:|---:|---|---:|")
    for (table, key), (d, ratio) in by_table.items():
        counts = f"{sum(x > 0 for x in d)} / {sum(x == 0 for x in d)} / {sum(x < 0 for x in d)}"
        print(
            f"| {table} | {key} | {noise.get((table, key), math.nan):.4f} | "
            f"{statistics.median(d):+.4f} ({statistics.mean(d):+.4f}; {min(d):+.4f}, "
            f"{max(d):+.4f}) | {counts} | {statistics.median(ratio):.2f} |"
        )


def _noise(base) -> dict:
    """Per table and score: the median over splits of |reseeded - defaults| at the kept
    epochs, where both were recorded."""
    found = {}
    for (table, seed, reseeded), run in base.items():
        other = base.get((table, seed, True))
        if reseeded or other is None:
            continue
        mine, theirs = (r["scores"][kept(r["val_loss"], 100) - 1] for r in (run, other))
        for score in mine:
            found.setdefault((table, score), []).append(abs(mine[score] - theirs[score]))
    return {key: statistics.median(values) for key, values in found.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    go = commands.add_parser("record")
    go.add_argument("--tables", default=",".join(real_tables.CHOSEN_ON))
    go.add_argument("--seeds", default="0,1,2,3,4")
    go.add_argument("--reseed", action="store_true", help="train with seed + 1000 (the noise)")
    go.add_argument("--out", type=Path, default=Path("stopping.jsonl"))
    go.add_argument("--variant", default="", help="train's options, as real_tables.py names them")
    show = commands.add_parser("judge")
    show.add_argument("paths", nargs="+")
    show.add_argument("--variant", default="", help="the runs recorded with this --variant")
    show.add_argument("--detail", action="append", default=[], help="a rule's table by table")
    args = parser.parse_args(argv)
    if args.command == "judge":
        judge(args.paths, args.variant, args.detail)
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    record(args.tables.split(","), seeds, args.out, args.reseed, args.variant)


if __name__ == "__main__":
    main()
