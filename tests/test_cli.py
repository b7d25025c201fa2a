"""The command line, called in-process through main(argv); one subprocess smoke test."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_prints_the_error_falling(capsys):
    code, out, _ = run(capsys, "demo", "--steps", "100")
    errors = [float(line.split("=")[1]) for line in out.splitlines() if "E_total" in line]
    assert code == 0 and errors[0] == pytest.approx(0.254325323, abs=1e-9)
    assert errors == sorted(errors, reverse=True) and errors[-1] < 0.05


def test_explain_text_and_formats(capsys, tmp_path):
    code, out, _ = run(capsys, "explain", EXAMPLES / "seed001.toml")
    assert code == 0 and "dE/da1 = dE/dz3*w5 + dE/dz4*w6" in out
    code, out, _ = run(
        capsys, "explain", EXAMPLES / "seed001.toml", "--format", "json", "--steps", "100"
    )
    document = json.loads(out)
    assert document["steps"]["total"] == 100
    code, _, err = run(
        capsys,
        "explain",
        EXAMPLES / "seed001.toml",
        "--format",
        "markdown",
        "-o",
        tmp_path / "out.md",
        "--diagram",
        tmp_path / "net.png",
    )
    assert code == 0 and (tmp_path / "out.md").read_text().startswith("# Seed 001")
    assert (tmp_path / "net.png").stat().st_size > 1000


def test_check_exits_one_on_wrong_numbers_and_zero_when_all_hold(capsys, tmp_path):
    code, out, _ = run(capsys, "check", EXAMPLES / "seed001.toml")
    assert code == 1 and "19 of 42 numbers hold; 23 wrong." in out
    code, out, _ = run(capsys, "check", EXAMPLES / "seed001.toml", "--format", "json")
    items = json.loads(out)
    assert set(items[0]) == {"name", "claimed", "correct", "ok", "diagnosis"}
    good = tmp_path / "good.toml"
    text = (EXAMPLES / "seed001.toml").read_text().split("\n[claims]\n")[0]
    good.write_text(text + '\n[claims]\nz1 = "0.4325"\n"dE/dw1" = "0.000483364548"\n')
    code, out, _ = run(capsys, "check", good)
    assert code == 0 and "2 of 2 numbers hold; 0 wrong." in out


def test_init_example_writes_a_file_that_explains(capsys, tmp_path):
    path = tmp_path / "mine.toml"
    assert run(capsys, "init-example", path)[0] == 0
    code, _, err = run(capsys, "init-example", path)
    assert code == 2 and "already exists; pass --force" in err
    assert run(capsys, "explain", path)[0] == 0
    assert run(capsys, "check", path)[0] == 1  # one claim in the starter is wrong on purpose


@pytest.mark.parametrize(
    "argv,message",
    [
        (["explain", "/no/such.toml"], "no such file"),
        (["check", "BROKEN"], "line 1: this is not valid TOML"),
    ],
)
def test_errors_are_one_line_with_exit_code_two(capsys, tmp_path, argv, message):
    broken = tmp_path / "broken.toml"
    broken.write_text("[inputs\nx1 = 1\n")
    argv = [str(broken) if a == "BROKEN" else a for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err
    assert err.startswith("chainrule: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(Exception, match="no such file"):
        main(["--debug", "explain", str(tmp_path / "missing.toml")])


def test_installed_command_runs_in_a_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "check", str(EXAMPLES / "seed003_linear.toml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "0.0436363636" in result.stdout


@pytest.mark.parametrize(
    "argv,said",
    [
        ([], "the following arguments are required: COMMAND (see chainrule --help)"),
        (["trian"], "argument COMMAND: invalid choice: 'trian'"),
        (
            ["train", "--learning-rate", "nan"],
            "argument --learning-rate: expected a number > 0, got 'nan'",
        ),
        (["export", "m.npz"], "the following arguments are required: output (see chainrule export"),
        (["predict", "m.npz", "x.csv", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(capsys, argv, said):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith(f"chainrule: error: {said}")
    assert err.count("\n") == 1 and "usage:" not in err
