//! `y = x · eᵀ` for row-major `x: [m, k]` and `e: [n, k]`: every output is the dot product
//! of two stored rows. This is the tied LM head at decode — `e` the `[vocab, hidden]`
//! embedding, `x` a few dozen hidden states.
//!
//! A general gemm packs an operand into its own panel layout before it multiplies; for the
//! head that operand is the whole embedding (262 MB at a 128k vocabulary and width 512),
//! copied every decode step, and the copy and its second read cost more than the
//! arithmetic at decode batch sizes. Dot products read each embedding row once, where it is
//! stored, so the step streams the embedding from memory exactly once: a register tile of
//! `MR` hidden states × `NR` embedding rows accumulates lane-wise products along `k` and sums
//! its lanes at the end. Threads take disjoint ranges of embedding rows.
//!
//! The tile loop is compiled for AVX-512, AVX2 + FMA and the baseline, picked at run time
//! (the binary targets plain x86-64); wasm32 compiles the baseline with simd128.

use std::mem::MaybeUninit;

use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

/// Embedding rows per parallel task: enough to amortise a task, small enough to balance.
const BLOCK: usize = 256;

/// The output pointer, shared by tasks that write disjoint columns.
#[derive(Clone, Copy)]
struct Out(*mut f32);
// SAFETY: tasks write disjoint elements of one live allocation (see `row_dots`).
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

/// Writes `y[r·n + j] = Σ_p x[r·k + p] · e[j·k + p]` for every `r < m`, `j < n`: all of
/// `y`'s `m · n` elements.
pub(crate) fn row_dots(x: &[f32], e: &[f32], k: usize, y: &mut [MaybeUninit<f32>]) {
    assert!(
        k > 0 && x.len().is_multiple_of(k) && e.len().is_multiple_of(k),
        "rows of length k"
    );
    let (m, n) = (x.len() / k, e.len() / k);
    assert_eq!(y.len(), m * n, "output of m × n");
    let out = Out(y.as_mut_ptr().cast());
    (0..n.div_ceil(BLOCK)).into_par_iter().for_each(|b| {
        let cols = b * BLOCK..((b + 1) * BLOCK).min(n);
        // SAFETY: x, e and y hold m·k, n·k and m·n elements (checked above); this task
        // writes y[r·n + j] for j in its own range of columns only.
        unsafe { block(x.as_ptr(), m, e.as_ptr(), n, k, out, cols.start, cols.end) }
    });
}

/// One task's columns `j0..j1`.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
unsafe fn block(
    x: *const f32,
    m: usize,
    e: *const f32,
    n: usize,
    k: usize,
    y: Out,
    j0: usize,
    j1: usize,
) {
    let fma = target_cfg_f!(target_feature = "fma");
    let y = y.0;
    // SAFETY: forwarded from this function's callers.
    unsafe {
        if target_cfg_f!(target_feature = "avx512vl") {
            // 8-lane vectors, but AVX-512's 32 registers hold a 4 × 8 tile: on Zen 4, which
            // runs a 512-bit multiply-add as two 256-bit halves, this beat 16 lanes in a
            // 4 × 6 tile by a fifth (each output's horizontal sum is shorter, and a tile
            // reads each row once for 8 outputs). `bench decode`, CHANGELOG.md.
            tiles::<8, 4, 8, true>(x, m, e, n, k, y, j0, j1)
        } else if fma {
            tiles::<8, 4, 3, true>(x, m, e, n, k, y, j0, j1)
        } else {
            tiles::<4, 4, 3, false>(x, m, e, n, k, y, j0, j1)
        }
    }
}

/// Columns `j0..j1` in tiles of `MR` rows × `NR` columns, edges one output at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tiles<const L: usize, const MR: usize, const NR: usize, const FMA: bool>(
    x: *const f32,
    m: usize,
    e: *const f32,
    n: usize,
    k: usize,
    y: *mut f32,
    j0: usize,
    j1: usize,
) {
    // While a tile of columns is multiplied against every row of x (from cache), the next
    // tile's embedding rows are prefetched from memory, a slice per row tile, so that its
    // first row tile does not wait on them. Where there are few row tiles the step streams
    // the embedding at memory speed anyway, and the burst of prefetches only got in its way.
    let row_tiles = m.div_ceil(MR);
    let prefetching = row_tiles >= 8;
    let tile_lines = (NR * k * size_of::<f32>()).div_ceil(CACHE_LINE);
    let lines_per_row_tile = tile_lines.div_ceil(row_tiles);
    let end = e.add(n * k).cast::<u8>();
    let mut j = j0;
    while j < j1 {
        let nr = (j1 - j).min(NR);
        let next = e.wrapping_add((j + NR) * k).cast::<u8>();
        let mut r = 0;
        while r < m {
            if prefetching {
                let first = (r / MR) * lines_per_row_tile;
                for line in first..(first + lines_per_row_tile).min(tile_lines) {
                    let at = next.wrapping_add(line * CACHE_LINE);
                    if at < end {
                        prefetch(at);
                    }
                }
            }
            let mr = (m - r).min(MR);
            let (xr, ej, yrj) = (x.add(r * k), e.add(j * k), y.add(r * n + j));
            if mr == MR && nr == NR {
                tile::<L, MR, NR, FMA>(xr, ej, k, yrj, n);
            } else {
                for a in 0..mr {
                    for b in 0..nr {
                        tile::<L, 1, 1, FMA>(
                            xr.add(a * k),
                            ej.add(b * k),
                            k,
                            yrj.add(a * n + b),
                            n,
                        );
                    }
                }
            }
            r += MR;
        }
        j += NR;
    }
}

/// `y[a·ldy + b] = x_a · e_b` for the `MR` rows `x_a` (stride k) and `NR` rows `e_b`.
#[inline(always)]
unsafe fn tile<const L: usize, const MR: usize, const NR: usize, const FMA: bool>(
    x: *const f32,
    e: *const f32,
    k: usize,
    y: *mut f32,
    ldy: usize,
) {
    let mut acc = [[[0f32; L]; NR]; MR];
    let whole = k - k % L;
    let mut p = 0;
    while p < whole {
        let ev: [[f32; L]; NR] = std::array::from_fn(|b| load::<L>(e.add(b * k + p)));
        for (a, acc) in acc.iter_mut().enumerate() {
            let xv = load::<L>(x.add(a * k + p));
            for (acc, ev) in acc.iter_mut().zip(&ev) {
                for i in 0..L {
                    acc[i] = if FMA {
                        xv[i].mul_add(ev[i], acc[i])
                    } else {
                        acc[i] + xv[i] * ev[i]
                    };
                }
            }
        }
        p += L;
    }
    for (a, acc) in acc.iter().enumerate() {
        for (b, acc) in acc.iter().enumerate() {
            let mut sum = acc.iter().sum::<f32>();
            for q in whole..k {
                sum += *x.add(a * k + q) * *e.add(b * k + q);
            }
            y.add(a * ldy + b).write(sum);
        }
    }
}

const CACHE_LINE: usize = 64;

/// Asks for the cache line at `p` (a hint: no access, no fault); nothing off x86-64.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// `L` floats from `p` (no alignment needed).
#[inline(always)]
unsafe fn load<const L: usize>(p: *const f32) -> [f32; L] {
    p.cast::<[f32; L]>().read_unaligned()
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;

    use super::row_dots;

    /// Against plain dot products in f64, at shapes that leave edges in every direction
    /// (rows, columns past a block, a length that is not a lane multiple).
    #[test]
    fn row_dots_are_dot_products() {
        let value = |i: usize| ((i * 7919) % 1000) as f32 / 500.0 - 1.0;
        for (m, n, k) in [
            (1, 1, 1),
            (4, 6, 16),
            (5, 7, 17),
            (64, 300, 64),
            (3, 517, 45),
        ] {
            let x: Vec<f32> = (0..m * k).map(value).collect();
            let e: Vec<f32> = (0..n * k).map(|i| value(i + 13)).collect();
            let mut y = vec![MaybeUninit::uninit(); m * n];
            row_dots(&x, &e, k, &mut y);
            for r in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k)
                        .map(|p| x[r * k + p] as f64 * e[j * k + p] as f64)
                        .sum();
                    // SAFETY: row_dots writes every element.
                    let got = unsafe { y[r * n + j].assume_init() } as f64;
                    assert!(
                        (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                        "{m}×{n}×{k}"
                    );
                }
            }
        }
    }
}
