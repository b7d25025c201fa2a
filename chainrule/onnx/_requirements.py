"""The optional packages behind chainrule.onnx, imported only when a function needs them."""

from __future__ import annotations

import importlib

_INSTALL = {
    "onnx": 'pip install "chainrule[onnx]"',
    "onnxruntime": 'pip install "chainrule[onnx]"',
    "skl2onnx": 'pip install "chainrule[onnx]"',
    "sklearn": 'pip install "chainrule[sklearn]"',
    "torch": "pip install torch",
}


def require(module: str, purpose: str):
    """Import and return ``module``; if it is missing, raise one line naming the extra.

    Raises
    ------
    ImportError
        ``chainrule.onnx.to_onnx needs onnx: pip install "chainrule[onnx]"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        name = "scikit-learn" if package == "sklearn" else package
        raise ImportError(f"{purpose} needs {name}: {_INSTALL[package]}") from None
