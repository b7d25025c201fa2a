"""Running exported models in onnxruntime, and the comparison the ONNX tests use."""

import numpy as np

#: float32 exports agree with chainrule within 1e-5 relative, float64 within 1e-12
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}


def run(model, X):
    """The outputs of an ``onnx.ModelProto`` (or a path) on input ``X``, in output order."""
    import onnxruntime

    source = model if isinstance(model, str) else model.SerializeToString()
    session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def assert_close(actual, expected, dtype):
    """``|actual - expected| <= rel * (|expected| + max |expected|)`` elementwise, with ``rel``
    1e-5 for float32 and 1e-12 for float64: relative to each value, plus the same fraction of
    the largest output, so that values near 0 (a tanh or softmax far in its tails, where one
    rounding of the inputs moves them by many of their own ulps) are held to the output's
    scale."""
    actual, expected = np.asarray(actual), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    assert actual.dtype == dtype
    rel = TOLERANCE[np.dtype(dtype).type]
    np.testing.assert_allclose(actual, expected, rtol=rel, atol=rel * np.abs(expected).max())
