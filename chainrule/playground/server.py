"""The playground's web server: Starlette routes over a :class:`Playground`, live updates over
a websocket, served by uvicorn on 127.0.0.1 (or the address ``host`` names).

The page is static (``static/``: HTML, JavaScript, CSS, no build step, nothing from the
internet). It asks the JSON routes below and listens on ``/ws``, where the server sends a frame
whenever the run has moved (at most ten a second per tab). A problem with what the page sent
is answered ``400 {"errors": {field: message}}``; anything else ``500`` with one line, never a
traceback. A tab that closes or reloads only ends its own websocket; the run goes on.

Who may ask, as Jupyter decides it:

- Every request must name the server by one of its own names in ``Host`` (``localhost``,
  ``127.0.0.1`` or ``[::1]`` with the port; also the bound address when it is another), so a
  site whose name resolves to 127.0.0.1 (DNS rebinding) is refused; a request that carries an
  ``Origin`` header must come from the server's own origin, so another site's page can neither
  open ``/ws`` nor post to the routes.
- Each launch draws a token; :func:`serve` prints the address with ``?token=...``. The page
  loaded with it sets a ``SameSite=Strict; HttpOnly`` cookie holding the token, and every
  request (the page, its files, the routes, the websocket) needs that cookie, the ``token``
  query parameter or an ``Authorization: token ...`` header: 403 otherwise.
- The JSON routes take ``Content-Type: application/json`` only (415 otherwise), which a page
  on another site cannot send without the browser asking first (a CORS preflight, never
  granted), and a body of at most :data:`MAX_BODY` bytes (413 otherwise, checked on the
  declared length first and while the body streams in, before anything is decoded).

One Ctrl-C or SIGTERM stops the server within :data:`SHUTDOWN_GRACE` seconds whatever the
clients do: connections still open halfway through (a body that never ends, a websocket whose
client stopped reading) are dropped, and what is left at the end is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import secrets
import socket
import threading
import warnings
import webbrowser
from pathlib import Path

from ..core.extras import install_hint

try:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import Headers, QueryParams
    from starlette.requests import HTTPConnection, Request
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket
except ImportError as error:  # pragma: no cover - exercised by a test that hides the modules
    raise ImportError(
        f"the playground needs the 'playground' extra: {install_hint('playground')}"
    ) from error

from .controller import MAX_UPLOAD, FieldError, Playground, unencodable

__all__ = [
    "LOOPBACK_NAMES",
    "MAX_BODY",
    "SHUTDOWN_GRACE",
    "STATIC",
    "UPDATE_INTERVAL",
    "cookie_name",
    "create_app",
    "running",
    "serve",
]

STATIC = Path(__file__).parent / "static"
UPDATE_INTERVAL = 0.1  # seconds between a tab's frames, at most
MAX_BODY = 4 * MAX_UPLOAD  # bytes of a request body: the largest file, 4 UTF-8 bytes a character
SHUTDOWN_GRACE = 1.0  # seconds from a stop until uvicorn cancels what still runs
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_WILDCARDS = ("", "0.0.0.0", "::")
_CLOSE = {"Connection": "close"}  # uvicorn then stops reading the request
log = logging.getLogger("chainrule.playground")


class _Refused(Exception):
    """A request answered ``status`` with ``{"errors": {field: message}}``, its body (maybe
    unread, maybe huge) left behind: the connection closes after the answer."""

    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status, self.field, self.message = status, field, message

    def response(self) -> JSONResponse:
        return JSONResponse({"errors": {self.field: self.message}}, self.status, headers=_CLOSE)


# -- who may ask ---------------------------------------------------------------------------------
def _bracketed(host: str) -> str:
    """``host`` as it appears in a URL or a Host header: an IPv6 address in brackets."""
    host = host.strip("[]").lower()
    return f"[{host}]" if ":" in host else host


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name other than localhost: it may be reachable from elsewhere
        return False


def _host_names(host: str) -> frozenset[str] | None:
    """The host names a server bound to ``host`` answers to: the loopback names and ``host``
    itself. ``None`` for a wildcard address (``0.0.0.0``, ``::``), which any of the machine's
    names reaches; the token still guards it."""
    if host.strip("[]") in _WILDCARDS:
        return None
    return frozenset({*LOOPBACK_NAMES, _bracketed(host)})


def _split_host(header: str) -> tuple[str, int | None]:
    """A Host header's name and port (None when it names none, or not as digits: -1)."""
    header = header.strip().lower()
    name, colon, port = header.rpartition(":") if not header.endswith("]") else ("", "", "")
    if not colon:
        return header, None
    return name, int(port) if port.isdigit() else -1


def cookie_name(port: int) -> str:
    """The token cookie of the server on ``port``: cookies ignore ports, so two playgrounds on
    one machine would otherwise overwrite each other's."""
    return f"chainrule-playground-{port}"


class _Guard:
    """ASGI middleware: refuse (403) a request whose ``Host`` is not the server's, whose
    ``Origin`` is another site's, or that lacks the launch token."""

    def __init__(self, app, token: str, names: frozenset[str] | None, port: int | None):
        self.app, self.token, self.names, self.port = app, token, names, port

    def host_allowed(self, header: str) -> bool:
        name, port = _split_host(header)
        if not name or (self.names is not None and name not in self.names):
            return False
        return self.port is None or port == self.port or (port is None and self.port == 80)

    def holds_token(self, scope, headers: Headers) -> bool:
        query = QueryParams(scope.get("query_string", b"").decode("latin-1"))
        authorization = headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        cookies = HTTPConnection(scope).cookies
        offered = [
            query.get("token"),
            credential.strip() if scheme.lower() == "token" else None,
            cookies.get(cookie_name(_port(scope))),
        ]
        return any(
            value is not None and secrets.compare_digest(value.encode(), self.token.encode())
            for value in offered
        )

    def refusal(self, scope) -> str | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not self.host_allowed(host):
            names = " or ".join(sorted(self.names or ("a name of this machine",)))
            port = "" if self.port is None else f" with port {self.port}"
            return f"the playground answers to {names}{port}, not to Host {host!r}"
        origin = headers.get("origin")
        if origin is not None and origin.lower() != f"http://{host.strip().lower()}":
            return f"a request from another site (Origin {origin!r}) is refused"
        if not self.holds_token(scope, headers):
            return (
                "this needs the playground's token: open the address that `chainrule "
                "playground` printed, which ends in ?token=..."
            )
        return None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(scope)
        if reason is None:
            await self.app(scope, receive, send)
            return
        # %r: the path and the headers quoted in reason are the client's text, escapes and all
        log.warning("playground: refused %s %r: %s", scope["type"], scope["path"], reason)
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        if scope["path"].startswith("/api/"):
            response = _Refused(403, "server", reason).response()
        else:
            response = PlainTextResponse(f"403 Forbidden: {reason}\n", 403, headers=_CLOSE)
        await response(scope, receive, send)


def _port(scope) -> int:
    server = scope.get("server") or (None, None)
    return int(server[1] or 80)


# -- the routes ----------------------------------------------------------------------------------
async def _body(request: Request, field: str) -> dict:
    """The request's JSON object, read at most :data:`MAX_BODY` bytes far."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise _Refused(
            415, "request", f"send the body as application/json, not {media_type or 'nothing'!r}"
        )
    too_large = _Refused(
        413,
        field,
        f"the request is larger than {MAX_BODY} bytes (a file of at most {MAX_UPLOAD} characters)",
    )
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit():
        raise _Refused(400, "request", f"the Content-Length {declared!r} is not a number")
    if int(declared) > MAX_BODY:  # refused before a byte of the body is read
        raise too_large
    chunks, size, more = [], 0, True
    while more:
        message = await request.receive()
        if message["type"] == "http.disconnect":  # nobody is left to answer
            raise _Refused(400, "request", "the client went away before the body ended")
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_BODY:  # a body streamed without a length: stop reading it here
            raise too_large
        more = message.get("more_body", False)
    try:
        body = json.loads(b"".join(chunks).decode("utf-8"))
    except UnicodeDecodeError as error:
        raise FieldError({"request": f"the request body is not UTF-8: {error.reason}"}) from None
    except (ValueError, RecursionError):
        raise FieldError({"request": "the request body is not JSON"}) from None
    if not isinstance(body, dict):
        raise FieldError({"request": f"the body must be a JSON object, got {type(body).__name__}"})
    problem = _unencodable_in(body)
    if problem:
        raise FieldError({field: problem})
    return body


def _unencodable_in(body: dict) -> str | None:
    """The first string in ``body`` (keys too) that UTF-8 cannot encode, named, or None."""
    stack = [("body", body)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((f"{where} key", key))
                stack.append((f"{key!r}" if where == "body" else where, item))
        elif isinstance(value, list):
            stack.extend((where, item) for item in value)
        elif isinstance(value, str) and (problem := unencodable(value)):
            return f"{where} is not text: {problem}"
    return None


def _handler(method, field: str = "request"):
    """A JSON route calling ``method(body)`` (or ``method()`` for GET) in a worker thread;
    ``field`` is the page's field that a refused body concerns."""

    async def route(request: Request) -> JSONResponse:
        try:
            if request.method == "GET":
                result = await run_in_threadpool(method)
            else:
                result = await run_in_threadpool(method, await _body(request, field))
            return JSONResponse(result)  # inside the try: an answer JSON cannot hold is a 500
        except _Refused as refused:
            return refused.response()
        except FieldError as error:
            return JSONResponse({"errors": error.fields}, status_code=400)
        except Exception as error:  # the page gets one line; the server keeps serving
            log.error(
                "playground: %s failed: %s: %s", request.url.path, type(error).__name__, error
            )
            message = f"internal error: {type(error).__name__}: {error}"
            return JSONResponse({"errors": {"server": message}}, status_code=500)

    return route


async def _updates(playground: Playground, websocket: WebSocket) -> None:
    """Send a frame whenever the run has moved, until the tab goes away."""
    await websocket.accept()
    run, sent, version = None, 0, None
    while True:
        current = playground.position()
        if current != (run, version):
            message = await run_in_threadpool(playground.update, run, sent)
            try:
                await websocket.send_json(message)
            except Exception:  # the tab closed or reloaded while we sent, or the server stops
                return
            run, version = message["run"], message["version"]
            sent = message["history_from"] + len(message["history"].get("loss", []))
        try:
            incoming = await asyncio.wait_for(websocket.receive(), UPDATE_INTERVAL)
        except TimeoutError:
            continue
        if incoming["type"] == "websocket.disconnect":
            return


def create_app(
    playground: Playground | None = None,
    *,
    token: str | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
) -> Starlette:
    """The Starlette application serving ``playground`` (a new one by default) to requests
    that name ``host`` or a loopback name with ``port`` (any port when None) and hold
    ``token`` (a fresh one by default: ``app.state.token``)."""
    playground = playground or Playground()
    token = token or secrets.token_urlsafe(32)

    async def index(request: Request) -> FileResponse:
        response = FileResponse(STATIC / "index.html", headers={"Referrer-Policy": "no-referrer"})
        offered = request.query_params.get("token")
        if offered is not None and secrets.compare_digest(offered.encode(), token.encode()):
            response.set_cookie(
                cookie_name(_port(request.scope)), token, httponly=True, samesite="strict"
            )
        return response

    async def updates(websocket: WebSocket) -> None:
        await _updates(playground, websocket)

    routes = [
        Route("/", index),
        Route("/api/state", _handler(playground.state)),
        Route("/api/python", _handler(playground.python)),
        Route("/api/settings", _handler(playground.apply_settings, "settings"), methods=["POST"]),
        Route("/api/upload", _handler(playground.upload, "csv"), methods=["POST"]),
        Route("/api/control", _handler(playground.control, "control"), methods=["POST"]),
        Route("/api/explain", _handler(playground.explain, "explain"), methods=["POST"]),
        Route("/api/check", _handler(playground.check, "check"), methods=["POST"]),
        Route("/api/spec", _handler(playground.load_spec, "spec"), methods=["POST"]),
        WebSocketRoute("/ws", updates),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        playground.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(_Guard, token=token, names=_host_names(host), port=port)
    app.state.playground = playground
    app.state.token = token
    return app


# -- serving -------------------------------------------------------------------------------------
def _bind(host: str, port: int) -> socket.socket:
    address = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError as error:
        sock.close()
        raise OSError(
            f"cannot listen on {host}:{port} ({error.strerror}); pick another with --port"
            + ("" if _is_loopback(host) else " or --host")
        ) from None
    sock.listen(64)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, which, once it stops (Ctrl-C, SIGTERM, ``should_exit``), closes the
    websockets and ends the idle connections as uvicorn does, then drops the connections still
    open after half of :data:`SHUTDOWN_GRACE`: a request whose body has not all come, a
    websocket whose client stopped reading (not even the closing frame reaches it). What waited
    on them ends at once (a disconnect), quietly; uvicorn cancels whatever is left at
    :data:`SHUTDOWN_GRACE`, with a traceback."""

    async def shutdown(self, sockets=None) -> None:
        loop = asyncio.get_running_loop()
        drop = loop.call_later(SHUTDOWN_GRACE / 2, self._drop_connections)
        try:
            await super().shutdown(sockets)
        finally:
            drop.cancel()

    def _drop_connections(self) -> None:
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()


def _server(app) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level="warning",
        ws="websockets-sansio",
        ws_max_size=65536,  # the page sends nothing on its websocket
        lifespan="on",
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    return _Server(config)


def _start(host: str, port: int, playground: Playground | None):
    """Bind, build the app and its server; the address to open (with the token)."""
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    app = create_app(playground, host=host, port=port)
    if not _is_loopback(host):
        warnings.warn(
            f"the playground listens on {host}:{port}, which other machines may reach; it has "
            "no authentication beyond the token in its address, which plain HTTP sends "
            "unencrypted",
            UserWarning,
            stacklevel=3,
        )
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(
        host.strip("[]"), _bracketed(host)
    )
    return sock, _server(app), f"http://{shown}:{port}/?token={app.state.token}"


def serve(port: int = 8765, *, host: str = "127.0.0.1", open_browser: bool = True) -> None:
    """Serve the playground on ``host:port`` until Ctrl-C or SIGTERM (``port=0`` picks a free
    port); print its address with the launch token and, with ``open_browser``, open it.

    An address other than a loopback one warns (:class:`UserWarning`): the token is the only
    thing between the playground and whoever can reach it."""
    sock, server, url = _start(host, port, None)
    print(f"chainrule playground on {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        opener = threading.Timer(0.5, webbrowser.open, [url])
        opener.daemon = True
        opener.start()
    server.run(sockets=[sock])


@contextlib.contextmanager
def running(playground: Playground | None = None, host: str = "127.0.0.1"):
    """Serve ``playground`` on a free port in a background thread; yields its address with the
    token (``http://127.0.0.1:PORT/?token=...``, for tests and notebooks). The server stops
    when the block ends."""
    sock, server, url = _start(host, 0, playground)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
