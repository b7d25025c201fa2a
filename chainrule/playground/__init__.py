"""The playground: watch a network learn in the browser, and see the chain rule of every weight.

``chainrule playground`` (or :func:`chainrule.playground.server.serve`) starts a local web
server; the page draws while chainrule's own ``Network.fit`` trains on the server, seeded and
reproducible. Clicking a weight, bias or neuron shows its chain rule for one sample with the
numbers ``chainrule explain`` prints; a box checks a typed number with ``chainrule check``.

The web stack (Starlette, uvicorn, websockets) comes with the ``playground`` extra and is only
imported by :mod:`chainrule.playground.server`.
"""

__all__ = []
