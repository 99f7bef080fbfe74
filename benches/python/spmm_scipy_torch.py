"""CSR x dense products in scipy and torch on the shapes of the `kernels_vs_python` bench.

Run by hand (never in CI):

    python3 benches/python/spmm_scipy_torch.py --threads 1 --reps 5

Random CSR matrices with uniform positions: 6,400 x 6,400 with 49,000 non-zeros times a
6,400 x 37 dense matrix (Paper B's day graph times its 37 features), and 100,000 x 100,000
with 1 M non-zeros times 100,000 x 64; float32. scipy's product is single-threaded; torch's
follows `torch.set_num_threads`. Each time is the mean of an inner loop (200 and 5 products),
the median over repetitions is printed. Needs `pip install scipy torch` (torch optional).
"""
import argparse
import os
import statistics
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    for v in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
        os.environ[v] = str(a.threads)
    import numpy as np
    import scipy.sparse as sp
    try:
        import torch
        torch.set_num_threads(a.threads)
    except ImportError:
        torch = None

    rng = np.random.default_rng(1)
    for name, n, nnz, k, inner in [("spmm_6400_nnz49k_k37", 6_400, 49_000, 37, 200),
                                   ("spmm_100k_nnz1M_k64", 100_000, 1_000_000, 64, 5)]:
        rows = rng.integers(0, n, nnz)
        cols = rng.integers(0, n, nnz)
        vals = rng.uniform(-1, 1, nnz).astype(np.float32)
        a_sp = sp.csr_matrix((vals, (rows, cols)), shape=(n, n), dtype=np.float32)
        a_sp.sum_duplicates()
        x = rng.uniform(-1, 1, (n, k)).astype(np.float32)
        cases = [("scipy", lambda: a_sp @ x)]
        if torch is not None:
            a_t = torch.sparse_csr_tensor(torch.from_numpy(a_sp.indptr.astype(np.int64)),
                                          torch.from_numpy(a_sp.indices.astype(np.int64)),
                                          torch.from_numpy(a_sp.data), size=(n, n))
            x_t = torch.from_numpy(x)
            cases.append(("torch", lambda: torch.mm(a_t, x_t)))
        for lib, f in cases:
            f()
            times, cpu = [], []
            for _ in range(a.reps):
                t, c = time.perf_counter(), time.process_time()
                for _ in range(inner):
                    f()
                times.append((time.perf_counter() - t) / inner)
                cpu.append((time.process_time() - c) / inner)
            print(f"{lib} {name} threads={a.threads} median={statistics.median(times) * 1e3:.4f}ms "
                  f"cpu_median={statistics.median(cpu) * 1e3:.4f}ms "
                  f"all={[round(t * 1e3, 4) for t in times]}")


if __name__ == "__main__":
    main()
