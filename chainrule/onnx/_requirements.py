"""The optional packages behind chainrule.onnx, imported only when a function needs them."""

from __future__ import annotations

import importlib

_EXTRA = {"onnx": "onnx", "onnxruntime": "onnx", "skl2onnx": "onnx", "sklearn": "sklearn"}


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
        raise ImportError(
            f'{purpose} needs {package}: pip install "chainrule[{_EXTRA.get(package, package)}]"'
        ) from None
