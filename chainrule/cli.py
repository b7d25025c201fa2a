"""The ``chainrule`` command: one small handler per subcommand, errors as one line, exit 2."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from . import __version__
from .layers import Dense
from .network import Network


class CommandError(Exception):
    """A problem the user can fix; printed as ``chainrule: error: <message>`` with exit code 2."""


def _seed001_network() -> Network:
    return Network(
        [Dense(2, 2, "sigmoid", W=[[0.15, 0.20], [0.25, 0.30]], b=[0.40, 0.35]),
         Dense(2, 2, "sigmoid", W=[[0.40, 0.45], [0.50, 0.55]], b=[0.25, 0.60])],
        loss="squared_error", dtype="float64",
    )


def _demo(args: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chainrule", description=__doc__)
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="reproduce the seed 001 worked example and train it")
    demo.add_argument("--steps", type=int, default=1000)
    demo.add_argument("--lr", type=float, default=0.5)
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 1 failed check, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (CommandError, ValueError, TypeError, OSError) as error:
        if args.debug:
            raise
        print(f"chainrule: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
