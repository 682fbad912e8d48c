//! Greedy decoding with the KV cache: the deterministic reference point of an evaluation
//! (and what parity with `transformers`' `generate(do_sample=False)` is checked on).

use burn::tensor::{Int, Tensor};

use super::CausalLm;
use crate::tensor::host::{ids_of, upload_ids};

/// Appends up to `max_new_tokens` argmax tokens to `prompt`, stopping after any id in
/// `eos` (which is included in the output). Returns the new tokens only.
pub fn greedy_decode(
    model: &CausalLm,
    prompt: &[u32],
    max_new_tokens: usize,
    eos: &[u32],
) -> Vec<u32> {
    assert!(
        !prompt.is_empty(),
        "greedy decoding needs at least one prompt token"
    );
    let device = model.embed_tokens.weight.device();
    let mut cache = model.new_cache();
    let mut input: Tensor<2, Int> = upload_ids(prompt, [1, prompt.len()], &device);
    let mut out = Vec::with_capacity(max_new_tokens);
    for _ in 0..max_new_tokens {
        let logits = model.forward_cached(input, &mut cache);
        let next = ids_of(logits.argmax(1).into_data()).expect("ids")[0];
        out.push(next);
        if eos.contains(&next) {
            break;
        }
        input = upload_ids(&[next], [1, 1], &device);
    }
    out
}
