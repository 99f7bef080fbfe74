#!/usr/bin/env python3
"""Runs darknet's aggregation SQL texts unchanged on Apache Spark.

The texts are darknet-core/sql/*.sql, run in the order of darknet-core/sql/queries.txt: a view
is registered for the queries after it, a table is written as Parquet to OUT/<name>/ and read
back under its name. The result is the same set of tables the `aggregate` example writes with
DataFusion, and darknet_core::aggregate::read reads either.

    spark-submit scripts/spark/aggregate.py DATASET OUT
    spark-submit --master yarn scripts/spark/aggregate.py hdfs:///darknet/packets hdfs:///darknet/agg \
        --param top_k_ports=2500

DATASET is a packet dataset (day=YYYY-MM-DD/part-NNNNN.parquet, as darknet-core writes it);
--param NAME=VALUE overrides a setting of the texts (defaults below: the pipelines' defaults).
"""

import argparse
import os
import re
import sys
import time

# The settings of the SQL texts and their defaults (darknet_core::aggregate::AggregateParams).
DEFAULTS = {
    "drop_bogons": "1",
    "isolated_window_ns": str(7 * 86_400 * 10**9),
    "vertical_window_ns": str(7 * 86_400 * 10**9),
    "max_tcp_ports": "20",
    "max_udp_ports": "15",
    "min_len": "4",
    "max_period": "8",
    "arithmetic": "1",
    "host_min_packets": "5",
    "top_k_ports": "2500",
    "utc_offset_ns": "0",
}

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SQL_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "darknet-core", "sql"))


def manifest(sql_dir):
    """(name, kind) of every query, in running order."""
    out = []
    with open(os.path.join(sql_dir, "queries.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, kind = line.split()
                out.append((name, kind))
    return out


def render(text, params, name):
    for key, value in params.items():
        text = text.replace("${" + key + "}", value)
    left = re.search(r"\$\{[^}]*\}", text)
    if left:
        sys.exit(f"aggregate.py: error: {name}.sql names the parameter {left.group(0)}, which has no value")
    return text


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", help="packet dataset directory (day=YYYY-MM-DD partitions)")
    ap.add_argument("out", help="output directory for the aggregate tables (must not exist)")
    ap.add_argument("--sql-dir", default=DEFAULT_SQL_DIR, help="directory of the SQL texts")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="override a setting of the SQL texts (repeatable)")
    ap.add_argument("--master", default=None,
                    help="Spark master when run with python directly (e.g. local[2])")
    args = ap.parse_args(argv)
    params = dict(DEFAULTS)
    for p in args.param:
        key, sep, value = p.partition("=")
        if not sep or key not in DEFAULTS:
            ap.error(f"--param {p!r}: expected NAME=VALUE with NAME one of {', '.join(DEFAULTS)}")
        if not re.fullmatch(r"-?[0-9]+", value):
            ap.error(f"--param {p!r}: expected an integer value")
        params[key] = value
    if int(params["max_period"]) > 8:
        ap.error("--param max_period: the SQL texts test periods 2 to 8")
    return args, params


def main(argv):
    args, params = parse_args(argv)
    from pyspark.sql import SparkSession  # imported late so that --help works without Spark

    builder = (
        SparkSession.builder.appName("darknet-aggregate")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    start = time.time()
    spark.read.parquet(args.dataset).createOrReplaceTempView("packets")
    queries = manifest(args.sql_dir)
    for k, (name, kind) in enumerate(queries, 1):
        with open(os.path.join(args.sql_dir, name + ".sql"), encoding="utf-8") as f:
            text = render(f.read(), params, name)
        print(f"aggregate.py: [{k}/{len(queries)}] {name} ({time.time() - start:.1f} s)",
              file=sys.stderr, flush=True)
        df = spark.sql(text)
        if kind == "view":
            df.createOrReplaceTempView(name)
        else:
            path = os.path.join(args.out, name)
            df.write.mode("errorifexists").parquet(path)
            spark.read.parquet(path).createOrReplaceTempView(name)
    print(f"aggregate.py: tables written to {args.out} in {time.time() - start:.1f} s",
          file=sys.stderr, flush=True)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
