"""How the ``chainrule`` program ends: ``main``'s exit code, its output flushed, and (with
pyarrow loaded) no interpreter shutdown, which pyarrow's thread pool can abort
(apache/arrow#34314: "terminate called without an active exception", exit code 134)."""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule.cli as cli

ROOT = Path(__file__).parent.parent


class Ended(Exception):
    def __init__(self, code):
        self.code = code


def test_with_pyarrow_loaded_the_process_ends_at_once_with_mains_code(monkeypatch):
    pytest.importorskip("pyarrow")
    events = []

    class Stream(io.StringIO):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def flush(self):
            events.append(f"{self.name} flushed")

    def ended(code):
        events.append(f"ended with {code}")
        raise Ended(code)

    monkeypatch.setattr(cli, "main", lambda: 3)
    monkeypatch.setattr(cli.os, "_exit", ended)
    monkeypatch.setattr(sys, "stdout", Stream("stdout"))
    monkeypatch.setattr(sys, "stderr", Stream("stderr"))
    with pytest.raises(Ended):
        cli.run()
    assert events == ["stdout flushed", "stderr flushed", "ended with 3"]


def test_without_pyarrow_it_exits_the_usual_way(monkeypatch):
    monkeypatch.delitem(sys.modules, "pyarrow", raising=False)
    monkeypatch.setattr(cli, "main", lambda: 2)
    monkeypatch.setattr(cli.os, "_exit", lambda code: pytest.fail("os._exit without pyarrow"))
    with pytest.raises(SystemExit) as raised:
        cli.run()
    assert raised.value.code == 2


def test_a_long_output_through_a_pipe_arrives_whole_and_an_error_is_one_line(tmp_path):
    pytest.importorskip("pyarrow")
    rng = np.random.default_rng(0)
    rows = "".join(f"{a!r},{b!r},{a - b!r}\n" for a, b in rng.normal(size=(5000, 2)).tolist())
    (tmp_path / "t.csv").write_text("a,b,y\n" + rows)
    program = [sys.executable, "-m", "chainrule.cli"]
    common = dict(cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)})
    train = [*program, "train", "t.csv", "--target", "y", "--epochs", "1", "--quiet"]
    done = subprocess.run([*train, "--out", "m.npz"], **common)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*program, "predict", "m.npz", "t.csv"], **common)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 5001 and lines[-1].count(",") == 3  # every row, the last one whole
    done = subprocess.run([*program, "train", "t.csv", "--target", "nope"], **common)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no column named 'nope'" in done.stderr
