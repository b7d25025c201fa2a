"""The update step of a worked example written out, for plain gradient descent, momentum,
Nesterov momentum and Adam, over one or several steps.

The conventions are torch.optim's (and the engine's :mod:`chainrule.optim`), with ``g`` the
gradient ``dE/dw`` and ``t`` the step::

    sgd        w+ = w - eta g
    momentum   v = g (first step), v = mu v + g (later);       w+ = w - eta v
    nesterov   v as for momentum;                              w+ = w - eta (g + mu v)
    adam       m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2 (both start at 0)
               mhat = m / (1 - beta1^t),  vhat = v / (1 - beta2^t)
               w+ = w - eta mhat / (sqrt(vhat) + eps)

Step 1 uses the traced gradient ``dE/dw`` and gives ``w+`` (the parameters of the second
forward pass). Step ``k >= 2`` is written with ``@k``: the gradient ``g_w@k`` at the parameters
after step k - 1 (computed by the engine, not expanded again), the buffers ``v_w@k`` (or
``m_w@k``, ``v_w@k``, ``mhat_w@k``, ``vhat_w@k``), the parameter ``w@k`` and the error
``E@k`` after the step.

A fixed parameter (the spec's ``fixed`` or ``trained``) does not move: ``b1+ = b1`` and
``b1@k = b1@(k-1)`` (kind ``frozen``), and the quantities after the step are computed from
them, so that a person's numbers built on an updated fixed parameter can be followed.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .bridge import spec_network
from .formulas import O, S

__all__ = ["add_updates", "replayed_step"]

_RATES = {"momentum": ("mu",), "nesterov": ("mu",), "adam": ("beta1", "beta2", "eps")}


class _EngineGradients:
    """Loss and per-parameter gradients of the spec's network at given parameter values, from
    the engine (the sum over a shared parameter's uses; a sum reduction scales by n)."""

    def __init__(self, spec):
        self.bridge = spec_network(spec)
        self.scale = spec.n_samples if spec.reduction == "sum" else 1.0
        self.cache: dict[tuple, tuple[float, np.ndarray]] = {}

    def __call__(self, values: tuple) -> tuple[float, np.ndarray]:
        if values not in self.cache:
            bridge = self.bridge
            bridge.network.parameters[bridge.positions] = np.asarray(values)[bridge.owners]
            # an overflow gives inf, which explain names (a quantity that is not finite)
            with np.errstate(all="ignore"):
                error = bridge.network.forward_backward(bridge.X, bridge.T, None)
            gradient = np.bincount(
                bridge.owners,
                weights=bridge.network.gradients[bridge.positions],
                minlength=len(values),
            )
            self.cache[values] = (error * self.scale, gradient * self.scale)
        return self.cache[values]


def _name(base: str, step: int) -> str:
    """A per-step symbol: step 1 is unmarked (``v_w5``), step k is ``v_w5@k``."""
    return base if step == 1 else f"{base}@{step}"


def _parameter_after(name: str, step: int) -> str:
    return name if step == 0 else name + "+" if step == 1 else f"{name}@{step}"


def add_updates(trace) -> None:
    """Add the first step's updates (section ``update``) and any later steps (``steps``); a
    fixed parameter's value after each step is its value before it (see :func:`_frozen`)."""
    spec, optimizer = trace.spec, trace.spec.optimizer
    for rate in _RATES.get(optimizer.name, ()):
        value = optimizer.momentum if rate == "mu" else getattr(optimizer, rate)
        trace.given(rate, value, "rate")
    history = {}  # per fixed parameter: (its symbol before the step, its gradient) per step
    for name, parameter in spec.parameters.items():
        if parameter.trained:
            _step(trace, name, 1, f"dE/d{name}")
        else:
            history[name] = ((name, lambda v, g=f"dE/d{name}": v[g]),)
            _frozen(trace, name, 1, history[name])
    if optimizer.steps == 1:
        return
    engine = _EngineGradients(spec)
    every = list(spec.parameters)
    for step in range(2, optimizer.steps + 1):
        current = [_parameter_after(p, step - 1) for p in every]
        for index, name in enumerate(every):
            gradient = _engine_gradient(engine, tuple(current), index)
            if name in history:
                history[name] += ((current[index], gradient),)
                _frozen(trace, name, step, history[name])
                continue
            trace.add(
                f"g_{name}@{step}",
                "steps",
                "step_gradient",
                [O(f"dE/d{name} at the parameters after step {step - 1}")],
                current,
                gradient,
                parameter=name,
                step=step,
            )
            _step(trace, name, step, f"g_{name}@{step}")
        after = [_parameter_after(p, step) for p in every]
        trace.add(
            f"E@{step}",
            "steps",
            "step_error",
            [O(f"E at the parameters after step {step}")],
            after,
            lambda v, c=tuple(after): engine(tuple(v[x] for x in c))[0],
            step=step,
        )


def replayed_step(name: str, rates: dict, gradients: list) -> float:
    """What the optimizer ``name`` subtracts from a parameter at step t = len(gradients), its
    buffers rebuilt from the parameter's gradient at each step 1..t, with the rates ``eta``,
    ``mu``, ``beta1``, ``beta2`` and ``eps`` in ``rates`` (the rules of the module docstring)."""
    eta, g = rates["eta"], gradients[-1]
    if name == "sgd":
        return eta * g
    if name in ("momentum", "nesterov"):
        mu = rates["mu"]
        v = functools.reduce(lambda v, g: mu * v + g, gradients[1:], gradients[0])
        return eta * (v if name == "momentum" else g + mu * v)
    beta1, beta2, m, v = rates["beta1"], rates["beta2"], 0.0, 0.0
    for g in gradients:
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g**2
    t = len(gradients)
    return eta * m / (1 - beta1**t) / (math.sqrt(v / (1 - beta2**t)) + rates["eps"])


def _engine_gradient(engine, current: tuple, index: int):
    """The engine's dE/d(parameter ``index``) at the parameters named ``current``."""
    return lambda v: engine(tuple(v[x] for x in current))[1][index]


def _frozen(trace, name: str, step: int, history: tuple) -> None:
    """A fixed parameter after step ``step``: its value before the step (``b1+ = b1``).
    ``history`` holds, for each step so far, the parameter's symbol before that step and a
    function giving its gradient there: the checker replays with them a person who updated
    the parameter all the same."""
    old, new = _parameter_after(name, step - 1), _parameter_after(name, step)
    trace.add(
        new,
        "update" if step == 1 else "steps",
        "frozen",
        [S(old)],
        (old,),
        lambda v: v[old],
        "fixed: it does not train",
        parameter=name,
        step=step,
        old=old,
        history=history,
    )


def _step(trace, name: str, step: int, g: str) -> None:
    """One optimizer step for parameter ``name`` with gradient symbol ``g``."""
    optimizer = trace.spec.optimizer
    section = "update" if step == 1 else "steps"
    old, new = _parameter_after(name, step - 1), _parameter_after(name, step)
    meta = {"parameter": name, "step": step, "gradient": g, "old": old}
    if optimizer.name == "sgd":
        trace.add(
            new,
            section,
            "update",
            [S(old), O("-"), S("eta"), O("*"), S(g)],
            (old, "eta", g),
            lambda v: v[old] - v["eta"] * v[g],
            **meta,
        )
        return
    if optimizer.name in ("momentum", "nesterov"):
        velocity, previous = _name(f"v_{name}", step), _name(f"v_{name}", step - 1)
        if step == 1:
            trace.add(
                velocity,
                section,
                "velocity",
                [S(g)],
                (g,),
                lambda v: v[g],
                "the velocity starts at the first gradient (torch.optim.SGD)",
                **meta,
            )
        else:
            trace.add(
                velocity,
                section,
                "velocity",
                [S("mu"), O("*"), S(previous), O("+"), S(g)],
                ("mu", previous, g),
                lambda v: v["mu"] * v[previous] + v[g],
                previous=previous,
                **meta,
            )
        if optimizer.name == "momentum":
            tokens, parents = (
                [S(old), O("-"), S("eta"), O("*"), S(velocity)],
                (old, "eta", velocity),
            )
            compute = lambda v: v[old] - v["eta"] * v[velocity]  # noqa: E731
        else:
            tokens = [S(old), O("-"), S("eta"), O("*("), S(g), O("+"), S("mu"), O("*"), S(velocity)]
            tokens.append(O(")"))
            parents = (old, "eta", g, "mu", velocity)
            compute = lambda v: v[old] - v["eta"] * (v[g] + v["mu"] * v[velocity])  # noqa: E731
        trace.add(new, section, "update", tokens, parents, compute, velocity=velocity, **meta)
        return
    _adam_step(trace, name, step, g, section, old, new, meta)


def _adam_step(trace, name, step, g, section, old, new, meta) -> None:
    m, v_ = _name(f"m_{name}", step), _name(f"v_{name}", step)
    m_previous, v_previous = _name(f"m_{name}", step - 1), _name(f"v_{name}", step - 1)
    if step == 1:
        trace.add(
            m,
            section,
            "moment",
            [O("(1 - "), S("beta1"), O(")*"), S(g)],
            ("beta1", g),
            lambda v: (1 - v["beta1"]) * v[g],
            "m and v start at 0",
            **meta,
        )
        trace.add(
            v_,
            section,
            "moment",
            [O("(1 - "), S("beta2"), O(")*"), S(g), O("^2")],
            ("beta2", g),
            lambda v: (1 - v["beta2"]) * v[g] ** 2,
            **meta,
        )
    else:
        trace.add(
            m,
            section,
            "moment",
            [S("beta1"), O("*"), S(m_previous), O(" + (1 - "), S("beta1"), O(")*"), S(g)],
            ("beta1", m_previous, g),
            lambda v: v["beta1"] * v[m_previous] + (1 - v["beta1"]) * v[g],
            **meta,
        )
        trace.add(
            v_,
            section,
            "moment",
            [S("beta2"), O("*"), S(v_previous), O(" + (1 - "), S("beta2"), O(")*"), S(g), O("^2")],
            ("beta2", v_previous, g),
            lambda v: v["beta2"] * v[v_previous] + (1 - v["beta2"]) * v[g] ** 2,
            **meta,
        )
    hats = []
    for moment, beta in ((m, "beta1"), (v_, "beta2")):
        hat = moment.replace("_", "hat_", 1)
        hats.append(hat)
        trace.add(
            hat,
            section,
            "corrected",
            [S(moment), O("/(1 - "), S(beta), O(f"^{step})")],
            (moment, beta),
            lambda v, x=moment, b=beta: v[x] / (1 - v[b] ** step),
            "bias correction" if beta == "beta1" else "",
            moment=moment,
            **meta,
        )
    mhat, vhat = hats
    trace.add(
        new,
        section,
        "update",
        [S(old), O("-"), S("eta"), O("*"), S(mhat), O("/(sqrt("), S(vhat), O(") + "), S("eps")]
        + [O(")")],
        (old, "eta", mhat, vhat, "eps"),
        lambda v: v[old] - v["eta"] * v[mhat] / (math.sqrt(v[vhat]) + v["eps"]),
        mhat=mhat,
        vhat=vhat,
        **meta,
    )
