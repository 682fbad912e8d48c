//! Question–answer data in the layouts TOFU ships, parsed from text (the caller reads
//! files), and the TOFU split rule.

pub mod authors;
pub mod demo_index;
pub mod qa;
pub mod split;

pub use authors::{synthesize, SynthConfig, SynthDataset};
pub use qa::{parse_qa, parse_qa_with, DataError, QaItem, QaKeys};
pub use split::{Split, SplitRule};
