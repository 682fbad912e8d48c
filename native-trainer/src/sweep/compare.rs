//! Does entropy optimisation help at matched utility or forgetting? Per method, both curves
//! (EO off, EO on) are read at the same x — a retain score, or a greedy forget score — by
//! linear interpolation between neighbouring points in x order, and their forget metrics set
//! side by side. A level outside either curve's x range is skipped, never extrapolated.

use serde::Serialize;

use super::results::{Field, Metrics, Row};

/// The metrics compared, by name.
pub const COMPARED: &[(&str, Field)] = &[
    ("forget_greedy", |m| m.forget_greedy),
    ("retain_greedy", |m| m.retain_greedy),
    ("forget_m_mu", |m| m.forget_m_mu),
    ("forget_ed", |m| m.forget_ed),
    ("forget_m_bin", |m| m.forget_m_bin),
    ("leak_at_k", |m| m.leak_at_k),
    ("leak_at_k_upper", |m| m.leak_at_k_upper),
];

/// The axes curves are matched on, and the levels read off by default.
pub const RETAIN_LEVELS: &[f64] = &[0.95, 0.9, 0.8, 0.7, 0.6, 0.5];
pub const FORGET_LEVELS: &[f64] = &[0.8, 0.6, 0.4, 0.2];

/// Both curves of one method at one level of the matching axis.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Matched {
    pub method: String,
    pub matched_on: String,
    pub level: f64,
    /// `(metric, without EO, with EO)` for every compared metric but the matching one.
    pub values: Vec<(String, f64, f64)>,
}

/// The curve `points` (x, y), sorted by x, at `x`; None outside its range.
fn interpolate(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let (first, last) = (points.first()?, points.last()?);
    if x < first.0 || x > last.0 {
        return None;
    }
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x >= x0 && x <= x1 {
            return Some(if x1 > x0 {
                y0 + (y1 - y0) * (x - x0) / (x1 - x0)
            } else {
                (y0 + y1) / 2.0
            });
        }
    }
    Some(first.1)
}

fn curve(rows: &[&Metrics], x: Field, y: Field) -> Vec<(f64, f64)> {
    let mut c: Vec<(f64, f64)> = rows.iter().map(|m| (x(m), y(m))).collect();
    c.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    c
}

/// Every method with both curves, at each level inside both curves' ranges: retain score
/// at `retain_levels`, greedy forget score at `forget_levels`.
pub fn compare(rows: &[Row], retain_levels: &[f64], forget_levels: &[f64]) -> Vec<Matched> {
    let mut methods: Vec<&str> = rows.iter().map(|r| r.method.as_str()).collect();
    methods.sort();
    methods.dedup();
    let mut out = Vec::new();
    for method in methods {
        let side = |eo: bool| -> Vec<&Metrics> {
            rows.iter()
                .filter(|r| r.method == method && r.entropy == eo)
                .filter_map(|r| r.metrics.as_ref())
                .collect()
        };
        let (off, on) = (side(false), side(true));
        if off.is_empty() || on.is_empty() {
            continue;
        }
        let axes: [(&str, Field, &[f64]); 2] = [
            ("retain_greedy", |m| m.retain_greedy, retain_levels),
            ("forget_greedy", |m| m.forget_greedy, forget_levels),
        ];
        for (axis, x, levels) in axes {
            for &level in levels {
                let values: Option<Vec<(String, f64, f64)>> = COMPARED
                    .iter()
                    .filter(|(name, _)| *name != axis)
                    .map(|&(name, y)| {
                        let a = interpolate(&curve(&off, x, y), level)?;
                        let b = interpolate(&curve(&on, x, y), level)?;
                        Some((name.to_string(), a, b))
                    })
                    .collect();
                if let Some(values) = values {
                    out.push(Matched {
                        method: method.to_string(),
                        matched_on: axis.to_string(),
                        level,
                        values,
                    });
                }
            }
        }
    }
    out
}

/// The comparison as a plain-text table: `without → with` per metric.
pub fn render(cmp: &[Matched]) -> String {
    if cmp.is_empty() {
        return "no method has curves with and without entropy optimisation over a common range\n"
            .into();
    }
    let mut out = String::from(
        "each method without → with entropy optimisation, both curves interpolated at the same x\n",
    );
    let mut last_axis = "";
    for m in cmp {
        if m.matched_on != last_axis {
            last_axis = &m.matched_on;
            out.push_str(&format!(
                "\nat matched {}:\n{:<6} {:>5}",
                m.matched_on, "method", "x"
            ));
            for (name, _, _) in &m.values {
                out.push_str(&format!(" {name:>15}"));
            }
            out.push('\n');
        }
        out.push_str(&format!("{:<6} {:>5.2}", m.method.to_uppercase(), m.level));
        for (_, a, b) in &m.values {
            out.push_str(&format!(" {:>15}", format!("{a:.3}→{b:.3}")));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_inside_the_range_only() {
        let c = [(0.2, 1.0), (0.6, 2.0)];
        assert_eq!(interpolate(&c, 0.4), Some(1.5));
        assert_eq!(interpolate(&c, 0.2), Some(1.0));
        assert_eq!(interpolate(&c, 0.7), None);
        assert_eq!(interpolate(&[(0.5, 1.0), (0.5, 3.0)], 0.5), Some(2.0));
    }

    fn row(method: &str, entropy: bool, retain: f64, ed: f64) -> Row {
        Row {
            point: 0,
            key: String::new(),
            set: Default::default(),
            method: method.into(),
            entropy,
            steps: 1,
            error: None,
            metrics: Some(Metrics {
                forget_greedy: 1.0 - retain,
                forget_frac_greedy_forgotten: 0.0,
                forget_m_mu: 0.0,
                forget_m_sigma: 0.0,
                forget_ed: ed,
                forget_m_bin: 0.0,
                forget_frac_m_bin_above_level: 0.0,
                forget_frac_certified_leak: 0.0,
                leak_k: 1,
                leak_at_k: 0.0,
                leak_at_k_upper: 0.0,
                retain_greedy: retain,
            }),
            train_seconds: 0.0,
            eval_seconds: 0.0,
            wall_seconds: 0.0,
        }
    }

    #[test]
    fn both_curves_are_read_at_the_same_level() {
        // No EO: ED 1.0 at retain 0.6, 2.0 at 1.0. EO: 0.0 at 0.4, 1.4 at 0.8.
        let rows = [
            row("ga", false, 0.6, 1.0),
            row("ga", false, 1.0, 2.0),
            row("ga", true, 0.8, 1.4),
            row("ga", true, 0.4, 0.0),
            row("gd", false, 0.5, 1.0),
        ];
        let c = compare(&rows, &[0.7, 0.9], &[]);
        // 0.9 is outside the EO curve: skipped. GD has no EO curve.
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].method.as_str(), c[0].level), ("ga", 0.7));
        let ed = c[0].values.iter().find(|v| v.0 == "forget_ed").unwrap();
        assert!(
            (ed.1 - 1.25).abs() < 1e-12 && (ed.2 - 1.05).abs() < 1e-12,
            "{ed:?}"
        );
        assert!(!c[0].values.iter().any(|v| v.0 == "retain_greedy"));
        let t = render(&c);
        assert!(
            t.contains("at matched retain_greedy") && t.contains("1.250→1.050"),
            "{t}"
        );
    }
}
