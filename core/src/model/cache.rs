//! The key/value cache of incremental decoding: one `[batch, kv_heads, capacity, head_dim]`
//! buffer pair per layer, of which the first `len` positions are filled. A prompt's cache
//! is computed once (batch 1), given room for the whole generation
//! ([`KvCache::with_capacity`]) and broadcast to the n sample rows; each step then writes
//! its keys and values in place instead of concatenating — a `cat` copied the whole cache
//! every step. Finished rows can be dropped with [`KvCache::select_rows`].

use burn::tensor::{Int, Tensor};

#[derive(Debug, Clone, Default)]
pub struct KvCache {
    pub(crate) layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    len: usize,
}

/// Extends a `[batch, heads, positions, head_dim]` buffer with zeros to at least `to`
/// positions (unchanged when it already has them).
fn pad_positions(t: Tensor<4>, to: usize) -> Tensor<4> {
    let [b, h, p, d] = t.dims();
    if p >= to {
        return t;
    }
    let zeros = Tensor::zeros([b, h, to - p, d], &t.device());
    Tensor::cat(vec![t, zeros], 2)
}

impl KvCache {
    pub fn new(num_layers: usize) -> Self {
        Self {
            layers: vec![None; num_layers],
            len: 0,
        }
    }

    /// Number of cached positions.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn batch_size(&self) -> usize {
        self.layers
            .iter()
            .flatten()
            .next()
            .map_or(0, |(k, _)| k.dims()[0])
    }

    pub(crate) fn advance(&mut self, by: usize) {
        self.len += by;
    }

    /// Writes the new keys/values `[batch, kv_heads, s, head_dim]` of layer `i` after the
    /// cached positions and returns the filled prefix (`len + s` positions). The buffer
    /// grows (doubling) only when the capacity runs out.
    pub(crate) fn append(
        &mut self,
        i: usize,
        k: Tensor<4>,
        v: Tensor<4>,
    ) -> (Tensor<4>, Tensor<4>) {
        let [b, h, s, d] = k.dims();
        let (start, end) = (self.len, self.len + s);
        let (bk, bv) = match self.layers[i].take() {
            None if start == 0 => (k, v),
            None => panic!("layer {i} has no cache although {start} positions are cached"),
            Some((bk, bv)) => {
                let capacity = bk.dims()[2];
                let wanted = if capacity < end {
                    end.max(2 * capacity)
                } else {
                    end
                };
                let (bk, bv) = (pad_positions(bk, wanted), pad_positions(bv, wanted));
                let range = [0..b, 0..h, start..end, 0..d];
                (bk.slice_assign(range.clone(), k), bv.slice_assign(range, v))
            }
        };
        let filled = [0..b, 0..h, 0..end, 0..d];
        let out = (bk.clone().slice(filled.clone()), bv.clone().slice(filled));
        self.layers[i] = Some((bk, bv));
        out
    }

    /// Gives every layer room for `positions` positions in all, so decoding up to that
    /// length never reallocates.
    pub fn with_capacity(mut self, positions: usize) -> Self {
        for l in self.layers.iter_mut() {
            *l = l
                .take()
                .map(|(k, v)| (pad_positions(k, positions), pad_positions(v, positions)));
        }
        self
    }

    /// Repeats a batch-1 cache to `n` rows (the prompt is shared by all samples).
    pub fn broadcast(&self, n: usize) -> Self {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                l.as_ref().map(|(k, v)| {
                    assert_eq!(k.dims()[0], 1, "broadcast expects a batch-1 cache");
                    (k.clone().repeat_dim(0, n), v.clone().repeat_dim(0, n))
                })
            })
            .collect();
        Self {
            layers,
            len: self.len,
        }
    }

    /// Keeps only the rows listed in `rows` (e.g. the unfinished samples).
    pub fn select_rows(&self, rows: Tensor<1, Int>) -> Self {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                l.as_ref().map(|(k, v)| {
                    (
                        k.clone().select(0, rows.clone()),
                        v.clone().select(0, rows.clone()),
                    )
                })
            })
            .collect();
        Self {
            layers,
            len: self.len,
        }
    }
}
