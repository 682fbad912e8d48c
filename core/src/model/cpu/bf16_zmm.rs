//! [`super::row_dots`] for bf16 rows on Intel's AVX-512 cores, in 512-bit registers.
//!
//! The portable tiles ([`super::row_dots`]) hold 8 lanes: on Zen 4, which executes a 512-bit
//! multiply-add as two 256-bit halves, that beat 16 lanes. Intel's AVX-512 cores execute it
//! whole, at twice the 256-bit rate (114 against 62 GMAC/s per core measured on a Sapphire
//! Rapids), but the compiler spilled the portable code's 16-lane tiles to the stack. Here the
//! tile is written with intrinsics: 4 rows of x × 6 bf16 rows, 24 accumulators, 6 widened
//! rows and one row of x — 31 of the 32 registers. A bf16 is the upper half of an f32, so a
//! row widens by zero-extending 16 elements to 32 bits and shifting them up.
//!
//! Every output is one 16-lane accumulation over k in order, then one fixed lane reduction,
//! whatever tile computed it: a row's logits do not depend on the batch it is decoded in.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

#[cfg(target_arch = "x86_64")]
use half::bf16;

#[cfg(target_arch = "x86_64")]
use super::tile::{edge_tiles, Tile};

/// Whether this CPU runs the 512-bit tiles: AVX-512 F and BW, on an Intel core.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static YES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *YES.get_or_init(|| {
            let v = __cpuid(0);
            // "GenuineIntel" in EBX, EDX, ECX.
            let intel = (v.ebx, v.edx, v.ecx) == (0x756e_6547, 0x4965_6e69, 0x6c65_746e);
            intel && is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

const MR: usize = 4;
const NR: usize = 6;

/// `y[r·n + j] = x_r · e_j` for every row `r < m` of x and the columns `j0..j1`.
///
/// # Safety
/// [`available`] must be true; `x`, `e` and `y` must hold `m·k`, `n·k` and `m·n` elements, and
/// no other thread may write `y`'s columns `j0..j1`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn block(
    x: *const f32,
    m: usize,
    e: *const bf16,
    n: usize,
    k: usize,
    y: *mut f32,
    j0: usize,
    j1: usize,
) {
    let e = e.cast::<u16>();
    // Columns go in groups of about 512 KB of weight rows, and each group meets every row tile
    // of x before the next group starts: the group is read from memory once and then from L2,
    // and a row tile of x (4 rows, 128 KB at the MLP's k = 8192) stays in L2 while the whole
    // group passes it — rather than all of x (2 MB at batch 64) streaming past every 6 rows.
    let group = (GROUP_BYTES / (NR * k * 2)).max(1) * NR;
    // SAFETY (the whole body): pointers stay inside the extents the caller vouches for.
    unsafe {
        let mut g = j0;
        while g < j1 {
            let g1 = (g + group).min(j1);
            let mut r = 0;
            while r < m {
                let mr = (m - r).min(MR);
                let mut j = g;
                while j < g1 {
                    let nr = (g1 - j).min(NR);
                    let (xr, ej, yrj) = (x.add(r * k), e.add(j * k), y.add(r * n + j));
                    edge_tiles::<Zmm, u16, MR, NR>(xr, mr, ej, nr, k, yrj, n);
                    j += NR;
                }
                r += MR;
            }
            g = g1;
        }
    }
}

/// Bytes of weight rows in one group of columns (see [`block`]).
const GROUP_BYTES: usize = 512 << 10;

/// 16-lane tiles of bf16 rows (given as their bits).
#[cfg(target_arch = "x86_64")]
struct Zmm;

#[cfg(target_arch = "x86_64")]
impl Tile<u16> for Zmm {
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    unsafe fn tile<const A: usize, const B: usize>(
        x: *const f32,
        e: *const u16,
        k: usize,
        y: *mut f32,
        ldy: usize,
    ) {
        // SAFETY (the whole body): `k` elements from each row pointer, as the caller vouches.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); B]; A];
            let whole = k - k % 16;
            let mut p = 0;
            while p < whole {
                let mut ev = [_mm512_setzero_ps(); B];
                for (b, ev) in ev.iter_mut().enumerate() {
                    let bits = _mm256_loadu_si256(e.add(b * k + p).cast());
                    *ev = _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(bits)));
                }
                for (a, acc) in acc.iter_mut().enumerate() {
                    let xv = _mm512_loadu_ps(x.add(a * k + p));
                    for (acc, ev) in acc.iter_mut().zip(&ev) {
                        *acc = _mm512_fmadd_ps(xv, *ev, *acc);
                    }
                }
                p += 16;
            }
            for (a, acc) in acc.iter().enumerate() {
                for (b, acc) in acc.iter().enumerate() {
                    let mut sum = _mm512_reduce_add_ps(*acc);
                    for q in whole..k {
                        sum += *x.add(a * k + q) * f32::from_bits((*e.add(b * k + q) as u32) << 16);
                    }
                    y.add(a * ldy + b).write(sum);
                }
            }
        }
    }
}
