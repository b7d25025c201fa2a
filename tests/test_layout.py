"""The layout shows the design: a few top-level files, one subpackage per concept, and imports
that run downward only, from the subpackage order below (docs/architecture.md), not even lazily
inside a function."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "chainrule"

# lowest first; a subpackage imports only from those before it (and itself)
ORDER = [
    "_version",
    "core",
    "optim",
    "files",
    "training",
    "tables",
    "datasets",
    "explain",
    "teaching",
    "sklearn",
    "onnx",
    "distributed",
    "playground",
    "cli",
    "__main__",
    "__init__",
]
LEVEL = {name: level for level, name in enumerate(ORDER)}
# The one edge that climbs, as keras.Model.fit does: Network.fit (in core) hands the network
# to the training engine, imported inside the method, so that `net.fit(...)` works and has its
# real signature while the engine depends on the network's public methods only.
CLIMBS = {("core/network.py", "training")}


def imported_subpackages(path: Path):
    """(line, subpackage) for every import of chainrule's own modules in ``path``."""
    depth = len(path.relative_to(PACKAGE).parts) - 1
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level > depth:
            names = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
            yield from ((node.lineno, name) for name in names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chainrule."):
            yield node.lineno, node.module.split(".")[1]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("chainrule."):
                    yield node.lineno, alias.name.split(".")[1]


def _subpackage(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def test_the_top_level_holds_the_public_names_and_the_version_only():
    files = sorted(p.name for p in PACKAGE.iterdir() if p.suffix == ".py")
    assert files == ["__init__.py", "__main__.py", "_version.py"]  # __main__: python -m chainrule
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(ORDER) - {"_version", "__main__", "__init__"}


def test_every_subpackage_is_in_the_order():
    found = {_subpackage(p) for p in PACKAGE.rglob("*.py")}
    assert found == set(ORDER)


def test_no_module_imports_a_higher_subpackage():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = _subpackage(path)
        where = path.relative_to(PACKAGE).as_posix()
        for line, name in imported_subpackages(path):
            if LEVEL[name] > LEVEL[me] and (where, name) not in CLIMBS:
                upward.append(f"{where}:{line} imports {name}")
    assert upward == []


def test_the_climbing_edge_is_still_needed():
    """An exception that no longer holds is removed from CLIMBS."""
    for where, name in CLIMBS:
        assert name in {n for _, n in imported_subpackages(PACKAGE / where)}, where


def test_public_modules_define_all():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if any(part.startswith("_") and part != "__init__" for part in parts):
            continue
        tree = ast.parse(path.read_text())
        defined = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        if "__all__" not in defined:
            missing.append(path.relative_to(PACKAGE).as_posix())
    assert missing == []


def _code_lines(function: ast.FunctionDef) -> int:
    """A function's lines from ``def`` to its end, less its docstring."""
    first = function.body[0]
    docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    doc_lines = first.end_lineno - first.lineno + 1 if docstring else 0
    return function.end_lineno - function.lineno + 1 - doc_lines


def test_no_function_is_longer_than_80_lines_of_code():
    """Functions short enough to read at once (a docstring that states the math may be long)."""
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _code_lines(node) > 80:
                long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}")
    assert long == []
