"""Independent float64 computation of seed 001's worked example (2-2-2, sigmoid, squared error).

Written out neuron by neuron with ``math.exp``, sharing no code with chainrule. Running it prints
the literals stored in ``seed001.py``; the tests compare chainrule against those literals.
"""

from math import exp


def sigmoid(z):
    return 1.0 / (1.0 + exp(-z))


X1, X2, T1, T2, ETA = 0.05, 0.10, 0.01, 0.99, 0.01
START = dict(
    w1=0.15,
    w2=0.20,
    w3=0.25,
    w4=0.30,
    w5=0.40,
    w6=0.45,
    w7=0.50,
    w8=0.55,
    b1=0.40,
    b2=0.35,
    b3=0.25,
    b4=0.60,
)


def forward(p):
    """The seed's wiring: z1 = x1 w1 + x2 w3 + b1, z2 = x1 w2 + x2 w4 + b2,
    z3 = a1 w5 + a2 w7 + b3, z4 = a1 w6 + a2 w8 + b4."""
    z1 = X1 * p["w1"] + X2 * p["w3"] + p["b1"]
    a1 = sigmoid(z1)
    z2 = X1 * p["w2"] + X2 * p["w4"] + p["b2"]
    a2 = sigmoid(z2)
    z3 = a1 * p["w5"] + a2 * p["w7"] + p["b3"]
    y1 = sigmoid(z3)
    z4 = a1 * p["w6"] + a2 * p["w8"] + p["b4"]
    y2 = sigmoid(z4)
    error = 0.5 * ((T1 - y1) ** 2 + (T2 - y2) ** 2)
    return dict(z1=z1, a1=a1, z2=z2, a2=a2, z3=z3, y1=y1, z4=z4, y2=y2, E=error)


def gradients(p, f):
    d3 = (f["y1"] - T1) * f["y1"] * (1 - f["y1"])
    d4 = (f["y2"] - T2) * f["y2"] * (1 - f["y2"])
    # each hidden neuron reaches both outputs: two paths
    d1 = (d3 * p["w5"] + d4 * p["w6"]) * f["a1"] * (1 - f["a1"])
    d2 = (d3 * p["w7"] + d4 * p["w8"]) * f["a2"] * (1 - f["a2"])
    return dict(
        w1=d1 * X1,
        w3=d1 * X2,
        b1=d1,
        w2=d2 * X1,
        w4=d2 * X2,
        b2=d2,
        w5=d3 * f["a1"],
        w7=d3 * f["a2"],
        b3=d3,
        w6=d4 * f["a1"],
        w8=d4 * f["a2"],
        b4=d4,
    )


if __name__ == "__main__":
    first = forward(START)
    grads = gradients(START, first)
    updated = {k: START[k] - ETA * grads[k] for k in START}
    second = forward(updated)
    print("FORWARD =", first)
    print("GRADIENTS =", grads)
    print("UPDATED =", updated)
    print("FORWARD_AFTER =", second)
