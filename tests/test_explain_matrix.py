"""The matrix form in every format (text, Markdown, LaTeX, JSON), from Python and the CLI, with
the step table and the verdicts on the claims, and float noise shown as 0."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.explain import parse_spec
from chainrule.explain.matrix import matrix_steps

EXAMPLES = Path(__file__).parent.parent / "examples"
BATCH = EXAMPLES / "batch_two_samples.toml"
# by hand from the spec: Z1 = X @ W1 + b1 with X = [[1, 0], [0.5, -1]],
# W1 = [[0.5, -0.5], [0.3, 0.8]], b1 = [0.1, -0.1]:
# row 1: [0.5 + 0.1, -0.5 - 0.1]; row 2: [0.25 - 0.3 + 0.1, -0.25 - 0.8 - 0.1]
Z1 = [[0.6, -0.6], [0.05, -1.15]]


def rendered(format, path=BATCH, **options):
    return cr.explain.explain(path, **options).render(format, form="matrix")


def test_json_holds_every_matrix_with_its_shape_formula_and_names():
    document = json.loads(rendered("json"))
    assert document["form"] == "matrix"
    steps = matrix_steps(cr.explain.explain(BATCH).spec)
    assert [m["name"] for m in document["matrices"]] == [s.name for s in steps]
    for matrix, step in zip(document["matrices"], steps, strict=True):
        assert matrix["shape"] == list(step.value.shape)
        np.testing.assert_allclose(matrix["value"], step.value, rtol=1e-15, atol=1e-300)
    by_name = {m["name"]: m for m in document["matrices"]}
    np.testing.assert_allclose(by_name["Z1"]["value"], Z1, rtol=1e-14)
    assert by_name["Z1"]["formula"] == "X @ W1 + b1"
    assert by_name["W2"]["names"] == [["w5"], ["w6"]] and by_name["W2"]["note"] == "weights"
    assert by_name["Delta1"]["formula"] == "dE/dA1 * tanh'(Z1)"
    # the claims' verdicts, as in the per-value JSON
    assert document["claims"] == json.loads(cr.explain.explain(BATCH).render("json"))["claims"]


def test_markdown_writes_each_step_as_one_equation_of_matrices():
    text = rendered("markdown")
    assert text.startswith("# A batch of two samples")
    equations = re.findall(r"^\$\$(.*)\$\$$", text, re.M)
    assert len(equations) == len(matrix_steps(cr.explain.explain(BATCH).spec))
    assert (
        r"Z_{1} = X \, W_{1} + b_{1} = \begin{bmatrix} 0.6 & -0.6 \\ 0.05 & -1.15 \end{bmatrix}"
        in equations
    )
    assert any(e.startswith(r"\Delta_{1} = \frac{\partial E}{\partial A_{1}} \odot \tanh'(Z_{1})")
               for e in equations)  # fmt: skip
    assert any(e.startswith(r"\mathrm{d}W_{1} = X^{\top} \, \Delta_{1}") for e in equations)
    assert any(e.startswith(r"W_{2}^{+} = W_{2} - \eta \mathrm{d}W_{2}") for e in equations)
    assert "*Delta1 (2, 2): elementwise*" in text
    assert "## Your numbers" in text and "| ✗ | `dE/dw5` |" in text


def test_latex_is_one_align_environment_with_text_mode_escaped():
    text = rendered("latex")
    assert text.count(r"\begin{align*}") == 1 == text.count(r"\end{align*}")
    body = text.split(r"\begin{align*}")[1].split(r"\end{align*}")[0]
    rows = body.strip().split(" \\\\\n")
    assert len(rows) == len(matrix_steps(cr.explain.explain(BATCH).spec))
    assert all(row.count("&=") == 1 for row in rows)
    for words in re.findall(r"\\text\{(.*?)\}", text):
        assert not re.search(r"(?<!\\)_", words), words  # squared\_error, not squared_error


def _batch_gradient_descent(steps):
    """The batch spec trained by hand in float64: E after 0..steps steps of plain gradient
    descent (eta = 0.5) on the mean over the two samples of 1/2 (t - y)^2, and the outputs
    after the last step."""
    X, T = np.array([[1.0, 0.0], [0.5, -1.0]]), np.array([[1.0], [-0.5]])
    W1, b1 = np.array([[0.5, -0.5], [0.3, 0.8]]), np.array([0.1, -0.1])
    W2, b2 = np.array([[0.7], [-0.2]]), np.array([0.2])
    errors = []
    for step in range(steps + 1):
        A1 = np.tanh(X @ W1 + b1)
        Y = A1 @ W2 + b2
        errors.append(float(np.mean(0.5 * np.sum((T - Y) ** 2, axis=1))))
        if step == steps:
            return errors, Y[:, 0].tolist()
        dY = (Y - T) / len(X)
        dZ1 = (dY @ W2.T) * (1 - A1**2)
        W2, b2 = W2 - 0.5 * A1.T @ dY, b2 - 0.5 * dY.sum(axis=0)
        W1, b1 = W1 - 0.5 * X.T @ dZ1, b1 - 0.5 * dZ1.sum(axis=0)


LAST_MATRIX = {"text": "b2+ (1,) =", "markdown": "*b2+ (1,)*", "latex": r"\end{align*}"}
TABLE_ROWS = {
    "text": r"^ *(\d+) +(\S+)$",
    "markdown": r"^\| (\d+) \| (\S+) \|$",
    "latex": r"^(\d+) & (\S+) \\\\$",
}


@pytest.mark.parametrize("format", ["text", "markdown", "latex", "json"])
def test_the_step_table_follows_the_matrix_form(format):
    errors, outputs = _batch_gradient_descent(3)
    assert errors[0] == pytest.approx(0.2269, abs=5e-5)  # E as the spec's claims give it
    text = rendered(format, steps=3)
    if format == "json":
        table = json.loads(text)["steps"]
        assert [row["step"] for row in table["rows"]] == [0, 1, 2, 3]
        assert [row["E"] for row in table["rows"]] == pytest.approx(errors, rel=1e-12)
        expected_outputs = {"y[1]": outputs[0], "y[2]": outputs[1]}
        assert table["outputs"] == pytest.approx(expected_outputs, rel=1e-12)
        return
    # after the last matrix (b2+), before the verdicts on the claims (LaTeX has none)
    training = text.index("Training", text.index(LAST_MATRIX[format]))
    end = text.find("Your numbers", training)
    table = text[training : end if end >= 0 else len(text)]
    rows = re.findall(TABLE_ROWS[format], table, re.M)
    assert [int(step) for step, _ in rows] == [0, 1, 2, 3], table
    # 9 significant digits
    assert [float(error) for _, error in rows] == pytest.approx(errors, rel=1e-8), table
    if format == "text":
        assert f"y[1] = {outputs[0]:.9g}, y[2] = {outputs[1]:.9g}" in table


@pytest.mark.parametrize("format", ["text", "markdown", "latex", "json"])
def test_float_noise_in_the_matrix_form_is_shown_as_0(format):
    # z1 = 0.1*3 - 0.3 is 5.55e-17 in float64 and 0 in decimals
    spec = parse_spec(
        'loss = "squared_error"\n[inputs]\nx1 = 0.1\n[[layers]]\nname = "output"\n'
        'activation = "identity"\nneurons = [{ name = "o1", net = "z1", out = "y1", '
        'target = "t1" }]\n[targets]\no1 = 0.0\n[weights]\nw1 = { from = "x1", to = "o1", '
        'value = 3.0 }\n[biases]\nb1 = { to = "o1", value = -0.3 }\n'
    )
    assert [s.value for s in matrix_steps(spec) if s.name == "Z1"][0][0, 0] == 2.0**-54
    text = cr.explain.explain(spec).render(format, form="matrix")
    assert not re.search(r"e-(1[5-9]|[2-9]\d)", text), text
    if format == "text":
        assert "Z1 (1, 1) = X @ W1 + b1 = [[0]]" in text


def test_the_cli_writes_the_matrix_form_in_any_format(capsys, tmp_path):
    output = tmp_path / "batch.json"
    argv = ["explain", str(BATCH), "--form", "matrix", "--format", "json", "-o", str(output)]
    assert main(argv) == 0
    assert json.loads(output.read_text()) == json.loads(rendered("json"))
    assert main(["explain", str(BATCH), "--form", "matrix", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == rendered("markdown")
    assert main(["explain", str(BATCH), "--format", "matrix"]) == 0  # the short form: text
    assert capsys.readouterr().out == rendered("text")


def test_a_bad_form_is_named():
    with pytest.raises(ValueError, match=r"'form' must be one of values, matrix, got 'matrices'"):
        cr.explain.explain(BATCH).render("text", form="matrices")
    with pytest.raises(ValueError, match=r"'format' must be one of text, markdown, latex, json"):
        cr.explain.explain(BATCH).render("html")
