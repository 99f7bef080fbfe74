//! Truth and score CSV reading: both truth layouts, matching by id, and every input error
//! naming the file and line.

use darknet_eval::io::{align, read_scores, read_truth};
use darknet_eval::{read_scores_csv, read_truth_csv, EvalError};
use std::path::Path;

fn truth(text: &str) -> darknet_eval::Result<darknet_eval::TruthTable> {
    read_truth(text.as_bytes(), Path::new("truth.csv"))
}

fn scores(text: &str) -> darknet_eval::Result<darknet_eval::ScoreTable> {
    read_scores(text.as_bytes(), Path::new("scores.csv"))
}

const SCORES: &str = "id,scan,ssh,web\nb,0.9,0.1,0.0\na,0.2,0.8,1\nc,0.6,0.6,0.3\n";

#[test]
fn wide_and_long_truth_align_the_same() {
    let wide = truth("id,web,scan,ssh\na,0,0,1\nb,0,1,0\nc,1,1,0\n").unwrap();
    let long = truth("id,labels\na,ssh\nb,scan\nc,scan;web\n").unwrap();
    let s = scores(SCORES).unwrap();
    let x = align(&wide, &s).unwrap();
    let y = align(&long, &s).unwrap();
    assert_eq!(x, y);
    assert_eq!(x.labels, vec!["scan", "ssh", "web"]);
    assert_eq!(x.ids, vec!["a", "b", "c"]);
    assert_eq!(x.y_true.row(2).to_vec(), vec![1, 0, 1]);
    assert_eq!(x.y_score.row(0).to_vec(), vec![0.2, 0.8, 1.0]); // id a, matched by id
}

#[test]
fn long_truth_with_empty_label_set() {
    let t = truth("id,labels\na,\nb,scan\nc,scan\n").unwrap();
    let x = align(&t, &scores(SCORES).unwrap()).unwrap();
    assert_eq!(x.y_true.row(0).to_vec(), vec![0, 0, 0]);
}

fn expect_csv(err: EvalError, file: &str, want_line: u64) {
    match &err {
        EvalError::Csv { path, line, .. } => {
            assert_eq!((path.to_str().unwrap(), *line), (file, want_line), "{err}")
        }
        e => panic!("expected a CSV error, got {e}"),
    }
    assert!(
        err.to_string()
            .starts_with(&format!("{file}:{want_line}: ")),
        "{err}"
    );
}

#[test]
fn malformed_rows_and_values() {
    expect_csv(truth("id,a,b\nx,1\n").unwrap_err(), "truth.csv", 2);
    expect_csv(truth("id,a,b\nx,1,0\ny,1,2\n").unwrap_err(), "truth.csv", 3);
    expect_csv(truth("name,a\nx,1\n").unwrap_err(), "truth.csv", 1);
    expect_csv(truth("id,a,a\nx,1,1\n").unwrap_err(), "truth.csv", 1);
    expect_csv(truth("id,labels\nx,a;;b\n").unwrap_err(), "truth.csv", 2);
    expect_csv(scores("id,a\nx,1.5\n").unwrap_err(), "scores.csv", 2);
    let err = scores("id,a\nx,0.5\ny,NaN\n").unwrap_err();
    assert!(err.to_string().contains("is NaN"), "{err}");
    expect_csv(err, "scores.csv", 3);
    expect_csv(scores("id,a\nx,-0.1\n").unwrap_err(), "scores.csv", 2);
    expect_csv(scores("id,a\nx,abc\n").unwrap_err(), "scores.csv", 2);
    expect_csv(scores("id,a\n,0.5\n").unwrap_err(), "scores.csv", 2);
    assert!(matches!(
        scores("id,a\n").unwrap_err(),
        EvalError::Empty { .. }
    ));
}

#[test]
fn duplicate_and_missing_ids() {
    let err = scores("id,a\nx,0.5\ny,0.1\nx,0.2\n").unwrap_err();
    assert!(
        matches!(&err, EvalError::IdMismatch { line: 4, id, .. } if id == "x"),
        "{err}"
    );
    assert!(err.to_string().contains("scores.csv:4"), "{err}");
    let s = scores(SCORES).unwrap();
    let t = truth("id,labels\na,ssh\nb,scan\nz,scan\n").unwrap();
    let err = align(&t, &s).unwrap_err();
    assert!(
        matches!(&err, EvalError::IdMismatch { line: 4, id, .. } if id == "z"),
        "{err}"
    );
    assert!(err.to_string().starts_with("truth.csv:4"), "{err}");
    let t = truth("id,labels\na,ssh\nb,scan\n").unwrap();
    let err = align(&t, &s).unwrap_err();
    assert!(
        matches!(&err, EvalError::IdMismatch { line: 4, id, .. } if id == "c"),
        "{err}"
    );
}

#[test]
fn unknown_labels() {
    let s = scores(SCORES).unwrap();
    let t = truth("id,labels\na,ssh\nb,dns\nc,scan\n").unwrap();
    let err = align(&t, &s).unwrap_err();
    assert!(
        matches!(&err, EvalError::UnknownLabel { label, .. } if label == "dns"),
        "{err}"
    );
    assert!(err.to_string().contains("truth.csv:3"), "{err}");
    // A wide truth file must have a column for every scored label.
    let t = truth("id,scan,ssh\na,0,1\nb,1,0\nc,1,0\n").unwrap();
    let err = align(&t, &s).unwrap_err();
    assert!(
        matches!(&err, EvalError::UnknownLabel { label, .. } if label == "web"),
        "{err}"
    );
}

#[test]
fn files_on_disk() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("darknet_eval_io");
    std::fs::create_dir_all(&dir).unwrap();
    let tp = dir.join("truth.csv");
    let sp = dir.join("scores.csv");
    std::fs::write(&tp, "id,labels\na,ssh\nb,scan\nc,scan;web\n").unwrap();
    std::fs::write(&sp, SCORES).unwrap();
    let x = align(
        &read_truth_csv(&tp).unwrap(),
        &read_scores_csv(&sp).unwrap(),
    )
    .unwrap();
    assert_eq!(x.y_true.nrows(), 3);
    let err = read_truth_csv(dir.join("missing.csv")).unwrap_err();
    assert!(matches!(err, EvalError::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing.csv"));
}

#[test]
fn id_column_may_be_named_ip_or_src_ip() {
    // The synthetic darknet's labels.csv layout: `ip,14,15,...` with 0/1 cells.
    let t = truth("ip,14,15,18\n192.0.2.1,1,0,0\n192.0.2.2,0,1,1\n").unwrap();
    assert_eq!(t.ids, vec!["192.0.2.1", "192.0.2.2"]);
    assert_eq!(t.labels, vec!["14", "15", "18"]);
    let s = scores("SRC_IP,14,15,18\n192.0.2.2,0.1,0.9,0.7\n192.0.2.1,0.8,0.2,0.1\n").unwrap();
    let x = align(&t, &s).unwrap();
    assert_eq!(x.y_true.row(0).to_vec(), vec![1, 0, 0]);
    let t = truth("\u{feff}Id,labels\na,ssh\n").unwrap();
    assert_eq!(t.ids, vec!["a"]);
    let err = truth("host,14\n192.0.2.1,1\n").unwrap_err();
    assert!(err.to_string().contains("`id`, `ip` or `src_ip`"), "{err}");
}
