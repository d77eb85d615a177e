"""Write NASLib's zero-cost proxies of the 725-cell NB201 CIFAR-10 pool as a store.

``python benchmarks/robot_naslib_store.py ../shared/data/nb201/nb201_zc_proxies_v20220518_sample.csv
/tmp/naslib_pool725.h5`` reads the rows of dataset ``cifar10`` of NASLib's proxy table and
writes a store (space nb201, dataset cifar10, no metrics) whose features are
``naslib_<proxy>`` for every proxy column (``flops``, ``params``, ``snip``, ``jacov``,
``grad_norm``, ``fisher``, ``grasp``, ``synflow``, ``epe_nas``, ``l2_norm``, ``plain``,
``nwot``), so that ``nbt search --algo robot --metrics STORE:naslib_snip,...`` can use them.
The store is derived from the shared data: write it outside the project (e.g. ``/tmp``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_tools.spaces import get_space
from nasbench_tools.store import DatasetTable, TableData, write_store

PROXIES = ("flops", "params", "snip", "jacov", "grad_norm", "fisher", "grasp", "synflow",
           "epe_nas", "l2_norm", "plain", "nwot")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv", help="nb201_zc_proxies_v20220518_sample.csv")
    p.add_argument("output", help="store to write")
    p.add_argument("--dataset", default="cifar10", help="rows of this dataset (default cifar10)")
    a = p.parse_args(argv)
    frame = pd.read_csv(a.csv)
    frame = frame[frame["dataset"] == a.dataset].drop_duplicates("arch_str")
    space = get_space("nb201")
    keys = [space.parse(s).to_string() for s in frame["arch_str"]]
    features = {f"naslib_{c}": frame[c].to_numpy(np.float64) for c in PROXIES}
    table = DatasetTable(a.dataset, (), (), (), np.empty((len(keys), 0, 0, 0), dtype=np.float32),
                         features=features)
    out = write_store(
        TableData("nb201", keys, frame["nb201_index"].to_numpy(np.int64), {a.dataset: table},
                  provenance={"source": f"{Path(a.csv).name}, dataset {a.dataset}"}),
        a.output, command="python benchmarks/robot_naslib_store.py " + " ".join(sys.argv[1:]),
    )
    sys.stdout.write(f"{out}: {len(keys)} cells, features {sorted(features)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
