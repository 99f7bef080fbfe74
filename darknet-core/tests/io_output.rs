//! Output primitives: atomic files, the output-is-an-input guard, run directories.

use darknet_core::io::output::{
    refuse_input_as_output, write_atomic, write_atomic_with, AtomicFile, Manifest, OutputDir,
    RunInfo, MANIFEST_NAME,
};
use darknet_core::CoreError;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh, empty directory for one test, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "darknet-io-output-{tag}-{}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn info(seed: u64) -> RunInfo {
    RunInfo {
        command_line: vec!["tool".into(), "--seed".into(), seed.to_string()],
        seed: Some(seed),
        settings: serde_json::json!({ "dim": 16 }),
    }
}

#[test]
fn atomic_file_commit_replaces_and_leaves_no_temp() {
    let s = Scratch::new("commit");
    let target = s.path().join("out.csv");
    fs::write(&target, b"old").unwrap();
    let mut f = AtomicFile::create(&target).unwrap();
    let temp = f.temp_path().unwrap().to_path_buf();
    assert_eq!(temp.parent(), Some(s.path()));
    assert!(temp
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(".out.csv.tmp-"));
    f.write_all(b"new content").unwrap();
    // Until the commit the target holds the old bytes.
    assert_eq!(fs::read(&target).unwrap(), b"old");
    assert_eq!(f.commit().unwrap(), 11);
    assert_eq!(fs::read(&target).unwrap(), b"new content");
    assert_eq!(entries(s.path()), vec!["out.csv"]);
}

#[test]
fn atomic_file_dropped_without_commit_keeps_previous_file() {
    let s = Scratch::new("drop");
    let target = s.path().join("out.csv");
    fs::write(&target, b"previous").unwrap();
    {
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(&[b'x'; 200_000]).unwrap();
    }
    assert_eq!(fs::read(&target).unwrap(), b"previous");
    assert_eq!(entries(s.path()), vec!["out.csv"]);
    // A failing closure leaves no file where there was none.
    let fresh = s.path().join("fresh.csv");
    let err = write_atomic_with(&fresh, |w| {
        w.write_all(b"half").unwrap();
        Err(CoreError::Empty {
            what: "test".into(),
        })
    })
    .unwrap_err();
    assert!(matches!(err, CoreError::Empty { .. }));
    assert!(!fresh.exists());
    assert_eq!(entries(s.path()), vec!["out.csv"]);
}

#[test]
fn write_atomic_writes_whole_file_and_temp_names_are_unique() {
    let s = Scratch::new("whole");
    let target = s.path().join("a.bin");
    assert_eq!(write_atomic(&target, b"12345").unwrap(), 5);
    assert_eq!(fs::read(&target).unwrap(), b"12345");
    let a = AtomicFile::create(&target).unwrap();
    let b = AtomicFile::create(&target).unwrap();
    assert_ne!(a.temp_path(), b.temp_path());
}

#[test]
fn atomic_file_in_missing_directory_names_the_output() {
    let s = Scratch::new("missing");
    let target = s.path().join("no-such-dir").join("out.csv");
    let err = AtomicFile::create(&target).unwrap_err();
    assert!(matches!(err, CoreError::Output { .. }), "{err:?}");
    assert!(err.to_string().contains("out.csv"), "{err}");
}

#[cfg(target_os = "linux")]
#[test]
fn full_disk_is_an_error_naming_the_output() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let mut f = AtomicFile::create("/dev/full").unwrap();
    assert!(f.temp_path().is_none(), "devices are written directly");
    // The buffer may take the bytes; the commit's flush must fail.
    let r = f.write_all(&[0u8; 100_000]);
    let msg = match r {
        Err(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
            e.to_string()
        }
        Ok(()) => f.commit().unwrap_err().to_string(),
    };
    assert!(msg.contains("/dev/full"), "{msg}");
    let err = write_atomic("/dev/full", b"a few bytes").unwrap_err();
    assert!(matches!(err, CoreError::Output { .. }), "{err:?}");
    assert!(err.to_string().contains("/dev/full"), "{err}");
}

#[test]
fn guard_refuses_same_file_and_other_spellings() {
    let s = Scratch::new("guard");
    let input = s.path().join("a.pcap");
    fs::write(&input, b"capture").unwrap();
    // The same path.
    assert!(matches!(
        refuse_input_as_output(&input, &[&input]),
        Err(CoreError::OutputIsInput { .. })
    ));
    // Another spelling: dir/./sub/../a.pcap.
    fs::create_dir(s.path().join("sub")).unwrap();
    let spelled = s.path().join(".").join("sub").join("..").join("a.pcap");
    let err = refuse_input_as_output(&spelled, &[&input]).unwrap_err();
    assert!(err.to_string().contains("a.pcap"), "{err}");
    // A different file, existing or not, is fine; so is `-`.
    let other = s.path().join("b.csv");
    refuse_input_as_output(&other, &[&input]).unwrap();
    fs::write(&other, b"x").unwrap();
    refuse_input_as_output(&other, &[&input]).unwrap();
    refuse_input_as_output("-", &[&input]).unwrap();
    refuse_input_as_output(&other, &["-"]).unwrap();
    // The input was never touched.
    assert_eq!(fs::read(&input).unwrap(), b"capture");
}

#[cfg(unix)]
#[test]
fn guard_sees_through_symlinks_and_hard_links() {
    let s = Scratch::new("links");
    let input = s.path().join("a.pcap");
    fs::write(&input, b"capture").unwrap();
    let sym = s.path().join("link.pcap");
    std::os::unix::fs::symlink(&input, &sym).unwrap();
    let hard = s.path().join("hard.pcap");
    fs::hard_link(&input, &hard).unwrap();
    for out in [&sym, &hard] {
        assert!(matches!(
            refuse_input_as_output(out, &[&input]),
            Err(CoreError::OutputIsInput { .. })
        ));
        // And the other way round: the input given through the link.
        assert!(matches!(
            refuse_input_as_output(&input, &[out]),
            Err(CoreError::OutputIsInput { .. })
        ));
    }
    // A symlinked directory with the output not existing yet: compared by canonical path.
    let dir_link = s.path().join("dirlink");
    std::os::unix::fs::symlink(s.path(), &dir_link).unwrap();
    let new_in = s.path().join("new.csv");
    let new_out = dir_link.join("new.csv");
    assert!(matches!(
        refuse_input_as_output(&new_out, &[&new_in]),
        Err(CoreError::OutputIsInput { .. })
    ));
}

#[test]
fn output_dir_fresh_run_writes_manifest_last() {
    let s = Scratch::new("fresh");
    let dir = s.path().join("run");
    let mut run = OutputDir::prepare(&dir, false).unwrap();
    assert!(dir.is_dir());
    assert_eq!(run.write("report.json", b"{}").unwrap(), 2);
    let mut f = run.create("days/2024-01-01.csv").unwrap();
    f.write_all(b"ip\n192.0.2.1\n").unwrap();
    run.commit(f).unwrap();
    // While the run writes, the manifest lists its files as incomplete.
    let during = Manifest::read(&dir).unwrap().unwrap();
    assert!(!during.complete);
    let m = run.finish(info(7)).unwrap();
    assert!(m.complete);
    assert_eq!(m.seed, Some(7));
    assert_eq!(m.version, env!("CARGO_PKG_VERSION"));
    let names: Vec<(&str, u64)> = m.files.iter().map(|f| (f.name.as_str(), f.bytes)).collect();
    assert_eq!(names, vec![("report.json", 2), ("days/2024-01-01.csv", 13)]);
    assert_eq!(Manifest::read(&dir).unwrap().unwrap(), m);
    assert_eq!(entries(&dir), vec!["days", MANIFEST_NAME, "report.json"]);
}

#[test]
fn output_dir_rerun_replaces_exactly_the_previous_runs_files() {
    let s = Scratch::new("rerun");
    let dir = s.path();
    let mut run = OutputDir::prepare(dir.join("run"), false).unwrap();
    run.write("emb-128.csv", b"old embeddings").unwrap();
    run.write("report.json", b"old report").unwrap();
    run.finish(info(1)).unwrap();
    let dir = dir.join("run");
    fs::write(dir.join("notes.txt"), b"the user's file").unwrap();

    let mut run = OutputDir::prepare(&dir, false).unwrap();
    assert_eq!(run.previous_files().len(), 2);
    run.write("emb-16.csv", b"new").unwrap();
    run.write("report.json", b"new report").unwrap();
    let m = run.finish(info(2)).unwrap();
    assert_eq!(m.files.len(), 2);
    assert_eq!(
        entries(&dir),
        vec!["emb-16.csv", MANIFEST_NAME, "notes.txt", "report.json"]
    );
    assert_eq!(fs::read(dir.join("report.json")).unwrap(), b"new report");
    assert_eq!(fs::read(dir.join("notes.txt")).unwrap(), b"the user's file");
}

#[test]
fn output_dir_failed_rerun_leaves_every_file_listed() {
    let s = Scratch::new("failed");
    let dir = s.path().join("run");
    let mut run = OutputDir::prepare(&dir, false).unwrap();
    run.write("a.csv", b"a").unwrap();
    run.finish(info(1)).unwrap();
    // A second run writes a new file, then fails (is dropped) before finishing.
    let mut run = OutputDir::prepare(&dir, false).unwrap();
    run.write("b.csv", b"b").unwrap();
    drop(run);
    let m = Manifest::read(&dir).unwrap().unwrap();
    assert!(!m.complete);
    let mut names: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["a.csv", "b.csv"]);
    // The next run is allowed and removes both.
    let mut run = OutputDir::prepare(&dir, false).unwrap();
    run.write("c.csv", b"c").unwrap();
    run.finish(info(3)).unwrap();
    assert_eq!(entries(&dir), vec!["c.csv", MANIFEST_NAME]);
}

#[test]
fn output_dir_refuses_foreign_non_empty_directory_unless_forced() {
    let s = Scratch::new("foreign");
    fs::write(s.path().join("thesis.tex"), b"precious").unwrap();
    let err = OutputDir::prepare(s.path(), false).unwrap_err();
    assert!(matches!(err, CoreError::OutputDir { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("thesis.tex") && msg.contains("not empty"),
        "{msg}"
    );
    // A manifest.json that is not ours does not count as ours.
    fs::write(s.path().join(MANIFEST_NAME), b"{\"name\": \"npm\"}").unwrap();
    assert!(OutputDir::prepare(s.path(), false).is_err());
    // Forced: the other files are left in place.
    let mut run = OutputDir::prepare(s.path(), true).unwrap();
    run.write("out.csv", b"x").unwrap();
    run.finish(info(0)).unwrap();
    assert_eq!(fs::read(s.path().join("thesis.tex")).unwrap(), b"precious");
}

#[test]
fn output_dir_refuses_a_file_and_bad_names() {
    let s = Scratch::new("file");
    let file = s.path().join("out");
    fs::write(&file, b"x").unwrap();
    let err = OutputDir::prepare(&file, true).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
    let mut run = OutputDir::prepare(s.path().join("run"), false).unwrap();
    for bad in ["../escape.csv", "/abs.csv", "", MANIFEST_NAME, "a/../../b"] {
        assert!(
            matches!(run.write(bad, b"x"), Err(CoreError::OutputDir { .. })),
            "{bad}"
        );
    }
}

#[test]
fn output_dir_refuses_a_manifest_listing_paths_outside() {
    let s = Scratch::new("evil");
    let victim = s.path().join("victim.txt");
    fs::write(&victim, b"keep").unwrap();
    let dir = s.path().join("run");
    fs::create_dir(&dir).unwrap();
    let evil = serde_json::json!({
        "format": darknet_core::io::output::MANIFEST_FORMAT, "version": "0", "complete": true,
        "command_line": [], "seed": null, "settings": null,
        "files": [{ "name": "../victim.txt", "bytes": 4 }]
    });
    fs::write(dir.join(MANIFEST_NAME), evil.to_string()).unwrap();
    let err = OutputDir::prepare(&dir, false).unwrap_err();
    assert!(err.to_string().contains("../victim.txt"), "{err}");
    assert_eq!(fs::read(&victim).unwrap(), b"keep");
}

#[cfg(unix)]
#[test]
fn output_dir_refuses_read_only_directory_up_front() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("ro");
    let dir = s.path().join("ro");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    // Root can write anywhere: only check when the probe would really fail.
    let writable = fs::write(dir.join("probe"), b"").is_ok();
    let r = OutputDir::prepare(&dir, false);
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    if !writable {
        let err = r.unwrap_err();
        assert!(err.to_string().contains("not writable"), "{err}");
    }
}

#[test]
fn output_dir_protects_inputs_among_its_files() {
    let s = Scratch::new("protect");
    let dir = s.path().join("run");
    let mut run = OutputDir::prepare(&dir, false).unwrap();
    run.write("emb.csv", b"embeddings").unwrap();
    run.finish(info(1)).unwrap();
    // The previous run's embeddings are this run's input: the rerun would remove them.
    let input = dir.join("emb.csv");
    let mut run = OutputDir::prepare(&dir, false).unwrap();
    let err = run.protect_inputs(&[&input]).unwrap_err();
    assert!(matches!(err, CoreError::OutputIsInput { .. }), "{err:?}");
    assert_eq!(fs::read(&input).unwrap(), b"embeddings");
    // An input written by name through another spelling is refused at create.
    let other = s.path().join("capture.pcap");
    fs::write(&other, b"capture").unwrap();
    let mut run = OutputDir::prepare(s.path().join("run2"), false).unwrap();
    run.protect_inputs(&[&other]).unwrap();
    let link_name = "../capture.pcap";
    assert!(run.write(link_name, b"x").is_err());
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&other, s.path().join("run2").join("cap.pcap")).unwrap();
        let err = run.write("cap.pcap", b"x").unwrap_err();
        assert!(matches!(err, CoreError::OutputIsInput { .. }), "{err:?}");
    }
    assert_eq!(fs::read(&other).unwrap(), b"capture");
}

#[test]
fn broken_pipe_is_recognised_through_sources() {
    use darknet_core::io::output::is_broken_pipe;
    let e = CoreError::Output {
        output: "<stdout>".into(),
        action: "write",
        source: std::io::Error::from(std::io::ErrorKind::BrokenPipe),
    };
    assert!(is_broken_pipe(&e));
    let e = CoreError::Output {
        output: "x".into(),
        action: "write",
        source: std::io::Error::from(std::io::ErrorKind::StorageFull),
    };
    assert!(!is_broken_pipe(&e));
}
