"""Inference throughput: the exported model in onnxruntime, chainrule's predict, PyTorch.

The MNIST-shaped network of benchmarks/run.py (784-256-128-10, ReLU, softmax output, float32),
with the same weights in all three, checked to agree before timing. Batches of 1 and 1000
rows. Each round times every contender once, alternating, after a warm-up; the table gives
each one's median time per call over the rounds and, for ratios, the median over rounds of the
ratio within a round (as benchmarks/run.py: the shared machine's load drifts).

    python benchmarks/onnx_inference.py            # 7 rounds
    python benchmarks/onnx_inference.py --quick    # 3 rounds

Needs the onnx extra and PyTorch (``pip install ".[test]"``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from run import SIZES, environment, median_times, mnist_shaped

import chainrule as cr
from chainrule.onnx import to_onnx

# calls per timed run, so that one run lasts about 0.1-0.3 s
CALLS = {1: 2000, 1000: 40}


def contenders(batch: int):
    """The three ways to predict ``batch`` rows, each a function timing ``CALLS[batch]`` calls
    and returning seconds per call."""
    import onnxruntime
    import torch

    net = cr.MLP(SIZES, activation="relu", loss="cross_entropy", seed=0)
    session = onnxruntime.InferenceSession(
        to_onnx(net).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    layers = []
    with torch.no_grad():
        for dense in net.dense_layers:  # the same weights: torch's Linear holds W.T
            linear = torch.nn.Linear(dense.n_in, dense.n_out)
            linear.weight.copy_(torch.from_numpy(dense.W.T.copy()))
            linear.bias.copy_(torch.from_numpy(dense.b.copy()))
            layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1], torch.nn.Softmax(dim=1)).eval()
    X = mnist_shaped()[0][:batch]
    X_torch = torch.from_numpy(X)

    def by_onnxruntime():
        return session.run(None, {"X": X})[0]

    def by_chainrule():
        return net.predict(X)

    def by_torch():
        with torch.inference_mode():
            return model(X_torch).numpy()

    expected = by_chainrule()
    for other in (by_onnxruntime, by_torch):
        np.testing.assert_allclose(other(), expected, rtol=1e-5, atol=1e-6)

    def timed(predict):
        def run():
            started = time.perf_counter()
            for _ in range(CALLS[batch]):
                predict()
            return (time.perf_counter() - started) / CALLS[batch]

        return run

    return {
        "onnxruntime": timed(by_onnxruntime),
        "chainrule": timed(by_chainrule),
        "torch": timed(by_torch),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    args = parser.parse_args(argv)
    import onnxruntime

    print("\n".join(environment()))
    print(f"- onnxruntime {onnxruntime.__version__} (CPUExecutionProvider, default threads)\n")
    print(
        "| batch | onnxruntime µs | chainrule µs | PyTorch µs | onnxruntime rows/s | "
        "chainrule rows/s | PyTorch rows/s | onnxruntime / chainrule | PyTorch / chainrule |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for batch in (1, 1000):
        t = median_times(contenders(batch), 3 if args.quick else 7)
        print(
            f"| {batch} | {t['onnxruntime'] * 1e6:.1f} | {t['chainrule'] * 1e6:.1f} | "
            f"{t['torch'] * 1e6:.1f} | {batch / t['onnxruntime']:,.0f} | "
            f"{batch / t['chainrule']:,.0f} | {batch / t['torch']:,.0f} | "
            f"{t.ratio('onnxruntime', 'chainrule'):.2f} | {t.ratio('torch', 'chainrule'):.2f} |"
        )


if __name__ == "__main__":
    main()
