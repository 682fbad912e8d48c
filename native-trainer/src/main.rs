//! `probable`: probabilistic evaluation of unlearning and alignment in LLMs.
//!
//! One module per subcommand under `cmd/`. Every failure prints `error: …` naming the file,
//! line or field at fault and exits with status 2 (clap's usage errors use 2 as well).

mod cmd;
mod input;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "probable", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// High-confidence bounds on one prompt's scores (one score in [0,1] per line).
    Bounds(cmd::bounds::Args),
    /// ROUGE-L (rouge-score 0.1.2, stemmed) of a prediction against a reference.
    Rouge(cmd::rouge::Args),
    /// Score your own generations (e.g. from vLLM) and bound each prompt.
    Score(cmd::score::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bounds(args) => cmd::bounds::run(args),
        Command::Rouge(args) => cmd::rouge::run(args),
        Command::Score(args) => cmd::score::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
