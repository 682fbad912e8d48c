//! Two figures per question: the histogram of sample scores with the greedy score and
//! the expectation bound marked (the paper's demo figure), and the empirical CDF with its
//! DKW band. All text is escaped, so question text can never inject markup.

use std::fmt::Write;

use crate::stats::dkw::SurvivalPoint;
use crate::stats::Ecdf;

const W: f64 = 420.0;
const H: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 36.0;

/// Escapes text for SVG/HTML content and attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub(crate) fn x_of(v: f64) -> f64 {
    LEFT + v.clamp(0.0, 1.0) * (W - LEFT - RIGHT)
}

pub(crate) fn y_of(v: f64) -> f64 {
    TOP + (1.0 - v.clamp(0.0, 1.0)) * (H - TOP - BOTTOM)
}

fn frame(out: &mut String, title: &str, y_label: &str) {
    let ticks: Vec<(f64, String)> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&t| (t, t.to_string()))
        .collect();
    frame_with(out, title, "score", y_label, &ticks);
}

/// The axes: `ticks` are `(position in [0, 1] along x, label)`.
pub(crate) fn frame_with(
    out: &mut String,
    title: &str,
    x_label: &str,
    y_label: &str,
    ticks: &[(f64, String)],
) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11"><title>{t}</title><text x="{LEFT}" y="14" font-weight="bold">{t}</text><line x1="{LEFT}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{y0}" stroke="#333"/>"##,
        t = escape(title),
        y0 = H - BOTTOM,
        x1 = W - RIGHT,
    );
    for (pos, label) in ticks {
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" text-anchor="middle">{l}</text>"##,
            x = x_of(*pos),
            y = H - BOTTOM + 14.0,
            l = escape(label)
        );
    }
    axis_titles(out, (W, H), (LEFT, RIGHT, TOP, BOTTOM), x_label, y_label);
}

/// The x title under the plot area and the y title along its left edge, for a figure of
/// `size` (width, height) with `margins` (left, right, top, bottom).
pub(crate) fn axis_titles(
    out: &mut String,
    (w, h): (f64, f64),
    (left, right, top, bottom): (f64, f64, f64, f64),
    x_label: &str,
    y_label: &str,
) {
    let _ = write!(
        out,
        r##"<text x="{x}" y="{y}" text-anchor="middle">{xl}</text><text x="12" y="{ym}" transform="rotate(-90 12 {ym})" text-anchor="middle">{yl}</text>"##,
        x = (left + w - right) / 2.0,
        y = h - 4.0,
        xl = escape(x_label),
        ym = (top + h - bottom) / 2.0,
        yl = escape(y_label)
    );
}

/// SVG path data through `points` (already in plot coordinates): `M x,y L x,y …`.
pub(crate) fn polyline(points: impl IntoIterator<Item = (f64, f64)>) -> String {
    points
        .into_iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" }))
        .collect()
}

pub(crate) fn vline(out: &mut String, v: f64, color: &str, label: &str) {
    let _ = write!(
        out,
        r##"<line x1="{x}" y1="{TOP}" x2="{x}" y2="{y}" stroke="{color}" stroke-width="2" stroke-dasharray="5 3"/><text x="{tx}" y="{ty}" fill="{color}">{l}</text>"##,
        x = x_of(v),
        y = H - BOTTOM,
        tx = x_of(v) + 3.0,
        ty = TOP + 10.0,
        l = escape(label)
    );
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
    frame(&mut out, title, "fraction of samples");
    let bar_w = (W - LEFT - RIGHT) / BINS as f64;
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
        vline(&mut out, m, "#2ca02c", &format!("M_mu {m:.2}"));
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// Empirical CDF of `ecdf` with the band `[F_n − ε, F_n + ε]` clipped to [0, 1].
pub fn ecdf_svg(title: &str, ecdf: &Ecdf, epsilon: f64) -> String {
    let mut out = String::new();
    frame(&mut out, title, "F(t)");
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
        r##"<path d="{lo}" fill="none" stroke="#999" stroke-dasharray="3 3"/><path d="{hi}" fill="none" stroke="#999" stroke-dasharray="3 3"/><path d="{mid}" fill="none" stroke="#4a7fb5" stroke-width="2"/><text x="{x}" y="{y}" fill="#666">DKW band ±{e:.3}</text>"##,
        lo = step_path(-epsilon),
        hi = step_path(epsilon),
        mid = step_path(0.0),
        x = x_of(0.55),
        y = y_of(0.1),
        e = epsilon
    );
    out.push_str("</svg>");
    out
}

/// `M_gen`: the empirical survival `P̂(X > t)` and its simultaneous upper bound
/// `min(1, 1 − F_n(t) + ε)`, with the leak threshold τ marked (the bound's value there is
/// the general-leakage certificate at τ).
pub fn survival_svg(title: &str, curve: &[SurvivalPoint], threshold: Option<f64>) -> String {
    let mut out = String::new();
    frame(&mut out, title, "P(X > t)");
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
        r##"<path d="{up}" fill="none" stroke="#d62728" stroke-width="2"/><path d="{emp}" fill="none" stroke="#4a7fb5" stroke-width="2"/><text x="{x}" y="{y1}" fill="#d62728">upper bound (1−α)</text><text x="{x}" y="{y2}" fill="#4a7fb5">empirical</text>"##,
        up = path(&|p| p.upper),
        emp = path(&|p| p.empirical),
        x = x_of(0.6),
        y1 = y_of(0.9),
        y2 = y_of(0.8),
    );
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
}
