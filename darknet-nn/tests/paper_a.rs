//! Paper A's learning end to end on a toy problem: port auto-encoder → port embeddings → host
//! graph features → multi-label graph classifier → scores, with save / load of both models.

use darknet_nn::batch::Graph;
use darknet_nn::persist::{load, save};
use darknet_nn::train::TrainConfig;
use darknet_nn::{GraphClassifier, GraphClassifierConfig, PortAutoencoder, PortAutoencoderConfig};
use ndarray::{concatenate, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sprs::TriMat;

#[test]
fn autoencoder_embeddings_feed_the_classifier() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // 40 ports described by distances to 12 references: ports 0..20 are near references 0..6,
    // ports 20..40 near references 6..12.
    let distances = Array2::from_shape_fn((40, 12), |(p, r)| {
        let near = (p < 20) == (r < 6);
        let jitter = ((p * 7 + r * 3) % 11) as f32 / 50.0;
        if near {
            0.1 + jitter
        } else {
            0.8 + jitter
        }
    });
    let ae_cfg = PortAutoencoderConfig::default()
        .latent_dim(4)
        .batch_size(16)
        .max_epochs(30);
    let (ae, ae_curve) = ae_cfg.fit(distances.view(), &mut |_| {}).unwrap();
    assert!(ae_curve.final_loss().unwrap() < ae_curve.records[0].loss);
    let emb = ae.encode(distances.view()).unwrap();
    assert_eq!(emb.shape(), &[40, 4]);

    // Host graphs: class 0 hosts probe ports 0..20, class 1 hosts ports 20..40; node features
    // are a constant column plus the port's embedding.
    let mut graphs = Vec::new();
    let mut labels = Array2::<f32>::zeros((24, 2));
    for h in 0..24 {
        let class = h % 2;
        let n = rng.random_range(2..6);
        let ports: Vec<usize> = (0..n)
            .map(|_| class * 20 + rng.random_range(0..20))
            .collect();
        let mut t = TriMat::new((n, n));
        for i in 1..n {
            t.add_triplet(i, i - 1, 1.0f32);
            t.add_triplet(i - 1, i, 1.0f32);
        }
        let e = emb.select(Axis(0), &ports);
        let f = concatenate![Axis(1), Array2::ones((n, 1)), e];
        graphs.push(Graph::new(&t.to_csr(), f).unwrap());
        labels[[h, class]] = 1.0;
    }
    let cfg = GraphClassifierConfig::default()
        .first_size(16)
        .gcn_layers(2)
        .fc_layers(1)
        .train(
            TrainConfig::default()
                .learning_rate(0.01)
                .batch_size(8)
                .max_epochs(120)
                .patience(0),
        );
    let (clf, curve) = cfg.fit(&graphs, labels.view(), &mut |_| {}).unwrap();
    assert!(
        curve.final_loss().unwrap() < 0.5 * curve.records[0].loss,
        "{:?}",
        curve.losses()
    );
    let pred = clf.predict_graphs(&graphs, 8).unwrap();
    let correct = pred
        .iter()
        .zip(labels.iter())
        .filter(|(p, l)| **p == (**l > 0.5))
        .count();
    assert!(
        correct as f64 / pred.len() as f64 > 0.9,
        "{correct} of {}",
        pred.len()
    );

    // Save and load both models: identical outputs.
    let dir = std::env::temp_dir().join(format!("darknet-nn-paper-a-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    save(&ae, dir.join("ae.safetensors"), dir.join("ae.json")).unwrap();
    save(&clf, dir.join("clf.safetensors"), dir.join("clf.json")).unwrap();
    let ae2: PortAutoencoder<f32> = load(dir.join("ae.safetensors"), dir.join("ae.json")).unwrap();
    let clf2: GraphClassifier<f32> =
        load(dir.join("clf.safetensors"), dir.join("clf.json")).unwrap();
    assert_eq!(ae2.encode(distances.view()).unwrap(), emb);
    assert_eq!(
        clf2.scores_graphs(&graphs, 5).unwrap(),
        clf.scores_graphs(&graphs, 8).unwrap()
    );
    std::fs::remove_dir_all(dir).ok();
}
