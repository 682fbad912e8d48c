//! Rows that continue shared prompts (`KvCache::continuing`): the logits of every row are
//! those of decoding its sequence alone with a plain cache (the path checked against
//! transformers), for prompts of different lengths in one batch, after rows are dropped,
//! and for every architecture's attention variant (GQA, partial rotary, dynamic, linear
//! and llama3 rope, q/k norms, a sliding window shorter than the sequences). For llama-tiny
//! they are also those of a full forward pass (with dynamic rope they are not, in
//! transformers either: cached keys keep the angles they were computed with).

use burn::tensor::{Device, Tensor, TensorData};
use probable_core::model::{load_model, CausalLm, KvCache};
use probable_tests::repo_root;

fn fixture(name: &str) -> CausalLm {
    let dir = repo_root().join("tests/fixtures/models").join(name);
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
    load_model(&config, &weights, &Device::flex()).unwrap()
}

fn to_vec(t: Tensor<2>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// Last-position logits of a plain full forward pass over `ids`.
fn full_forward(model: &CausalLm, ids: &[u32]) -> Vec<f32> {
    let device = Device::flex();
    let data: Vec<i64> = ids.iter().map(|&t| t as i64).collect();
    let logits = model.forward(
        Tensor::from_data(TensorData::new(data, [1, ids.len()]), &device),
        None,
    );
    let [_, s, v] = logits.dims();
    to_vec(logits.slice([0..1, s - 1..s, 0..v]).reshape([1, v]))
}

fn prefill(model: &CausalLm, prompt: &[u32]) -> KvCache {
    let mut cache = model.new_cache();
    let data: Vec<i64> = prompt.iter().map(|&t| t as i64).collect();
    let _ = model.forward_cached(
        Tensor::from_data(TensorData::new(data, [1, prompt.len()]), &Device::flex()),
        &mut cache,
    );
    cache
}

#[test]
fn continuations_match_the_full_forward_pass() {
    // Prompt lengths 7, 3 and 11 around the sliding window (6) of qwen2-swa-tiny.
    let prompts: [&[u32]; 3] = [
        &[1, 17, 33, 5, 90, 61, 8],
        &[1, 44, 12],
        &[1, 3, 250, 7, 19, 100, 4, 66, 21, 9, 13],
    ];
    let rows_per_prompt = [2usize, 1, 3];
    for name in [
        "llama-tiny",
        "llama-tiny-tied",
        "llama-dynamic-tiny",
        "llama-linear-tiny",
        "llama3-tiny",
        "mistral-tiny",
        "phi-tiny",
        "qwen2-tiny",
        "qwen2-swa-tiny",
        "qwen3-tiny",
    ] {
        let model = fixture(name);
        let vocab = model.config().vocab_size as u32;
        let caches: Vec<KvCache> = prompts.iter().map(|p| prefill(&model, p)).collect();
        let shared: Vec<(&KvCache, usize)> = caches.iter().zip(rows_per_prompt).collect();
        let mut cache = model.continuing_cache(&shared, 6);
        // Each row's sequence so far, and its own plain batch-1 cache.
        let mut seqs: Vec<Vec<u32>> = prompts
            .iter()
            .zip(rows_per_prompt)
            .flat_map(|(p, n)| std::iter::repeat_n(p.to_vec(), n))
            .collect();
        let mut alone: Vec<KvCache> = seqs.iter().map(|s| prefill(&model, s)).collect();
        for step in 0..6u32 {
            if step == 3 {
                // Rows 1, 2 (all of prompt 1) and 4 finish.
                let keep = [0, 3, 5];
                cache = cache.select_rows(&keep);
                seqs = keep.iter().map(|&r| seqs[r].clone()).collect();
                alone = keep.iter().map(|&r| alone[r].clone()).collect();
            }
            let next: Vec<u32> = (0..seqs.len() as u32)
                .map(|r| 3 + (r * 41 + step * 17) % (vocab - 3))
                .collect();
            for (s, &t) in seqs.iter_mut().zip(&next) {
                s.push(t);
            }
            let ids: Vec<i64> = next.iter().map(|&t| t as i64).collect();
            let got = to_vec(model.forward_cached(
                Tensor::from_data(TensorData::new(ids, [next.len(), 1]), &Device::flex()),
                &mut cache,
            ));
            let v = vocab as usize;
            for (r, seq) in seqs.iter().enumerate() {
                let one = Tensor::from_data(
                    TensorData::new(vec![next[r] as i64], [1, 1]),
                    &Device::flex(),
                );
                let want = to_vec(model.forward_cached(one, &mut alone[r]));
                if name == "llama-tiny" {
                    let full = full_forward(&model, seq);
                    let worst = full
                        .iter()
                        .zip(&want)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0f32, f32::max);
                    assert!(worst < 1e-4, "plain cache vs full forward: {worst}");
                }
                let worst = got[r * v..(r + 1) * v]
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    worst < 1e-4,
                    "{name}, step {step}, row {r}: logits differ by {worst}"
                );
            }
        }
    }
}
