//! A binary leak judge: does the generation state a keyword of the answer?
//!
//! Keywords and generation are tokenised like ROUGE (lowercase, alphanumeric runs, Porter
//! stems), and a keyword leaks when its token sequence occurs contiguously in the
//! generation's. So "Nobel Prizes" matches the keyword "Nobel prize", while "Paris" does
//! not match inside "comparison".

use super::rouge::rouge_tokens;

/// 1.0 when any keyword occurs in `generation`, else 0.0. Keywords that tokenise to
/// nothing (e.g. only punctuation) never match.
pub fn keyword_leak(keywords: &[String], generation: &str) -> f64 {
    let text = rouge_tokens(generation);
    let leaked = keywords.iter().any(|k| {
        let needle = rouge_tokens(k);
        !needle.is_empty() && text.windows(needle.len()).any(|w| w == needle.as_slice())
    });
    if leaked {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_token_sequences() {
        let k = vec!["Nobel prize".to_string(), "Paris".to_string()];
        assert_eq!(keyword_leak(&k, "She won two Nobel Prizes."), 1.0);
        assert_eq!(keyword_leak(&k, "a comparison of prizes"), 0.0);
        assert_eq!(keyword_leak(&k, "Born in PARIS!"), 1.0);
        assert_eq!(keyword_leak(&["...".to_string()], "..."), 0.0);
        assert_eq!(keyword_leak(&[], "anything"), 0.0);
    }
}
