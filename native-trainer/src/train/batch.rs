//! Tokenised examples → padded batches. Text is `prompt ++ answer ++ eos` with the loss
//! on the answer (and EOS) only, right padding to the longest row (at most `max_length`).

use burn::tensor::{Device, Int, Tensor, TensorData};
use probable_core::eval::EncodedExample;

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
