//! What a run does to its model: finetune it on a split, or unlearn a forget split.

use super::config::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Finetune,
    Unlearn(Method),
}

impl Mode {
    /// The subcommand that runs in this mode (recorded in `run.json`).
    pub fn command(self) -> &'static str {
        match self {
            Mode::Finetune => "finetune",
            Mode::Unlearn(_) => "unlearn",
        }
    }
}
