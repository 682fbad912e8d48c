//! The evaluation grid `conbo` integrates on: `numpy.linspace(0, 1, K)`.

/// `conbo`'s default number of grid points.
pub const CONBO_GRID_POINTS: usize = 100;

/// `numpy.linspace(0.0, 1.0, k)`: `j · (1/(k−1))`, with the last point set to exactly 1.
/// Reproducing numpy's rounding matters when scores sit exactly on grid points.
pub fn linspace01(k: usize) -> Vec<f64> {
    assert!(k >= 2, "a grid needs at least two points");
    let step = 1.0 / (k - 1) as f64;
    let mut t: Vec<f64> = (0..k).map(|j| j as f64 * step).collect();
    t[k - 1] = 1.0;
    t
}
