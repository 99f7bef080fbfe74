//! Trainable parameters, the trait through which optimizers and persistence visit them, and the
//! train/eval mode switch.

use crate::Float;
use ndarray::{Array, ArrayViewMutD, Dimension};

/// Whether a forward pass is training (batch statistics, dropout on) or evaluating (running
/// statistics, dropout off), as PyTorch's `model.train()` / `model.eval()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Training: BatchNorm normalizes with batch statistics and updates its running statistics;
    /// Dropout drops.
    #[default]
    Train,
    /// Evaluation: BatchNorm uses running statistics; Dropout is the identity.
    Eval,
}

/// A trainable tensor and its accumulated gradient, both of the same shape.
///
/// `D` is the array dimension (`Ix1` for biases, `Ix2` for weight matrices). Backward passes
/// add into the gradient through [`Param::grad_mut`], which also marks the parameter as having
/// a gradient; [`Param::zero_grad`] clears both. An optimizer refuses to step a parameter that
/// has no gradient since the last zeroing (see [`crate::NnError::MissingGrad`]).
///
/// ```
/// use darknet_nn::Param;
/// use ndarray::array;
/// let mut p = Param::new(array![1.0f32, 2.0]);
/// assert!(!p.has_grad());
/// *p.grad_mut() += &array![0.5, 0.5];
/// assert!(p.has_grad());
/// p.zero_grad();
/// assert_eq!(p.grad(), &array![0.0, 0.0]);
/// ```
///
/// Equality compares values only (two parameters are equal when they hold the same numbers,
/// whatever gradient they accumulated).
#[derive(Debug, Clone)]
pub struct Param<T, D: Dimension> {
    /// The parameter's value.
    pub value: Array<T, D>,
    grad: Array<T, D>,
    has_grad: bool,
}

impl<T: PartialEq, D: Dimension> PartialEq for Param<T, D> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Float, D: Dimension> Param<T, D> {
    /// Wraps a value with a zero gradient.
    pub fn new(value: Array<T, D>) -> Self {
        let grad = Array::zeros(value.raw_dim());
        Self {
            value,
            grad,
            has_grad: false,
        }
    }

    /// The accumulated gradient (same shape as the value).
    pub fn grad(&self) -> &Array<T, D> {
        &self.grad
    }

    /// The gradient, to add into; marks the parameter as having a gradient.
    pub fn grad_mut(&mut self) -> &mut Array<T, D> {
        self.has_grad = true;
        &mut self.grad
    }

    /// True when a backward pass has written the gradient since the last [`Param::zero_grad`].
    pub fn has_grad(&self) -> bool {
        self.has_grad
    }

    /// Sets the gradient to zero (no allocation) and clears the has-gradient mark.
    pub fn zero_grad(&mut self) {
        self.grad.fill(T::zero());
        self.has_grad = false;
    }

    /// Number of scalar elements.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// True for a parameter with no elements.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// A dimension-erased mutable view, as handed to [`HasParams::visit_params`] visitors.
    pub fn as_dyn_mut(&mut self) -> ParamMut<'_, T> {
        ParamMut {
            value: self.value.view_mut().into_dyn(),
            grad: self.grad.view_mut().into_dyn(),
            has_grad: &mut self.has_grad,
        }
    }
}

/// A parameter seen through a visitor: dimension-erased mutable views of value and gradient.
///
/// Optimizers update `value` from `grad`; persistence reads or overwrites `value` (its shape is
/// the tensor's shape, PyTorch layout).
#[derive(Debug)]
pub struct ParamMut<'a, T> {
    /// The value, any dimension.
    pub value: ArrayViewMutD<'a, T>,
    /// The accumulated gradient, same shape as `value`.
    pub grad: ArrayViewMutD<'a, T>,
    /// Whether a backward pass wrote `grad` since the last zeroing.
    pub has_grad: &'a mut bool,
}

/// Anything holding named parameters (and non-trainable buffers) that optimizers and
/// persistence can walk.
///
/// Names are dotted paths in PyTorch's `state_dict` style (`"weight"`, `"gcn.0.weight"`,
/// `"fc.1.running_mean"`); a container prefixes its children's names. The visiting order must be
/// deterministic (it is the order of the optimizer's state and of saved tensors).
///
/// ```
/// use darknet_nn::{HasParams, Linear};
/// use rand::SeedableRng;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let mut lin = Linear::<f32>::new(3, 2, &mut rng);
/// let mut names = Vec::new();
/// lin.visit_params(&mut |name, p| names.push((name.to_string(), p.value.shape().to_vec())));
/// assert_eq!(names, vec![("weight".to_string(), vec![2, 3]), ("bias".to_string(), vec![2])]);
/// assert_eq!(lin.n_params(), 8);
/// ```
pub trait HasParams<T: Float> {
    /// Calls `f(name, param)` on every trainable parameter, in a fixed order.
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>));

    /// Calls `f(name, buffer)` on every non-trainable state tensor that must be saved with the
    /// model (BatchNorm's running mean and variance). Default: none.
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        let _ = f;
    }

    /// Zeroes every parameter's gradient (call before each backward pass).
    fn zero_grad(&mut self) {
        self.visit_params(&mut |_, mut p| {
            p.grad.fill(T::zero());
            *p.has_grad = false;
        });
    }

    /// Total number of trainable scalars.
    fn n_params(&mut self) -> usize {
        let mut n = 0;
        self.visit_params(&mut |_, p| n += p.value.len());
        n
    }
}

/// Visits `child`'s parameters with names prefixed by `prefix.` (helper for containers).
///
/// The joined names are built on the stack (no allocation for names up to 256 bytes), so
/// optimizers and gradient zeroing can visit a model every step without allocating.
pub fn visit_child_params<T: Float, M: HasParams<T> + ?Sized>(
    prefix: &str,
    child: &mut M,
    f: &mut dyn FnMut(&str, ParamMut<'_, T>),
) {
    child.visit_params(&mut |name, p| with_joined(&[prefix, ".", name], |n| f(n, p)));
}

/// Visits `child`'s buffers with names prefixed by `prefix.` (helper for containers).
pub fn visit_child_buffers<T: Float, M: HasParams<T> + ?Sized>(
    prefix: &str,
    child: &mut M,
    f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>),
) {
    child.visit_buffers(&mut |name, b| with_joined(&[prefix, ".", name], |n| f(n, b)));
}

/// Calls `f` with the concatenation of `parts`, built in a stack buffer when it fits in 256
/// bytes (parameter names always do), else in a `String`.
pub(crate) fn with_joined<R>(parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 256];
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len > buf.len() {
        return f(&parts.concat());
    }
    let mut at = 0;
    for p in parts {
        buf[at..at + p.len()].copy_from_slice(p.as_bytes());
        at += p.len();
    }
    // Concatenated `str`s are valid UTF-8.
    f(std::str::from_utf8(&buf[..len]).expect("concatenation of str is UTF-8"))
}

/// Calls `f` with the decimal digits of `i`, formatted on the stack.
pub(crate) fn with_index<R>(i: usize, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut v = i;
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    f(std::str::from_utf8(&buf[at..]).expect("ASCII digits"))
}

impl<T: Float, M: HasParams<T>> HasParams<T> for Vec<M> {
    /// Elements are named by index: `"0.weight"`, `"1.weight"`, ...
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        for (i, m) in self.iter_mut().enumerate() {
            with_index(i, |k| visit_child_params(k, m, f));
        }
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        for (i, m) in self.iter_mut().enumerate() {
            with_index(i, |k| visit_child_buffers(k, m, f));
        }
    }
}
