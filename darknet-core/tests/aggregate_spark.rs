//! The same exactness checks on aggregate tables written by another engine (Spark), run by
//! hand with `scripts/spark/test_local.sh`:
//!
//! 1. `DARKNET_AGG_DIR=DIR cargo test -p darknet-core --features parquet --test aggregate_spark
//!    -- --ignored write_input` writes the test input to `DIR/dataset`;
//! 2. `spark-submit scripts/spark/aggregate.py DIR/dataset DIR/spark --param top_k_ports=12`;
//! 3. `DARKNET_AGG_DIR=DIR cargo test ... -- --ignored spark_aggregates` checks `DIR/spark`.
#![cfg(feature = "parquet")]

mod aggregate_common;

use aggregate_common as common;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(std::env::var("DARKNET_AGG_DIR").expect("set DARKNET_AGG_DIR"))
}

#[test]
#[ignore = "run by scripts/spark/test_local.sh"]
fn write_input() {
    common::write(&common::input(), &dir().join("dataset"));
}

#[test]
#[ignore = "run by scripts/spark/test_local.sh, after Spark has written DARKNET_AGG_DIR/spark"]
fn spark_aggregates_equal_the_in_memory_path() {
    common::all(&common::input(), &dir().join("spark"));
}
