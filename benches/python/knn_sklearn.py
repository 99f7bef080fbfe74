"""scikit-learn's brute-force 3-NN timed on the shapes of the `kernels_vs_python` bench.

Run by hand (never in CI):

    python3 benches/python/knn_sklearn.py --threads 1 --reps 5

20,000 training and 10,000 query float32 embeddings of 128 dimensions, uniform in
[-0.5, 0.5), 14 classes; `KNeighborsClassifier(n_neighbors=3, algorithm="brute")` with the
Euclidean and the cosine metric, `predict` timed (distances, selection and vote), as the Rust
side times `Knn::predict`. Threads are set before numpy loads its BLAS. Needs
`pip install scikit-learn`.
"""
import argparse
import os
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    for v in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
        os.environ[v] = str(a.threads)
    import numpy as np
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(1)
    train = rng.random((20_000, 128), dtype=np.float32) - 0.5
    queries = rng.random((10_000, 128), dtype=np.float32) - 0.5
    labels = np.array([f"class{i % 14}" for i in range(20_000)])
    prod = np.empty((10_000, 20_000), dtype=np.float32)
    times = []
    for _ in range(a.reps):
        t = time.perf_counter()
        np.dot(queries, train.T, out=prod)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"numpy sgemm_10000x128x20000 threads={a.threads} median={med:.4f}s "
          f"({2 * 1e4 * 2e4 * 128 / med / 1e9:.1f} GFLOP/s)")
    del prod
    for metric in ["euclidean", "cosine"]:
        knn = KNeighborsClassifier(n_neighbors=3, algorithm="brute", metric=metric,
                                   n_jobs=a.threads).fit(train, labels)
        times, cpu = [], []
        for _ in range(a.reps):
            t, c = time.perf_counter(), time.process_time()
            knn.predict(queries)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        print(f"sklearn knn_{metric}_20000x10000x128_k3 threads={a.threads} "
              f"median={statistics.median(times):.4f}s cpu_median={statistics.median(cpu):.4f}s "
              f"all={[round(t, 4) for t in times]}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
