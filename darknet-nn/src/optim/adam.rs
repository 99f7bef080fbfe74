//! Adam with PyTorch's semantics (`torch.optim.Adam`, `amsgrad=False`, `maximize=False`).
//!
//! For each parameter `p` with gradient `g`, at step `t = 1, 2, ...`:
//!
//! ```text
//! g  ← g + weight_decay · p              (L2 penalty added to the gradient, as torch.optim.Adam)
//! m  ← β1 m + (1 − β1) g
//! v  ← β2 v + (1 − β2) g²
//! p  ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
//! ```
//!
//! `eps` is added outside the square root, after bias correction, exactly as PyTorch.
//!
//! **AdamW** (`torch.optim.AdamW`, [`AdamConfig::adamw`]): the weight decay is decoupled from
//! the gradient, applied to the parameter before the moment update, `p ← p − lr · weight_decay
//! · p`, then the same `m`, `v` and `p` updates with the plain gradient. PyTorch's defaults:
//! lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2.
//!
//! **Checkpoints.** The state (step count, first and second moments of every parameter, in
//! the model's visiting order) is readable with [`Adam::state`] and restored with
//! [`Adam::from_state`]; [`crate::persist::save_adam`] and [`crate::persist::load_adam`] write
//! and read it (safetensors, PyTorch's `exp_avg` / `exp_avg_sq` names). Training `k` steps,
//! saving model and optimizer, loading both and training `k` more gives the same bytes as
//! `2k` steps in one run.
//!
//! ```
//! use darknet_nn::optim::{Adam, AdamConfig};
//! use darknet_nn::{HasParams, Linear};
//! use rand::SeedableRng;
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let mut lin = Linear::<f32>::new(2, 1, &mut rng);
//! let mut adam = Adam::new(AdamConfig::default().learning_rate(0.01)).unwrap();
//! lin.zero_grad();
//! let (_, cache) = lin.forward(ndarray::array![[1.0, 1.0]].view()).unwrap();
//! lin.backward(&cache, ndarray::array![[1.0]].view()).unwrap();
//! let before = lin.bias.value[0];
//! adam.step(&mut lin).unwrap();
//! // The first Adam step moves every parameter by about lr against the gradient's sign.
//! assert!((before - lin.bias.value[0] - 0.01).abs() < 1e-6);
//! ```

use crate::{Float, HasParams, NnError, Result};
use ndarray::{ArrayD, Zip};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of [`Adam`]; defaults are PyTorch's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate. Default 1e-3. Must be finite and > 0.
    pub learning_rate: f64,
    /// First-moment decay β1. Default 0.9. In [0, 1).
    pub beta1: f64,
    /// Second-moment decay β2. Default 0.999. In [0, 1).
    pub beta2: f64,
    /// Term added to the denominator. Default 1e-8. Must be >= 0.
    pub eps: f64,
    /// Weight decay: an L2 penalty added to the gradient (Adam), or decoupled from it when
    /// `decoupled_weight_decay` is set (AdamW). Default 0 (1e-2 for [`AdamConfig::adamw`]).
    /// Must be >= 0.
    pub weight_decay: f64,
    /// Apply the weight decay as AdamW does (`p ← p − lr · weight_decay · p` before the
    /// update) instead of adding it to the gradient. Default false.
    #[serde(default)]
    pub decoupled_weight_decay: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
        }
    }
}

impl AdamConfig {
    /// AdamW with PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay
    /// 1e-2, decoupled.
    pub fn adamw() -> Self {
        Self {
            weight_decay: 1e-2,
            decoupled_weight_decay: true,
            ..Self::default()
        }
    }

    /// Sets the learning rate.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }
    /// Sets β1 and β2.
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }
    /// Sets eps.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    /// Sets the weight decay (L2 penalty).
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.weight_decay = wd;
        self
    }

    /// Checks every field; the error names the first invalid one.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, value: f64, reason| NnError::InvalidConfig {
            field,
            value: value.to_string(),
            reason,
        };
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(bad(
                "learning_rate",
                self.learning_rate,
                "must be finite and > 0",
            ));
        }
        if !(0.0..1.0).contains(&self.beta1) {
            return Err(bad("beta1", self.beta1, "must be in [0, 1)"));
        }
        if !(0.0..1.0).contains(&self.beta2) {
            return Err(bad("beta2", self.beta2, "must be in [0, 1)"));
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(bad("eps", self.eps, "must be finite and >= 0"));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(bad(
                "weight_decay",
                self.weight_decay,
                "must be finite and >= 0",
            ));
        }
        Ok(())
    }
}

/// The moment estimates of one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments<T> {
    /// The parameter's dotted name, e.g. `"gcn.0.weight"`.
    pub name: String,
    /// First moment (PyTorch's `exp_avg`), the parameter's shape.
    pub m: ArrayD<T>,
    /// Second moment (PyTorch's `exp_avg_sq`), the parameter's shape.
    pub v: ArrayD<T>,
}

/// Everything an [`Adam`] optimizer carries from step to step: the number of steps taken and
/// the moments of every parameter, in the model's visiting order (empty before the first
/// step).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdamState<T> {
    /// Steps taken (the `t` of the bias corrections).
    pub step: u64,
    /// Per-parameter moments, in visiting order.
    pub moments: Vec<Moments<T>>,
}

/// The Adam optimizer (AdamW with [`AdamConfig::adamw`]); its state (moments) is created on
/// the first [`Adam::step`] from the model's parameters, in visiting order.
#[derive(Debug, Clone)]
pub struct Adam<T: Float> {
    config: AdamConfig,
    t: u64,
    state: Vec<Moments<T>>,
}

impl<T: Float> Adam<T> {
    /// An optimizer with validated hyper-parameters.
    ///
    /// Errors: [`NnError::InvalidConfig`] naming the bad field.
    pub fn new(config: AdamConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            t: 0,
            state: Vec::new(),
        })
    }

    /// An optimizer resuming from a saved state (see [`Adam::state`]).
    ///
    /// Errors: [`NnError::InvalidConfig`] naming the bad field; [`NnError::OptimizerState`]
    /// for moments of differing shapes, moments without a step or steps without moments.
    pub fn from_state(config: AdamConfig, state: AdamState<T>) -> Result<Self> {
        config.validate()?;
        for s in &state.moments {
            if s.m.shape() != s.v.shape() {
                return Err(NnError::OptimizerState {
                    name: s.name.clone(),
                    reason: "first and second moments differ in shape",
                });
            }
        }
        if (state.step == 0) != state.moments.is_empty() {
            return Err(NnError::OptimizerState {
                name: state
                    .moments
                    .first()
                    .map_or_else(String::new, |s| s.name.clone()),
                reason: "a state has moments exactly when it has taken a step",
            });
        }
        Ok(Self {
            config,
            t: state.step,
            state: state.moments,
        })
    }

    /// The state to save for resuming: step count and moments (a copy).
    pub fn state(&self) -> AdamState<T> {
        AdamState {
            step: self.t,
            moments: self.state.clone(),
        }
    }

    /// The moments of every parameter, in visiting order (empty before the first step).
    pub fn moments(&self) -> &[Moments<T>] {
        &self.state
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// Changes the learning rate (schedules).
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        let c = self.config.learning_rate(lr);
        c.validate()?;
        self.config = c;
        Ok(())
    }

    /// One update of every parameter of `model` from its accumulated gradient.
    ///
    /// Errors (nothing is updated then): [`NnError::MissingGrad`] if a parameter received no
    /// gradient since the last zeroing; [`NnError::OptimizerState`] if the model's parameters
    /// (names, shapes, count) differ from those of the first step.
    pub fn step<M: HasParams<T> + ?Sized>(&mut self, model: &mut M) -> Result<()> {
        // Pass 1: check gradients and state before touching anything.
        let mut err: Option<NnError> = None;
        let mut k = 0usize;
        let fresh = self.state.is_empty();
        let mut new_state = Vec::new();
        model.visit_params(&mut |name, p| {
            if err.is_some() {
                return;
            }
            if !*p.has_grad {
                err = Some(NnError::MissingGrad {
                    name: name.to_string(),
                });
            } else if fresh {
                new_state.push(Moments {
                    name: name.to_string(),
                    m: ArrayD::zeros(p.value.raw_dim()),
                    v: ArrayD::zeros(p.value.raw_dim()),
                });
            } else {
                match self.state.get(k) {
                    None => {
                        err = Some(NnError::OptimizerState {
                            name: name.to_string(),
                            reason: "parameter not present at the first step",
                        })
                    }
                    Some(s) if s.name != name => {
                        err = Some(NnError::OptimizerState {
                            name: name.to_string(),
                            reason: "parameter name differs from the first step",
                        })
                    }
                    Some(s) if s.m.shape() != p.value.shape() => {
                        err = Some(NnError::OptimizerState {
                            name: name.to_string(),
                            reason: "parameter shape differs from the first step",
                        })
                    }
                    _ => {}
                }
            }
            k += 1;
        });
        if let Some(e) = err {
            return Err(e);
        }
        if fresh {
            self.state = new_state;
        } else if k != self.state.len() {
            return Err(NnError::OptimizerState {
                name: self.state[k.min(self.state.len() - 1)].name.clone(),
                reason: "model has fewer parameters than at the first step",
            });
        }

        // Pass 2: update.
        self.t += 1;
        let c = self.config;
        let t = self.t as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        let step_size = T::of(c.learning_rate / bc1);
        let (b1, b2) = (T::of(c.beta1), T::of(c.beta2));
        let (one_b1, one_b2) = (T::of(1.0 - c.beta1), T::of(1.0 - c.beta2));
        let (eps, wd, bc2s) = (T::of(c.eps), T::of(c.weight_decay), T::of(bc2_sqrt));
        let decay = c.weight_decay != 0.0 && !c.decoupled_weight_decay;
        let shrink = (c.weight_decay != 0.0 && c.decoupled_weight_decay)
            .then(|| T::of(1.0 - c.learning_rate * c.weight_decay));
        let mut k = 0usize;
        let state = &mut self.state;
        model.visit_params(&mut |_, mut p| {
            let s = &mut state[k];
            k += 1;
            Zip::from(&mut p.value)
                .and(&p.grad)
                .and(&mut s.m)
                .and(&mut s.v)
                .for_each(|w, &g, m, v| {
                    if let Some(f) = shrink {
                        *w *= f;
                    }
                    let g = if decay { g + wd * *w } else { g };
                    *m = b1 * *m + one_b1 * g;
                    *v = b2 * *v + one_b2 * g * g;
                    let denom = v.sqrt() / bc2s + eps;
                    *w -= step_size * *m / denom;
                });
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Param, ParamMut};
    use ndarray::{arr1, Ix1};

    struct One(Param<f64, Ix1>);
    impl HasParams<f64> for One {
        fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, f64>)) {
            f("p", self.0.as_dyn_mut());
        }
    }

    /// Three steps on one scalar p = 1, gradients 0.1, −0.2, 0.3, lr 0.1, weight decay 0.5,
    /// worked by hand with the update of the module doc (PyTorch's documented algorithm):
    ///
    /// ```text
    /// t=1: g = 0.1 + 0.5·1 = 0.6,          m = 0.06,        v = 0.00036
    ///      p = 1 − (0.1/0.1) · 0.06 / (√0.00036/√0.001 + 1e-8)          = 0.9000000016666666
    /// t=2: g = −0.2 + 0.5·p = 0.2500000008, m = 0.0790000001, v = 0.00042214000042
    ///      p = p − (0.1/0.19) · m / (√v/√0.001999 + 1e-8)               = 0.8095202030522038
    /// t=3: g = 0.3 + 0.5·p = 0.7047601015, m = 0.1415760102, v = 0.00091840466112
    ///      p = p − (0.1/0.271) · m / (√v/√0.002997001 + 1e-8)           = 0.7151474173308094
    /// ```
    #[test]
    fn three_steps_match_hand_worked_values() {
        let mut model = One(Param::new(arr1(&[1.0])));
        let mut adam =
            Adam::new(AdamConfig::default().learning_rate(0.1).weight_decay(0.5)).unwrap();
        let grads = [0.1, -0.2, 0.3];
        let expected = [0.9000000016666666, 0.8095202030522038, 0.7151474173308094];
        for (&g, &want) in grads.iter().zip(&expected) {
            model.zero_grad();
            model.0.grad_mut()[0] = g;
            adam.step(&mut model).unwrap();
            assert!(
                (model.0.value[0] - want).abs() < 1e-14,
                "{} vs {want}",
                model.0.value[0]
            );
        }
        assert_eq!(adam.steps(), 3);
    }

    #[test]
    fn missing_gradient_is_an_error() {
        let mut model = One(Param::new(arr1(&[1.0])));
        let mut adam = Adam::new(AdamConfig::default()).unwrap();
        assert!(matches!(adam.step(&mut model), Err(NnError::MissingGrad { name }) if name == "p"));
        assert_eq!(model.0.value[0], 1.0);
    }

    #[test]
    fn changed_model_is_an_error() {
        let mut adam = Adam::new(AdamConfig::default()).unwrap();
        let mut a = One(Param::new(arr1(&[1.0])));
        a.0.grad_mut()[0] = 1.0;
        adam.step(&mut a).unwrap();
        let mut b = One(Param::new(arr1(&[1.0, 2.0])));
        b.0.grad_mut()[0] = 1.0;
        assert!(matches!(
            adam.step(&mut b),
            Err(NnError::OptimizerState { .. })
        ));
    }

    #[test]
    fn invalid_config_names_the_field() {
        let e = Adam::<f32>::new(AdamConfig::default().learning_rate(-1.0)).unwrap_err();
        assert!(matches!(
            e,
            NnError::InvalidConfig {
                field: "learning_rate",
                ..
            }
        ));
        let e = Adam::<f32>::new(AdamConfig::default().betas(0.9, 1.0)).unwrap_err();
        assert!(matches!(e, NnError::InvalidConfig { field: "beta2", .. }));
        let e = Adam::<f32>::new(AdamConfig::default().eps(f64::NAN)).unwrap_err();
        assert!(matches!(e, NnError::InvalidConfig { field: "eps", .. }));
        let e = Adam::<f32>::new(AdamConfig::default().weight_decay(-0.1)).unwrap_err();
        assert!(matches!(
            e,
            NnError::InvalidConfig {
                field: "weight_decay",
                ..
            }
        ));
        let e = Adam::<f32>::new(AdamConfig::default().betas(1.5, 0.9)).unwrap_err();
        assert!(matches!(e, NnError::InvalidConfig { field: "beta1", .. }));
    }

    /// AdamW (decoupled weight decay) on one scalar p = 1, gradients 0.1, −0.2, 0.3, with
    /// PyTorch's `torch.optim.AdamW` algorithm evaluated in f64 by hand (`p ← p(1 − lr·wd)`,
    /// then the Adam update with the plain gradient). Once with lr 0.1 and weight decay 0.5,
    /// once with AdamW's defaults.
    #[test]
    fn adamw_matches_pytorch_formula() {
        let cases = [
            (
                AdamConfig::adamw().learning_rate(0.1).weight_decay(0.5),
                [0.8500000099999989, 0.8441103598884887, 0.7675807354533182],
            ),
            (
                AdamConfig::adamw(),
                [0.9989900001, 0.9993461137038839, 0.9989928791783396],
            ),
        ];
        for (cfg, expected) in cases {
            let mut model = One(Param::new(arr1(&[1.0])));
            let mut adam = Adam::new(cfg).unwrap();
            for (&g, &want) in [0.1, -0.2, 0.3].iter().zip(&expected) {
                model.zero_grad();
                model.0.grad_mut()[0] = g;
                adam.step(&mut model).unwrap();
                assert!(
                    (model.0.value[0] - want).abs() < 1e-14,
                    "{} vs {want}",
                    model.0.value[0]
                );
            }
        }
        let d = AdamConfig::adamw();
        assert_eq!(
            (d.learning_rate, d.beta1, d.beta2, d.eps, d.weight_decay),
            (1e-3, 0.9, 0.999, 1e-8, 1e-2)
        );
        assert!(d.decoupled_weight_decay);
    }

    #[test]
    fn state_resumes_bit_identically() {
        let grads = [0.1, -0.2, 0.3, 0.05, -0.4, 0.25];
        let cfg = AdamConfig::default().learning_rate(0.1).weight_decay(0.5);
        let run = |adam: &mut Adam<f64>, model: &mut One, gs: &[f64]| {
            for &g in gs {
                model.zero_grad();
                model.0.grad_mut()[0] = g;
                adam.step(model).unwrap();
            }
        };
        let mut full = One(Param::new(arr1(&[1.0])));
        let mut a = Adam::new(cfg).unwrap();
        run(&mut a, &mut full, &grads);
        let mut half = One(Param::new(arr1(&[1.0])));
        let mut b = Adam::new(cfg).unwrap();
        run(&mut b, &mut half, &grads[..3]);
        let state = b.state();
        assert_eq!(state.step, 3);
        assert_eq!(state.moments[0].name, "p");
        let mut c = Adam::from_state(cfg, state).unwrap();
        run(&mut c, &mut half, &grads[3..]);
        assert_eq!(half.0.value[0].to_bits(), full.0.value[0].to_bits());
        assert_eq!(c.state(), a.state());
    }

    #[test]
    fn inconsistent_state_is_an_error() {
        let cfg = AdamConfig::default();
        let bad = AdamState::<f64> {
            step: 1,
            moments: vec![Moments {
                name: "p".into(),
                m: ndarray::ArrayD::zeros(vec![2]),
                v: ndarray::ArrayD::zeros(vec![3]),
            }],
        };
        assert!(matches!(
            Adam::from_state(cfg, bad),
            Err(NnError::OptimizerState { .. })
        ));
        let no_moments = AdamState::<f64> {
            step: 4,
            moments: vec![],
        };
        assert!(matches!(
            Adam::from_state(cfg, no_moments),
            Err(NnError::OptimizerState { .. })
        ));
    }
}
