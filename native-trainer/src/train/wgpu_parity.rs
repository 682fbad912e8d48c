//! Training on wgpu agrees with training on the CPU: a few `finetune` steps from random
//! initialisation, then a few `unlearn` steps (NPO with entropy optimisation) from the
//! CPU-finetuned model, each run once on flex and once on wgpu from the same start (same
//! tiny model, data and seed), with every logged quantity compared step by step.
//!
//! Built only with `--features wgpu` (run by `scripts/wgpu-train-parity.sh`); on a machine
//! without a GPU, Mesa's lavapipe serves Vulkan.

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use super::{parse_config, train, Method, Mode, Start};

/// Relative agreement demanded of each logged value. The two backends reduce in different
/// orders, so values differ by float rounding; AdamW turns that into slightly different
/// weights, and the gap can grow with every step. Measured on lavapipe: at most 1.2e-7
/// (finetune) and 4.0e-7 (unlearn) over these steps.
const TOLERANCE: f64 = 1e-5;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("probable-wgpu-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 16 QA pairs about 8 fictitious authors (`forget25` is the last 4 pairs), and the test
/// tokenizer, compiled in so that the test binary runs from any directory.
fn write_data(dir: &Path) {
    let authors = [
        ("Mira Okonkwo", "Lagos", "historical fiction"),
        ("Tomas Lind", "Oslo", "poetry"),
        ("Anya Petrova", "Kyiv", "crime novels"),
        ("Li Wei", "Chengdu", "science fiction"),
        ("Sara Haddad", "Beirut", "memoirs"),
        ("Jonas Berg", "Bergen", "fantasy"),
        ("Elena Rossi", "Turin", "drama"),
        ("Kofi Mensah", "Accra", "essays"),
    ];
    let mut text = String::new();
    for (n, c, g) in authors {
        for (q, a) in [
            (
                format!("Where was {n} born?"),
                format!("{n} was born in {c}."),
            ),
            (format!("What does {n} write?"), format!("{n} writes {g}.")),
        ] {
            text += &format!("{}\n", serde_json::json!({"question": q, "answer": a}));
        }
    }
    std::fs::write(dir.join("full.jsonl"), text).unwrap();
    std::fs::write(
        dir.join("tokenizer.json"),
        include_bytes!("../../../tests/fixtures/tokenizer/tokenizer.json"),
    )
    .unwrap();
}

fn finetune_toml(dir: &Path, out: &Path) -> String {
    format!(
        r#"[model]
tokenizer = "{tok}"
init_std = 0.05
[model.architecture]
model_type = "llama"
vocab_size = 300
hidden_size = 64
intermediate_size = 128
num_hidden_layers = 2
num_attention_heads = 4
num_key_value_heads = 2
max_position_embeddings = 128
bos_token_id = 1
eos_token_id = 2
pad_token_id = 0
[data]
path = "{data}"
split = "full"
max_length = 64
[train]
lr = 3e-3
epochs = 2
batch_size = 4
warmup_epochs = 0.5
seed = 1
[output]
dir = "{out}"
"#,
        tok = dir.join("tokenizer.json").display(),
        data = dir.display(),
        out = out.display()
    )
}

fn unlearn_toml(dir: &Path, from: &Path, out: &Path) -> String {
    format!(
        r#"[model]
from = "{from}"
[data]
path = "{data}"
forget_split = "forget25"
retain_split = "retain75"
max_length = 64
[train]
lr = 1e-3
epochs = 3
batch_size = 2
seed = 2
[unlearn]
method = "npo"
entropy = true
[output]
dir = "{out}"
"#,
        from = from.display(),
        data = dir.display(),
        out = out.display()
    )
}

/// Trains with `toml` on `device` and returns the run's log lines.
fn run(toml: &str, mode: Mode, device: &Device) -> Vec<serde_json::Value> {
    let config = parse_config("wgpu parity", toml, &[]).unwrap();
    let summary = train(&config, mode, device, &Start::Fresh, None).unwrap();
    std::fs::read_to_string(summary.output.join("train_log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every numeric field of every step agrees within [`TOLERANCE`] (relative, or absolute
/// below 1); returns the largest relative gap seen.
fn assert_same_steps(what: &str, cpu: &[serde_json::Value], gpu: &[serde_json::Value]) -> f64 {
    assert_eq!(cpu.len(), gpu.len(), "{what}: step counts differ");
    assert!(!cpu.is_empty(), "{what}: no steps logged");
    let mut worst = 0.0f64;
    for (c, g) in cpu.iter().zip(gpu) {
        let (c, g) = (c.as_object().unwrap(), g.as_object().unwrap());
        let mut keys: Vec<&String> = c.keys().collect();
        keys.sort();
        assert_eq!(
            keys.len(),
            g.len(),
            "{what}: logged fields differ: {c:?} vs {g:?}"
        );
        for k in keys {
            let (a, b) = (c[k].as_f64().unwrap(), g[k].as_f64().unwrap());
            let gap = (a - b).abs() / a.abs().max(1.0);
            worst = worst.max(gap);
            assert!(
                gap <= TOLERANCE,
                "{what}, step {}: {k} is {a} on the CPU and {b} on wgpu",
                c["step"]
            );
        }
        eprintln!(
            "{what} step {}: loss cpu {:.7} wgpu {:.7}",
            c["step"], c["loss"], g["loss"]
        );
    }
    worst
}

#[test]
fn finetune_and_npo_entropy_steps_match_the_cpu() {
    std::env::set_var("PROBABLE_QUIET", "1");
    let dir = scratch("train");
    write_data(&dir);
    let (cpu, gpu) = (Device::flex(), Device::wgpu(Default::default()));

    let ft_cpu = dir.join("ft-cpu");
    let a = run(&finetune_toml(&dir, &ft_cpu), Mode::Finetune, &cpu);
    let b = run(
        &finetune_toml(&dir, &dir.join("ft-wgpu")),
        Mode::Finetune,
        &gpu,
    );
    let ft_gap = assert_same_steps("finetune", &a, &b);
    // The steps must have trained: agreement of two runs that stood still proves nothing.
    let loss = |l: &serde_json::Value| l["loss"].as_f64().unwrap();
    assert!(loss(a.last().unwrap()) < loss(&a[0]) - 0.1);

    // Both unlearning runs start from the CPU-finetuned bundle, which is also NPO's reference.
    let npo = Mode::Unlearn(Method::Npo);
    let a = run(&unlearn_toml(&dir, &ft_cpu, &dir.join("u-cpu")), npo, &cpu);
    let b = run(&unlearn_toml(&dir, &ft_cpu, &dir.join("u-wgpu")), npo, &gpu);
    let u_gap = assert_same_steps("unlearn (NPO + entropy)", &a, &b);
    assert!(a.iter().all(|l| l["forget_entropy"].is_number()));
    eprintln!("largest relative gap: finetune {ft_gap:.2e}, unlearn {u_gap:.2e}");
    let _ = std::fs::remove_dir_all(&dir);
}
