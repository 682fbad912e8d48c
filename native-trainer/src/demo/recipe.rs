//! Every number that defines the demo. `probable demo --from-scratch` follows this recipe;
//! two runs on one machine give identical bundles (the shipped ones' bytes are not
//! reproduced on every machine: see docs/demo.md).

/// Synthetic dataset: authors × questions, forget10 = the last 10 % of authors.
pub const AUTHORS: usize = 40;
pub const QUESTIONS_PER_AUTHOR: usize = 6;
pub const DATA_SEED: u64 = 0;
pub const FORGET_SPLIT: &str = "forget10";
pub const RETAIN_SPLIT: &str = "retain90";
pub const TOKENIZER_VOCAB: usize = 1024;

/// The finetuning config (TOML), with `{tokenizer}`, `{data}` and `{out}` filled in.
pub const FINETUNE: &str = r#"
[model]
tokenizer = "{tokenizer}"
init_std = 0.02

[model.architecture]
model_type = "llama"
vocab_size = 1024
hidden_size = 128
intermediate_size = 352
num_hidden_layers = 4
num_attention_heads = 4
num_key_value_heads = 2
max_position_embeddings = 128
bos_token_id = 1
eos_token_id = 2
pad_token_id = 0
tie_word_embeddings = true
rms_norm_eps = 1e-5

[data]
path = "{data}"
split = "full"
forget_split = "forget10"
retain_split = "retain90"
max_length = 64

[train]
lr = 2e-3
epochs = 40
batch_size = 16
grad_accum = 1
weight_decay = 0.01
warmup_epochs = 2.0
clip_norm = 1.0
seed = 0

[output]
dir = "{out}"
"#;

/// One unlearned variant: name, method, entropy optimisation, and config overrides.
pub struct Variant {
    pub name: &'static str,
    pub method: &'static str,
    pub entropy: bool,
    pub overrides: &'static [&'static str],
}

/// Unlearning hyperparameters shared by all variants (applied on top of `FINETUNE`).
pub const UNLEARN_COMMON: &[&str] = &[
    "train.epochs=5",
    "train.batch_size=8",
    "train.warmup_epochs=1.0",
    "unlearn.lambda_forget=0.3",
    "unlearn.lambda_retain=-0.25",
];

pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "ga",
        method: "ga",
        entropy: false,
        overrides: &["train.lr=5e-4"],
    },
    Variant {
        name: "ga-entropy",
        method: "ga",
        entropy: true,
        overrides: &["train.lr=5e-4"],
    },
    Variant {
        name: "gd",
        method: "gd",
        entropy: false,
        overrides: &["train.lr=1.5e-3", "unlearn.retain_weight=3"],
    },
    Variant {
        name: "gd-entropy",
        method: "gd",
        entropy: true,
        overrides: &["train.lr=1.5e-3", "unlearn.retain_weight=3"],
    },
    Variant {
        name: "npo",
        method: "npo",
        entropy: false,
        overrides: &["train.lr=5e-4", "unlearn.retain_weight=3"],
    },
    Variant {
        name: "npo-entropy",
        method: "npo",
        entropy: true,
        overrides: &["train.lr=5e-4", "unlearn.retain_weight=3"],
    },
];

/// Evaluation settings of `probable demo` (the paper's protocol, n = 256).
pub const SAMPLES: u32 = 256;
pub const MAX_NEW_TOKENS: usize = 40;
pub const LEAK_THRESHOLD: f64 = 0.5;
pub const LEAK_LEVEL: f64 = 0.1;
/// Retain questions scored greedily per model.
pub const RETAIN_QUESTIONS: usize = 48;
