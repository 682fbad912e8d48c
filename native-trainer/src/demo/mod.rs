//! The embedded default: a synthetic forgetting benchmark, the recipe that trains the
//! shipped demo checkpoints from seeds, and the index the CLI and the web app read.

pub mod build;
pub mod recipe;

pub use probable_core::data::demo_index::{DemoData, DemoIndex, DemoModel};
