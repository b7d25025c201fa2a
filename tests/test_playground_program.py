"""The programs and files the playground writes out for the person to keep: the Python box
(:func:`chainrule.playground.session.python_code`) and the spec file of a worked example
(:func:`chainrule.explain.spec_to_toml`). Names, labels and settings reach them only as
literals: hostile ones are run for real (the program in a subprocess, in a folder of its own)
and must leave nothing but the training behind."""

import ast
import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.explain import explain, parse_spec, spec_to_toml
from chainrule.playground.controller import Playground
from chainrule.playground.points import Points
from chainrule.playground.session import _literal, python_code
from chainrule.playground.settings import Settings, parse_settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"hidden": "3", "learning_rate": "0.1", "test_fraction": "0.25", "samples": "40"}


def _csv_text(features: list[str], labels: list[str]) -> str:
    """Two blobs of 24 points, labelled ``labels[0]`` and ``labels[1]``, written by
    :mod:`csv` (every field quoted, so a line break stays inside its field)."""
    rng = np.random.default_rng(3)
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow([*features, "label"])
    for i in range(24):
        label = i % 2
        x1, x2 = rng.normal(2.0 * label - 1.0, 0.6, 2)
        writer.writerow([f"{x1:.6f}", f"{x2:.6f}", labels[label]])
    return out.getvalue()


def _run(code: str, folder: Path, epilogue: str) -> subprocess.CompletedProcess:
    """The program as the page offers it, run by a fresh Python in ``folder``, then
    ``epilogue`` (which prints what the test compares)."""
    return subprocess.run(
        [sys.executable, "-c", code + epilogue],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _statements(code: str) -> list[str]:
    """The program's shape: the kind of each top-level statement."""
    return [type(node).__name__ for node in ast.parse(code).body]


def _one_line_each(code: str) -> bool:
    """Only ``\\n`` breaks the program's lines, and nothing unprintable (NUL, U+2028, U+0085,
    a lone carriage return) stands in it: what an editor shows is what Python reads."""
    return all(line.isprintable() for line in code.split("\n"))


def _playground_on(name: str, text: str, epochs: int) -> Playground:
    """A playground whose CSV run (``name``, ``text``) has trained ``epochs`` epochs."""
    playground = Playground(parse_settings(SETTINGS), speed="fast")
    playground.upload({"name": name, "text": text})
    for _ in range(epochs):
        playground.control({"action": "step"})
    assert playground.session.wait(epochs)
    return playground


# Each name holds what would end a comment, a string or a line if it were pasted into the
# program, followed by a statement that leaves a file behind when it runs.
HOSTILE = {
    "line-break": (
        "points.csv",
        ["x1", "x2\nopen('pwned-newline', 'w').close()  #"],
        ["a", "b\nopen('pwned-label', 'w').close()  #"],
    ),
    "carriage-return": (
        "points.csv",
        ["x1\ropen('pwned-cr', 'w').close()  #", "x2\r\nopen('pwned-crlf', 'w').close()  #"],
        ["a", "b"],
    ),
    "quotes-and-backslashes": (
        "points.csv",
        ["x1\\", "x2'\"\"\"'''#\\'"],
        ["a') or open('pwned-quote', 'w').close() or ('", 'b" + open("pwned-dquote", "w") + "\\'],
    ),
    "unicode-separators-and-nul": (
        "points.csv",
        ["x1\u2028open('pwned-u2028', 'w').close()", "x2\x85open('pwned-nel', 'w').close()"],
        ["a\u2029\x0c\x0b\x1cz", "b\x00c"],
    ),
    "file-name": (
        "pts'\n\u2028\\ #\".csv",
        ["x1", "x2"],
        ["a", "b"],
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_csv_names_stay_data_in_the_python_box(case, tmp_path):
    name, features, labels = HOSTILE[case]
    text = _csv_text(features, labels)
    (tmp_path / name).write_text(text, encoding="utf-8", newline="")
    playground = _playground_on(name, text, 2)
    try:
        session = playground.session
        points = session.points
        assert points.feature_names == features  # the page read them as they are
        code = playground.python()["code"]
        done = _run(
            code,
            tmp_path,
            "\nimport json, sys\n"
            "json.dump({'loss': history['loss'], 'features': features, 'classes': classes},"
            " sys.stdout)\n",
        )
        assert sorted(os.listdir(tmp_path)) == [name]  # no payload ran: nothing was created
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["features"] == features and result["classes"] == points.class_names
        assert result["loss"] == session.snapshot().history["loss"]  # it trained, bit for bit
        # and the program's shape is that of one with harmless names: no statement added or
        # cut short, no line break or unprintable character that an editor would show
        benign = Points(points.X, points.y, ["u", "v"], ["b", "a"])
        assert _statements(code) == _statements(python_code(session.settings, 2, benign))
        assert _one_line_each(code)
    finally:
        playground.close()


def test_settings_reach_the_program_as_literals_even_when_not_parsed(tmp_path):
    # Settings built in Python skip parse_settings' choices: their texts and numbers must
    # still be literals, not code
    hostile = Settings(
        dataset="moons",
        activation="tanh\nopen('pwned-activation', 'w').close()  #",
        optimizer='sgd")\nopen("pwned-optimizer", "w").close()  #',
        noise=float("inf"),
        l2=float("nan"),
        learning_rate=float("-inf"),
        hidden=(np.int64(3), 2),
        seed=np.uint32(5),
    )
    code = python_code(hostile, 3)
    assert _statements(code) == _statements(python_code(Settings(dataset="moons"), 3))
    assert _one_line_each(code)
    net = next(
        node.value
        for node in ast.parse(code).body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "net"
    )
    keywords = {k.arg: k.value for k in net.keywords}
    assert ast.literal_eval(keywords["activation"]) == hostile.activation
    assert ast.unparse(keywords["l2"]) == "float('nan')"
    assert ast.literal_eval(net.args[0]) == [2, 3, 2, 1]
    done = _run(code, tmp_path, "")
    assert done.returncode == 1 and "unknown activation" in done.stderr  # MLP refuses it
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match=r"'dataset' must be one of xor, .*got 'os\.system'"):
        python_code(Settings(dataset="os.system"), 3)
    with pytest.raises(ValueError, match=r"'epochs' must be a whole number >= 0, got -1"):
        python_code(Settings(), -1)


@pytest.mark.parametrize(
    "value",
    [
        0.1,
        1e-300,
        -0.0,
        float("nan"),
        float("inf"),
        float("-inf"),
        np.float32(0.5),
        np.int64(2**40),
        True,
        None,
        'x\n\r\u2028\x85\x00\'"""\\#',
        ["a'", ("b\n", 1.5)],
    ],
)
def test_a_literal_is_one_printable_line_that_evaluates_to_its_value(value):
    text = _literal(value)
    assert text.isprintable() and "\n" not in text
    again = eval(text, {"__builtins__": {"float": float}})
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(again)
    elif isinstance(value, list):
        assert again == ["a'", ["b\n", 1.5]]
    else:
        assert again == value
        if isinstance(value, float):
            assert math.copysign(1.0, again) == math.copysign(1.0, value)  # -0.0 stays -0.0


def test_a_literal_refuses_what_it_cannot_write():
    with pytest.raises(TypeError, match="numbers, texts and lists, got dict"):
        _literal({"a": 1})


@pytest.mark.parametrize("dataset", ["xor", "csv"])
def test_the_python_box_at_epoch_0_is_a_program_that_runs(dataset, tmp_path):
    name = "points.csv"
    text = _csv_text(["x1", "x2"], ["a", "b"])
    (tmp_path / name).write_text(text, encoding="utf-8")
    if dataset == "csv":
        playground = _playground_on(name, text, 0)
    else:
        playground = Playground(parse_settings(SETTINGS | {"dataset": "xor"}), speed="fast")
    try:
        assert playground.session.snapshot().epoch == 0
        code = playground.python()["code"]
        assert "epochs=0" not in code and "net.fit(" not in code  # fit refuses epochs=0
        done = _run(
            code, tmp_path, "\nimport json, sys\njson.dump(net.parameters.tolist(), sys.stdout)\n"
        )
        assert done.returncode == 0, done.stderr
        # the network the page draws at epoch 0: the same initial weights
        parameters = np.array(json.loads(done.stdout))
        np.testing.assert_array_equal(parameters, playground.session.snapshot().parameters)
        # one step later the program fits that one epoch
        playground.control({"action": "step"})
        assert playground.session.wait(1)
        assert "epochs=1," in playground.python()["code"]
    finally:
        playground.close()


STARTER = (ROOT / "chainrule" / "explain" / "starter.toml").read_text(encoding="utf-8")


def _hostile_spec() -> str:
    """The starter example with a title and names that end a TOML string, a line, an inline
    table and a table header if pasted (each written as a JSON string, which TOML reads)."""
    names = {
        "x1": 'x1"\n[weights]\nw9 = 1 #\u2028\x85\\',
        "h1": 'h"1 }, { name = "h9',
        "z1": 'z"1\x7f\x00',
        "b1": 'b"1\n',
    }
    text = STARTER.replace(
        'title = "My first backpropagation step"',
        "title = " + json.dumps('a"b\n[x] \'\'\' """ \\ # \u2028\x85\x00'),
    )
    text = text.replace('name = "hidden"', "name = " + json.dumps('hid"den\n[[layers]]'))
    text = text.replace("x1 = 0.05", json.dumps(names["x1"]) + " = 0.05")
    text = text.replace("b1 = {", json.dumps(names["b1"]) + " = {")
    text = text.replace('# fixed = ["b1", "b2"]', f"fixed = [{json.dumps(names['b1'])}]")
    for short, name in names.items():
        text = text.replace(f'"{short}"', json.dumps(name))
    return text


def test_the_spec_file_the_page_offers_keeps_hostile_names_as_data():
    text = _hostile_spec()
    spec = parse_spec(text, "hostile.toml")
    playground = Playground()
    try:
        offered = playground.load_spec({"text": text, "name": "hostile.toml"})["spec"]
    finally:
        playground.close()
    again = parse_spec(offered, "offered.toml")
    assert again.title == spec.title
    assert [n.name for n in again.inputs] == [n.name for n in spec.inputs]
    assert [(layer.name, [(n.name, n.net, n.out, n.target) for n in layer.neurons])
            for layer in again.layers] == [(layer.name, [(n.name, n.net, n.out, n.target)
            for n in layer.neurons]) for layer in spec.layers]  # fmt: skip
    assert {name: (p.uses, p.value, p.trained) for name, p in again.parameters.items()} == {
        name: (p.uses, p.value, p.trained) for name, p in spec.parameters.items()
    }
    assert explain(again).trace.values() == explain(spec).trace.values()
    assert spec_to_toml(again) == offered  # a fixed point: written once, it stays
    assert all(line.isprintable() for line in offered.split("\n"))
