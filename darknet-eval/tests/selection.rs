//! Model selection: grids, budgets, folds inside the training part, deterministic choice.

use darknet_eval::selection::{
    select, training_folds, Budget, ParamGrid, ParamValue, Selection, SelectionConfig,
};
use darknet_eval::{five_partitions, EvalError};
use ndarray::Array2;
use std::collections::BTreeSet;
use std::sync::Mutex;

fn grid() -> ParamGrid {
    ParamGrid::new()
        .axis("first_size", [64, 128, 256])
        .unwrap()
        .axis("gcn_layers", [1, 2, 3])
        .unwrap()
        .axis("method", ["a", "b"])
        .unwrap()
}

/// Multi-label truth of 60 samples, 3 labels of different frequencies.
fn labels() -> Array2<u8> {
    Array2::from_shape_fn((60, 3), |(i, l)| u8::from((i * (l + 3)) % (4 + 3 * l) == 0))
}

#[test]
fn grid_points_in_row_major_order() {
    let g = grid();
    assert_eq!(g.len(), 18);
    let p0 = g.point(0).unwrap();
    assert_eq!(p0.describe(), "first_size=64, gcn_layers=1, method=a");
    let p = g.point(7).unwrap(); // (1, 0, 1): last axis fastest
    assert_eq!(p.int("first_size").unwrap(), 128);
    assert_eq!(p.size("gcn_layers").unwrap(), 1);
    assert_eq!(p.get("method").unwrap(), &ParamValue::Text("b".into()));
    assert_eq!(p.float("first_size").unwrap(), 128.0);
    assert_eq!(ParamGrid::paper_a().len(), 729);
    assert_eq!(
        ParamGrid::paper_a().point(0).unwrap().describe(),
        "references=512, latent_size=8, ae_hidden_layers=0, first_size=64, gcn_layers=1, fc_layers=1"
    );
    // A point serialises as an ordered object and reads back.
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(json, r#"{"first_size":128,"gcn_layers":1,"method":"b"}"#);
    assert_eq!(
        serde_json::from_str::<darknet_eval::ParamPoint>(&json).unwrap(),
        p
    );
}

#[test]
fn budgets() {
    let g = grid();
    assert!(g.candidates(Budget::None, 1).is_empty());
    assert_eq!(g.candidates(Budget::Full, 1), (0..18).collect::<Vec<_>>());
    assert_eq!(
        g.candidates(Budget::Random(50), 1),
        (0..18).collect::<Vec<_>>()
    );
    let r = g.candidates(Budget::Random(5), 3);
    assert_eq!(r.len(), 5);
    assert!(r.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(r, g.candidates(Budget::Random(5), 3));
    assert_ne!(r, g.candidates(Budget::Random(5), 4));
    assert_eq!("none".parse::<Budget>().unwrap(), Budget::None);
    assert_eq!("full".parse::<Budget>().unwrap(), Budget::Full);
    assert_eq!("random:12".parse::<Budget>().unwrap(), Budget::Random(12));
    assert_eq!("7".parse::<Budget>().unwrap(), Budget::Random(7));
}

#[test]
fn folds_stay_inside_the_training_part() {
    let y = labels();
    let parts = five_partitions(60, 11).unwrap();
    for part in &parts {
        for stratified in [false, true] {
            let yv = stratified.then(|| y.view());
            let folds = training_folds(&part.train, yv, 4, 5).unwrap();
            assert_eq!(folds.len(), 4);
            let mut seen = BTreeSet::new();
            for f in &folds {
                assert!(f
                    .test
                    .iter()
                    .chain(&f.train)
                    .all(|i| part.train.contains(i)));
                assert_eq!(f.test.len() + f.train.len(), part.train.len());
                seen.extend(f.test.iter().copied());
            }
            // The held-out parts cover the training part exactly once.
            assert_eq!(seen.into_iter().collect::<Vec<_>>(), part.train);
        }
    }
}

#[test]
fn selection_never_sees_test_indices() {
    let y = labels();
    let part = &five_partitions(60, 3).unwrap()[2];
    let seen = Mutex::new(BTreeSet::new());
    for stratified in [false, true] {
        let sel = select(
            &grid(),
            &part.train,
            stratified.then(|| y.view()),
            &SelectionConfig::default().seed(9),
            |_, _, fold| {
                seen.lock()
                    .unwrap()
                    .extend(fold.train.iter().chain(&fold.test).copied());
                Ok::<_, EvalError>(fold.test.len() as f64)
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(sel.candidates.len(), 18);
        assert_eq!(sel.candidates[0].fold_scores.len(), 4);
    }
    let seen = seen.into_inner().unwrap();
    assert!(seen.iter().all(|i| !part.test.contains(i)));
    assert_eq!(seen.len(), part.train.len());
}

fn run(seed: u64, budget: Budget) -> Selection {
    let y = labels();
    let train: Vec<usize> = (0..48).collect();
    // A noisy objective that depends on the fold contents: the choice depends on the seed
    // only through the folds and the budget.
    select(
        &grid(),
        &train,
        Some(y.view()),
        &SelectionConfig::default().seed(seed).budget(budget),
        |p, k, fold| {
            let size = p.int("first_size")? as f64;
            let noise: usize = fold.test.iter().map(|i| i * (k + 1)).sum::<usize>() % 17;
            Ok::<_, EvalError>(
                size / 256.0 + p.int("gcn_layers")? as f64 * 0.1 + noise as f64 * 0.03,
            )
        },
    )
    .unwrap()
    .unwrap()
}

#[test]
fn same_seed_same_choice() {
    for budget in [Budget::Full, Budget::Random(6)] {
        let a = run(21, budget);
        let b = run(21, budget);
        assert_eq!(a, b);
        assert_eq!(a.best(), b.best());
        // The chosen point has the highest mean.
        assert!(a
            .candidates
            .iter()
            .all(|c| c.mean <= a.best_candidate().mean));
    }
    assert!(run(21, Budget::Full).to_markdown().contains("**"));
}

#[test]
fn ties_go_to_the_first_point_in_grid_order() {
    let train: Vec<usize> = (0..20).collect();
    let sel = select(
        &grid(),
        &train,
        None,
        &SelectionConfig::default(),
        |p, _, _| Ok::<_, EvalError>(if p.int("gcn_layers")? >= 2 { 1.0 } else { 0.0 }),
    )
    .unwrap()
    .unwrap();
    // Points 2.. have gcn_layers = 2 first at index 2 (64, 2, a).
    assert_eq!(sel.best_candidate().index, 2);
    assert_eq!(
        sel.best().describe(),
        "first_size=64, gcn_layers=2, method=a"
    );
    // No budget: no search, no choice.
    let none = select(
        &grid(),
        &train,
        None,
        &SelectionConfig::default().budget(Budget::None),
        |_, _, _| -> Result<f64, EvalError> { panic!("must not be called") },
    )
    .unwrap();
    assert!(none.is_none());
}

#[test]
fn bad_input_is_an_error() {
    assert!(matches!(
        ParamGrid::new().axis::<i64>("x", []),
        Err(EvalError::Empty { .. })
    ));
    assert!(matches!(
        ParamGrid::new().axis("x", [1]).unwrap().axis("x", [2]),
        Err(EvalError::InvalidParameter { .. })
    ));
    assert!(matches!(
        grid().point(18),
        Err(EvalError::IndexOutOfRange {
            index: 18,
            len: 18,
            ..
        })
    ));
    let p = grid().point(0).unwrap();
    assert!(matches!(
        p.int("latent"),
        Err(EvalError::UnknownLabel { .. })
    ));
    assert!(matches!(
        p.int("method"),
        Err(EvalError::InvalidParameter { .. })
    ));
    assert!(matches!(
        p.float("method"),
        Err(EvalError::InvalidParameter { .. })
    ));
    let neg = ParamGrid::new().axis("n", [-1]).unwrap().point(0).unwrap();
    assert!(matches!(
        neg.size("n"),
        Err(EvalError::InvalidParameter { .. })
    ));
    for s in ["", "random:0", "0", "all", "random:x"] {
        assert!(
            matches!(s.parse::<Budget>(), Err(EvalError::InvalidParameter { .. })),
            "{s}"
        );
    }
    let train: Vec<usize> = (0..10).collect();
    // Too many folds; indices past the labels.
    let e = training_folds(&train, None, 11, 0).unwrap_err();
    assert!(matches!(e, EvalError::InvalidParameter { .. }), "{e}");
    let y = Array2::<u8>::zeros((5, 2));
    let e = training_folds(&train, Some(y.view()), 2, 0).unwrap_err();
    assert!(
        matches!(e, EvalError::IndexOutOfRange { index: 5, .. }),
        "{e}"
    );
    // A NaN score names the grid point and the fold.
    let e = select(
        &grid(),
        &train,
        None,
        &SelectionConfig::default(),
        |p, k, _| {
            Ok::<_, EvalError>(if p.int("first_size")? == 128 && k == 1 {
                f64::NAN
            } else {
                0.5
            })
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, EvalError::InvalidScore { row: 6, col: 1, .. }),
        "{e}"
    );
    // The first error in (candidate, fold) order is returned, whatever finished first.
    let e = select(
        &grid(),
        &train,
        None,
        &SelectionConfig::default(),
        |p, k, _| {
            if p.int("gcn_layers")? == 3 {
                Err(EvalError::Empty {
                    what: format!("fold {k}"),
                })
            } else {
                Ok(0.0)
            }
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("fold 0"), "{e}");
}
