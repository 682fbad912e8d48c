//! `probable rouge`: ROUGE-L of one prediction, as `rouge-score` computes it.

use anyhow::Result;
use probable_core::metrics::rouge_l;

#[derive(clap::Args)]
pub struct Args {
    /// The reference (ground-truth answer); recall is measured over its tokens.
    #[arg(long)]
    pub reference: String,
    /// The generated text.
    #[arg(long)]
    pub prediction: String,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let s = rouge_l(&args.reference, &args.prediction);
    if args.json {
        crate::output::emit(&format!("{}\n", serde_json::to_string(&s)?));
    } else {
        crate::output::emit(&format!(
            "rougeL precision {:.6}  recall {:.6}  fmeasure {:.6}\n",
            s.precision, s.recall, s.fmeasure
        ));
    }
    Ok(())
}
