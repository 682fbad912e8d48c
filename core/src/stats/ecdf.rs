//! The empirical CDF `F_n(t) = #{X_i ≤ t} / n`, shared by every DKW-based bound.

use super::numsum::numpy_sum;
use super::StatsError;

/// Sorted, validated scores. Construction rejects NaN, ±∞ and values outside `[0, 1]`,
/// because every bound here assumes bounded support.
#[derive(Debug, Clone, PartialEq)]
pub struct Ecdf {
    /// Scores in input order (moments are summed in this order, as numpy does).
    values: Vec<f64>,
    sorted: Vec<f64>,
}

impl Ecdf {
    pub fn new(scores: &[f64]) -> Result<Self, StatsError> {
        if scores.is_empty() {
            return Err(StatsError::Empty);
        }
        if let Some((index, &value)) = scores
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && (0.0..=1.0).contains(*v)))
        {
            return Err(StatsError::OutOfRange { index, value });
        }
        let mut sorted = scores.to_vec();
        sorted.sort_by(f64::total_cmp);
        Ok(Self {
            values: scores.to_vec(),
            sorted,
        })
    }

    pub fn n(&self) -> usize {
        self.sorted.len()
    }

    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// Number of scores `≤ t`.
    pub fn count_le(&self, t: f64) -> usize {
        self.sorted.partition_point(|&x| x <= t)
    }

    /// `F_n(t)`, computed as `count / n` exactly like `numpy.mean(x <= t)`.
    pub fn cdf(&self, t: f64) -> f64 {
        self.count_le(t) as f64 / self.n() as f64
    }

    /// Sample mean, exactly as `numpy.mean` computes it.
    pub fn mean(&self) -> f64 {
        numpy_sum(&self.values) / self.n() as f64
    }

    /// Population variance `mean(X²) − mean(X)²` (ddof 0), clipped at 0, as `conbo` does.
    pub fn variance(&self) -> f64 {
        let squares: Vec<f64> = self.values.iter().map(|x| x * x).collect();
        let m = self.mean();
        (numpy_sum(&squares) / self.n() as f64 - m * m).max(0.0)
    }

    /// Number of scores `≥ threshold` (a "leak" when binarising at `threshold`).
    pub fn count_ge(&self, threshold: f64) -> usize {
        self.n() - self.sorted.partition_point(|&x| x < threshold)
    }

    /// True when every score is exactly 0 or 1.
    pub fn is_binary(&self) -> bool {
        self.sorted.iter().all(|&x| x == 0.0 || x == 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_counts_ties_on_the_left() {
        let e = Ecdf::new(&[0.5, 0.0, 0.5, 1.0]).unwrap();
        assert_eq!(e.cdf(0.0), 0.25);
        assert_eq!(e.cdf(0.49), 0.25);
        assert_eq!(e.cdf(0.5), 0.75);
        assert_eq!(e.cdf(1.0), 1.0);
        assert_eq!(e.count_ge(0.5), 3);
        assert_eq!(e.count_ge(1.0), 1);
    }

    #[test]
    fn rejects_bad_scores() {
        assert_eq!(Ecdf::new(&[]), Err(StatsError::Empty));
        assert!(matches!(
            Ecdf::new(&[0.1, f64::NAN]),
            Err(StatsError::OutOfRange { index: 1, .. })
        ));
        assert!(matches!(
            Ecdf::new(&[1.5]),
            Err(StatsError::OutOfRange { index: 0, .. })
        ));
        assert!(Ecdf::new(&[-0.0001]).is_err());
    }
}
