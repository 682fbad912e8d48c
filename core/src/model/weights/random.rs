//! HF-style initialisation from a seed, for training from scratch and benchmarks.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::error::WeightError;
use super::source::WeightSource;

/// Normal(0, std) matrices and embeddings, unit norm scales, zero biases. Drawn on the
/// host so every backend starts identically.
pub struct RandomInit {
    rng: ChaCha8Rng,
    std: f32,
}

impl RandomInit {
    pub fn new(seed: u64, std: f32) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            std,
        }
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
}
