//! A broken model is an error, never a score: non-finite logits stop decoding with the
//! step named, and ids outside the vocabulary (prompt, EOS) are refused by name.

use burn::module::Param;
use burn::tensor::{Device, Int, Tensor, TensorData};
use probable_core::model::{CausalLm, ModelConfig, RandomInit};
use probable_core::sample::{
    no_progress, sample_prompt, select_tokens, DecodeConfig, SamplingError,
};

fn ids(t: Tensor<1, Int>) -> Vec<i64> {
    t.into_data().convert::<i64>().try_to_vec::<i64>().unwrap()
}

fn model(init_std: f32) -> CausalLm {
    let config = ModelConfig::from_hf_json(
        r#"{"model_type":"llama","vocab_size":64,"hidden_size":16,"intermediate_size":32,
            "num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,
            "max_position_embeddings":32,"bos_token_id":1,"eos_token_id":2}"#,
    )
    .unwrap();
    CausalLm::load(&config, &mut RandomInit::new(1, init_std), &Device::flex()).unwrap()
}

fn decode(m: &CausalLm, config: &DecodeConfig, prompt: &[u32]) -> Result<usize, SamplingError> {
    pollster::block_on(sample_prompt(
        m,
        prompt,
        0,
        0..4,
        config,
        4,
        &mut no_progress,
    ))
    .map(|g| g.len())
}

#[test]
fn rows_with_nan_or_infinity_are_marked_not_drawn() {
    let nan = f32::NAN;
    let (inf, ninf) = (f32::INFINITY, f32::NEG_INFINITY);
    let rows = [
        [0.1f32, 2.0, 0.3, 0.4],
        [0.1, nan, 0.3, 0.4],
        [0.1, 0.2, inf, 0.4],
        [ninf, ninf, ninf, ninf],
        // A masked token alone is a distribution.
        [ninf, 0.2, 0.3, 0.4],
    ];
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    let logits = Tensor::<2>::from_data(TensorData::new(flat, [5, 4]), &Device::flex());
    let u = Tensor::<2>::from_data(TensorData::new(vec![0.5f32; 5], [5, 1]), &Device::flex());
    for config in [
        DecodeConfig::greedy(4, vec![]),
        DecodeConfig::paper(4, vec![], 0),
    ] {
        let got = ids(select_tokens(logits.clone(), &config, u.clone()));
        assert!(got[0] >= 0 && got[4] >= 1, "{got:?}");
        assert_eq!(&got[1..4], &[-1, -1, -1], "{:?}: {got:?}", config.strategy);
    }
}

#[test]
fn a_model_with_non_finite_logits_is_an_error_naming_the_step() {
    // One NaN in the embedding row of token 6, which the prompt holds.
    let mut broken = model(0.02);
    let w = broken.embed_tokens.weight.val();
    let [rows, cols] = w.dims();
    let mut values = w.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    values[6 * cols + 3] = f32::NAN;
    broken.embed_tokens.weight = Param::from_tensor(Tensor::from_data(
        TensorData::new(values, [rows, cols]),
        &Device::flex(),
    ));
    for config in [
        DecodeConfig::greedy(4, vec![2]),
        DecodeConfig::paper(4, vec![2], 0),
    ] {
        assert_eq!(
            decode(&broken, &config, &[1, 5, 6]),
            Err(SamplingError::NonFiniteLogits { step: 0 })
        );
    }
    let fine = model(0.02);
    assert_eq!(
        decode(&fine, &DecodeConfig::paper(4, vec![2], 0), &[1, 5, 6]),
        Ok(4)
    );
}

#[test]
fn ids_outside_the_vocabulary_are_named() {
    let m = model(0.02);
    assert_eq!(
        decode(&m, &DecodeConfig::greedy(4, vec![2]), &[1, 64, 6]),
        Err(SamplingError::TokenOutOfRange {
            id: 64,
            position: 1,
            vocab: 64
        })
    );
    assert_eq!(
        decode(&m, &DecodeConfig::greedy(4, vec![2, 99]), &[1, 5]),
        Err(SamplingError::EosOutOfRange { id: 99, vocab: 64 })
    );
}
