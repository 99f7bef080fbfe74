//! Ingest, filters and port graph in two passes over the input, for captures too large to hold
//! as one trace (`--stream`; [`PaperAConfig::stream`]).
//!
//! The in-memory path reads everything into one [`Trace`] (47 bytes a packet: 29 GB for a month
//! at Paper A's rate) because the filters look at weeks and the port graph at the whole
//! period. This path reads the input twice instead, with memory per host rather than per
//! packet:
//!
//! 1. darknet-core's [`PaperAStream`] decides which hosts the filters remove and what each
//!    filter removed;
//! 2. the kept packets stream into the port-transition counts ([`TransitionStream`]); only the
//!    kept packets of *labelled* hosts are held, for their host graphs and statistics.
//!
//! The outcome is the same as the in-memory path's, bit for bit (tested): the same filter
//! reports, port graph, host graphs, dataset report and hence metrics. Costs: the input is read
//! (or generated) twice; capture files must come in time order (a file per hour or day, in
//! name order, as telescopes write them), otherwise the error names the file and packet.

use super::error::{PaperAError, Result};
use super::filters::FilterReport;
use super::labels::{read_label_file, rows_from_reports, LabelRows};
use super::{capture_files, Input, PaperAConfig};

/// Packets per chunk handed to the passes while reading captures.
const READ_CHUNK: usize = 1 << 20;
use crate::progress::{Observer, Stage};
use darknet_core::filter::stream::HostMap;
use darknet_core::filter::PaperAStream;
use darknet_core::{Packet, SyntheticDarknet, Trace};
use darknet_graph::{PortGraph, TransitionStream};
use std::path::PathBuf;

/// What the two passes leave for the rest of the pipeline.
#[derive(Clone, Debug)]
pub struct Streamed {
    /// The kept packets of the labelled hosts (those with a label row), in input order.
    pub labelled: Trace,
    /// The port graph of every kept packet (all hosts).
    pub graph: PortGraph,
    /// The label rows.
    pub labels: LabelRows,
    /// What each filter removed (the same as [`super::filters::filter_trace`]'s report).
    pub filters: FilterReport,
    /// Packets of the input.
    pub n_packets_in: usize,
    /// Distinct sources of the input.
    pub n_hosts_in: usize,
    /// Days (UTC) with packets.
    pub n_days: usize,
    /// Seconds of each pass: `[first, second]`.
    pub pass_secs: [f64; 2],
    /// Seconds to build the port graph from the counts.
    pub graph_secs: f64,
}

/// The input as a source of packet runs that can be read more than once.
enum Source {
    Synthetic(Box<SyntheticDarknet>),
    Files(Vec<PathBuf>),
}

impl Source {
    /// Steps of one pass (days or files), for the progress bar.
    fn len(&self) -> u64 {
        match self {
            Source::Synthetic(d) => u64::from(d.n_days()),
            Source::Files(f) => f.len() as u64,
        }
    }

    /// Calls `f(name, run)` on runs of packets in input order: a synthetic day, or up to
    /// [`READ_CHUNK`] packets of a file; `step` after each day or file.
    fn for_each_run(
        &self,
        f: &mut dyn FnMut(&str, &[Packet]) -> Result<()>,
        step: &mut dyn FnMut(),
    ) -> Result<()> {
        let mut buf = Vec::new();
        match self {
            Source::Synthetic(d) => {
                for day in 0..d.n_days() {
                    d.day_into(day, &mut buf);
                    f("the synthetic darknet", &buf)?;
                    step();
                }
            }
            Source::Files(files) => {
                for file in files {
                    let name = file.display().to_string();
                    for p in darknet_core::open(file)? {
                        buf.push(p?);
                        if buf.len() == READ_CHUNK {
                            f(&name, &buf)?;
                            buf.clear();
                        }
                    }
                    f(&name, &buf)?;
                    buf.clear();
                    step();
                }
            }
        }
        Ok(())
    }
}

/// Reads `input` twice and returns what the in-memory path's ingest, filters and port-graph
/// construction would give (see the module doc). Reports an `ingest` stage to `obs`, one step
/// per day or file and pass.
///
/// # Errors
/// Reader and label-file errors; [`PaperAError::Stream`] for packets out of time order (with
/// the file) or a file that changed between the passes; [`PaperAError::EmptyAfter`] for input
/// without packets, or without any TCP/UDP port after the filters.
pub fn stream_input(input: &Input, cfg: &PaperAConfig, obs: &dyn Observer) -> Result<Streamed> {
    let bar = Stage::start(obs, "ingest", 0);
    let (source, labels) = match input {
        Input::Synthetic(c) => {
            let d = c.build()?;
            let rows = rows_from_reports(d.reports(), cfg.min_reports);
            (Source::Synthetic(Box::new(d)), rows)
        }
        Input::Files { paths, labels } => {
            let rows = match labels {
                Some(p) => read_label_file(p, cfg.min_reports)?,
                None => LabelRows::empty(),
            };
            (Source::Files(capture_files(paths, &bar)?), rows)
        }
        Input::Aggregates { dir, .. } => {
            return Err(super::aggregates_unsupported(
                dir,
                "an aggregates directory holds no packets to stream: give captures",
            ))
        }
    };
    let wrap = |name: &str| {
        let input = name.to_string();
        move |source| PaperAError::Stream { input, source }
    };
    bar.set_total(2 * source.len());
    // Pass 1: the filters' plan.
    let t0 = std::time::Instant::now();
    bar.step("pass 1: filters");
    let mut pass1 = PaperAStream::new(cfg.filters.core())?;
    source.for_each_run(
        &mut |name, run| pass1.push_all(run).map_err(wrap(name)),
        &mut || bar.advance(1),
    )?;
    let plan = pass1.finish();
    if plan.n_packets_in() == 0 {
        return Err(PaperAError::EmptyAfter {
            stage: "reading the input",
            detail: "no packet".into(),
        });
    }
    let first = t0.elapsed().as_secs_f64();
    // Pass 2: the kept packets into the port graph, and the labelled hosts' packets kept.
    let t1 = std::time::Instant::now();
    bar.step("pass 2: port graph");
    let labelled: HostMap<()> = labels.hosts.iter().map(|h| (u32::from(*h), ())).collect();
    let mut transitions = TransitionStream::new();
    let mut held: Vec<(u64, Packet)> = Vec::new();
    let mut pass2 = plan.kept();
    let mut keep = |i: u64, p: &Packet| {
        transitions.push(p);
        if labelled.contains_key(&u32::from(p.src)) {
            held.push((i, *p));
        }
    };
    source.for_each_run(
        &mut |name, run| {
            run.iter()
                .try_for_each(|p| pass2.push(p, &mut keep))
                .map_err(wrap(name))
        },
        &mut || bar.advance(1),
    )?;
    pass2.finish().map_err(wrap("the input"))?;
    drop(bar);
    held.sort_unstable_by_key(|h| h.0);
    let labelled = Trace::from_packets(held.into_iter().map(|h| h.1));
    let second = t1.elapsed().as_secs_f64();
    let t2 = std::time::Instant::now();
    let filters = FilterReport::from_plan(&plan, &cfg.filters);
    filters.check_not_empty()?;
    let graph = PortGraph::from_counts(&transitions.finish())
        .map_err(|source| PaperAError::PortGraph { source })?;
    Ok(Streamed {
        labelled,
        graph,
        labels,
        filters,
        n_packets_in: plan.n_packets_in() as usize,
        n_hosts_in: plan.n_hosts_in() as usize,
        n_days: plan.days().len(),
        pass_secs: [first, second],
        graph_secs: t2.elapsed().as_secs_f64(),
    })
}
