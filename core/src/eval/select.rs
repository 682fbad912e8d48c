//! Which questions of a split an evaluation runs: all, one shard of N (by index, so shards
//! of one split never overlap and their union is the split), the first K.

use std::fmt;
use std::str::FromStr;

use crate::data::QaItem;

/// Shard `index` of `of`: the questions whose position in the split is `index` mod `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub of: usize,
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `i/N` with `0 <= i < N`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard {s}: must look like i/N, e.g. 0/4"))?;
        let index = i
            .trim()
            .parse()
            .map_err(|_| format!("--shard {s}: i is not a number"))?;
        let of = n
            .trim()
            .parse()
            .map_err(|_| format!("--shard {s}: N is not a number"))?;
        if of == 0 || index >= of {
            return Err(format!("--shard {s}: need 0 <= i < N"));
        }
        Ok(Self { index, of })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.of)
    }
}

/// The questions to evaluate, each with its position in the split (which keys its random
/// streams, so a question draws the same samples whichever shard or limit selected it).
pub fn select_questions(
    items: Vec<QaItem>,
    shard: Option<Shard>,
    limit: Option<usize>,
) -> Vec<(u32, QaItem)> {
    let mut indexed: Vec<(u32, QaItem)> = items
        .into_iter()
        .enumerate()
        .map(|(i, q)| (i as u32, q))
        .collect();
    if let Some(s) = shard {
        indexed.retain(|(i, _)| *i as usize % s.of == s.index);
    }
    if let Some(k) = limit {
        indexed.truncate(k);
    }
    indexed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<QaItem> {
        (0..n)
            .map(|i| QaItem {
                id: format!("q{i}"),
                question: format!("question {i}"),
                answer: "a".into(),
                keywords: Vec::new(),
                variants: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn shards_partition_the_split_and_keep_indices() {
        let all: Vec<u32> = (0..3)
            .flat_map(|i| select_questions(items(10), Some(Shard { index: i, of: 3 }), None))
            .map(|(i, _)| i)
            .collect();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        let one = select_questions(items(10), Some(Shard { index: 1, of: 3 }), Some(2));
        assert_eq!(one.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1, 4]);
    }

    #[test]
    fn shard_syntax_is_checked() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, of: 4 }));
        for bad in ["4/4", "1/0", "x/2", "1", "1/y"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
