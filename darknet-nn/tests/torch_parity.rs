//! Parity with PyTorch on fixed inputs and weights: Linear, BatchNorm1d (train and eval,
//! running statistics), GRUCell, a multi-step GRU with backpropagation through time,
//! BCE-with-logits with `pos_weight`, NLL on log-softmax, and three Adam steps with weight
//! decay.
//!
//! The expected figures are in `tests/golden/torch_golden.json`, written by
//! `tests/golden/make_torch_golden.py` (torch in float64; the version is recorded in the file;
//! the script's header says how to regenerate). The f64 path is compared at 1e-10, the f32 path
//! at 1e-5 (absolute, on values of order 1).

use approx::assert_abs_diff_eq;
use darknet_nn::layers::{BatchNorm1d, Gru, GruCell, LogSoftmax};
use darknet_nn::loss::{bce_with_logits, nll};
use darknet_nn::{Adam, AdamConfig, Float, HasParams, Linear, Mode, Param, ParamMut};
use ndarray::{Array1, Array2, Array3, ArrayD, Axis, Ix1, Ix2, IxDyn};
use serde_json::Value;

const GOLDEN: &str = include_str!("golden/torch_golden.json");
const TOL64: f64 = 1e-10;
const TOL32: f64 = 1e-5;

fn golden() -> Value {
    serde_json::from_str(GOLDEN).expect("valid golden JSON")
}

/// A nested JSON list of numbers as an f64 array of any dimension.
fn arr(v: &Value) -> ArrayD<f64> {
    fn shape_of(v: &Value, shape: &mut Vec<usize>) {
        if let Value::Array(items) = v {
            shape.push(items.len());
            if let Some(first) = items.first() {
                shape_of(first, shape);
            }
        }
    }
    fn flatten(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
            Value::Number(n) => out.push(n.as_f64().expect("a number")),
            other => panic!("not a number: {other}"),
        }
    }
    let mut shape = Vec::new();
    shape_of(v, &mut shape);
    let mut flat = Vec::new();
    flatten(v, &mut flat);
    ArrayD::from_shape_vec(IxDyn(&shape), flat).expect("rectangular nested lists")
}

fn a1<T: Float>(v: &Value) -> Array1<T> {
    arr(v).into_dimensionality::<Ix1>().unwrap().mapv(T::of)
}

fn a2<T: Float>(v: &Value) -> Array2<T> {
    arr(v).into_dimensionality::<Ix2>().unwrap().mapv(T::of)
}

fn a3(v: &Value) -> Array3<f64> {
    arr(v).into_dimensionality().unwrap()
}

/// Asserts `got` equals the golden `want` within `tol` element-wise, naming the case.
fn close<T: Float, D: ndarray::Dimension>(
    what: &str,
    got: &ndarray::Array<T, D>,
    want: &Value,
    tol: f64,
) {
    let want = arr(want);
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (&g, &w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g.as_f64() - w).abs() <= tol,
            "{what}[{i}]: got {g}, PyTorch {w} (tolerance {tol})"
        );
    }
}

fn tol<T: Float>() -> f64 {
    if T::BYTES == 8 {
        TOL64
    } else {
        TOL32
    }
}

#[test]
fn golden_file_names_its_torch_version() {
    let g = golden();
    let v = g["torch_version"].as_str().expect("torch_version");
    assert!(v.starts_with("2."), "{v}");
}

fn linear_case<T: Float>() {
    let g = golden();
    let c = &g["linear"];
    let mut lin = Linear::<T>::from_arrays(a2(&c["weight"]), a1(&c["bias"])).unwrap();
    let (y, cache) = lin.forward(a2::<T>(&c["x"]).view()).unwrap();
    close("linear y", &y, &c["y"], tol::<T>());
    let dx = lin.backward(&cache, a2::<T>(&c["d_out"]).view()).unwrap();
    close("linear dx", &dx, &c["dx"], tol::<T>());
    close(
        "linear d_weight",
        lin.weight.grad(),
        &c["d_weight"],
        tol::<T>(),
    );
    close("linear d_bias", lin.bias.grad(), &c["d_bias"], tol::<T>());
}

#[test]
fn linear_matches_torch() {
    linear_case::<f64>();
    linear_case::<f32>();
}

fn batch_norm_case<T: Float>() {
    let g = golden();
    let c = &g["batch_norm"];
    let mut bn = BatchNorm1d::<T>::new(3);
    bn.weight.value = a1(&c["weight"]);
    bn.bias.value = a1(&c["bias"]);
    let tl = tol::<T>();
    for (s, step) in c["train"].as_array().unwrap().iter().enumerate() {
        bn.zero_grad();
        let (y, cache) = bn.forward(a2::<T>(&step["x"]).view(), Mode::Train).unwrap();
        close(&format!("bn train {s} y"), &y, &step["y"], tl);
        let dx = bn.backward(&cache, a2::<T>(&step["d_out"]).view()).unwrap();
        close(&format!("bn train {s} dx"), &dx, &step["dx"], tl);
        close(
            &format!("bn train {s} d_weight"),
            bn.weight.grad(),
            &step["d_weight"],
            tl,
        );
        close(
            &format!("bn train {s} d_bias"),
            bn.bias.grad(),
            &step["d_bias"],
            tl,
        );
        close(
            &format!("bn train {s} running_mean"),
            &bn.running_mean,
            &step["running_mean"],
            tl,
        );
        close(
            &format!("bn train {s} running_var"),
            &bn.running_var,
            &step["running_var"],
            tl,
        );
        assert_eq!(
            bn.num_batches_tracked[()].as_f64(),
            step["num_batches_tracked"].as_f64().unwrap()
        );
    }
    let e = &c["eval"];
    bn.zero_grad();
    let x = a2::<T>(&e["x"]);
    let (y, cache) = bn.forward(x.view(), Mode::Eval).unwrap();
    close("bn eval y", &y, &e["y"], tl);
    close("bn infer y", &bn.infer(x.view()).unwrap(), &e["y"], tl);
    let dx = bn.backward(&cache, a2::<T>(&e["d_out"]).view()).unwrap();
    close("bn eval dx", &dx, &e["dx"], tl);
    close("bn eval d_weight", bn.weight.grad(), &e["d_weight"], tl);
    close("bn eval d_bias", bn.bias.grad(), &e["d_bias"], tl);
}

#[test]
fn batch_norm_matches_torch_in_train_and_eval_modes() {
    batch_norm_case::<f64>();
    batch_norm_case::<f32>();
}

fn set_cell<T: Float>(cell: &mut GruCell<T>, c: &Value) {
    cell.weight_ih.value = a2(&c["weight_ih"]);
    cell.weight_hh.value = a2(&c["weight_hh"]);
    cell.bias_ih.value = a1(&c["bias_ih"]);
    cell.bias_hh.value = a1(&c["bias_hh"]);
}

fn check_cell_grads<T: Float>(what: &str, cell: &GruCell<T>, c: &Value) {
    let tl = tol::<T>();
    close(
        &format!("{what} d_weight_ih"),
        cell.weight_ih.grad(),
        &c["d_weight_ih"],
        tl,
    );
    close(
        &format!("{what} d_weight_hh"),
        cell.weight_hh.grad(),
        &c["d_weight_hh"],
        tl,
    );
    close(
        &format!("{what} d_bias_ih"),
        cell.bias_ih.grad(),
        &c["d_bias_ih"],
        tl,
    );
    close(
        &format!("{what} d_bias_hh"),
        cell.bias_hh.grad(),
        &c["d_bias_hh"],
        tl,
    );
}

fn gru_cell_case<T: Float>() {
    let g = golden();
    let c = &g["gru_cell"];
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let mut cell = GruCell::<T>::new(3, 4, &mut rng);
    set_cell(&mut cell, c);
    cell.zero_grad();
    let (x, h) = (a2::<T>(&c["x"]), a2::<T>(&c["h"]));
    let (h_new, cache) = cell.forward(x.view(), h.view()).unwrap();
    close("gru cell h'", &h_new, &c["h_new"], tol::<T>());
    close(
        "gru cell infer",
        &cell.infer(x.view(), h.view()).unwrap(),
        &c["h_new"],
        tol::<T>(),
    );
    let (dx, dh) = cell.backward(&cache, a2::<T>(&c["d_out"]).view()).unwrap();
    close("gru cell dx", &dx, &c["dx"], tol::<T>());
    close("gru cell dh", &dh, &c["dh"], tol::<T>());
    check_cell_grads("gru cell", &cell, c);
}

#[test]
fn gru_cell_matches_torch() {
    gru_cell_case::<f64>();
    gru_cell_case::<f32>();
}

fn gru_case<T: Float>() {
    let g = golden();
    let c = &g["gru"];
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let mut gru = Gru::<T>::new(3, 4, &mut rng);
    set_cell(&mut gru.cell, c);
    gru.zero_grad();
    let xs = a3(&c["xs"]).mapv(T::of);
    let steps: Vec<Array2<T>> = xs.axis_iter(Axis(0)).map(|x| x.to_owned()).collect();
    let views: Vec<_> = steps.iter().map(|x| x.view()).collect();
    let h0 = a2::<T>(&c["h0"]);
    let (hs, cache) = gru.forward(&views, Some(h0.view())).unwrap();
    let outputs = a3(&c["outputs"]);
    let tl = tol::<T>();
    for (t, h) in hs.iter().enumerate() {
        for (&got, &want) in h.iter().zip(outputs.index_axis(Axis(0), t).iter()) {
            assert!(
                (got.as_f64() - want).abs() <= tl,
                "gru output {t}: {got} vs {want}"
            );
        }
    }
    close("gru h_n", &hs[hs.len() - 1], &c["h_n"], tl);
    close(
        "gru infer h_n",
        &gru.infer(&views, Some(h0.view())).unwrap(),
        &c["h_n"],
        tl,
    );
    let d_out = a3(&c["d_outputs"]).mapv(T::of);
    let d_steps: Vec<Array2<T>> = d_out.axis_iter(Axis(0)).map(|d| d.to_owned()).collect();
    let d_views: Vec<_> = d_steps.iter().map(|d| d.view()).collect();
    let d_last = a2::<T>(&c["d_h_last"]);
    let (dxs, dh0) = gru
        .backward(&cache, Some(&d_views), Some(d_last.view()))
        .unwrap();
    let want_dxs = a3(&c["dxs"]);
    for (t, dx) in dxs.iter().enumerate() {
        for (&got, &want) in dx.iter().zip(want_dxs.index_axis(Axis(0), t).iter()) {
            assert!(
                (got.as_f64() - want).abs() <= tl,
                "gru dx {t}: {got} vs {want}"
            );
        }
    }
    close("gru dh0", &dh0, &c["dh0"], tl);
    check_cell_grads("gru", &gru.cell, c);
}

#[test]
fn multi_step_gru_matches_torch_forward_and_backward_through_time() {
    gru_case::<f64>();
    gru_case::<f32>();
}

fn bce_case<T: Float>() {
    let g = golden();
    let c = &g["bce_with_logits"];
    let (x, y, pw) = (
        a2::<T>(&c["logits"]),
        a2::<T>(&c["targets"]),
        a1::<T>(&c["pos_weight"]),
    );
    let (loss, grad) = bce_with_logits(x.view(), y.view(), Some(pw.view())).unwrap();
    assert_abs_diff_eq!(
        loss.as_f64(),
        c["weighted"]["loss"].as_f64().unwrap(),
        epsilon = tol::<T>()
    );
    close(
        "bce weighted grad",
        &grad,
        &c["weighted"]["grad"],
        tol::<T>(),
    );
    let (loss, grad) = bce_with_logits(x.view(), y.view(), None).unwrap();
    assert_abs_diff_eq!(
        loss.as_f64(),
        c["plain"]["loss"].as_f64().unwrap(),
        epsilon = tol::<T>()
    );
    close("bce plain grad", &grad, &c["plain"]["grad"], tol::<T>());
}

#[test]
fn bce_with_logits_matches_torch_with_and_without_pos_weight() {
    bce_case::<f64>();
    bce_case::<f32>();
}

fn nll_case<T: Float>() {
    let g = golden();
    let c = &g["nll_log_softmax"];
    let z = a2::<T>(&c["logits"]);
    let targets: Vec<usize> = c["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let (lp, cache) = LogSoftmax.forward(z.view());
    close("log_softmax", &lp, &c["log_probs"], tol::<T>());
    let (loss, d_lp) = nll(lp.view(), &targets).unwrap();
    assert_abs_diff_eq!(
        loss.as_f64(),
        c["loss"].as_f64().unwrap(),
        epsilon = tol::<T>()
    );
    close("nll d_log_probs", &d_lp, &c["d_log_probs"], tol::<T>());
    let dz = LogSoftmax.backward(&cache, d_lp.view()).unwrap();
    close("nll d_logits", &dz, &c["d_logits"], tol::<T>());
}

#[test]
fn nll_on_log_softmax_matches_torch() {
    nll_case::<f64>();
    nll_case::<f32>();
}

/// A matrix and a vector, visited as PyTorch's parameter list `[w, b]`.
struct TwoParams<T: Float> {
    w: Param<T, Ix2>,
    b: Param<T, Ix1>,
}

impl<T: Float> HasParams<T> for TwoParams<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        f("w", self.w.as_dyn_mut());
        f("b", self.b.as_dyn_mut());
    }
}

fn adam_case<T: Float>() {
    let g = golden();
    let c = &g["adam"];
    let mut m = TwoParams {
        w: Param::new(a2::<T>(&c["w0"])),
        b: Param::new(a1::<T>(&c["b0"])),
    };
    let cfg = AdamConfig::default()
        .learning_rate(c["lr"].as_f64().unwrap())
        .weight_decay(c["weight_decay"].as_f64().unwrap());
    let mut adam = Adam::<T>::new(cfg).unwrap();
    for (s, step) in c["steps"].as_array().unwrap().iter().enumerate() {
        m.zero_grad();
        m.w.grad_mut().assign(&a2::<T>(&step["grad_w"]));
        m.b.grad_mut().assign(&a1::<T>(&step["grad_b"]));
        adam.step(&mut m).unwrap();
        close(
            &format!("adam step {s} w"),
            &m.w.value,
            &step["w"],
            tol::<T>(),
        );
        close(
            &format!("adam step {s} b"),
            &m.b.value,
            &step["b"],
            tol::<T>(),
        );
    }
}

#[test]
fn three_adam_steps_with_weight_decay_match_torch() {
    adam_case::<f64>();
    adam_case::<f32>();
}
