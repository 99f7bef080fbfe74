//! Paper B end to end on a tiny synthetic darknet: outputs exist and parse, the link-prediction
//! loss falls, incremental schedules train each day once per epoch budget, seeds reproduce the
//! embeddings, kNN never scores Unknown hosts, and bad input gives clear errors or warnings.

use darknet_core::{Packet, Protocol, Trace};
use darknet_graph::build_corpora;
use darknet_pipelines::paper_b::{
    self, load_input, prepare, tiny_synth, train_variant, Ingested, Input, ModelKind, PaperBConfig,
    PaperBError, Variant,
};
use darknet_pipelines::progress::{Silent, WarningKind, Warnings};
use std::net::Ipv4Addr;
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("paper-b-test-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tiny_config(models: &[(ModelKind, bool)]) -> PaperBConfig {
    let mut c = PaperBConfig::quick(3);
    c.variants = models.iter().map(|&(m, f)| Variant::new(m, f)).collect();
    c.temporal = c.temporal.gcn_dims(vec![32, 16]).emb_dim(8).max_epochs(6);
    c.word2vec = c.word2vec.dim(8);
    c
}

#[test]
fn end_to_end_outputs_parse_and_losses_fall() {
    let input = Input::Synthetic(tiny_synth(3).days(6));
    let cfg = tiny_config(&[
        (ModelKind::Gcn, false),
        (ModelKind::IGcn, true),
        (ModelKind::GcnGru, true),
        (ModelKind::IGcnGru, true),
        (ModelKind::IDarkVec, false),
    ]);
    let out = tmp("e2e");
    let dir = paper_b::OutputDir {
        dir: &out,
        embeddings: true,
    };
    let r = paper_b::run(&input, &cfg, Some(dir), &[], &Silent).unwrap();
    paper_b::output::write_outputs(&out, &r).unwrap();
    assert_eq!(r.variants.len(), 5);
    assert_eq!(r.days.len(), 6);
    assert_eq!(r.test_days.len(), 2); // 6 × 11/31 rounded
    for v in &r.variants {
        if v.variant.model != ModelKind::IDarkVec {
            let (first, last) = v.loss_first_last.unwrap();
            assert!(last < first, "{}: loss {first} -> {last}", v.name);
        }
        let s = v.scores.as_ref().expect("evaluated");
        // kNN never scores Unknown hosts.
        assert!(s.daily.per_class.iter().all(|(c, _, _)| c != "unknown"));
        assert!(s.macro_f1.mean.unwrap() > 0.0, "{}", v.name);
    }
    // report.json parses with the documented keys.
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for v in &r.variants {
        let o = &j["variants"][&v.name];
        assert!(o["macro_f1"]["mean"].is_number(), "{}", v.name);
        assert!(o["train_seconds"].is_number());
        let pc = o["per_class_f1"].as_object().unwrap();
        assert!(!pc.is_empty());
        assert!(!pc.contains_key("unknown"));
        for e in pc.values() {
            assert!(e["mean"].is_number() && e["std"].is_number());
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("igcngru_features") && md.contains("Table 3"));
    assert!(out.join("training_curves.csv").exists());
    // Embedding CSVs: header src_ip,e0..e7, one row per active host of the day.
    let days = std::fs::read_to_string(out.join("days.csv")).unwrap();
    let day1: Vec<&str> = days.lines().nth(2).unwrap().split(',').collect();
    let f = out
        .join("embeddings/igcn_features")
        .join(format!("{}.csv", day1[0]));
    let text = std::fs::read_to_string(&f).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert_eq!(header, "src_ip,e0,e1,e2,e3,e4,e5,e6,e7");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), day1[1].parse::<usize>().unwrap());
    for row in &rows {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 9);
        cells[0].parse::<Ipv4Addr>().unwrap();
        for c in &cells[1..] {
            assert!(c.parse::<f32>().unwrap().is_finite());
        }
    }
    // i-GCN-GRU embeds from day H = 2 on; the frozen GCN-GRU embeds every day.
    assert!(!out
        .join("embeddings/igcngru_features")
        .join(format!("{}.csv", day1[0]))
        .exists());
    assert!(out
        .join("embeddings/gcngru_features")
        .join(format!("{}.csv", day1[0]))
        .exists());
    // Models saved with their configs and loadable.
    let m = out.join("models/igcngru_features");
    let model: darknet_nn::model::temporal::TemporalModel =
        darknet_nn::persist::load(m.join("model.safetensors"), m.join("config.json")).unwrap();
    assert_eq!(model.describe().emb_dim, 8);
    assert!(m.join("pipeline.json").exists());
    let w2v = darknet_nn::Word2Vec::<u32>::load(out.join("models/idarkvec/word2vec.safetensors"))
        .unwrap();
    assert_eq!(w2v.dim(), 8);
}

fn prepared(cfg: &PaperBConfig) -> (Ingested, paper_b::Prepared) {
    let ing = load_input(&Input::Synthetic(tiny_synth(5).days(5))).unwrap();
    let prep = prepare(&ing, cfg, &Silent).unwrap();
    (ing, prep)
}

#[test]
fn incremental_schedules_train_each_day_once_per_epoch_budget() {
    let mut cfg = tiny_config(&[(ModelKind::IGcn, true), (ModelKind::IGcnGru, false)]);
    cfg.temporal = cfg.temporal.incremental_epochs(2);
    let (_, prep) = prepared(&cfg);
    let n = prep.days.len();
    for v in &cfg.variants {
        let run = train_variant(&prep, *v, &cfg, &mut |_, _| {}).unwrap();
        let first = if v.model == ModelKind::IGcnGru {
            cfg.temporal.history
        } else {
            0
        };
        for t in 0..n {
            let steps: Vec<usize> = run.curve.iter().filter(|c| c.0 == t).map(|c| c.1).collect();
            let want: Vec<usize> = if t >= first { vec![0, 1] } else { vec![] };
            assert_eq!(steps, want, "{} day {t}", v.name());
        }
        // Days before a full history have no embedding, and asking for one is an error.
        if first > 0 {
            let e = run.day(&prep, 0).unwrap_err();
            assert!(matches!(e, PaperBError::NoEmbeddings { .. }), "{e}");
            assert!(e.to_string().contains("no embeddings for day"));
        }
        assert!(run.day(&prep, n - 1).is_ok());
        assert!(matches!(
            run.day(&prep, n + 3),
            Err(PaperBError::NoEmbeddings { .. })
        ));
    }
}

#[test]
fn same_seed_same_embeddings() {
    let cfg = tiny_config(&[(ModelKind::IGcnGru, true), (ModelKind::IDarkVec, false)]);
    let (_, prep) = prepared(&cfg);
    for v in &cfg.variants {
        let a = train_variant(&prep, *v, &cfg, &mut |_, _| {}).unwrap();
        let b = train_variant(&prep, *v, &cfg, &mut |_, _| {}).unwrap();
        assert_eq!(a.embeddings, b.embeddings, "{}", v.name());
    }
    // Another seed gives other embeddings.
    let mut other = cfg.clone();
    other.seed = 99;
    let (_, prep2) = prepared(&other);
    let a = train_variant(&prep, cfg.variants[0], &cfg, &mut |_, _| {}).unwrap();
    let b = train_variant(&prep2, cfg.variants[0], &other, &mut |_, _| {}).unwrap();
    assert_ne!(a.embeddings, b.embeddings);
}

#[test]
fn corpora_follow_the_snapshot_hosts() {
    let cfg = tiny_config(&[(ModelKind::IDarkVec, false)]);
    let (ing, prep) = prepared(&cfg);
    let corpora = build_corpora(&ing.trace, &cfg.snapshot_config()).unwrap();
    assert_eq!(corpora.len(), prep.days.len());
    for (c, s) in corpora.iter().zip(&prep.set.snapshots) {
        assert_eq!(c.day, s.day);
        let mut words: Vec<u32> = c.senders.iter().flatten().copied().collect();
        words.sort_unstable();
        words.dedup();
        let hosts: Vec<u32> = s.node_ids[..s.n_hosts]
            .iter()
            .map(|&h| u32::from(prep.set.hosts[h as usize]))
            .collect();
        assert_eq!(words, hosts);
        assert_eq!(c.ports.len(), s.n_ports());
        assert!(c.packets.windows(2).all(|w| w[0] >= w[1]));
        assert!(c.senders.iter().all(|l| l.windows(2).all(|w| w[0] != w[1])));
    }
}

fn pkt(src: u32, day: u64, k: u64, port: u16) -> Packet {
    Packet {
        ts_ns: day * darknet_core::NANOS_PER_DAY + k * 1_000_000_000,
        src: Ipv4Addr::from(0x0A00_0000 + src),
        dst: Ipv4Addr::new(198, 18, 16, (k % 200) as u8),
        proto: Protocol::Tcp,
        dst_port: port,
        tcp_flags: 2,
        ..Packet::default()
    }
}

#[test]
fn bad_input_is_an_error_or_a_warning() {
    // A day where nobody reaches the threshold is skipped with a warning.
    let mut packets = Vec::new();
    for day in 0..4u64 {
        for h in 0..12u32 {
            let n = if day == 2 { 2 } else { 8 };
            for k in 0..n {
                packets.push(pkt(
                    h,
                    19_000 + day,
                    k + u64::from(h) * 20,
                    20 + (h as u16 % 5),
                ));
            }
        }
    }
    let trace = Trace::from_packets(packets);
    let truth = darknet_core::GroundTruth::from_pairs(vec![
        (Ipv4Addr::from(0x0A00_0000), "not_a_paper_b_class".into()),
        (Ipv4Addr::new(203, 0, 113, 9), "censys".into()),
    ]);
    let ing = Ingested { trace, truth };
    let cfg = tiny_config(&[(ModelKind::IGcn, true)]);
    let prep = prepare(&ing, &cfg, &Silent).unwrap();
    assert_eq!(prep.days.len(), 3);
    let w: Vec<String> = prep.warnings.iter().map(|w| w.to_string()).collect();
    let w = w.join("\n");
    assert!(
        w.contains("1 day(s) without any host above the threshold"),
        "{w}"
    );
    assert!(w.contains("not_a_paper_b_class (1)"), "{w}");
    assert!(
        w.contains("1 of 2 address(es) never above the threshold"),
        "{w}"
    );

    // Fewer days than the history needs.
    let mut c = tiny_config(&[(ModelKind::IGcnGru, true)]);
    c.temporal.history = 5;
    let e = prepare(&ing, &c, &Silent).unwrap_err();
    assert!(matches!(e, PaperBError::TooFewDays { .. }), "{e}");
    assert!(e.to_string().contains("H + 1 = 6"), "{e}");

    // No host above the threshold on any day.
    let mut c = tiny_config(&[(ModelKind::IGcn, true)]);
    c.min_packets = 1_000;
    let e = prepare(&ing, &c, &Silent).unwrap_err();
    assert!(matches!(e, PaperBError::EmptyAfter { .. }), "{e}");
    assert!(e.to_string().contains("at least 1000 TCP packets"), "{e}");

    // Without any known class nothing is evaluated, but embeddings are produced.
    let cfg = tiny_config(&[(ModelKind::IGcn, true)]);
    let prep = prepare(&ing, &cfg, &Silent).unwrap();
    let run = train_variant(&prep, cfg.variants[0], &cfg, &mut |_, _| {}).unwrap();
    let mut warnings = Warnings::new(&Silent);
    assert!(paper_b::evaluate_variant(&prep, &run, &cfg, &mut warnings)
        .unwrap()
        .is_none());
    let w = &warnings.list[0];
    assert!(w.message.contains("no class with enough hosts"), "{w:?}");
    assert_eq!(w.kind, WarningKind::TooSmall);

    // A ground-truth file with a bad address names the line and the field.
    let dir = tmp("bad-gt");
    let gt = dir.join("gt.csv");
    std::fs::write(&gt, "ip,class\n10.0.0.1,censys\n10.0.0.300,censys\n").unwrap();
    let cap = dir.join("day.csv");
    std::fs::write(&cap, "not a capture\n").unwrap();
    let e = load_input(&Input::Files {
        paths: vec![cap],
        ground_truth: Some(gt.clone()),
    })
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("gt.csv") && msg.contains("line 3"), "{msg}");

    // Settings are checked before anything runs.
    let mut c = tiny_config(&[]);
    assert!(matches!(
        c.validate(),
        Err(PaperBError::InvalidConfig {
            field: "models",
            ..
        })
    ));
    c = tiny_config(&[(ModelKind::Gcn, true)]);
    c.test_days = Some(0);
    assert!(c.validate().is_err());
    c.test_days = Some(10);
    let e = prepare(&ing, &c, &Silent).unwrap_err();
    assert!(matches!(e, PaperBError::TooFewDays { .. }), "{e}");
}

#[test]
fn model_names_parse() {
    for m in ModelKind::ALL {
        assert_eq!(ModelKind::parse(m.name()), Some(m));
    }
    assert_eq!(ModelKind::parse("i-GCN-GRU"), Some(ModelKind::IGcnGru));
    assert_eq!(ModelKind::parse("transformer"), None);
    let v = paper_b::variants(&ModelKind::ALL, paper_b::FeatureChoice::Both);
    let names: Vec<String> = v.iter().map(Variant::name).collect();
    assert_eq!(
        names,
        [
            "gcn",
            "igcn",
            "gcngru",
            "igcngru",
            "gcn_features",
            "igcn_features",
            "gcngru_features",
            "igcngru_features",
            "idarkvec"
        ]
    );
}

#[test]
fn quick_demo_runs() {
    let d = paper_b::quick_demo(2).unwrap();
    assert_eq!(d.result.variants.len(), 3);
    assert!(d.result.variants.iter().all(|v| v.scores.is_some()));
}

#[test]
fn reference_code_readings_and_sweeps() {
    // B6, the code's i-GCN: only the first day trains, every day is embedded.
    let mut cfg = tiny_config(&[(ModelKind::IGcn, true)]);
    cfg.code = paper_b::CodeReadings::all();
    let (_, prep) = prepared(&cfg);
    let run = train_variant(&prep, cfg.variants[0], &cfg, &mut |_, _| {}).unwrap();
    assert!(run.curve.iter().all(|c| c.0 == 0), "{:?}", run.curve);
    assert!(run.embeddings.iter().all(Option::is_some));
    // B5, the code's GCN-GRU test window: day 0 has no window before it.
    let mut cfg = tiny_config(&[(ModelKind::GcnGru, true)]);
    cfg.code.gru_window_before_day = true;
    cfg.temporal.history = 1;
    let run = train_variant(&prep, cfg.variants[0], &cfg, &mut |_, _| {}).unwrap();
    assert!(run.embeddings[0].is_none() && run.embeddings[1].is_some());
    // B10: the flattened corpus trains too.
    let mut cfg = tiny_config(&[(ModelKind::IDarkVec, false)]);
    cfg.code.flattened_corpus = true;
    let (_, prep) = prepared(&cfg);
    let run = train_variant(&prep, cfg.variants[0], &cfg, &mut |_, _| {}).unwrap();
    assert!(run.embeddings.iter().all(Option::is_some));

    // Sweeps: one point per value that fits, in order; a history longer than the days is
    // skipped with a warning.
    let cfg = tiny_config(&[(ModelKind::IGcnGru, true)]);
    let (_, prep) = prepared(&cfg);
    let mut warnings = Warnings::new(&Silent);
    let pts = paper_b::sweep(
        &prep,
        &cfg,
        paper_b::SweepParam::History,
        &[0, 1, 50],
        &mut warnings,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(pts.iter().map(|p| p.value).collect::<Vec<_>>(), vec![0, 1]);
    assert!(
        warnings.list.iter().any(|w| w.message.contains("H = 50")),
        "{:?}",
        warnings.list
    );
    let csv = paper_b::output::sweep_csv(paper_b::SweepParam::History, &pts);
    assert!(
        csv.starts_with("history,macro_f1_mean,macro_f1_std,n_days,train_seconds,paper_macro_f1\n")
    );
    assert!(csv.lines().nth(1).unwrap().ends_with(",0.729"));
}
