"""Reading a 200 000 x 21 CSV file: chainrule's reader against pandas.read_csv in one run, its
memory, and where a whole `chainrule train` on it spends its time.

    python benchmarks/tables.py [--rows 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 20))
    y = X[:, :5].sum(axis=1) + 0.1 * rng.normal(size=rows)
    header = ",".join([*(f"x{i}" for i in range(20)), "y"])
    np.savetxt(
        path, np.column_stack([X, y]), delimiter=",", header=header, comments="", fmt="%.17g"
    )


# Peak resident memory from /proc (VmHWM: reset at exec, unlike ru_maxrss, which a child
# inherits from its parent's fork), in a fresh process per reader, imports done first.
MEMORY = """
import sys
sys.path.insert(0, {root!r})
{imports}
import numpy as np
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
before = peak()
{read}
print(peak() - before)
"""
READERS = {
    "chainrule": "import chainrule.tables.reading as d\ntable = d.read_csv({path!r})",
    "pandas": "import pandas as pd\nframe = pd.read_csv({path!r})",
}
# imports first, so that the measured peak is the reading alone
IMPORTS = {
    "chainrule": "import chainrule.tables.reading, pyarrow.csv, pandas",
    "pandas": "import pandas, pyarrow",
}


def peak_memory(name: str, path: Path) -> int:
    code = MEMORY.format(
        root=str(ROOT), imports=IMPORTS[name], read=READERS[name].format(path=str(path))
    )
    return int(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import pandas as pd

    from chainrule.tables import reading as data
    from chainrule.tables.model import train_table

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wide.csv"
        make_csv(path, args.rows)
        size = path.stat().st_size
        times = {"chainrule": [], "pandas": []}
        ratios = []
        data.read_csv(path), pd.read_csv(path)  # warm-up (file cache, imports)
        for _ in range(args.rounds):
            started = time.perf_counter()
            table = data.read_csv(path)
            ours = time.perf_counter() - started
            started = time.perf_counter()
            pd.read_csv(path)
            theirs = time.perf_counter() - started
            times["chainrule"].append(ours)
            times["pandas"].append(theirs)
            ratios.append(ours / theirs)
            time.sleep(0.5)
        started = time.perf_counter()
        header, delimiter, skipped = data._header(path)
        data._read_with_csv_module(path, str(path), header, delimiter, skipped + 1)
        fallback = time.perf_counter() - started
        parsed = sum(column.nbytes for column in table.data.values())
        memory = {name: peak_memory(name, path) for name in READERS}

        started = time.perf_counter()
        table = data.read_csv(path)
        read = time.perf_counter() - started
        run = train_table(table, "y", epochs=2, batch_size=256, verbose=0)
        total = time.perf_counter() - started
        result = {
            "file": f"{args.rows} x 21, {size / 1e6:.1f} MB",
            "chainrule_read_s": statistics.median(times["chainrule"]),
            "pandas_read_s": statistics.median(times["pandas"]),
            "ratio_median": statistics.median(ratios),
            "ratio_range": [min(ratios), max(ratios)],
            "csv_module_fallback_s": fallback,
            "parsed_mb": parsed / 1e6,
            "peak_rss_growth_mb": {k: v / 1e6 for k, v in memory.items()},
            "memory_over_parsed": memory["chainrule"] / parsed,
            "train_2_epochs_batch_256": {
                "read_s": read,
                "fit_s": run.seconds,
                "total_s": total,
                "fit_share": run.seconds / total,
            },
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
