"""``chainrule export MODEL.npz OUT.onnx``: a model file as an ONNX model."""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def _opset(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _export(args) -> int:
    from ..files import model_file as io
    from ..files.atomic import atomic_open
    from ..onnx import DEFAULT_OPSET, to_onnx
    from ..tables.model import TabularModel
    from .common import check_output

    check_output(args.output, "output", {"the model file": args.model})
    network = io.load(args.model)
    model = TabularModel.load(args.model) if network.metadata.get("task") else network
    exported = to_onnx(model, opset=args.opset, dtype=args.dtype)
    with atomic_open(args.output, what="output") as stream:
        stream.write(exported.SerializeToString())
    inputs = " and ".join(value.name for value in exported.graph.input)
    if model is network:
        what = f"network {network.n_inputs} -> {network.n_outputs}"
    else:
        what = f"{model.task} of {model.target!r} from {len(model.features)} features"
    opset = DEFAULT_OPSET if args.opset is None else args.opset
    print(f"wrote {args.output}: {what}, input {inputs}, opset {opset}, {args.dtype}")
    return 0


def add_commands(commands) -> None:
    """Register ``export``."""
    export = commands.add_parser(
        "export",
        help="write a model file as ONNX (needs the onnx extra)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  chainrule export m.npz m.onnx\n"
        "  chainrule export m.npz m.onnx --dtype float64",
    )
    export.add_argument("model", help="a chainrule model file (.npz)")
    export.add_argument("output", help="the ONNX file to write (.onnx)")
    export.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default="float32",
        help="the ONNX model's input, weight and output type (default: float32)",
    )
    export.add_argument("--opset", type=_opset, help="ONNX opset (default 18)")
    export.set_defaults(handler=_export)
