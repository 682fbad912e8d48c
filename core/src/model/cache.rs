//! The key/value cache of incremental decoding: one `[batch, kv_heads, capacity, head_dim]`
//! buffer pair per layer, of which the first `len` positions are filled. Each step writes
//! its keys and values in place instead of concatenating — a `cat` copied the whole cache
//! every step. Finished rows can be dropped with [`KvCache::select_rows`].
//!
//! Many-sample decoding continues a few prompts in many rows. Their prompts' keys and
//! values are not copied to every row: a cache built by [`KvCache::continuing`] keeps one
//! copy per prompt ([`SharedPrompts`]) and only the generated positions per row, so
//! attention reads each prompt once for all the rows continuing it (one matrix product
//! instead of one per row), and the memory of a long prompt does not grow with n.

use burn::tensor::Tensor;

use crate::tensor::flex::{write_positions_in_place, zeros_like};
use crate::tensor::host::upload_ids;

#[derive(Debug, Clone, Default)]
pub struct KvCache {
    pub(crate) layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    len: usize,
    pub(crate) shared: Option<SharedPrompts>,
}

/// Prompts continued by consecutive groups of rows: rows `0..rows[0]` continue prompt 0,
/// the next `rows[1]` prompt 1, and so on (a group may have emptied as its rows finished).
#[derive(Debug, Clone)]
pub struct SharedPrompts {
    /// Per layer, per prompt: its keys and values, `[1, kv_heads, lens[p], head_dim]`.
    pub(crate) layers: Vec<Vec<(Tensor<4>, Tensor<4>)>>,
    pub(crate) lens: Vec<usize>,
    pub(crate) rows: Vec<usize>,
    /// Per layer: its sliding window, if it has one.
    pub(crate) windows: Vec<Option<usize>>,
}

impl SharedPrompts {
    /// The non-empty groups: (prompt, first row, rows).
    pub(crate) fn groups(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let mut start = 0;
        self.rows.iter().enumerate().filter_map(move |(p, &n)| {
            let first = start;
            start += n;
            (n > 0).then_some((p, first, n))
        })
    }

    /// Absolute position of each row's next token, `own` positions after its prompt.
    pub(crate) fn positions(&self, own: usize) -> Vec<usize> {
        self.groups()
            .flat_map(|(p, _, n)| std::iter::repeat_n(self.lens[p] + own, n))
            .collect()
    }
}

/// Extends a `[batch, heads, positions, head_dim]` buffer with zeros to at least `to`
/// positions (unchanged when it already has them).
fn pad_positions(t: Tensor<4>, to: usize) -> Tensor<4> {
    let [b, h, p, d] = t.dims();
    if p >= to {
        return t;
    }
    let zeros = zeros_like([b, h, to - p, d], &t);
    Tensor::cat(vec![t, zeros], 2)
}

impl KvCache {
    pub fn new(num_layers: usize) -> Self {
        Self {
            layers: vec![None; num_layers],
            len: 0,
            shared: None,
        }
    }

    /// A cache for rows that continue prompts already prefilled (each a batch-1 cache):
    /// `prompts[p] = (cache, rows)` gives the next `rows` rows prompt p. `windows` holds
    /// each layer's sliding window; `capacity` is the positions to reserve per row for the
    /// tokens still to come.
    pub fn continuing(
        prompts: &[(&KvCache, usize)],
        windows: Vec<Option<usize>>,
        capacity: usize,
    ) -> Self {
        assert!(!prompts.is_empty(), "no prompts to continue");
        let num_layers = prompts[0].0.layers.len();
        let rows: usize = prompts.iter().map(|(_, n)| n).sum();
        let mut shared_layers = Vec::with_capacity(num_layers);
        let mut own = Vec::with_capacity(num_layers);
        for layer in 0..num_layers {
            let per_prompt: Vec<(Tensor<4>, Tensor<4>)> = prompts
                .iter()
                .map(|(c, _)| {
                    assert!(c.shared.is_none(), "a prompt cache cannot share prompts");
                    let (k, v) = c.layers[layer].as_ref().expect("prefilled prompt cache");
                    let [b, h, _, d] = k.dims();
                    assert_eq!(b, 1, "prompt caches are batch 1");
                    let filled = [0..1, 0..h, 0..c.len, 0..d];
                    (k.clone().slice(filled.clone()), v.clone().slice(filled))
                })
                .collect();
            let [_, h, _, d] = per_prompt[0].0.dims();
            let like = &per_prompt[0].0;
            let zeros = || zeros_like([rows, h, capacity.max(1), d], like);
            own.push(Some((zeros(), zeros())));
            shared_layers.push(per_prompt);
        }
        Self {
            layers: own,
            len: 0,
            shared: Some(SharedPrompts {
                layers: shared_layers,
                lens: prompts.iter().map(|(c, _)| c.len).collect(),
                rows: prompts.iter().map(|&(_, n)| n).collect(),
                windows,
            }),
        }
    }

    /// Number of cached positions (after the shared prompts, for a [`KvCache::continuing`]
    /// cache).
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
                let write = |buffer: Tensor<4>, value: Tensor<4>| {
                    write_positions_in_place(
                        pad_positions(buffer, wanted),
                        value,
                        start,
                        |buffer, value| buffer.slice_assign([0..b, 0..h, start..end, 0..d], value),
                    )
                };
                (write(bk, k), write(bv, v))
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

    /// Repeats a batch-1 cache to `n` rows, copying its positions into every row (what
    /// [`KvCache::continuing`] avoids; kept to measure the difference).
    pub fn broadcast(&self, n: usize) -> Self {
        assert!(
            self.shared.is_none(),
            "broadcast a prompt cache, not a continuation"
        );
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
            shared: None,
        }
    }

    /// Keeps only the rows listed in `rows` (ascending, e.g. the unfinished samples). On the
    /// CPU the kept rows move down within each layer's buffer, which keeps its size; a
    /// `select` allocated, zeroed and filled a new cache every time a row finished (a fifth
    /// of a 1-thread `probable eval` of the shipped demo model, measured with `perf`).
    /// Elsewhere, or for a buffer still shared with a clone of this cache, a `select`.
    pub fn select_rows(mut self, rows: &[usize]) -> Self {
        let device = match self.layers.iter().flatten().next() {
            Some((k, _)) => k.device(),
            None => return self,
        };
        let mut index = None;
        let mut keep = |t: Tensor<4>| {
            crate::tensor::flex::keep_rows_in_place(t, rows, |t| {
                let index = index.get_or_insert_with(|| {
                    let ids: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
                    upload_ids(&ids, [ids.len()], &device)
                });
                t.select(0, index.clone())
            })
        };
        for layer in self.layers.iter_mut() {
            *layer = layer.take().map(|(k, v)| (keep(k), keep(v)));
        }
        let shared = self.shared.as_ref().map(|s| {
            assert!(rows.windows(2).all(|w| w[0] < w[1]), "rows must ascend");
            // Each kept row stays in its prompt's group.
            let mut counts = vec![0; s.rows.len()];
            let mut bounds = s.rows.iter().scan(0, |end, &n| {
                *end += n;
                Some(*end)
            });
            let (mut p, mut end) = (0, bounds.next().unwrap_or(0));
            for &r in rows {
                while r >= end {
                    p += 1;
                    end = bounds.next().expect("row beyond the batch");
                }
                counts[p] += 1;
            }
            SharedPrompts {
                rows: counts,
                ..s.clone()
            }
        });
        Self { shared, ..self }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{DType, Device, Tensor};

    use super::KvCache;
    use crate::tensor::flex::flex_any;
    use crate::tensor::testing::normal;

    /// The buffer behind a flex tensor, to tell a move in place from a copy.
    fn buffer(t: &Tensor<4>) -> *const u8 {
        flex_any(t).expect("a flex tensor").bytes().as_ptr()
    }

    fn rows_of(t: &Tensor<4>, rows: &[usize]) -> Vec<f32> {
        let [_, h, p, d] = t.dims();
        rows.iter()
            .flat_map(|&r| {
                t.clone()
                    .slice([r..r + 1, 0..h, 0..p, 0..d])
                    .cast(DType::F32)
                    .into_data()
                    .try_into_vec::<f32>()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn append_writes_the_new_positions_and_leaves_a_shared_buffer_alone() {
        let device = Device::flex();
        for dtype in [DType::F32, DType::F16] {
            let zeros = || Tensor::<4>::zeros([2, 3, 5, 4], &device).cast(dtype);
            let mut cache = KvCache::new(1);
            cache.layers[0] = Some((zeros(), zeros()));
            cache.advance(1);
            let (k, v) = (
                normal([2, 3, 2, 4], &device).cast(dtype),
                normal([2, 3, 2, 4], &device).cast(dtype),
            );
            // Held by a clone: written into a copy, the clone's buffer untouched.
            let clone = cache.clone();
            let (ck, _) = cache.clone().append(0, k.clone(), v.clone());
            let untouched = rows_of(&clone.layers[0].as_ref().unwrap().0, &[0, 1]);
            assert!(
                untouched.iter().all(|&x| x == 0.0),
                "{dtype:?}: the shared buffer was written"
            );
            drop(clone);
            let (filled_k, filled_v) = cache.append(0, k.clone(), v.clone());
            assert_eq!(filled_k.dims(), [2, 3, 3, 4]);
            assert_eq!(rows_of(&filled_k, &[0, 1]), rows_of(&ck, &[0, 1]));
            let new = |t: &Tensor<4>| rows_of(&t.clone().slice([0..2, 0..3, 1..3, 0..4]), &[0, 1]);
            assert_eq!(
                (new(&filled_k), new(&filled_v)),
                (rows_of(&k, &[0, 1]), rows_of(&v, &[0, 1]))
            );
            let first = rows_of(&filled_k.slice([0..2, 0..3, 0..1, 0..4]), &[0, 1]);
            assert!(
                first.iter().all(|&x| x == 0.0),
                "{dtype:?}: position 0 was overwritten"
            );
        }
    }

    #[test]
    fn select_rows_keeps_the_rows_asked_for_in_place_unless_the_buffer_is_shared() {
        let device = Device::flex();
        for dtype in [DType::F32, DType::BF16] {
            let (k, v) = (
                normal([6, 2, 5, 3], &device).cast(dtype),
                normal([6, 2, 5, 3], &device).cast(dtype),
            );
            let keep = [1, 2, 4];
            let want = (rows_of(&k, &keep), rows_of(&v, &keep));
            let mut cache = KvCache::new(1);
            cache.layers[0] = Some((k, v));
            let before = buffer(&cache.layers[0].as_ref().unwrap().0);
            // A clone holds the same buffers: the rows are copied, the clone keeps its own.
            let clone = cache.clone();
            let copied = clone.clone().select_rows(&keep);
            let (ck, _) = copied.layers[0].as_ref().unwrap();
            assert_ne!(buffer(ck), before, "{dtype:?}: a shared buffer was written");
            assert_eq!(rows_of(ck, &[0, 1, 2]), want.0);
            drop((clone, copied));
            // Alone, the kept rows move down within the same buffer.
            let kept = cache.select_rows(&keep);
            let (kk, kv) = kept.layers[0].as_ref().unwrap();
            assert_eq!(kk.dims(), [3, 2, 5, 3]);
            assert_eq!(kept.batch_size(), 3);
            assert_eq!(buffer(kk), before, "{dtype:?}: the rows were copied");
            assert_eq!((rows_of(kk, &[0, 1, 2]), rows_of(kv, &[0, 1, 2])), want);
        }
    }
}
