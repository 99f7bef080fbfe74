#!/usr/bin/env bash
# The project's test command (README): formatting, lints with warnings denied, every test of the
# workspace (unit, integration, examples built, doctests), the API docs with warnings denied, and
# the benches built without running, and the library crates packaged as for crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
cargo bench --workspace --locked --no-run
# The library crates package cleanly for crates.io, in dependency order (no upload).
cargo publish --workspace --dry-run --no-verify --locked
