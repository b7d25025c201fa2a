"""The playground without a browser: settings, points, reproducible training, the chain-rule
panel, the check box, spec stepping, the web routes and the command."""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets
from chainrule.cli import main
from chainrule.explain import spec_to_toml
from chainrule.playground.chain import chain_rule, check_number, spec_steps
from chainrule.playground.points import read_points
from chainrule.playground.session import Session, python_code
from chainrule.playground.settings import Settings, SettingsError, parse_settings
from chainrule.tables.reading import DataError

ROOT = Path(__file__).resolve().parents[1]


# -- settings ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field, text, message",
    [
        ("learning_rate", "0", r"learning rate must be a number > 0 and <= 10, got '0'"),
        ("learning_rate", "fast", r"learning rate must be a number > 0 .*got 'fast'"),
        ("learning_rate", "nan", r"learning rate must be a number"),
        ("hidden", "", r"give at least one hidden layer"),
        ("hidden", "4, 0", r"each layer needs 1 to 8 neurons, got '0'"),
        ("hidden", "4, x", r"each layer needs 1 to 8 neurons, got 'x'"),
        ("hidden", "1 1 1 1 1 1 1", r"at most 6 hidden layers, got 7"),
        ("hidden", 0, r"each layer needs 1 to 8 neurons, got '0'"),
        ("hidden", [3, None], r"each layer needs 1 to 8 neurons, got 'None'"),
        ("batch_size", "2.5", r"batch size must be a whole number >= 1"),
        ("test_fraction", "0.95", r"test fraction must be a number >= 0 and <= 0.9"),
        ("noise", "-0.1", r"noise must be a number >= 0"),
        ("dataset", "mnist", r"choose one of xor, spirals, moons, circles, csv; got 'mnist'"),
        ("activation", "relux", r"choose one of tanh, relu"),
        ("seed", "-1", r"seed must be a whole number >= 0"),
    ],
)
def test_a_bad_field_gets_its_own_message(field, text, message):
    with pytest.raises(SettingsError) as caught:
        parse_settings(
            {field: text, "learning_rate": "0.1"} if field != "learning_rate" else {field: text}
        )
    assert set(caught.value.fields) == {field}
    assert re.search(message, caught.value.fields[field]), caught.value.fields[field]


def test_good_fields_parse_and_several_bad_ones_are_all_reported():
    settings = parse_settings(
        {
            "dataset": "xor",
            "hidden": "3, 2 1",
            "learning_rate": "0.1",
            "l2": "0.001",
            "batch_size": "5",
        }
    )
    assert settings.hidden == (3, 2, 1) and settings.learning_rate == 0.1 and settings.l2 == 0.001
    assert settings.optimizer == Settings().optimizer  # missing fields keep the defaults
    with pytest.raises(SettingsError) as caught:
        parse_settings({"learning_rate": "0", "hidden": "", "batch_size": "x"})
    assert set(caught.value.fields) == {"learning_rate", "hidden", "batch_size"}


# -- points --------------------------------------------------------------------------------------
def test_a_csv_with_word_labels_becomes_two_classes():
    points = read_points("a,b,colour\n0.5,1,red\n-1,2e-1,blue\n3,4,red\n", "mine.csv")
    np.testing.assert_array_equal(points.X, [[0.5, 1.0], [-1.0, 0.2], [3.0, 4.0]])
    assert points.class_names == ["blue", "red"]
    np.testing.assert_array_equal(points.y, [1, 0, 1])
    assert points.feature_names == ["a", "b"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("x1,x2,y\n0,1,0\n0,abc,1\n", r"column 'x2' is not numeric: row 3 holds 'abc'"),
        ("x1,x2,y\n0,1,0\n0,,1\n", r"column 'x2' has a missing value in row 3"),
        ("x1,x2,y\n0,inf,0\n", r"only finite numbers"),
        ("x1,y\n0,1\n", r"needs 3 columns \(x1, x2, label\), the header has 2"),
        ("x1,x2,y\n0,1,0\n1,1\n", r"row 3 has 2 fields, the header has 3"),
        ("x1,x2,y\n0,1,0\n1,1,1\n2,2,2\n", r"must hold exactly 2 classes, got 3"),
        ("x1,x2,y\n", r"needs a header row and at least one data row"),
    ],
)
def test_a_bad_csv_is_refused_with_the_row_and_column(text, message):
    with pytest.raises(DataError, match=message):
        read_points(text, "bad.csv")


# -- training: the same curve as net.fit ---------------------------------------------------------
def _by_hand(settings: Settings, epochs: int):
    """The run written independently with plain chainrule and NumPy calls."""
    seed, n = settings.seed, settings.samples
    if settings.dataset == "xor":
        rng = np.random.default_rng(seed)
        pick = rng.integers(0, 4, n)
        X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)[pick]
        X = X + rng.normal(0.0, settings.noise, (n, 2))
        y = np.array([0, 1, 1, 0])[pick]
    else:
        data = getattr(datasets, settings.dataset)(n_samples=n, noise=settings.noise, seed=seed)
        X, y = data.X, data.y
    order = np.random.default_rng(seed + 1).permutation(len(y))
    n_test = int(round(settings.test_fraction * len(y)))
    train, test = order[n_test:], order[:n_test]
    T = y[:, None].astype(float)
    net = cr.MLP(
        [2, *settings.hidden, 1],
        activation=settings.activation,
        loss="binary_cross_entropy",
        l2=settings.l2,
        seed=seed,
        dtype="float64",
    )
    history = net.fit(
        X[train],
        T[train],
        epochs=epochs,
        optimizer=cr.optim.get(settings.optimizer, learning_rate=settings.learning_rate),
        batch_size=settings.batch_size,
        validation_data=(X[test], T[test]) if n_test else None,
        metrics=["accuracy"],
        verbose=0,
        seed=seed,
    )
    return net, history


def _run(settings: Settings, epochs: int) -> Session:
    session = Session(settings, speed="fast")
    for _ in range(epochs):
        session.step()
    assert session.wait(epochs)
    return session


@pytest.mark.parametrize(
    "fields",
    [
        {"dataset": "moons", "hidden": "4, 3", "optimizer": "sgd", "learning_rate": "0.1"},
        {
            "dataset": "xor",
            "hidden": "3",
            "optimizer": "adam",
            "learning_rate": "0.01",
            "l2": "0.01",
        },
        {"dataset": "spirals", "activation": "relu", "optimizer": "rmsprop", "batch_size": "32"},
        {"dataset": "circles", "test_fraction": "0", "seed": "7", "activation": "sigmoid"},
    ],
)
def test_a_run_is_the_curve_net_fit_draws_with_the_same_settings_and_seed(fields):
    settings = parse_settings(fields)
    epochs = 6
    session = _run(settings, epochs)
    try:
        snapshot = session.snapshot()
        net, history = _by_hand(settings, epochs)
        assert snapshot.epoch == epochs
        assert snapshot.history["loss"] == history["loss"]  # bit for bit
        assert snapshot.history.get("val_loss") == history.history.get("val_loss")
        np.testing.assert_array_equal(snapshot.parameters, net.parameters)
        # the page's "Python" box is a program that draws the same curve
        namespace = {}
        exec(python_code(settings, epochs), namespace)
        assert namespace["history"]["loss"] == history["loss"]
        # a second run with the same settings is the same run
        again = _run(settings, epochs)
        assert again.snapshot().history == snapshot.history
        again.close()
    finally:
        session.close()


def test_pause_holds_the_epoch_and_play_moves_it_on():
    session = Session(parse_settings({"dataset": "xor", "samples": "40"}), speed="fast")
    try:
        session.play()
        assert session.wait(5)
        session.pause()
        assert session.wait_paused(10)  # an epoch already started has finished
        held = session.snapshot().epoch
        assert not session.wait(held + 1, timeout=0.3)  # can only pass early, never fail late
        assert session.snapshot().epoch == held and not session.snapshot().playing
        session.step()
        assert session.wait(held + 1)
        assert session.wait_paused(10)  # one epoch, then the session holds again
        assert session.snapshot().epoch == held + 1
        session.play()
        assert session.wait(held + 20)
    finally:
        session.close()
    assert not session._thread.is_alive()


@pytest.mark.filterwarnings("ignore::chainrule.TrainingDivergedWarning")
def test_a_diverging_run_stops_with_the_engines_message():
    fields = {
        "dataset": "moons",
        "learning_rate": "10",
        "activation": "identity",
        "batch_size": "1",
        "hidden": "8 8 8 8 8 8",
    }
    session = Session(parse_settings(fields), speed="fast")
    try:
        session.play()
        assert not session.wait(1)  # the run ends before its first epoch does
        snapshot = session.snapshot()
        assert "training diverged in epoch 1" in snapshot.message
        assert snapshot.epoch == 0 and np.isfinite(snapshot.parameters).all()
    finally:
        session.close()


# -- the chain rule panel ------------------------------------------------------------------------
@pytest.fixture
def trained():
    session = _run(
        parse_settings({"dataset": "circles", "hidden": "3, 2", "learning_rate": "0.1"}), 4
    )
    yield session
    session.close()


def _explain_lines(session, sample):
    network = cr.MLP([2, 3, 2, 1], activation="tanh", loss="binary_cross_entropy", dtype="float64")
    network.set_parameters(session.snapshot().parameters)
    x, t = session.points.X[sample], [float(session.points.y[sample])]
    text = cr.explain.explain(
        network, x=x, t=t, learning_rate=session.settings.learning_rate
    ).render("text")
    return network, x, t, text.splitlines()


def test_a_weights_chain_rule_is_what_explain_prints(trained):
    network, x, t, lines = _explain_lines(trained, 5)
    # the weight from the first hidden layer's second neuron to the second layer's first
    panel = chain_rule(network, x, t, 0.1, {"kind": "weight", "layer": 2, "from": 1, "to": 0})
    shown = [row["line"] for row in panel["rows"]]
    assert all(line in lines for line in shown)
    focus = next(row for row in panel["rows"] if row["symbol"] == panel["focus"])
    # independent of explain: the engine's gradient for this one sample, at W2[1, 0]
    _, grads = network.loss_and_gradients(np.array([x]), np.array([t]))
    assert focus["value"] == pytest.approx(grads[1][0][1, 0], rel=1e-12)
    kinds = {row["kind"] for row in panel["rows"]}
    assert {"net", "out", "delta", "path_sum", "derivative", "gradient", "update"} <= kinds
    update = next(row for row in panel["rows"] if row["kind"] == "update")
    w = network.layers[1].W[1, 0]
    assert update["value"] == pytest.approx(w - 0.1 * focus["value"], rel=1e-12)


def test_a_hidden_neurons_delta_sums_every_path(trained):
    network, x, t, lines = _explain_lines(trained, 0)
    panel = chain_rule(network, x, t, 0.1, {"kind": "neuron", "layer": 1, "index": 2})
    paths = [row for row in panel["rows"] if row["kind"] == "path_sum"]
    first = next(row for row in paths if row["symbol"] == "dE/da3")
    assert first["note"].count("via") == 2  # both neurons of the next layer
    delta = next(row for row in panel["rows"] if row["symbol"] == panel["focus"])
    Z1 = x @ network.layers[0].W + network.layers[0].b
    _, grads = network.loss_and_gradients(np.array([x]), np.array([t]))
    # db of a neuron is its delta
    assert delta["value"] == pytest.approx(grads[0][1][2], rel=1e-12)
    assert np.isfinite(Z1).all() and all(row["line"] in lines for row in panel["rows"])


def test_a_bias_and_bad_targets(trained):
    network, x, t, _ = _explain_lines(trained, 1)
    panel = chain_rule(network, x, t, 0.1, {"kind": "bias", "layer": 3, "to": 0})
    _, grads = network.loss_and_gradients(np.array([x]), np.array([t]))
    focus = next(row for row in panel["rows"] if row["symbol"] == panel["focus"])
    assert focus["value"] == pytest.approx(grads[2][1][0], rel=1e-12)
    with pytest.raises(ValueError, match="'layer' must be 1 to 3, got 4"):
        chain_rule(network, x, t, 0.1, {"kind": "bias", "layer": 4, "to": 0})
    with pytest.raises(ValueError, match="layer 1 has 3 neurons, got neuron 7"):
        chain_rule(network, x, t, 0.1, {"kind": "neuron", "layer": 1, "index": 7})
    with pytest.raises(ValueError, match="'kind' must be"):
        chain_rule(network, x, t, 0.1, {"kind": "edge", "layer": 1, "to": 0})


def test_the_check_box_gives_checks_verdict(trained):
    network, x, t, _ = _explain_lines(trained, 3)
    panel = chain_rule(network, x, t, 0.1, {"kind": "weight", "layer": 1, "from": 0, "to": 1})
    correct = next(row["value"] for row in panel["rows"] if row["symbol"] == panel["focus"])
    right = check_number(panel["spec"], panel["focus"], f"{correct:.6g}")
    assert right["ok"] and right["kind"] == "ok"
    planted = check_number(panel["spec"], panel["focus"], f"{2 * correct:.6g}")
    assert not planted["ok"] and planted["kind"] == "factor_two"
    flipped = check_number(panel["spec"], panel["focus"], f"{-correct:.6g}")
    assert not flipped["ok"] and flipped["kind"] == "sign"
    with pytest.raises(ValueError, match="type a number, e.g. 0.0123 or -1.5e-3; got 'abc'"):
        check_number(panel["spec"], panel["focus"], "abc")
    unknown = check_number(panel["spec"], "dE/dw99", "0.1")
    assert not unknown["ok"] and "names no quantity" in unknown["diagnosis"]


def test_a_spec_file_steps_value_by_value_as_explain_prints_it(tmp_path, capsys):
    network = cr.MLP(
        [2, 2, 1], activation="sigmoid", loss="binary_cross_entropy", seed=3, dtype="float64"
    )
    explanation = cr.explain.explain(network, x=[0.3, -0.7], t=[1.0], learning_rate=0.5)
    text = spec_to_toml(explanation.spec) + '\n[claims]\n"dE/dw1" = "1.5"\n'
    steps = spec_steps(text, "mine.toml")
    path = tmp_path / "mine.toml"
    path.write_text(text)
    assert main(["explain", str(path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    symbols = explanation.trace.quantities
    computed = [q for q in symbols.values() if q.section != "given"]
    assert [row["line"] for row in steps["rows"]] == [
        line for line in printed if line.split(" = ")[0] in symbols and " = " in line
    ]
    assert len(steps["rows"]) == len(computed)
    (claim,) = steps["claims"]
    assert claim["name"] == "dE/dw1" and not claim["ok"]
    with pytest.raises(ValueError, match="line"):
        spec_steps("title = 'x'\n[inputs]\nx1 = \n", "broken.toml")


# -- the web routes ------------------------------------------------------------------------------
def _test_client(app):
    """A test client that asks as the page does: at the server's own address (the server
    answers no other Host), with the launch token and JSON bodies typed application/json.
    tests/test_playground_security.py tries the requests the server refuses."""
    from starlette.testclient import TestClient

    class PageClient(TestClient):
        def websocket_connect(self, url, *args, **kwargs):  # at the same address
            return super().websocket_connect("ws://127.0.0.1:8765" + url, *args, **kwargs)

    return PageClient(
        app,
        base_url="http://127.0.0.1:8765",
        headers={"Authorization": f"token {app.state.token}", "Content-Type": "application/json"},
    )


@pytest.fixture
def client():
    pytest.importorskip("starlette")
    pytest.importorskip("httpx2")

    from chainrule.playground.controller import Playground
    from chainrule.playground.server import create_app

    playground = Playground(parse_settings({"dataset": "xor", "samples": "40"}), speed="fast")
    with _test_client(create_app(playground, port=8765)) as test_client:
        test_client.playground = playground
        yield test_client


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "chainrule playground" in page.text
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    for name in ("app.js", "style.css", "index.html"):  # nothing from the internet
        text = client.get(f"/static/{name}").text.replace("http://www.w3.org/2000/svg", "")
        assert "http:" not in text and "https:" not in text and "//cdn" not in text
    state = client.get("/api/state").json()
    assert state["epoch"] == 0 and len(state["points"]["y"]) == 40
    assert len(state["frame"]["neurons"]) == 3  # two hidden layers and the output


def test_bad_input_is_a_message_for_its_field_never_a_traceback(client):
    answer = client.post("/api/settings", json={"learning_rate": "0", "hidden": ""})
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"learning_rate", "hidden"}
    answer = client.post("/api/upload", json={"name": "t.csv", "text": "x1,x2,y\n1,a,0\n"})
    assert answer.status_code == 400 and "not numeric" in answer.json()["errors"]["csv"]
    answer = client.post("/api/settings", content=b"{not json")
    assert answer.status_code == 400 and "not JSON" in answer.json()["errors"]["request"]
    answer = client.post("/api/explain", json={"target": {"kind": "weight"}, "sample": 0})
    assert answer.status_code == 400 and "explain" in answer.json()["errors"]
    answer = client.post("/api/explain", json={"target": {}, "sample": 10**6})
    assert answer.status_code == 400 and "'sample' must be 0 to 39" in answer.text
    answer = client.post("/api/control", json={"action": "fly"})
    assert answer.status_code == 400
    answer = client.post("/api/check", json={"spec": "x", "symbol": "E", "value": "1"})
    assert answer.status_code == 400 and "TOML" in answer.json()["errors"]["check"]
    answer = client.post("/api/settings", json={"dataset": "csv"})
    assert answer.json()["errors"] == {"dataset": "upload a CSV file first"}
    assert client.get("/api/state").status_code == 200  # still serving


def test_a_good_csv_and_good_settings_start_a_new_run(client):
    answer = client.post("/api/upload", json={"text": "u,v,c\n0,0,a\n1,1,b\n0,1,a\n1,0,b\n"})
    assert answer.status_code == 200
    state = answer.json()
    assert state["settings"]["dataset"] == "csv" and state["points"]["feature_names"] == ["u", "v"]
    answer = client.post("/api/settings", json={"hidden": "2", "learning_rate": "0.5"})
    assert answer.json()["settings"]["hidden"] == [2] and answer.json()["run"] == state["run"] + 1


def test_a_split_that_leaves_no_training_rows_is_a_message(client):
    client.post("/api/settings", json={"test_fraction": "0.9"})
    answer = client.post("/api/upload", json={"text": "a,b,c\n0,0,x\n1,1,y\n"})
    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "test_fraction": "test fraction 0.9 of 2 points leaves none for training"
    }
    assert client.get("/api/state").json()["csv_loaded"] is False  # nothing was applied


def test_an_unexpected_failure_is_one_line_and_the_server_goes_on(monkeypatch):
    pytest.importorskip("httpx2")

    from chainrule.playground.controller import Playground
    from chainrule.playground.server import create_app

    playground = Playground(speed="fast")

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(playground, "python", broken)
    with _test_client(create_app(playground, port=8765)) as test_client:
        answer = test_client.get("/api/python")
        assert answer.status_code == 500
        assert answer.json() == {"errors": {"server": "internal error: RuntimeError: boom"}}
        assert test_client.get("/api/state").status_code == 200


def test_explain_route_at_the_current_step(client):
    client.post("/api/control", json={"action": "step"})
    assert client.playground.session.wait(1)
    answer = client.post(
        "/api/explain",
        json={"target": {"kind": "weight", "layer": 1, "from": 0, "to": 0}, "sample": 2},
    ).json()
    assert answer["epoch"] == 1 and answer["sample"]["index"] == 2
    np.testing.assert_array_equal(
        answer["parameters"], client.playground.session.snapshot().parameters
    )
    verdict = client.post(
        "/api/check", json={"spec": answer["spec"], "symbol": answer["focus"], "value": "1e9"}
    ).json()
    assert verdict["ok"] is False


def test_the_websocket_sends_frames_and_a_closed_tab_leaves_the_run_going(client):
    client.post("/api/control", json={"action": "play"})
    with client.websocket_connect("/ws") as socket_:
        first = socket_.receive_json()
        later = socket_.receive_json()
        assert later["epoch"] >= first["epoch"] and later["run"] == first["run"]
    # the tab is closed; a reload opens a new socket and gets the whole history again
    assert client.playground.session.wait(first["epoch"] + 10)
    with client.websocket_connect("/ws") as socket_:
        again = socket_.receive_json()
        assert again["history_from"] == 0 and len(again["history"]["loss"]) >= 10
    client.post("/api/control", json={"action": "pause"})


# -- the command ---------------------------------------------------------------------------------
def test_a_missing_extra_is_one_line_naming_it(monkeypatch, capsys):
    for name in [n for n in sys.modules if n.split(".")[0] in ("starlette", "uvicorn")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "starlette", None)
    monkeypatch.delitem(sys.modules, "chainrule.playground.server", raising=False)
    assert main(["playground", "--port", "0", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0
    assert "chainrule: error: the playground needs the 'playground' extra" in err


def test_a_busy_port_and_a_bad_port_are_one_line(capsys):
    pytest.importorskip("uvicorn")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["playground", "--port", str(port), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
    with pytest.raises(SystemExit) as exit_:
        main(["playground", "--port", "70000"])
    assert exit_.value.code == 2 and "0 to 65535" in capsys.readouterr().err


def test_the_command_serves_the_page(tmp_path):
    pytest.importorskip("uvicorn")
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule.cli", "playground", "--port", "0", "--no-browser"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("chainrule playground on http://127.0.0.1:")
        url = line.split()[3]  # with ?token=..., which the server needs
        base, token = url.split("?token=")
        for _ in range(600):  # the server may still be starting
            try:
                page = urllib.request.urlopen(url, timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert "chainrule playground" in page
        state = json.loads(
            urllib.request.urlopen(f"{base}api/state?token={token}", timeout=5).read()
        )
        assert state["settings"] == Settings().to_dict()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "Traceback" not in err


def _uploaded_csv(tmp_path, name: str) -> str:
    """Two blobs of points labelled by words, with the spacing and a blank row a person's
    spreadsheet export may have."""
    rng = np.random.default_rng(3)
    lines = ["width, height, kind"]
    for i in range(40):
        label = "tall" if i % 2 else "wide"
        x, y = rng.normal([1.0, -1.0] if i % 2 else [-1.0, 1.0], 0.5)
        lines.append(f"{x:.6f}, {y:.17g} ,{label}")
        if i == 20:
            lines.append("")
    text = "\n".join(lines) + "\n"
    (tmp_path / name).write_text(text, encoding="utf-8")
    return text


def test_the_python_box_of_an_uploaded_csv_is_a_program_that_reads_that_file(tmp_path, monkeypatch):
    from chainrule.playground.points import read_points

    name = "my points.csv"
    points = read_points(_uploaded_csv(tmp_path, name), name)
    settings = parse_settings(
        {"dataset": "csv", "hidden": "3", "learning_rate": "0.1", "test_fraction": "0.25"}
    )
    epochs = 4
    session = Session(settings, points, speed="fast")
    try:
        for _ in range(epochs):
            session.step()
        assert session.wait(epochs)
        code = python_code(settings, epochs, session.points)
        assert "..." not in code and "with open('my points.csv'" in code
        assert "classes = ['tall', 'wide']" in code  # label 0, label 1: the page's order
        monkeypatch.chdir(tmp_path)  # the program reads the file where the person keeps it
        namespace = {}
        exec(code, namespace)
        np.testing.assert_array_equal(namespace["X"], points.X)
        np.testing.assert_array_equal(namespace["y"], points.y)
        assert namespace["history"]["loss"] == session.snapshot().history["loss"]  # bit for bit
        assert namespace["history"]["val_loss"] == session.snapshot().history["val_loss"]
    finally:
        session.close()


def test_the_python_route_of_an_uploaded_csv_names_its_file(client, tmp_path):
    text = _uploaded_csv(tmp_path, "blobs.csv")
    assert client.post("/api/upload", json={"name": "blobs.csv", "text": text}).status_code == 200
    code = client.get("/api/python").json()["code"]
    assert "with open('blobs.csv'" in code and "X, y = ..." not in code
    compile(code, "python box", "exec")


def test_the_explain_route_matches_a_chain_rule_written_out_by_hand(client):
    # independent of the engine and of explain: the forward and backward pass of the xor
    # network (its sizes from the settings) in plain float64 NumPy from the route's own
    # parameters, for the weight from x2 into the first hidden layer's last neuron
    client.post("/api/control", json={"action": "step"})
    assert client.playground.session.wait(1)
    settings = client.playground.session.settings
    assert settings.activation == "tanh" and settings.optimizer == "sgd"
    sizes = [2, *settings.hidden, 1]
    last = sizes[1] - 1
    answer = client.post(
        "/api/explain",
        json={"target": {"kind": "weight", "layer": 1, "from": 1, "to": last}, "sample": 3},
    ).json()
    flat, start, Ws, bs = np.array(answer["parameters"], dtype=np.float64), 0, [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        Ws.append(flat[start : start + n_in * n_out].reshape(n_in, n_out))
        bs.append(flat[start + n_in * n_out : start + n_in * n_out + n_out])
        start += n_in * n_out + n_out
    assert start == flat.size
    x, t = np.array(answer["sample"]["x"]), np.array(answer["sample"]["t"])
    outs = [x]
    for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        z = outs[-1] @ W + b
        outs.append(np.tanh(z) if k < len(Ws) - 1 else 1 / (1 + np.exp(-z)))
    y = outs[-1]
    E = -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))
    delta = y - t  # sigmoid with binary cross-entropy, one output
    for k in range(len(Ws) - 1, 0, -1):
        delta = (delta @ Ws[k].T) * (1 - outs[k] ** 2)  # every path into layer k's neurons
    gradient = outs[0][1] * delta[last]
    rows = {row["symbol"]: row for row in answer["rows"]}
    assert rows["E"]["value"] == pytest.approx(E, rel=1e-12)
    assert rows[answer["focus"]]["value"] == pytest.approx(gradient, rel=1e-10)
    update = next(row for row in answer["rows"] if row["kind"] == "update")
    assert update["value"] == pytest.approx(
        Ws[0][1, last] - settings.learning_rate * gradient, rel=1e-12
    )
    assert update["line"].startswith(f"{update['symbol']} = ")
