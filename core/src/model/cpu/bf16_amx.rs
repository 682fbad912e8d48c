//! [`super::row_dots`] for bf16 rows on Intel's AMX units (Sapphire Rapids and later).
//!
//! At decode batch 16–64 a step of Llama-3.2-1B spent 89 % of its time in the AVX-512 tiles
//! ([`super::bf16_zmm`]), which multiply-add in f32 after widening each weight: 16 lanes per
//! instruction. One AMX `tdpbf16ps` multiplies a 16 × 32 bf16 tile by a 32 × 16 one into
//! 16 × 16 f32 accumulators: 8192 multiply-adds. With it a step at batch 16 costs little
//! more than one at batch 1 (reading the weights from memory), and at 64 the tile loads, not
//! the multiplies, set the pace.
//!
//! **The activations keep 16 significant bits.** AMX multiplies bf16 by bf16. Rounding the
//! f32 activations to bf16 (8 bits, what torch's bf16 models do) would move each product by
//! up to 2⁻⁹ relative; instead every activation is split into two bf16 values, `hi + lo`,
//! that hold its top 16 significand bits ([`split`]: within 2⁻¹⁶ of it, relative), and the
//! weight tile is multiplied by both. That is 128 times finer than the bf16 weights' own
//! rounding, and below the error bound of the f32 sum itself (`k · 2⁻²⁴` relative to
//! `Σ|x·e|`) at every `k ≥ 256` a model has. A product of two bf16 values is exact in f32,
//! so every output is an f32 sum, in chunks of 32 along k. (A third part would make the
//! activations exact; it cost a third more tile loads, which set the pace at batch 64:
//! `bench decode` 310 against 247 ms a step on Llama-3.2-1B, CHANGELOG.md.)
//!
//! **Layouts.** A `tdpbf16ps` reads its left tile as 16 rows of 32 bf16 — 16 stored weight
//! rows, straight from the checkpoint's `[out, in]` layout with the row stride — and its
//! right tile in pairs: row `r` of the tile holds, for each of its 16 columns, elements `2r`
//! and `2r + 1` of that column. The weight is the left operand and the activations the right
//! ([`Packed`]: split and paired once per call, the bytes of x), so nothing of the
//! weight is copied; the accumulators hold `yᵀ` and are transposed as they are stored.
//!
//! **Determinism.** Output `(r, j)` depends only on row `r` of x and row `j` of the weight,
//! whatever tile or thread computed it: a row's logits do not depend on its batch. They do
//! differ (by f32 rounding) from the AVX-512 and portable tiles' sums, so the same seed gives
//! the same samples on every AMX machine, and on every machine without AMX, but not across
//! the two. `PROBABLE_NO_AMX=1` turns the units off (for side-by-side benchmarks).
//!
//! AMX multiplies treat bf16 subnormals (below 1.2·10⁻³⁸) as zero and flush subnormal
//! results to zero.

use std::arch::asm;
use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T2};
use std::mem::MaybeUninit;

use half::bf16;
use rayon::prelude::*;

/// Whether this CPU has AMX-BF16 and the kernel lets this process use the tile registers
/// (Linux grants them per process on request), unless `PROBABLE_NO_AMX` is set.
pub(crate) fn available() -> bool {
    static YES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *YES.get_or_init(|| {
        if std::env::var_os("PROBABLE_NO_AMX").is_some() {
            return false;
        }
        // CPUID leaf 7: EDX bit 22 AMX-BF16, bit 24 AMX-TILE (every such CPU has AVX-512,
        // which the packing uses).
        let leaf = std::arch::x86_64::__cpuid_count(7, 0);
        let cpu = leaf.edx & (1 << 22) != 0
            && leaf.edx & (1 << 24) != 0
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl");
        // arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA): without it the first tile
        // instruction raises SIGILL; it fails where the kernel or hypervisor has no AMX.
        const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
        const XFEATURE_XTILEDATA: libc::c_long = 18;
        // SAFETY: a request for a permission; it changes no memory of this process.
        cpu && unsafe {
            libc::syscall(
                libc::SYS_arch_prctl,
                ARCH_REQ_XCOMP_PERM,
                XFEATURE_XTILEDATA,
            )
        } == 0
    })
}

/// Whether rows of length `k` are multiplied here: `k` in whole chunks of [`KC`] (a tile
/// row), on a CPU with AMX ([`available`]).
pub(crate) fn takes(k: usize) -> bool {
    k.is_multiple_of(KC) && available()
}

/// Elements of k in one tile pair: a left tile row is 32 bf16 (64 bytes).
const KC: usize = 32;
/// Rows (of x or of the weight) in one tile.
const T: usize = 16;
/// bf16 parts of one activation ([`split`]).
const PARTS: usize = 2;
/// u32 pairs in one packed right tile: 16 rows of 16.
const TILE_PAIRS: usize = T * T;
/// Elements of x (`m · k`) up to which [`Packed::new`] packs on the calling thread.
const SERIAL_PACK: usize = 1 << 16;

/// An f32 as two bf16 values `[hi, lo]`: `hi` is `v` rounded to the nearest bf16 and `lo`
/// the remainder rounded to the nearest bf16, so `|v - hi - lo| ≤ 2⁻¹⁶·|v|` (each rounding
/// keeps 8 significand bits). An infinite `hi` gets `lo = 0`.
#[inline(always)]
pub(crate) fn split(v: f32) -> [u16; PARTS] {
    let hi = round(v);
    let lo = round(if hi.is_finite() { v - hi } else { 0.0 });
    [hi, lo].map(|p| (p.to_bits() >> 16) as u16)
}

/// `v` rounded to the nearest bf16, ties to even, as the f32 of that value (NaN stays NaN):
/// bit operations the compiler vectorises.
#[inline(always)]
fn round(v: f32) -> f32 {
    let b = v.to_bits();
    let rounded = b.wrapping_add(0x7fff + ((b >> 16) & 1)) & 0xffff_0000;
    if v.is_nan() {
        v
    } else {
        f32::from_bits(rounded)
    }
}

/// The activations `x: [m, k]` split ([`split`]) and paired into right tiles: for each
/// group of 16 rows, each chunk of [`KC`] elements and each part, one tile of 16 × 16 u32 —
/// row `r` holds, for row `c` of the group, elements `2r` and `2r + 1` of the chunk (low
/// half first). Rows past `m` are zeros.
pub(crate) struct Packed {
    tiles: Vec<u32>,
    m: usize,
    chunks: usize,
}

impl Packed {
    /// # Panics
    /// If [`takes`] is false for `k` (a length not in chunks of 32, or a CPU without AMX,
    /// whose AVX-512 the packing uses) or `x` is not of `m · k` elements.
    pub(crate) fn new(x: &[f32], m: usize, k: usize) -> Self {
        assert!(
            takes(k) && x.len() == m * k,
            "x of m × k on AMX, k in chunks of 32"
        );
        let chunks = k / KC;
        // The buffer of the previous call on this thread: a step packs a few MB a hundred
        // times, and a fresh allocation of that size is fresh pages the kernel must zero.
        let mut tiles = SPARE.take();
        tiles.clear();
        tiles.resize(m.div_ceil(T) * chunks * PARTS * TILE_PAIRS, 0);
        // A few rows (decode at small batch) are packed by the calling thread: at batch 1 the
        // whole of x is a few hundred tiles of zeros and one row, less work than waking the
        // other threads for it.
        let min_tiles = if m * k <= SERIAL_PACK { usize::MAX } else { 16 };
        tiles
            .par_chunks_mut(PARTS * TILE_PAIRS)
            .with_min_len(min_tiles)
            .enumerate()
            .for_each(|(i, tile)| {
                let (group, chunk) = (i / chunks, i % chunks);
                let rows = T.min(m - group * T);
                let x = &x[group * T * k + chunk * KC..];
                // SAFETY: `available` (asserted by `takes`) implies AVX-512.
                unsafe { pack_tile(x, rows, k, tile) };
            });
        Self { tiles, m, chunks }
    }

    /// The right tile of row group `g`, chunk `c` and part `p`.
    fn tile(&self, g: usize, c: usize, p: usize) -> *const u32 {
        self.tiles[((g * self.chunks + c) * PARTS + p) * TILE_PAIRS..].as_ptr()
    }
}

impl Drop for Packed {
    fn drop(&mut self) {
        SPARE.set(std::mem::take(&mut self.tiles));
    }
}

thread_local! {
    /// The tiles of the last [`Packed`] dropped on this thread, kept for the next one.
    static SPARE: std::cell::Cell<Vec<u32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// One chunk of [`KC`] elements of `rows ≤ 16` rows of x (from `x`, row stride k) into its
/// [`PARTS`] right tiles: each row split ([`split`]), and each part's pairs of
/// elements (a u32, low half first) written down the row's column of the part's tile.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn pack_tile(x: &[f32], rows: usize, k: usize, tile: &mut [u32]) {
    for c in 0..T {
        let mut parts = [[0u16; KC]; PARTS];
        if c < rows {
            let row: &[f32; KC] = x[c * k..][..KC].try_into().expect("a chunk");
            for (i, &v) in row.iter().enumerate() {
                let s = split(v);
                for p in 0..PARTS {
                    parts[p][i] = s[p];
                }
            }
        }
        for (p, part) in parts.iter().enumerate() {
            for r in 0..KC / 2 {
                tile[p * TILE_PAIRS + r * T + c] =
                    part[2 * r] as u32 | (part[2 * r + 1] as u32) << 16;
            }
        }
    }
}

/// The AMX tile configuration: palette 1, tiles 0–7 all 16 rows of 64 bytes.
#[repr(C, align(64))]
struct Config {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    bytes_per_row: [u16; 16],
    rows: [u8; 16],
}

/// Bytes of weight rows in one group of columns: the group is read from memory once and
/// meets every row group of x from L2 (see [`super::bf16_zmm`]).
const GROUP_BYTES: usize = 512 << 10;

/// `y[r·n + j] = x_r · e_j` for every row of x (as `x`) and the columns `j0..j1`, a
/// multiple of 16 apart.
///
/// # Safety
/// [`available`] must be true; `e` and `y` must hold `n·k` and `m·n` elements, and no other
/// thread may write `y`'s columns `j0..j1`.
pub(crate) unsafe fn block(
    x: &Packed,
    e: *const bf16,
    n: usize,
    y: *mut f32,
    j0: usize,
    j1: usize,
) {
    debug_assert!((j1 - j0).is_multiple_of(T));
    let k = x.chunks * KC;
    let config = Config {
        palette: 1,
        start_row: 0,
        reserved: [0; 14],
        bytes_per_row: std::array::from_fn(|t| if t < 8 { 64 } else { 0 }),
        rows: std::array::from_fn(|t| if t < 8 { T as u8 } else { 0 }),
    };
    let groups = x.m.div_ceil(T);
    let tiles_per_group = (GROUP_BYTES / (T * k * 2)).max(1).next_multiple_of(2);
    // SAFETY: `available` granted the tile registers; every tile stays inside the extents
    // the caller vouches for.
    unsafe {
        asm!("ldtilecfg [{}]", in(reg) &config, options(nostack, readonly));
        let mut g0 = j0;
        while g0 < j1 {
            let g1 = (g0 + tiles_per_group * T).min(j1);
            for g in (0..groups).step_by(2) {
                let pair = g + 1 < groups;
                let mut j = g0;
                while j < g1 {
                    let both = j + T < g1;
                    let ej = e.add(j * k).cast::<u8>();
                    match (both, pair) {
                        (true, true) => tiles::<2, 2>(x, g, ej, k, y, n, j),
                        (true, false) => tiles::<2, 1>(x, g, ej, k, y, n, j),
                        (false, true) => tiles::<1, 2>(x, g, ej, k, y, n, j),
                        (false, false) => tiles::<1, 1>(x, g, ej, k, y, n, j),
                    }
                    j += 2 * T;
                }
            }
            g0 = g1;
        }
        asm!("tilerelease", options(nostack, nomem));
    }
}

/// One tile instruction; the tile registers are literal numbers.
macro_rules! tile_op {
    (zero $t:literal) => {
        asm!(concat!("tilezero tmm", $t), options(nostack, nomem))
    };
    (load $t:literal, $p:expr, $stride:expr) => {
        asm!(concat!("tileloadd tmm", $t, ", [{p} + {s}*1]"),
             p = in(reg) $p, s = in(reg) $stride, options(nostack, readonly))
    };
    (store $t:literal, $p:expr) => {
        asm!(concat!("tilestored [{p} + {s}*1], tmm", $t),
             p = in(reg) $p, s = in(reg) 64usize, options(nostack))
    };
    (dot $c:literal, $a:literal, $b:literal) => {
        asm!(concat!("tdpbf16ps tmm", $c, ", tmm", $a, ", tmm", $b), options(nostack, nomem))
    };
}

/// `NA` tiles of 16 weight rows from `e` (columns `j..`) × `NB` groups of 16 rows of x
/// from group `g`, over all of k: accumulators in tmm0–3 (tile `2a + b`), weight tiles in
/// tmm4–5, activation tiles in tmm6–7. Rows of x past `m` are not written.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tiles<const NA: usize, const NB: usize>(
    x: &Packed,
    g: usize,
    e: *const u8,
    k: usize,
    y: *mut f32,
    n: usize,
    j: usize,
) {
    let stride = k * 2;
    // SAFETY: the caller's extents; tiles configured by `block`.
    unsafe {
        tile_op!(zero 0);
        if NB == 2 {
            tile_op!(zero 1);
        }
        if NA == 2 {
            tile_op!(zero 2);
            if NB == 2 {
                tile_op!(zero 3);
            }
        }
        for c in 0..x.chunks {
            let a = e.add(c * KC * 2);
            // The weight rows' next bytes, two chunks ahead, into L2 (`bench decode`: 1–32
            // chunks ahead tried, 2 best at batch 1, 16 and 64; into L2 rather than L1 ~10 %
            // faster at batch 1 and 64; no prefetch 5–10 % slower).
            if c + AHEAD < x.chunks {
                for row in 0..NA * T {
                    _mm_prefetch::<_MM_HINT_T2>(a.add(row * stride + AHEAD * KC * 2).cast());
                }
            }
            tile_op!(load 4, a, stride);
            if NA == 2 {
                tile_op!(load 5, a.add(T * stride), stride);
            }
            for p in 0..PARTS {
                tile_op!(load 6, x.tile(g, c, p), 64usize);
                tile_op!(dot 0, 4, 6);
                if NA == 2 {
                    tile_op!(dot 2, 5, 6);
                }
                if NB == 2 {
                    tile_op!(load 7, x.tile(g + 1, c, p), 64usize);
                    tile_op!(dot 1, 4, 7);
                    if NA == 2 {
                        tile_op!(dot 3, 5, 7);
                    }
                }
            }
        }
        let mut acc = Accumulator([MaybeUninit::uninit(); TILE_PAIRS]);
        let buf = acc.0.as_mut_ptr().cast::<f32>();
        let put = |a: usize, b: usize| {
            // The accumulator holds yᵀ: row i is column j + 16a, column c is row of x
            // 16(g + b) + c.
            let (j, r0) = (j + a * T, (g + b) * T);
            for c in 0..T.min(x.m.saturating_sub(r0)) {
                for i in 0..T {
                    y.add((r0 + c) * n + j + i).write(*buf.add(i * T + c));
                }
            }
        };
        tile_op!(store 0, buf);
        put(0, 0);
        if NB == 2 {
            tile_op!(store 1, buf);
            put(0, 1);
        }
        if NA == 2 {
            tile_op!(store 2, buf);
            put(1, 0);
            if NB == 2 {
                tile_op!(store 3, buf);
                put(1, 1);
            }
        }
    }
}

/// Chunks of k ahead of the tiles at which the weight rows are prefetched.
const AHEAD: usize = 2;

/// A 16 × 16 f32 accumulator tile stored from a tile register (64-byte rows).
#[repr(C, align(64))]
struct Accumulator([MaybeUninit<f32>; TILE_PAIRS]);

#[cfg(test)]
mod tests {
    use half::bf16;

    use super::split;

    /// `hi` is `v` rounded to bf16 as `half` rounds it, `lo` the remainder rounded the same
    /// way, and `hi + lo` is within 2⁻¹⁶ of `v` (relative), over values of every magnitude
    /// a model's activations take and their negatives.
    #[test]
    fn two_parts_hold_sixteen_bits() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            65504.0,
            1e-30,
            3.0e30,
            0.1,
            1.0 + 1.0 / 512.0,
        ];
        for i in 0..2_000_000usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Exponents 2^-60 .. 2^60, any significand and sign.
            let exponent = 67 + (state >> 40) as u32 % 120;
            let v = match specials.get(i) {
                Some(&v) => v,
                None => f32::from_bits((state as u32 & 0x807f_ffff) | exponent << 23),
            };
            let [hi, lo] = split(v).map(bf16::from_bits);
            assert_eq!(hi, bf16::from_f32(v), "{v:e}");
            assert_eq!(lo, bf16::from_f32(v - hi.to_f32()), "{v:e}");
            let rest = v as f64 - hi.to_f64() - lo.to_f64();
            assert!(rest.abs() <= (v as f64).abs() / 65536.0, "{v:e}: {rest:e}");
        }
        assert!(bf16::from_bits(split(f32::NAN)[0]).is_nan());
        assert_eq!(split(f32::INFINITY), [bf16::INFINITY.to_bits(), 0]);
    }
}
