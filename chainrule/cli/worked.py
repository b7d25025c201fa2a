"""Commands for worked examples: ``demo``, ``explain``, ``check``, ``init-example``."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

from .common import (
    CommandError,
    add_renamed_flag,
    non_negative_int,
    option_type,
    positive_int,
    write_text,
)

__all__ = ["STARTER_KINDS", "add_commands"]

STARTER_KINDS = ("basic", "softmax", "bce", "batch", "momentum", "adam")

# Seed 001 (and examples/seed001.toml) steps at 0.01; the demo's default is 0.5, which shows
# the error fall within a few steps. The demo says which it uses.
SEED001_LEARNING_RATE = 0.01
DEMO_LEARNING_RATE = 0.5
_WHY_DEMO_RATE = f"{DEMO_LEARNING_RATE} shows the error fall within a few steps"


def _step_count(text: str) -> int:
    """A number of training steps, refused above explain's limit before any work starts."""
    from ..explain import MAX_STEPS

    value = non_negative_int(text)
    if value > MAX_STEPS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_STEPS} steps, got {value}")
    return value


def _seed001_network():
    from ..core.layers import Dense
    from ..core.network import Network

    return Network(
        [
            Dense(2, 2, "sigmoid", W=[[0.15, 0.20], [0.25, 0.30]], b=[0.40, 0.35]),
            Dense(2, 2, "sigmoid", W=[[0.40, 0.45], [0.50, 0.55]], b=[0.25, 0.60]),
        ],
        loss="squared_error",
        dtype="float64",
    )


def _demo(args) -> int:
    """The ``demo`` command: seed 001's worked example, then a training run on ``--data``."""
    _demo_worked_example(args)
    _demo_training(args)
    return 0


def _demo_worked_example(args) -> None:
    """Seed 001's forward pass, gradients and update, then its error over ``--steps`` steps."""
    from ..explain import explain

    net = _seed001_network()
    explanation = explain(
        net, x=[0.05, 0.10], t=[0.01, 0.99], learning_rate=args.learning_rate, steps=args.steps
    )
    lines = explanation.render("text").splitlines()
    shown = (
        "z1 =",
        "a1 =",
        "y1 =",
        "y2 =",
        "E =",
        "dE/da1 =",
        "dE/dw1 =",
        "dE/dw5 =",
        "w5+ =",
        "E+ =",
    )
    print(
        "1. Seed 001's worked example: a 2-2-2 sigmoid network, x = (0.05, 0.10), "
        f"t = (0.01, 0.99), {_learning_rate_words(args.learning_rate)}"
    )
    for line, following in zip(lines, lines[1:] + [""], strict=True):
        if line.startswith(shown):
            print(f"   {line}")
            if line.startswith("dE/da1"):  # the sum over every path, and its note
                print(f"   {following}")
    print(f"   ... and the total error over {args.steps} steps of gradient descent:")
    rows = explanation.steps.rows
    shown_rows = rows[:: max(1, len(rows) // 8)]
    for step, error in shown_rows + ([rows[-1]] if rows[-1] not in shown_rows else []):
        print(f"   step {step:>6}  E_total = {error:.9f}")
    print("   (chainrule explain FILE shows every step; chainrule check FILE checks yours)")


def _learning_rate_words(rate: float) -> str:
    """``learning rate R`` and how R relates to seed 001's own rate."""
    if rate == SEED001_LEARNING_RATE:
        return f"learning rate {rate} (seed 001's own)"
    why = f"; {_WHY_DEMO_RATE}" if rate == DEMO_LEARNING_RATE else ""
    return f"learning rate {rate} (seed 001 itself uses {SEED001_LEARNING_RATE}{why})"


def _demo_training(args) -> None:
    """A network trained on the built-in ``--data``, with its training and held-out accuracy."""
    from ..datasets import load_dataset
    from ..tables.model import subset, train_table
    from ..tables.reading import dataset_table

    dataset = load_dataset(args.data)
    hidden, learning_rate = (64, 64), 0.01
    sizes = "-".join(
        str(n) for n in (len(dataset.feature_names), *hidden, len(dataset.class_names))
    )
    print(
        f"\n2. Training a {sizes} network (ReLU hidden layers, softmax output, cross-entropy "
        f"loss; Adam, learning rate {learning_rate}, batches of 32) on the built-in "
        f"{dataset.description}:"
    )
    table = dataset_table(dataset)
    run = train_table(
        table,
        dataset.target_name,
        hidden=hidden,
        activation="relu",
        learning_rate=learning_rate,
        epochs=args.epochs,
        validation_split=0.25,
        verbose=0 if args.quiet else 1,
        seed=0,
        dropout=0.0,  # the network described above, every epoch run (the best one kept)
        input_scale=None,
        embedding_size=None,
        patience=None,
    )
    held_out = run.model.evaluate(subset(table, run.validation_rows))
    trained = run.model.evaluate(subset(table, run.train_rows))
    print(
        f"   accuracy: {trained['accuracy']:.1%} on the {trained['rows']} training rows, "
        f"{held_out['accuracy']:.1%} on the {held_out['rows']} held-out rows "
        f"({len(run.history.epoch)} epochs, {run.seconds:.1f} s)"
    )


def _explain(args) -> int:
    from ..explain import explain

    if args.diagram:
        from ..files.figures import check_format

        # a missing matplotlib or an unknown image format is reported before any output
        check_format(args.diagram, "--diagram")
    explanation = explain(args.spec, steps=args.steps, digits=args.digits)
    write_text(explanation.render(args.format, form=args.form), args.output)
    if args.diagram:
        from ..explain.diagram import draw

        draw(explanation.trace, args.diagram, gradients=not args.no_gradients)
        print(f"diagram written to {args.diagram}", file=sys.stderr)
    return 0


def _check(args) -> int:
    from ..core.terminal import printable_json
    from ..explain import check
    from ..explain.render import verdict_text

    results = check(args.spec, digits=args.digits)
    if not results:
        raise CommandError(
            f"{args.spec} holds no [claims] or [arithmetic] to check; add your "
            "numbers under [claims]"
        )
    if args.format == "json":
        document = [{k: v for k, v in r.to_dict().items() if k != "kind"} for r in results]
        print(printable_json(json.dumps(document, indent=2, ensure_ascii=False)))
    else:
        for r in results:
            print(verdict_text(r))  # names from the file, control characters escaped
        unknown = sum(r.kind == "unknown_name" for r in results)
        checked = len(results) - unknown
        wrong = sum(not r.ok for r in results) - unknown
        names = f"; {unknown} name{'s' * (unknown > 1)} unknown" if unknown else ""
        print(f"\n{checked - wrong} of {checked} numbers hold; {wrong} wrong{names}.")
    return 0 if all(r.ok for r in results) else 1


def _init_example(args) -> int:
    target = Path(args.path)
    if target.exists() and not args.force:
        raise CommandError(f"{target} already exists; pass --force to overwrite it")
    package = resources.files("chainrule.explain")
    starter = (
        package / "starters" / f"{args.kind}_exercise.toml"
        if args.exercise
        else package / "starter.toml"
        if args.kind == "basic"
        else package / "starters" / f"{args.kind}.toml"
    )
    text = starter.read_text("utf-8")
    write_text(text, str(target))
    command = f"exercise {target} --count 30 --out sheets" if args.exercise else f"explain {target}"
    print(f"wrote {target}; try: chainrule {command}", file=sys.stderr)
    return 0


def add_commands(commands) -> None:
    """Register demo, explain, check and init-example."""
    _add_demo(commands)
    _add_explain(commands)
    _add_check(commands)
    _add_init_example(commands)


def _add_demo(commands) -> None:
    """Register ``demo``."""
    demo = commands.add_parser("demo", help="the seed 001 worked example, then a training run")
    demo.add_argument(
        "--steps",
        type=_step_count,
        default=1000,
        help="gradient-descent steps on the worked example (default 1000)",
    )
    learning_rate = demo.add_argument(
        "--learning-rate",
        type=option_type("learning_rate"),
        default=DEMO_LEARNING_RATE,
        metavar="RATE",
        help=f"learning rate of the worked example's steps (default {DEMO_LEARNING_RATE}; "
        f"seed 001 itself uses {SEED001_LEARNING_RATE}, which reproduces chainrule explain "
        f"examples/seed001.toml; {_WHY_DEMO_RATE})",
    )
    add_renamed_flag(demo, "--lr", learning_rate)
    demo.add_argument(
        "--data", default="spirals", help="built-in dataset to train on (default spirals)"
    )
    demo.add_argument(
        "--epochs",
        type=non_negative_int,
        default=300,
        help="epochs of the training run on --data (default 300)",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    demo.set_defaults(handler=_demo)


def _add_explain(commands) -> None:
    """Register ``explain``."""
    explain = commands.add_parser("explain", help="work a spec file's example out step by step")
    explain.add_argument("spec", help="a worked-example spec file (TOML)")
    explain.add_argument(
        "--steps",
        type=_step_count,
        default=0,
        help="also train this many steps (at most 1000000) and tabulate the error",
    )
    explain.add_argument(
        "--format",
        choices=["text", "markdown", "latex", "json", "matrix"],
        default="text",
        help="matrix: short for --form matrix --format text",
    )
    explain.add_argument(
        "--form",
        choices=["values", "matrix"],
        default="values",
        help="values: one number at a time (default); matrix: the same pass as matrix products "
        "with their shapes, in any --format",
    )
    explain.add_argument(
        "--digits", type=positive_int, default=9, help="significant digits shown (default 9)"
    )
    explain.add_argument(
        "--diagram",
        metavar="FILE",
        help="draw the network to FILE, in the format its suffix names: .png (also without a "
        "suffix), .svg, .pdf, .jpg or any other image format matplotlib writes",
    )
    explain.add_argument(
        "--no-gradients", action="store_true", help="do not colour the diagram's edges by gradient"
    )
    explain.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    explain.set_defaults(handler=_explain)


def _add_check(commands) -> None:
    """Register ``check``."""
    check = commands.add_parser("check", help="check the numbers claimed in a spec file")
    check.add_argument("spec")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--digits", type=positive_int, default=9)
    check.set_defaults(handler=_check)


def _add_init_example(commands) -> None:
    """Register ``init-example``."""
    init = commands.add_parser("init-example", help="write a starter spec file")
    init.add_argument("path", nargs="?", default="example.toml")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.add_argument(
        "--kind",
        choices=STARTER_KINDS,
        default="basic",
        help="basic: a 2-2-1 sigmoid network; softmax: softmax with cross-entropy; bce: sigmoid "
        "with binary cross-entropy; batch: three samples; momentum, adam: two optimizer steps",
    )
    init.add_argument(
        "--exercise",
        action="store_true",
        help="write the kind's exercise template instead: the spec with an [exercise] table "
        "(what is asked, what varies) for chainrule exercise",
    )
    init.set_defaults(handler=_init_example)
