//! Additive attention masks: causal, padding, and sliding-window.
//!
//! Query `i` (absolute position `past + i`) may see key `j` iff `j ≤ past + i`, the key
//! is not padding, and — in a sliding-window layer of width `w` — `past + i − j < w`
//! (transformers' `kv_idx > q_idx − sliding_window`), so every query sees at most `w`
//! keys, itself included.

use burn::tensor::{Device, Tensor, TensorData};

/// Large negative additive mask value: `exp` of it underflows to 0 without the NaNs that
/// `-inf` produces in fully masked rows.
pub const MASKED: f32 = -1e30;

/// Whether key `key` lies outside the window of width `window` that ends at `query`
/// (transformers' `kv_idx > q_idx − sliding_window`, negated; a future key is not outside).
fn outside_window(query: usize, key: usize, window: usize) -> bool {
    query - key.min(query) >= window
}

/// The mask of `len` new queries after `past` cached positions, `[rows, 1, len, past + len]`,
/// where `rows` is the padding mask's batch (1 without one: it broadcasts). `None` when no
/// key needs hiding, so single-token decoding without a window skips the addition.
pub fn attention_bias(
    past: usize,
    len: usize,
    window: Option<usize>,
    padding: Option<&[Vec<u8>]>,
    device: &Device,
) -> Option<Tensor<4>> {
    let total = past + len;
    let window_hides = window.is_some_and(|w| total > w);
    if len == 1 && !window_hides && padding.is_none() {
        return None;
    }
    let rows = padding.map_or(1, <[Vec<u8>]>::len);
    let mut bias = vec![0.0f32; rows * len * total];
    for row in 0..rows {
        for i in 0..len {
            let q = past + i;
            for j in 0..total {
                let future = j > q;
                let outside = window.is_some_and(|w| outside_window(q, j, w));
                let padded = padding.is_some_and(|m| m[row][j] == 0);
                if future || outside || padded {
                    bias[(row * len + i) * total + j] = MASKED;
                }
            }
        }
    }
    Some(Tensor::from_data(
        TensorData::new(bias, [rows, 1, len, total]),
        device,
    ))
}

/// The window's mask for one query at absolute position `query` over keys `0..total`,
/// `[1, 1, 1, total]`; `None` when the window hides none of them.
pub fn window_bias(
    query: usize,
    total: usize,
    window: usize,
    device: &Device,
) -> Option<Tensor<4>> {
    if query < window {
        return None;
    }
    let bias: Vec<f32> = (0..total)
        .map(|j| {
            if outside_window(query, j, window) {
                MASKED
            } else {
                0.0
            }
        })
        .collect();
    Some(Tensor::from_data(
        TensorData::new(bias, [1, 1, 1, total]),
        device,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visible(past: usize, len: usize, window: Option<usize>) -> Vec<Vec<bool>> {
        let t = attention_bias(past, len, window, None, &Device::flex());
        let total = past + len;
        let Some(t) = t else {
            return vec![vec![true; total]; len];
        };
        let v = t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        v.chunks(total)
            .map(|r| r.iter().map(|&x| x == 0.0).collect())
            .collect()
    }

    #[test]
    fn sliding_window_keeps_the_last_w_keys() {
        let v = visible(0, 5, Some(3));
        let want: Vec<Vec<bool>> = (0..5)
            .map(|i| (0..5).map(|j| j <= i && i - j < 3).collect())
            .collect();
        assert_eq!(v, want);
        // Decoding position 6 with 6 cached positions: keys 4, 5, 6 only.
        assert_eq!(
            visible(6, 1, Some(3)),
            vec![vec![false, false, false, false, true, true, true]]
        );
        // Within the window no mask is needed for one new token.
        assert!(attention_bias(2, 1, Some(3), None, &Device::flex()).is_none());
    }
}
