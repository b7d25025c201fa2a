"""Imports run downward only: no module imports one from a higher layer, not even lazily
inside a function. The layers, lowest first, are the order in which data flows (DESIGN.md)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "chainrule"

LAYERS = [
    # private helpers
    {"_arrays", "_registry", "_validation", "_scaling", "_atomic", "_kernels", "_version"}
    | {"_header", "_interrupt", "_replicas", "_arrow_csv"},
    # the core: where backpropagation happens
    {"activations", "losses", "initializers", "layers", "network", "gradcheck"},
    # training, and model files
    {"optim", "schedules", "callbacks", "progress", "metrics", "evaluation", "checkpoint"}
    | {"lbfgs", "fit_options", "train", "io"},
    # tables
    {"plots", "data", "encoding", "datasets", "tabular"},
    {"explain"},
    {"estimators", "sklearn", "_sklearn_solvers"},
    {"onnx"},
    {"distributed"},
    {"playground"},
    {"cli"},
    {"__init__"},
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def imported_top_modules(path: Path):
    """(line, top-level chainrule module) for every relative import that leaves the file's
    own subpackage."""
    depth = len(path.relative_to(PACKAGE).parts) - 1
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level > depth:
            names = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
            for name in names:
                yield node.lineno, name


def test_every_module_has_a_layer():
    tops = {p.relative_to(PACKAGE).with_suffix("").parts[0] for p in PACKAGE.rglob("*.py")}
    assert tops <= set(LEVEL), f"add {sorted(tops - set(LEVEL))} to LAYERS"


def test_no_module_imports_a_higher_layer():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = path.relative_to(PACKAGE).with_suffix("").parts[0]
        for line, name in imported_top_modules(path):
            if name in LEVEL and LEVEL[name] > LEVEL[me]:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {name}")
    assert upward == []
