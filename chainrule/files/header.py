"""The schema of a model file's JSON header, checked in full before anything is built from it.

Each check names where in the header the bad value sits (``config.layers[2].n_out``), the value
and what was expected, and raises :class:`HeaderError`; :mod:`chainrule.files.model_file` turns
that into a ``ModelFileError`` naming the file.
"""

from __future__ import annotations

import math
import numbers

from ..core.validation import CONSTRAINTS

__all__ = [
    "HeaderError",
    "MAX_DEPTH",
    "MAX_LAYERS",
    "MAX_WIDTH",
    "check_columns",
    "check_config",
    "check_depth",
    "check_dict",
    "check_history",
    "expect",
    "is_int",
    "is_finite_number",
    "is_number",
]

MAX_LAYERS = 1024
MAX_WIDTH = 2**31 - 1
MAX_DEPTH = 32


class HeaderError(ValueError):
    """A header value of the wrong type, range or shape."""


def expect(condition: bool, where: str, value, expected: str) -> None:
    """Raise :class:`HeaderError` unless ``condition``."""
    if not condition:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise HeaderError(f"{where} must be {expected}, got {shown}")


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_finite_number(value) -> bool:
    """A number that is finite as a float (JSON's integers may be too large to be one)."""
    try:
        return is_number(value) and math.isfinite(value)
    except OverflowError:
        return False


def check_depth(value, where: str) -> None:
    """Refuse JSON nested deeper than :data:`MAX_DEPTH` (checked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        expect(depth <= MAX_DEPTH, where, "...", f"nested at most {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            pending.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            pending.extend((v, depth + 1) for v in item)


def check_dict(value, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()):
    expect(isinstance(value, dict), where, value, "an object")
    missing = [key for key in required if key not in value]
    expect(not missing, where, sorted(value), f"an object with the keys {', '.join(required)}")
    unknown = sorted(set(value) - set(required) - set(optional))
    expect(not unknown, f"{where}.{unknown[0]}" if unknown else where, "present", "absent")
    return value


def _check_named(value, where: str) -> None:
    """An activation or loss: a name, or ``{'name': ..., numeric parameters...}``."""
    if isinstance(value, str):
        return
    expect(
        isinstance(value, dict) and isinstance(value.get("name"), str),
        where,
        value,
        "a name or an object with a 'name'",
    )
    for key, parameter in value.items():
        if key != "name":
            expect(
                is_finite_number(parameter),
                f"{where}.{key}",
                parameter,
                "a finite number",
            )


def _check_layer(layer, where: str) -> int:
    """Check one layer's config; return its number of parameters."""
    expect(isinstance(layer, dict), where, layer, "an object")
    expect(
        layer.get("type") in ("Dense", "Dropout", "Embedding"),
        f"{where}.type",
        layer.get("type"),
        "'Dense', 'Dropout' or 'Embedding'",
    )
    if layer["type"] == "Embedding":
        return _check_embedding(layer, where)
    if layer["type"] == "Dropout":
        check_dict(layer, where, ("type", "rate"))
        rate = layer["rate"]
        expect(is_number(rate) and 0 <= rate < 1, f"{where}.rate", rate, "a number in [0, 1)")
        return 0
    check_dict(
        layer,
        where,
        ("type", "n_in", "n_out", "activation"),
        ("train_weights", "train_biases", "input_scale"),
    )
    for key in ("n_in", "n_out"):
        width = layer[key]
        expect(
            is_int(width) and 1 <= width <= MAX_WIDTH,
            f"{where}.{key}",
            width,
            f"an integer in [1, {MAX_WIDTH}]",
        )
    _check_named(layer["activation"], f"{where}.activation")
    for key in ("train_weights", "train_biases"):
        if key in layer:
            expect(isinstance(layer[key], bool), f"{where}.{key}", layer[key], "true or false")
    scale, allowed = layer.get("input_scale"), CONSTRAINTS["input_scale"]
    expect(
        scale is None or (is_finite_number(scale) and allowed.holds(scale)),
        f"{where}.input_scale",
        scale,
        str(allowed),
    )
    scales = 0 if scale is None else layer["n_in"]
    return layer["n_in"] * layer["n_out"] + layer["n_out"] + scales


def _check_embedding(layer: dict, where: str) -> int:
    """Check an Embedding layer's config (its groups disjoint, increasing, inside ``n_in``);
    return its number of parameters."""
    check_dict(layer, where, ("type", "n_in", "groups", "width"))
    limits = {"n_in": MAX_WIDTH, "width": CONSTRAINTS["embedding_size"].high}
    for key, most in limits.items():
        expect(
            is_int(layer[key]) and 1 <= layer[key] <= most,
            f"{where}.{key}",
            layer[key],
            f"an integer in [1, {most}]",
        )
    groups, end, grouped = layer["groups"], 0, 0
    expect(isinstance(groups, list), f"{where}.groups", groups, "a list of [start, stop] pairs")
    for i, group in enumerate(groups):
        fits = isinstance(group, list) and len(group) == 2 and all(is_int(v) for v in group)
        fits = fits and end <= group[0] < group[1] <= layer["n_in"]
        expect(
            fits,
            f"{where}.groups[{i}]",
            group,
            f"[start, stop] with {end} <= start < stop <= {layer['n_in']} (disjoint, increasing)",
        )
        end, grouped = group[1], grouped + group[1] - group[0]
    return grouped * layer["width"]


def _check_embedding_place(layers: list, where: str) -> None:
    """An Embedding comes only first, and the Dense layer after it takes its outputs: checked
    before a layer is built, so that the inputs an Embedding passes through are paid for by
    that Dense layer's weights in the file (the Embedding's own work and memory are linear in
    its inputs and parameters: see its Notes)."""
    for i, layer in enumerate(layers[1:], start=1):
        expect(
            layer["type"] != "Embedding",
            f"{where}[{i}].type",
            layer["type"],
            "'Dense' or 'Dropout' (an Embedding comes only first)",
        )
    first = layers[0]
    if first["type"] != "Embedding":
        return
    grouped = sum(stop - start for start, stop in first["groups"])
    n_out = first["n_in"] - grouped + len(first["groups"]) * first["width"]
    dense = [i for i, layer in enumerate(layers) if layer["type"] == "Dense"]
    expect(bool(dense), f"{where}", "no Dense layer", "a Dense layer after the Embedding")
    n_in = layers[dense[0]]["n_in"]
    expect(
        n_in == n_out,
        f"{where}[{dense[0]}].n_in",
        n_in,
        f"{n_out}, the outputs of the Embedding before it",
    )


def check_config(config, where: str = "config") -> int:
    """Check a network's config (see ``Network.config``); return its number of parameters.

    The L2 penalty is ``l2``, or ``alpha`` in files written before it was renamed (read as
    ``l2``, without a warning); not both.
    """
    check_dict(config, where, ("layers", "loss"), ("l2", "alpha", "l1", "dtype"))
    expect(
        not ("l2" in config and "alpha" in config),
        f"{where}.alpha",
        "present",
        "absent when l2 is given (alpha is the old name of l2)",
    )
    layers = config["layers"]
    expect(
        isinstance(layers, list) and 1 <= len(layers) <= MAX_LAYERS,
        f"{where}.layers",
        layers,
        f"a list of 1 to {MAX_LAYERS} layers",
    )
    n_params = sum(_check_layer(layer, f"{where}.layers[{i}]") for i, layer in enumerate(layers))
    _check_embedding_place(layers, f"{where}.layers")
    _check_named(config["loss"], f"{where}.loss")
    for key in ("l2", "alpha", "l1"):
        if key in config:
            value = config[key]
            expect(
                is_finite_number(value) and value >= 0,
                f"{where}.{key}",
                value,
                "a finite number >= 0",
            )
    if "dtype" in config:
        expect(
            config["dtype"] in ("float32", "float64"),
            f"{where}.dtype",
            config["dtype"],
            "'float32' or 'float64'",
        )
    return n_params


def check_history(history, where: str = "history") -> None:
    """Check a training history (see ``History.to_dict``)."""
    if history is None:
        return
    check_dict(history, where, ("history", "epoch"), ("stop_reason", "stopped_by"))
    epochs = history["epoch"]
    expect(
        isinstance(epochs, list) and all(is_int(e) and e >= 0 for e in epochs),
        f"{where}.epoch",
        epochs,
        "a list of integers >= 0",
    )
    records = history["history"]
    expect(isinstance(records, dict), f"{where}.history", records, "an object")
    for key, values in records.items():
        expect(
            isinstance(values, list)
            and len(values) == len(epochs)
            and all(is_number(v) for v in values),
            f"{where}.history.{key}",
            values,
            f"a list of {len(epochs)} numbers, one per epoch",
        )
    for key in ("stop_reason", "stopped_by"):
        value = history.get(key)
        expect(value is None or isinstance(value, str), f"{where}.{key}", value, "a string or null")


def check_columns(columns, where: str, kinds) -> None:
    """A table model's stored column transformations: ``[{name, kind, categories, fill}]``,
    a name, a kind from ``kinds``, distinct text categories (none for a numeric column) and a
    fill value that is null, a finite number (numeric) or one of the categories; a categorical
    column may add ``infrequent``, distinct text labels that are not among its categories (then
    its categories may be none, and its fill one of the infrequent)."""
    expect(isinstance(columns, list), where, columns, "a list")
    for i, column in enumerate(columns):
        at = f"{where}[{i}]"
        check_dict(column, at, ("name", "kind", "categories", "fill"), ("infrequent",))
        expect(isinstance(column["name"], str), f"{at}.name", column["name"], "a column name")
        expect(column["kind"] in kinds, f"{at}.kind", column["kind"], f"one of {', '.join(kinds)}")
        categories, fill = column["categories"], column["fill"]
        if column["kind"] == "numeric":
            expect(categories == [], f"{at}.categories", categories, "[] for a numeric column")
            expect("infrequent" not in column, f"{at}.infrequent", "present", "absent (numeric)")
            expect(
                fill is None or is_finite_number(fill),
                f"{at}.fill",
                fill,
                "null or a finite number",
            )
        else:
            _check_categorical(column, at)


def _check_categorical(column: dict, at: str) -> None:
    """A categorical column's ``categories`` and optional ``infrequent`` (those sharing one
    input): distinct text labels, none in both, at least one in all; its ``fill`` null or one
    of them."""
    categories, fill = column["categories"], column["fill"]
    infrequent = column.get("infrequent", [])

    def labels(value, nonempty) -> bool:
        return (
            isinstance(value, list)
            and (bool(value) or not nonempty)
            and all(isinstance(c, str) for c in value)
            and len(set(value)) == len(value)
        )

    pooled = "infrequent" in column
    if pooled:
        at_least = "distinct text labels (at least one)"
        expect(labels(infrequent, True), f"{at}.infrequent", infrequent, at_least)
    expect(
        labels(categories, not pooled) and not set(infrequent) & set(categories),
        f"{at}.categories",
        categories,
        "distinct text labels, none of them infrequent"
        if pooled
        else "distinct text labels (at least one)",
    )
    known = fill is None or fill in categories or fill in infrequent
    expect(known, f"{at}.fill", fill, "null or a category")
