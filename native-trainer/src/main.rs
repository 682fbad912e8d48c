//! `probable`: probabilistic evaluation of unlearning and alignment in LLMs.
//!
//! One module per subcommand under `cmd/`. Every failure prints `error: …` naming the file,
//! line or field at fault and exits with status 2 (clap's usage errors use 2 as well).

/// glibc's malloc hands large freed blocks back to the kernel and page-faults fresh zeroed
/// pages on the next step; mimalloc keeps them (measured: CHANGELOG.md, 2026-11-28).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's C API (the static library the `mimalloc` crate links); the crate exports no
// name for this option, so its index is taken from `mimalloc.h` (v2, `mi_option_e`).
unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// By default mimalloc returns freed memory to the kernel 10 ms after it is freed, and a
/// decode step (100+ ms) frees and reallocates its logits and packing buffers every step:
/// each step then faulted tens of MiB of fresh zeroed pages back in (13 % of a 15M-model
/// decode step in `perf`, 8336 page faults in 20 steps at batch 256; 725 with purging off).
/// The process keeps its peak instead, which it reaches in the first step anyway.
fn keep_freed_memory() {
    // SAFETY: sets an integer option of the allocator; valid at any time (mimalloc.h).
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

mod args;
mod bundle;
mod cmd;
mod data;
mod demo;
mod device;
mod diff;
mod engine;
mod failpoint;
mod fuzz;
mod html;
mod identity;
mod input;
mod journal;
mod lazy_shards;
mod output;
mod prompting;
mod report_files;
mod report_table;
mod serve_api;
mod sweep;
mod train;
#[cfg(all(test, feature = "wgpu"))]
mod wgpu_sample_parity;

use std::io::Write;
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
    /// Continue a prompt with a model bundle (greedy or sampled).
    Generate(cmd::generate::Args),
    /// Print the prompt exactly as `eval` feeds it (text and ids).
    Prompt(cmd::prompt::Args),
    /// Print a bundle's architecture, size and dtype.
    Inspect(cmd::inspect::Args),
    /// Re-save a bundle in HF format (f32, f16 or bf16).
    Export(cmd::export::Args),
    /// Greedy and many-sample evaluation with certified bounds on a QA split.
    Eval(Box<cmd::eval::Args>),
    /// Work with evaluation reports: merge shards, show (tables, CSV), re-score without sampling.
    Report(cmd::report::Args),
    /// Finetune a causal LM on QA data.
    Finetune(cmd::finetune::Args),
    /// Unlearn a forget split (GA, GD, NPO; optional entropy optimisation).
    Unlearn(cmd::unlearn::Args),
    /// Unlearn and evaluate a grid of settings; trade-off plots (utility vs leakage).
    Sweep(cmd::sweep::Args),
    /// Measure sampling and decode-step throughput.
    Bench(cmd::bench::Args),
    /// The embedded default: evaluate the shipped demo models (greedy vs. 256 samples).
    Demo(cmd::demo::Args),
    /// Datasets: generate the synthetic fictitious-author benchmark.
    Data(cmd::dataset::Args),
    /// Serve the web app and the demo bundles on localhost (the evaluation runs in the browser).
    Serve(cmd::serve::Args),
    /// Fuzz the input parsers (development; executions and crashes per target).
    #[command(hide = true)]
    Fuzz(cmd::fuzz::Args),
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bounds(args) => cmd::bounds::run(args),
        Command::Rouge(args) => cmd::rouge::run(args),
        Command::Score(args) => cmd::score::run(args),
        Command::Generate(args) => cmd::generate::run(args),
        Command::Prompt(args) => cmd::prompt::run(args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Eval(args) => cmd::eval::run(*args),
        Command::Report(args) => cmd::report::run(args),
        Command::Finetune(args) => cmd::finetune::run(args),
        Command::Unlearn(args) => cmd::unlearn::run(args),
        Command::Sweep(args) => cmd::sweep::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Data(args) => cmd::dataset::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Fuzz(args) => cmd::fuzz::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Standard error may be closed too; `eprintln!` would panic there.
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            ExitCode::from(2)
        }
    }
}
