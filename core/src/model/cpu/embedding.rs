//! The embedding lookup on the CPU backend: the rows of an f32 table `[vocab, d]` picked by
//! token ids, copied into a new `[b, s, d]` tensor in one pass.
//!
//! burn's `embedding` is a `select` on the table, which first passes the table through
//! flex's generic copy-to-contiguous (a no-op for a stored table, but a function of 27 KB
//! of wasm that, called at every decode step, the browser compiled with its optimising tier
//! during a page's first run). The copy is the same values, so the results are identical
//! (tested).
//!
//! The table may also be held transposed (`[d, vocab]` in memory behind a `[vocab, d]`
//! view: the browser's CPU fallback holds a tied embedding so, for the head's product
//! kernel, see `CausalLm::load`); a token's row is then a column, read with a stride.

use std::mem::MaybeUninit;

use burn::tensor::{DType, Int, Tensor};
use burn_flex::Flex;

use crate::tensor::flex::{flex_f32, from_flex, written};

/// `table[ids]` for `ids: [b, s]` on the CPU backend; `None` elsewhere, for a table held in
/// another dtype, or for an id outside the table (burn's path then reports it).
pub(crate) fn lookup(table: &Tensor<2>, ids: &Tensor<2, Int>) -> Option<Tensor<3>> {
    let [vocab, d] = table.dims();
    let [b, s] = ids.dims();
    let t = flex_f32(table)?;
    // Element (i, j) of the table is `held[i * row + j * col]`.
    let (row, col) = if t.is_contiguous() {
        (d, 1)
    } else if t.layout().strides() == [1, vocab as isize] {
        (1, vocab)
    } else {
        return None;
    };
    let held = &t.storage::<f32>()[t.layout().start_offset()..];
    if held.len() < vocab * d {
        return None;
    }
    let ids = ids.clone().try_into_primitive::<Flex>().ok()?;
    let ids: Vec<usize> = match ids.dtype() {
        DType::I64 => ids
            .as_slice::<i64>()?
            .iter()
            .map(|&i| usize::try_from(i).ok())
            .collect(),
        DType::I32 => ids
            .as_slice::<i32>()?
            .iter()
            .map(|&i| usize::try_from(i).ok())
            .collect(),
        DType::U32 => ids
            .as_slice::<u32>()?
            .iter()
            .map(|&i| Some(i as usize))
            .collect(),
        _ => None,
    }?;
    if d == 0 || ids.iter().any(|&i| i >= vocab) {
        return None;
    }
    // SAFETY: each of the b·s output rows of d values is written once, in order.
    let out = unsafe {
        written([b, s, d], |out| {
            for (o, &i) in out.chunks_exact_mut(d).zip(&ids) {
                if col == 1 {
                    for (o, &v) in o.iter_mut().zip(&held[i * row..i * row + d]) {
                        *o = MaybeUninit::new(v);
                    }
                } else {
                    for (j, o) in o.iter_mut().enumerate() {
                        *o = MaybeUninit::new(held[i * row + j * col]);
                    }
                }
            }
        })
    };
    Some(from_flex(out))
}

#[cfg(test)]
mod tests {
    use burn::nn::EmbeddingConfig;
    use burn::tensor::{Device, Int, Tensor, TensorData};

    #[test]
    fn the_lookup_equals_burns_embedding() {
        let device = Device::flex();
        let embedding = EmbeddingConfig::new(11, 5).init(&device);
        let table = embedding.weight.val();
        let ids = Tensor::<2, Int>::from_data(
            TensorData::new(vec![3i64, 0, 10, 3, 7, 1], [2, 3]),
            &device,
        );
        let got = super::lookup(&table, &ids).expect("an f32 table on the CPU");
        let want = embedding.forward(ids);
        assert_eq!(got.dims(), [2, 3, 5]);
        assert_eq!(got.into_data(), want.into_data());
        // An id outside the table is left to burn's path.
        let outside = Tensor::<2, Int>::from_data(TensorData::new(vec![11i64], [1, 1]), &device);
        assert!(super::lookup(&table, &outside).is_none());
    }

    /// A table held transposed (`[d, vocab]` in memory behind a `[vocab, d]` view) gives
    /// the same rows.
    #[test]
    fn a_table_held_transposed_gives_the_same_rows() {
        let device = Device::flex();
        let embedding = EmbeddingConfig::new(11, 5).init(&device);
        let table = embedding.weight.val();
        let held: Tensor<2> = Tensor::from_data(table.clone().transpose().into_data(), &device);
        let view = held.transpose();
        let ids = Tensor::<2, Int>::from_data(
            TensorData::new(vec![3i64, 0, 10, 3, 7, 1], [2, 3]),
            &device,
        );
        let got = super::lookup(&view, &ids).expect("a transposed f32 table on the CPU");
        assert_eq!(got.into_data(), embedding.forward(ids).into_data());
    }
}
