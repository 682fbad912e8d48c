//! Trade-off plots of a sweep: one marker per point (x = utility, y = a forget metric), one
//! curve per series (method ± entropy optimisation) through its points in x order, and the
//! Pareto front (high x, low y) ringed and joined. Axes fit the data.

use std::fmt::Write;

use super::canvas::{axis_titles, escape, polyline};

const W: f64 = 560.0;
const H: f64 = 320.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 120.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 38.0;

/// Colours per series, in order; dashed lines for the second of each pair.
const COLOURS: &[&str] = &[
    "#1f77b4", "#1f77b4", "#d62728", "#d62728", "#2ca02c", "#2ca02c", "#9467bd", "#9467bd",
];

/// One curve: its name and its points `(x, y)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Indices of the points no other point dominates (x at least as high and y at least as
/// low, one strictly): the best trade-offs. Non-finite points are never on the front.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    (0..points.len())
        .filter(|&i| {
            let a = points[i];
            finite(&a)
                && !points
                    .iter()
                    .any(|b| finite(b) && b.0 >= a.0 && b.1 <= a.1 && (b.0 > a.0 || b.1 < a.1))
        })
        .collect()
}

/// A "nice" axis range and ticks covering `lo..=hi`.
fn axis(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let (mut lo, mut hi) = (lo, hi);
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        lo -= 0.5;
        hi += 0.5;
    }
    let raw = (hi - lo) / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let (a, b) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    let n = ((b - a) / step).round() as usize;
    (a, b, (0..=n).map(|i| a + i as f64 * step).collect())
}

fn tick_label(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The plot; no finite point gives an empty string.
pub fn tradeoff_svg(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    if all.is_empty() {
        return String::new();
    }
    let fold = |f: fn(&(f64, f64)) -> f64, init: f64, pick: fn(f64, f64) -> f64| {
        all.iter().map(f).fold(init, pick)
    };
    let (x0, x1, xt) = axis(
        fold(|p| p.0, f64::INFINITY, f64::min),
        fold(|p| p.0, f64::NEG_INFINITY, f64::max),
    );
    let (y0, y1, yt) = axis(
        fold(|p| p.1, f64::INFINITY, f64::min),
        fold(|p| p.1, f64::NEG_INFINITY, f64::max),
    );
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let py = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * (H - TOP - BOTTOM);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11"><title>{t}</title><rect width="{W}" height="{H}" fill="#fff"/><text x="{LEFT}" y="14" font-weight="bold">{t}</text><line x1="{LEFT}" y1="{yb}" x2="{xr}" y2="{yb}" stroke="#333"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{yb}" stroke="#333"/>"##,
        t = escape(title),
        yb = H - BOTTOM,
        xr = W - RIGHT,
    );
    for &x in &xt {
        let _ = write!(
            out,
            r##"<line x1="{p:.1}" y1="{a}" x2="{p:.1}" y2="{b}" stroke="#333"/><text x="{p:.1}" y="{ty}" text-anchor="middle">{l}</text>"##,
            p = px(x),
            a = H - BOTTOM,
            b = H - BOTTOM + 4.0,
            ty = H - BOTTOM + 15.0,
            l = tick_label(x)
        );
    }
    for &y in &yt {
        let _ = write!(
            out,
            r##"<line x1="{a}" y1="{p:.1}" x2="{LEFT}" y2="{p:.1}" stroke="#333"/><line x1="{LEFT}" y1="{p:.1}" x2="{xr}" y2="{p:.1}" stroke="#eee"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{l}</text>"##,
            p = py(y),
            a = LEFT - 4.0,
            xr = W - RIGHT,
            tx = LEFT - 6.0,
            ty = py(y) + 4.0,
            l = tick_label(y)
        );
    }
    axis_titles(
        &mut out,
        (W, H),
        (LEFT, RIGHT, TOP, BOTTOM),
        x_label,
        y_label,
    );
    // The Pareto front first, under the curves: a grey step line through ringed points.
    let mut front: Vec<(f64, f64)> = pareto_front(&all).into_iter().map(|i| all[i]).collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    let path = polyline(front.iter().map(|p| (px(p.0), py(p.1))));
    let _ = write!(
        out,
        r##"<path d="{path}" fill="none" stroke="#000" stroke-opacity="0.35" stroke-width="6" stroke-linejoin="round"/>"##
    );
    for p in &front {
        let _ = write!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="7" fill="none" stroke="#000" stroke-width="1.5"><title>Pareto front: x {:.3}, y {:.3}</title></circle>"##,
            px(p.0),
            py(p.1),
            p.0,
            p.1
        );
    }
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let dash = if i % 2 == 1 {
            "stroke-dasharray=\"5 3\""
        } else {
            ""
        };
        let mut pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let d = polyline(pts.iter().map(|p| (px(p.0), py(p.1))));
        let _ = write!(
            out,
            r##"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.5" {dash}/>"##
        );
        for p in &pts {
            let (cx, cy) = (px(p.0), py(p.1));
            // Filled dots without EO, open squares with it (pairs alternate).
            if i % 2 == 0 {
                let _ = write!(
                    out,
                    r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="3.5" fill="{colour}"><title>{n}: x {x:.3}, y {y:.3}</title></circle>"##,
                    n = escape(&s.name),
                    x = p.0,
                    y = p.1
                );
            } else {
                let _ = write!(
                    out,
                    r##"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="#fff" stroke="{colour}" stroke-width="1.5"><title>{n}: x {x:.3}, y {y:.3}</title></rect>"##,
                    cx - 3.5,
                    cy - 3.5,
                    n = escape(&s.name),
                    x = p.0,
                    y = p.1
                );
            }
        }
        let ly = TOP + 8.0 + 16.0 * i as f64;
        let lx = W - RIGHT + 10.0;
        let _ = write!(
            out,
            r##"<line x1="{lx}" y1="{ly}" x2="{x2}" y2="{ly}" stroke="{colour}" stroke-width="1.5" {dash}/><text x="{tx}" y="{ty}">{n}</text>"##,
            x2 = lx + 22.0,
            tx = lx + 27.0,
            ty = ly + 4.0,
            n = escape(&s.name)
        );
    }
    let ly = TOP + 8.0 + 16.0 * series.len() as f64;
    let _ = write!(
        out,
        r##"<circle cx="{cx}" cy="{ly}" r="6" fill="none" stroke="#000" stroke-width="1.5"/><text x="{tx}" y="{ty}">Pareto front</text></svg>"##,
        cx = W - RIGHT + 21.0,
        tx = W - RIGHT + 37.0,
        ty = ly + 4.0
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_keeps_only_undominated_points() {
        let pts = [
            (0.9, 0.5),
            (0.8, 0.2),
            (0.7, 0.3),
            (0.9, 0.6),
            (0.5, 0.1),
            (f64::NAN, 0.0),
        ];
        assert_eq!(pareto_front(&pts), vec![0, 1, 4]);
        // Ties: identical points do not dominate each other.
        assert_eq!(pareto_front(&[(0.5, 0.5), (0.5, 0.5)]), vec![0, 1]);
    }

    #[test]
    fn draws_every_point_curve_and_front() {
        let series = vec![
            Series {
                name: "GA".into(),
                points: vec![(0.9, 1.2), (0.8, 0.9), (0.6, 0.7)],
            },
            Series {
                name: "GA+EO <x>".into(),
                points: vec![(0.95, 1.4), (0.7, 1.0)],
            },
        ];
        let s = tradeoff_svg("t", "retain", "ED", &series);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("&lt;x&gt;") && !s.contains("<x>"));
        // 3 dots + 4 front rings (0.95/1.4, 0.9/1.2, 0.8/0.9, 0.6/0.7) + the legend ring.
        assert_eq!(s.matches("<circle").count(), 3 + 4 + 1);
        assert_eq!(s.matches("<rect").count(), 1 + 2);
        assert!(tradeoff_svg("t", "x", "y", &[]).is_empty());
    }

    #[test]
    fn axes_cover_the_data() {
        let (a, b, ticks) = axis(0.13, 1.68);
        assert!(a <= 0.13 && b >= 1.68 && ticks.len() >= 3);
        let (a, b, _) = axis(0.5, 0.5);
        assert!(a < 0.5 && b > 0.5);
    }
}
