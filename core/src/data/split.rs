//! TOFU's split names and the rule that derives them from `full`: `forgetXX` is the last
//! XX % of `full` and `retainYY` the first YY % (so forget10 + retain90 = full).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SplitRule {
    Full,
    /// The last `percent` % of `full`.
    Forget {
        percent: u32,
    },
    /// The first `percent` % of `full`.
    Retain {
        percent: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub name: String,
    /// How to derive it from `full`, when it is one of TOFU's derived splits.
    pub rule: Option<SplitRule>,
}

impl Split {
    pub fn parse(name: &str) -> Self {
        let rule = if name == "full" {
            Some(SplitRule::Full)
        } else if let Some(p) = name
            .strip_prefix("forget")
            .and_then(|p| p.parse::<u32>().ok())
        {
            (1..100)
                .contains(&p)
                .then_some(SplitRule::Forget { percent: p })
        } else if let Some(p) = name
            .strip_prefix("retain")
            .and_then(|p| p.parse::<u32>().ok())
        {
            (1..100)
                .contains(&p)
                .then_some(SplitRule::Retain { percent: p })
        } else {
            None
        };
        Self {
            name: name.to_string(),
            rule,
        }
    }

    /// Applies the rule to the `full` records.
    pub fn select<T: Clone>(&self, full: &[T]) -> Option<Vec<T>> {
        let n = full.len();
        match self.rule? {
            SplitRule::Full => Some(full.to_vec()),
            SplitRule::Forget { percent } => {
                let k = n * percent as usize / 100;
                Some(full[n - k..].to_vec())
            }
            SplitRule::Retain { percent } => {
                let k = n * percent as usize / 100;
                Some(full[..k].to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tofu_rule() {
        let full: Vec<u32> = (0..4000).collect();
        let f = Split::parse("forget10").select(&full).unwrap();
        assert_eq!((f.len(), f[0]), (400, 3600));
        let r = Split::parse("retain90").select(&full).unwrap();
        assert_eq!((r.len(), r[3599]), (3600, 3599));
        assert_eq!(Split::parse("forget01").select(&full).unwrap().len(), 40);
        assert!(Split::parse("holdout10").rule.is_none());
        assert!(Split::parse("forget0").rule.is_none());
    }
}
