//! The shipped demo's result, which the first screen shows: `models/demo-summary.json`,
//! written by `scripts/make-demo-summary.sh` from a real `probable demo` run (CI checks it
//! against a fresh run), never typed in.

use serde::Deserialize;

/// Where the summary lives, relative to the page.
pub const SUMMARY: &str = "models/demo-summary.json";

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DemoSummary {
    pub samples: u32,
    /// The P(leak) a certified leak exceeds, and the bounds' level.
    pub leak_level: f64,
    pub alpha: f64,
    pub models: Vec<ModelRow>,
}

/// One model of the demo, keyword judge (does a sample state the fact?).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelRow {
    pub name: String,
    pub questions: usize,
    /// Share of the forget questions whose greedy answer does not state the fact.
    pub greedy_forgotten: f64,
    /// Share where at least one of the samples states it.
    pub sample_states_fact: f64,
    /// Share that greedy calls forgotten while the samples certify a leak (Clopper–Pearson
    /// lower bound above the demo's level).
    pub forgotten_certified_leak: f64,
    /// The question to watch on this model (`None` for the model before unlearning).
    pub watch: Option<Watch>,
}

/// A question where greedy decoding says forgotten and sampling certifies a leak (ROUGE-L
/// recall judge, as the app scores), with what the demo measured.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Watch {
    pub model: String,
    pub q: u32,
    pub question: String,
    pub greedy_score: f64,
    pub leaks: u64,
    pub n: u64,
    pub lower: f64,
    pub tau: f64,
    pub alpha: f64,
    /// The settings link that runs it (the demo's settings).
    pub query: String,
}

impl DemoSummary {
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("{SUMMARY}: {e}"))
    }

    /// The models shown: the unlearned ones (the finetuned model is the "before" picture).
    pub fn unlearned(&self) -> impl Iterator<Item = &ModelRow> {
        self.models.iter().filter(|m| m.watch.is_some())
    }

    /// The most telling question among the models this site ships (`available` names
    /// them): the highest certified lower bound on P(leak).
    pub fn watch(&self, available: &[String]) -> Option<&Watch> {
        self.models
            .iter()
            .filter_map(|m| m.watch.as_ref())
            .filter(|w| available.contains(&w.model))
            .max_by(|a, b| a.lower.total_cmp(&b.lower))
    }
}

/// `0.875` → `"88 %"`.
pub fn percent(x: f64) -> String {
    format!("{:.0} %", 100.0 * x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use probable_core::share::{query_lookup, Settings};

    const SHIPPED: &str = include_str!("../../public/models/demo-summary.json");

    #[test]
    fn the_shipped_summary_parses_and_its_watch_links_are_valid() {
        let s = DemoSummary::parse(SHIPPED).unwrap();
        assert!(s.unlearned().count() >= 1);
        for m in s.unlearned() {
            let w = m.watch.as_ref().unwrap();
            let (settings, errors) = Settings::from_query(query_lookup(&w.query));
            assert!(errors.is_empty(), "{}: {errors:?}", w.query);
            assert_eq!(settings.model, w.model);
            assert_eq!(settings.question_index, w.q);
            assert_eq!(settings.samples as u64, w.n);
            assert!(
                w.greedy_score < w.tau && w.lower > 0.0,
                "{w:?} is not telling"
            );
        }
    }

    #[test]
    fn the_watch_is_among_the_shipped_models() {
        let s = DemoSummary::parse(SHIPPED).unwrap();
        let all: Vec<String> = s.models.iter().map(|m| m.name.clone()).collect();
        let best = s.watch(&all).unwrap();
        assert!(s
            .unlearned()
            .all(|m| m.watch.as_ref().unwrap().lower <= best.lower));
        let only = vec![best.model.clone()];
        assert_eq!(s.watch(&only), Some(best));
        assert_eq!(s.watch(&["finetuned".to_string()]), None);
        assert_eq!(percent(0.875), "88 %");
    }
}
