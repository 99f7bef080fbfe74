//! CPU time and page faults of the training steps (not a criterion bench): on a shared machine
//! wall-clock medians swing by ±40 %, while the process's CPU time and its minor page faults
//! (fresh pages the kernel had to zero) show what buffer reuse changes. Linux only (reads
//! `/proc/self/stat`); elsewhere the CPU and fault columns are 0.
//!
//! `cargo bench -p darknet-benches --bench nn_cpu -- [paper_a|gcn|gru] [repetitions]` (all
//! three, 5 repetitions, by default). Each line: median wall time, median CPU time (user +
//! system, all threads, 10 ms resolution) and median minor faults per call, after one warm-up
//! call. Fixtures shared with the `nn` and `nn_temporal` benches (`darknet_benches`).
use darknet_nn::model::temporal::{
    gcn_step, gru_step, DaySnapshot, EdgePredictor, GcnEncoder, GcnGruEncoder, LinkModel,
};
use darknet_nn::{Adam, AdamConfig, GraphClassifier, GraphClassifierConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// (minor faults, user+system seconds) of this process.
fn usage() -> (u64, f64) {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return (0, 0.0);
    };
    let rest = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // fields after the command: state(3) ppid(4) ... minflt is field 10, utime 14, stime 15
    let minflt: u64 = f[10 - 3].parse().unwrap();
    let ut: f64 = f[14 - 3].parse().unwrap();
    let st: f64 = f[15 - 3].parse().unwrap();
    (minflt, (ut + st) / 100.0)
}

fn measure(label: &str, reps: usize, mut f: impl FnMut()) {
    f(); // warm-up
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut faults = Vec::new();
    for _ in 0..reps {
        let (f0, c0) = usage();
        let t = Instant::now();
        f();
        let w = t.elapsed().as_secs_f64();
        let (f1, c1) = usage();
        walls.push(w);
        cpus.push(c1 - c0);
        faults.push(f1 - f0);
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let mut fl: Vec<f64> = faults.iter().map(|&x| x as f64).collect();
    println!(
        "{label}: wall median {:.1} ms (min {:.1}), cpu median {:.1} ms, minor faults median {:.0}",
        med(&mut walls.clone()) * 1e3,
        walls.iter().cloned().fold(f64::MAX, f64::min) * 1e3,
        med(&mut cpus) * 1e3,
        med(&mut fl)
    );
}

fn adam() -> Adam<f32> {
    Adam::new(AdamConfig::default().learning_rate(1e-3).weight_decay(5e-3)).unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let what = args.first().cloned().unwrap_or_else(|| "all".to_string());
    let reps: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let all = what == "all";
    if all || what == "paper_a" {
        let (graphs, labels) = darknet_benches::host_graphs(10_000, 10);
        let cfg = GraphClassifierConfig::default().batch_size(256);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut model = GraphClassifier::<f32>::new(cfg.clone(), 36, 7, &mut rng).unwrap();
        let mut opt = Adam::new(cfg.train.adam).unwrap();
        measure("paper_a train_epoch", reps, || {
            model
                .train_epoch(&graphs, labels.view(), &mut opt, &mut rng)
                .unwrap();
        });
        {
            let mut ws = darknet_nn::model::ClassifierWorkspace::new();
            measure("paper_a train_epoch_into (reused workspace)", reps, || {
                model
                    .train_epoch_into(&graphs, labels.view(), &mut opt, &mut rng, &mut ws)
                    .unwrap();
            });
        }
    }
    if all || what == "gcn" {
        let day = darknet_benches::paper_b_day_graph(1);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut model = LinkModel {
            encoder: GcnEncoder::new(37, &[1024, 512], 128, &mut rng),
            predictor: EdgePredictor::new(128, 64, &mut rng),
        };
        let mut opt = adam();
        measure("gcn_step features", reps, || {
            gcn_step(&mut model, &day, true, &mut opt).unwrap();
        });
        {
            let mut ws = darknet_nn::model::temporal::StepWorkspace::new();
            measure("gcn_step_into features (reused workspace)", reps, || {
                darknet_nn::model::temporal::gcn_step_into(
                    &mut model, &day, true, &mut opt, &mut ws,
                )
                .unwrap();
            });
        }
    }
    if all || what == "gru" {
        let days: Vec<DaySnapshot<f32>> = (0..6)
            .map(|t| darknet_benches::paper_b_day_graph(10 + t))
            .collect();
        let window: Vec<&DaySnapshot<f32>> = days.iter().collect();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut model = LinkModel {
            encoder: GcnGruEncoder::new(37, &[1024, 512], 128, &mut rng),
            predictor: EdgePredictor::new(128, 64, &mut rng),
        };
        let mut opt = adam();
        measure("gru_step h5", reps, || {
            gru_step(&mut model, &window, true, &mut opt).unwrap();
        });
        {
            let mut ws = darknet_nn::model::temporal::StepWorkspace::new();
            measure("gru_step_into h5 (reused workspace)", reps, || {
                darknet_nn::model::temporal::gru_step_into(
                    &mut model, &window, true, &mut opt, &mut ws,
                )
                .unwrap();
            });
        }
    }
}
