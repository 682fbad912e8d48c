//! The register tiles of [`super::row_dots`] and [`super::bf16_zmm`]: one trait for a tile of
//! `A × B` outputs, and one dispatcher that covers a block of rows with whole tiles and its
//! edges with narrower ones.

/// A register tile: `y[a·ldy + b] = x_a · e_b` for `A` rows `x_a` of x and `B` rows `e_b` of
/// e (both with row stride k). Every implementation sums one output the same way whatever
/// `A` and `B` are — lane-wise along k in order, then the lanes in order, then the leftover
/// elements — so a row's logits do not depend on the batch it is decoded in.
pub(crate) trait Tile<E> {
    /// # Safety
    /// `x` and `e` must hold `A` and `B` rows of `k` elements, and `y` the `A × B` outputs.
    unsafe fn tile<const A: usize, const B: usize>(
        x: *const f32,
        e: *const E,
        k: usize,
        y: *mut f32,
        ldy: usize,
    );
}

/// `mr ≤ MR` rows of x against `nr ≤ NR` rows of e (row stride k for both), into y (row
/// stride `ldy`): one `MR × NR` tile where both are whole; else, while `nr` is whole, a
/// `1 × NR` tile per row (the last rows — all of them at batch 1 — keep NR independent
/// accumulators in flight, where 1 × 1 tiles would wait on one multiply-add chain); else
/// `1 × 1` tiles.
///
/// # Safety
/// As [`Tile::tile`], for `mr` and `nr` rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn edge_tiles<T: Tile<E>, E, const MR: usize, const NR: usize>(
    x: *const f32,
    mr: usize,
    e: *const E,
    nr: usize,
    k: usize,
    y: *mut f32,
    ldy: usize,
) {
    // SAFETY: forwarded; every tile stays inside the `mr × nr` block.
    unsafe {
        if mr == MR && nr == NR {
            T::tile::<MR, NR>(x, e, k, y, ldy);
        } else if nr == NR {
            for a in 0..mr {
                T::tile::<1, NR>(x.add(a * k), e, k, y.add(a * ldy), ldy);
            }
        } else {
            for a in 0..mr {
                for b in 0..nr {
                    T::tile::<1, 1>(x.add(a * k), e.add(b * k), k, y.add(a * ldy + b), ldy);
                }
            }
        }
    }
}
