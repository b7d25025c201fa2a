"""The ``playground`` command: serve the browser playground on 127.0.0.1 (or ``--host``)."""

from __future__ import annotations

import argparse

from .common import plain_warnings

__all__ = ["add_commands"]


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value}")
    return value


def _playground(args) -> int:
    from ..playground.server import serve  # ImportError names the 'playground' extra

    with plain_warnings():  # another address than 127.0.0.1: one line saying what that means
        serve(args.port, host=args.host, open_browser=not args.no_browser)
    return 0


def add_commands(commands) -> None:
    """Register ``playground``."""
    playground = commands.add_parser(
        "playground",
        help="watch a network learn in the browser, with the chain rule of every weight",
    )
    playground.add_argument(
        "--port", type=_port, default=8765, help="port to listen on (default 8765; 0 picks one)"
    )
    playground.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; another address, "
        "such as 0.0.0.0, lets other machines in with the printed token as the only guard)",
    )
    playground.add_argument(
        "--no-browser", action="store_true", help="do not open a browser; just print the address"
    )
    playground.set_defaults(handler=_playground)
