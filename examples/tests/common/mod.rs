//! Helpers of the command-line tests: the example programs built once per test binary, scratch
//! directories, fixtures made by the programs themselves, and process runs with their outcome.
//!
//! Cargo gives integration tests the path of `[[bin]]` targets only, not of examples, and
//! `cargo test --test NAME` does not build the examples. So the first test that needs a program
//! runs `$CARGO build -p darknet-examples --examples` (with `--release` when the test itself was
//! built in release) and finds the programs in `<target>/<profile>/examples/`, the directory two
//! levels above the test binary (`<target>/<profile>/deps/cli-HASH`). Cargo releases its build
//! lock before running tests, so the nested build works; it is a no-op when the examples are up
//! to date, and `CARGO_TARGET_DIR` is inherited.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The directory holding the built example programs.
pub fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary in <target>/<profile>/deps");
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "darknet-examples", "--examples"]);
        // The programs are built with the features this test binary was built with.
        if cfg!(feature = "datafusion") {
            cmd.args(["--features", "datafusion"]);
        } else if cfg!(feature = "parquet") {
            cmd.args(["--features", "parquet"]);
        }
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build --examples");
        assert!(status.success(), "cargo build --examples failed");
        profile_dir.join("examples")
    })
}

/// The path of example program `name`.
pub fn bin(name: &str) -> PathBuf {
    let p = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(p.exists(), "{} not built", p.display());
    p
}

static SCRATCH: AtomicU64 = AtomicU64::new(0);

/// A fresh empty directory in cargo's scratch directory for tests, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A new scratch directory whose name contains `tag`.
    pub fn new(tag: &str) -> Self {
        let n = SCRATCH.fetch_add(1, Ordering::Relaxed);
        let p = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("scratch-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create scratch dir");
        Scratch(p)
    }

    /// `self/name`.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A finished run: exit code (None when killed by a signal), stdout and stderr.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(o: Output) -> Self {
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&o.status);
        #[cfg(not(unix))]
        let signal = None;
        Run {
            code: o.status.code(),
            signal,
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns self.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "expected success: {self:#?}");
        self
    }

    /// Asserts a clean failure: exit 1, one `error:` line, no panic.
    pub fn fails(self) -> Self {
        assert_eq!(self.code, Some(1), "expected exit 1: {self:#?}");
        assert!(self.stderr.contains("error:"), "no error line: {self:#?}");
        assert!(!self.stderr.contains("panicked"), "panic: {self:#?}");
        self
    }
}

/// Runs program `name` with `args` in directory `cwd` (stdin empty), capturing its output.
pub fn run_in(cwd: &Path, name: &str, args: &[&str]) -> Run {
    let o = Command::new(bin(name))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("spawn example");
    Run::from_output(o)
}

/// Runs program `name` with `args` in `cwd` under an address-space limit of `limit_mb` MB
/// (`prlimit --as`, when available) and a wall-clock limit (killed after `timeout`, which shows
/// as a signal), capturing its output.
pub fn run_limited(cwd: &Path, name: &str, args: &[&str], limit_mb: u64, timeout: Duration) -> Run {
    let prlimit = Path::new("/usr/bin/prlimit");
    let mut cmd = if prlimit.exists() {
        let mut c = Command::new(prlimit);
        c.arg(format!("--as={}", limit_mb << 20)).arg(bin(name));
        c
    } else {
        Command::new(bin(name))
    };
    let out_file = cwd.join(".stdout");
    let err_file = cwd.join(".stderr");
    let mut child = cmd
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .env("RAYON_NUM_THREADS", "1")
        .env_remove("RUST_BACKTRACE")
        .spawn()
        .expect("spawn example");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    let o = Output {
        status,
        stdout: read(&out_file).into_bytes(),
        stderr: read(&err_file).into_bytes(),
    };
    let _ = std::fs::remove_file(out_file);
    let _ = std::fs::remove_file(err_file);
    Run::from_output(o)
}

/// Every regular file under `dir` with a hash of its bytes (relative paths, sorted).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, u64> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, u64>) {
        for e in std::fs::read_dir(dir).expect("list dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).expect("read file");
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), hash(&bytes));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// FNV-1a of `bytes`.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Test fixtures written once per test binary by the programs themselves: a Paper A synthetic
/// darknet (2 days, pcap, with `labels.csv` and `reports.csv`), a Paper B one (CSV captures,
/// `ground_truth.csv`), and a saved Paper A model.
pub struct Fixtures {
    pub root: PathBuf,
}

impl Fixtures {
    /// `root/name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

/// The shared fixtures, made on first use in cargo's scratch directory for tests
/// (`<target>/tmp`), one directory per test binary, replaced by the next run.
pub fn fixtures() -> &'static Fixtures {
    static FX: OnceLock<Fixtures> = OnceLock::new();
    FX.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let stem = exe.file_stem().unwrap().to_string_lossy().into_owned();
        let stem = stem.split('-').next().unwrap_or("cli").to_string();
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fixtures-{stem}"));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        run_in(
            &root,
            "synth",
            &[
                "--preset", "paper-a", "--days", "2", "--hosts", "60", "--out", "a",
            ],
        )
        .ok();
        run_in(
            &root,
            "synth",
            &[
                "--preset", "paper-b", "--days", "2", "--hosts", "60", "--format", "csv", "--out",
                "b",
            ],
        )
        .ok();
        run_in(
            &root,
            "multilabel",
            &[
                "--quick",
                "--hosts",
                "80",
                "--days",
                "2",
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
                "ml",
            ],
        )
        .ok();
        Fixtures { root }
    })
}

/// The first file of `dir` whose name ends with `suffix`.
pub fn first_with_suffix(dir: &Path, suffix: &str) -> PathBuf {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v.into_iter().next().expect("a file with that suffix")
}

/// Names of the hidden files left in `dir` (staging leftovers of an atomic write: there must
/// be none).
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}
