#!/usr/bin/env bash
# Runs the aggregation SQL texts unchanged on Spark in local mode (local[2]) over the small test
# input of darknet-core's exactness tests, and checks every aggregate table against the
# in-memory Rust path (counts exactly, floating-point statistics to 1e-9 relative). With
# `--datafusion` it also runs the `aggregate` example and compares DataFusion's tables with
# Spark's. Run by hand (needs Java 17 and `pip install pyspark pyarrow`); not part of CI.
#
#   scripts/spark/test_local.sh [--datafusion]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DARKNET_AGG_DIR="$work"
check() { cargo test --quiet -p darknet-core --features parquet --test aggregate_spark -- --ignored "$1"; }
check write_input
/usr/bin/time -f "spark local[2]: %e s wall, peak RSS %M KiB (driver)" \
    python3 scripts/spark/aggregate.py --master 'local[2]' "$work/dataset" "$work/spark" \
    --param top_k_ports=12
check spark_aggregates_equal_the_in_memory_path
if [[ "${1:-}" == "--datafusion" ]]; then
    cargo build --quiet --release --features datafusion --example aggregate
    /usr/bin/time -f "datafusion: %e s wall, peak RSS %M KiB" \
        "${CARGO_TARGET_DIR:-target}/release/examples/aggregate" "$work/dataset" \
        --out "$work/datafusion" --threads 2 --top-k 12
    python3 scripts/spark/compare.py "$work/datafusion" "$work/spark"
fi
