//! Robustness of the command lines on damaged input: every program run on seeded mutations of
//! captures (pcap, CSV), label and truth files and saved model directories. Each run must end
//! with exit 0 or 1 (no panic: 101; no abort or kill by a signal), within an address-space limit
//! and a time limit, and leave every input file byte for byte as it was.
//!
//! The mutations are seeded (`ChaCha8Rng`), so a failure names a case that reproduces.
mod common;

use common::{first_with_suffix, fixtures, run_limited, snapshot, Run, Scratch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Address-space limit of every run, in MB: far above what the tiny inputs need (a few MB of
/// heap), far below what a size read from a damaged file could ask for.
const MEMORY_LIMIT_MB: u64 = 1024;
/// Wall-clock limit of every run.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// One seeded damage to `bytes`.
fn mutate(bytes: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    if b.is_empty() {
        return b"\xff".to_vec();
    }
    let rounds = rng.random_range(1..=3);
    for _ in 0..rounds {
        let len = b.len().max(1);
        let at = rng.random_range(0..len);
        match rng.random_range(0..8) {
            // Flip bits of a few bytes.
            0 => {
                for _ in 0..rng.random_range(1..8) {
                    let i = rng.random_range(0..len);
                    if let Some(x) = b.get_mut(i) {
                        *x ^= 1 << rng.random_range(0..8);
                    }
                }
            }
            // Truncate.
            1 => b.truncate(at),
            // Insert random bytes.
            2 => {
                let n = rng.random_range(1..16);
                let ins: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                b.splice(at.min(b.len())..at.min(b.len()), ins);
            }
            // Delete a range.
            3 => {
                let end = (at + rng.random_range(1..64)).min(b.len());
                b.drain(at.min(end)..end);
            }
            // A 32-bit field set to an extreme (sizes, lengths, counts).
            4 => {
                let v: [u8; 4] = match rng.random_range(0..4) {
                    0 => [0xff; 4],
                    1 => [0; 4],
                    2 => [0xff, 0xff, 0xff, 0x7f],
                    _ => [0x00, 0x00, 0x00, 0x80],
                };
                for (k, x) in v.iter().enumerate() {
                    if let Some(y) = b.get_mut(at + k) {
                        *y = *x;
                    }
                }
            }
            // Duplicate a range.
            5 => {
                let end = (at + rng.random_range(1..256)).min(b.len());
                let chunk = b[at.min(end)..end].to_vec();
                b.splice(end..end, chunk);
            }
            // Text damage: a digit replaced by a huge number, or a separator changed.
            6 => {
                let digits: Vec<usize> = (0..b.len()).filter(|&i| b[i].is_ascii_digit()).collect();
                if !digits.is_empty() {
                    let i = digits[rng.random_range(0..digits.len())];
                    let big: &[u8] = match rng.random_range(0..4) {
                        0 => b"1000000000000",
                        1 => b"-1",
                        2 => b"NaN",
                        _ => b"99999999999999999999",
                    };
                    b.splice(i..=i, big.iter().copied());
                }
            }
            _ => {
                let seps: Vec<usize> = (0..b.len())
                    .filter(|&i| matches!(b[i], b',' | b'\n' | b'"' | b':' | b'{' | b'['))
                    .collect();
                if !seps.is_empty() {
                    let i = seps[rng.random_range(0..seps.len())];
                    b[i] = [b';', b',', b'\n', b'"', b'}', b' '][rng.random_range(0..6)];
                }
            }
        }
    }
    b
}

/// A case: a program, its arguments (with `{}` standing for the damaged input's path) and the
/// base file it damages.
struct Case {
    program: &'static str,
    args: Vec<String>,
}

/// The runs made and the failures found, shared by the threads of a test.
#[derive(Default)]
struct Tally {
    failures: Mutex<Vec<String>>,
    count: AtomicUsize,
}

/// Runs every case of `cases` on `n` mutations (seeded by `seed`) of `base`, written as `name`
/// in a directory of its own; records the runs and failures in `tally`.
fn check(tag: &str, base: &Path, name: &str, n: u64, seed: u64, cases: &[Case], tally: &Tally) {
    let (failures, count) = (&tally.failures, &tally.count);
    let original = std::fs::read(base).unwrap();
    let s = Scratch::new(tag);
    for i in 0..n {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(i));
        let damaged = mutate(&original, &mut rng);
        let dir = s.join(&format!("{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), &damaged).unwrap();
        for (k, case) in cases.iter().enumerate() {
            if k > 0 && i % 3 != 0 && case.program != "inspect" && case.program != "convert" {
                // The heavier programs run on a third of the mutations.
                continue;
            }
            let before = snapshot(&dir);
            let args: Vec<String> = case.args.iter().map(|a| a.replace("{}", name)).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = run_limited(&dir, case.program, &args, MEMORY_LIMIT_MB, TIME_LIMIT);
            count.fetch_add(1, Ordering::Relaxed);
            let after = snapshot(&dir);
            let changed: Vec<&PathBuf> = before
                .iter()
                .filter(|(p, h)| after.get(*p) != Some(h))
                .map(|(p, _)| p)
                .collect();
            if let Some(msg) = verdict(&r, &changed) {
                let copy = s.join(&format!("failed-{i}-{name}"));
                let _ = std::fs::write(&copy, &damaged);
                failures.lock().unwrap().push(format!(
                    "{tag} seed {seed} case {i}: {} {:?}: {msg}\n  stderr: {}",
                    case.program,
                    args,
                    r.stderr.trim()
                ));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Why a run is unacceptable, if it is.
fn verdict(r: &Run, changed: &[&PathBuf]) -> Option<String> {
    if let Some(sig) = r.signal {
        return Some(format!(
            "killed by signal {sig} (abort, memory or time limit)"
        ));
    }
    if r.code == Some(101) || r.stderr.contains("panicked") || r.stderr.contains("internal error") {
        return Some("panicked".into());
    }
    if !matches!(r.code, Some(0) | Some(1)) {
        return Some(format!("exit code {:?}", r.code));
    }
    if r.code == Some(1) && !r.stderr.contains("error:") {
        return Some("failed without an error line".into());
    }
    if !changed.is_empty() {
        return Some(format!("changed inputs {changed:?}"));
    }
    None
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn damaged_inputs_never_crash_a_program_nor_change_an_input() {
    let fx = fixtures();
    let model = fx.path("ml/model");
    let model = model.to_str().unwrap().to_string();
    let pcap = first_with_suffix(&fx.path("a"), ".pcap");
    let csv = first_with_suffix(&fx.path("b"), ".csv");
    let truth = fx.path("ml/partitions/0/truth.csv");
    let scores = fx.path("ml/partitions/0/scores.csv");
    let tally = Tally::default();
    let capture_cases = |name: &str| {
        let _ = name;
        vec![
            Case {
                program: "inspect",
                args: args(&["{}"]),
            },
            Case {
                program: "convert",
                args: args(&["{}", "-o", "out.csv"]),
            },
            Case {
                program: "portgraph",
                args: args(&[
                    "{}",
                    "--references",
                    "8",
                    "--top-k-ports",
                    "20",
                    "--out",
                    "run",
                ]),
            },
            Case {
                program: "multilabel",
                args: args(&["--load", &model, "--predict", "-", "{}"]),
            },
        ]
    };
    let pcap_cases = capture_cases("pcap");
    let csv_cases = capture_cases("csv");
    let truth_arg = truth.to_str().unwrap().to_string();
    let scores_arg = scores.to_str().unwrap().to_string();
    let truth_cases = vec![Case {
        program: "evaluate",
        args: args(&[
            "--labels",
            "{}",
            "--scores",
            &scores_arg,
            "--json",
            "r.json",
        ]),
    }];
    let scores_cases = vec![Case {
        program: "evaluate",
        args: args(&[
            "--labels",
            &truth_arg,
            "--scores",
            "{}",
            "--sweep-csv",
            "s.csv",
        ]),
    }];
    let reports_cases = vec![Case {
        program: "multilabel",
        args: args(&[
            "--input",
            fx.path("a").to_str().unwrap(),
            "--labels",
            "{}",
            "--quick",
            "--epochs",
            "1",
            "--ae-epochs",
            "1",
            "--partitions",
            "2",
            "--run-partitions",
            "1",
            "--no-baseline",
            "--out",
            "run",
        ]),
    }];
    std::thread::scope(|scope| {
        let t = &tally;
        scope.spawn(|| check("pcap", &pcap, "cap.pcap", 90, 1, &pcap_cases, t));
        scope.spawn(|| check("csv", &csv, "cap.csv", 60, 2, &csv_cases, t));
        scope.spawn(|| {
            check("truth", &truth, "truth.csv", 40, 3, &truth_cases, t);
            check("scores", &scores, "scores.csv", 40, 4, &scores_cases, t);
            let reports = fx.path("a/reports.csv");
            check("reports", &reports, "reports.csv", 12, 5, &reports_cases, t);
        });
    });
    let failures = tally.failures.into_inner().unwrap();
    let n = tally.count.load(Ordering::Relaxed);
    eprintln!("{n} runs on damaged captures, label and truth files");
    assert!(n >= 200, "only {n} runs");
    assert!(
        failures.is_empty(),
        "{} of {n} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every file of a saved model directory damaged in turn; the model is loaded to predict.
#[test]
fn damaged_model_directories_never_crash_multilabel() {
    let fx = fixtures();
    let model = fx.path("ml/model");
    let pcap = first_with_suffix(&fx.path("a"), ".pcap");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&model)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let s = Scratch::new("model");
    let mut failures = Vec::new();
    let mut n = 0;
    for (fi, file) in files.iter().enumerate() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let original = std::fs::read(file).unwrap();
        for i in 0..12u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(100 + fi as u64 * 1000 + i);
            let dir = s.join(&format!("{fi}-{i}"));
            let m = dir.join("model");
            std::fs::create_dir_all(&m).unwrap();
            for f in &files {
                std::fs::copy(f, m.join(f.file_name().unwrap())).unwrap();
            }
            std::fs::write(m.join(&name), mutate(&original, &mut rng)).unwrap();
            let before = snapshot(&dir);
            let r = run_limited(
                &dir,
                "multilabel",
                &[
                    "--load",
                    "model",
                    "--predict",
                    "p.csv",
                    pcap.to_str().unwrap(),
                ],
                MEMORY_LIMIT_MB,
                TIME_LIMIT,
            );
            n += 1;
            let mut after = snapshot(&dir);
            after.remove(Path::new("p.csv"));
            let changed: Vec<&PathBuf> = before
                .iter()
                .filter(|(p, h)| after.get(*p) != Some(h))
                .map(|(p, _)| p)
                .collect();
            if let Some(msg) = verdict(&r, &changed) {
                failures.push(format!(
                    "{name} case {i}: {msg}\n  stderr: {}",
                    r.stderr.trim()
                ));
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    eprintln!("{n} runs on damaged model directories");
    assert!(
        failures.is_empty(),
        "{} of {n} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A model directory whose classifier claims a first layer of 10^12 units: an error naming the
/// file, not an allocation that aborts the process.
#[test]
fn an_absurd_size_in_a_model_directory_is_an_error() {
    let fx = fixtures();
    let s = Scratch::new("absurd");
    let m = s.join("model");
    std::fs::create_dir_all(&m).unwrap();
    for f in std::fs::read_dir(fx.path("ml/model")).unwrap().flatten() {
        std::fs::copy(f.path(), m.join(f.file_name())).unwrap();
    }
    let json = std::fs::read_to_string(m.join("classifier.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["model"]["config"]["first_size"] = serde_json::json!(1_000_000_000_000u64);
    std::fs::write(m.join("classifier.json"), v.to_string()).unwrap();
    let pcap = first_with_suffix(&fx.path("a"), ".pcap");
    let r = run_limited(
        &s.0,
        "multilabel",
        &["--load", "model", "--predict", "-", pcap.to_str().unwrap()],
        MEMORY_LIMIT_MB,
        TIME_LIMIT,
    );
    assert_eq!(verdict(&r, &[]), None, "{r:#?}");
    assert_eq!(r.code, Some(1), "{r:#?}");
    assert!(r.stderr.contains("classifier.json"), "{r:#?}");
}
