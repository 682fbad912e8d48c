//! ROUGE-L exactly as Google's `rouge-score` 0.1.2 with `use_stemmer=True`.
//!
//! Tokenisation: lowercase, every run of characters outside `[a-z0-9]` becomes a space,
//! NLTK's Porter stemmer (NLTK_EXTENSIONS mode) on tokens longer than 3 characters; the
//! score is the longest common subsequence of the two token lists. The `rougers` crate
//! implements this tokenizer and stemmer (verified against `rouge-score` in
//! `tests/golden/rouge_golden.json`); `rust-stemmers` would not do, it is Porter2.

use std::sync::OnceLock;

use rougers::{RougeScorer, RougeType, Tokenizer};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RougeL {
    pub precision: f64,
    pub recall: f64,
    pub fmeasure: f64,
}

fn scorer() -> &'static RougeScorer {
    static SCORER: OnceLock<RougeScorer> = OnceLock::new();
    SCORER.get_or_init(|| RougeScorer::new(["rougeL"], true).expect("rougeL is a valid type"))
}

/// ROUGE-L of `prediction` against `reference`; recall is over the reference's tokens.
pub fn rouge_l(reference: &str, prediction: &str) -> RougeL {
    let score = scorer()
        .score(reference, prediction)
        .get(RougeType::L)
        .expect("the scorer computes rougeL");
    RougeL {
        precision: score.precision,
        recall: score.recall,
        fmeasure: score.fmeasure,
    }
}

/// The stemmed token list `rouge-score` compares.
pub fn rouge_tokens(text: &str) -> Vec<String> {
    scorer().tokenizer().tokenize(text)
}

/// A fresh tokenizer with the same settings, for callers that tokenise many texts.
pub fn tokenizer() -> Tokenizer {
    Tokenizer::new(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_and_disjoint() {
        let s = rouge_l(
            "The author was born in Paris.",
            "the AUTHOR was born in paris",
        );
        assert_eq!((s.precision, s.recall, s.fmeasure), (1.0, 1.0, 1.0));
        let s = rouge_l("alpha beta", "gamma delta");
        assert_eq!(s.fmeasure, 0.0);
        let s = rouge_l("", "anything");
        assert_eq!(s.recall, 0.0);
    }

    #[test]
    fn recall_is_over_the_reference() {
        let s = rouge_l("a b c d", "a b");
        assert_eq!(s.recall, 0.5);
        assert_eq!(s.precision, 1.0);
    }
}
