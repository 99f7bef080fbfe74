//! Paper A end to end on a tiny synthetic darknet: training works, outputs parse, saved models
//! reload to identical scores, runs are deterministic, and bad input gives clear errors.

use darknet_core::AbuseReport;
use darknet_core::{Packet, Trace};
use darknet_pipelines::paper_a::{
    self, rows_from_reports, tiny_synth, Input, PaperAConfig, PaperAError, PaperAModel,
};
use darknet_pipelines::progress::Silent;
use std::net::Ipv4Addr;
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("paper-a-test-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tiny_config() -> PaperAConfig {
    let mut c = PaperAConfig::quick(1);
    c.partitions_to_run = 2;
    c
}

#[test]
fn end_to_end_outputs_reload_and_determinism() {
    let input = Input::Synthetic(tiny_synth(1));
    let cfg = tiny_config();
    let r = paper_a::run(&input, &cfg, &Silent).unwrap();

    // Training loss decreases.
    for p in &r.partitions {
        let l = p.gcn_curve.losses();
        assert!(l.last().unwrap() < &l[0], "GCN loss {l:?}");
    }
    let ae = r.autoencoder_curve.losses();
    assert!(ae.last().unwrap() < &ae[0], "AE loss {ae:?}");
    assert_eq!(r.partitions.len(), 2);
    assert!(r.dataset.n_used > 100);
    assert!(r.dataset.n_hosts_unlabelled > 0);

    // Outputs exist and parse.
    let out = tmp("e2e");
    paper_a::write_outputs(&out, &r).unwrap();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    for key in [
        "precision_samples",
        "recall_samples",
        "f1_samples",
        "coverage_error",
        "label_ranking_loss",
        "subset_accuracy",
        "per_label",
    ] {
        assert!(m["gcn"].get(key).is_some(), "gcn.{key} missing");
        assert!(
            m["mlp_baseline"].get(key).is_some(),
            "mlp_baseline.{key} missing"
        );
    }
    assert!(m["gcn"]["f1_samples"]["mean"].as_f64().is_some());
    assert!(m["gcn"]["f1_samples"]["std"].as_f64().is_some());
    assert_eq!(m["table_iii"].as_array().unwrap().len(), 7);
    for k in 0..2 {
        let dir = out.join("partitions").join(k.to_string());
        let truth = darknet_eval::read_truth_csv(dir.join("truth.csv")).unwrap();
        let scores = darknet_eval::read_scores_csv(dir.join("scores.csv")).unwrap();
        let aligned = darknet_eval::align(&truth, &scores).unwrap();
        assert_eq!(aligned.labels, paper_a::labels::label_names());
        assert!(dir.join("metrics.json").exists());
    }
    for f in ["threshold_sweep.csv", "report.md"] {
        assert!(out.join(f).metadata().unwrap().len() > 100, "{f}");
    }

    // The saved model reloads to identical scores.
    let loaded = PaperAModel::load(&out.join("model")).unwrap();
    assert_eq!(loaded, r.model);
    let trace = tiny_synth(2).build().unwrap().trace();
    let a = r.model.predict(&trace, 64).unwrap();
    let b = loaded.predict(&trace, 1000).unwrap();
    assert_eq!(a, b);
    assert!(a.to_csv().starts_with("id,port_scan,"));

    // Same seed, same metrics.
    let again = paper_a::run(&input, &cfg, &Silent).unwrap();
    assert_eq!(again.gcn, r.gcn);
    assert_eq!(again.baseline, r.baseline);
    assert_eq!(again.partitions[1].gcn_scores, r.partitions[1].gcn_scores);
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn model_from_another_configuration_is_refused() {
    let input = Input::Synthetic(tiny_synth(3));
    let mut cfg = tiny_config();
    cfg.partitions_to_run = 1;
    cfg.baseline = None;
    cfg.final_model = false;
    let r = paper_a::run(&input, &cfg, &Silent).unwrap();
    let a = tmp("model-a");
    r.model.save(&a).unwrap();
    cfg.autoencoder.latent_dim = 4;
    let r2 = paper_a::run(&input, &cfg, &Silent).unwrap();
    let b = tmp("model-b");
    r2.model.save(&b).unwrap();
    // Mix: the classifier of model b with the rest of model a.
    for f in ["classifier.json", "classifier.safetensors"] {
        std::fs::copy(b.join(f), a.join(f)).unwrap();
    }
    let e = PaperAModel::load(&a).unwrap_err();
    assert!(
        matches!(
            e,
            PaperAError::ModelMismatch {
                field: "n_features",
                ..
            }
        ),
        "{e}"
    );
    // Weights that do not fit their config.
    std::fs::copy(b.join("classifier.safetensors"), b.join("x")).unwrap();
    std::fs::copy(
        a.join("autoencoder.safetensors"),
        b.join("autoencoder.safetensors"),
    )
    .unwrap();
    let e = PaperAModel::load(&b).unwrap_err();
    assert!(matches!(e, PaperAError::Nn(_)), "{e}");
    // Not a model directory.
    let e = PaperAModel::load(&tmp("empty")).unwrap_err();
    assert!(e.to_string().contains("pipeline.json"), "{e}");
    // pipeline.json's own feature width edited: the message names that file and two
    // different numbers (it used to read "expected 28, found 28").
    let c = tmp("model-c");
    r2.model.save(&c).unwrap();
    let meta_path = c.join("pipeline.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    let width = meta["n_features"].as_u64().unwrap();
    meta["n_features"] = (width + 1).into();
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let e = PaperAModel::load(&c).unwrap_err();
    match &e {
        PaperAError::ModelMismatch {
            path,
            expected,
            found,
            ..
        } => {
            assert!(path.ends_with("pipeline.json"), "{e}");
            assert_ne!(expected, found, "{e}");
        }
        other => panic!("{other}"),
    }
    std::fs::remove_dir_all(&a).ok();
    std::fs::remove_dir_all(&b).ok();
    std::fs::remove_dir_all(&c).ok();
}

fn ip(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x2c00_0000 + i) // 44.0.0.0/8, not a bogon
}

#[test]
fn labels_absent_unlabelled_hosts_and_outside_categories_are_counted() {
    let darknet = tiny_synth(4).build().unwrap();
    let trace = darknet.trace();
    let emb = darknet_graph::PortEmbeddings::empty(4);
    let base = paper_a::build_dataset(&trace, &emb, &rows_from_reports(darknet.reports(), 2), 5)
        .unwrap()
        .graphs
        .report
        .n_labels_absent;
    let mut reports = darknet.reports().to_vec();
    // Labels for hosts absent from the traffic and in categories outside the 7.
    for i in 0..3 {
        for reporter in [1, 2] {
            reports.push(AbuseReport {
                ip: ip(i),
                categories: vec![4, 14],
                reporter: reporter.to_string(),
                day: 18_687,
            });
        }
    }
    let rows = rows_from_reports(&reports, 2);
    assert!(rows.summary.outside_categories[&4] >= 6);
    let data = paper_a::build_dataset(&trace, &emb, &rows, 5).unwrap();
    let r = &data.graphs.report;
    assert_eq!(r.n_labels_absent, base + 3);
    assert!(r.n_hosts_unlabelled > 0);
    let text = paper_a::describe_dataset(r);
    assert!(
        text.contains(&format!("{} labelled hosts absent", base + 3)),
        "{text}"
    );
    assert_eq!(data.stats.nrows(), data.graphs.len());
}

#[test]
fn empty_results_are_errors_not_panics() {
    // Only isolated packets: the filters leave nothing.
    let d = darknet_core::NANOS_PER_DAY;
    let p = |ts, i| Packet {
        ts_ns: ts,
        src: ip(i),
        dst_port: 23,
        tcp_flags: 2,
        ..Packet::default()
    };
    let trace = Trace::from_packets((0..20).map(|i| p(i as u64 * 10 * d, i)));
    let rows = rows_from_reports(&[], 2);
    let (filtered, report) =
        paper_a::apply_filters(&trace, &paper_a::FilterConfig::default()).unwrap();
    assert!(filtered.is_empty());
    assert_eq!(report.steps[1].name, "isolated-packets");
    assert_eq!(report.steps[1].packets_removed, 20);

    // No label: too few labelled hosts, with the counts.
    let trace = tiny_synth(5).build().unwrap().trace();
    let emb = darknet_graph::PortEmbeddings::empty(4);
    let e = paper_a::build_dataset(&trace, &emb, &rows, 5).unwrap_err();
    assert!(
        matches!(e, PaperAError::TooFewLabelled { n_labelled: 0, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("unlabelled"), "{e}");

    // A label file of unknown layout and bad settings.
    let dir = tmp("bad-labels");
    let f = dir.join("labels.csv");
    std::fs::write(&f, "address,what\n1.2.3.4,x\n").unwrap();
    let input = Input::Files {
        paths: vec![],
        labels: Some(f),
    };
    assert!(paper_a::run(&input, &tiny_config(), &Silent).is_err());
    let mut cfg = tiny_config();
    cfg.partitions_to_run = 9;
    let e = paper_a::run(&Input::Synthetic(tiny_synth(1)), &cfg, &Silent).unwrap_err();
    assert!(
        matches!(
            e,
            PaperAError::InvalidConfig {
                field: "partitions_to_run",
                ..
            }
        ),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn quick_demo_runs() {
    let d = paper_a::quick_demo(0).unwrap();
    assert_eq!(d.n_partitions, 2);
    assert!(d.gcn_f1_samples > 0.0 && d.gcn_f1_samples <= 1.0);
    assert!(d.baseline_f1_samples > 0.0);
}

#[test]
fn batchnorm_recalibration_keeps_weights_and_averages_batch_statistics() {
    use darknet_nn::GraphClassifierConfig;
    let darknet = tiny_synth(2).build().unwrap();
    let trace = darknet.trace();
    let rows = rows_from_reports(darknet.reports(), 2);
    let emb = darknet_graph::PortEmbeddings::empty(4);
    let data = paper_a::build_dataset(&trace, &emb, &rows, 5).unwrap();
    let idx: Vec<usize> = (0..data.graphs.len()).collect();
    let set = paper_a::GraphSubset::new(&data.graphs.graphs, &idx);
    let y = data.graphs.labels.mapv(f32::from);
    let (model, _) = GraphClassifierConfig::default()
        .first_size(16)
        .max_epochs(2)
        .fit(&set, y.view(), &mut |_| {})
        .unwrap();
    let mut a = model.clone();
    paper_a::recalibrate_batchnorm(&mut a, &set, 32).unwrap();
    let mut b = model.clone();
    paper_a::recalibrate_batchnorm(&mut b, &set, 32).unwrap();
    assert_eq!(a, b, "deterministic");
    assert_eq!(a.gcn, model.gcn, "weights unchanged");
    assert_eq!(a.output, model.output);
    assert_ne!(a.fc[0].bn.running_mean, model.fc[0].bn.running_mean);
    assert_eq!(a.fc[0].bn.momentum, model.fc[0].bn.momentum);
}

/// Captures are appended to the trace as they stream in; files out of time order (here the
/// later day first) still give the one time-sorted trace.
#[test]
fn captures_in_any_file_order_give_the_sorted_trace() {
    use darknet_core::{PcapWriter, PcapWriterOptions};
    let darknet = tiny_synth(2).build().unwrap();
    let dir = tmp("captures-order");
    let days: Vec<Vec<Packet>> = (0..3).map(|d| darknet.day(d)).collect();
    // Names sort as b_day2, c_day0, d_day1: day 2 is read first.
    for (name, d) in [("b.pcap", 2), ("c.pcap", 0), ("d.pcap", 1)] {
        let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default()).unwrap();
        for p in &days[d] {
            w.write_packet(p).unwrap();
        }
        std::fs::write(dir.join(name), w.finish().unwrap()).unwrap();
    }
    let got = paper_a::read_captures(std::slice::from_ref(&dir)).unwrap();
    let want = Trace::from_packets(days.concat());
    assert_eq!(got.len(), want.len());
    assert_eq!(got.ts_ns(), want.ts_ns());
    assert_eq!(got.src(), want.src());
    // In time order, file after file: the same trace again, built without re-sorting.
    let in_order: Vec<PathBuf> = ["c.pcap", "d.pcap", "b.pcap"]
        .iter()
        .map(|n| dir.join(n))
        .collect();
    let again = paper_a::read_captures(&in_order).unwrap();
    assert_eq!(again.ts_ns(), want.ts_ns());
    assert_eq!(again.dst_port(), want.dst_port());
    std::fs::remove_dir_all(&dir).ok();
}

/// The library resolves directories as the command-line programs do: captures are recognised
/// by their first bytes (a gzip-compressed pcap with any name is read), other files are skipped
/// with an input warning, and a file named twice is read once.
#[test]
fn load_input_resolves_directories_by_content_and_warns_about_the_rest() {
    use darknet_core::{PcapWriter, PcapWriterOptions};
    use darknet_pipelines::progress::{Event, WarningKind};
    use std::io::Write;
    let darknet = tiny_synth(3).build().unwrap();
    let dir = tmp("resolve");
    let day0 = darknet.day(0);
    let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default()).unwrap();
    for p in &day0 {
        w.write_packet(p).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&w.finish().unwrap()).unwrap();
    std::fs::write(dir.join("day0.capture"), gz.finish().unwrap()).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a capture\n").unwrap();
    let warnings = std::sync::Mutex::new(Vec::new());
    let obs = |e: &Event<'_>| {
        if let Event::Warning(w) = e {
            warnings.lock().unwrap().push((w.kind, w.message.clone()));
        }
    };
    let input = Input::Files {
        paths: vec![dir.clone(), dir.join("day0.capture")],
        labels: None,
    };
    let got = paper_a::load_input(&input, 2, &obs).unwrap();
    assert_eq!(got.trace.len(), day0.len());
    let warnings = warnings.into_inner().unwrap();
    assert!(
        warnings.iter().all(|(k, _)| *k == WarningKind::Input),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|(_, m)| m.contains("notes.txt")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|(_, m)| m.contains("given twice")),
        "{warnings:?}"
    );
    // A directory without any capture is an error naming what was skipped.
    let empty = tmp("resolve-empty");
    std::fs::write(empty.join("labels.csv"), "ip,14\n192.0.2.1,1\n").unwrap();
    let err = paper_a::read_captures(std::slice::from_ref(&empty)).unwrap_err();
    assert!(err.to_string().contains("labels.csv"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&empty).ok();
}

/// The fields of a run that must not depend on how the input was read.
fn assert_same_run(a: &paper_a::PaperAResult, b: &paper_a::PaperAResult) {
    assert_eq!(a.n_packets_in, b.n_packets_in);
    assert_eq!(a.n_hosts_in, b.n_hosts_in);
    assert_eq!(a.n_days, b.n_days);
    assert_eq!(a.filters, b.filters);
    assert_eq!(a.ports, b.ports);
    assert_eq!(a.dataset, b.dataset);
    assert_eq!(a.autoencoder_curve.losses(), b.autoencoder_curve.losses());
    assert_eq!(a.gcn, b.gcn);
    assert_eq!(a.baseline, b.baseline);
    for (p, q) in a.partitions.iter().zip(&b.partitions) {
        assert_eq!(p.test_hosts, q.test_hosts);
        assert_eq!(p.gcn_scores, q.gcn_scores);
    }
}

#[test]
fn streaming_gives_the_in_memory_results() {
    let input = Input::Synthetic(tiny_synth(3).days(9));
    let mut cfg = tiny_config();
    cfg.partitions_to_run = 1;
    cfg.final_model = false;
    let in_memory = paper_a::run(&input, &cfg, &Silent).unwrap();
    cfg.stream = true;
    let streamed = paper_a::run(&input, &cfg, &Silent).unwrap();
    assert_same_run(&in_memory, &streamed);
    assert!(
        streamed.timings[0].0.starts_with("pass 1"),
        "{:?}",
        streamed.timings
    );
    // Filters switched off, and a small vertical-scan threshold.
    cfg.filters.isolated = false;
    cfg.filters.periodic = false;
    cfg.filters.vertical_tcp_ports = 9;
    let streamed = paper_a::run(&input, &cfg, &Silent).unwrap();
    cfg.stream = false;
    let in_memory = paper_a::run(&input, &cfg, &Silent).unwrap();
    assert_same_run(&in_memory, &streamed);
    assert_eq!(streamed.filters.steps.len(), 2);
}

#[test]
fn streaming_reads_captures_twice_and_names_a_file_out_of_time_order() {
    use darknet_core::{PcapWriter, PcapWriterOptions};
    let darknet = tiny_synth(2).build().unwrap();
    let dir = tmp("stream-captures");
    let labels = dir.join("reports.csv");
    let mut reports = Vec::new();
    darknet_core::label::write_abuse_reports(&mut reports, darknet.reports(), "reports.csv")
        .unwrap();
    std::fs::write(&labels, reports).unwrap();
    // Captures are read in path order (as the command-line programs read them): `ordered/`
    // names its days in time order, `shuffled/` starts with day 2.
    let (ordered, shuffled) = (dir.join("ordered"), dir.join("shuffled"));
    std::fs::create_dir_all(&ordered).unwrap();
    std::fs::create_dir_all(&shuffled).unwrap();
    for (name, d) in [("b.pcap", 2), ("c.pcap", 0), ("d.pcap", 1)] {
        let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default()).unwrap();
        for p in &darknet.day(d) {
            w.write_packet(p).unwrap();
        }
        let bytes = w.finish().unwrap();
        std::fs::write(shuffled.join(name), &bytes).unwrap();
        std::fs::write(ordered.join(format!("day{d}.pcap")), &bytes).unwrap();
    }
    let in_order = Input::Files {
        paths: ["day2.pcap", "day0.pcap", "day1.pcap"]
            .iter()
            .map(|n| ordered.join(n))
            .collect(),
        labels: Some(labels.clone()),
    };
    let mut cfg = tiny_config();
    cfg.partitions_to_run = 1;
    cfg.final_model = false;
    let in_memory = paper_a::run(&in_order, &cfg, &Silent).unwrap();
    cfg.stream = true;
    let streamed = paper_a::run(&in_order, &cfg, &Silent).unwrap();
    assert_same_run(&in_memory, &streamed);
    // The directory in name order starts with day 2: the stream cannot take it.
    let by_name = Input::Files {
        paths: vec![shuffled],
        labels: Some(labels),
    };
    let e = paper_a::run(&by_name, &cfg, &Silent).unwrap_err();
    assert!(matches!(e, PaperAError::Stream { .. }), "{e}");
    assert!(e.to_string().contains("c.pcap"), "{e}");
    assert!(e.to_string().contains("time order"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_capture_nothing_was_decoded_from_is_a_warning_among_good_ones() {
    use darknet_core::{PcapWriter, PcapWriterOptions};
    use darknet_pipelines::progress::{Event, WarningKind};
    use std::sync::Mutex;
    let darknet = tiny_synth(3).build().unwrap();
    let dir = tmp("nothing-decoded");
    let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default()).unwrap();
    for p in &darknet.day(0) {
        w.write_packet(p).unwrap();
    }
    let good = w.finish().unwrap();
    std::fs::write(dir.join("good.pcap"), &good).unwrap();
    // The same Ethernet frames stamped as raw IP (link type 101): every frame is skipped.
    let mut bad = good.clone();
    let lt = if bad[0] == 0xd4 || bad[0] == 0x4d {
        101u32.to_le_bytes()
    } else {
        101u32.to_be_bytes()
    };
    bad[20..24].copy_from_slice(&lt);
    std::fs::write(dir.join("wrong-link.pcap"), &bad).unwrap();
    let seen = Mutex::new(Vec::new());
    let obs = |e: &Event<'_>| {
        if let Event::Warning(w) = e {
            seen.lock().unwrap().push((w.kind, w.message.clone()));
        }
    };
    let input = Input::Files {
        paths: vec![dir.join("good.pcap"), dir.join("wrong-link.pcap")],
        labels: None,
    };
    let ing = paper_a::load_input(&input, 2, &obs).unwrap();
    assert_eq!(ing.trace.len(), darknet.day(0).len());
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0, WarningKind::Input);
    assert!(seen[0].1.contains("wrong-link.pcap"), "{seen:?}");
}
