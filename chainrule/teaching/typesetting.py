"""Typst: markup and math from chainrule's numbers and a file's names, and PDFs through the
``typst`` package (the ``teaching`` extra; no TeX installation).

Every text that comes from a file (a title, a name, an id, a neuron's symbol) is written as a
Typst *string literal* (:func:`typst_string`): in markup ``#"...";`` (the semicolon ends the
expression, so that no ``(``, ``[`` or ``.`` after it continues it), in math ``"..."``. Inside
a string literal only ``\\`` and ``"`` act, and both are escaped, as is every control
character: no name can start markup, math, a function call or a file read. The compiler's
root is an empty temporary folder besides, so that a document could read no file anyway.
"""

from __future__ import annotations

import re
import tempfile

from ..core.extras import install_hint

__all__ = [
    "compile_pdf",
    "compile_png",
    "number_typst",
    "operator_typst",
    "require_typst",
    "symbol_typst",
    "tokens_typst",
    "typst_string",
    "typst_text",
]


def require_typst():
    """The ``typst`` module, or an ImportError of one line saying how to install it."""
    try:
        import typst
    except ImportError:
        raise ImportError(
            f"PDF sheets and keys need the typst package: {install_hint('teaching')}"
        ) from None
    return typst


def typst_string(text: str) -> str:
    """``text`` as a Typst string literal: ``\\`` and ``"`` escaped, every character that is
    not printable (line breaks, NUL, bidi controls) as a ``\\u{...}`` escape."""
    escaped = (
        "\\" + c if c in '"\\' else c if c.isprintable() else f"\\u{{{ord(c):x}}}"
        for c in str(text)
    )
    return '"' + "".join(escaped) + '"'


def typst_text(text: str) -> str:
    """``text`` shown as written in Typst markup: ``#"...";``."""
    return f"#{typst_string(text)};"


def _compile(source: str, **options) -> bytes:
    typst = require_typst()
    with tempfile.TemporaryDirectory() as root:  # nothing to read: the document reads no file
        try:
            return typst.compile(
                source.encode("utf-8"), root=root, ignore_system_fonts=True, **options
            )
        except typst.TypstError as error:  # a bug here, never the user's: say what failed
            raise RuntimeError(f"Typst could not compile a document: {error.message}") from None


def compile_pdf(source: str) -> bytes:
    """The PDF of a Typst document (its fonts are Typst's own, the same on every machine)."""
    return _compile(source, format="pdf")


def compile_png(source: str, ppi: float = 110) -> list[bytes]:
    """Each page of a Typst document as a PNG image."""
    pages = _compile(source, format="png", ppi=ppi)
    return [pages] if isinstance(pages, bytes) else list(pages)


# -- math -------------------------------------------------------------------------------------

_GREEK = {
    "eta": "eta",
    "ΔE": "Delta E",
    "delta": "delta",
    "mu": "mu",
    "beta": "beta",
    "beta1": "beta_1",
    "beta2": "beta_2",
    "eps": "epsilon",
    "alpha": "alpha",
}


def number_typst(value: float, digits: int) -> str:
    """A number in Typst math: ``0.0436``, ``(-0.5)`` (bracketed, as the text renderer does),
    ``1.5 times 10^(-8)``."""
    text = f"{value + 0.0:.{digits}g}"
    mantissa, _, exponent = text.partition("e")
    if exponent:
        text = f"{mantissa} times 10^({int(exponent)})"
    return f"({text})" if value < 0 else text


def _base_typst(base: str) -> str:
    if base in _GREEK:
        return _GREEK[base]
    hat = re.fullmatch(r"([A-Za-z]+?)_?hat", base)
    if hat:
        return f"hat({_base_typst(hat.group(1))})"
    if len(base) == 1 and base.isascii() and base.isalpha():
        return base
    return f"upright({typst_string(base)})"


def _subscript(sub: str) -> str:
    return f"_{sub}" if sub.isdigit() and sub.isascii() else f"_({typst_string(sub)})"


def symbol_typst(symbol: str) -> str:
    """A quantity's name in Typst math: ``dE/dw5`` -> ``frac(partial E, partial w_5)``, ``z1+``
    -> ``z_1^(+)``, a sample ``z1[2]`` -> ``z_1^((2))``, a step ``w5@2`` -> ``w_5^((t=2))``;
    any other character of a name is written in a string literal."""
    if symbol in _GREEK:
        return _GREEK[symbol]
    core, sample, step = re.fullmatch(
        r"(.+?)(?:\[(\d+)\])?(?:@(\d+))?", symbol, flags=re.DOTALL
    ).groups()
    marks = [f"({sample})"] * bool(sample) + [f"(t={step})"] * bool(step)
    if "/" in core and core.startswith("d"):
        top, bottom = core.split("/", 1)
        text = f"frac(partial {symbol_typst(top[1:])}, partial {symbol_typst(bottom[1:])})"
        return text + (f"^({','.join(marks)})" if marks else "")
    if core.endswith("+") and len(core) > 1:
        core, marks = core[:-1], ["+", *marks]
    if "_" in core and not re.fullmatch(r"[A-Za-z]+_hat\d*", core):
        base, sub = core.split("_", 1)
    else:
        match = re.fullmatch(r"([A-Za-z_]+?)(\d+)", core)
        base, sub = (match.group(1), match.group(2)) if match else (core, "")
    text = _base_typst(base) + (_subscript(sub) if sub else "")
    return text + (f"^({','.join(marks)})" if marks else "")


_FUNCTIONS = {"sigmoid": "sigma", "tanh": "tanh", "log": "log", "exp": "exp", "sqrt": "sqrt"}
_OPERATOR = re.compile(
    r"(?P<frac>\(?(?P<num>\d+)/(?P<den>\d+)\)?)"
    r"|(?P<huber>huber_(?P<delta>[0-9.e+-]+?)\()"
    r"|(?P<function>[A-Za-z_]+)(?P<prime>'?)\("
    r"|(?P<times>\*)"
    r"|(?P<slash>/)"
    r"|(?P<plain>\d+(?:\.\d+)?|[-+()|,^=]|\s+)"
    r"|(?P<other>.)",
    flags=re.DOTALL,
)


def _operator_piece(match: re.Match) -> str:
    if match["frac"]:
        return f" frac({match['num']}, {match['den']}) "
    if match["huber"]:
        return f' "huber"_({typst_string(match["delta"])}) ('
    if match["function"]:
        name = match["function"]
        shown = _FUNCTIONS.get(name) or typst_string(name)
        return f" {shown}{match['prime']}("
    if match["times"]:
        return " dot "
    if match["slash"]:
        return " \\/ "
    if match["plain"]:
        return match["plain"]
    return f" {typst_string(match['other'])} "


def operator_typst(text: str) -> str:
    """An operator token of a formula (``*``, ``sigmoid(``, ``(1/2)*(``, ``)^2``) in Typst
    math; a token of words (``E at the parameters after step 2``) as upright text."""
    if re.search(r"[A-Za-z]{2,}\s+[A-Za-z]", text):
        return f" {typst_string(text)} "
    return "".join(_operator_piece(m) for m in _OPERATOR.finditer(text))


def tokens_typst(tokens: list, values: dict | None, digits: int) -> str:
    """A formula's tokens in Typst math: symbols, or their numbers when ``values`` is given."""
    pieces = []
    for kind, value in tokens:
        if kind == "s":
            pieces.append(
                number_typst(values[value], digits) if values is not None else symbol_typst(value)
            )
        elif kind == "n":
            pieces.append(number_typst(value, digits))
        else:
            pieces.append(operator_typst(value))
    text = re.sub(r"\s+", " ", " ".join(pieces)).replace(" ^", "^").strip()
    # a negative number that is a function's whole argument keeps one pair of brackets
    return re.sub(r"\( ?\((-[^()]+)\) ?\)", r"(\1)", text)
