//! `probable bench`: throughput measured side by side in one run (this machine is noisy,
//! so only ratios from the same run mean anything).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use burn::tensor::{Int, Tensor, TensorData};
use probable_core::model::{CausalLm, KvCache, WeightDtype};
use probable_core::sample::{no_progress, sample_prompt, DecodeConfig};

use super::bench_shapes::Shape;
use super::bench_wait::{read_back, wait_for};
use super::{bench_select, bench_train};
use crate::bundle::load_bundle;
use crate::device::{device, DeviceArg, DtypeArg};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand)]
pub enum What {
    /// Batched sampling vs. a batch-size-1 loop that re-prefills per sample (the
    /// reference's one-`generate()`-per-sample method), on the same model and seed.
    Sample {
        /// A bundle; without it a random model of --shape is used.
        #[arg(long)]
        model: Option<PathBuf>,
        /// A named shape with random weights (without --model; default 5m).
        #[arg(long, value_enum, conflicts_with = "model")]
        shape: Option<Shape>,
        /// Sample counts to measure (comma separated).
        #[arg(long, value_delimiter = ',', default_values_t = [16u32, 64, 256, 1024])]
        samples: Vec<u32>,
        #[arg(long, default_value_t = 64)]
        max_new_tokens: usize,
        /// Samples timed in the batch-size-1 loop (its rate per token does not depend on N).
        #[arg(long, default_value_t = 8)]
        loop_samples: u32,
        #[arg(long, value_enum, default_value = "cpu")]
        device: DeviceArg,
        /// How the matrices are held: as stored (bf16 stays bf16 on the CPU), f32, or f16
        /// (on a GPU with f16 activations too; a --shape's random weights are f32 "as stored").
        #[arg(long, value_enum, default_value = "stored")]
        dtype: DtypeArg,
    },
    /// One incremental decode step (KV cache of `context` tokens) for several batch sizes.
    Decode {
        #[arg(long)]
        model: Option<PathBuf>,
        /// A named shape with random weights (without --model; default 5m).
        #[arg(long, value_enum, conflicts_with = "model")]
        shape: Option<Shape>,
        #[arg(long, value_delimiter = ',', default_values_t = [1usize, 16, 64, 256])]
        batch: Vec<usize>,
        #[arg(long, default_value_t = 32)]
        context: usize,
        #[arg(long, default_value_t = 10)]
        iters: usize,
        #[arg(long, value_enum, default_value = "cpu")]
        device: DeviceArg,
        /// How the matrices are held: as stored (bf16 stays bf16 on the CPU), f32, or f16
        /// (on a GPU with f16 activations too; a --shape's random weights are f32 "as stored").
        #[arg(long, value_enum, default_value = "stored")]
        dtype: DtypeArg,
    },
    /// Token selection (T = 1, top-p 0.9) alone vs. the forward pass of a decode step, and
    /// its share of a sampling step.
    Select {
        #[arg(long)]
        model: Option<PathBuf>,
        /// A named shape with random weights (without --model; default 5m).
        #[arg(long, value_enum, conflicts_with = "model")]
        shape: Option<Shape>,
        #[arg(long, value_delimiter = ',', default_values_t = [64usize, 128, 256])]
        batch: Vec<usize>,
        #[arg(long, default_value_t = 32)]
        context: usize,
        #[arg(long, default_value_t = 10)]
        iters: usize,
        #[arg(long, value_enum, default_value = "cpu")]
        device: DeviceArg,
        /// How the matrices are held: as stored (bf16 stays bf16 on the CPU), f32, or f16
        /// (on a GPU with f16 activations too; a --shape's random weights are f32 "as stored").
        #[arg(long, value_enum, default_value = "stored")]
        dtype: DtypeArg,
    },
    /// One finetuning step (forward, token NLL, backward, AdamW) on random ids.
    Train {
        #[arg(long)]
        model: Option<PathBuf>,
        /// A named shape with random weights (without --model; default 5m).
        #[arg(long, value_enum, conflicts_with = "model")]
        shape: Option<Shape>,
        #[arg(long, default_value_t = 8)]
        batch: usize,
        /// Tokens per row.
        #[arg(long, default_value_t = 128)]
        seq: usize,
        #[arg(long, default_value_t = 5)]
        iters: usize,
        #[arg(long, value_enum, default_value = "cpu")]
        device: DeviceArg,
    },
}

/// Loads the benchmark model and reports how long that took, and until its first logit
/// (one token through the model, read back), and the peak resident memory so far next to
/// the size of the weights as held (the loader reads a checkpoint tensor by tensor and
/// keeps bf16 as stored, so the peak should stay near one copy of them).
fn model(
    path: &Option<PathBuf>,
    shape: Option<Shape>,
    dev: &burn::tensor::Device,
    dtype: WeightDtype,
) -> Result<CausalLm> {
    let t = Instant::now();
    let m = match path {
        Some(p) => load_bundle(p, dev, dtype)?.model,
        None => shape.unwrap_or(Shape::Small).model(dev, dtype)?,
    };
    let loaded = t.elapsed().as_secs_f64();
    let first: Tensor<2, Int> = Tensor::from_data(TensorData::new(vec![1i64], [1, 1]), dev);
    read_back(m.forward_cached(first, &mut m.new_cache()).into_data());
    let first_logit = t.elapsed().as_secs_f64();
    let gib = |bytes: f64| bytes / (1u64 << 30) as f64;
    let weights = gib(m.weight_bytes() as f64);
    let peak = peak_rss_bytes()
        .map(|b| format!("{:.2} GiB", gib(b as f64)))
        .unwrap_or_else(|| "unknown".into());
    crate::output::emit(&format!(
        "load: {loaded:.2} s · first logit {first_logit:.2} s · peak RSS {peak} · weights \
         {weights:.2} GiB as held\n"
    ));
    // Which tiles multiply bf16 weights here: the numbers depend on it (AMX or not).
    if m.embed_tokens.weight.val().dtype() == burn::tensor::DType::BF16 {
        let tiles = probable_core::model::Bf16Tiles::here();
        crate::output::emit(&format!("bf16 weights: {tiles}\n"));
    }
    Ok(m)
}

/// The backend's matrix-product rate on a large square product (1024³, f32): the
/// ceiling a decode step's GFLOP/s are compared with, measured in the same run.
fn sgemm_gflops(dev: &burn::tensor::Device) -> f64 {
    const N: usize = 1024;
    let a: Tensor<2> = Tensor::random([N, N], burn::tensor::Distribution::Uniform(-1.0, 1.0), dev);
    let b: Tensor<2> = Tensor::random([N, N], burn::tensor::Distribution::Uniform(-1.0, 1.0), dev);
    read_back(a.clone().matmul(b.clone()).into_data());
    let reps = 5;
    let t = Instant::now();
    for _ in 0..reps {
        read_back(a.clone().matmul(b.clone()).into_data());
    }
    2.0 * (N * N * N) as f64 * reps as f64 / t.elapsed().as_secs_f64() / 1e9
}

/// The process's peak resident set size (`VmHWM`), where the OS reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

pub fn run(args: Args) -> Result<()> {
    match args.what {
        What::Sample {
            model: path,
            shape,
            samples,
            max_new_tokens,
            loop_samples,
            device: d,
            dtype,
        } => {
            let dev = device(d)?;
            let m = model(&path, shape, &dev, dtype.into())?;
            let params = m.config().parameter_count();
            let prompt: Vec<u32> = (0..16u32)
                .map(|i| 3 + (i * 37) % (m.config().vocab_size as u32 - 3))
                .collect();
            // No EOS: every row generates exactly max_new_tokens, so token counts are equal.
            let config = DecodeConfig::paper(max_new_tokens, vec![], 0);
            let count = |gens: &[probable_core::sample::Generation]| {
                gens.iter().map(|g| g.tokens.len()).sum::<usize>()
            };
            crate::output::emit(&format!(
                "model: {} parameters · prompt 16 tokens · {max_new_tokens} new tokens · T=1, top-p 0.9\n{:>6}  {:>14}  {:>14}  {:>8}  {:>10}\n",
                params, "N", "batched tok/s", "bs-1 tok/s", "ratio", "GFLOP/s"
            ));
            for &n in &samples {
                if n == 0 {
                    bail!("--samples: 0 is not a sample count");
                }
                let t0 = Instant::now();
                let gens = pollster::block_on(sample_prompt(
                    &m,
                    &prompt,
                    0,
                    0..n,
                    &config,
                    n as usize,
                    &mut no_progress,
                ))?;
                let batched = count(&gens) as f64 / t0.elapsed().as_secs_f64();
                let k = loop_samples.min(n);
                let t1 = Instant::now();
                let mut tokens = 0;
                for s in 0..k {
                    let g = pollster::block_on(sample_prompt(
                        &m,
                        &prompt,
                        0,
                        s..s + 1,
                        &config,
                        1,
                        &mut no_progress,
                    ))?;
                    tokens += count(&g);
                }
                let single = tokens as f64 / t1.elapsed().as_secs_f64();
                // Tokens attend to the prompt plus, on average, half the new tokens.
                let flops = m
                    .config()
                    .flops_per_token(prompt.len() + max_new_tokens / 2);
                let gflops = flops * batched / 1e9;
                crate::output::emit(&format!(
                    "{n:>6}  {batched:>14.0}  {single:>14.0}  {:>7.1}x  {gflops:>10.2}\n",
                    batched / single
                ));
            }
        }
        What::Decode {
            model: path,
            shape,
            batch,
            context,
            iters,
            device: d,
            dtype,
        } => {
            let dev = device(d)?;
            let m = model(&path, shape, &dev, dtype.into())?;
            let prompt: Vec<i64> = (0..context as i64).map(|i| 3 + i % 100).collect();
            let sgemm = sgemm_gflops(&dev);
            crate::output::emit(&format!(
                "sgemm (1024³ matmul on this device): {sgemm:.1} GFLOP/s\n"
            ));
            crate::output::emit(&format!(
                "model: {} parameters · prompt of {context} tokens\n\
                 shared: rows read one copy of the prompt's keys/values (what sampling uses)\n\
                 copied: the prompt's keys/values copied into every row\n\
                 {:>6}  {:>12}  {:>14}  {:>10}  {:>8}  {:>12}  {:>8}\n",
                m.config().parameter_count(),
                "batch",
                "ms/step",
                "tokens/s",
                "GFLOP/s",
                "% sgemm",
                "copied ms",
                "ratio"
            ));
            for &b in &batch {
                let mut prompt_cache = m.new_cache();
                let _ = m.forward_cached(
                    Tensor::from_data(TensorData::new(prompt.clone(), [1, context]), &dev),
                    &mut prompt_cache,
                );
                let ids: Tensor<2, Int> =
                    Tensor::from_data(TensorData::new(vec![5i64; b], [b, 1]), &dev);
                // Room for the warm-up step and `iters` timed steps, as the sampler reserves.
                let shared = m.continuing_cache(&[(&prompt_cache, b)], iters + 1);
                let copied = prompt_cache
                    .clone()
                    .with_capacity(context + iters + 1)
                    .broadcast(b);
                let time_steps = |mut cache: KvCache| {
                    wait_for(m.forward_cached(ids.clone(), &mut cache));
                    let t = Instant::now();
                    for _ in 0..iters {
                        wait_for(m.forward_cached(ids.clone(), &mut cache));
                    }
                    t.elapsed().as_secs_f64() * 1e3 / iters as f64
                };
                let ms = time_steps(shared);
                let ms_copied = time_steps(copied);
                let tokens_per_s = b as f64 / ms * 1e3;
                let gflops = m.config().flops_per_token(context) * tokens_per_s / 1e9;
                crate::output::emit(&format!(
                    "{b:>6}  {ms:>12.2}  {tokens_per_s:>14.0}  {gflops:>10.2}  {:>7.0}%  {ms_copied:>12.2}  {:>7.2}x\n",
                    100.0 * gflops / sgemm,
                    ms_copied / ms
                ));
            }
        }
        What::Select {
            model: path,
            shape,
            batch,
            context,
            iters,
            device: d,
            dtype,
        } => {
            if iters == 0 {
                bail!("--iters must be at least 1");
            }
            let dev = device(d)?;
            let m = model(&path, shape, &dev, dtype.into())?;
            bench_select::run(&m, &dev, &batch, context, iters);
        }
        What::Train {
            model: path,
            shape,
            batch,
            seq,
            iters,
            device: d,
        } => {
            if seq < 2 || batch == 0 || iters == 0 {
                bail!("--seq must be at least 2, --batch and --iters at least 1");
            }
            let dev = device(d)?;
            // Training updates f32 parameters.
            bench_train::run(
                |ad| model(&path, shape, ad, WeightDtype::F32),
                &dev,
                batch,
                seq,
                iters,
            )?;
        }
    }
    Ok(())
}
