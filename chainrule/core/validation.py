"""Checks made once, at the public boundary.

Every message names the argument, the value received and what was expected, so that the command
line can print it as one clear line.
"""

from __future__ import annotations

import errno
import math
import numbers
import os
import stat
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CONSTRAINTS",
    "FLOAT_DTYPES",
    "Interval",
    "as_dtype",
    "check_finite",
    "check_int",
    "check_matrix",
    "check_plain_array",
    "check_real",
    "check_sample_weight",
    "not_a_file",
    "os_reason",
]

FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}


def as_dtype(dtype) -> np.dtype:
    """Return the NumPy dtype for ``'float32'``/``'float64'`` (or the types themselves)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.type not in (np.float32, np.float64):
        raise ValueError(f"'dtype' must be 'float32' or 'float64', got {dtype!r}")
    return resolved


def check_real(value, name: str, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a float after checking it is a real number within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name!r} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name!r} must be finite, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name!r} must be a float in {left}{lo}, {hi}{right}, got {value!r}")
    return value


def check_int(value, name: str, *, low=None, high=None) -> int:
    """Return ``value`` as an int after checking it is an integer ``>= low`` (and ``<= high``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name!r} must be an integer, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name!r} must be an integer >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name!r} must be an integer <= {high}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Interval:
    """The numbers an option takes, as scikit-learn's ``Interval`` constraint: integers
    (``kind=int``) or finite reals (``kind=float``) from ``low`` to ``high`` (None: unbounded),
    each end included unless ``low_open``/``high_open``; ``none`` also allows None.

    One constraint serves every surface: :meth:`check` for a Python argument (TypeError or
    ValueError naming it), :meth:`parse` for text (a command-line flag, a playground field),
    and ``str()`` for what a message says is expected.
    """

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none: bool = False

    def check(self, value, name: str):
        """``value`` as an int or float, after checking it; raises naming ``name``."""
        if value is None and self.none:
            return None
        if self.kind is int:
            return check_int(value, name, low=self.low, high=self.high)
        bounds = {"low_open": self.low_open, "high_open": self.high_open}
        return check_real(value, name, low=self.low, high=self.high, **bounds)

    def parse(self, text: str):
        """The value that ``text`` spells; ValueError ``expected <this>, got <text>``."""
        try:
            value = int(text) if self.kind is int else float(text)
        except (TypeError, ValueError):
            value = None
        if value is None or not self.holds(value):
            raise ValueError(f"expected {self}, got {text!r}")
        return value

    def holds(self, value) -> bool:
        """True when the number ``value`` is within the bounds (and finite)."""
        if not math.isfinite(value):
            return False
        low, high = self.low, self.high
        above = low is None or (value > low if self.low_open else value >= low)
        below = high is None or (value < high if self.high_open else value <= high)
        return above and below

    def __str__(self) -> str:
        """``'a whole number >= 1'``, ``'a number > 0 and <= 10'``..."""
        rules = []
        if self.low is not None:
            rules.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            rules.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        kind = "a whole number" if self.kind is int else "a number"
        return " ".join([kind, " and ".join(rules)]).strip()


def check_auto(value, name: str, constraint: Interval):
    """``value`` as an option that takes ``'auto'``, None (where ``constraint.none``) or a number
    that ``constraint`` holds; a ValueError or TypeError naming ``name`` and all three
    otherwise: ``'patience' must be 'auto', None or a whole number >= 1, got 0``."""
    if (value is None and constraint.none) or (isinstance(value, str) and value == "auto"):
        return value
    none = "None or " if constraint.none else ""
    expected = f"{name!r} must be 'auto', {none}{constraint}, got {value!r}"
    if isinstance(value, str):
        raise ValueError(expected)
    try:
        return constraint.check(value, name)
    except (TypeError, ValueError) as error:
        raise type(error)(expected) from None


CONSTRAINTS = {
    "epochs": Interval(int, 1),
    "batch_size": Interval(int, 1, none=True),
    "learning_rate": Interval(float, 0.0, low_open=True),
    "validation_split": Interval(float, 0.0, 1.0, high_open=True),
    "dropout": Interval(float, 0.0, 1.0, high_open=True),
    "l1": Interval(float, 0.0),
    "l2": Interval(float, 0.0),
    "seed": Interval(int, 0, none=True),
    "log_every": Interval(int, 1),
    "checkpoint_every": Interval(int, 1),
    "patience": Interval(int, 1, none=True),
    # Dense's learned input scale s = c * u starts at u = 1/c: a range of c far from float32's
    # limits (a c of 1e-39 would start u at infinity)
    "input_scale": Interval(float, 1e-6, 1e6, none=True),
    "embedding_size": Interval(int, 1, 4096, none=True),
}
"""The numeric options of training, read by every surface that takes them: ``fit`` and the
optimizers (:meth:`Interval.check`), the command line's flags and the playground's fields
(:meth:`Interval.parse`, within their own tighter limits where they have them)."""


def check_plain_array(value, name: str) -> None:
    """Refuse masked arrays (their mask would be ignored) and complex numbers (their imaginary
    part would be dropped) with a TypeError, and text (even text of numbers) with a
    ValueError, each naming ``name``."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name!r} is a masked array, whose mask would be ignored; pass "
            f"{name}.filled(value) or drop the masked rows"
        )
    kind = getattr(value, "dtype", None)
    kind = kind.kind if isinstance(kind, np.dtype) else np.asarray(value).dtype.kind
    if kind == "c":
        raise TypeError(
            f"{name!r} holds complex numbers; pass real values (the imaginary part would be lost)"
        )
    if kind in "USV":
        raise ValueError(f"{name!r} must be a numeric array, got an array of text or bytes")


def check_matrix(X, name: str, dtype, *, n_columns: int | None = None) -> np.ndarray:
    """Return ``X`` as a 2-D, finite array of ``dtype``; a 1-D array is refused, not reshaped.

    Raises
    ------
    ValueError
        If ``X`` is not numeric, not 2-D, empty, has the wrong number of columns, holds
        NaN or infinity, or holds a value too large for ``dtype``.
    TypeError
        If ``X`` is a masked array or holds complex numbers.
    """
    check_plain_array(X, name)
    try:
        with np.errstate(over="ignore"):  # a value beyond dtype's range is reported below
            array = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name!r} must be a numeric array, got {type(X).__name__}: {error}"
        ) from None
    if array.ndim != 2:
        raise ValueError(
            f"{name!r} must be a 2-D array of shape (n_samples, n_features), "
            f"got an array of shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name!r} must hold at least one sample, got shape {array.shape}")
    if n_columns is not None and array.shape[1] != n_columns:
        raise ValueError(
            f"{name!r} must have {n_columns} columns, got an array of shape {array.shape}"
        )
    try:
        check_finite(array, name)
    except ValueError:
        original = np.asarray(X, dtype=np.float64)
        check_finite(original, name)  # NaN or infinity in the data itself
        position = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"{name!r} holds {original[position]:g} at index {position}, beyond the range of "
            f"{np.dtype(dtype).name} (+-{np.finfo(dtype).max:.4g}); rescale the data or use "
            "float64"
        ) from None
    return array


def check_finite(array: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming the first non-finite entry of ``array``.

    Large arrays are checked a block of rows at a time, so that no temporary as large as the
    data is made.
    """
    rows = max(1, 2**20 // max(1, array[0].size if array.ndim > 1 else 1))
    for start in range(0, array.shape[0] if array.ndim else 1, rows):
        block = array[start : start + rows] if array.ndim else array
        if not np.isfinite(block).all():
            position = tuple(int(i) for i in np.argwhere(~np.isfinite(block))[0])
            position = (position[0] + start, *position[1:]) if position else position
            raise ValueError(
                f"{name!r} must hold only finite values, got {array[position]} at index {position}"
            )


def check_sample_weight(sample_weight, n_samples: int, dtype) -> np.ndarray | None:
    """Return sample weights as a 1-D array of length ``n_samples`` (or None), each >= 0."""
    if sample_weight is None:
        return None
    check_plain_array(sample_weight, "sample_weight")
    try:
        weights = np.asarray(sample_weight, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"'sample_weight' must be an array of numbers >= 0, got "
            f"{type(sample_weight).__name__}: {error}"
        ) from None
    if weights.shape != (n_samples,):
        raise ValueError(
            f"'sample_weight' must have shape ({n_samples},), got shape {weights.shape}"
        )
    check_finite(weights, "sample_weight")
    if (weights < 0).any():
        raise ValueError(f"'sample_weight' must be >= 0, got {weights.min()}")
    if not weights.any():
        raise ValueError("'sample_weight' must hold at least one non-zero weight, got all zeros")
    return weights


def os_reason(error: OSError) -> str:
    """What went wrong in an OS error, in lower case for the middle of a sentence, without
    the file name the error may carry: ``'no space left on device'``."""
    return (error.strerror or str(error)).lower()


def not_a_file(path) -> str | None:
    """None when ``path`` is a regular file (or a link to one) that can be opened for reading;
    otherwise what it is, in words, for a message ``f"{path} is {...}"``: ``'missing'`` (no such
    file), a folder, a symbolic link that loops or leads nowhere, a pipe, socket or device
    (which could block or never end), or a file this user may not read."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return (
            "a symbolic link to a file that does not exist" if os.path.islink(path) else "missing"
        )
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symbolic link that loops back on itself, not a file"
        return f"not readable ({os_reason(error)})"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if not stat.S_ISREG(mode):
        kind = (
            "a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        )
        return f"{kind}, not a regular file (write its content to a file first)"
    if not os.access(path, os.R_OK):
        return "a file this user has no permission to read"
    return None
