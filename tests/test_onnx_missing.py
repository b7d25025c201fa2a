"""Without the optional packages: chainrule imports, and each feature says in one line what
to install. A missing package is simulated as Python does it (``sys.modules[name] = None``
makes ``import name`` raise ImportError)."""

import subprocess
import sys
from pathlib import Path

import pytest

import chainrule as cr
from chainrule.cli import main

ROOT = Path(__file__).parent.parent


@pytest.fixture
def missing(monkeypatch):
    def hide(*names):
        for name in names:
            monkeypatch.setitem(sys.modules, name, None)

    return hide


def test_to_onnx_without_onnx(missing):
    missing("onnx")
    with pytest.raises(ImportError) as raised:
        cr.onnx.to_onnx(cr.MLP([2, 1], seed=0))
    assert str(raised.value) == (
        'chainrule.onnx.to_onnx needs onnx: pip install "chainrule[onnx]" '
        '(from a source checkout: pip install ".[onnx]")'
    )


def test_register_without_skl2onnx(missing):
    missing("skl2onnx")
    with pytest.raises(
        ImportError,
        match=r"^chainrule.onnx.register_skl2onnx needs skl2onnx: "
        r'pip install "chainrule\[onnx\]" \(from a source checkout: pip install "\.\[onnx\]"\)$',
    ):
        cr.onnx.register_skl2onnx()


def test_from_torch_without_torch(missing):
    missing("torch")
    with pytest.raises(ImportError, match="^chainrule.from_torch needs torch: pip install torch$"):
        cr.from_torch(object())


def test_from_sklearn_without_sklearn(missing):
    missing("sklearn", "sklearn.utils", "sklearn.utils.validation")
    with pytest.raises(
        ImportError,
        match=r'^chainrule.from_sklearn needs scikit-learn: pip install "chainrule\[sklearn',
    ):
        cr.from_sklearn(object())


def test_cli_export_without_onnx(missing, tmp_path, capsys):
    cr.save(cr.MLP([2, 1], seed=0), tmp_path / "m.npz")
    missing("onnx")
    code = main(["export", str(tmp_path / "m.npz"), str(tmp_path / "m.onnx")])
    assert code == 2
    assert capsys.readouterr().err == (
        'chainrule: error: chainrule.onnx.to_onnx needs onnx: pip install "chainrule[onnx]" '
        '(from a source checkout: pip install ".[onnx]")\n'
    )


def test_importing_chainrule_imports_no_optional_package():
    code = (
        "import sys, chainrule, chainrule.onnx, chainrule.cli; "
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'skl2onnx', 'sklearn', 'torch') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
