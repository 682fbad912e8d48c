//! The confidence level every bound is asked for.

use super::error::StatsError;

/// Checks a level `α ∈ (0, 1)`.
pub fn check_alpha(alpha: f64) -> Result<f64, StatsError> {
    if alpha.is_finite() && alpha > 0.0 && alpha < 1.0 {
        Ok(alpha)
    } else {
        Err(StatsError::InvalidAlpha(alpha))
    }
}
