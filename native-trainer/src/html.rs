//! The HTML page of an evaluation report: summary, then per question the greedy answer,
//! the bounds, the two SVG figures and the highest-scoring samples. Every piece of text
//! is escaped.

use probable_core::eval::EvalReport;
use probable_core::plot::escape;
use probable_core::plot::leak_curve::{question_points, set_points};
use probable_core::plot::{ecdf_svg, histogram_svg, leak_at_k_svg, survival_svg, verdict_svg};
use probable_core::stats::{dkw_epsilon, Ecdf, Sidedness};

/// The document head and the opening `<body>` every probable page shares.
pub fn page_start(title: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}\
         .q{{border-top:2px solid #333;margin-top:2em}}.samples td{{text-align:left}}</style></head><body>",
        escape(title)
    )
}

pub fn report_html(r: &EvalReport) -> String {
    let s = &r.summary;
    let mut out = page_start("probable evaluation");
    out.push_str(&format!(
        "<h1>probable evaluation</h1><p>model <code>{}</code>, data <code>{}</code>, split <code>{}</code>, \
         {} samples per question, α = {}, leak threshold τ = {}</p>",
        escape(&r.model),
        escape(&r.data),
        escape(&r.split),
        r.config.samples,
        r.config.bounds.alpha,
        r.config.bounds.threshold_or_half()
    ));
    out.push_str("<table><tr><th>questions</th><th>greedy score</th><th>greedy says forgotten</th><th>mean M_μ</th><th>mean M_σ</th><th>mean ED</th><th>mean M_bin</th><th>M_bin &gt; level</th><th>forgotten but a sample leaked</th></tr>");
    out.push_str(&format!(
        "<tr><td>{}</td><td>{:.3}</td><td>{:.0}%</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.0}%</td><td>{:.0}%</td></tr></table>",
        s.questions,
        s.mean_greedy_score,
        100.0 * s.frac_greedy_forgotten,
        s.mean_mean_upper,
        s.mean_std_upper,
        s.mean_ed_score,
        s.mean_binary_upper,
        100.0 * s.frac_binary_upper_above_level,
        100.0 * s.frac_forgotten_but_sampled_leak
    ));
    let tau = r.config.bounds.threshold_or_half();
    out.push_str("<h2>Verdict over the set</h2><p>Each dot is a question: its greedy score against the certified upper bound M_bin on its leak probability P(score ≥ τ). Shaded: greedy calls it forgotten, yet a leak rate above the level cannot be ruled out; red dots are certified to leak (Clopper–Pearson lower bound above the level).</p>");
    out.push_str(&verdict_svg(
        "greedy score vs certified leak bound",
        &r.verdict_points(),
        tau,
        r.config.leak_level,
    ));
    if !s.leak_at_k.is_empty() {
        out.push_str("<p>Leak@k: the chance that at least one of k samples leaks, averaged over the questions; the band holds for all questions and all k jointly (each question's interval at α/m).</p>");
        out.push_str(&leak_at_k_svg(
            "leak@k over the set",
            &set_points(&s.leak_at_k),
        ));
    }
    if !r.pooled.is_empty() {
        out.push_str("<h2>Pooled over prompt variants</h2><table><tr><th>question</th><th>samples</th><th>max</th><th>M_μ</th><th>ED</th><th>M_bin</th><th>worst-variant M_μ</th><th>worst-variant M_bin</th></tr>");
        for p in &r.pooled {
            let b = &p.bounds;
            out.push_str(&format!(
                "<tr><td>#{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td></tr>",
                p.index,
                b.n,
                b.max_score,
                b.mean_upper,
                b.ed_score,
                b.binary.map_or("–".into(), |x| format!("{:.3}", x.upper)),
                p.worst_mean_upper,
                p.worst_binary_upper
            ));
        }
        out.push_str("</table>");
    }
    for q in &r.questions {
        let scores: Vec<f64> = q.samples.iter().map(|x| x.score).collect();
        out.push_str(&format!(
            "<div class=\"q\"><h3>#{}{} {}</h3><p><b>Reference:</b> {}</p><p><b>Greedy</b> (score {:.3}{}): {}</p>",
            q.index,
            q.variant
                .as_ref()
                .map_or(String::new(), |v| format!(" ({})", escape(v))),
            escape(&q.question),
            escape(&q.answer),
            q.greedy.score,
            if q.greedy_forgotten { ", looks forgotten" } else { "" },
            escape(&q.greedy.text)
        ));
        let b = &q.bounds;
        out.push_str(&format!(
            "<table><tr><th>max</th><th>M_μ</th><th>M_σ</th><th>ED</th><th>M_bin</th></tr><tr><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td></tr></table>",
            b.max_score,
            b.mean_upper,
            b.std_upper,
            b.ed_score,
            b.binary.map_or("–".into(), |x| format!("{:.3} ({} leaks)", x.upper, x.leaks))
        ));
        if let Ok(ecdf) = Ecdf::new(&scores) {
            out.push_str(&histogram_svg(
                "sample scores",
                &scores,
                Some(q.greedy.score),
                Some(b.mean_upper),
            ));
            let eps = dkw_epsilon(ecdf.n(), r.config.bounds.alpha, Sidedness::TwoSided);
            out.push_str(&ecdf_svg("empirical CDF and DKW band", &ecdf, eps));
            out.push_str(&survival_svg(
                "leak bound M_gen: P(score > t)",
                &b.survival,
                b.binary.map(|x| x.threshold),
            ));
        }
        if let Some(l) = &b.leak_at_k {
            out.push_str(&leak_at_k_svg("leak@k", &question_points(l)));
        }
        let mut top: Vec<_> = q.samples.iter().collect();
        top.sort_by(|a, b| b.score.total_cmp(&a.score));
        out.push_str("<table class=\"samples\"><tr><th>score</th><th>sample</th></tr>");
        for x in top.iter().take(5) {
            out.push_str(&format!(
                "<tr><td>{:.3}</td><td>{}</td></tr>",
                x.score,
                escape(&x.text)
            ));
        }
        out.push_str("</table></div>");
    }
    out.push_str("</body></html>");
    out
}
