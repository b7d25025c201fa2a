"""Golden numbers for seed 001, printed by ``derive_seed001.py`` (plain float64 chain rule).

Where the seed's own text disagrees, these are the correct values; the seed's slips are listed
in ``SEED_MISTAKES`` with the reason each is wrong.
"""

X = [[0.05, 0.10]]
T = [[0.01, 0.99]]
ETA = 0.01
W_HIDDEN = [[0.15, 0.20], [0.25, 0.30]]  # W[i, j]: input i -> hidden j (w1, w2 / w3, w4)
B_HIDDEN = [0.40, 0.35]
W_OUTPUT = [[0.40, 0.45], [0.50, 0.55]]  # hidden i -> output j (w5, w6 / w7, w8)
B_OUTPUT = [0.25, 0.60]

FORWARD = {
    "z1": 0.4325,
    "a1": 0.6064704870683034,
    "z2": 0.38999999999999996,
    "a2": 0.5962826992967878,
    "z3": 0.7907295444757153,
    "y1": 0.687987956458961,
    "z4": 1.2008672037939698,
    "y2": 0.7686790183072084,
    "E": 0.25432532302042954,
}
GRADIENTS = {
    "w1": 0.0004833645475513758,
    "w3": 0.0009667290951027516,
    "b1": 0.009667290951027516,
    "w2": 0.000615355968061566,
    "w4": 0.001230711936123132,
    "b2": 0.012307119361231317,
    "w5": 0.08826404863138108,
    "w7": 0.08678134598634706,
    "b3": 0.14553725286460706,
    "w6": -0.023866696634775388,
    "w8": -0.023465772195240618,
    "b4": -0.03935343457543617,
}
UPDATED = {
    "w1": 0.14999516635452448,
    "w2": 0.1999938464403194,
    "w3": 0.24999033270904897,
    "w4": 0.29998769288063876,
    "w5": 0.3991173595136862,
    "w6": 0.4502386669663478,
    "w7": 0.4991321865401365,
    "w8": 0.5502346577219525,
    "b1": 0.39990332709048976,
    "b2": 0.34987692880638765,
    "b3": 0.24854462747135392,
    "b4": 0.6003935343457544,
}
FORWARD_AFTER = {
    "z1": 0.4324021186791209,
    "a1": 0.6064471260738366,
    "z2": 0.3898753904164675,
    "a2": 0.5962527017165126,
    "z3": 0.788197117852834,
    "y1": 0.6874440857948892,
    "z4": 1.2015183812195858,
    "y2": 0.7687947849390969,
    "E": 0.2539311182743068,
}

# The seed's printed numbers that are wrong, and why (the tests assert the correct ones above).
SEED_MISTAKES = {
    "dE/dw7": ("0.186047383", "arithmetic slip: 0.145537252 * 0.596282699 = 0.0867813460"),
    "w7_new": ("0.498139526", "inherited from the wrong dE/dw7; correct 0.499132187"),
    "dE/dw1..w4, dE/db1, dE/db2": (
        "0.694690157e-3 ...",
        "each hidden gradient keeps only one path to the outputs (w1 via w5, w2 via w8) and "
        "drops the path through the other output neuron",
    ),
    "E_total": ("0.254325322", "last digit: the exact value is 0.25432532302 -> 0.254325323"),
}
