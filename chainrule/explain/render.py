"""Pure renderers: a trace (and optional step table and claim results) to text, Markdown with
LaTeX math, LaTeX, or JSON. Nothing here computes; it only formats what the trace holds.

A spec file's title and names are text from a file, shown as they are except for what would
act instead of showing: control characters and bidi controls are written as visible escapes in
text and Markdown (:func:`~chainrule.core.terminal.printable`) and as JSON escapes in JSON; in
LaTeX (and Markdown's math) a name's special characters are escaped too (:func:`latex_name`), so
that no name ends a formula, a comment or a line; in Markdown's text a title, a name or a claim
starts no markup and no HTML (:func:`markdown_text`)."""

from __future__ import annotations

import json
import re

from ..core.terminal import CONTROLS, printable, printable_json

__all__ = [
    "RENDERERS",
    "SECTIONS",
    "formula_text",
    "json_text",
    "latex_name",
    "number_text",
    "operator_latex",
    "render_json",
    "render_latex",
    "render_markdown",
    "render_text",
    "results_markdown",
    "results_text",
    "steps_latex",
    "steps_markdown",
    "steps_text",
    "substitution_text",
    "symbol_latex",
    "verdict_text",
]

SECTIONS = [
    ("forward", "Forward pass"),
    ("error", "Error"),
    ("backward", "Backward pass (chain rule)"),
    ("update", "Updates"),
    ("forward+", "Forward pass with the updated parameters"),
    ("error+", "New error"),
    ("steps", "Further optimizer steps"),
]

_RULES = {
    "sgd": "w+ = w - eta*dE/dw",
    "momentum": "momentum (torch.optim.SGD): v = dE/dw at the first step, then v = mu*v + dE/dw; "
    "w+ = w - eta*v",
    "nesterov": "Nesterov momentum (torch.optim.SGD): v as for momentum; "
    "w+ = w - eta*(dE/dw + mu*v)",
    "adam": "Adam (torch.optim.Adam): m = beta1*m + (1 - beta1)*g, v = beta2*v + (1 - beta2)*g^2, "
    "mhat = m/(1 - beta1^t), vhat = v/(1 - beta2^t), w+ = w - eta*mhat/(sqrt(vhat) + eps)",
}


def _rates(trace, values, digits) -> list[tuple[str, str]]:
    """``(symbol, number)`` of the learning rate and the optimizer's other settings."""
    names = ["eta"] + [s for s in ("mu", "beta1", "beta2", "eps") if s in trace]
    return [(name, number_text(values[name], digits)) for name in names]


_GREEK = {
    "eta": r"\eta",
    "ΔE": r"\Delta E",
    "delta": r"\delta",
    "mu": r"\mu",
    "beta": r"\beta",
    "beta1": r"\beta_{1}",
    "beta2": r"\beta_{2}",
    "eps": r"\epsilon",
    "alpha": r"\alpha",
}
_FUNCTIONS = {
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "log": r"\log",
    "relu": r"\mathrm{relu}",
    "leaky_relu": r"\mathrm{leaky\_relu}",
    "elu": r"\mathrm{elu}",
    "softplus": r"\mathrm{softplus}",
    "gelu": r"\mathrm{gelu}",
    "identity": r"\mathrm{id}",
    "sign": r"\operatorname{sign}",
    "exp": r"\exp",
    "sqrt": r"\operatorname{sqrt}",
    "clip": r"\operatorname{clip}",
}


def number_text(value: float, digits: int) -> str:
    text = f"{value + 0.0:.{digits}g}"  # + 0.0: a zero is 0, never -0
    return f"({text})" if value < 0 else text


def _join(pieces: list[tuple[str, str]]) -> str:
    """Join rendered tokens; lone + and - operators get spaces around them, and a negative
    number that is a function's whole argument keeps one pair of brackets: ``f(-0.5)``."""
    out = []
    for kind, text in pieces:
        lone = kind == "o" and text in ("+", "-") and bool(out)  # a leading minus stays tight
        out.append(f" {text} " if lone else text)
    return re.sub(r"\(\((-[^()]+)\)\)", r"(\1)", "".join(out))


def formula_text(tokens: list) -> str:
    """The right-hand side in symbols: ``x1*w1 + x2*w3 + 1*b1``."""
    return _join([(k, v if k != "n" else number_text(v, 9)) for k, v in tokens])


def substitution_text(tokens: list, values: dict, digits: int) -> str:
    """The right-hand side with numbers: ``0.05*0.15 + 0.1*0.25 + 1*0.4``."""
    return _join(
        [
            ("n", number_text(values[v], digits))
            if k == "s"
            else (k, number_text(v, digits) if k == "n" else v)
            for k, v in tokens
        ]
    )


_LATEX_MATH = {
    "\\": r"\backslash ",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "%": r"\%",
    "#": r"\#",
    "&": r"\&",
    "^": r"\hat{}",
    "~": r"\sim ",
    " ": r"\ ",  # a space shows (math drops it), and no name holds the " = " rows align on
}
_LATEX_SPECIAL = re.compile(rf"[{re.escape(''.join(_LATEX_MATH))}]|{CONTROLS.pattern}")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def markdown_text(text: str) -> str:
    """``text`` shown as written in Markdown: its punctuation backslash-escaped (a ``|`` does
    not end a table cell, a backtick or ``*`` starts no code or emphasis, a ``$`` no math)
    and ``&``, ``<``, ``>`` as HTML entities, so that no tag or comment in a title or a name
    reaches a renderer that passes HTML through (Jupyter, GitHub strip some, not all)."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
    return re.sub("[&<>]", lambda m: _HTML[m.group()], escaped)


def markdown_code(text: str) -> str:
    """``text`` as a Markdown code span, shown as written: fenced by one more backtick than its
    longest run of them (padded where it starts or ends with one), a ``|`` escaped so that it
    ends no table cell (GitHub's tables read ``\\|`` in a code span as ``|``); a code span
    holds no markup and no HTML."""
    text = str(text).replace("|", "\\|")
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def latex_name(text: str) -> str:
    """A name from a spec file as LaTeX math: ``\\``, braces, ``$``, ``%``, ``#``, ``&``, ``^``,
    ``~`` and spaces escaped (in math mode, as MathJax and KaTeX read it too), and a control
    character written as its visible escape (``\\backslash x1b``); ``_`` stays a subscript."""
    return _LATEX_SPECIAL.sub(
        lambda m: _LATEX_MATH.get(m.group()) or r"\backslash " + printable(m.group())[1:], text
    )


def _base_latex(base: str) -> str:
    """A symbol's base as one LaTeX symbol: ``yhat`` -> ``\\hat{y}``, ``beta`` -> ``\\beta``,
    ``out`` -> ``\\mathrm{out}`` (never the italic product o*u*t)."""
    if base in _GREEK:
        return _GREEK[base]
    hat = re.fullmatch(r"([A-Za-z]+?)_?hat", base)
    if hat:
        return rf"\hat{{{_base_latex(hat.group(1))}}}"
    if len(base) > 1:
        return rf"\mathrm{{{latex_name(base)}}}"
    return latex_name(base)


def symbol_latex(symbol: str) -> str:
    """``dE/dw5`` -> ``\\frac{\\partial E}{\\partial w_{5}}``, ``z1+`` -> ``z_{1}^{+}``,
    ``yhat1`` -> ``\\hat{y}_{1}``; a sample ``z1[2]`` -> ``z_{1}^{(2)}``, a step ``w5@2`` ->
    ``w_{5}^{(t=2)}``."""
    if symbol in _GREEK:
        return _GREEK[symbol]
    marks = []
    tagged = re.fullmatch(r"(.+?)(?:\[(\d+)\])?(?:@(\d+))?", symbol, flags=re.DOTALL)
    core, sample, step = tagged.groups()
    if sample:
        marks.append(f"({sample})")
    if step:
        marks.append(f"(t={step})")
    if "/" in core and core.startswith("d"):
        top, bottom = core.split("/", 1)
        text = rf"\frac{{\partial {symbol_latex(top[1:])}}}{{\partial {symbol_latex(bottom[1:])}}}"
        return text + (f"^{{{','.join(marks)}}}" if marks else "")
    if core.endswith("+"):
        core = core[:-1]
        marks.insert(0, "+")
    if "_" in core and not re.fullmatch(r"[A-Za-z]+_hat\d*", core):
        base, sub = core.split("_", 1)
    else:
        match = re.fullmatch(r"([A-Za-z_]+?)(\d+)", core)
        base, sub = (match.group(1), match.group(2)) if match else (core, "")
    text = f"{_base_latex(base)}_{{{latex_name(sub)}}}" if sub else _base_latex(base)
    return text + (f"^{{{','.join(marks)}}}" if marks else "")


def operator_latex(text: str) -> str:
    for name, latex in sorted(_FUNCTIONS.items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"\b{name}\b", lambda m, latex=latex: latex, text)
    text = text.replace("1/2*", r"\tfrac{1}{2}").replace("*", r" \cdot ")
    return re.sub(r"\((\d+)/(\d+)\)", r"\\tfrac{\1}{\2}", text)


def _latex_tokens(tokens: list, values: dict | None, digits: int) -> str:
    pieces = []
    for kind, value in tokens:
        if kind == "s":
            pieces.append(
                ("n", number_text(values[value], digits))
                if values is not None
                else ("s", symbol_latex(value))
            )
        elif kind == "n":
            pieces.append(("n", number_text(value, digits)))
        else:
            pieces.append(("o", operator_latex(value)))
    return _join(pieces)


def _sections(trace):
    """``(section, heading, quantities)`` for every section that holds quantities."""
    for section, heading in SECTIONS:
        quantities = trace.section(section)
        if quantities:
            yield section, heading, quantities


def render_text(trace, digits: int = 9, steps=None, results=None) -> str:
    """Plain text, one quantity a line: ``symbol = formula = numbers = value``."""
    values = trace.shown_values()
    title = printable(trace.spec.title)
    out = [title, "=" * len(title)]
    for section, heading, quantities in _sections(trace):
        out += ["", heading, "-" * len(heading)]
        if section == "update":
            out.append(f"learning rate eta = {number_text(values['eta'], digits)}")
            if trace.spec.optimizer.name != "sgd":
                out.append(_RULES[trace.spec.optimizer.name])
                out.append(
                    ", ".join(f"{n} = {text}" for n, text in _rates(trace, values, digits)[1:])
                )
        for q in quantities:
            parts = [
                q.symbol,
                formula_text(q.formula),
                substitution_text(q.formula, values, digits),
                number_text(values[q.symbol], digits),
            ]
            out.append(" = ".join(_distinct(parts)))
            if q.simplified:
                shortcut = [
                    formula_text(q.simplified),
                    substitution_text(q.simplified, values, digits),
                    number_text(values[q.symbol], digits),
                ]
                out.append(f"    = {' = '.join(shortcut)}  ({q.meta['simplified_note']})")
            if q.note:
                out.append(f"    ({q.note})")
    out += steps_text(steps, digits) + results_text(results)
    return "\n".join(map(printable, out)) + "\n"  # names from the file: each stays one line


def steps_text(steps, digits) -> list[str]:
    if not steps:
        return []
    out = ["", f"Training for {steps.total} steps", "-" * 24, f"{'step':>8}  {'E':>16}"]
    out += [f"{step:>8}  {error:>16.{digits}g}" for step, error in steps.rows]
    out.append(
        "outputs after the last step: "
        + ", ".join(f"{name} = {value:.{digits}g}" for name, value in steps.outputs.items())
    )
    return out


def results_text(results) -> list[str]:
    if not results:
        return []
    return ["", "Your numbers", "------------"] + [verdict_text(r) for r in results]


def verdict_text(result) -> str:
    """One claim's verdict as one line, ``WRONG y1 = 0.5: you wrote ...``, its name and
    numbers as the file wrote them but for control characters (shown as escapes)."""
    return printable(f"{result.mark} {result.name} = {result.claimed}: {result.diagnosis}")


def render_markdown(trace, digits: int = 9, steps=None, results=None) -> str:
    """Markdown with ``$$ ... $$`` LaTeX math (renders on GitHub and in Jupyter)."""
    values = trace.shown_values()
    out = [f"# {markdown_text(trace.spec.title)}"]
    for section, heading, quantities in _sections(trace):
        out += ["", f"## {heading}", ""]
        if section == "update":
            out += [rf"Learning rate $\eta = {number_text(values['eta'], digits)}$.", ""]
            if trace.spec.optimizer.name != "sgd":
                settings = ", ".join(
                    f"${symbol_latex(n)} = {text}$" for n, text in _rates(trace, values, digits)[1:]
                )
                out += [f"Update rule: {_RULES[trace.spec.optimizer.name]}; {settings}.", ""]
        for q in quantities:
            out += [f"$${_equation_latex(q, values, digits)}$$", ""]
            if q.simplified:
                out += [f"$${_shortcut_latex(q, values, digits)}$$", ""]
                out += [f"*{q.meta['simplified_note']}*", ""]
            if q.note:
                out += [f"*{q.note}*", ""]
    out += steps_markdown(steps, digits) + results_markdown(results, digits)
    return "\n".join(map(printable, out)) + "\n"


def steps_markdown(steps, digits) -> list[str]:
    """The step table as Markdown lines (none without steps)."""
    if not steps:
        return []
    out = ["", f"## Training for {steps.total} steps", "", "| step | E |", "|---:|---:|"]
    return out + [f"| {step} | {error:.{digits}g} |" for step, error in steps.rows]


def results_markdown(results, digits) -> list[str]:
    """The verdicts on the claims as a Markdown table (none without claims)."""
    if not results:
        return []
    out = ["", "## Your numbers", "", "| | quantity | yours | correct | diagnosis |"]
    out.append("|---|---|---:|---:|---|")
    return out + [
        f"| {'✓' if r.ok else '✗'} | {markdown_code(r.name)} | {markdown_text(r.claimed)} | "
        f"{r.correct:.{digits}g} | {markdown_text(r.diagnosis)} |"
        for r in results
    ]


def _distinct(parts: list[str]) -> list[str]:
    """Drop a step that only repeats the one before it (``dz3/db3 = 1``, not ``= 1 = 1``)."""
    return [part for i, part in enumerate(parts) if i == 0 or part != parts[i - 1]]


def _equation_latex(q, values, digits) -> str:
    return " = ".join(
        _distinct(
            [
                symbol_latex(q.symbol),
                _latex_tokens(q.formula, None, digits),
                _latex_tokens(q.formula, values, digits),
                number_text(values[q.symbol], digits),
            ]
        )
    )


def _shortcut_latex(q, values, digits) -> str:
    """The textbook shortcut for the same quantity: ``= y_2 - t_2 = ... = value``."""
    return " = ".join(
        [
            symbol_latex(q.symbol),
            _latex_tokens(q.simplified, None, digits),
            _latex_tokens(q.simplified, values, digits),
            number_text(values[q.symbol], digits),
        ]
    )


def render_latex(trace, digits: int = 9, steps=None, results=None) -> str:
    """A LaTeX fragment: one ``align*`` environment per section."""
    values = trace.shown_values()
    out = [f"% {printable(trace.spec.title)}"]  # one line: a line break would end the comment
    for _, heading, quantities in _sections(trace):
        out += [f"\\paragraph{{{heading}}}", r"\begin{align*}"]
        rows = []
        for q in quantities:
            rows.append(_equation_latex(q, values, digits).replace(" = ", " &= ", 1))
            if q.simplified:
                rows.append(_shortcut_latex(q, values, digits).replace(" = ", " &= ", 1))
        out.append(" \\\\\n".join(rows))
        out.append(r"\end{align*}")
    return "\n".join(out + steps_latex(steps, digits)) + "\n"


def steps_latex(steps, digits) -> list[str]:
    """The step table as a LaTeX tabular (none without steps)."""
    if not steps:
        return []
    out = [r"\paragraph{Training}", r"\begin{tabular}{rr}", r"step & $E$ \\ \hline"]
    out += [f"{step} & {error:.{digits}g} \\\\" for step, error in steps.rows]
    return out + [r"\end{tabular}"]


def render_json(trace, digits: int = 9, steps=None, results=None) -> str:
    """Every quantity with its formula, numbers and value; the step table; claim results."""
    values = trace.shown_values()
    document = {
        "title": trace.spec.title,
        "quantities": [
            {
                "symbol": q.symbol,
                "section": q.section,
                "kind": q.kind,
                "formula": formula_text(q.formula) if q.formula else None,
                "numbers": substitution_text(q.formula, values, digits) if q.formula else None,
                "value": values[q.symbol],
                "note": q.note or None,
                **(
                    {
                        "simplified": {
                            "formula": formula_text(q.simplified),
                            "numbers": substitution_text(q.simplified, values, digits),
                            "note": q.meta["simplified_note"],
                        }
                    }
                    if q.simplified
                    else {}
                ),
            }
            for q in trace.quantities.values()
        ],
    }
    return json_text(document, steps, results)


def json_text(document: dict, steps=None, results=None) -> str:
    """``document`` with the step table (``steps``) and the claims' verdicts (``claims``)
    added, as indented JSON."""
    if steps:
        document["steps"] = {
            "total": steps.total,
            "rows": [{"step": s, "E": e} for s, e in steps.rows],
            "outputs": steps.outputs,
        }
    if results is not None:
        document["claims"] = [r.to_dict() for r in results]
    return printable_json(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


RENDERERS = {
    "text": render_text,
    "markdown": render_markdown,
    "latex": render_latex,
    "json": render_json,
}
