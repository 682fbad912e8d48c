//! Value types of flags several commands share.

use probable_core::metrics::Metric;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MetricArg {
    #[value(name = "rougeL-recall")]
    RougeLRecall,
    #[value(name = "rougeL-f")]
    RougeLF,
    #[value(name = "keyword")]
    Keyword,
}

impl From<MetricArg> for Metric {
    fn from(m: MetricArg) -> Self {
        match m {
            MetricArg::RougeLRecall => Metric::RougeLRecall,
            MetricArg::RougeLF => Metric::RougeLF,
            MetricArg::Keyword => Metric::Keyword,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CriterionArg {
    Entropy,
    MaxProb,
}
