"""The playground's web server: Starlette routes over a :class:`Playground`, live updates over
a websocket, served by uvicorn on 127.0.0.1.

The page is static (``static/``: HTML, JavaScript, CSS, no build step, nothing from the
internet). It asks the JSON routes below and listens on ``/ws``, where the server sends a frame
whenever the run has moved (at most ten a second per tab). A problem with what the page sent
is answered ``400 {"errors": {field: message}}``; anything else ``500`` with one line, never a
traceback. A tab that closes or reloads only ends its own websocket; the run goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import webbrowser
from pathlib import Path

try:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket
except ImportError as error:  # pragma: no cover - exercised by a test that hides the modules
    raise ImportError(
        "the playground needs the 'playground' extra: pip install 'chainrule[playground]'"
    ) from error

from .controller import FieldError, Playground

__all__ = ["STATIC", "UPDATE_INTERVAL", "create_app", "running", "serve"]

STATIC = Path(__file__).parent / "static"
UPDATE_INTERVAL = 0.1  # seconds between a tab's frames, at most
log = logging.getLogger("chainrule.playground")


def _handler(method):
    """A JSON route calling ``method(body)`` (or ``method()`` for GET) in a worker thread."""

    async def route(request: Request) -> JSONResponse:
        try:
            if request.method == "GET":
                result = await run_in_threadpool(method)
            else:
                try:
                    body = await request.json()
                except ValueError:
                    raise FieldError({"request": "the request body is not JSON"}) from None
                result = await run_in_threadpool(method, body)
        except FieldError as error:
            return JSONResponse({"errors": error.fields}, status_code=400)
        except Exception as error:  # the page gets one line; the server keeps serving
            log.error(
                "playground: %s failed: %s: %s", request.url.path, type(error).__name__, error
            )
            message = f"internal error: {type(error).__name__}: {error}"
            return JSONResponse({"errors": {"server": message}}, status_code=500)
        return JSONResponse(result)

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
            except Exception:  # the tab closed or reloaded while we sent
                return
            run, version = message["run"], message["version"]
            sent = message["history_from"] + len(message["history"].get("loss", []))
        try:
            incoming = await asyncio.wait_for(websocket.receive(), UPDATE_INTERVAL)
        except TimeoutError:
            continue
        if incoming["type"] == "websocket.disconnect":
            return


def create_app(playground: Playground | None = None) -> Starlette:
    """The Starlette application serving ``playground`` (a new one by default)."""
    playground = playground or Playground()

    async def index(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    async def updates(websocket: WebSocket) -> None:
        await _updates(playground, websocket)

    routes = [
        Route("/", index),
        Route("/api/state", _handler(playground.state)),
        Route("/api/python", _handler(playground.python)),
        Route("/api/settings", _handler(playground.apply_settings), methods=["POST"]),
        Route("/api/upload", _handler(playground.upload), methods=["POST"]),
        Route("/api/control", _handler(playground.control), methods=["POST"]),
        Route("/api/explain", _handler(playground.explain), methods=["POST"]),
        Route("/api/check", _handler(playground.check), methods=["POST"]),
        Route("/api/spec", _handler(playground.load_spec), methods=["POST"]),
        WebSocketRoute("/ws", updates),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        playground.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.playground = playground
    return app


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(
            f"cannot listen on {host}:{port} ({error.strerror}); pick another with --port"
        ) from None
    sock.listen(64)
    return sock


def _server(app) -> uvicorn.Server:
    config = uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="on")
    return uvicorn.Server(config)


def serve(port: int = 8765, *, host: str = "127.0.0.1", open_browser: bool = True) -> None:
    """Serve the playground on ``host:port`` until Ctrl-C (``port=0`` picks a free port);
    print its address and, with ``open_browser``, open it."""
    sock = _bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}/"
    server = _server(create_app())
    print(f"chainrule playground on {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    server.run(sockets=[sock])


@contextlib.contextmanager
def running(playground: Playground | None = None, host: str = "127.0.0.1"):
    """Serve ``playground`` on a free port in a background thread; yields its address (for
    tests and notebooks). The server stops when the block ends."""
    app = create_app(playground)
    sock = _bind(host, 0)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.02)
        yield f"http://{host}:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
