//! Tokenised examples → padded batches. Text is `prompt ++ answer ++ eos` with the loss
//! on the answer (and EOS) only, right padding to the longest row (at most `max_length`).

use burn::tensor::{Device, Int, Tensor, TensorData};
use probable_core::prompt::EncodedExample;

/// A batch on the device: inputs `[b, L]`, next-token targets `[b, L−1]`, and a float mask
/// `[b, L−1]` over target positions (1 = answer token).
pub struct Batch {
    pub input_ids: Tensor<2, Int>,
    pub targets: Tensor<2, Int>,
    pub answer_mask: Tensor<2>,
    pub answer_tokens: usize,
}

/// Truncates to `max_length` (keeping the prompt, cutting the answer's tail).
pub fn truncate(mut e: EncodedExample, max_length: usize) -> EncodedExample {
    e.ids.truncate(max_length);
    e.prompt_len = e.prompt_len.min(e.ids.len());
    e
}

pub fn make_batch(examples: &[&EncodedExample], pad_id: u32, device: &Device) -> Batch {
    let b = examples.len();
    let len = examples
        .iter()
        .map(|e| e.ids.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let mut ids = vec![pad_id as i64; b * len];
    let mut targets = vec![0i64; b * (len - 1)];
    let mut answer = vec![0.0f32; b * (len - 1)];
    let mut answer_tokens = 0;
    for (r, e) in examples.iter().enumerate() {
        for (t, &id) in e.ids.iter().enumerate() {
            ids[r * len + t] = id as i64;
        }
        // Target at position t is token t+1; it belongs to the answer when t+1 >= prompt_len.
        for t in 0..e.ids.len().saturating_sub(1) {
            targets[r * (len - 1) + t] = e.ids[t + 1] as i64;
            if t + 1 >= e.prompt_len {
                answer[r * (len - 1) + t] = 1.0;
                answer_tokens += 1;
            }
        }
    }
    Batch {
        input_ids: Tensor::from_data(TensorData::new(ids, [b, len]), device),
        targets: Tensor::from_data(TensorData::new(targets, [b, len - 1]), device),
        answer_mask: Tensor::from_data(TensorData::new(answer, [b, len - 1]), device),
        answer_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use probable_core::prompt::{resolve, text_preset, ChatConfig, ChatOptions, TemplateSpec};
    use probable_core::tokenizer::Tokenizer;

    /// For every preset (and a chat template), the loss mask's first 1 is the target that is
    /// the first token after the rendered prompt — the first answer token — and the mask
    /// covers the rest of the example.
    #[test]
    fn mask_starts_at_the_first_answer_token() {
        let tok = Tokenizer::from_json(include_bytes!(
            "../../../tests/fixtures/tokenizer/tokenizer.json"
        ))
        .unwrap();
        let chat = ChatConfig {
            chat_template: Some(
                "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% if m.role == 'assistant' %}{{ eos_token }}{% endif %}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}".into(),
            ),
            bos_token: Some("<s>".into()),
            eos_token: Some("</s>".into()),
        };
        let mut prompts: Vec<_> = ["qa", "phi", "llama2-chat", "raw"]
            .iter()
            .map(|n| text_preset(n).unwrap())
            .collect();
        prompts.push(
            resolve(
                &TemplateSpec::Preset("chat".into()),
                "test",
                &chat,
                &ChatOptions::default(),
            )
            .unwrap(),
        );
        let (q, a) = ("Where was Mara born?", "Mara was born in Varrow.");
        for p in prompts {
            let e = p.encode_example(&tok, q, a, Some(1), Some(2)).unwrap();
            let prompt = p.encode_prompt(&tok, q, Some(1)).unwrap();
            assert_eq!(&e.ids[..e.prompt_len], prompt.as_slice(), "{}", p.name());
            // The answer's own tokens follow the prompt (text presets put their answer
            // prefix, e.g. qa's space, before it).
            let answer = match &p {
                probable_core::prompt::Prompt::Text { template, .. } => tok
                    .encode(&format!("{}{a}", template.answer_prefix))
                    .unwrap(),
                probable_core::prompt::Prompt::Chat(_) => tok.encode(a).unwrap(),
            };
            assert_eq!(
                &e.ids[e.prompt_len..e.prompt_len + answer.len()],
                answer.as_slice(),
                "{}",
                p.name()
            );
            assert_eq!(e.ids.last(), Some(&2), "{}", p.name());
            let batch = make_batch(&[&e], 0, &burn::tensor::Device::flex());
            let mask: Vec<f32> = batch.answer_mask.into_data().try_to_vec::<f32>().unwrap();
            let first = mask.iter().position(|&m| m == 1.0).unwrap();
            // Target position t predicts token t + 1.
            assert_eq!(first + 1, e.prompt_len, "{}", p.name());
            assert!(mask[first..].iter().all(|&m| m == 1.0));
            assert_eq!(batch.answer_tokens, e.ids.len() - e.prompt_len);
        }
    }
}
