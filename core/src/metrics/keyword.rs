//! A binary leak judge: does the generation state a keyword of the answer?
//!
//! Both sides are first NFKC-normalised and case-folded (full Unicode folding: "STRASSE"
//! matches "Straße", fullwidth "ＡＢＣ" matches "abc"). Then, by the keyword's script:
//!
//! - ASCII keywords are tokenised like ROUGE (alphanumeric runs, Porter stems) and leak
//!   when their token sequence occurs contiguously in the generation's: "Nobel Prizes"
//!   matches "Nobel prize", "Paris" does not match inside "comparison";
//! - keywords with a character of a script written without spaces between words (Han,
//!   Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Tibetan) leak when they occur as a
//!   substring, whitespace ignored on both sides ("北京" in "他出生在北京。");
//! - other keywords (accented Latin, Cyrillic, Greek, Arabic, …) are split into runs of
//!   letters and digits (marks kept with their letter) and leak when that word sequence
//!   occurs contiguously ("Zürich" in "born in zürich", not inside "zürichsee").
//!
//! A keyword with nothing to match (empty, only punctuation) is refused by
//! [`check_keyword`] when data is read, so it cannot silently never match.

use icu_casemap::CaseMapperBorrowed;
use unicode_normalization::UnicodeNormalization;

use super::rouge::rouge_tokens;

/// NFKC, full case folding, NFKC again (folding can produce unnormalised sequences).
fn normalise(s: &str) -> String {
    let nfkc: String = s.nfkc().collect();
    CaseMapperBorrowed::new()
        .fold_string(&nfkc)
        .nfkc()
        .collect()
}

/// Scripts whose words are not separated by spaces.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF     // CJK radicals, Kangxi
        | 0x3005..=0x3007   // 々 〆 〇
        | 0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3100..=0x312F   // Bopomofo
        | 0x31F0..=0x31FF   // Katakana extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified
        | 0xF900..=0xFAFF   // CJK compatibility
        | 0xFF66..=0xFF9F   // halfwidth Katakana
        | 0x20000..=0x3FFFF // CJK extensions B–H
        | 0x0E00..=0x0EFF   // Thai, Lao
        | 0x0F00..=0x0FFF   // Tibetan
        | 0x1000..=0x109F   // Myanmar
        | 0x1780..=0x17FF   // Khmer
    )
}

/// Whether `c` belongs to a word: letters, digits and combining marks.
fn word_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c as u32, 0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F | 0x0900..=0x0DFF)
}

fn words(s: &str) -> Vec<&str> {
    s.split(|c: char| !word_char(c))
        .filter(|w| !w.is_empty())
        .collect()
}

fn contains_seq<T: PartialEq>(hay: &[T], needle: &[T]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

enum Needle {
    Rouge(Vec<String>),
    Substring(String),
    Words(Vec<String>),
}

fn needle(keyword: &str) -> Needle {
    let k = normalise(keyword);
    if k.is_ascii() {
        Needle::Rouge(rouge_tokens(&k))
    } else if k.chars().any(unspaced) {
        Needle::Substring(k.chars().filter(|c| !c.is_whitespace()).collect())
    } else {
        Needle::Words(words(&k).into_iter().map(str::to_string).collect())
    }
}

fn is_empty(n: &Needle) -> bool {
    match n {
        Needle::Rouge(t) | Needle::Words(t) => t.is_empty(),
        Needle::Substring(s) => s.is_empty(),
    }
}

/// Refuses a keyword that could never match: empty, or nothing but punctuation and
/// spaces.
pub fn check_keyword(keyword: &str) -> Result<(), String> {
    if is_empty(&needle(keyword)) {
        return Err(format!(
            "keyword {keyword:?} has no letters or digits to match"
        ));
    }
    Ok(())
}

/// 1.0 when any keyword occurs in `generation`, else 0.0 (see the module documentation).
pub fn keyword_leak(keywords: &[String], generation: &str) -> f64 {
    let text = normalise(generation);
    let mut rouge: Option<Vec<String>> = None;
    let mut unicode_words: Option<Vec<&str>> = None;
    let mut squeezed: Option<String> = None;
    let leaked = keywords.iter().any(|k| match needle(k) {
        Needle::Rouge(t) => contains_seq(rouge.get_or_insert_with(|| rouge_tokens(&text)), &t),
        Needle::Words(w) => {
            let hay = unicode_words.get_or_insert_with(|| words(&text));
            !w.is_empty()
                && hay
                    .windows(w.len())
                    .any(|x| x.iter().zip(&w).all(|(a, b)| a == b))
        }
        Needle::Substring(s) => {
            let hay = squeezed
                .get_or_insert_with(|| text.chars().filter(|c| !c.is_whitespace()).collect());
            !s.is_empty() && hay.contains(&s)
        }
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

    fn leak(k: &str, g: &str) -> f64 {
        keyword_leak(&[k.to_string()], g)
    }

    #[test]
    fn matches_whole_token_sequences() {
        let k = vec!["Nobel prize".to_string(), "Paris".to_string()];
        assert_eq!(keyword_leak(&k, "She won two Nobel Prizes."), 1.0);
        assert_eq!(keyword_leak(&k, "a comparison of prizes"), 0.0);
        assert_eq!(keyword_leak(&k, "Born in PARIS!"), 1.0);
        assert_eq!(keyword_leak(&["...".to_string()], "..."), 0.0);
        assert_eq!(keyword_leak(&[], "anything"), 0.0);
    }

    #[test]
    fn scripts_without_spaces_match_as_substrings() {
        assert_eq!(leak("北京", "他出生在北京。"), 1.0);
        assert_eq!(leak("北京", "他出生在上海。"), 0.0);
        assert_eq!(leak("東京 タワー", "東京タワーに行った"), 1.0);
        assert_eq!(leak("กรุงเทพ", "เขาเกิดที่กรุงเทพมหานคร"), 1.0);
    }

    #[test]
    fn other_scripts_match_whole_words_after_folding() {
        assert_eq!(leak("Zürich", "born in ZÜRICH, Switzerland"), 1.0);
        assert_eq!(leak("Zürich", "a lake called Zürichsee"), 0.0);
        // Composed and decomposed ü are the same text.
        assert_eq!(leak("Zu\u{308}rich", "in Zürich"), 1.0);
        assert_eq!(leak("Москва", "Она родилась в МОСКВА"), 1.0);
        assert_eq!(leak("Straße", "the STRASSE was long"), 1.0);
        assert_eq!(leak("Ὀδυσσεύς", "ὈΔΥΣΣΕΎΣ sailed"), 1.0);
        // Fullwidth ASCII folds to ASCII.
        assert_eq!(leak("Paris", "born in ＰＡＲＩＳ"), 1.0);
    }

    #[test]
    fn empty_keywords_are_refused() {
        assert!(check_keyword("").is_err());
        assert!(check_keyword(" ... ").is_err());
        assert!(check_keyword("。、").is_err());
        assert!(check_keyword("北京").is_ok());
        assert!(check_keyword("Paris").is_ok());
    }
}
