//! Command-line behaviour of the example programs on ordinary mistakes: an output that is an
//! input, a failing conversion over a previous output, reruns into a run directory, a closed
//! pipe, a full disk, `-` for standard output, one flag vocabulary. See `common` for how the
//! programs are built and found.
mod common;

use common::{bin, first_with_suffix, fixtures, hash, leftovers, run_in, snapshot, Scratch};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn copy_into(dir: &Path, from: &Path, name: &str) -> std::path::PathBuf {
    let to = dir.join(name);
    std::fs::copy(from, &to).unwrap();
    to
}

#[test]
fn convert_refuses_an_output_that_is_its_input() {
    let fx = fixtures();
    let s = Scratch::new("same");
    let pcap = copy_into(
        &s.0,
        &first_with_suffix(&fx.path("a"), ".pcap"),
        "same.pcap",
    );
    std::fs::create_dir(s.join("sub")).unwrap();
    std::os::unix::fs::symlink(&pcap, s.join("link.pcap")).unwrap();
    std::fs::hard_link(&pcap, s.join("hard.pcap")).unwrap();
    let before = hash(&std::fs::read(&pcap).unwrap());
    for out in ["same.pcap", "./sub/../same.pcap", "link.pcap", "hard.pcap"] {
        let r = run_in(&s.0, "convert", &["same.pcap", "-o", out]).fails();
        assert!(r.stderr.contains("refusing"), "{out}: {r:#?}");
        assert_eq!(hash(&std::fs::read(&pcap).unwrap()), before, "{out}");
    }
    // Also when the input is a directory holding the output.
    let r = run_in(&s.0, "convert", &[".", "-o", "same.pcap"]).fails();
    assert!(r.stderr.contains("refusing"), "{r:#?}");
    assert_eq!(hash(&std::fs::read(&pcap).unwrap()), before);
    assert!(leftovers(&s.0).is_empty());
}

#[test]
fn a_failing_conversion_leaves_the_previous_output_untouched() {
    let fx = fixtures();
    let s = Scratch::new("partial");
    let full = std::fs::read(first_with_suffix(&fx.path("a"), ".pcap")).unwrap();
    // Cut inside a record: the reader yields the complete packets, then an error.
    std::fs::write(s.join("cut.pcap"), &full[..full.len() / 2 + 7]).unwrap();
    std::fs::write(s.join("out.csv"), "previous\n").unwrap();
    let r = run_in(&s.0, "convert", &["cut.pcap", "-o", "out.csv"]).fails();
    assert!(r.stderr.contains("out.csv"), "{r:#?}");
    assert_eq!(std::fs::read(s.join("out.csv")).unwrap(), b"previous\n");
    assert!(leftovers(&s.0).is_empty(), "{:?}", leftovers(&s.0));
    // A new output path is not created at all.
    run_in(&s.0, "convert", &["cut.pcap", "-o", "new.csv"]).fails();
    assert!(!s.join("new.csv").exists());
}

/// An Ethernet capture stamped as raw IP: every frame is skipped.
fn mislabelled_capture(s: &Scratch) -> std::path::PathBuf {
    let mut bytes = std::fs::read(first_with_suffix(&fixtures().path("a"), ".pcap")).unwrap();
    let le = bytes[0] == 0xd4 || bytes[0] == 0x4d;
    let raw: u32 = 101;
    let lt = if le {
        raw.to_le_bytes()
    } else {
        raw.to_be_bytes()
    };
    bytes[20..24].copy_from_slice(&lt);
    let p = s.join("wrong-link.pcap");
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn a_capture_with_nothing_decoded_fails_convert_and_warns_elsewhere() {
    let s = Scratch::new("nothing");
    mislabelled_capture(&s);
    let r = run_in(&s.0, "convert", &["wrong-link.pcap", "-o", "out.csv"]).fails();
    assert!(r.stderr.contains("no packet decoded"), "{r:#?}");
    assert!(!s.join("out.csv").exists());
    let r = run_in(&s.0, "inspect", &["wrong-link.pcap"]);
    assert!(
        r.stderr.contains("warning") && r.stderr.contains("no packet decoded"),
        "{r:#?}"
    );
    assert_ne!(r.code, Some(101), "{r:#?}");
}

#[test]
fn a_rerun_replaces_exactly_the_previous_runs_files() {
    let s = Scratch::new("rerun");
    let synth = |days: &str, extra: &[&str]| {
        let mut a = vec!["--days", days, "--hosts", "20", "--out", "run"];
        a.extend_from_slice(extra);
        run_in(&s.0, "synth", &a)
    };
    synth("2", &[]).ok();
    let first: Vec<_> = snapshot(&s.join("run")).into_keys().collect();
    assert_eq!(first.len(), 5, "{first:?}"); // 2 days, 2 label files, manifest
    std::fs::write(s.join("run/notes.txt"), "mine").unwrap();
    let r = synth("1", &[]).ok();
    assert!(r.stdout.contains("3 files and manifest.json"), "{r:#?}");
    let second: Vec<String> = snapshot(&s.join("run"))
        .into_keys()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(second.len(), 5, "{second:?}"); // 1 day, 2 label files, manifest, notes
    assert!(second.contains(&"notes.txt".to_string()));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.join("run/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["complete"], true);
    assert_eq!(manifest["files"].as_array().unwrap().len(), 3);
    assert_eq!(manifest["seed"], 0);

    // A directory with other files and no manifest needs --force.
    std::fs::create_dir(s.join("mine")).unwrap();
    std::fs::write(s.join("mine/keep.txt"), "mine").unwrap();
    let r = run_in(
        &s.0,
        "synth",
        &["--days", "1", "--hosts", "20", "--out", "mine"],
    )
    .fails();
    assert!(r.stderr.contains("--force"), "{r:#?}");
    run_in(
        &s.0,
        "synth",
        &["--days", "1", "--hosts", "20", "--out", "mine", "--force"],
    )
    .ok();
    assert_eq!(std::fs::read(s.join("mine/keep.txt")).unwrap(), b"mine");
    assert!(leftovers(&s.join("run")).is_empty());
}

#[test]
fn out_is_checked_before_any_work() {
    let s = Scratch::new("outcheck");
    std::fs::write(s.join("file"), "x").unwrap();
    for (prog, extra) in [
        ("multilabel", vec!["--quick"]),
        ("temporal", vec!["--quick"]),
        ("portgraph", vec![]),
        ("synth", vec![]),
    ] {
        let t = Instant::now();
        let mut a = extra.clone();
        a.extend(["--out", "file"]);
        let r = run_in(&s.0, prog, &a).fails();
        assert!(r.stdout.is_empty(), "{prog}: worked before failing: {r:#?}");
        assert!(r.stderr.contains("not a directory"), "{prog}: {r:#?}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{prog} took {:?}",
            t.elapsed()
        );
        assert_eq!(std::fs::read(s.join("file")).unwrap(), b"x");
    }
    // A failing run leaves no directory it created behind.
    let r = run_in(&s.0, "portgraph", &["missing.pcap", "--out", "new"]).fails();
    assert!(r.stderr.contains("missing.pcap"), "{r:#?}");
    assert!(!s.join("new").exists());
    // A run directory that holds an input is refused.
    let fx = fixtures();
    let r = run_in(&fx.root, "portgraph", &["a", "--out", "a"]).fails();
    assert!(r.stderr.contains("holds the input"), "{r:#?}");
}

/// Runs `prog args` with its standard output a pipe whose reading end is closed before the
/// program starts (so no other process can hold it open); returns its exit code and stderr.
fn with_closed_stdout(cwd: &Path, prog: &str, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(bin(prog))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_quietly_with_141() {
    let fx = fixtures();
    let s = Scratch::new("pipe");
    let pcap = first_with_suffix(&fx.path("a"), ".pcap");
    let pcap = pcap.to_str().unwrap();
    let labels = fx.path("ml/partitions/0/truth.csv");
    let scores = fx.path("ml/partitions/0/scores.csv");
    let model = fx.path("ml/model");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("quickstart", vec![]),
        ("inspect", vec![pcap]),
        ("convert", vec![pcap]),
        (
            "evaluate",
            vec![
                "--labels",
                labels.to_str().unwrap(),
                "--scores",
                scores.to_str().unwrap(),
            ],
        ),
        ("synth", vec!["--days", "1", "--hosts", "20", "--out", "s"]),
        (
            "portgraph",
            vec![
                "--days",
                "1",
                "--hosts",
                "30",
                "--references",
                "8",
                "--out",
                "p",
            ],
        ),
        (
            "temporal",
            vec![
                "--quick",
                "--days",
                "3",
                "--hosts",
                "60",
                "--models",
                "idarkvec",
                "--features",
                "off",
                "--out",
                "t",
            ],
        ),
        (
            "multilabel",
            vec!["--load", model.to_str().unwrap(), "--predict", "-", pcap],
        ),
    ];
    for (prog, args) in cases {
        let (code, err) = with_closed_stdout(&s.0, prog, &args);
        assert_eq!(code, Some(141), "{prog}: {err}");
        // Quiet: warnings about the input may appear, never an error or a panic.
        assert!(
            !err.contains("error") && !err.contains("panicked"),
            "{prog}: {err}"
        );
    }
}

#[test]
fn a_full_disk_is_an_error_naming_the_output() {
    let fx = fixtures();
    let pcap = first_with_suffix(&fx.path("a"), ".pcap");
    let pcap = pcap.to_str().unwrap();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for (prog, args) in [("inspect", vec![pcap]), ("quickstart", vec![])] {
        let o = Command::new(bin(prog))
            .args(&args)
            .stdout(full())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{prog}: {err}");
        assert!(
            err.contains("standard output") && err.contains("No space"),
            "{prog}: {err}"
        );
    }
    let r = run_in(&fx.root, "convert", &[pcap, "-o", "/dev/full"]).fails();
    assert!(r.stderr.contains("/dev/full"), "{r:#?}");
    let labels = fx.path("ml/partitions/0/truth.csv");
    let scores = fx.path("ml/partitions/0/scores.csv");
    let r = run_in(
        &fx.root,
        "evaluate",
        &[
            "--labels",
            labels.to_str().unwrap(),
            "--scores",
            scores.to_str().unwrap(),
            "--json",
            "/dev/full",
        ],
    )
    .fails();
    assert!(r.stderr.contains("/dev/full"), "{r:#?}");
}

#[test]
fn dash_is_standard_output_for_every_written_file() {
    let fx = fixtures();
    let s = Scratch::new("dash");
    let a = fx.path("a");
    let r = run_in(
        &s.0,
        "multilabel",
        &[
            "--load",
            fx.path("ml/model").to_str().unwrap(),
            "--predict",
            "-",
            "--input",
            a.to_str().unwrap(),
        ],
    )
    .ok();
    assert!(
        r.stdout.starts_with("id,") || r.stdout.starts_with("ip,"),
        "{r:#?}"
    );
    assert!(!s.join("-").exists());
    let labels = fx.path("ml/partitions/0/truth.csv");
    let scores = fx.path("ml/partitions/0/scores.csv");
    let (l, sc) = (labels.to_str().unwrap(), scores.to_str().unwrap());
    let r = run_in(
        &s.0,
        "evaluate",
        &["--labels", l, "--scores", sc, "--json", "-"],
    )
    .ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    assert!(v.get("f1_samples").is_some(), "{v}");
    let r = run_in(
        &s.0,
        "evaluate",
        &["--labels", l, "--scores", sc, "--json", "-", "--csv", "-"],
    )
    .fails();
    assert!(r.stderr.contains("standard output"), "{r:#?}");
    assert!(!s.join("-").exists());
}

#[test]
fn old_flag_spellings_still_parse() {
    let s = Scratch::new("alias");
    std::fs::write(s.join("file"), "x").unwrap();
    // Each command parses (exit 1 from the run-directory check, not 2 from clap).
    for (prog, args) in [
        (
            "multilabel",
            vec![
                "--synth-days",
                "2",
                "--synth-hosts",
                "9",
                "--refs",
                "8",
                "--keep-bogons",
            ],
        ),
        (
            "temporal",
            vec![
                "--gt",
                "x.csv",
                "--synth-hosts",
                "9",
                "--top-k",
                "5",
                "--synth-intensity",
                "1",
            ],
        ),
        (
            "portgraph",
            vec!["--refs", "8", "--top-k", "5", "--preset", "a"],
        ),
        ("synth", vec!["--preset", "a"]),
    ] {
        let mut a = args.clone();
        a.extend(["--out", "file"]);
        let r = run_in(&s.0, prog, &a);
        assert_eq!(r.code, Some(1), "{prog}: {r:#?}");
    }
    let r = run_in(
        &s.0,
        "evaluate",
        &["--truth", "none.csv", "--scores", "none.csv"],
    );
    assert_eq!(r.code, Some(1), "{r:#?}");
    let r = run_in(
        &s.0,
        "inspect",
        &[
            "--preset",
            "a",
            "--days",
            "1",
            "--hosts",
            "20",
            "--keep-bogons",
        ],
    );
    assert_eq!(r.code, Some(0), "{r:#?}");
}

/// The help of every program: a first line of its own and a default for every option that has
/// one.
#[test]
fn help_says_what_each_program_does_and_shows_defaults() {
    let crate_description = "Command-line programs that run the darknet pipelines";
    // Options that take a value and have no default by nature.
    let no_default = [
        "input",
        "labels",
        "load",
        "embed",
        "predict",
        "json",
        "csv",
        "sweep-svg",
        "sweep-csv",
        "scores",
        "sweep",
        "prefix",
        // Optional inputs and Parquet settings without a value of their own.
        "aggregates",
        "row-group-rows",
    ];
    for prog in [
        "quickstart",
        "synth",
        "convert",
        "inspect",
        "portgraph",
        "evaluate",
        "multilabel",
        "temporal",
    ] {
        let r = run_in(Path::new("."), prog, &["--help"]).ok();
        let first = r.stdout.lines().next().unwrap_or("");
        assert!(
            !first.is_empty() && !first.contains(crate_description),
            "{prog}: {first}"
        );
        // Split the options section into entries: "  -x, --name <V>" or "      --name <V>".
        let mut entries: Vec<(String, String)> = Vec::new();
        for line in r.stdout.lines() {
            let t = line.trim_start();
            if t.starts_with("--") || (t.starts_with('-') && t.get(2..4) == Some(", ")) {
                let name = t
                    .split("--")
                    .nth(1)
                    .unwrap_or("")
                    .split([' ', '<'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                entries.push((name, line.to_string()));
            } else if let Some(e) = entries.last_mut() {
                e.1.push_str(line);
            }
        }
        for (name, text) in entries {
            let takes_value = text.contains('<');
            // `convert --out` names the dataset `--format parquet` writes: no default.
            let exempt =
                no_default.contains(&name.as_str()) || (prog == "convert" && name == "out");
            if takes_value && !exempt {
                assert!(
                    text.contains("[default"),
                    "{prog} --{name} shows no default: {text}"
                );
            }
        }
    }
}

#[test]
fn multilabel_reads_captures_made_on_loopback_with_the_bogon_switch() {
    let fx = fixtures();
    let s = Scratch::new("bogon");
    let a = fx.path("a");
    // Our CSV layout of the Paper A captures, every source moved into 127.0.0.0/8.
    let r = run_in(&s.0, "convert", &[a.to_str().unwrap(), "-o", "caps.csv"]).ok();
    assert!(r.stderr.contains("wrote"), "{r:#?}");
    let to_loopback = |text: &str, col: usize| {
        text.lines()
            .enumerate()
            .map(|(i, line)| {
                if i == 0 {
                    return line.to_string();
                }
                let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
                if let Some(ip) = f.get_mut(col) {
                    if let Some(rest) = ip.split_once('.').map(|x| x.1.to_string()) {
                        *ip = format!("127.{rest}");
                    }
                }
                f.join(",")
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    let caps = std::fs::read_to_string(s.join("caps.csv")).unwrap();
    let src_col = caps
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "src_ip")
        .unwrap();
    std::fs::write(s.join("loop.csv"), to_loopback(&caps, src_col)).unwrap();
    std::fs::remove_file(s.join("caps.csv")).unwrap();
    let labels = std::fs::read_to_string(a.join("labels.csv")).unwrap();
    std::fs::write(s.join("loop-labels.csv"), to_loopback(&labels, 0)).unwrap();
    let args = |bogon: bool| {
        let mut v = vec![
            "--input",
            "loop.csv",
            "--labels",
            "loop-labels.csv",
            "--quick",
            "--epochs",
            "2",
            "--ae-epochs",
            "2",
            "--partitions",
            "2",
            "--run-partitions",
            "1",
            "--no-baseline",
            "--out",
            "run",
        ];
        if bogon {
            v.push("--no-bogon-filter");
        }
        v
    };
    let r = run_in(&s.0, "multilabel", &args(false));
    assert_eq!(r.code, Some(1), "every source is a bogon: {r:#?}");
    let r = run_in(&s.0, "multilabel", &args(true)).ok();
    assert!(r.stdout.contains("GCN: sample"), "{r:#?}");
}

#[test]
fn evaluate_scores_the_label_files_the_programs_write() {
    let fx = fixtures();
    // synth's labels.csv is keyed by `ip`: scored against itself, every metric is perfect.
    let labels = fx.path("a/labels.csv");
    let l = labels.to_str().unwrap();
    let r = run_in(
        &fx.root,
        "evaluate",
        &["--labels", l, "--scores", l, "--json", "-"],
    )
    .ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    assert_eq!(v["f1_samples"], 1.0, "{v}");
}

/// Packets counted by `inspect` (its `packets: N` line).
fn inspected_packets(r: &common::Run) -> u64 {
    r.stdout
        .lines()
        .find_map(|l| l.strip_prefix("packets: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count: {r:#?}"))
}

#[test]
fn directories_gzip_and_repeated_files_are_read_as_captures() {
    use std::io::Write;
    let fx = fixtures();
    let s = Scratch::new("inputs");
    let days: Vec<_> = {
        let mut v: Vec<_> = std::fs::read_dir(fx.path("a"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(days.len(), 2);
    std::fs::create_dir(s.join("caps")).unwrap();
    // One day gzip-compressed under a `.gz` name, the other compressed under a neutral name.
    for (day, name) in days.iter().zip(["day1.pcap.gz", "day2.bin"]) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&std::fs::read(day).unwrap()).unwrap();
        std::fs::write(s.join("caps").join(name), gz.finish().unwrap()).unwrap();
    }
    std::fs::write(s.join("caps/notes.txt"), "not a capture\n").unwrap();
    let both = run_in(
        &s.0,
        "inspect",
        &[days[0].to_str().unwrap(), days[1].to_str().unwrap()],
    )
    .ok();
    let total = inspected_packets(&both);
    let r = run_in(&s.0, "inspect", &["caps"]).ok();
    assert_eq!(inspected_packets(&r), total, "{r:#?}");
    assert!(
        r.stderr.contains("notes.txt"),
        "the skipped file is named: {r:#?}"
    );
    // The same file twice (by name and inside its directory) is read once, with a warning.
    let r = run_in(
        &s.0,
        "inspect",
        &["caps", "caps/day1.pcap.gz", "./caps/day2.bin"],
    )
    .ok();
    assert_eq!(inspected_packets(&r), total, "{r:#?}");
    assert!(r.stderr.contains("read once"), "{r:#?}");
    // portgraph and convert take directories and several inputs too.
    run_in(
        &s.0,
        "portgraph",
        &["caps", "--references", "8", "--no-snapshots", "--out", "pg"],
    )
    .ok();
    let r = run_in(&s.0, "convert", &["caps", "-o", "all.csv"]).ok();
    assert!(r.stderr.contains(&format!("wrote {total} rows")), "{r:#?}");
}
