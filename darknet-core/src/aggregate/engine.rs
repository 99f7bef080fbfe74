//! Runs the aggregation queries in-process with DataFusion.

use super::{queries, AggregateParams, QueryKind};
use crate::error::{CoreError, Result};
use crate::io::parquet::dataset_files;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::context::SessionContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How [`run`] runs the queries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// The SQL texts' settings.
    pub params: AggregateParams,
    /// Worker threads and partitions (default: the available cores).
    pub threads: usize,
    /// Memory the engine may hold before sorts and aggregations spill to disk, in bytes
    /// (`None`: no limit).
    pub memory_limit: Option<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            params: AggregateParams::default(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_limit: None,
        }
    }
}

/// One aggregate table written by [`run`].
#[derive(Clone, Debug, PartialEq)]
pub struct TableSummary {
    /// The table's name.
    pub name: &'static str,
    /// Its directory (`OUT/<name>/`).
    pub path: PathBuf,
    /// Rows written.
    pub rows: u64,
    /// Time the query took.
    pub elapsed: Duration,
}

/// What [`run`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// The tables in the order written.
    pub tables: Vec<TableSummary>,
    /// Time of the whole run.
    pub elapsed: Duration,
}

fn sql_err(query: &str, e: impl std::fmt::Display) -> CoreError {
    CoreError::Sql {
        query: query.to_string(),
        reason: e.to_string(),
    }
}

fn path_str(p: &Path) -> Result<String> {
    let abs = std::path::absolute(p).map_err(|e| crate::io::io_err(&p.display().to_string(), e))?;
    abs.to_str()
        .map(str::to_string)
        .ok_or_else(|| CoreError::Parquet {
            input: p.display().to_string(),
            reason: "the path is not valid UTF-8".into(),
        })
}

/// Runs every aggregation query over the packet dataset `dataset` (a directory of
/// `day=YYYY-MM-DD/*.parquet` partitions, as [`crate::io::parquet::ParquetDatasetWriter`]
/// writes) and writes each aggregate table as Parquet to `out_dir/<name>/`. `progress` is told
/// each step as it starts (`"paper_a_hosts"`, ...).
///
/// `out_dir` must not hold the tables already (a new or empty directory).
///
/// # Errors
/// [`CoreError::InvalidConfig`] for settings the SQL cannot express
/// ([`AggregateParams::validate`]); [`CoreError::Parquet`] for a dataset without Parquet files
/// or a non-empty output directory; [`CoreError::Sql`] naming the query the engine failed on.
pub fn run(
    dataset: impl AsRef<Path>,
    out_dir: impl AsRef<Path>,
    options: &RunOptions,
    mut progress: impl FnMut(&str),
) -> Result<RunSummary> {
    let start = Instant::now();
    options.params.validate()?;
    if options.threads == 0 {
        return Err(CoreError::InvalidConfig {
            field: "threads",
            value: "0".into(),
            reason: "at least one thread".into(),
        });
    }
    let dataset = dataset.as_ref();
    dataset_files(dataset)?;
    let out_dir = out_dir.as_ref();
    let out_name = out_dir.display().to_string();
    if out_dir.is_dir()
        && std::fs::read_dir(out_dir)
            .map_err(|e| crate::io::io_err(&out_name, e))?
            .next()
            .is_some()
    {
        return Err(CoreError::Parquet {
            input: out_name,
            reason: "the output directory exists and is not empty; choose a new one".into(),
        });
    }
    std::fs::create_dir_all(out_dir).map_err(|e| crate::io::io_err(&out_name, e))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads)
        .enable_all()
        .build()
        .map_err(|e| crate::io::io_err("<tokio runtime>", e))?;
    let tables = rt.block_on(run_async(dataset, out_dir, options, &mut progress))?;
    Ok(RunSummary {
        tables,
        elapsed: start.elapsed(),
    })
}

async fn run_async(
    dataset: &Path,
    out_dir: &Path,
    options: &RunOptions,
    progress: &mut impl FnMut(&str),
) -> Result<Vec<TableSummary>> {
    let config = SessionConfig::new().with_target_partitions(options.threads);
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(bytes) = options.memory_limit {
        runtime = runtime.with_memory_limit(bytes, 1.0);
    }
    let runtime = runtime.build_arc().map_err(|e| sql_err("<engine>", e))?;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    // The day partitions are a column of the table (as Spark reads them); the queries take the
    // day from ts_ns and never read it.
    let partitioned = dataset_files(dataset)?.iter().any(|(d, _)| d.is_some());
    let cols = [(
        "day".to_string(),
        datafusion::arrow::datatypes::DataType::Utf8,
    )];
    let read = ParquetReadOptions::default().table_partition_cols(if partitioned {
        cols.to_vec()
    } else {
        Vec::new()
    });
    ctx.register_parquet("packets", path_str(dataset)?, read)
        .await
        .map_err(|e| sql_err("packets", e))?;
    let mut written = Vec::new();
    for q in queries() {
        progress(q.name);
        let t = Instant::now();
        let sql = options.params.render(q.sql)?;
        let df = ctx.sql(&sql).await.map_err(|e| sql_err(q.name, e))?;
        match q.kind {
            QueryKind::View => {
                ctx.register_table(q.name, df.into_view())
                    .map_err(|e| sql_err(q.name, e))?;
            }
            QueryKind::Table => {
                let dir = out_dir.join(q.name);
                let dir_s = format!("{}/", path_str(&dir)?);
                let counts = df
                    .write_parquet(&dir_s, DataFrameWriteOptions::new(), None)
                    .await
                    .map_err(|e| sql_err(q.name, e))?;
                let rows = counts
                    .iter()
                    .filter_map(|b| {
                        b.column(0)
                            .as_any()
                            .downcast_ref::<datafusion::arrow::array::UInt64Array>()
                            .map(|a| a.iter().flatten().sum::<u64>())
                    })
                    .sum();
                ctx.register_parquet(q.name, &dir_s, ParquetReadOptions::default())
                    .await
                    .map_err(|e| sql_err(q.name, e))?;
                written.push(TableSummary {
                    name: q.name,
                    path: dir,
                    rows,
                    elapsed: t.elapsed(),
                });
            }
        }
    }
    Ok(written)
}
