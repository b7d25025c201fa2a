"""The worked-example commands for the new cases, in-process: init-example --kind, check's
report of a mistyped name, explain --format matrix."""

from pathlib import Path

import pytest

from chainrule.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"

# the mistake each starter plants (see its [claims])
STARTERS = {
    "basic": "rate_forgotten",
    "softmax": "sign",
    "bce": "sign",
    "batch": "batch_reduction",
    "momentum": "momentum_sign",
    "adam": "bias_correction",
}


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("kind", list(STARTERS))
def test_init_example_kinds_explain_and_check(capsys, tmp_path, kind):
    import json

    path = tmp_path / f"{kind}.toml"
    assert run(capsys, "init-example", path, "--kind", kind)[0] == 0
    code, out, _ = run(capsys, "explain", path)
    assert code == 0 and "Backward pass" in out
    code, out, _ = run(capsys, "check", path, "--format", "json")
    verdicts = json.loads(out)
    wrong = [v for v in verdicts if not v["ok"]]
    assert code == 1 and len(wrong) == 1, verdicts
    from chainrule.explain import check

    kinds = {r.kind for r in check(path) if not r.ok}
    assert kinds == {STARTERS[kind]}


def test_init_example_rejects_an_unknown_kind(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["init-example", str(tmp_path / "x.toml"), "--kind", "rnn"])
    assert exit_.value.code == 2 and "invalid choice: 'rnn'" in capsys.readouterr().err


def test_check_reports_a_mistyped_name_and_checks_the_rest(capsys, tmp_path):
    text = (EXAMPLES / "seed001.toml").read_text().split("\n[claims]\n")[0]
    path = tmp_path / "typo.toml"
    path.write_text(text + '\n[claims]\nz1 = "0.4325"\n"dE/dw55" = "0.1"\n')
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    assert "ok    z1 = 0.4325: correct" in out
    assert "NAME? dE/dw55 = 0.1: the claim 'dE/dw55' (line" in out
    assert "did you mean 'dE/dw5'" in out
    assert "1 of 1 numbers hold; 0 wrong; 1 name unknown." in out  # the typo is not a number


def test_explain_matrix_format(capsys):
    code, out, _ = run(capsys, "explain", EXAMPLES / "batch_two_samples.toml", "--format", "matrix")
    assert code == 0
    assert "X (2, 2) = the inputs, one sample a row = [[1, 0], [0.5, -1]]" in out
    assert "dE/dA1 (2, 2) = Delta2 @ W2^T = " in out
    assert "W2 (2, 1) = weights = [[w5], [w6]] = [[0.7], [-0.2]]" in out


def test_every_toml_block_in_the_spec_format_document_parses():
    import re

    from chainrule.explain import Trace, parse_spec

    document = (Path(__file__).parent.parent / "docs" / "spec-format.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", document, re.S)
    assert len(blocks) == 3
    for block in blocks:
        Trace(parse_spec(block))
    assert (EXAMPLES / "softmax_cross_entropy.toml").read_text() in document
    assert (EXAMPLES / "batch_two_samples.toml").read_text() in document


def test_check_json_with_a_mistyped_name_is_valid_json(capsys, tmp_path):
    import json

    text = (EXAMPLES / "seed001.toml").read_text().split("\n[claims]\n")[0]
    path = tmp_path / "typo.toml"
    path.write_text(text + '\n[claims]\n"dE/dw55" = "0.1"\n')
    code, out, _ = run(capsys, "check", path, "--format", "json")
    assert code == 1 and json.loads(out)[0]["correct"] is None


def test_diagram_of_a_batch(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "batch.png"
    code, _, err = run(capsys, "explain", EXAMPLES / "batch_two_samples.toml", "--diagram", path)
    assert code == 0 and path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "section,expected",
    [
        ('[claims]\n"w5+" = "1e400"\n', "claim 'w5+' is not a finite number: '1e400'"),
        ('[claims]\n"w5+" = "nan"\n', "claim 'w5+' is not a finite number: 'nan'"),
        (
            '[arithmetic]\n"share" = { expression = "0.08 / (w5 - 0.4)", claimed = "1" }\n',
            "arithmetic 'share' (line",
        ),
        (
            '[arithmetic]\n"big" = { expression = "exp(1000)", claimed = "1" }\n',
            "cannot evaluate 'exp(1000)'",
        ),
        (
            '[arithmetic]\n"root" = { expression = "sqrt(-w5)", claimed = "1" }\n',
            "cannot evaluate 'sqrt(-w5)'",
        ),
        (  # a negative number to a fractional power is complex in Python: it was no line at all
            '[arithmetic]\n"cube root" = { expression = "(-w5)^(1/3)", claimed = "-0.74" }\n',
            "arithmetic 'cube root' (line 47): cannot evaluate '(-w5)^(1/3)': math domain error",
        ),
    ],
)
def test_check_refuses_unusable_numbers_in_one_line(capsys, tmp_path, section, expected):
    text = (EXAMPLES / "seed001.toml").read_text().split("\n[claims]\n")[0]
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n" + section)
    code, out, err = run(capsys, "check", path)
    assert code == 2 and err.startswith("chainrule: error: ") and expected in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", ["explain", "check"])
def test_zero_significant_digits_is_refused(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, str(EXAMPLES / "seed001.toml"), "--digits", "0"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "expected a whole number >= 1, got '0'" in err


def test_python_explain_and_check_refuse_zero_digits():
    import chainrule as cr

    for call in (cr.explain.explain, cr.check):
        with pytest.raises(ValueError, match="'digits' must be an integer >= 1"):
            call(str(EXAMPLES / "seed001.toml"), digits=0)


@pytest.mark.parametrize("command", ["explain", "demo"])
def test_a_huge_step_count_is_refused_before_any_work(capsys, monkeypatch, command):
    import importlib

    def never(*args):
        raise AssertionError("training started")

    monkeypatch.setattr(importlib.import_module("chainrule.explain"), "train_steps", never)
    argv = [command] + ([EXAMPLES / "seed001.toml"] if command == "explain" else [])
    with pytest.raises(SystemExit) as exit_:
        run(capsys, *argv, "--steps", 10**12)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "argument --steps: expected at most 1000000 steps, got 1000000000000" in err


def test_explain_in_python_names_the_step_limit():
    import chainrule as cr
    from chainrule.explain import MAX_STEPS

    limit = r"'steps' must be an integer from 0 to 1000000, got 1000001"
    with pytest.raises(ValueError, match=limit):
        cr.explain.explain(EXAMPLES / "seed001.toml", steps=MAX_STEPS + 1)
    assert cr.explain.explain(EXAMPLES / "seed001.toml", steps=3).steps.total == 3


def test_diagram_formats_are_the_ones_its_help_names(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(SystemExit):
        run(capsys, "explain", "--help")
    assert ".png (also without a suffix), .svg, .pdf, .jpg" in " ".join(
        capsys.readouterr().out.split()
    )
    for name, magic in (("net.pdf", b"%PDF"), ("net.jpg", b"\xff\xd8"), ("net", b"\x89PNG")):
        assert (
            run(capsys, "explain", EXAMPLES / "seed001.toml", "--diagram", tmp_path / name)[0] == 0
        )
        assert (tmp_path / name).read_bytes().startswith(magic), name
    # an unknown suffix is refused in one line, before anything is written
    output = tmp_path / "seed001.txt"
    code, out, err = run(
        capsys,
        "explain",
        EXAMPLES / "seed001.toml",
        "--diagram",
        tmp_path / "net.xyz",
        "-o",
        output,
    )
    assert code == 2 and out == "" and not output.exists()
    assert err.startswith("chainrule: error: --diagram ") and err.count("\n") == 1
    assert "unknown image format 'xyz'; use one of" in err and "svg" in err


@pytest.mark.parametrize("command", ["explain", "check"])
def test_written_out_optimizer_steps_are_bounded_before_any_work(capsys, tmp_path, command):
    # [optimizer] steps = 10**12 used to build the trace step by step until memory ran out
    from chainrule.explain.settings import MAX_WRITTEN_STEPS

    starter = tmp_path / "adam.toml"
    assert run(capsys, "init-example", starter, "--kind", "adam")[0] == 0
    text = starter.read_text()
    assert "\nsteps = 2\n" in text
    for steps, code in ((10**12, 2), (MAX_WRITTEN_STEPS + 1, 2), (MAX_WRITTEN_STEPS, None)):
        starter.write_text(text.replace("\nsteps = 2\n", f"\nsteps = {steps}\n"))
        got, out, err = run(capsys, command, starter)
        if code is None:
            assert got in (0, 1) and err == "", err
            continue
        assert got == code and out == "" and err.count("\n") == 1
        assert f"[optimizer] steps must be an integer from 1 to {MAX_WRITTEN_STEPS}" in err
        assert f"got {steps}" in err and "line 15" in err and "--steps N" in err
