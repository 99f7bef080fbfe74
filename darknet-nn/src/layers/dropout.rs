//! Inverted dropout, PyTorch's `nn.Dropout(p)`.
//!
//! Training: each element is kept with probability `1 − p` and scaled by `1 / (1 − p)`, so the
//! expected output equals the input; evaluation: identity. Backward multiplies by the same mask.
//! The mask is drawn from the caller's generator (seeded, reproducible): one `f64` draw per
//! element in row-major order, element dropped when the draw is `< p`.
//!
//! Shapes: `x` (n, d) → `y` (n, d). No parameters.
//!
//! ```
//! use darknet_nn::{layers::Dropout, Mode};
//! use ndarray::Array2;
//! use rand::SeedableRng;
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let drop = Dropout::new(0.5).unwrap();
//! let x = Array2::<f32>::ones((4, 4));
//! let (y, _) = drop.forward(x.view(), Mode::Train, &mut rng);
//! assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
//! let (y, _) = drop.forward(x.view(), Mode::Eval, &mut rng);
//! assert_eq!(y, x);
//! ```

use crate::error::check_shape;
use crate::{Float, Mode, NnError, Result};
use ndarray::{Array2, ArrayView2};
use rand::Rng;

/// Dropout with drop probability `p` in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    p: f64,
}

/// What [`Dropout::backward`] needs: the scaled mask (n, d), `None` when the forward pass was the
/// identity (evaluation or p = 0).
#[derive(Debug, Clone)]
pub struct DropoutCache<T> {
    /// Per-element factor: 0 or 1/(1 − p), shape (n, d).
    pub mask: Option<Array2<T>>,
}

impl Dropout {
    /// A dropout layer.
    ///
    /// Errors: [`NnError::InvalidConfig`] (field `p`) unless 0 ≤ p ≤ 1.
    pub fn new(p: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(NnError::InvalidConfig {
                field: "p",
                value: p.to_string(),
                reason: "dropout probability must be in [0, 1]",
            });
        }
        Ok(Self { p })
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// `x` (n, d) → `y` (n, d) and the cache; draws the mask from `rng` in training mode.
    pub fn forward<T: Float>(
        &self,
        x: ArrayView2<'_, T>,
        mode: Mode,
        rng: &mut impl Rng,
    ) -> (Array2<T>, DropoutCache<T>) {
        if mode == Mode::Eval || self.p == 0.0 {
            return (x.to_owned(), DropoutCache { mask: None });
        }
        let scale = if self.p >= 1.0 {
            T::zero()
        } else {
            T::of(1.0 / (1.0 - self.p))
        };
        let mask = Array2::from_shape_simple_fn(x.raw_dim(), || {
            if rng.random::<f64>() < self.p {
                T::zero()
            } else {
                scale
            }
        });
        (&x * &mask, DropoutCache { mask: Some(mask) })
    }

    /// `d_out` (n, d) → `dx` (n, d).
    ///
    /// Errors: [`NnError::ShapeMismatch`] if `d_out` differs from the mask's shape.
    pub fn backward<T: Float>(
        &self,
        cache: &DropoutCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        match &cache.mask {
            None => Ok(d_out.to_owned()),
            Some(m) => {
                check_shape("Dropout::backward", "d_out", m.shape(), d_out.shape())?;
                Ok(&d_out * m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradients, GradCheckConfig, NoParams};
    use ndarray::Ix2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn gradients_match_finite_differences_with_a_fixed_mask() {
        let d = Dropout::new(0.3).unwrap();
        let x = Array2::from_shape_fn((3, 5), |(i, j)| (i + j) as f64 * 0.1 - 0.2).into_dyn();
        let run = |xs: &[ndarray::ArrayD<f64>]| {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            d.forward(
                xs[0].view().into_dimensionality::<Ix2>().unwrap(),
                Mode::Train,
                &mut rng,
            )
        };
        check_gradients(
            &mut NoParams,
            &[x],
            |_, xs| Ok(run(xs).0.into_dyn()),
            |_, xs, g| {
                Ok(vec![Some(
                    d.backward(&run(xs).1, g.view().into_dimensionality::<Ix2>().unwrap())?
                        .into_dyn(),
                )])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn keeps_about_one_minus_p_and_is_seeded() {
        let d = Dropout::new(0.25).unwrap();
        let x = Array2::<f32>::ones((100, 100));
        let (a, _) = d.forward(x.view(), Mode::Train, &mut ChaCha8Rng::seed_from_u64(1));
        let (b, _) = d.forward(x.view(), Mode::Train, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(a, b);
        let kept = a.iter().filter(|&&v| v > 0.0).count() as f64 / 10_000.0;
        assert!((kept - 0.75).abs() < 0.03);
        assert!((a.mean().unwrap() - 1.0).abs() < 0.05);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Dropout::new(1.5),
            Err(NnError::InvalidConfig { field: "p", .. })
        ));
        let d = Dropout::new(0.5).unwrap();
        let (_, c) = d.forward(
            Array2::<f32>::ones((2, 2)).view(),
            Mode::Train,
            &mut ChaCha8Rng::seed_from_u64(0),
        );
        assert!(d.backward(&c, Array2::<f32>::ones((1, 2)).view()).is_err());
    }
}
