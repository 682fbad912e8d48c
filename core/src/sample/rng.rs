//! One random stream per sample: ChaCha8 keyed by the seed, stream id `(prompt << 32) |
//! sample`. A sample's uniforms therefore depend on nothing but (seed, prompt, sample).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone)]
pub struct SampleRng(ChaCha8Rng);

impl SampleRng {
    pub fn new(seed: u64, prompt_index: u32, sample_index: u32) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(((prompt_index as u64) << 32) | sample_index as u64);
        Self(rng)
    }

    /// Next uniform in [0, 1), as f32 (the device draws in f32).
    pub fn uniform(&mut self) -> f32 {
        // 24 random bits: exactly representable, strictly below 1.
        (self.0.random::<u32>() >> 8) as f32 / (1u32 << 24) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let a: Vec<f32> = (0..4)
            .map({
                let mut r = SampleRng::new(7, 0, 3);
                move |_| r.uniform()
            })
            .collect();
        let b: Vec<f32> = (0..4)
            .map({
                let mut r = SampleRng::new(7, 0, 3);
                move |_| r.uniform()
            })
            .collect();
        let c: Vec<f32> = (0..4)
            .map({
                let mut r = SampleRng::new(7, 0, 4);
                move |_| r.uniform()
            })
            .collect();
        let d: Vec<f32> = (0..4)
            .map({
                let mut r = SampleRng::new(7, 1, 3);
                move |_| r.uniform()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert!(a.iter().all(|u| (0.0..1.0).contains(u)));
    }
}
