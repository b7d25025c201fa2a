"""One table of constraints (chainrule.core.validation.CONSTRAINTS): fit, the optimizers and the
network, the command line's flags and the playground's fields accept and refuse the same values
of each training option (the playground within its own upper limits)."""

import argparse
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import build_parser
from chainrule.core.validation import CONSTRAINTS, Interval
from chainrule.playground.settings import SettingsError, parse_settings

TEXTS = ["-1", "0", "1e-9", "0.5", "1", "2", "7", "1.5", "nan", "inf", "-inf", "x", ""]


def _subcommand(name: str) -> argparse.ArgumentParser:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices[name]


def _flag_accepts(parser: argparse.ArgumentParser, flag: str, text: str) -> bool:
    action = next(a for a in parser._actions if flag in a.option_strings)
    try:
        action.type(text)
    except argparse.ArgumentTypeError:
        return False
    return True


def _python_accepts(name: str, text: str) -> bool:
    """Whether the Python API takes the number ``text`` spells (text that is no number of the
    option's kind is refused by every surface)."""
    try:
        value = int(text) if CONSTRAINTS[name].kind is int else float(text)
    except ValueError:
        return False
    try:
        CONSTRAINTS[name].check(value, name)
    except (TypeError, ValueError):
        return False
    return True


@pytest.mark.parametrize(
    "command, flag, name",
    [
        ("train", "--epochs", "epochs"),
        ("train", "--batch-size", "batch_size"),
        ("train", "--learning-rate", "learning_rate"),
        ("train", "--validation-split", "validation_split"),
        ("train", "--seed", "seed"),
        ("demo", "--learning-rate", "learning_rate"),
    ],
)
def test_a_flag_accepts_what_the_python_api_accepts(command, flag, name):
    parser = _subcommand(command)
    for text in TEXTS:
        assert _flag_accepts(parser, flag, text) == _python_accepts(name, text), (flag, text)


def test_fit_and_the_optimizers_check_against_the_table():
    """A value the table refuses is refused where the Python API takes it, with its name."""
    net = cr.MLP([2, 2, 1], seed=0)
    X, y = np.zeros((4, 2)), np.zeros(4)
    refused = {
        "epochs": 0,
        "batch_size": 0,
        "validation_split": 1.0,
        "log_every": 0,
        "checkpoint_every": 0,
        "seed": -1,
    }
    for name, value in refused.items():
        with pytest.raises(ValueError, match=f"'{name}' must be"):
            net.fit(X, y, verbose=0, **{name: value})
    for optimizer in (cr.optim.SGD, cr.optim.Adam, cr.optim.RMSprop, cr.optim.AdaGrad):
        with pytest.raises(ValueError, match="'learning_rate' must be a float in \\(0.0, inf\\]"):
            optimizer(learning_rate=0.0)
    for name in ("l1", "l2"):
        with pytest.raises(ValueError, match=f"'{name}' must be a float in \\[0.0, inf\\]"):
            cr.MLP([2, 1], **{name: -0.5})


@pytest.mark.parametrize(
    "field, name, limit",
    [("learning_rate", "learning_rate", 10.0), ("batch_size", "batch_size", 2000),
     ("l2", "l2", 10.0), ("seed", "seed", 2**32 - 1)],
)  # fmt: skip
def test_a_playground_field_accepts_what_the_table_accepts_within_its_limit(field, name, limit):
    for text in [*TEXTS, str(limit), str(limit + 1)]:
        try:
            parse_settings({field: text})
            accepted = True
        except SettingsError as error:
            assert set(error.fields) == {field}
            accepted = False
        within = _python_accepts(name, text) and float(text) <= limit
        assert accepted == within, (field, text)


def test_an_interval_says_what_it_expects():
    assert str(Interval(int, 1)) == "a whole number >= 1"
    assert str(Interval(float, 0.0, 10.0, low_open=True)) == "a number > 0 and <= 10"
    assert str(Interval(float, high=1.0, high_open=True)) == "a number < 1"
    assert str(Interval(float)) == "a number"
    with pytest.raises(ValueError, match="expected a number >= 0 and < 1, got '1'"):
        CONSTRAINTS["validation_split"].parse("1")
    assert CONSTRAINTS["validation_split"].parse("0.25") == 0.25
    assert not CONSTRAINTS["learning_rate"].holds(math.inf)
    assert CONSTRAINTS["batch_size"].check(None, "batch_size") is None
    with pytest.raises(TypeError, match="'epochs' must be an integer, got 2.0"):
        CONSTRAINTS["epochs"].check(2.0, "epochs")
    with pytest.raises(ValueError, match="'seed' must be an integer <= 9, got 10"):
        Interval(int, 0, 9).check(10, "seed")
