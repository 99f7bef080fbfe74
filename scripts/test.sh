#!/usr/bin/env bash
# The project's test command (README): formatting, lints with warnings denied, every test of the
# workspace (unit, integration, examples built, doctests), the API docs with warnings denied, and
# the benches built without running, and the library crates packaged as for crates.io.
#
# The workspace is linted twice, without and with the `parquet` feature (Parquet packet
# datasets: `convert --format parquet`, tools reading dataset directories), and tested and
# documented with it, so that both builds stay clean and the tests run once. The SQL aggregation
# stage on DataFusion (feature `datafusion`) is tested last, on its own, in the `sql-test`
# profile (DataFusion built without optimisation or debug information: about 5 minutes on two
# cores; the test input is small).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --workspace --all-targets --locked --features darknet-examples/parquet -- -D warnings
cargo test --workspace --locked --features darknet-examples/parquet
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --features darknet-examples/parquet
cargo bench --workspace --locked --no-run
# The library crates package cleanly for crates.io, in dependency order (no upload).
cargo publish --workspace --dry-run --no-verify --locked
# Last, in its own profile: the SQL aggregation stage on DataFusion equals the in-memory path,
# table by table (darknet-core), and gives the tables the pipelines' aggregates route reads
# (darknet-pipelines). One invocation, so that DataFusion is compiled once.
cargo test --locked --profile sql-test -p darknet-core -p darknet-pipelines \
  --features darknet-core/datafusion,darknet-pipelines/datafusion \
  --test aggregate_exact --test aggregates_datafusion
