//! Paper B models saved, reloaded and used to embed days without retraining: the training days
//! come back as training embedded them, hosts and ports never seen in training are treated as
//! documented, and damaged model directories give errors naming the file and line.

use darknet_core::{Packet, Protocol, Trace};
use darknet_pipelines::paper_b::{
    self, load_input, prepare, tiny_synth, train_variant, Ingested, Input, ModelKind, PaperBConfig,
    PaperBError, PaperBModel, Variant,
};
use darknet_pipelines::progress::{Event, Silent, WarningKind};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("paper-b-reload-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tiny_config(models: &[(ModelKind, bool)]) -> PaperBConfig {
    let mut c = PaperBConfig::quick(3);
    c.variants = models.iter().map(|&(m, f)| Variant::new(m, f)).collect();
    c.temporal = c.temporal.gcn_dims(vec![16, 8]).emb_dim(8).max_epochs(3);
    c.word2vec = c.word2vec.dim(8);
    c
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn reloaded_models_reproduce_the_training_embeddings() {
    let input = Input::Synthetic(tiny_synth(3).days(4).hosts(300));
    let mut cfg = tiny_config(&[
        (ModelKind::GcnGru, true),
        (ModelKind::IGcnGru, false),
        (ModelKind::IDarkVec, false),
    ]);
    cfg.temporal.history = 1;
    let out = tmp("same");
    let dir = paper_b::OutputDir {
        dir: &out,
        embeddings: true,
    };
    paper_b::run(&input, &cfg, Some(dir), &[], &Silent).unwrap();
    let trace = load_input(&input).unwrap().trace;
    for v in &cfg.variants {
        let name = v.name();
        let mut model = PaperBModel::load(&out.join("models").join(&name)).unwrap();
        assert_eq!(model.variant, *v);
        let emb = model.embed(&trace, &Silent).unwrap();
        let again = out.join("again").join(&name);
        emb.write_csv(&again).unwrap();
        let trained = out.join("embeddings").join(&name);
        let trained_days = files(&trained);
        // The frozen GCN-GRU embeds every day with the final model; the others change the
        // model day by day, so only the last day is embedded by the model as saved.
        let compared: Vec<String> = if v.model == ModelKind::GcnGru {
            trained_days.clone()
        } else {
            vec![trained_days.last().unwrap().clone()]
        };
        for day in &compared {
            let a = std::fs::read(trained.join(day)).unwrap();
            let b = std::fs::read(again.join(day)).unwrap_or_default();
            assert!(a == b, "{name} {day}: reloaded embeddings differ");
        }
        assert!(emb.warnings.is_empty(), "{name}: {:?}", emb.warnings);
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
        ttl: 40 + src as u8,
        ip_len: 40 + 4 * k as u16,
        ..Packet::default()
    }
}

/// Host `src` sends 8 packets on `day`, spread over `ports`.
fn host_day(out: &mut Vec<Packet>, src: u32, day: u64, ports: &[u16]) {
    for k in 0..8 {
        out.push(pkt(
            src,
            day,
            k + 10 * u64::from(src),
            ports[k as usize % ports.len()],
        ));
    }
}

/// Three days of six hosts over ports 22, 23, 80 and 443; with top-2 ports the rest is "other".
fn training_trace() -> Trace {
    let mut p = Vec::new();
    for day in 20_000..20_003 {
        host_day(&mut p, 1, day, &[22, 23]);
        host_day(&mut p, 2, day, &[23]);
        host_day(&mut p, 3, day, &[22, 80]);
        host_day(&mut p, 4, day, &[443]);
        host_day(&mut p, 5, day, &[22]);
        host_day(&mut p, 6, day, &[23, 80, 443]);
    }
    p.sort_by_key(|x| x.ts_ns);
    Trace::from_packets(p)
}

fn trained(variant: (ModelKind, bool)) -> PaperBModel {
    let mut cfg = tiny_config(&[variant]);
    cfg.top_k_ports = 2;
    cfg.test_days = Some(1);
    let ing = Ingested {
        trace: training_trace(),
        truth: darknet_core::GroundTruth::from_pairs(Vec::new()),
    };
    let prep = prepare(&ing, &cfg, &Silent).unwrap();
    let v = Variant::new(variant.0, variant.1);
    let run = train_variant(&prep, v, &cfg, &mut |_, _| {}).unwrap();
    PaperBModel::from_run(&prep, &run, &cfg)
}

/// One new day: known hosts 1 and 2, unknown host 100; port 9999 never seen in training.
fn new_day() -> Trace {
    let mut p = Vec::new();
    host_day(&mut p, 1, 20_010, &[22, 9999]);
    host_day(&mut p, 2, 20_010, &[9999]);
    host_day(&mut p, 100, 20_010, &[22, 9999]);
    p.sort_by_key(|x| x.ts_ns);
    Trace::from_packets(p)
}

fn addr(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0A00_0000 + i)
}

fn embed_collecting(model: &mut PaperBModel, trace: &Trace) -> (paper_b::Embedded, usize) {
    let seen = Mutex::new(0usize);
    let obs = |e: &Event<'_>| {
        if let Event::Warning(w) = e {
            assert_eq!(w.kind, WarningKind::UnseenNodes);
            *seen.lock().unwrap() += 1;
        }
    };
    let e = model.embed(trace, &obs).unwrap();
    let n = *seen.lock().unwrap();
    (e, n)
}

#[test]
fn with_features_unseen_hosts_and_ports_are_embedded() {
    let mut model = trained((ModelKind::Gcn, true));
    assert!(model.nodes.ports.contains(&darknet_graph::PortNode::Other));
    let (e, sent) = embed_collecting(&mut model, &new_day());
    assert_eq!(e.days.len(), 1);
    assert_eq!(e.days[0].label(), darknet_core::day_label(20_010));
    assert_eq!(e.days[0].hosts, vec![addr(1), addr(2), addr(100)]);
    assert_eq!(e.days[0].embeddings.dim(), (3, 8));
    assert!(e.days[0].embeddings.iter().all(|v| v.is_finite()));
    assert_eq!(e.warnings.len(), 1);
    assert_eq!(sent, 1, "warnings also reach the observer");
    assert!(
        e.warnings[0].message.contains("1 host(s) and 1 port(s)"),
        "{}",
        e.warnings[0]
    );
}

#[test]
fn without_features_unseen_hosts_are_left_out_and_unseen_ports_join_other() {
    let mut model = trained((ModelKind::IGcn, false));
    let (e, sent) = embed_collecting(&mut model, &new_day());
    assert_eq!(e.days.len(), 1);
    assert_eq!(e.days[0].hosts, vec![addr(1), addr(2)]);
    assert_eq!(e.warnings.len(), 1);
    assert_eq!(sent, 1);
    let msg = &e.warnings[0].message;
    assert!(msg.contains("1 host(s) never seen"), "{msg}");
    assert!(msg.contains("joined the \"other\" port"), "{msg}");
    // Host 2 sent only to the unseen port: through "other" it still has a neighbour, so its
    // embedding differs from a host of the same day without edges would get.
    assert!(e.days[0].embeddings.iter().all(|v| v.is_finite()));
    // A day of unseen hosts only has nothing to embed.
    let mut p = Vec::new();
    host_day(&mut p, 200, 20_011, &[22]);
    let (e, _) = embed_collecting(&mut model, &Trace::from_packets(p));
    assert!(e.days.is_empty());
    assert!(e
        .warnings
        .iter()
        .any(|w| w.message.contains("not embedded")));
}

#[test]
fn idarkvec_skips_words_never_seen() {
    let mut model = trained((ModelKind::IDarkVec, false));
    let (e, sent) = embed_collecting(&mut model, &new_day());
    assert_eq!(e.days[0].hosts, vec![addr(1), addr(2)]);
    assert_eq!(sent, 1);
}

#[test]
fn saved_models_round_trip_and_damage_is_named() {
    let model = trained((ModelKind::IGcnGru, true));
    let dir = tmp("damage");
    model.save(&dir).unwrap();
    let mut back = PaperBModel::load(&dir).unwrap();
    assert_eq!(back.nodes, model.nodes);
    assert_eq!(back.snapshot, model.snapshot);
    assert_eq!(back.variant, model.variant);
    // Embedding with the reloaded copy gives the original's bytes.
    let mut orig = model.clone();
    let a = orig.embed(&training_trace(), &Silent).unwrap();
    let b = back.embed(&training_trace(), &Silent).unwrap();
    assert_eq!(a.days, b.days);

    let nodes = std::fs::read_to_string(dir.join("nodes.csv")).unwrap();
    std::fs::write(dir.join("nodes.csv"), nodes.replace("10.0.0.3", "10.0.0.x")).unwrap();
    let e = PaperBModel::load(&dir).unwrap_err();
    assert!(matches!(e, PaperBError::SavedModel { line: 4, .. }), "{e}");
    assert!(e.to_string().contains("nodes.csv: line 4"), "{e}");

    std::fs::write(dir.join("nodes.csv"), nodes.replace("id,node", "node")).unwrap();
    let e = PaperBModel::load(&dir).unwrap_err();
    assert!(e.to_string().contains("header"), "{e}");

    std::fs::write(dir.join("nodes.csv"), &nodes).unwrap();
    let v = std::fs::read_to_string(dir.join("variant.json")).unwrap();
    std::fs::write(
        dir.join("variant.json"),
        v.replace("igcngru_features", "igcngru_x"),
    )
    .unwrap();
    let e = PaperBModel::load(&dir).unwrap_err();
    assert!(e.to_string().contains("variant"), "{e}");

    std::fs::write(
        dir.join("variant.json"),
        v.replace("igcngru_features", "gcn_features"),
    )
    .unwrap();
    let e = PaperBModel::load(&dir).unwrap_err();
    assert!(e.to_string().contains("model family"), "{e}");

    std::fs::remove_file(dir.join("variant.json")).unwrap();
    let e = PaperBModel::load(&dir).unwrap_err();
    assert!(e.to_string().contains("variant.json"), "{e}");
}
