"""Deploy anywhere: ONNX export, skl2onnx registration, import from scikit-learn and PyTorch.

* :func:`to_onnx` writes a :class:`~chainrule.Network`, the command line's table model or a
  fitted ``chainrule.sklearn`` estimator as an ONNX model (needs the ``onnx`` extra).
* :func:`register_skl2onnx` teaches skl2onnx chainrule's estimators, so that
  ``skl2onnx.to_onnx`` converts pipelines that contain them. Nothing is registered on import
  (skl2onnx is optional): call it once, before converting.
* :func:`from_sklearn` and :func:`from_torch` turn a fitted scikit-learn MLP or a
  ``torch.nn.Sequential`` into a chainrule network with the same predictions.

Importing this package imports none of onnx, skl2onnx, scikit-learn or torch: each function
imports what it needs when called, and says which extra to install when it is missing.
"""

from .export import DEFAULT_OPSET, to_onnx
from .imports import from_sklearn, from_torch
from .registration import register_skl2onnx

__all__ = ["DEFAULT_OPSET", "from_sklearn", "from_torch", "register_skl2onnx", "to_onnx"]
