"""scipy's Dijkstra timed on the port graph of the `kernels_vs_python` bench.

Run by hand (never in CI), after the Rust side has written the graph:

    cargo bench -p darknet-benches --bench kernels_vs_python -- inputs
    python3 benches/python/dijkstra_scipy.py --sources 64 --reps 3 target/kernels_vs_python

The graph (80,000 ports, about 1 M edges, weights ω) is read from `port_graph_edges.bin`
(records: from u32, to u32, ω f64), reversed as the Rust side does (distances *to* each
reference) and given to `scipy.sparse.csgraph.dijkstra`, one call for the first `--sources`
of the 1,024 references in `port_graph_refs.txt`. scipy's Dijkstra is single-threaded; the
time per source and its extrapolation to 1,024 references are printed. Needs
`pip install scipy`.
"""
import argparse
import os
import statistics
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--sources", type=int, default=64)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    rec = np.dtype([("from", "<u4"), ("to", "<u4"), ("w", "<f8")])
    e = np.fromfile(os.path.join(a.dir, "port_graph_edges.bin"), dtype=rec)
    refs = np.loadtxt(os.path.join(a.dir, "port_graph_refs.txt"), dtype=np.int64)
    n = int(max(e["from"].max(), e["to"].max())) + 1
    # Reversed graph: an edge to -> from. Zero weights are kept as explicit entries.
    g = sp.csr_matrix((e["w"], (e["to"], e["from"])), shape=(n, n))
    src = refs[: a.sources]
    dijkstra(g, directed=True, indices=src[:2])
    times, cpu = [], []
    for _ in range(a.reps):
        t, c = time.perf_counter(), time.process_time()
        dijkstra(g, directed=True, indices=src)
        times.append((time.perf_counter() - t) / len(src))
        cpu.append((time.process_time() - c) / len(src))
    med = statistics.median(times)
    print(f"scipy dijkstra {n} nodes {g.nnz} edges: median={med * 1e3:.3f} ms per source "
          f"(x1024 = {med * 1024:.2f} s) cpu_median={statistics.median(cpu) * 1e3:.3f} ms "
          f"per source all={[round(t * 1e3, 3) for t in times]}")


if __name__ == "__main__":
    main()
