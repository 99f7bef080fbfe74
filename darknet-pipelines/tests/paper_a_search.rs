//! Paper A's hyper-parameter search over the embedding axes of Table II: the folds stay inside
//! each partition's training part, the same seed makes the same choice, only the embeddings the
//! budget's points need are computed, and a partition that chooses another embedding than the
//! run's gives consistent shapes.

use darknet_eval::selection::{Budget, ParamGrid, ParamPoint};
use darknet_pipelines::paper_a::search::{self, EmbeddingSetting, SearchData, SearchSettings};
use darknet_pipelines::paper_a::{self, tiny_synth, Dataset, Input, PaperAConfig};
use darknet_pipelines::progress::Silent;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// A quick configuration: one partition, no baseline, hybrid or final model.
fn config() -> PaperAConfig {
    let mut c = PaperAConfig::quick(3);
    c.partitions_to_run = 1;
    c.baseline = None;
    c.hybrid = None;
    c.final_model = false;
    c.autoencoder.train.max_epochs = 3;
    c.classifier.train.max_epochs = 2;
    c
}

/// Width of the node features of a dataset's host graphs.
fn n_features(d: &Dataset) -> usize {
    d.graphs.graphs[0].features().ncols()
}

#[test]
fn folds_stay_in_the_training_part_and_use_the_points_embedding() {
    let mut cfg = config();
    cfg.search = Some(SearchSettings {
        budget: Budget::Full,
        folds: 3,
        grid: ParamGrid::new()
            .axis("latent_size", [4, 8])
            .unwrap()
            .axis("first_size", [8, 16])
            .unwrap(),
    });
    // The stages `run` chains, by hand.
    let ing = paper_a::load_input(&Input::Synthetic(tiny_synth(3)), 2, &Silent).unwrap();
    let (trace, _) = paper_a::filter_trace(ing.trace, &cfg.filters, &Silent).unwrap();
    let ports = paper_a::port_stage(&trace, &cfg, &Silent).unwrap();
    let graph = darknet_graph::PortGraph::from_trace(&trace).unwrap();
    let build = |emb: &darknet_graph::PortEmbeddings| {
        paper_a::build_dataset(&trace, emb, &ing.labels, cfg.n_partitions)
    };
    let data = build(&ports.embeddings).unwrap();
    let n_ports = ports.summary.n_ports;
    let wanted = search::needed_embeddings(&cfg, n_ports).unwrap();
    let latent4 = EmbeddingSetting {
        latent_size: 4,
        ..EmbeddingSetting::of_config(&cfg).clamped(n_ports)
    };
    assert_eq!(wanted, vec![latent4], "latent 8 is the run's own");
    let mut others = BTreeMap::new();
    for &s in &wanted {
        let (_, d) = paper_a::embedding_variant(&graph, s, &data, &cfg, &Silent, &build).unwrap();
        assert_eq!(d.graphs.hosts, data.graphs.hosts);
        others.insert(s, d);
    }
    let sets = SearchData {
        default_setting: EmbeddingSetting::of_config(&cfg).clamped(n_ports),
        default: &data,
        others: &others,
        n_ports,
    };

    // Partition 0 as `evaluate_partitions` draws it: part 0 is the test part.
    let n = data.graphs.len();
    let parts =
        darknet_eval::k_fold(&(0..n).collect::<Vec<_>>(), cfg.n_partitions, cfg.seed).unwrap();
    let test: BTreeSet<usize> = parts[0].test.iter().copied().collect();
    let fit = &parts[0].train;
    let seen = Mutex::new(Vec::new());
    let run_search = || {
        search::search_with(
            &sets,
            fit,
            &cfg,
            cfg.search.as_ref().unwrap(),
            0,
            |point: &ParamPoint, d: &Dataset, fold_index, fold| {
                seen.lock()
                    .unwrap()
                    .push((point.clone(), n_features(d), fold_index, fold.clone()));
                // A stand-in score that prefers latent 4 and first size 16.
                let l = point.size("latent_size").unwrap() as f64;
                let f = point.size("first_size").unwrap() as f64;
                Ok(-l + f / 100.0)
            },
        )
        .unwrap()
        .unwrap()
    };
    let chosen = run_search();
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 4 * 3, "every point on every fold");
    for (point, width, _, fold) in &calls {
        // The folds use only the partition's training hosts, never its test part.
        assert!(fold.train.iter().chain(&fold.test).all(|i| fit.contains(i)));
        assert!(fold
            .train
            .iter()
            .chain(&fold.test)
            .all(|i| !test.contains(i)));
        assert!(fold.train.iter().all(|i| !fold.test.contains(i)));
        // Each point trains on the host graphs of its own embedding.
        let latent = point.size("latent_size").unwrap();
        assert_eq!(*width, darknet_graph::n_host_features(latent));
    }
    assert_eq!(chosen.best().size("latent_size").unwrap(), 4);
    assert_eq!(chosen.best().size("first_size").unwrap(), 16);
    assert_eq!(sets.setting_of(chosen.best()).unwrap(), latent4);
    // Same seed, same folds and the same choice.
    seen.lock().unwrap().clear();
    assert_eq!(run_search(), chosen);
    let mut again = seen.lock().unwrap().clone();
    let mut first = calls;
    let key = |c: &(ParamPoint, usize, usize, darknet_eval::split::Fold)| (c.0.describe(), c.2);
    again.sort_by_key(key);
    first.sort_by_key(key);
    assert_eq!(again, first);

    // Without the other datasets, a point of another embedding is an error naming it.
    let alone = SearchData::single(&data, &cfg);
    let e = search::search(&alone, fit, &cfg, cfg.search.as_ref().unwrap(), 0).unwrap_err();
    assert!(e.to_string().contains("latent_size=4"), "{e}");
}

#[test]
fn a_random_budget_computes_only_the_embeddings_it_draws_and_shapes_stay_consistent() {
    let input = Input::Synthetic(tiny_synth(3));
    let mut cfg = config();
    // 8 embedding settings, none of them the run's own (64 references, latent 8, 1 hidden).
    let grid = ParamGrid::new()
        .axis("references", [16, 32])
        .unwrap()
        .axis("latent_size", [4, 6])
        .unwrap()
        .axis("ae_hidden_layers", [0, 1])
        .unwrap()
        .axis("first_size", [8])
        .unwrap();
    cfg.search = Some(SearchSettings {
        budget: Budget::Random(2),
        folds: 2,
        grid: grid.clone(),
    });
    let r = paper_a::run(&input, &cfg, &Silent).unwrap();
    // The settings of the two points drawn for partition 0 (seed + 0), and no other.
    let n_ports = r.ports.n_ports;
    let default = EmbeddingSetting::of_config(&cfg);
    let drawn: Vec<EmbeddingSetting> = grid
        .candidates(Budget::Random(2), cfg.seed)
        .into_iter()
        .map(|i| {
            EmbeddingSetting::of_point(&grid.point(i).unwrap(), default)
                .unwrap()
                .clamped(n_ports)
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(drawn.len(), 2);
    assert_eq!(r.search_embeddings, drawn);

    // Partition 0 chose one of them; its models and the kept model use that embedding.
    let p = &r.partitions[0];
    let s = p.search.as_ref().unwrap();
    assert_eq!(s.candidates.len(), 2);
    let chosen = p.embedding.expect("not the run's embedding");
    assert!(drawn.contains(&chosen));
    assert_eq!(
        chosen.latent_size,
        s.best().size("latent_size").unwrap(),
        "{s:?}"
    );
    let width = darknet_graph::n_host_features(chosen.latent_size);
    assert_eq!(p.classifier.n_features(), width);
    assert_eq!(
        p.gcn_scores.dim(),
        (p.test_hosts.len(), r.label_names.len())
    );
    assert_eq!(r.model.meta.embedding_dim, chosen.latent_size);
    assert_eq!(r.model.meta.n_features, width);
    assert_eq!(r.model.meta.reference_ports.len(), chosen.references);
    let trace = tiny_synth(4).build().unwrap().trace();
    let pred = r.model.predict(&trace, 64).unwrap();
    assert_eq!(pred.scores.dim(), (pred.hosts.len(), r.label_names.len()));

    // The choice goes to metrics.json and report.md with all the searched values.
    let m: serde_json::Value = serde_json::from_str(&paper_a::output::metrics_json(&r)).unwrap();
    let pj = &m["partitions"][0];
    assert_eq!(pj["embedding"]["latent_size"], chosen.latent_size);
    let best = &pj["search"]["candidates"][pj["search"]["chosen"].as_u64().unwrap() as usize];
    for axis in [
        "references",
        "latent_size",
        "ae_hidden_layers",
        "first_size",
    ] {
        assert!(best["params"][axis].is_i64(), "{axis}: {best}");
    }
    assert_eq!(m["search_embeddings"].as_array().unwrap().len(), 2);
    let md = paper_a::output::report_markdown(&r);
    assert!(md.contains("not the run's own"), "{md}");

    // Same seed, same choice.
    let again = paper_a::run(&input, &cfg, &Silent).unwrap();
    assert_eq!(again.partitions[0].search, r.partitions[0].search);
    assert_eq!(again.partitions[0].gcn_scores, r.partitions[0].gcn_scores);
}

#[test]
fn bad_embedding_axes_are_errors_before_any_work() {
    let input = Input::Synthetic(tiny_synth(3));
    let mut cfg = config();
    for (axis, value, says) in [
        ("latent_size", 0, "latent"),
        ("references", 0, "references"),
        ("ae_hidden_layers", 99, "hidden"),
    ] {
        cfg.search = Some(SearchSettings {
            budget: Budget::Full,
            folds: 2,
            grid: ParamGrid::new().axis(axis, [value]).unwrap(),
        });
        let e = paper_a::run(&input, &cfg, &Silent).unwrap_err();
        assert!(e.to_string().contains(says), "{axis}: {e}");
    }
    // References beyond the ports are clamped: 100 and 5000 are one embedding for 100 ports,
    // computed once; the run's own (64) is not recomputed.
    cfg.search = Some(SearchSettings {
        budget: Budget::Full,
        folds: 2,
        grid: ParamGrid::new()
            .axis("references", [50, 64, 100, 5000])
            .unwrap(),
    });
    let own = EmbeddingSetting::of_config(&cfg);
    let at = |references| EmbeddingSetting { references, ..own };
    assert_eq!(
        search::needed_embeddings(&cfg, 100).unwrap(),
        vec![at(50), at(100)]
    );
    // Each partition run draws its own random points: their union is needed.
    cfg.search.as_mut().unwrap().budget = Budget::Random(1);
    cfg.partitions_to_run = 5;
    let union = search::needed_embeddings(&cfg, 100).unwrap();
    cfg.partitions_to_run = 1;
    let first = search::needed_embeddings(&cfg, 100).unwrap();
    assert!(first.len() <= 1 && first.iter().all(|e| union.contains(e)));

    // The default grid is the classifier axes; Table II adds the three embedding axes.
    assert_eq!(SearchSettings::default().grid, search::classifier_grid());
    assert!(!SearchSettings::default().searches_embedding());
    let t2 = search::table2_grid();
    assert_eq!(t2.len(), 729);
    assert_eq!(
        t2.axes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()[..3],
        search::EMBEDDING_AXES
    );
}
