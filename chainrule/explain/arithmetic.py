"""Claimed results of plain arithmetic (``[arithmetic]`` in a spec): a safe evaluator of
numbers, quantity names, ``+ - * / **`` and a few functions."""

from __future__ import annotations

import ast
import itertools
import math
import operator

import numpy as np

from . import rounding
from .holding import ClaimResult, fmt, holds, last_digit_unit
from .spec import SpecError

__all__ = [
    "MAX_EXPRESSION_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "check_arithmetic",
    "evaluate_expression",
    "rounding_tolerance",
]

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: math.pow,  # real: (-8)**(1/3) is a domain error, not a complex number
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_FUNCTIONS = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "tanh": math.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
}


MAX_EXPRESSION_LENGTH = 1000
"""The most characters an ``[arithmetic]`` expression may have (a worked example's are a line).
Python's parser needs memory and recursion in proportion to an expression's nesting: 100 000
minus signs ran out of memory, a sum of 3000 terms out of recursion."""
MAX_EXPRESSION_DEPTH = 100
"""The deepest an expression's tree may be (a sum of n terms is n deep): it is evaluated by
recursion."""


def _shown(expression: str) -> str:
    return repr(expression if len(expression) <= 60 else expression[:57] + "...")


def _parse(expression: str) -> ast.Expression:
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise SpecError(
            f"the expression {_shown(expression)} has {len(expression)} characters, more than "
            f"{MAX_EXPRESSION_LENGTH}; split it into several [arithmetic] entries"
        )
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError as error:
        raise SpecError(f"{expression!r} is not an arithmetic expression ({error.msg})") from None
    except (RecursionError, MemoryError):  # nesting Python's parser cannot hold
        tree = None
    if tree is None or _depth(tree) > MAX_EXPRESSION_DEPTH:
        raise SpecError(
            f"the expression {_shown(expression)} is nested more than {MAX_EXPRESSION_DEPTH} "
            "deep (a sum of n terms is n deep); split it into several [arithmetic] entries"
        )
    return tree


def _depth(tree: ast.AST) -> int:
    """The depth of ``tree``, without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _walk(tree: ast.Expression, expression: str, values: dict, move=None) -> float:
    """The value of ``tree``; ``move`` (when given) maps each number and name in turn to the
    value to use for it."""
    leaves = itertools.count()

    def leaf(value: float) -> float:
        return value if move is None else move(next(leaves), value)

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return leaf(float(node.value))
        if isinstance(node, ast.Name) and node.id in values:
            return leaf(values[node.id])
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.operand))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and len(node.args) == 1
        ):
            return _FUNCTIONS[node.func.id](walk(node.args[0]))
        raise SpecError(
            f"cannot evaluate {ast.unparse(node)!r} in {expression!r}: use numbers, "
            "+ - * / **, quantity names and exp, log, sqrt, tanh, sigmoid"
        )

    return walk(tree)


def evaluate_expression(expression: str, values: dict[str, float]) -> float:
    """Evaluate arithmetic on numbers and quantity names (``0.08 * w11 / (w11 + w12)``), with
    ``exp``, ``log``, ``sqrt``, ``tanh`` and ``sigmoid``; nothing else is allowed."""
    tree = _parse(expression)
    try:
        value = _walk(tree, expression, values)
    except (ArithmeticError, ValueError) as error:  # 1/0, exp(1000), log(0), sqrt(-1)
        if isinstance(error, SpecError):
            raise
        raise SpecError(f"cannot evaluate {expression!r}: {error}") from None
    if not math.isfinite(value):
        raise SpecError(f"cannot evaluate {expression!r}: the result is {value}")
    return value


def rounding_tolerance(expression: str, values: dict[str, float]) -> float:
    """The largest value of ``expression`` that is zero within rounding, by the rule of
    :mod:`~chainrule.explain.rounding` with its numbers and names as the given numbers
    (``0.1*3 - 0.3`` is 5.55e-17 in float64, below its tolerance of about 1e-15)."""
    tree = _parse(expression)
    leaves = sum(isinstance(node, (ast.Constant, ast.Name)) for node in ast.walk(tree))

    def evaluate(moved):
        try:
            value = _walk(tree, expression, values, lambda i, v: v * moved["scale"][i])
        except (ArithmeticError, ValueError):  # moved out of a function's domain
            value = math.nan
        return {"value": value}

    return float(rounding.tolerances(evaluate, {"scale": np.ones(leaves)})["value"])


def check_arithmetic(item, values: dict[str, float], digits: int) -> ClaimResult:
    claim = item.claim
    try:
        value = evaluate_expression(item.expression, values)
    except SpecError as error:
        where = f" (line {claim.line})" if claim.line else ""
        place = f"{item.source}: " if item.source else ""  # the file, as every SpecError names it
        raise SpecError(f"{place}arithmetic {item.name!r}{where}: {error}") from None
    unit = last_digit_unit(claim.text) or rounding_tolerance(item.expression, values)
    if holds(claim.value, value, unit):
        return ClaimResult(item.name, claim.text, value, True, "ok", "correct")
    return ClaimResult(
        item.name,
        claim.text,
        value,
        False,
        "arithmetic",
        f"you wrote {claim.text}, but {item.expression} = {fmt(value, digits)}: an arithmetic slip",
    )
