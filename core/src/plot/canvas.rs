//! What every figure draws with: the figure's size and the mapping of its plot area (the
//! unit square, y up) to px, the axes and their titles, lines, and escaped text — so
//! question text can never inject markup.

use std::fmt::Write;

pub(crate) const W: f64 = 420.0;
pub(crate) const H: f64 = 220.0;
pub(crate) const LEFT: f64 = 44.0;
pub(crate) const RIGHT: f64 = 12.0;
/// Room for the title and, under it, one line of subtitle.
pub(crate) const TOP: f64 = 32.0;
pub(crate) const BOTTOM: f64 = 36.0;
/// The plot area's width in px (what the unit square's x spans).
pub(crate) const INNER_WIDTH: f64 = W - LEFT - RIGHT;

/// Escapes text for SVG/HTML content and attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub(crate) fn x_of(v: f64) -> f64 {
    LEFT + v.clamp(0.0, 1.0) * INNER_WIDTH
}

pub(crate) fn y_of(v: f64) -> f64 {
    TOP + (1.0 - v.clamp(0.0, 1.0)) * (H - TOP - BOTTOM)
}

/// A probability axis's ticks.
pub(crate) const PROBABILITY_TICKS: [f64; 3] = [0.0, 0.5, 1.0];

/// The axes: `ticks` are `(position in [0, 1] along x, label)`, `y_ticks` values in [0, 1]
/// labelled as themselves (none for an axis relative to the data, as a histogram's).
pub(crate) fn frame_with(
    out: &mut String,
    title: &str,
    (x_label, y_label): (&str, &str),
    ticks: &[(f64, String)],
    y_ticks: &[f64],
) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11"><title>{t}</title><text x="{LEFT}" y="13" font-weight="bold">{t}</text><line x1="{LEFT}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{y0}" stroke="#333"/>"##,
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
    for &v in y_ticks {
        let _ = write!(
            out,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{LEFT}" y2="{y:.1}" stroke="#333"/><text x="{x}" y="{ty:.1}" text-anchor="end">{v}</text>"##,
            x0 = LEFT - 3.0,
            y = y_of(v),
            x = LEFT - 5.0,
            ty = y_of(v) + 4.0,
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

/// A dashed vertical line at `v` with its label at the top.
pub(crate) fn vline(out: &mut String, v: f64, color: &str, label: &str) {
    // The label reads to the right of the line, or to its left near the right edge; a
    // white halo keeps it legible where it crosses a bar.
    let (tx, anchor) = if v > 0.75 {
        (x_of(v) - 3.0, "end")
    } else {
        (x_of(v) + 3.0, "start")
    };
    let _ = write!(
        out,
        r##"<line x1="{x}" y1="{TOP}" x2="{x}" y2="{y}" stroke="{color}" stroke-width="2" stroke-dasharray="5 3"/><text x="{tx}" y="{ty}" fill="{color}" text-anchor="{anchor}" stroke="#fff" stroke-width="3" paint-order="stroke">{l}</text>"##,
        x = x_of(v),
        y = H - BOTTOM,
        ty = TOP + 10.0,
        l = escape(label)
    );
}
