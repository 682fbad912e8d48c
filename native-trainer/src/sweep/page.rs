//! The sweep's HTML page: the trade-off plots (retain utility against forget greedy score,
//! ED and the certified leak bound; one curve per method ± EO, Pareto front ringed), the
//! matched comparison, and every row.

use probable_core::plot::escape;
use probable_core::plot::{tradeoff_svg, Series};

use super::compare::{compare, render, FORGET_LEVELS, RETAIN_LEVELS};
use super::results::{Field, Row};
use crate::html::page_start;

/// The y axes of the trade-off plots: (file stem, label, value).
pub const PLOTS: &[(&str, &str, Field)] = &[
    ("tradeoff-greedy", "forget: mean greedy score", |m| {
        m.forget_greedy
    }),
    ("tradeoff-ed", "forget: mean ED", |m| m.forget_ed),
    (
        "tradeoff-m-bin",
        "forget: mean M_bin (certified leak bound)",
        |m| m.forget_m_bin,
    ),
    (
        "tradeoff-leak-at-k",
        "forget: leak@k certified upper bound",
        |m| m.leak_at_k_upper,
    ),
];

/// The series in a fixed order: each method without EO, then with it.
pub fn series(rows: &[Row], y: Field) -> Vec<Series> {
    let mut names: Vec<(String, bool)> =
        rows.iter().map(|r| (r.method.clone(), r.entropy)).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|(method, eo)| {
            let points = rows
                .iter()
                .filter(|r| r.method == method && r.entropy == eo)
                .filter_map(|r| r.metrics.as_ref())
                .map(|m| (m.retain_greedy, y(m)))
                .collect();
            let name = rows
                .iter()
                .find(|r| r.method == method && r.entropy == eo)
                .map(Row::series)
                .unwrap_or_default();
            Series { name, points }
        })
        .collect()
}

/// One plot as an SVG document.
pub fn plot(rows: &[Row], title: &str, y_label: &str, y: Field) -> String {
    tradeoff_svg(
        title,
        "retain: mean greedy score (utility)",
        y_label,
        &series(rows, y),
    )
}

pub fn sweep_html(origin: &str, rows: &[Row], grid_keys: &[String]) -> String {
    let mut out = page_start("probable sweep");
    out.push_str(&format!(
        "<h1>probable sweep</h1><p>{} points from <code>{}</code>. Each marker is a point (unlearned, then evaluated); lines join each method's points in x order (solid: without entropy optimisation, dashed with open squares: with it); ringed points form the Pareto front over all points (higher retain score, lower y).</p>",
        rows.len(),
        escape(origin)
    ));
    for (_, label, y) in PLOTS {
        out.push_str(&plot(
            rows,
            &format!("retain utility vs {label}"),
            label,
            *y,
        ));
    }
    out.push_str(&format!(
        "<pre>{}</pre>",
        escape(&render(&compare(rows, RETAIN_LEVELS, FORGET_LEVELS)))
    ));
    out.push_str("<table><tr><th>point</th><th>series</th>");
    for k in grid_keys {
        out.push_str(&format!("<th>{}</th>", escape(k)));
    }
    out.push_str("<th>steps</th><th>forget greedy</th><th>M_μ</th><th>M_σ</th><th>ED</th><th>M_bin</th><th>leak@k (≤ cert)</th><th>retain greedy</th><th>wall s</th></tr>");
    for r in rows {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td>",
            r.point,
            escape(&r.series())
        ));
        for k in grid_keys {
            let v = r.set.get(k).map_or(String::new(), |v| v.to_string());
            out.push_str(&format!("<td>{}</td>", escape(&v)));
        }
        match (&r.metrics, &r.error) {
            (Some(m), _) => out.push_str(&format!(
                "<td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3} ≤ {:.3} (k={})</td><td>{:.3}</td><td>{:.0}</td></tr>",
                r.steps,
                m.forget_greedy,
                m.forget_m_mu,
                m.forget_m_sigma,
                m.forget_ed,
                m.forget_m_bin,
                m.leak_at_k,
                m.leak_at_k_upper,
                m.leak_k,
                m.retain_greedy,
                r.wall_seconds
            )),
            (None, e) => out.push_str(&format!(
                "<td>{}</td><td colspan=\"7\" style=\"text-align:left\">{}</td><td>{:.0}</td></tr>",
                r.steps,
                escape(e.as_deref().unwrap_or("no result")),
                r.wall_seconds
            )),
        }
    }
    out.push_str("</table></body></html>");
    out
}
