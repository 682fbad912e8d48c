//! Greedy decoding with the KV cache: the deterministic reference point of an evaluation
//! (and what parity with `transformers`' `generate(do_sample=False)` is checked on).

use burn::tensor::{Int, Tensor, TensorData};

use super::CausalLm;

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
    let ids: Vec<i64> = prompt.iter().map(|&t| t as i64).collect();
    let mut input: Tensor<2, Int> =
        Tensor::from_data(TensorData::new(ids, [1, prompt.len()]), &device);
    let mut out = Vec::with_capacity(max_new_tokens);
    for _ in 0..max_new_tokens {
        let logits = model.forward_cached(input, &mut cache);
        let next = logits
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .expect("ids")[0];
        out.push(next as u32);
        if eos.contains(&(next as u32)) {
            break;
        }
        input = Tensor::from_data(TensorData::new(vec![next], [1, 1]), &device);
    }
    out
}
