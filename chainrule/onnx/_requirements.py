"""The optional packages behind chainrule.onnx, imported only when a function needs them."""

from __future__ import annotations

import importlib

from ..core.extras import install_hint

_INSTALL = {
    "onnx": install_hint("onnx"),
    "onnxruntime": install_hint("onnx"),
    "skl2onnx": install_hint("onnx"),
    "sklearn": install_hint("sklearn"),
    "torch": "pip install torch",
}


def require(module: str, purpose: str):
    """Import and return ``module``; if it is missing, raise one line naming the extra.

    Raises
    ------
    ImportError
        One line: ``chainrule.onnx.to_onnx needs onnx:`` and the command that installs the
        extra (``chainrule.core.extras.install_hint``).
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        name = "scikit-learn" if package == "sklearn" else package
        raise ImportError(f"{purpose} needs {name}: {_INSTALL[package]}") from None
