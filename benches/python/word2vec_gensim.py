"""gensim's skip-gram word2vec timed on the corpus of the `kernels_vs_python` bench.

Run by hand (never in CI), after the Rust side has written the corpus:

    RAYON_NUM_THREADS=1 cargo bench -p darknet-benches --bench kernels_vs_python -- word2vec 1
    python3 benches/python/word2vec_gensim.py --threads 1 --reps 3 \
        target/kernels_vs_python/w2v_corpus.txt

Settings are gensim's and i-DarkVec's (skip-gram, 50 dimensions, window 25, 5 negatives,
sample 1e-3, one epoch, every word kept), the same as the Rust case. Only `train` is timed
(not `build_vocab`), as the Rust side times only its training passes. Needs `pip install
gensim` (measured with gensim 4.4).
"""
import argparse
import statistics
import time

from gensim.models import Word2Vec


def main():
    p = argparse.ArgumentParser()
    p.add_argument("corpus")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--sentences", type=int, default=None, help="only the first N sentences")
    a = p.parse_args()
    with open(a.corpus) as f:
        sentences = [line.split() for line in f][: a.sentences]
    n_tokens = sum(len(s) for s in sentences)
    times, cpu = [], []
    for rep in range(a.reps):
        m = Word2Vec(vector_size=50, window=25, negative=5, sample=1e-3, sg=1, hs=0,
                     min_count=1, epochs=1, workers=a.threads, seed=rep + 1)
        m.build_vocab(sentences)
        t, c = time.perf_counter(), time.process_time()
        trained, _ = m.train(sentences, total_examples=m.corpus_count, epochs=1)
        dt = time.perf_counter() - t
        cpu.append(time.process_time() - c)
        times.append(dt)
        print(f"  rep {rep}: {dt:.3f} s, {trained} effective words ({trained / dt:.0f} words/s)")
    print(f"gensim word2vec {n_tokens} tokens threads={a.threads} "
          f"median={statistics.median(times):.4f}s cpu_median={statistics.median(cpu):.4f}s all={[round(t, 4) for t in times]}")


if __name__ == "__main__":
    main()
