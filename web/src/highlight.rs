//! Marks the words of a sample that belong to its longest common subsequence with the
//! reference answer — the words ROUGE-L credits — so a leak is visible at a glance.
//!
//! Words are compared lowercased with punctuation stripped (ROUGE-L's tokenisation, without
//! the Porter stemmer: this is for display, the score itself comes from `probable-core`).

/// A run of the sample's text, marked when its words are part of the common subsequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub leaked: bool,
}

fn normalize(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Splits `text` into alternating whitespace and word pieces, keeping every character.
fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if in_space.is_some_and(|s| s != space) {
            out.push(&text[start..i]);
            start = i;
        }
        in_space = Some(space);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Indices into `a` of one longest common subsequence of `a` and `b`.
fn lcs_members(a: &[String], b: &[String]) -> Vec<bool> {
    let (n, m) = (a.len(), b.len());
    let mut table = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i][j] = if a[i] == b[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let mut member = vec![false; n];
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            member[i] = true;
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    member
}

/// The sample as spans; adjacent marked words are merged with the space between them.
pub fn leak_spans(sample: &str, reference: &str) -> Vec<Span> {
    let reference: Vec<String> = reference
        .split_whitespace()
        .map(normalize)
        .filter(|w| !w.is_empty())
        .collect();
    let parts = pieces(sample);
    // Words that can take part in the match, with their piece index.
    let words: Vec<(usize, String)> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| (i, normalize(p)))
        .filter(|(_, w)| !w.is_empty())
        .collect();
    let keys: Vec<String> = words.iter().map(|(_, w)| w.clone()).collect();
    let mut marked = vec![false; parts.len()];
    for ((i, _), m) in words.iter().zip(lcs_members(&keys, &reference)) {
        marked[*i] = m;
    }
    // Whitespace between two marked words joins their span.
    for i in 1..parts.len().saturating_sub(1) {
        if parts[i].trim().is_empty() && marked[i - 1] && marked[i + 1] {
            marked[i] = true;
        }
    }
    let mut spans: Vec<Span> = Vec::new();
    for (p, m) in parts.iter().zip(marked) {
        match spans.last_mut() {
            Some(last) if last.leaked == m => last.text.push_str(p),
            _ => spans.push(Span {
                text: p.to_string(),
                leaked: m,
            }),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(spans: &[Span]) -> String {
        spans
            .iter()
            .map(|s| {
                if s.leaked {
                    format!("[{}]", s.text)
                } else {
                    s.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn marks_the_common_subsequence_and_keeps_every_character() {
        let sample = "Chloe Holm was  born in Paris,\tFrance.";
        let spans = leak_spans(sample, "Chloe Holm was born in Beirut, Lebanon.");
        assert_eq!(
            spans.iter().map(|s| s.text.as_str()).collect::<String>(),
            sample
        );
        assert_eq!(render(&spans), "[Chloe Holm was  born in] Paris,\tFrance.");
        assert_eq!(
            render(&leak_spans("born in BEIRUT!", "Beirut born")),
            "born in [BEIRUT!]"
        );
        assert!(leak_spans("", "x").is_empty());
        assert_eq!(render(&leak_spans("a b", "")), "a b");
    }
}
