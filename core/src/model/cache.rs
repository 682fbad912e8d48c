//! The key/value cache of incremental decoding: one `[batch, kv_heads, len, head_dim]`
//! pair per layer. A prompt's cache is computed once (batch 1) and then broadcast to the
//! n sample rows; finished rows can be dropped with [`KvCache::select_rows`].

use burn::tensor::{Int, Tensor};

#[derive(Debug, Clone, Default)]
pub struct KvCache {
    pub(crate) layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    len: usize,
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

    /// Appends new keys/values of layer `i` and returns the full cached sequence.
    pub(crate) fn append(
        &mut self,
        i: usize,
        k: Tensor<4>,
        v: Tensor<4>,
    ) -> (Tensor<4>, Tensor<4>) {
        let (k, v) = match self.layers[i].take() {
            None => (k, v),
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
        };
        self.layers[i] = Some((k.clone(), v.clone()));
        (k, v)
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
