//! The one shared finite-difference gradient checker (f64, central differences).
//!
//! A hand-written backward pass is checked by comparing, for every element of every input and
//! every parameter, the analytic gradient of the scalar `L = Σ out ⊙ g` (with `g` a seeded random
//! upstream gradient of the output's shape) against the central difference
//! `(L(θ + ε) − L(θ − ε)) / 2ε`. An element passes when
//! `|analytic − numeric| ≤ atol + rtol · max(|analytic|, |numeric|)`.
//!
//! Every layer, loss and model of the crate has a test through [`check_gradients`]; new layers
//! (in this crate or elsewhere) should use it too.
//!
//! ```
//! use darknet_nn::gradcheck::{check_gradients, GradCheckConfig};
//! use darknet_nn::{Linear, HasParams};
//! use ndarray::{Array2, Ix2};
//! use rand::SeedableRng;
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
//! let mut lin = Linear::<f64>::new(3, 2, &mut rng);
//! let x = Array2::from_shape_fn((4, 3), |(i, j)| (i as f64 - j as f64) * 0.3).into_dyn();
//! let report = check_gradients(
//!     &mut lin,
//!     &[x],
//!     |m, xs| Ok(m.forward(xs[0].view().into_dimensionality::<Ix2>().unwrap())?.0.into_dyn()),
//!     |m, xs, g| {
//!         let x = xs[0].view().into_dimensionality::<Ix2>().unwrap();
//!         let (_, cache) = m.forward(x)?;
//!         let dx = m.backward(&cache, g.view().into_dimensionality::<Ix2>().unwrap())?;
//!         Ok(vec![Some(dx.into_dyn())])
//!     },
//!     &GradCheckConfig::default(),
//! )
//! .unwrap();
//! assert_eq!(report.n_checked, 4 * 3 + 2 * 3 + 2);
//! ```

use crate::{HasParams, NnError, ParamMut, Result};
use ndarray::{ArrayD, ArrayViewMutD};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Settings of the finite-difference checker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradCheckConfig {
    /// Step ε of the central difference. Default 1e-6.
    pub eps: f64,
    /// Relative tolerance. Default 1e-5.
    pub rtol: f64,
    /// Absolute tolerance (for gradients near zero). Default 1e-7.
    pub atol: f64,
    /// Seed of the random upstream gradient `g` (uniform in [-1, 1)). Default 0.
    pub seed: u64,
}

impl Default for GradCheckConfig {
    fn default() -> Self {
        Self {
            eps: 1e-6,
            rtol: 1e-5,
            atol: 1e-7,
            seed: 0,
        }
    }
}

/// What a successful check covered.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheckReport {
    /// Number of scalar elements compared (inputs and parameters).
    pub n_checked: usize,
    /// Largest `|analytic − numeric|` seen.
    pub max_abs_err: f64,
    /// Names of the tensors checked: `"input.0"`, ..., then parameter names.
    pub tensors: Vec<String>,
}

/// A model with no parameters, for checking parameter-free functions (activations, losses).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoParams;

impl HasParams<f64> for NoParams {
    fn visit_params(&mut self, _f: &mut dyn FnMut(&str, ParamMut<'_, f64>)) {}
}

/// Checks a backward pass against central finite differences.
///
/// Arguments:
/// - `model`: the layer or model, with f64 parameters (all of its parameters are checked);
/// - `inputs`: the inputs, any shapes;
/// - `forward(model, inputs) -> out`: the forward pass, output of any shape;
/// - `backward(model, inputs, g) -> d_inputs`: runs the forward pass again (for its cache), then
///   the backward pass with upstream gradient `g` (shape of `out`); returns one entry per input:
///   `Some(gradient)` (shape of that input) to check it, `None` for inputs that are not
///   differentiable (labels, indices). Parameter gradients must be accumulated into the model's
///   `Param`s; the checker zeroes them first.
///
/// Returns a report, or [`NnError::GradientMismatch`] naming the first failing tensor and
/// element. Errors of `forward`/`backward` are passed through.
///
/// Complexity: two forward passes per checked element: use tiny inputs.
pub fn check_gradients<M, F, B>(
    model: &mut M,
    inputs: &[ArrayD<f64>],
    mut forward: F,
    mut backward: B,
    cfg: &GradCheckConfig,
) -> Result<GradCheckReport>
where
    M: HasParams<f64> + ?Sized,
    F: FnMut(&mut M, &[ArrayD<f64>]) -> Result<ArrayD<f64>>,
    B: FnMut(&mut M, &[ArrayD<f64>], &ArrayD<f64>) -> Result<Vec<Option<ArrayD<f64>>>>,
{
    let out = forward(model, inputs)?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let g = out.mapv(|_| rng.random_range(-1.0..1.0));
    let loss = |out: &ArrayD<f64>| -> f64 { out.iter().zip(g.iter()).map(|(a, b)| a * b).sum() };

    model.zero_grad();
    let d_inputs = backward(model, inputs, &g)?;
    if d_inputs.len() != inputs.len() {
        return Err(NnError::ShapeMismatch {
            op: "gradcheck",
            what: "number of input gradients",
            expected: vec![inputs.len()],
            actual: vec![d_inputs.len()],
        });
    }
    let mut param_grads: Vec<(String, Vec<f64>)> = Vec::new();
    model.visit_params(&mut |name, p| {
        param_grads.push((name.to_string(), p.grad.iter().copied().collect()));
    });

    let mut report = GradCheckReport {
        n_checked: 0,
        max_abs_err: 0.0,
        tensors: Vec::new(),
    };
    let mut compare = |tensor: &str, index: usize, analytic: f64, numeric: f64| -> Result<()> {
        let err = (analytic - numeric).abs();
        report.n_checked += 1;
        report.max_abs_err = report.max_abs_err.max(err);
        if err.is_nan() || err > cfg.atol + cfg.rtol * analytic.abs().max(numeric.abs()) {
            return Err(NnError::GradientMismatch {
                tensor: tensor.to_string(),
                index,
                analytic,
                numeric,
            });
        }
        Ok(())
    };

    // Inputs.
    let mut xs: Vec<ArrayD<f64>> = inputs.to_vec();
    let mut names = Vec::new();
    for (k, d) in d_inputs.iter().enumerate() {
        let Some(d) = d else { continue };
        if d.shape() != inputs[k].shape() {
            return Err(NnError::ShapeMismatch {
                op: "gradcheck",
                what: "input gradient",
                expected: inputs[k].shape().to_vec(),
                actual: d.shape().to_vec(),
            });
        }
        let name = format!("input.{k}");
        for (idx, &analytic) in d.iter().enumerate() {
            let orig = *xs[k].iter().nth(idx).expect("index within input");
            *xs[k].iter_mut().nth(idx).expect("index") = orig + cfg.eps;
            let lp = loss(&forward(model, &xs)?);
            *xs[k].iter_mut().nth(idx).expect("index") = orig - cfg.eps;
            let lm = loss(&forward(model, &xs)?);
            *xs[k].iter_mut().nth(idx).expect("index") = orig;
            compare(&name, idx, analytic, (lp - lm) / (2.0 * cfg.eps))?;
        }
        names.push(name);
    }

    // Parameters.
    for (pi, (name, grads)) in param_grads.iter().enumerate() {
        for (idx, &analytic) in grads.iter().enumerate() {
            let orig = nudge(model, pi, idx, None);
            nudge(model, pi, idx, Some(orig + cfg.eps));
            let lp = loss(&forward(model, inputs)?);
            nudge(model, pi, idx, Some(orig - cfg.eps));
            let lm = loss(&forward(model, inputs)?);
            nudge(model, pi, idx, Some(orig));
            compare(name, idx, analytic, (lp - lm) / (2.0 * cfg.eps))?;
        }
        names.push(name.clone());
    }
    report.tensors = names;
    Ok(report)
}

/// Reads element `idx` of parameter number `pi`, and sets it to `set` when given; returns the
/// value before the change.
fn nudge<M: HasParams<f64> + ?Sized>(
    model: &mut M,
    pi: usize,
    idx: usize,
    set: Option<f64>,
) -> f64 {
    let mut k = 0;
    let mut old = f64::NAN;
    model.visit_params(&mut |_, p| {
        if k == pi {
            let mut v: ArrayViewMutD<'_, f64> = p.value;
            let e = v.iter_mut().nth(idx).expect("index within parameter");
            old = *e;
            if let Some(s) = set {
                *e = s;
            }
        }
        k += 1;
    });
    old
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_a_wrong_gradient() {
        let x = ndarray::arr1(&[0.5, -1.0]).into_dyn();
        let r = check_gradients(
            &mut NoParams,
            &[x],
            |_, xs| Ok(xs[0].mapv(|v| v * v)),
            // Wrong on purpose: d(x²)/dx = 2x, not x.
            |_, xs, g| Ok(vec![Some(&xs[0] * g)]),
            &GradCheckConfig::default(),
        );
        assert!(matches!(r, Err(NnError::GradientMismatch { index: 0, .. })));
    }

    #[test]
    fn accepts_a_right_gradient() {
        let x = ndarray::arr1(&[0.5, -1.0, 2.0]).into_dyn();
        let r = check_gradients(
            &mut NoParams,
            &[x],
            |_, xs| Ok(xs[0].mapv(|v| v * v)),
            |_, xs, g| Ok(vec![Some(&xs[0] * g * 2.0)]),
            &GradCheckConfig::default(),
        )
        .unwrap();
        assert_eq!(r.n_checked, 3);
    }

    #[test]
    fn wrong_number_of_input_gradients_is_an_error() {
        let x = ndarray::arr1(&[0.5]).into_dyn();
        let r = check_gradients(
            &mut NoParams,
            &[x],
            |_, xs| Ok(xs[0].clone()),
            |_, _, _| Ok(vec![]),
            &GradCheckConfig::default(),
        );
        assert!(matches!(
            r,
            Err(NnError::ShapeMismatch {
                op: "gradcheck",
                ..
            })
        ));
    }
}
