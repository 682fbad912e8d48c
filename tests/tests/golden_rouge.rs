//! Parity with Google's rouge-score 0.1.2 (use_stemmer=True) and NLTK's Porter stemmer
//! (fixtures made by tests/golden/make_rouge_goldens.py).

use probable_core::metrics::rouge::{rouge_l, rouge_tokens};
use probable_tests::golden;

#[test]
fn rouge_l_matches_rouge_score() {
    let g = golden("rouge_golden.json");
    let pairs = g["pairs"].as_array().unwrap();
    assert!(pairs.len() >= 100);
    for p in pairs {
        let (r, pred) = (
            p["reference"].as_str().unwrap(),
            p["prediction"].as_str().unwrap(),
        );
        let tokens = |key: &str| -> Vec<String> {
            p[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            rouge_tokens(r),
            tokens("reference_tokens"),
            "tokens of {r:?}"
        );
        assert_eq!(
            rouge_tokens(pred),
            tokens("prediction_tokens"),
            "tokens of {pred:?}"
        );
        let s = rouge_l(r, pred);
        for (got, key) in [
            (s.precision, "precision"),
            (s.recall, "recall"),
            (s.fmeasure, "fmeasure"),
        ] {
            let want = p[key].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-12,
                "{key} of ({r:?}, {pred:?}): {got} vs {want}"
            );
        }
    }
}

#[test]
fn stems_match_nltk_porter() {
    let g = golden("rouge_golden.json");
    for s in g["stems"].as_array().unwrap() {
        let word = s["word"].as_str().unwrap();
        let stem = s["stem"].as_str().unwrap();
        // rouge-score only stems tokens longer than 3 characters; check the stemmer there.
        if word.len() > 3 && word.chars().all(|c| c.is_ascii_lowercase()) {
            assert_eq!(rouge_tokens(word), vec![stem.to_string()], "stem of {word}");
        }
    }
}
