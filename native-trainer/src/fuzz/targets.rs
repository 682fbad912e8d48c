//! The fuzz targets: every parser of untrusted input.

use burn::tensor::Device;
use probable_core::data::parse_qa;
use probable_core::eval::{merge_reports, EvalReport, EvalSummary};
use probable_core::model::{
    load_model, to_safetensors, CausalLm, ModelConfig, RandomInit, StorageDtype,
};

use super::engine::{signature, Target};
use super::share::{query_lookup, QuestionSet, Settings};
use crate::train::parse_config;

/// A model small enough that loading it is cheap (the safetensors target loads it on
/// every execution).
const TINY: &str = r#"{"model_type":"llama","vocab_size":16,"hidden_size":8,"intermediate_size":8,
"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,
"max_position_embeddings":16,"bos_token_id":1,"eos_token_id":2}"#;

const JSON_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"false",
    b"-1",
    b"0",
    b"1e999",
    b"-0.0",
    b"1.5",
    b"18446744073709551616",
    b"\"\\u0000\"",
    b"\"\\ud800\"",
    b"\xef\xbb\xbf",
    b"NaN",
];

fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn share_target() -> Target {
    Target {
        name: "share",
        seeds: vec![
            Settings::default().to_query().into_bytes(),
            b"?model=ga&set=custom&question=Who%20%3Cb%3E&reference=x&n=64&t=0.7&top_p=0.95&seed=3&alpha=0.05&tau=0.3&max_tokens=32&adaptive=1&adaptive_h=0.5&backend=cpu".to_vec(),
            b"set=retain&q=17&n=4096".to_vec(),
        ],
        dictionary: vec![
            b"&", b"=", b"%", b"%zz", b"%00", b"%C3%A9", b"+", b"?", b"model=", b"set=custom",
            b"set=forget", b"q=", b"question=", b"reference=", b"n=", b"t=", b"top_p=",
            b"seed=", b"alpha=", b"tau=", b"max_tokens=", b"adaptive=", b"adaptive_h=",
            b"backend=cpu", b"1e308", b"-0", b"NaN", b"inf", b"4097", b"18446744073709551616",
        ],
        run: Box::new(|bytes| {
            let (s, errors) = Settings::from_query(query_lookup(&lossy(bytes)));
            if !errors.is_empty() {
                return format!("err:{}", errors[0].key);
            }
            // Property: accepted settings survive their own link unchanged.
            let (back, again) = Settings::from_query(query_lookup(&s.to_query()));
            // What a link does not carry because it is unused: the index of a custom
            // question, the text of a split question, the threshold with adaptive off.
            let mut expect = s.clone();
            if s.set == QuestionSet::Custom {
                expect.question_index = 0;
            } else {
                expect.question.clear();
                expect.reference.clear();
            }
            if !s.adaptive {
                expect.adaptive_threshold = Settings::default().adaptive_threshold;
            }
            assert!(again.is_empty(), "{:?} re-parses with {again:?}", s.to_query());
            assert_eq!(back, expect, "link {:?}", s.to_query());
            "ok".into()
        }),
    }
}

fn qa_target() -> Target {
    Target {
        name: "qa",
        seeds: vec![
            b"{\"question\": \"Where?\", \"answer\": \"In Rome.\", \"keywords\": [\"Rome\"], \"id\": 3}\n".to_vec(),
            b"[{\"prompt\": \"p\", \"response\": \"r\"}, {\"question\": \"q\", \"answer\": \"a\"}]".to_vec(),
            b"[{\"question\": \"q\", \"answer\": \"a\"}]\n[{\"question\": \"\\u5317\", \"answer\": \"b\"}]\n".to_vec(),
        ],
        dictionary: [JSON_TOKENS, &[b"\"question\"", b"\"answer\"", b"\"keywords\"", b"\"id\"", b"\"prompt\"", b"\"response\"", b"\n"]].concat(),
        run: Box::new(|bytes| signature(&parse_qa("fuzz", &lossy(bytes)))),
    }
}

fn config_target() -> Target {
    let real = [
        TINY.to_string(),
        r#"{"architectures":["PhiForCausalLM"],"model_type":"phi","vocab_size":64,"hidden_size":16,"intermediate_size":32,"num_hidden_layers":2,"num_attention_heads":4,"partial_rotary_factor":0.5,"layer_norm_eps":1e-5,"hidden_act":"gelu_new","rope_theta":10000.0,"max_position_embeddings":64,"tie_word_embeddings":false}"#.to_string(),
        r#"{"model_type":"llama","vocab_size":32,"hidden_size":16,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,"rms_norm_eps":1e-6,"rope_parameters":{"rope_type":"default","rope_theta":500000.0},"eos_token_id":[1,2],"head_dim":8}"#.to_string(),
    ];
    Target {
        name: "config-json",
        seeds: real.iter().map(|s| s.as_bytes().to_vec()).collect(),
        dictionary: [
            JSON_TOKENS,
            &[
                b"\"vocab_size\"",
                b"\"hidden_size\"",
                b"\"num_attention_heads\"",
                b"\"num_key_value_heads\"",
                b"\"head_dim\"",
                b"\"rope_theta\"",
                b"\"rms_norm_eps\"",
                b"\"partial_rotary_factor\"",
                b"\"rope_parameters\"",
                b"\"eos_token_id\"",
                b"\"model_type\"",
                b"\"phi\"",
                b"\"llama\"",
                b"4294967296",
                b"0.0",
            ],
        ]
        .concat(),
        run: Box::new(|bytes| signature(&ModelConfig::from_hf_json(&lossy(bytes)))),
    }
}

fn safetensors_target() -> Target {
    let config = ModelConfig::from_hf_json(TINY).expect("valid");
    let model =
        CausalLm::load(&config, &mut RandomInit::new(0, 0.1), &Device::flex()).expect("loads");
    let seeds = [StorageDtype::F32, StorageDtype::F16, StorageDtype::BF16]
        .iter()
        .map(|&d| to_safetensors(&model.export(), d))
        .collect();
    Target {
        name: "safetensors",
        seeds,
        dictionary: vec![
            b"\"dtype\"",
            b"\"F32\"",
            b"\"F16\"",
            b"\"BF16\"",
            b"\"I64\"",
            b"\"shape\"",
            b"\"data_offsets\"",
            b"\"__metadata__\"",
            b"[0,0]",
            b"[8,8]",
            b"[16,8]",
            b"\xff\xff\xff\xff\xff\xff\xff\x7f",
            b"\x00\x00\x00\x00\x00\x00\x00\x00",
            b"\"model.norm.weight\"",
            b"\"lm_head.weight\"",
            b"\x00\x00\xc0\x7f",
        ],
        run: Box::new(|bytes| signature(&load_model(TINY, bytes, &Device::flex()))),
    }
}

/// The header JSON of a safetensors file, mutated on its own (byte mutations of a whole
/// file rarely get past its length prefix): each input is framed with its length and
/// followed by the tiny model's data, so shapes, dtypes and offsets are what is explored.
fn safetensors_header_target() -> Target {
    let config = ModelConfig::from_hf_json(TINY).expect("valid");
    let model =
        CausalLm::load(&config, &mut RandomInit::new(0, 0.1), &Device::flex()).expect("loads");
    let file = to_safetensors(&model.export(), StorageDtype::F32);
    let n = u64::from_le_bytes(file[..8].try_into().expect("8 bytes")) as usize;
    let header = file[8..8 + n].to_vec();
    let data = file[8 + n..].to_vec();
    let f16 = to_safetensors(&model.export(), StorageDtype::F16);
    let n16 = u64::from_le_bytes(f16[..8].try_into().expect("8 bytes")) as usize;
    Target {
        name: "safetensors-header",
        seeds: vec![header, f16[8..8 + n16].to_vec()],
        dictionary: [
            JSON_TOKENS,
            &[
                b"\"dtype\"",
                b"\"F32\"",
                b"\"F16\"",
                b"\"BF16\"",
                b"\"F64\"",
                b"\"I64\"",
                b"\"BOOL\"",
                b"\"shape\"",
                b"\"data_offsets\"",
                b"\"__metadata__\"",
                b"[0,0]",
                b"[8,8]",
                b"[16,8]",
                b"[8]",
                b"[]",
                b"[0,4]",
                b"\"model.norm.weight\"",
                b"\"lm_head.weight\"",
                b"\"model.embed_tokens.weight\"",
                b"4294967295",
            ],
        ]
        .concat(),
        run: Box::new(move |h| {
            let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
            bytes.extend_from_slice(h);
            bytes.extend_from_slice(&data);
            signature(&load_model(TINY, &bytes, &Device::flex()))
        }),
    }
}

const RUN_TOML: &str = r#"[model]
tokenizer = "tokenizer.json"
[model.architecture]
model_type = "llama"
vocab_size = 512
hidden_size = 64
[data]
path = "data"
max_length = 96
[train]
lr = 3e-3
epochs = 3
batch_size = 16
[unlearn]
method = "npo"
entropy_positions = "all"
[output]
dir = "runs/x"
save_every = 2
"#;

fn toml_target() -> Target {
    let mut seeds: Vec<Vec<u8>> = crate::train::config::PRESETS
        .iter()
        .map(|(_, t)| t.as_bytes().to_vec())
        .collect();
    seeds.push(RUN_TOML.as_bytes().to_vec());
    seeds.push(format!("{RUN_TOML}\0train.lr=1e-4\0output.dir=runs/y").into_bytes());
    Target {
        name: "toml",
        seeds,
        dictionary: vec![
            b"[",
            b"]",
            b"[[",
            b"=",
            b"\"",
            b"'''",
            b"\n",
            b"#",
            b".",
            b"\0",
            b"train.",
            b"model.",
            b"unlearn.",
            b"lr",
            b"epochs",
            b"batch_size",
            b"grad_accum",
            b"nan",
            b"inf",
            b"-1",
            b"1e400",
            b"9999999999999999999999",
            b"true",
            b"{}",
            b"[model.architecture]",
            b"method = \"ga\"",
            b"from = \"x\"",
        ],
        // Input: TOML text, then NUL-separated `--set` overrides.
        run: Box::new(|bytes| {
            let text = lossy(bytes);
            let mut parts = text.split('\0');
            let body = parts.next().unwrap_or("");
            let overrides: Vec<String> = parts.map(str::to_string).collect();
            signature(&parse_config("fuzz", body, &overrides))
        }),
    }
}

fn report_target(seeds: Vec<Vec<u8>>) -> Target {
    Target {
        name: "report",
        seeds,
        dictionary: [
            JSON_TOKENS,
            &[
                b"\"questions\"",
                b"\"shard\"",
                b"\"0/2\"",
                b"\"1/2\"",
                b"\"samples\"",
                b"\"score\"",
                b"\"bounds\"",
                b"\"binary\"",
                b"\"merged\"",
                b"<script>",
                b"\"ids\"",
            ],
        ]
        .concat(),
        // Parsing as `report merge` and `show` do, then everything they do with a report:
        // summary, merge, table, HTML page.
        run: Box::new(|bytes| {
            let r: EvalReport = match serde_json::from_slice(bytes) {
                Ok(r) => r,
                Err(e) => return signature::<(), _>(&Err(e)),
            };
            // The check `report show` and `rescore` apply to stored numbers.
            let _ = r.check();
            let _ = EvalSummary::over(&r.questions, &r.config.bounds, r.config.leak_level);
            let merged = merge_reports(vec![r.clone()], true);
            let _ = crate::html::report_html(&r);
            let _ = crate::report_table::table(&r);
            format!("parsed:{}", signature(&merged))
        }),
    }
}

/// Chat templates as `eval --template chat` meets them in a downloaded bundle: parsed and
/// rendered with the work budget on (a smaller one than [`probable_core::prompt::chat_template::FUEL`],
/// so that runaway loops cost milliseconds per execution; the mechanism is the same).
/// Property: never a panic, and what renders stays within the output cap.
fn chat_template_target() -> Target {
    use probable_core::prompt::chat_template::{render_with_fuel, MAX_OUTPUT};
    use probable_core::prompt::{Message, RenderContext};
    let seeds = [
        "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}<<SYS>>{{ m.content }}<</SYS>>{% elif m.role == 'user' %}[INST] {{ m.content.strip() }} [/INST]{% else %}{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}",
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
        "{{- bos_token }}{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = '' %}{%- endif %}{{- '<|start_header_id|>system<|end_header_id|>\n\n' }}{{- 'Today Date: ' + date_string + '\n\n' }}{{- system_message }}{{- '<|eot_id|>' }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}",
        "{% macro r(n) %}{% if n > 0 %}{{ r(n - 1) }}{{ n }}{% endif %}{% endmacro %}{{ r(5) }}{{ messages|tojson(indent=2) }}{{ '%s'|format(messages|length) }}{{ 'x'.title() }}{{ '3.7'|int }}",
        "{% for i in range(3) %}{% for j in range(3) %}{{ i * j }}{% endfor %}{% endfor %}{{ raise_exception('no') if messages|length > 9 }}{{ messages[-1].content.split(' ')|join(',') }}",
    ];
    Target {
        name: "chat-template",
        seeds: seeds.iter().map(|s| s.as_bytes().to_vec()).collect(),
        dictionary: vec![
            b"{{",
            b"}}",
            b"{%",
            b"%}",
            b"{#",
            b"#}",
            b"{%-",
            b"-%}",
            b"for ",
            b" in ",
            b"endfor",
            b"if ",
            b"endif",
            b"else",
            b"set ",
            b"macro ",
            b"endmacro",
            b"range(",
            b"range(100000)",
            b"messages",
            b"m.content",
            b"message['content']",
            b"|tojson",
            b"|length",
            b"|join",
            b"|int",
            b"|format(",
            b"*100000",
            b"~",
            b"+",
            b"loop.index",
            b".title()",
            b".split(",
            b".strip()",
            b"raise_exception(",
            b"strftime_now('%Y')",
            b"bos_token",
            b"add_generation_prompt",
            b"recursive",
            b"loop(",
            b"[1:]",
            b"(",
            b")",
            b"'",
            b"\"",
            b"namespace(",
            b"**",
            b"10**9",
        ],
        run: Box::new(|bytes| {
            let source = lossy(bytes);
            let messages = [
                Message::new("system", "You are a helpful assistant."),
                Message::new("user", "Who wrote it?"),
            ];
            let ctx = RenderContext {
                bos_token: Some("<s>"),
                eos_token: Some("</s>"),
                date_string: Some("10 Apr 2025"),
                add_generation_prompt: true,
                now: None,
            };
            let r = render_with_fuel("fuzz", &source, &messages, &ctx, 50_000);
            // A finer outcome than the error kind: the engine's message (first words) or
            // the rendered length's order of magnitude, so that more inputs join the corpus.
            let words = |m: &str| -> String {
                m.split(|c: char| !c.is_ascii_alphabetic())
                    .filter(|w| !w.is_empty())
                    .take(6)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            match &r {
                Ok(text) => {
                    assert!(text.len() <= MAX_OUTPUT, "{} bytes rendered", text.len());
                    format!("ok:{}", usize::BITS - text.len().leading_zeros())
                }
                Err(probable_core::prompt::PromptError::Syntax { message, .. }) => {
                    format!("syntax:{}", words(message))
                }
                Err(probable_core::prompt::PromptError::Render { message, .. }) => {
                    format!(
                        "render:{}",
                        words(message.split(':').nth(1).unwrap_or(message))
                    )
                }
                Err(e) => signature::<(), _>(&Err(e)),
            }
        }),
    }
}

/// An evaluation journal as `eval --resume` reads it: header line, then one question per
/// line, possibly torn. Each input is read twice: against its own header (so the question
/// lines are checked) and against the seed evaluation's (so header differences are).
fn journal_target() -> Target {
    use crate::journal::{parse_journal, Header};
    let one = include_str!("../../fuzz/corpus/journal/seed-one-prompt.jsonl");
    let two = include_str!("../../fuzz/corpus/journal/seed-two-prompts.jsonl");
    let header: Header = serde_json::from_str(one.lines().next().expect("a header line"))
        .expect("the seed journal's header is valid");
    let torn = &one[..one.len() - 7];
    let head_only = &one[..=one.find('\n').expect("a header line")];
    let seeds = [one, two, torn, head_only]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    Target {
        name: "journal",
        seeds,
        dictionary: [
            JSON_TOKENS,
            &[
                b"\n",
                b"\"index\"",
                b"\"samples\"",
                b"\"score\"",
                b"\"bounds\"",
                b"\"n\"",
                b"\"variant\"",
                b"\"prompt_variants\"",
                b"\"identity\"",
                b"\"questions\"",
                b"\"journal\"",
                b"\"model\"",
                b"\"./public/models/npo\"",
                b"\"leaks\"",
            ],
        ]
        .concat(),
        run: Box::new(move |bytes| {
            let text = lossy(bytes);
            let against_seed = parse_journal("fuzz", &text, &header);
            let own: Option<Header> = text
                .lines()
                .next()
                .and_then(|l| serde_json::from_str(l).ok());
            let against_own = own.map(|h| parse_journal("fuzz", &text, &h));
            if let Some(Ok((done, complete))) = &against_own {
                assert!(*complete <= text.len());
                assert!(done.iter().all(|q| q.samples.len() == q.bounds.n));
            }
            format!(
                "{}|{}",
                signature(&against_seed.map(|_| ())),
                against_own.map_or("noheader".into(), |r| signature(&r.map(|_| ())))
            )
        }),
    }
}

pub const NAMES: [&str; 9] = [
    "share",
    "qa",
    "config-json",
    "safetensors",
    "safetensors-header",
    "toml",
    "report",
    "chat-template",
    "journal",
];

/// The target `name`, with extra seeds (a committed corpus) added.
pub fn target(name: &str, extra: Vec<Vec<u8>>) -> Option<Target> {
    let mut t = match name {
        "share" => share_target(),
        "qa" => qa_target(),
        "config-json" => config_target(),
        "safetensors" => safetensors_target(),
        "safetensors-header" => safetensors_header_target(),
        "toml" => toml_target(),
        "report" => report_target(Vec::new()),
        "chat-template" => chat_template_target(),
        "journal" => journal_target(),
        _ => return None,
    };
    t.seeds.extend(extra);
    Some(t)
}
