"""The playground server's edges, tried for real: requests and websockets from another site, for
another host name, without the token; oversized, hostile and malformed uploads; and a server
that must stop on one Ctrl-C or SIGTERM whatever its clients do. Every request goes over a real
socket to a real uvicorn server (``running``, or ``chainrule playground`` in a subprocess)."""

import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from chainrule.playground.controller import MAX_UPLOAD, Playground  # noqa: E402
from chainrule.playground.points import MAX_FIELD, read_points  # noqa: E402
from chainrule.playground.server import (  # noqa: E402
    MAX_BODY,
    SHUTDOWN_GRACE,
    _server,
    cookie_name,
    create_app,
    running,
)
from chainrule.playground.settings import parse_settings  # noqa: E402
from chainrule.tables.reading import DataError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EVIL = "http://evil.example"
JSON = {"Content-Type": "application/json"}
ROUTES = [  # every route the page uses, with a body the page could send
    ("GET", "/", None),
    ("GET", "/static/app.js", None),
    ("GET", "/api/state", None),
    ("GET", "/api/python", None),
    ("POST", "/api/settings", {"learning_rate": "0.5"}),
    ("POST", "/api/upload", {"name": "a.csv", "text": "a,b,c\n0,0,x\n1,1,y\n"}),
    ("POST", "/api/control", {"action": "play"}),
    ("POST", "/api/explain", {"target": {"kind": "bias", "layer": 1, "to": 0}, "sample": 0}),
    ("POST", "/api/check", {"spec": "x", "symbol": "E", "value": "1"}),
    ("POST", "/api/spec", {"name": "s.toml", "text": "title = 'x'"}),
]


# -- a real server and real clients -------------------------------------------------------------
@pytest.fixture(scope="module")
def served():
    """One server for the module; a test that changes its run says so and restores nothing it
    relies on (each asks for the state it checks)."""
    playground = Playground(parse_settings({"dataset": "xor", "samples": "40"}), speed="fast")
    with running(playground) as entry:
        base, token = entry.split("?token=")
        port = int(base.rsplit(":", 1)[1].rstrip("/"))
        yield SimpleNamespace(
            entry=entry,
            base=base,
            token=token,
            port=port,
            host=f"127.0.0.1:{port}",
            origin=f"http://127.0.0.1:{port}",
            cookie=f"{cookie_name(port)}={token}",
            playground=playground,
        )


def ask(served, method, path, body=None, headers=None, *, token=True, host=None):
    """``(status, headers, body)`` of one request; ``token``: with the token's cookie, as the
    page's requests are; ``host``: the Host header (the server's own address by default)."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=20)
    sent = {"Host": host or served.host, **({"Cookie": served.cookie} if token else {})}
    sent.update(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body)
    try:
        connection.request(method, path, body, sent)
        response = connection.getresponse()
        return response.status, response, response.read()
    finally:
        connection.close()


def state(served) -> dict:
    status, _, data = ask(served, "GET", "/api/state")
    assert status == 200, data
    return json.loads(data)


def handshake(port, path="/ws", headers=None) -> int:
    """The HTTP status a raw websocket handshake gets (101: the websocket is open)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def websocket(served, origin, cookie=True):
    """A websocket client (the websockets library, as a browser asks: with an Origin)."""
    from websockets.sync.client import connect

    headers = {"Cookie": served.cookie} if cookie else {}
    return connect(
        f"ws://{served.host}/ws",
        origin=origin,
        additional_headers=headers,
        proxy=None,
        open_timeout=10,
    )


# -- another site, another host name, no token ---------------------------------------------------
def test_a_page_on_another_site_cannot_open_the_websocket(served):
    pytest.importorskip("websockets")
    from websockets.exceptions import InvalidStatus

    with websocket(served, served.origin) as own:  # the page's own websocket: frames come
        assert "frame" in json.loads(own.recv(timeout=10))
    # cross-site websocket hijacking: the browser sends the cookie along (before SameSite),
    # but the Origin is the other site's
    for origin in (EVIL, "null", f"http://127.0.0.1:{served.port + 1}", "https://127.0.0.1"):
        with pytest.raises(InvalidStatus) as refused:
            websocket(served, origin).close()
        assert refused.value.response.status_code == 403, origin


def test_a_request_for_another_host_name_gets_nothing(served):
    # DNS rebinding: evil.example now resolves to 127.0.0.1, so its page is same-origin with
    # evil.example:PORT and reads the answers; the Host header is all that tells them apart
    port = served.port
    for host in (
        f"evil.example:{port}",
        f"127.0.0.1.evil.example:{port}",
        f"localhost.evil.example:{port}",
        f"127.0.0.1:{port + 1}",
        "127.0.0.1",
        "",
    ):
        for method, path, body in ROUTES:
            status, _, data = ask(
                served, method, path, body, {**JSON, "Origin": f"http://{host}"}, host=host
            )
            assert status == 403, (host, path, data)
            assert b"points" not in data and b"class_names" not in data
        # the websocket too, with the token
        assert handshake(port, headers={"Host": host, "Cookie": served.cookie}) == 403, host
    for host in (f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):  # its own names
        assert ask(served, "GET", "/api/state", host=host)[0] == 200, host


def test_a_cross_site_post_as_text_plain_is_refused_and_changes_nothing(served):
    before = state(served)
    assert not before["playing"]
    simple = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x", "")
    for content_type in simple:  # the types a cross-site form or fetch sends without preflight
        headers = {"Content-Type": content_type} if content_type else {}
        for method, path, body in ROUTES:
            if method != "POST":
                continue
            # from another site, with the cookie a browser would send: refused for its Origin
            status, _, data = ask(served, method, path, body, {**headers, "Origin": EVIL})
            assert status == 403, (content_type, path, data)
            # the same body typed so from the page's own origin: refused for its type
            status, _, data = ask(served, method, path, body, {**headers, "Origin": served.origin})
            assert status == 415 and b"application/json" in data, (content_type, path, data)
    time.sleep(0.3)
    after = state(served)
    assert after["run"] == before["run"] and after["settings"] == before["settings"]
    assert not after["playing"] and after["epoch"] == before["epoch"]
    assert not after["csv_loaded"]


def test_without_the_token_every_route_and_the_websocket_are_refused(served):
    wrong = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
    for method, path, body in ROUTES:
        for credential in (
            {},
            {"Cookie": f"{cookie_name(served.port)}={wrong}"},
            {"Cookie": f"{cookie_name(served.port + 1)}={served.token}"},  # another port's
            {"Authorization": f"token {wrong}"},
            {"Authorization": f"Bearer {served.token}"},
        ):
            status, _, data = ask(served, method, path, body, {**JSON, **credential}, token=False)
            assert status == 403 and b"token" in data, (path, credential, data)
        status, _, _ = ask(served, method, f"{path}?token={wrong}", body, JSON, token=False)
        assert status == 403, path
    assert handshake(served.port, headers={"Host": served.host}) == 403
    assert handshake(served.port, f"/ws?token={wrong}", {"Host": served.host}) == 403
    assert not state(served)["playing"]  # nothing was played


def test_the_printed_address_sets_a_strict_http_only_cookie_that_then_suffices(served):
    status, response, page = ask(served, "GET", f"/?token={served.token}", token=False)
    assert status == 200 and b"chainrule playground" in page
    cookie = response.getheader("Set-Cookie")
    assert cookie.startswith(f"{served.cookie};")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert response.getheader("Referrer-Policy") == "no-referrer"
    # with the cookie alone, as the page asks: its files, its routes, its websocket
    page_headers = {**JSON, "Origin": served.origin}
    assert ask(served, "GET", "/static/app.js")[0] == 200
    assert ask(served, "GET", "/api/state")[0] == 200
    assert ask(served, "POST", "/api/control", {"action": "pause"}, page_headers)[0] == 200
    assert handshake(served.port, headers={"Host": served.host, "Cookie": served.cookie}) == 101
    # the token itself also does, for scripts: a query parameter or an Authorization header
    assert ask(served, "GET", f"/api/state?token={served.token}", token=False)[0] == 200
    headers = {"Authorization": f"token {served.token}"}
    assert ask(served, "GET", "/api/state", headers=headers, token=False)[0] == 200
    # a wrong token on the page sets no cookie
    status, response, _ = ask(served, "GET", "/?token=wrong", token=False)
    assert status == 403 and response.getheader("Set-Cookie") is None


# -- uploads -------------------------------------------------------------------------------------
def _raw(served, head: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    sock.sendall(head.encode())
    return sock


def _answer(sock) -> tuple[int, bytes]:
    """The status and body of the response on ``sock``, read until the server closes it."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
            if length and len(rest) >= int(length.group(1)):
                break
    return int(data.split()[1]), data.partition(b"\r\n\r\n")[2]


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(served):
    # 210 MB declared; 64 KiB sent: the answer comes at once, the rest is never waited for
    head = (
        f"POST /api/upload HTTP/1.1\r\nHost: {served.host}\r\nCookie: {served.cookie}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {210_000_000}\r\n\r\n"
    )
    with _raw(served, head) as sock:
        sock.sendall(b'{"text": "' + b"x" * 65536)
        start = time.monotonic()
        status, body = _answer(sock)
    assert status == 413 and time.monotonic() - start < 5
    assert json.loads(body) == {
        "errors": {
            "csv": f"the request is larger than {MAX_BODY} bytes (a file of at most "
            f"{MAX_UPLOAD} characters)"
        }
    }
    assert state(served)["csv_loaded"] is False


def test_a_streamed_body_is_read_no_further_than_the_limit(served):
    head = (
        f"POST /api/spec HTTP/1.1\r\nHost: {served.host}\r\nCookie: {served.cookie}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * (1 << 20)
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    with _raw(served, head) as sock:
        sock.sendall(b'a\r\n{"text": "\r\n')
        try:
            for _ in range(60):  # up to 60 MB, if the server kept reading
                sock.sendall(frame)
                sent += len(chunk)
        except OSError:  # the server answered and closed: a reset or a full window
            pass
        status, body = _answer(sock)
    assert status == 413 and b"larger than" in body and b'"spec"' in body
    assert sent < 40 * len(chunk), f"the server read {sent} bytes of a refused body"


def test_a_huge_upload_leaves_the_servers_memory_as_it_was(tmp_path):
    """In a subprocess, measured: 200 MB sent with its length declared and 200 MB streamed
    without one raise the server's peak memory by a few megabytes, not hundreds."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule.cli", "playground", "--port", "0", "--no-browser"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base, token = process.stdout.readline().split()[3].split("?token=")
        port = int(base.rsplit(":", 1)[1].rstrip("/"))
        _wait_for(port, token)
        server = SimpleNamespace(port=port, host=f"127.0.0.1:{port}")
        server.cookie = f"{cookie_name(port)}={token}"
        assert ask(server, "GET", "/api/state")[0] == 200  # everything imported and warm
        before = _peak_memory(process.pid)
        blocks, block = 200, b"1" * (1 << 20)
        opening, closing = b'{"text": "', b'"}'
        length = len(opening) + blocks * len(block) + len(closing)
        for framing in (f"Content-Length: {length}", "Transfer-Encoding: chunked"):
            head = (
                f"POST /api/upload HTTP/1.1\r\nHost: {server.host}\r\nCookie: {server.cookie}"
                f"\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
            )
            chunked = framing.startswith("Transfer")
            frame = (lambda data: b"%x\r\n%s\r\n" % (len(data), data)) if chunked else bytes
            with _raw(server, head) as sock:
                try:  # a whole body, which a server that reads it all answers too
                    sock.sendall(frame(opening))
                    for _ in range(blocks):
                        sock.sendall(frame(block))
                    sock.sendall(frame(closing) + (b"0\r\n\r\n" if chunked else b""))
                except OSError:  # refused and closed early: what the fix does
                    pass
                sock.settimeout(60)
                assert _answer(sock)[0] == 413
        grown = _peak_memory(process.pid) - before
        assert grown < 40 << 20, f"the server's peak memory grew by {grown >> 20} MiB"
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _peak_memory(pid: int) -> int:
    """The process's peak resident memory in bytes (Linux's VmHWM)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        pytest.skip("needs Linux's /proc to measure a process's memory")
    (line,) = [line for line in status.read_text().splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def _wait_for(port, token, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", f"/api/state?token={token}")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the playground did not start")


@pytest.mark.parametrize(
    "body, field, message",
    [
        # a lone surrogate, stored, made every later answer fail to encode
        ({"text": "x1,x2,y\n0,1,a\n1,0,\ud800\n"}, "csv", r"'text' is not text: .*U\+D800"),
        ({"name": "\udfff.csv", "text": "x1,x2,y\n0,1,a\n1,0,b\n"}, "csv", r"'name' is not"),
        ({"text": "x1,x2,y\n0,1,a\n1,0,b\n", "\ud800": 1}, "csv", r"key is not text"),
        # 1e308 is finite, but the plane around it is not
        ({"text": "x1,x2,y\n1e308,1,a\n1,0,b\n"}, "csv", r"'x1' holds '1e308' in row 2; .*±1,000"),
        ({"text": "x1,x2,y\n0,-2e6,a\n1,0,b\n"}, "csv", r"coordinates must lie within"),
        # csv's own limit on a field (131072) was an internal error
        ({"text": "x1,x2,y\n0,1," + "a" * 200_000 + "\n1,0,b\n"}, "csv", r"line 2 holds a field"),
        ({"text": "x1,x2,y\n0,1," + "a" * (MAX_FIELD + 1) + "\n1,0,b\n"}, "csv", r"line 2, fi"),
        ({"text": "x1,x2,y\r0,1,a\r1,0," + "b" * 5000 + "\r"}, "csv", r"line 3, field 3 hol"),
        ({"text": "x1,x2,y\n1,0,a\n", "name": "n" * 256}, "csv", r"'name' is too long"),
        ({"text": "x" * (MAX_UPLOAD + 1)}, "csv", r"'text' is too long"),
    ],
)
def test_a_hostile_upload_is_a_400_naming_the_problem_and_the_page_still_loads(
    served, body, field, message
):
    # json.dumps writes a lone surrogate as the escape \ud800, as a page's JSON.stringify may
    status, _, data = ask(served, "POST", "/api/upload", json.dumps(body), JSON)
    assert status == 400, data
    errors = json.loads(data)["errors"]
    assert list(errors) == [field] and re.search(message, errors[field]), errors
    assert state(served)["csv_loaded"] is False  # nothing was stored: the page still loads


@pytest.mark.parametrize(
    "path, body, message",
    [
        ("/api/settings", '{"learning_rate": "\\ud800"}', r"'learning_rate' is not text"),
        ("/api/settings", b'{"hidden": "\xff"}', r"not UTF-8"),
        ("/api/settings", "[" * 100_000, r"not JSON"),
        ("/api/settings", "[1, 2]", r"must be a JSON object, got list"),
        ("/api/spec", '{"text": "title = \'\\udc80\'"}', r"'text' is not text"),
        ("/api/check", '{"spec": "x", "symbol": "E", "value": "\\ud83d"}', r"is not text"),
    ],
)
def test_a_malformed_body_is_a_400_never_an_internal_error(served, path, body, message):
    status, _, data = ask(served, "POST", path, body, JSON)
    assert status == 400, data
    assert re.search(message, " ".join(json.loads(data)["errors"].values())), data
    assert state(served)["run"] >= 0


def test_cr_only_line_ends_are_line_ends(served):
    points = read_points("u,v,c\r0,0,a\r1,1,b\r\r0,1,a\r", "mac.csv")
    assert points.X.tolist() == [[0, 0], [1, 1], [0, 1]] and points.y.tolist() == [0, 1, 0]
    try:
        text = "u,v,c\r0,0,a\r1,1,b\r0,1,a\r1,0,b\r"
        status, _, data = ask(
            served, "POST", "/api/upload", {"name": "mac.csv", "text": text}, JSON
        )
        assert status == 200, data
        uploaded = state(served)
        assert uploaded["csv_loaded"] and len(uploaded["points"]["y"]) == 4
    finally:  # the other tests expect no CSV: a new run on a built-in dataset
        served.playground.uploaded = None
        ask(served, "POST", "/api/settings", {"dataset": "xor", "samples": "40"}, JSON)
    assert state(served)["csv_loaded"] is False


def test_read_points_refuses_what_no_answer_could_hold():
    with pytest.raises(DataError, match=r"bad.csv: line 3 holds U\+D800"):
        read_points("a,b,c\r\n0,0,x\r\n1,\ud800,y\n", "bad.csv")
    with pytest.raises(DataError, match=r"line 2, field 3 holds 1001 characters; a field may"):
        read_points("a,b,c\n0,0," + "x" * 1001 + "\n1,1,y\n", "bad.csv")
    with pytest.raises(DataError, match=r"column 'b' holds '1000001' in row 3"):
        read_points("a,b,c\n0,0,x\n1,1000001,y\n", "bad.csv")
    points = read_points("a,b,c\n-1e6,1e6,x\n1,1,y\n", "edge.csv")  # the limits themselves
    assert points.X.tolist() == [[-1e6, 1e6], [1, 1]]


def test_the_controller_refuses_text_no_answer_could_hold_from_python_callers_too():
    from chainrule.playground.controller import FieldError

    playground = Playground(speed="fast")
    try:
        good = "x1,x2,y\n0,1,a\n1,0,b\n"
        with pytest.raises(FieldError) as caught:
            playground.upload({"name": "\ud800.csv", "text": good})
        assert caught.value.fields == {
            "csv": "'name' is not text: character 1 is U+D800, half of a UTF-16 pair, not a "
            "character"
        }
        with pytest.raises(FieldError, match="'text' is not text"):
            playground.load_spec({"text": "title = '\udc00'"})
        assert playground.uploaded is None
    finally:
        playground.close()


# -- stopping ------------------------------------------------------------------------------------
def _send_queue(port: int, client_port: int) -> int | None:
    """Bytes the server at ``port`` holds unsent to ``client_port`` (Linux's /proc/net/tcp)."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        local, remote, _, queues = line.split()[1:5]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == client_port:
            return int(queues.split(":")[0], 16)
    return None


@pytest.mark.parametrize(
    "sig, code, line", [("SIGTERM", 143, "terminated (SIGTERM)"), ("SIGINT", 130, "interrupted")]
)
def test_one_signal_stops_the_server_whatever_its_clients_do(sig, code, line):
    """Websockets whose clients stopped reading (the server's send blocks) and a request whose
    body never ends: one SIGTERM or Ctrl-C still stops the command within two seconds, with
    its one line and no traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule.cli", "playground", "--port", "0", "--no-browser"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    clients = []
    try:
        base, token = process.stdout.readline().split()[3].split("?token=")
        port = int(base.rsplit(":", 1)[1].rstrip("/"))
        _wait_for(port, token)
        server = SimpleNamespace(port=port, host=f"127.0.0.1:{port}")
        server.cookie = f"{cookie_name(port)}={token}"
        # large frames (48 neurons' maps), many a second: the stalled sockets fill fast
        for body in ({"hidden": "8 8 8 8 8 8"}, {"speed": "fast"}, {"action": "play"}):
            path = "/api/control" if "hidden" not in body else "/api/settings"
            assert ask(server, "POST", path, body, JSON)[0] == 200
        for _ in range(2):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # and never read
            sock.connect(("127.0.0.1", port))
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall(
                f"GET /ws HTTP/1.1\r\nHost: {server.host}\r\nCookie: {server.cookie}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            clients.append(sock)
        slow = _raw(
            server,
            f"POST /api/upload HTTP/1.1\r\nHost: {server.host}\r\nCookie: {server.cookie}\r\n"
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"text": ',
        )
        clients.append(slow)
        # wait until the server's sends to the websockets are stuck: the bytes it holds unsent
        # stop growing (at most 30 s; without /proc, 5 s)
        deadline, last = time.monotonic() + 30, None
        while time.monotonic() < deadline:
            time.sleep(0.5)
            held = [_send_queue(port, sock.getsockname()[1]) for sock in clients[:2]]
            if None in held:
                time.sleep(4.5)
                break
            if held == last and min(held) > 0:
                break
            last = held
        start = time.monotonic()
        process.send_signal(getattr(signal, sig))
        _, err = process.communicate(timeout=20)
        took = time.monotonic() - start
    finally:
        for sock in clients:
            sock.close()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert took < 2 + SHUTDOWN_GRACE, f"the server took {took:.1f} s to stop"
    assert process.returncode == code and err == f"chainrule: {line}\n", err
    # the backstop: whatever uvicorn still waits for after the grace is cancelled
    playground = Playground(speed="fast")
    try:
        assert _server(create_app(playground)).config.timeout_graceful_shutdown == SHUTDOWN_GRACE
    finally:
        playground.close()


# -- --host --------------------------------------------------------------------------------------
def test_another_address_than_loopback_warns_that_the_token_is_the_only_guard():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chainrule.cli",
            "playground",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--no-browser",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("chainrule playground on http://127.0.0.1:")  # opens here
        base, token = line.split()[3].split("?token=")
        port = int(base.rsplit(":", 1)[1].rstrip("/"))
        _wait_for(port, token)
        server = SimpleNamespace(port=port, host=f"127.0.0.1:{port}", cookie="")
        assert ask(server, "GET", "/api/state", token=False)[0] == 403  # the token still needed
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    warning = err.splitlines()[0]
    assert warning.startswith(f"chainrule: warning: the playground listens on 0.0.0.0:{port},")
    assert "no authentication beyond the token" in warning


def test_the_loopback_address_does_not_warn(recwarn):
    with running(Playground(speed="fast"), host="localhost") as entry:
        assert entry.startswith("http://localhost:")
        base, token = entry.split("?token=")
        port = int(base.rsplit(":", 1)[1].rstrip("/"))
        _wait_for(port, token)
    assert not [w for w in recwarn if "listens on" in str(w.message)]
    warns = pytest.warns(UserWarning, match="no authentication beyond the token")
    with warns, running(Playground(speed="fast"), host="0.0.0.0"):
        pass
