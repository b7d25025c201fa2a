"""The ``chainrule`` command: one small handler per subcommand.

Results go to stdout, progress to stderr. A problem the user can fix is one line on stderr,
``chainrule: error: <message>``, with exit code 2 (``--debug`` shows the traceback instead);
``check`` exits 1 when a claim is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from . import __version__


class CommandError(Exception):
    """A problem the user can fix; printed as ``chainrule: error: <message>`` with exit 2."""


def _seed001_network():
    from .layers import Dense
    from .network import Network

    return Network(
        [Dense(2, 2, "sigmoid", W=[[0.15, 0.20], [0.25, 0.30]], b=[0.40, 0.35]),
         Dense(2, 2, "sigmoid", W=[[0.40, 0.45], [0.50, 0.55]], b=[0.25, 0.60])],
        loss="squared_error", dtype="float64",
    )


def _demo(args) -> int:
    net = _seed001_network()
    X, T = np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])
    print("Seed 001: a 2-2-2 sigmoid network, x = (0.05, 0.10), t = (0.01, 0.99), "
          f"learning rate {args.lr}")
    for step in range(args.steps + 1):
        error = net._forward_backward(X, T, None)
        if step == 0 or step == args.steps or step % max(1, args.steps // 10) == 0:
            print(f"  step {step:>6}  E_total = {error:.9f}")
        net.parameters -= args.lr * net.gradients
    return 0


def _write_output(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)


def _explain(args) -> int:
    from .explain import explain

    explanation = explain(args.spec, steps=args.steps, digits=args.digits)
    _write_output(explanation.render(args.format), args.output)
    if args.diagram:
        from .explain.diagram import draw

        draw(explanation.trace, args.diagram, gradients=not args.no_gradients)
        print(f"diagram written to {args.diagram}", file=sys.stderr)
    return 0


def _check(args) -> int:
    from .explain import check

    results = check(args.spec, digits=args.digits)
    if not results:
        raise CommandError(f"{args.spec} holds no [claims] or [arithmetic] to check; add your "
                           "numbers under [claims]")
    if args.format == "json":
        print(json.dumps([{k: v for k, v in r.to_dict().items() if k != "kind"}
                          for r in results], indent=2, ensure_ascii=False))
    else:
        for r in results:
            print(f"{'ok   ' if r.ok else 'WRONG'} {r.name} = {r.claimed}: {r.diagnosis}")
        wrong = sum(not r.ok for r in results)
        print(f"\n{len(results) - wrong} of {len(results)} numbers hold; {wrong} wrong.")
    return 0 if all(r.ok for r in results) else 1


def _init_example(args) -> int:
    target = Path(args.path)
    if target.exists() and not args.force:
        raise CommandError(f"{target} already exists; pass --force to overwrite it")
    text = resources.files("chainrule.explain").joinpath("starter.toml").read_text("utf-8")
    _write_output(text, str(target))
    print(f"wrote {target}; try: chainrule explain {target}", file=sys.stderr)
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Backpropagation for multilayer perceptrons: explain, check, train.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="reproduce the seed 001 worked example and train")
    demo.add_argument("--steps", type=_positive_int, default=1000)
    demo.add_argument("--lr", type=float, default=0.5)
    demo.set_defaults(handler=_demo)

    explain = commands.add_parser("explain", help="work a spec file's example out step by step")
    explain.add_argument("spec", help="a worked-example spec file (TOML)")
    explain.add_argument("--steps", type=_positive_int, default=0,
                         help="also train this many steps and tabulate the error")
    explain.add_argument("--format", choices=["text", "markdown", "latex", "json"],
                         default="text")
    explain.add_argument("--digits", type=_positive_int, default=9,
                         help="significant digits shown (default 9)")
    explain.add_argument("--diagram", metavar="FILE", help="draw the network to a .png or .svg")
    explain.add_argument("--no-gradients", action="store_true",
                         help="do not colour the diagram's edges by gradient")
    explain.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    explain.set_defaults(handler=_explain)

    check = commands.add_parser("check", help="check the numbers claimed in a spec file")
    check.add_argument("spec")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--digits", type=_positive_int, default=9)
    check.set_defaults(handler=_check)

    init = commands.add_parser("init-example", help="write a starter spec file")
    init.add_argument("path", nargs="?", default="example.toml")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(handler=_init_example)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 1 a failed check, 2 an error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (CommandError, ValueError, TypeError, OSError, ImportError) as error:
        if args.debug:
            raise
        print(f"chainrule: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
