//! Quartile weights ω′ and ω of the port graph (docs/paper-a.md#quartile-weights).

/// The `q`-quantile (`0 ≤ q ≤ 1`) of ascending-sorted `sorted` with numpy's default "linear"
/// interpolation (Hyndman–Fan type 7): `h = (n − 1)·q`, result
/// `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`. Returns NaN for an empty slice.
///
/// ```
/// use darknet_graph::quantile_linear;
/// // numpy.quantile([1, 2, 3, 4], [0.25, 0.75]) == [1.75, 3.25]
/// assert_eq!(quantile_linear(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
/// assert_eq!(quantile_linear(&[1.0, 2.0, 3.0, 4.0], 0.75), 3.25);
/// ```
pub fn quantile_linear(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Quartile weights of a list of edge counts θ (one per existing edge, any order).
///
/// Returns `(q1, q3, w_prime, w)` with `w_prime[e] = (θ_e − Q1) / (Q3 − Q1)` and
/// `w[e] = (max ω′ − min ω′) − (ω′_e − min ω′) = max ω′ − ω′_e ≥ 0`
/// (docs/paper-a.md#quartile-weights): the most frequent transition gets weight 0, the rarest the
/// largest weight. Quartiles use numpy's linear interpolation; when `Q3 == Q1` the denominator is 1
/// (our choice, docs/choices.md#quartile-ties), so ω′ = θ − Q1.
pub fn quartile_weights(theta: &[u64]) -> (f64, f64, Vec<f64>, Vec<f64>) {
    if theta.is_empty() {
        return (f64::NAN, f64::NAN, Vec::new(), Vec::new());
    }
    let mut sorted: Vec<f64> = theta.iter().map(|&t| t as f64).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let q1 = quantile_linear(&sorted, 0.25);
    let q3 = quantile_linear(&sorted, 0.75);
    let denom = if q3 == q1 { 1.0 } else { q3 - q1 };
    let w_prime: Vec<f64> = theta.iter().map(|&t| (t as f64 - q1) / denom).collect();
    let max_wp = (sorted[sorted.len() - 1] - q1) / denom;
    let min_wp = (sorted[0] - q1) / denom;
    let w = w_prime
        .iter()
        .map(|&wp| ((max_wp - min_wp) - (wp - min_wp)).max(0.0))
        .collect();
    (q1, q3, w_prime, w)
}
