//! `y = x · eᵀ` for row-major `x: [m, k]` and `e: [n, k]`: every output is the dot product
//! of two stored rows. This is the tied LM head at decode — `e` the `[vocab, hidden]`
//! embedding, `x` a few dozen hidden states — and every linear layer whose weight is kept
//! as the checkpoint stores it (`[out, in]`, bf16 or f16: see [`Widen`]).
//!
//! A general gemm packs an operand into its own panel layout before it multiplies; for the
//! head that operand is the whole embedding (262 MB at a 128k vocabulary and width 512),
//! copied every decode step, and the copy and its second read cost more than the
//! arithmetic at decode batch sizes. Dot products read each embedding row once, where it is
//! stored, so the step streams the embedding from memory exactly once: a register tile of
//! `MR` hidden states × `NR` embedding rows accumulates lane-wise products along `k` and sums
//! its lanes at the end. Threads take disjoint ranges of embedding rows.
//!
//! `e` may hold f32, bf16 or f16: each tile widens the rows it loads to f32 in registers and
//! accumulates in f32, so a half-precision weight is streamed from memory at half the bytes
//! and never widened in memory.
//!
//! The tile loop is compiled for AVX-512, AVX2 + FMA and the baseline, picked at run time
//! (the binary targets plain x86-64); wasm32 has its own `v128` tiles ([`simd128`]), and
//! bf16 rows on Intel's AVX-512 cores take [`super::bf16_zmm`]'s.

use std::mem::MaybeUninit;

use half::{bf16, f16};
use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

use super::tile::{edge_tiles, Tile};

/// Bytes of weight rows per parallel task at decode batch sizes. A call's threads finish
/// within about one task of each other, and at small batch a call streams its weight from
/// memory: with 256 rows per task (4 MB at the MLP's k = 8192) a decode step of
/// Llama-3.2-1B at batch 1 spent ~2 ms with one thread waiting on the other; 64–256 KB
/// tasks cost less than that in task overhead (`bench decode`, CHANGELOG.md).
const TASK_BYTES: usize = 128 << 10;

/// Weight rows per task, for `m` rows of x of `k` elements and weight rows of `k`
/// elements of `W`: [`TASK_BYTES`] of weight, or twice the bytes of x where that is more
/// (every task reads all of x, from cache: at batch 64 small tasks made x's reads outweigh
/// the weight's); between 16 and 256 rows, a multiple of 16 (the AMX tiles take whole
/// groups of 16 rows).
fn task_rows<W>(m: usize, k: usize) -> usize {
    let bytes = TASK_BYTES.max(2 * m * k * size_of::<f32>());
    (bytes / (k * size_of::<W>())).clamp(16, 256) / 16 * 16
}

/// The output pointer, shared by tasks that write disjoint columns.
#[derive(Clone, Copy)]
struct Out(*mut f32);
// SAFETY: tasks write disjoint elements of one live allocation (see `row_dots`).
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

/// Writes `y[r·n + j] = Σ_p x[r·k + p] · e[j·k + p]` for every `r < m`, `j < n`: all of
/// `y`'s `m · n` elements. ([`row_dots_each`] of one matrix, which the kernels' callers
/// call directly; the tests check one matrix at a time.)
#[cfg(test)]
pub(crate) fn row_dots<W: Widen>(x: &[f32], e: &[W], k: usize, y: &mut [MaybeUninit<f32>]) {
    row_dots_each(x, k, [(e, y)]);
}

/// One matrix of a [`row_dots_each`] call: its `n` rows and the output they fill.
#[derive(Clone, Copy)]
struct Part<'a, W> {
    e: &'a [W],
    n: usize,
    out: Out,
}

/// [`row_dots`] of one `x` against several matrices `e` (each into its own `y`), in one
/// parallel call: the projections that read the same hidden states (q, k and v; gate and
/// up) meet the threads once instead of once each, and share one packing of `x`. At batch
/// 1 a call costs tens of µs beyond streaming its weight (waking the other threads, the
/// last task's tail), a fifth of the time of a 2 MB k or v projection.
pub(crate) fn row_dots_each<W: Widen, const N: usize>(
    x: &[f32],
    k: usize,
    parts: [(&[W], &mut [MaybeUninit<f32>]); N],
) {
    assert!(k > 0 && x.len().is_multiple_of(k), "rows of length k");
    let m = x.len() / k;
    let parts = parts.map(|(e, y)| {
        assert!(e.len().is_multiple_of(k), "rows of length k");
        let n = e.len() / k;
        assert_eq!(y.len(), m * n, "output of m × n");
        Part {
            e,
            n,
            out: Out(y.as_mut_ptr().cast()),
        }
    });
    // Tasks take disjoint ranges of columns (weight rows) of one part.
    let rows = task_rows::<W>(m, k);
    let tasks: Vec<(usize, usize, usize)> = (parts.iter().enumerate())
        .flat_map(|(i, p)| {
            (0..p.n)
                .step_by(rows)
                .map(move |j0| (i, j0, (j0 + rows).min(p.n)))
        })
        .collect();
    let in_tasks = |task: &(dyn Fn(Part<'_, W>, usize, usize) + Sync)| {
        tasks
            .par_iter()
            .for_each(|&(i, j0, j1)| task(parts[i], j0, j1));
    };
    // SAFETY (both): x, e and y hold m·k, n·k and m·n elements (checked above); a task
    // writes y[r·n + j] for j in its own range of columns only.
    let tiles = |Part { e, n, out }: Part<'_, W>, j0, j1| {
        #[cfg(target_arch = "x86_64")]
        if let Some(e) = W::as_bf16(e).filter(|_| super::bf16_zmm::available()) {
            // `available` checked.
            unsafe { super::bf16_zmm::block(x.as_ptr(), m, e.as_ptr(), n, k, out.0, j0, j1) };
            return;
        }
        unsafe { block(x.as_ptr(), m, e.as_ptr(), n, k, out, j0, j1) }
    };
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    // (`as_bf16` of an empty slice: whether `W` is bf16.)
    if W::as_bf16(&[]).is_some() && super::bf16_amx::takes(k) {
        use super::bf16_amx;
        let packed = bf16_amx::Packed::new(x, m, k);
        // Whole tiles of 16 columns on the AMX units (a task's range starts on one:
        // `task_rows` is a multiple of 16), the last few columns of a matrix on the vector
        // tiles.
        in_tasks(&|part, j0, j1| {
            let whole = j0 + (j1 - j0) / 16 * 16;
            let e = W::as_bf16(part.e).expect("bf16 rows");
            // `available` checked.
            unsafe { bf16_amx::block(&packed, e.as_ptr(), part.n, part.out.0, j0, whole) };
            if whole < j1 {
                tiles(part, whole, j1);
            }
        });
        return;
    }
    in_tasks(&tiles);
}

/// One task's columns `j0..j1`.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
unsafe fn block<W: Widen>(
    x: *const f32,
    m: usize,
    e: *const W,
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
            tiles::<Lanes<8, true>, W, 4, 8>(x, m, e, n, k, y, j0, j1)
        } else if fma {
            tiles::<Lanes<8, true>, W, 4, 3>(x, m, e, n, k, y, j0, j1)
        } else {
            #[cfg(target_arch = "wasm32")]
            tiles::<simd128::V128, W, 4, 3>(x, m, e, n, k, y, j0, j1);
            #[cfg(not(target_arch = "wasm32"))]
            tiles::<Lanes<4, false>, W, 4, 3>(x, m, e, n, k, y, j0, j1);
        }
    }
}

/// Columns `j0..j1` in tiles of `MR` rows × `NR` columns, their edges in narrower ones
/// ([`edge_tiles`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tiles<T: Tile<W>, W: Widen, const MR: usize, const NR: usize>(
    x: *const f32,
    m: usize,
    e: *const W,
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
    let tile_lines = (NR * k * size_of::<W>()).div_ceil(CACHE_LINE);
    let lines_per_row_tile = tile_lines.div_ceil(row_tiles);
    let end = e.add(n * k).cast::<u8>();
    let mut j = j0;
    while j < j1 {
        let nr = (j1 - j).min(NR);
        let next = e.wrapping_add((j + NR) * k).cast::<u8>();
        let prefetch_next = |r: usize| {
            if prefetching {
                let first = (r / MR) * lines_per_row_tile;
                for line in first..(first + lines_per_row_tile).min(tile_lines) {
                    let at = next.wrapping_add(line * CACHE_LINE);
                    if at < end {
                        prefetch(at);
                    }
                }
            }
        };
        rows::<T, W, MR, NR>(x, m, e.add(j * k), nr, k, y.add(j), n, prefetch_next);
        j += NR;
    }
}

/// Every row tile of x against the `nr ≤ NR` rows `e` (row stride k), into `y` (row stride
/// `ldy`), calling `before(r)` ahead of the row tile at row `r`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn rows<T: Tile<W>, W, const MR: usize, const NR: usize>(
    x: *const f32,
    m: usize,
    e: *const W,
    nr: usize,
    k: usize,
    y: *mut f32,
    ldy: usize,
    before: impl Fn(usize),
) {
    let mut r = 0;
    while r < m {
        before(r);
        let mr = (m - r).min(MR);
        edge_tiles::<T, W, MR, NR>(x.add(r * k), mr, e, nr, k, y.add(r * ldy), ldy);
        r += MR;
    }
}

/// Portable tiles of `L`-lane arrays the compiler vectorises, with fused multiply-adds
/// where `FMA`.
struct Lanes<const L: usize, const FMA: bool>;

impl<W: Widen, const L: usize, const FMA: bool> Tile<W> for Lanes<L, FMA> {
    #[inline(always)]
    unsafe fn tile<const A: usize, const B: usize>(
        x: *const f32,
        e: *const W,
        k: usize,
        y: *mut f32,
        ldy: usize,
    ) {
        let mut acc = [[[0f32; L]; B]; A];
        let whole = k - k % L;
        let mut p = 0;
        // SAFETY (the loops): inside the rows the caller vouches for.
        while p < whole {
            let ev: [[f32; L]; B] =
                std::array::from_fn(|b| unsafe { W::widen::<L>(e.add(b * k + p)) });
            for (a, acc) in acc.iter_mut().enumerate() {
                let xv = unsafe { load::<L>(x.add(a * k + p)) };
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
                unsafe {
                    finish(
                        acc.iter().sum(),
                        x.add(a * k),
                        e.add(b * k),
                        whole,
                        k,
                        y.add(a * ldy + b),
                    )
                };
            }
        }
    }
}

/// Writes `sum` (the lanes' total) plus the products of the elements `whole..k` past the
/// last whole vector to `y`.
#[inline(always)]
unsafe fn finish<W: Widen>(
    mut sum: f32,
    x: *const f32,
    e: *const W,
    whole: usize,
    k: usize,
    y: *mut f32,
) {
    // SAFETY: inside the rows the caller vouches for.
    unsafe {
        for q in whole..k {
            sum += *x.add(q) * (*e.add(q)).to_f32();
        }
        y.write(sum);
    }
}

/// WebAssembly SIMD tiles. The portable tiles' lane arrays compiled to mostly scalar wasm
/// (lanes taken apart and put back one at a time), which the browser's CPU fallback then
/// ran as such: the tied head took 41 % of a decode step. Written with `v128` operations
/// they stay whole 4-lane vectors in the engine's registers; no fused multiply-add (not in
/// baseline wasm SIMD), the same sums as `Lanes<4, false>`.
#[cfg(target_arch = "wasm32")]
mod simd128 {
    use std::arch::wasm32::*;

    use super::{finish, Tile, Widen};

    pub(super) struct V128;

    impl<W: Widen> Tile<W> for V128 {
        #[inline(always)]
        unsafe fn tile<const A: usize, const B: usize>(
            x: *const f32,
            e: *const W,
            k: usize,
            y: *mut f32,
            ldy: usize,
        ) {
            // SAFETY (the whole body): inside the rows the caller vouches for.
            unsafe {
                let mut acc = [[f32x4_splat(0.0); B]; A];
                let whole = k - k % 4;
                let mut p = 0;
                while p < whole {
                    let ev: [v128; B] = std::array::from_fn(|b| W::widen_v128(e.add(b * k + p)));
                    for (a, acc) in acc.iter_mut().enumerate() {
                        let xv = v128_load(x.add(a * k + p).cast());
                        for (acc, ev) in acc.iter_mut().zip(&ev) {
                            *acc = f32x4_add(*acc, f32x4_mul(xv, *ev));
                        }
                    }
                    p += 4;
                }
                for (a, acc) in acc.iter().enumerate() {
                    for (b, acc) in acc.iter().enumerate() {
                        let lanes = [
                            f32x4_extract_lane::<0>(*acc),
                            f32x4_extract_lane::<1>(*acc),
                            f32x4_extract_lane::<2>(*acc),
                            f32x4_extract_lane::<3>(*acc),
                        ];
                        let (xa, eb) = (x.add(a * k), e.add(b * k));
                        finish(lanes.iter().sum(), xa, eb, whole, k, y.add(a * ldy + b));
                    }
                }
            }
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

/// A stored weight element the tiles widen to f32 as they load it. The conversions are
/// exact and written as integer and float lane operations, so the tile loop stays
/// vectorised (a call into `half` per element would not be).
pub(crate) trait Widen: Copy + Send + Sync + 'static {
    /// `L` consecutive elements from `p` (no alignment needed), as f32.
    ///
    /// # Safety
    /// `p` must point at `L` readable elements.
    unsafe fn widen<const L: usize>(p: *const Self) -> [f32; L];
    fn to_f32(self) -> f32;
    /// 4 consecutive elements from `p` (no alignment needed), as one f32 vector.
    ///
    /// # Safety
    /// `p` must point at 4 readable elements.
    #[cfg(target_arch = "wasm32")]
    #[inline(always)]
    unsafe fn widen_v128(p: *const Self) -> std::arch::wasm32::v128 {
        // SAFETY: forwarded; the array is 4 f32.
        unsafe { std::arch::wasm32::v128_load(Self::widen::<4>(p).as_ptr().cast()) }
    }
    /// `e` as bf16 rows, for the 512-bit tiles ([`super::bf16_zmm`]); `None` for others.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    fn as_bf16(_e: &[Self]) -> Option<&[bf16]> {
        None
    }
}

impl Widen for f32 {
    #[inline(always)]
    unsafe fn widen<const L: usize>(p: *const Self) -> [f32; L] {
        // SAFETY: forwarded.
        unsafe { load::<L>(p) }
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[cfg(target_arch = "wasm32")]
    #[inline(always)]
    unsafe fn widen_v128(p: *const Self) -> std::arch::wasm32::v128 {
        // SAFETY: forwarded.
        unsafe { std::arch::wasm32::v128_load(p.cast()) }
    }
}

impl Widen for bf16 {
    #[inline(always)]
    unsafe fn widen<const L: usize>(p: *const Self) -> [f32; L] {
        // SAFETY: forwarded; bf16 is a transparent u16.
        unsafe { widen_bits(p.cast(), bf16_bits_to_f32) }
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        bf16_bits_to_f32(self.to_bits())
    }
    #[cfg(target_arch = "wasm32")]
    #[inline(always)]
    unsafe fn widen_v128(p: *const Self) -> std::arch::wasm32::v128 {
        use std::arch::wasm32::*;
        // SAFETY: forwarded; 4 bf16 are 8 bytes, widened to the upper halves of 4 f32.
        unsafe { i32x4_shl(u32x4_extend_low_u16x8(v128_load64_zero(p.cast())), 16) }
    }
    fn as_bf16(e: &[Self]) -> Option<&[bf16]> {
        Some(e)
    }
}

impl Widen for f16 {
    #[inline(always)]
    unsafe fn widen<const L: usize>(p: *const Self) -> [f32; L] {
        // SAFETY: forwarded; f16 is a transparent u16.
        unsafe { widen_bits(p.cast(), f16_bits_to_f32) }
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16_bits_to_f32(self.to_bits())
    }
}

/// `L` half-precision elements (their bits) from `p`, each widened by `bits_to_f32`.
///
/// # Safety
/// `p` must point at `L` readable u16s (no alignment needed).
#[inline(always)]
unsafe fn widen_bits<const L: usize>(p: *const u16, bits_to_f32: impl Fn(u16) -> f32) -> [f32; L] {
    // SAFETY: the caller's.
    unsafe { p.cast::<[u16; L]>().read_unaligned() }.map(bits_to_f32)
}

/// bf16 is the upper half of an f32.
#[inline(always)]
fn bf16_bits_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// IEEE binary16 to binary32, exactly, without branches: the exponent and mantissa moved
/// into f32 position read as a number 2¹¹² too small (normals and subnormals alike, since
/// f32 keeps f16's subnormals as normals or subnormals), so one multiply rescales it;
/// infinities and NaNs take f32's all-ones exponent instead.
#[inline(always)]
fn f16_bits_to_f32(h: u16) -> f32 {
    let h = h as u32;
    let sign = (h & 0x8000) << 16;
    let magnitude = (h & 0x7fff) << 13;
    let finite = f32::from_bits(magnitude) * f32::from_bits(0x7780_0000);
    let bits = if h & 0x7c00 == 0x7c00 {
        magnitude | 0x7f80_0000
    } else {
        finite.to_bits()
    };
    f32::from_bits(bits | sign)
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;

    use half::{bf16, f16};

    use super::{row_dots, Widen};

    /// Test values in [-1, 1), spread without a pattern the tiles could hide.
    fn value(i: usize) -> f32 {
        ((i * 7919) % 1000) as f32 / 500.0 - 1.0
    }

    /// Against plain dot products in f64, at shapes that leave edges in every direction
    /// (rows, columns past a block, a length that is not a lane multiple).
    #[test]
    fn row_dots_are_dot_products() {
        for (m, n, k) in [
            (1, 1, 1),
            (4, 6, 16),
            (5, 7, 17),
            (64, 300, 64),
            (3, 517, 45),
        ] {
            let x: Vec<f32> = (0..m * k).map(value).collect();
            let e: Vec<f32> = (0..n * k).map(|i| value(i + 13)).collect();
            check(&x, &e, k);
            check(
                &x,
                &e.iter().map(|&v| bf16::from_f32(v)).collect::<Vec<_>>(),
                k,
            );
            check(
                &x,
                &e.iter().map(|&v| f16::from_f32(v)).collect::<Vec<_>>(),
                k,
            );
        }
    }

    /// Several matrices in one call give each output what a call of its own gives it, bit
    /// for bit (a projection's output does not depend on what it was fused with), at
    /// batch sizes on both sides of the task-size switch and row lengths the AMX tiles
    /// take (multiples of 32) and do not.
    #[test]
    fn each_part_of_a_fused_call_is_its_own_call() {
        fn check_each<W: Widen>(e: &[W], x: &[f32], k: usize, ns: [usize; 3]) {
            let m = x.len() / k;
            let mut at = 0;
            let es = ns.map(|n| {
                at += n * k;
                &e[at - n * k..at]
            });
            let mut fused = ns.map(|n| vec![MaybeUninit::<f32>::uninit(); m * n]);
            let [a, b, c] = &mut fused;
            super::row_dots_each(
                x,
                k,
                [
                    (es[0], &mut a[..]),
                    (es[1], &mut b[..]),
                    (es[2], &mut c[..]),
                ],
            );
            for (e, y) in es.iter().zip(&fused) {
                let mut alone = vec![MaybeUninit::<f32>::uninit(); y.len()];
                row_dots(x, e, k, &mut alone);
                // SAFETY: both calls wrote every element.
                let bits = |v: &[MaybeUninit<f32>]| -> Vec<u32> {
                    v.iter()
                        .map(|v| unsafe { v.assume_init() }.to_bits())
                        .collect()
                };
                assert_eq!(bits(y), bits(&alone), "m {m}, k {k}");
            }
        }
        for (m, k) in [(1, 64), (3, 45), (40, 96)] {
            let ns = [37, 600, 16];
            let x: Vec<f32> = (0..m * k).map(value).collect();
            let wide: Vec<f32> = (0..ns.iter().sum::<usize>() * k)
                .map(|i| value(i + 5))
                .collect();
            check_each(&wide, &x, k, ns);
            let bf: Vec<bf16> = wide.iter().map(|&v| bf16::from_f32(v)).collect();
            check_each(&bf, &x, k, ns);
            let half: Vec<f16> = wide.iter().map(|&v| f16::from_f32(v)).collect();
            check_each(&half, &x, k, ns);
        }
    }

    /// `row_dots(x, e)` — and the portable tiles alone, which `row_dots` may pass over for
    /// [`super::super::bf16_zmm`] or [`super::super::bf16_amx`] — against f64 dot products of
    /// the widened elements.
    fn check<W: Widen>(x: &[f32], e: &[W], k: usize) {
        let (m, n) = (x.len() / k, e.len() / k);
        let mut y = vec![MaybeUninit::uninit(); m * n];
        row_dots(x, e, k, &mut y);
        let amx = if amx_takes(e, k) { AMX_PARTS } else { 0.0 };
        compare(x, e, k, &y, f32_sum(k) + amx);
        // SAFETY: the extents row_dots checks; one task writes every column.
        unsafe {
            super::block(
                x.as_ptr(),
                m,
                e.as_ptr(),
                n,
                k,
                super::Out(y.as_mut_ptr().cast()),
                0,
                n,
            )
        };
        compare(x, e, k, &y, f32_sum(k));
    }

    /// Whether `row_dots` multiplies these rows on the AMX units.
    fn amx_takes<W: Widen>(e: &[W], k: usize) -> bool {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        return W::as_bf16(e).is_some() && super::super::bf16_amx::takes(k);
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        return false;
    }

    /// The error bound of an f32 sum of k rounded products, relative to `Σ|x·e|`.
    fn f32_sum(k: usize) -> f64 {
        (k + 1) as f64 * 2f64.powi(-24)
    }

    /// What the AMX units' two bf16 parts of each activation add to a bound, relative to
    /// `Σ|x·e|`.
    const AMX_PARTS: f64 = 1.0 / 65536.0;

    /// Every output within `relative · Σ|x·e|` of the f64 dot product.
    fn compare<W: Widen>(x: &[f32], e: &[W], k: usize, y: &[MaybeUninit<f32>], relative: f64) {
        let (m, n) = (x.len() / k, e.len() / k);
        for r in 0..m {
            for j in 0..n {
                let products = (0..k).map(|p| x[r * k + p] as f64 * e[j * k + p].to_f32() as f64);
                let want: f64 = products.clone().sum();
                let bound = relative * products.map(f64::abs).sum::<f64>();
                // SAFETY: row_dots writes every element.
                let got = unsafe { y[r * n + j].assume_init() } as f64;
                assert!(
                    (got - want).abs() <= bound,
                    "{m}×{n}×{k} {}: {got} vs {want}",
                    std::any::type_name::<W>()
                );
            }
        }
    }

    /// `row_dots` on the AMX units ([`super::super::bf16_amx`], when this machine has them)
    /// against f64 dot products, within the two parts' bound plus the f32 sum's (`(2⁻¹⁶ + k·2⁻²⁴) ·
    /// Σ|x·e|`), at shapes with partial row groups, an odd number of column tiles, columns
    /// past the last whole tile and several tasks; and every row of x gives the same bits
    /// alone as in its batch.
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    #[test]
    fn amx_row_dots_are_dot_products_whatever_the_batch() {
        if !super::super::bf16_amx::available() {
            eprintln!("no AMX on this machine: the AMX tiles are not tested here");
            return;
        }
        for (m, n, k) in [
            (1, 16, 32),
            (5, 48, 96),
            (17, 40, 64),
            (64, 300, 64),
            (33, 517, 128),
        ] {
            let x: Vec<f32> = (0..m * k).map(|i| value(i) * 1.37).collect();
            let e: Vec<bf16> = (0..n * k).map(|i| bf16::from_f32(value(i + 13))).collect();
            let dots = |x: &[f32]| {
                let mut y = vec![MaybeUninit::uninit(); x.len() / k * n];
                row_dots(x, &e, k, &mut y);
                y
            };
            let y = dots(&x);
            // The products are exact (bf16 × bf16): the sum's bound is k · 2⁻²⁴.
            compare(&x, &e, k, &y, AMX_PARTS + k as f64 * 2f64.powi(-24));
            // SAFETY (both): row_dots writes every element.
            let bits = |v: &MaybeUninit<f32>| unsafe { v.assume_init() }.to_bits();
            for r in 0..m {
                let alone = dots(&x[r * k..][..k]);
                for j in 0..n {
                    let (got, once) = (bits(&y[r * n + j]), bits(&alone[j]));
                    assert_eq!(got, once, "{m}×{n}×{k} ({r}, {j})");
                }
            }
        }
    }

    /// The lane conversions against `half`'s on every one of the 65 536 bit patterns
    /// (NaNs compared as NaNs).
    #[test]
    fn widening_is_exact_for_every_half_value() {
        for bits in 0..=u16::MAX {
            for (got, want) in [
                (
                    bf16::from_bits(bits).to_f32_lanes(),
                    bf16::from_bits(bits).to_f32(),
                ),
                (
                    f16::from_bits(bits).to_f32_lanes(),
                    f16::from_bits(bits).to_f32(),
                ),
            ] {
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{bits:#06x}: {got} vs {want}"
                );
            }
        }
    }

    trait Lanes {
        fn to_f32_lanes(self) -> f32;
    }
    impl<W: Widen> Lanes for W {
        fn to_f32_lanes(self) -> f32 {
            // SAFETY: one element, read through the lane path.
            let lanes: [f32; 1] = unsafe { W::widen::<1>(&self as *const W) };
            lanes[0]
        }
    }
}
