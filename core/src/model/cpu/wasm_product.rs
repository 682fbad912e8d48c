//! `y = x · W` for an f32 weight on wasm32 with SIMD: the CPU fallback's projections.
//!
//! `gemm`'s wasm microkernel packs both operands into panels before it multiplies, and a
//! Node profile of the browser engine sampling the demo model (hidden 128, k ≤ 352, a few
//! hundred rows a step) had it at 46 % of the time. Here the weight, held row-major
//! `[k, n]` (f32 weights are transposed once at load), is read where it lies: a register
//! tile of [`MR`] rows of x × 8 columns accumulates, for each `p`, row `p` of the weight's
//! 8 columns (two `v128` loads) times `x[r, p]` (a splat load) — 8 multiply-adds per 4
//! splats and 2 loads, 13 of the 16 vector registers V8 has on x86-64 (6 rows spilled and
//! were slower, as were 12 columns: `scripts/bench-wasm.sh`, CHANGELOG.md). The same
//! sampling ran ~1.2× faster than through `gemm`.
//!
//! Every output is the sum `Σ_p x[r, p] · W[p, j]` in order of `p`, a multiply then an add
//! (baseline wasm SIMD has no fused multiply-add): the same value whatever the tile or the
//! number of rows. The web app also ships a second build (`--cfg probable_relaxed`,
//! `scripts/build-web.sh`) that the workers load where the browser has relaxed SIMD: there
//! each step is `f32x4.relaxed_madd`, one fused multiply-add on a CPU with FMA (rounded
//! once), a multiply and an add elsewhere. The projections are half of the engine's time and
//! the fused form issues on twice the ports: ~15 % more tokens/s (`web/tests/wasm_bench.rs`
//! under Node with relaxed SIMD, CHANGELOG.md). Only this kernel uses it: burn-flex's SIMD
//! crate does not build with the target feature turned on for the whole program.

use std::arch::wasm32::*;
use std::mem::MaybeUninit;

/// Rows of x per tile.
const MR: usize = 4;
/// Columns per tile: two 4-lane vectors.
const NR: usize = 8;

/// Whether [`product`] takes an output of `n` columns (others go to `gemm`).
pub(crate) fn takes(n: usize) -> bool {
    n.is_multiple_of(NR)
}

/// `y[r·n + j] = Σ_p x[r·k + p] · w[p·n + j]` for `x: [m, k]` and `w: [k, n]`, row-major and
/// contiguous; every element of `y` is written.
///
/// # Panics
/// If `n` is not one [`takes`] or the slices are not of `m·k`, `k·n` and `m·n` elements.
#[cfg_attr(probable_relaxed, target_feature(enable = "relaxed-simd"))]
pub(crate) fn product(
    m: usize,
    n: usize,
    k: usize,
    x: &[f32],
    w: &[f32],
    y: &mut [MaybeUninit<f32>],
) {
    assert!(takes(n), "columns in whole tiles");
    assert!(
        x.len() == m * k && w.len() == k * n && y.len() == m * n,
        "m × k, k × n, m × n"
    );
    for r in (0..m).step_by(MR) {
        let rows = (m - r).min(MR);
        for j in (0..n).step_by(NR) {
            // SAFETY: rows r..r + rows of x (k each), columns j..j + 8 of every row of w, and
            // the same rows and columns of y are inside the slices (asserted above).
            unsafe {
                let (x, w, y) = (
                    x.as_ptr().add(r * k),
                    w.as_ptr().add(j),
                    y.as_mut_ptr().add(r * n + j).cast(),
                );
                if rows == MR {
                    tile::<MR>(x, k, w, n, y);
                } else {
                    for i in 0..rows {
                        tile::<1>(x.add(i * k), k, w, n, y.add(i * n));
                    }
                }
            }
        }
    }
}

/// `a · b + c`, fused where the machine can (the relaxed-SIMD build).
#[cfg(probable_relaxed)]
#[target_feature(enable = "relaxed-simd")]
fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_relaxed_madd(a, b, c)
}

/// `a · b + c`, a multiply then an add.
#[cfg(not(probable_relaxed))]
#[inline(always)]
fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_add(c, f32x4_mul(a, b))
}

/// `R` rows of x (row stride k) × 8 columns of w (row stride n) into y (row stride n).
///
/// # Safety
/// `x`, `w` and `y` must point at that many readable (writable, for `y`) elements.
#[cfg_attr(not(probable_relaxed), inline(always))]
#[cfg_attr(probable_relaxed, target_feature(enable = "relaxed-simd"))]
unsafe fn tile<const R: usize>(x: *const f32, k: usize, w: *const f32, n: usize, y: *mut f32) {
    // SAFETY: inside the extents the caller vouches for.
    unsafe {
        let mut acc = [[f32x4_splat(0.0); 2]; R];
        for p in 0..k {
            let wp = w.add(p * n);
            let (w0, w1) = (v128_load(wp.cast()), v128_load(wp.add(4).cast()));
            for (i, a) in acc.iter_mut().enumerate() {
                let xs = v128_load32_splat(x.add(i * k + p).cast());
                a[0] = madd(xs, w0, a[0]);
                a[1] = madd(xs, w1, a[1]);
            }
        }
        for (i, a) in acc.iter().enumerate() {
            v128_store(y.add(i * n).cast(), a[0]);
            v128_store(y.add(i * n + 4).cast(), a[1]);
        }
    }
}
