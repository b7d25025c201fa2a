"""Every command and the Python example in the README work as written."""

import re
import shlex
import shutil
from importlib.util import find_spec
from pathlib import Path

import pytest

from chainrule.cli import main

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def commands():
    found = []
    for block in blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("chainrule "):
                found.append(line)
    return found


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "chainrule" / "datasets").mkdir(parents=True)
    shutil.copy(ROOT / "chainrule" / "datasets" / "iris.csv", tmp_path / "chainrule" / "datasets")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_readme_documents_every_command():
    documented = {shlex.split(c)[1] for c in commands()} | {"demo"}
    from chainrule.cli import build_parser

    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices)
    assert documented == known


def test_every_readme_command_runs(workspace, capsys):
    for command in commands():
        argv = shlex.split(command)[1:]
        if argv[0] == "playground":
            continue  # a server that runs until Ctrl-C: tests/test_playground.py starts it
        code = main(argv + (["--quiet"] if argv[0] == "train" else []))
        out, err = capsys.readouterr()
        expected = 1 if argv[0] == "check" else 0  # the seeds' numbers include mistakes
        assert code == expected, (command, err)
    for produced in (
        "iris.npz",
        "predictions.csv",
        "curves.png",
        "confusion.png",
        "seed001.png",
        "seed001.md",
        "spirals.png",
        "my_example.toml",
        "iris.onnx",
    ):
        assert (workspace / produced).exists(), produced


def test_the_python_examples_run(workspace, capsys):
    import warnings

    printed = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the scikit-learn examples warn about convergence
        for block in blocks("python"):
            if "chainrule import distributed" in block and not find_spec("mpi4py"):
                continue  # the distributed extra is not installed
            exec(compile(block, "README", "exec"), {})
            printed[block] = capsys.readouterr().out
    out = "".join(printed.values())
    assert "dE/dw1" in out and (workspace / "moons.npz").exists()
    (digits,) = [text for block, text in printed.items() if "load_digits" in block]
    assert float(digits.strip().splitlines()[-1]) > 0.9  # the cross-validated digits accuracy
    (deploy,) = [text for block, text in printed.items() if "to_onnx" in block]
    difference, same_labels, from_torch = deploy.strip().splitlines()
    assert float(difference.split(": ")[1]) < 1e-6  # float32 probabilities
    assert same_labels == "same labels: True"
    assert float(from_torch.split(": ")[1]) < 1e-5  # float32 outputs of size about 1
