//! Three figures per question: the histogram of sample scores with the greedy score and
//! the expectation bound marked (the paper's demo figure), the empirical CDF with its DKW
//! band, and the survival `M_gen` with its upper bound.

use std::fmt::Write;

use super::canvas::{
    frame_with, vline, x_of, y_of, BOTTOM, H, INNER_WIDTH, LEFT, PROBABILITY_TICKS, TOP,
};
use super::legend::{steps_enter, Corner, Legend};
use crate::stats::dkw::SurvivalPoint;
use crate::stats::Ecdf;

fn frame(out: &mut String, title: &str, y_label: &str, y_ticks: &[f64]) {
    let ticks: Vec<(f64, String)> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&t| (t, t.to_string()))
        .collect();
    frame_with(out, title, ("score", y_label), &ticks, y_ticks);
}

/// Histogram (20 bins on [0, 1]) of `scores`, with the greedy score and the upper
/// expectation bound drawn as vertical lines.
pub fn histogram_svg(
    title: &str,
    scores: &[f64],
    greedy: Option<f64>,
    mean_upper: Option<f64>,
) -> String {
    const BINS: usize = 20;
    let mut counts = [0usize; BINS];
    for &s in scores {
        counts[((s.clamp(0.0, 1.0) * BINS as f64) as usize).min(BINS - 1)] += 1;
    }
    let peak = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut out = String::new();
    frame(&mut out, title, "fraction of samples", &[]);
    let bar_w = INNER_WIDTH / BINS as f64;
    for (i, &c) in counts.iter().enumerate() {
        let h = c as f64 / peak * (H - TOP - BOTTOM);
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="#4a7fb5"><title>{c} samples in [{lo:.2}, {hi:.2})</title></rect>"##,
            x = LEFT + i as f64 * bar_w + 0.5,
            y = H - BOTTOM - h,
            w = bar_w - 1.0,
            lo = i as f64 / BINS as f64,
            hi = (i + 1) as f64 / BINS as f64,
        );
    }
    if let Some(g) = greedy {
        vline(&mut out, g, "#d62728", &format!("greedy {g:.2}"));
    }
    if let Some(m) = mean_upper {
        let _ = write!(out, "<g transform=\"translate(0 14)\">");
        vline(&mut out, m, "#2ca02c", &format!("M_μ {m:.2}"));
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// Empirical CDF of `ecdf` with the band `[F_n − ε, F_n + ε]` clipped to [0, 1].
pub fn ecdf_svg(title: &str, ecdf: &Ecdf, epsilon: f64) -> String {
    let mut out = String::new();
    frame(&mut out, title, "F(t)", &PROBABILITY_TICKS);
    // Step points: (t, F_n(t)) at 0, every distinct score, and 1.
    let mut ts = vec![0.0];
    ts.extend(ecdf.sorted().iter().copied());
    ts.push(1.0);
    ts.dedup();
    let step_path = |offset: f64| {
        let mut d = String::new();
        let mut prev: Option<f64> = None;
        for &t in &ts {
            let f = (ecdf.cdf(t) + offset).clamp(0.0, 1.0);
            match prev {
                None => {
                    let _ = write!(d, "M{:.1},{:.1}", x_of(t), y_of(f));
                }
                Some(p) => {
                    let _ = write!(
                        d,
                        " L{:.1},{:.1} L{:.1},{:.1}",
                        x_of(t),
                        y_of(p),
                        x_of(t),
                        y_of(f)
                    );
                }
            }
            prev = Some(f);
        }
        d
    };
    let _ = write!(
        out,
        r##"<path d="{lo}" fill="none" stroke="#999" stroke-dasharray="3 3"/><path d="{hi}" fill="none" stroke="#999" stroke-dasharray="3 3"/><path d="{mid}" fill="none" stroke="#4a7fb5" stroke-width="2"/>"##,
        lo = step_path(-epsilon),
        hi = step_path(epsilon),
        mid = step_path(0.0),
    );
    // The CDF rises: the bottom right is free unless most scores are high, then the top left.
    let label = format!("DKW band ±{epsilon:.3}");
    let steps: Vec<_> = ts
        .iter()
        .map(|&t| {
            let f = ecdf.cdf(t);
            (t, (f - epsilon).max(0.0), (f + epsilon).min(1.0))
        })
        .collect();
    Legend::clear_of(
        &[Corner::BottomRight, Corner::TopLeft],
        &[&label],
        |x0, x1, y0, y1| steps_enter(&steps, [x0, x1, y0, y1]),
    )
    .write(&mut out, &[("#666", &label)]);
    out.push_str("</svg>");
    out
}

/// `M_gen`: the empirical survival `P̂(X > t)` and its simultaneous upper bound
/// `min(1, 1 − F_n(t) + ε)`, with the leak threshold τ marked (the bound's value there is
/// the general-leakage certificate at τ).
pub fn survival_svg(title: &str, curve: &[SurvivalPoint], threshold: Option<f64>) -> String {
    let mut out = String::new();
    frame(&mut out, title, "P(X > t)", &PROBABILITY_TICKS);
    let path = |value: &dyn Fn(&SurvivalPoint) -> f64| {
        // A right-continuous step function: constant up to the next distinct score.
        let mut d = String::new();
        let mut prev: Option<f64> = None;
        for p in curve {
            let v = value(p);
            match prev {
                None => {
                    let _ = write!(d, "M{:.1},{:.1}", x_of(p.t), y_of(v));
                }
                Some(u) => {
                    let _ = write!(
                        d,
                        " L{:.1},{:.1} L{:.1},{:.1}",
                        x_of(p.t),
                        y_of(u),
                        x_of(p.t),
                        y_of(v)
                    );
                }
            }
            prev = Some(v);
        }
        if let Some(u) = prev {
            let _ = write!(d, " L{:.1},{:.1}", x_of(1.0), y_of(u));
        }
        d
    };
    let _ = write!(
        out,
        r##"<path d="{up}" fill="none" stroke="#d62728" stroke-width="2"/><path d="{emp}" fill="none" stroke="#4a7fb5" stroke-width="2"/>"##,
        up = path(&|p| p.upper),
        emp = path(&|p| p.empirical),
    );
    // The survival falls: the top right is free unless most scores are high, then the
    // bottom left.
    let entries = [("#d62728", "upper bound (1−α)"), ("#4a7fb5", "empirical")];
    let steps: Vec<_> = curve
        .iter()
        .map(|p| (p.t, p.empirical.min(p.upper), p.empirical.max(p.upper)))
        .collect();
    Legend::clear_of(
        &[Corner::TopRight, Corner::BottomLeft],
        &entries.map(|e| e.1),
        |x0, x1, y0, y1| steps_enter(&steps, [x0, x1, y0, y1]),
    )
    .write(&mut out, &entries);
    if let Some(t) = threshold {
        vline(&mut out, t, "#555", &format!("τ {t:.2}"));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_titles() {
        let s = histogram_svg(
            "<script>alert(1)</script>",
            &[0.1, 0.9],
            Some(0.2),
            Some(0.5),
        );
        assert!(!s.contains("<script>"));
        assert!(s.contains("&lt;script&gt;"));
        assert_eq!(s.matches("<rect").count(), 20);
        let e = Ecdf::new(&[0.2, 0.4]).unwrap();
        assert!(ecdf_svg("t", &e, 0.1).starts_with("<svg"));
        let curve = crate::stats::dkw::survival_curve(&e, 0.1);
        let s = survival_svg("<b>", &curve, Some(0.5));
        assert!(s.contains("&lt;b&gt;") && s.matches("<path").count() == 2);
    }

    /// Probability axes carry 0, 0.5 and 1; the histogram's, relative to its peak, none.
    #[test]
    fn probability_axes_are_labelled() {
        let e = Ecdf::new(&[0.2, 0.4, 0.9]).unwrap();
        let labelled = |svg: &str| {
            ["0", "0.5", "1"]
                .iter()
                .all(|v| svg.contains(&format!(r#"text-anchor="end">{v}</text>"#)))
        };
        assert!(labelled(&ecdf_svg("t", &e, 0.1)));
        let curve = crate::stats::dkw::survival_curve(&e, 0.1);
        assert!(labelled(&survival_svg("t", &curve, None)));
        assert!(!histogram_svg("t", &[0.2, 0.4], None, None).contains(r#"text-anchor="end""#));
    }

    /// The CDF's and the survival's legends move to the other corner when the scores put
    /// the curve through their usual one.
    #[test]
    fn legends_keep_clear_of_the_curves() {
        let start = r#"<g text-anchor="start">"#;
        let end = r#"<g text-anchor="end">"#;
        let low = Ecdf::new(&[0.1; 20]).unwrap();
        let high = Ecdf::new(&[0.9; 20]).unwrap();
        let eps = 0.1;
        // The CDF: bottom right, unless it is still low there.
        assert!(ecdf_svg("t", &low, eps).contains(end));
        assert!(ecdf_svg("t", &high, eps).contains(start));
        // The survival: top right, unless it is still high there.
        let survival =
            |e: &Ecdf| survival_svg("t", &crate::stats::dkw::survival_curve(e, eps), None);
        assert!(survival(&low).contains(end));
        assert!(survival(&high).contains(start));
    }
}
