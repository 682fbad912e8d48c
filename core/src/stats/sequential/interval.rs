//! A closed interval `[lower, upper]`: one confidence sequence's bounds at one sample size.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

impl Interval {
    /// Everything a probability or a [0, 1] mean can be: the bounds before any sample.
    pub const UNIT: Interval = Interval {
        lower: 0.0,
        upper: 1.0,
    };

    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }
}
