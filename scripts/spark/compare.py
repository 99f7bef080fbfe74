#!/usr/bin/env python3
"""Compares two directories of aggregate tables (e.g. DataFusion's and Spark's).

    python3 scripts/spark/compare.py AGG_A AGG_B

Every table must hold the same rows: integer columns equal, floating-point columns equal to
1e-9 relative. Rows are matched after sorting by every integer column. Prints one line per table
and exits non-zero on the first difference.
"""

import math
import os
import sys

import pyarrow.parquet as pq
import pyarrow.types as pat


def load(path):
    files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".parquet"))
    if not files:
        sys.exit(f"compare.py: error: {path}: no Parquet file")
    tables = [pq.read_table(f) for f in files]
    rows = []
    for t in tables:
        rows.extend(t.to_pylist())
    return tables[0].schema, rows


def main(a, b):
    names = sorted(d for d in os.listdir(a) if os.path.isdir(os.path.join(a, d)))
    if names != sorted(d for d in os.listdir(b) if os.path.isdir(os.path.join(b, d))):
        sys.exit(f"compare.py: error: the directories hold different tables: {names}")
    failed = 0
    for name in names:
        sa, ra = load(os.path.join(a, name))
        sb, rb = load(os.path.join(b, name))
        ints = [f.name for f in sa if pat.is_integer(f.type)]
        floats = [f.name for f in sa if pat.is_floating(f.type)]
        if [f.name for f in sa] != [f.name for f in sb]:
            print(f"{name}: columns differ: {sa.names} vs {sb.names}")
            failed += 1
            continue
        key = lambda r: tuple(-1 if r[c] is None else r[c] for c in ints)
        ra.sort(key=key)
        rb.sort(key=key)
        if len(ra) != len(rb):
            print(f"{name}: {len(ra)} rows vs {len(rb)} rows")
            failed += 1
            continue
        worst = 0.0
        bad = None
        for i, (x, y) in enumerate(zip(ra, rb)):
            for c in ints:
                if x[c] != y[c]:
                    bad = f"row {i}, column {c}: {x[c]} vs {y[c]}"
                    break
            for c in floats:
                u, v = x[c], y[c]
                if u is None or v is None:
                    if u is not v:
                        bad = f"row {i}, column {c}: {u} vs {v}"
                    continue
                scale = max(abs(u), abs(v))
                rel = 0.0 if scale == 0 else abs(u - v) / scale
                worst = max(worst, rel)
                if rel > 1e-9 and abs(u - v) > 1e-12:
                    bad = f"row {i}, column {c}: {u} vs {v}"
            if bad:
                break
        if bad:
            print(f"{name}: DIFFERENT at {bad}")
            failed += 1
        else:
            print(f"{name}: {len(ra)} rows equal ({len(ints)} integer columns exactly, "
                  f"{len(floats)} double columns within {worst:.1e} relative)")
    if failed:
        sys.exit(f"compare.py: {failed} table(s) differ")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
