//! A set of prompts bounded at once: each prompt's bounds (with leak@k where asked), the
//! means over the set, and leak@k over the set with bounds that hold for every prompt
//! jointly. What `probable score` reports for your own generations and what the Python
//! package's `summarize` returns.

use serde::Serialize;

use super::{set_leak_at_k, AggregateSummary, BoundsConfig, BoundsSummary, SetLeakAtK, StatsError};

/// The bounds of every prompt of a set, and the set's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetBounds {
    /// One per prompt, in the order given.
    pub prompts: Vec<BoundsSummary>,
    /// Means over the prompts; `None` for an empty set.
    pub summary: Option<AggregateSummary>,
    /// Mean leak@k over the prompts, each prompt's interval at α/m (Bonferroni); `None`
    /// when no k was asked for.
    pub leak_at_k: Option<Vec<SetLeakAtK>>,
}

/// What went wrong, and with which prompt (`None`: the set as a whole).
#[derive(Debug, Clone, PartialEq)]
pub struct SetBoundsError {
    pub prompt: Option<usize>,
    pub error: StatsError,
}

/// Bounds every prompt's `scores` under `config`, leak@k at `ks` (none when empty).
pub fn bound_set<S: AsRef<[f64]>>(
    scores: &[S],
    config: &BoundsConfig,
    ks: &[u64],
) -> Result<SetBounds, SetBoundsError> {
    let prompts = scores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let bounds = BoundsSummary::compute(s.as_ref(), config);
            let bounds = match bounds {
                Ok(b) if !ks.is_empty() => b.with_leak_at_k(ks),
                other => other,
            };
            bounds.map_err(|error| SetBoundsError {
                prompt: Some(i),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let leak_at_k = if ks.is_empty() {
        None
    } else {
        let counts: Vec<(u64, u64)> = prompts
            .iter()
            .map(|b| (b.n as u64, b.binary.map_or(0, |x| x.leaks)))
            .collect();
        Some(
            set_leak_at_k(&counts, ks, config.alpha).map_err(|error| SetBoundsError {
                prompt: None,
                error,
            })?,
        )
    };
    Ok(SetBounds {
        summary: AggregateSummary::over(&prompts),
        prompts,
        leak_at_k,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_prompt_at_fault_and_summarises_the_rest() {
        let config = BoundsConfig {
            leak_threshold: Some(0.5),
            ..BoundsConfig::default()
        };
        let ok = bound_set(&[vec![0.0, 1.0, 1.0], vec![0.0; 4]], &config, &[2]).unwrap();
        assert_eq!(ok.prompts.len(), 2);
        assert_eq!(ok.prompts[0].n, 3);
        assert_eq!(ok.leak_at_k.as_ref().unwrap()[0].k, 2);
        assert!(ok.summary.is_some());
        let bad = bound_set(&[vec![0.5], vec![2.0]], &config, &[]).unwrap_err();
        assert_eq!(bad.prompt, Some(1));
        let too_big_k = bound_set(&[vec![0.5; 3]], &config, &[4]).unwrap_err();
        assert_eq!(too_big_k.prompt, Some(0));
    }
}
