"""Run under ``mpirun -n 2``: TabularModel.evaluate over the ranks' rows, where rank 1 holds
none of them, against one process's evaluate on all of them; rank 0 prints the differences."""

import json

import numpy as np

from chainrule.distributed import MPIGroup
from chainrule.tables.model import train_table
from chainrule.tables.reading import Table


def table(n=60):
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    data = {"x": x, "c": np.where(x > 0, "a", "b").astype(object), "v": 3 * x + rng.normal(size=n)}
    return Table("<t>", list(data), data)


def main():
    group = MPIGroup()
    whole = table()
    gaps = {}
    for target, drop in (("c", "v"), ("v", "c")):
        model = train_table(
            whole, target, drop=[drop], epochs=2, verbose=0, validation_split=0
        ).model
        mine = whole.take(np.arange(20) if group.rank == 0 else np.arange(0))
        combined = model.evaluate(mine, group=group)
        alone = model.evaluate(whole.take(np.arange(20)))
        gaps[target] = {key: combined[key] == alone[key] for key in alone}
    if group.rank == 0:
        print(json.dumps(gaps))


if __name__ == "__main__":
    main()
