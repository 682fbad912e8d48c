//! Linear warmup then linear decay to zero, exactly as `transformers`'
//! `get_linear_schedule_with_warmup` (stepped after each optimizer step, so the first
//! step runs at `step 0`).

pub fn linear_warmup_decay(base_lr: f64, step: usize, warmup: usize, total: usize) -> f64 {
    let factor = if step < warmup {
        step as f64 / warmup.max(1) as f64
    } else {
        ((total as f64 - step as f64) / (total.saturating_sub(warmup)).max(1) as f64).max(0.0)
    };
    base_lr * factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_decay() {
        assert_eq!(linear_warmup_decay(1.0, 0, 4, 12), 0.0);
        assert_eq!(linear_warmup_decay(1.0, 2, 4, 12), 0.5);
        assert_eq!(linear_warmup_decay(1.0, 4, 4, 12), 1.0);
        assert_eq!(linear_warmup_decay(1.0, 8, 4, 12), 0.5);
        assert_eq!(linear_warmup_decay(1.0, 12, 4, 12), 0.0);
        assert_eq!(linear_warmup_decay(2.0, 0, 0, 10), 2.0);
    }
}
