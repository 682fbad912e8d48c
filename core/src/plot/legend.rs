//! Where a plot's legend goes: in a corner the data leaves free. A fixed corner hides the
//! curve for some questions — the top left of the leak@k plot is where a question that
//! leaks at k = 1 already draws its band — so each plot names the corners its data tends
//! to leave free, in order of preference, and the legend takes the first that is.
//!
//! Positions are in the plot's unit square (x along the axis, y up), as `x_of`/`y_of` take.

use std::fmt::Write;

use super::canvas::{escape, x_of, y_of, INNER_WIDTH};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

/// Baselines are this far apart (16 px of the 160 px plot height; text is 11 px).
const ROW: f64 = 0.1;
/// Text's distance from the plot's sides.
const INSET: f64 = 0.03;
/// Width of one character of the 11 px sans-serif text, in px (a generous average).
const CHAR_PX: f64 = 6.5;

/// A placed legend: its corner and the box it covers.
#[derive(Debug)]
pub(crate) struct Legend {
    pub corner: Corner,
    x: [f64; 2],
    y: [f64; 2],
}

impl Legend {
    /// The legend of `labels` in `corner`.
    fn at(corner: Corner, labels: &[&str]) -> Self {
        let chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let width = chars as f64 * CHAR_PX / INNER_WIDTH;
        let height = ROW * labels.len() as f64 + 0.03;
        let x = match corner {
            Corner::TopLeft | Corner::BottomLeft => [0.0, INSET + width],
            Corner::TopRight | Corner::BottomRight => [1.0 - INSET - width, 1.0],
        };
        let y = match corner {
            Corner::TopLeft | Corner::TopRight => [1.0 - height, 1.0],
            Corner::BottomLeft | Corner::BottomRight => [0.0, height],
        };
        Self { corner, x, y }
    }

    /// The legend of `labels` in the first of `corners` whose box the data does not enter
    /// (`enters(x0, x1, y0, y1)`: whether it passes through that box), else in the first.
    pub(crate) fn clear_of(
        corners: &[Corner],
        labels: &[&str],
        enters: impl Fn(f64, f64, f64, f64) -> bool,
    ) -> Self {
        let placed = |c: &Corner| Self::at(*c, labels);
        corners
            .iter()
            .map(placed)
            .find(|l| !enters(l.x[0], l.x[1], l.y[0], l.y[1]))
            .unwrap_or_else(|| placed(&corners[0]))
    }

    /// The legend's text: one line per `(colour, label)`, top to bottom.
    pub(crate) fn write(&self, out: &mut String, entries: &[(&str, &str)]) {
        let (x, anchor) = match self.corner {
            Corner::TopLeft | Corner::BottomLeft => (INSET, "start"),
            Corner::TopRight | Corner::BottomRight => (1.0 - INSET, "end"),
        };
        let _ = write!(out, r#"<g text-anchor="{anchor}">"#);
        for (i, (colour, label)) in entries.iter().enumerate() {
            // The first baseline sits one row below the box's top edge, less the descent.
            let baseline = self.y[1] - ROW * (i + 1) as f64 + 0.05;
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" fill="{colour}">{}</text>"#,
                x_of(x),
                y_of(baseline),
                escape(label)
            );
        }
        out.push_str("</g>");
    }
}

/// Whether a step function enters the box: `steps` are `(t, low, high)` in ascending `t`,
/// each holding its span `[low, high]` from its `t` up to the next (the last up to 1).
pub(crate) fn steps_enter(steps: &[(f64, f64, f64)], [x0, x1, y0, y1]: [f64; 4]) -> bool {
    steps.iter().enumerate().any(|(i, &(t, low, high))| {
        let until = steps.get(i + 1).map_or(1.0, |s| s.0);
        t <= x1 && until >= x0 && high >= y0 && low <= y1
    })
}

/// Whether a polyline band enters the box: `points` are `(x, low, high)` in ascending `x`,
/// joined by straight segments (each segment counted over its endpoints' whole span).
pub(crate) fn segments_enter(points: &[(f64, f64, f64)], [x0, x1, y0, y1]: [f64; 4]) -> bool {
    let inside = |&(x, low, high): &(f64, f64, f64)| x >= x0 && x <= x1 && high >= y0 && low <= y1;
    points.iter().any(inside)
        || points.windows(2).any(|w| {
            let (a, b) = (w[0], w[1]);
            a.0 <= x1 && b.0 >= x0 && a.2.max(b.2) >= y0 && a.1.min(b.1) <= y1
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_first_corner_the_data_leaves_free() {
        let corner = |band: &[(f64, f64, f64)]| {
            let enters = |x0, x1, y0, y1| segments_enter(band, [x0, x1, y0, y1]);
            Legend::clear_of(
                &[Corner::TopLeft, Corner::BottomRight],
                &["a label"],
                enters,
            )
            .corner
        };
        // A curve along the top takes the top left; one along the bottom leaves it free.
        assert_eq!(
            corner(&[(0.0, 0.9, 1.0), (1.0, 0.9, 1.0)]),
            Corner::BottomRight
        );
        assert_eq!(corner(&[(0.0, 0.0, 0.1), (1.0, 0.0, 0.1)]), Corner::TopLeft);
        // Nowhere free: the first.
        let l = Legend::clear_of(
            &[Corner::TopRight, Corner::BottomLeft],
            &["x"],
            |_, _, _, _| true,
        );
        assert_eq!(l.corner, Corner::TopRight);
    }

    #[test]
    fn a_step_holds_its_value_up_to_the_next() {
        // 1 on [0, 0.5), 0 from 0.5: the top right is free, the top left is not.
        let steps = [(0.0, 1.0, 1.0), (0.5, 0.0, 0.0)];
        assert!(steps_enter(&steps, [0.0, 0.3, 0.8, 1.0]));
        assert!(!steps_enter(&steps, [0.6, 1.0, 0.8, 1.0]));
        assert!(steps_enter(&steps, [0.6, 1.0, 0.0, 0.2]));
        // A segment crossing the box with no point inside it still enters it.
        assert!(segments_enter(
            &[(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)],
            [0.4, 0.6, 0.4, 0.6]
        ));
    }
}
