//! HF-style initialisation from a seed, for training from scratch and benchmarks.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use half::f16;

use super::dtype::{HostValues, WeightDtype};
use super::error::WeightError;
use super::source::WeightSource;

/// Normal(0, std) matrices and embeddings, unit norm scales, zero biases. Drawn on the
/// host so every backend starts identically.
pub struct RandomInit {
    rng: ChaCha8Rng,
    std: f32,
    matrices: WeightDtype,
}

impl RandomInit {
    pub fn new(seed: u64, std: f32) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            std,
            matrices: WeightDtype::F32,
        }
    }

    /// Hands matrices out rounded to f16 for [`WeightDtype::F16`] (benchmarks of the f16
    /// path without a checkpoint); f32 otherwise, as drawn.
    pub fn with_dtype(mut self, dtype: WeightDtype) -> Self {
        self.matrices = dtype;
        self
    }

    fn normal(&mut self) -> f32 {
        // Box–Muller; rand_distr is not needed for one distribution.
        let u1: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
        let u2: f64 = self.rng.random::<f64>();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }
}

impl WeightSource for RandomInit {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError> {
        let len = shape.iter().product();
        let is_norm = name.contains("norm");
        Ok(if name.ends_with(".bias") {
            vec![0.0; len]
        } else if is_norm {
            vec![1.0; len]
        } else {
            (0..len).map(|_| self.normal() * self.std).collect()
        })
    }

    fn take_matrix(&mut self, name: &str, shape: &[usize]) -> Result<HostValues, WeightError> {
        let values = self.take(name, shape)?;
        Ok(match self.matrices {
            // A normal draw of std ≤ 1 is far inside f16's range.
            WeightDtype::F16 => HostValues::F16(values.into_iter().map(f16::from_f32).collect()),
            _ => HostValues::F32(values),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f16 matrices are the f32 draws rounded once (the same seed gives the same model in
    /// either dtype); vectors stay f32.
    #[test]
    fn f16_matrices_are_the_f32_draws_rounded() {
        let draw = |dtype| RandomInit::new(7, 0.02).with_dtype(dtype);
        let (mut wide, mut half) = (draw(WeightDtype::F32), draw(WeightDtype::F16));
        let (HostValues::F32(w), HostValues::F16(h)) = (
            wide.take_matrix("q_proj.weight", &[8, 16]).unwrap(),
            half.take_matrix("q_proj.weight", &[8, 16]).unwrap(),
        ) else {
            panic!("f32 and f16 matrices expected");
        };
        assert!(w.iter().any(|&x| f16::from_f32(x).to_f32() != x));
        assert_eq!(w.into_iter().map(f16::from_f32).collect::<Vec<_>>(), h);
        assert_eq!(half.take("norm.weight", &[4]).unwrap(), vec![1.0; 4]);
    }
}
