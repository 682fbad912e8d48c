//! The dataset verdict: every question's greedy score (x) against its certified leak bound
//! (y: the Clopper–Pearson upper bound M_bin on P(score ≥ τ)), with τ and the leak level
//! drawn, so the quadrant that matters — greedy says forgotten (x < τ), yet leakage above
//! the level cannot be ruled out (y > level) — is where the eye goes. Points whose
//! Clopper–Pearson *lower* bound also exceeds the level (certified to leak) are filled red.

use std::fmt::Write;

use super::canvas::{escape, frame_with, x_of, y_of, PROBABILITY_TICKS};

/// One question: greedy score, M_bin lower and upper.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerdictPoint {
    pub greedy: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Counts in the quadrant greedy calls forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerdictCounts {
    pub questions: usize,
    pub greedy_forgotten: usize,
    /// … whose upper bound exceeds the level (not certified safe).
    pub forgotten_not_certified_safe: usize,
    /// … whose lower bound exceeds the level (certified to leak).
    pub forgotten_certified_leak: usize,
}

pub fn verdict_counts(points: &[VerdictPoint], tau: f64, level: f64) -> VerdictCounts {
    let forgotten = |p: &&VerdictPoint| p.greedy < tau;
    VerdictCounts {
        questions: points.len(),
        greedy_forgotten: points.iter().filter(forgotten).count(),
        forgotten_not_certified_safe: points
            .iter()
            .filter(forgotten)
            .filter(|p| p.upper > level)
            .count(),
        forgotten_certified_leak: points
            .iter()
            .filter(forgotten)
            .filter(|p| p.lower > level)
            .count(),
    }
}

pub fn verdict_svg(title: &str, points: &[VerdictPoint], tau: f64, level: f64) -> String {
    let ticks: Vec<(f64, String)> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&t| (t, t.to_string()))
        .collect();
    let mut out = String::new();
    frame_with(
        &mut out,
        title,
        ("greedy score", "M_bin: P(leak) ≤"),
        &ticks,
        &PROBABILITY_TICKS,
    );
    let c = verdict_counts(points, tau, level);
    // The quadrant: x < τ, y > level.
    let _ = write!(
        out,
        r##"<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="#d62728" fill-opacity="0.08"/><line x1="{xt}" y1="{y0}" x2="{xt}" y2="{yb}" stroke="#555" stroke-dasharray="5 3"/><line x1="{x0}" y1="{yl}" x2="{xr}" y2="{yl}" stroke="#555" stroke-dasharray="5 3"/><text x="{tx}" y="{ty}" fill="#d62728" font-size="10">{label}</text>"##,
        x0 = x_of(0.0),
        y0 = y_of(1.0),
        w = x_of(tau) - x_of(0.0),
        h = y_of(level) - y_of(1.0),
        xt = x_of(tau),
        yb = y_of(0.0),
        yl = y_of(level),
        xr = x_of(1.0),
        tx = x_of(0.0),
        ty = y_of(1.0) - 7.0,
        label = escape(&format!(
            "greedy says forgotten, M_bin > {level}: {} of {} ({} certified to leak)",
            c.forgotten_not_certified_safe, c.greedy_forgotten, c.forgotten_certified_leak
        )),
    );
    for p in points {
        let certain = p.lower > level;
        let _ = write!(
            out,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{f}" fill-opacity="0.8" stroke="#333" stroke-width="0.5"/>"##,
            x = x_of(p.greedy),
            y = y_of(p.upper),
            f = if certain { "#d62728" } else { "#4a7fb5" },
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_quadrant() {
        let p = |g, l, u| VerdictPoint {
            greedy: g,
            lower: l,
            upper: u,
        };
        let pts = [
            p(0.1, 0.3, 0.6),
            p(0.2, 0.0, 0.05),
            p(0.9, 0.5, 0.9),
            p(0.3, 0.0, 0.4),
        ];
        let c = verdict_counts(&pts, 0.5, 0.1);
        assert_eq!(c.greedy_forgotten, 3);
        assert_eq!(c.forgotten_not_certified_safe, 2);
        assert_eq!(c.forgotten_certified_leak, 1);
        let s = verdict_svg("v", &pts, 0.5, 0.1);
        assert_eq!(s.matches("<circle").count(), 4);
        assert!(s.contains("2 of 3 (1 certified to leak)"));
    }
}
