//! Leak@k against k (log₂ axis): the estimate and its certified band, for one question or
//! for a question set.

use std::fmt::Write;

use super::canvas::{frame_with, polyline, x_of, y_of, PROBABILITY_TICKS};
use super::legend::{segments_enter, Corner, Legend};
use crate::stats::{LeakAtK, SetLeakAtK};

/// One point of the curve: `(k, estimate, lower, upper)`.
pub type CurvePoint = (u64, f64, f64, f64);

pub fn question_points(l: &[LeakAtK]) -> Vec<CurvePoint> {
    l.iter()
        .map(|x| (x.k, x.estimate, x.lower, x.upper))
        .collect()
}

pub fn set_points(l: &[SetLeakAtK]) -> Vec<CurvePoint> {
    l.iter()
        .map(|x| (x.k, x.mean_estimate, x.lower, x.upper))
        .collect()
}

/// The curve; empty points give an empty string.
pub fn leak_at_k_svg(title: &str, points: &[CurvePoint]) -> String {
    let Some(&(k_max, ..)) = points.iter().max_by_key(|p| p.0) else {
        return String::new();
    };
    let span = (k_max.max(2) as f64).log2();
    let pos = |k: u64| (k as f64).log2() / span;
    let ticks: Vec<(f64, String)> = points.iter().map(|p| (pos(p.0), p.0.to_string())).collect();
    let mut out = String::new();
    frame_with(
        &mut out,
        title,
        ("k (samples drawn)", "P(≥ 1 of k leaks)"),
        &ticks,
        &PROBABILITY_TICKS,
    );
    let line = |f: &dyn Fn(&CurvePoint) -> f64| {
        polyline(points.iter().map(|p| (x_of(pos(p.0)), y_of(f(p)))))
    };
    // The band: upper edge left to right, lower edge back.
    let mut band = line(&|p| p.3);
    for p in points.iter().rev() {
        let _ = write!(band, " L{:.1},{:.1}", x_of(pos(p.0)), y_of(p.2));
    }
    let _ = write!(
        out,
        r##"<path d="{band} Z" fill="#d62728" fill-opacity="0.18" stroke="none"/><path d="{up}" fill="none" stroke="#d62728" stroke-width="1.5"/><path d="{est}" fill="none" stroke="#4a7fb5" stroke-width="2"/>"##,
        up = line(&|p| p.3),
        est = line(&|p| p.1),
    );
    // The curve rises with k: the top left is free unless the question leaks at small k
    // already, then the bottom right.
    let entries = [("#d62728", "certified band"), ("#4a7fb5", "estimate")];
    let band: Vec<_> = points.iter().map(|p| (pos(p.0), p.2, p.3)).collect();
    Legend::clear_of(
        &[Corner::TopLeft, Corner::BottomRight],
        &entries.map(|e| e.1),
        |x0, x1, y0, y1| segments_enter(&band, [x0, x1, y0, y1]),
    )
    .write(&mut out, &entries);
    // Each k also as a marker with its certified interval, so a single k still shows.
    for p in points {
        let x = x_of(pos(p.0));
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{lo:.1}" x2="{x:.1}" y2="{up:.1}" stroke="#d62728" stroke-width="2"/><circle cx="{x:.1}" cy="{e:.1}" r="3" fill="#4a7fb5"/>"##,
            lo = y_of(p.2),
            up = y_of(p.3),
            e = y_of(p.1),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_band_and_estimate() {
        let l = crate::stats::leak_at_k(64, 3, &[1, 2, 4, 64], 0.01).unwrap();
        let s = leak_at_k_svg("<q>", &question_points(&l));
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert_eq!(s.matches("<path").count(), 3);
        assert_eq!(s.matches("<circle").count(), 4);
        // One k: still a visible marker and interval.
        let one = leak_at_k_svg("t", &question_points(&l[..1]));
        assert_eq!(one.matches("<circle").count(), 1);
        assert!(s.contains("&lt;q&gt;"));
        assert!(leak_at_k_svg("t", &[]).is_empty());
    }

    /// The legend sits in a corner the band does not pass through: the top left for a
    /// question that rarely leaks, the bottom right for one that leaks at k = 1 already.
    #[test]
    fn the_legend_keeps_clear_of_the_band() {
        let ks = [1, 2, 4, 8, 16, 32, 64, 128, 256];
        let rare = crate::stats::leak_at_k(256, 2, &ks, 0.01).unwrap();
        let s = leak_at_k_svg("t", &question_points(&rare));
        assert!(s.contains(r#"<g text-anchor="start">"#), "{s}");
        let often = crate::stats::leak_at_k(256, 181, &ks, 0.01).unwrap();
        let s = leak_at_k_svg("t", &question_points(&often));
        assert!(s.contains(r#"<g text-anchor="end">"#), "{s}");
    }
}
