//! Token selection on cubecl devices (wgpu, WebGPU, CUDA) in one kernel launch: the top-p /
//! top-k cut-off by radix selection on the float bits of the weights, and the inverse-CDF
//! draw in id order.
//!
//! The tensor-op path ([`super::bisection`]) finds the cut-off by 30 bisection passes over
//! `[rows, vocab]`, each a handful of kernels; on llvmpipe they were 89 % of a decode step at
//! batch 64 and a 128k vocabulary. Here one cube (workgroup) takes one row:
//!
//! - the bits of a non-negative f32 order like its value, so [`LEVELS`] passes over the row,
//!   each tallying the mass (top-p) or the count (top-k) of the weights that share the bits
//!   chosen so far by their next [`DIGIT_BITS`] bits, narrow the cut-off to one value — the
//!   host path's radix selection ([`super::nucleus`]), with exactly its rule: the m-th largest
//!   weight for the smallest m whose top-m mass reaches the nucleus (the k-th largest for
//!   top-k, ties kept);
//! - the draw splits the row into one contiguous chunk per unit: the chunks' kept masses,
//!   added in the same order by every unit, tell the one unit whose chunk holds `u · total`,
//!   and that unit walks its chunk to the token.
//!
//! WGSL has no float atomics, so each unit tallies its strided share of the row into its own
//! column of shared memory, and the columns are added in a fixed order: the same logits give
//! the same tokens on the same device. WGSL has no f64 either, where the host sums in f64:
//! every sum here is compensated (Kahan), so over 128k weights it stays within a few f32
//! roundings and the GPU keeps and draws the host's tokens but at true near-ties. Every `sync_cube` sits in control flow fixed at
//! compile time (the levels are unrolled, the cut-off kinds are kernel variants), as WGSL's
//! uniformity rules require of barriers.

use burn::tensor::{Int, Tensor};
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;

/// Units per cube. WebGPU guarantees 256 invocations and 16 KiB of workgroup memory; the
/// tallies take `BINS · UNITS` f32s of it.
const UNITS: usize = 128;
/// Bits of the weight consumed per radix level.
const DIGIT_BITS: usize = 4;
const BINS: usize = 1 << DIGIT_BITS;
// The kernel marks "no digit chosen" with the literal 16 (`BINS`: a constant there would be
// a compile-time value that a runtime choice cannot be assigned to).
const _: () = assert!(BINS == 16);
/// Levels that cover all 32 bits of an f32, high to low.
const LEVELS: usize = 32 / DIGIT_BITS;
/// Cubes per launch dimension that every cubecl runtime accepts (WebGPU's minimum limit).
const MAX_ROWS: usize = 65535;

/// The cut-off of one row as a weight bit pattern: every weight whose bits are at least the
/// returned value is kept. `by_count` tallies 1 per weight (top-k: `goal` = k) instead of
/// its mass (top-p: `goal` = the fraction of the row's mass the nucleus must reach; the
/// first level tallies every weight, so its totals give the row's mass). When even the
/// whole row falls short (float rounding of a nucleus near 1), the smallest positive weight
/// is the cut-off and the whole row is kept, as on the host.
#[cube]
fn cutoff(
    weights: &[f32],
    base: usize,
    n: usize,
    goal: f32,
    sums: &mut Shared<[f32]>,
    totals: &mut Shared<[f32]>,
    #[comptime] by_count: bool,
) -> u32 {
    let unit = UNIT_POS as usize;
    let mut prefix = 0u32; // the bits chosen so far
    let mut mask = 0u32; // which bits those are
    let mut above = 0.0f32; // mass of the weights above every remaining candidate
    let mut target = goal;
    #[unroll]
    for level in 0..LEVELS {
        let shift = (32 - DIGIT_BITS * (level + 1)) as u32;
        let mut own = Array::<f32>::new(BINS);
        let mut lost = Array::<f32>::new(BINS); // Kahan: what `own` dropped, negated
        for i in range_stepped(unit, n, UNITS) {
            let w = weights[base + i];
            let bits = u32::reinterpret(w);
            if (bits & mask) == prefix {
                let digit = ((bits >> shift) & (BINS as u32 - 1)) as usize;
                if by_count {
                    own[digit] += 1.0;
                } else {
                    let y = w - lost[digit];
                    let t = own[digit] + y;
                    lost[digit] = (t - own[digit]) - y;
                    own[digit] = t;
                }
            }
        }
        for d in 0..BINS {
            sums[d * UNITS + unit] = own[d] - lost[d];
        }
        sync_cube();
        if unit < BINS {
            let mut total = 0.0f32;
            let mut dropped = 0.0f32;
            for j in 0..UNITS {
                let y = sums[unit * UNITS + j] - dropped;
                let t = total + y;
                dropped = (t - total) - y;
                total = t;
            }
            totals[unit] = total - dropped;
        }
        sync_cube();
        if !by_count && level == 0 {
            let mut mass = 0.0f32;
            for d in 0..BINS {
                mass += totals[d];
            }
            target = goal * mass;
        }
        // Every unit walks the same totals in the same order, so all choose the same digit.
        // BINS: none yet.
        let mut chosen = 16u32;
        let mut lowest = 16u32;
        let mut mass = above;
        for dd in 0..BINS {
            let d = BINS - 1 - dd;
            let here = totals[d];
            if chosen == BINS as u32 {
                if mass + here >= target {
                    chosen = d as u32;
                } else {
                    mass += here;
                }
            }
            if here > 0.0 {
                lowest = d as u32;
            }
        }
        if chosen == BINS as u32 {
            // Short of the target: descend into the lowest occupied digit, with everything
            // above it counted as above.
            chosen = lowest;
            mass = above;
            for dd in 0..BINS {
                let d = BINS - 1 - dd;
                if (d as u32) > lowest {
                    mass += totals[d];
                }
            }
        }
        above = mass;
        let digit = select(chosen < BINS as u32, chosen, 0u32);
        prefix |= digit << shift;
        mask |= (BINS as u32 - 1) << shift;
        // The next level overwrites the tallies every unit just read.
        sync_cube();
    }
    prefix
}

/// One row per cube: `weights` `[rows, vocab]` (non-negative, any scale), `uniforms` `[rows]`,
/// `ids` `[rows]` (as f32: ids below 2²⁴ are exact). `nucleus` is the fraction of the row's
/// mass a top-p nucleus must reach, `top_k` the count a top-k set must reach.
#[cube(launch)]
fn select_kernel(
    weights: &[f32],
    uniforms: &[f32],
    ids: &mut [f32],
    vocab: u32,
    nucleus: f32,
    top_k: f32,
    #[comptime] by_p: bool,
    #[comptime] by_k: bool,
) {
    let unit = UNIT_POS as usize;
    let row = CUBE_POS;
    let n = vocab as usize;
    let base = row * n;
    let mut sums = Shared::<[f32]>::new_slice(BINS * UNITS);
    let mut totals = Shared::<[f32]>::new_slice(BINS);
    let mut lasts = Shared::<[u32]>::new_slice(UNITS);

    let mut cut = 0u32;
    if by_p {
        cut = cutoff(weights, base, n, nucleus, &mut sums, &mut totals, false);
    }
    if by_k {
        let by_count = cutoff(weights, base, n, top_k, &mut sums, &mut totals, true);
        cut = select(by_count > cut, by_count, cut);
    }

    // The draw: one contiguous chunk of ids per unit.
    let chunk = n.div_ceil(UNITS);
    let start = select(unit * chunk < n, unit * chunk, n);
    let end = select(start + chunk < n, start + chunk, n);
    let mut own = 0.0f32;
    let mut lost = 0.0f32;
    let mut last = 0u32;
    for i in start..end {
        let w = weights[base + i];
        if u32::reinterpret(w) >= cut && w > 0.0 {
            let y = w - lost;
            let t = own + y;
            lost = (t - own) - y;
            own = t;
            last = i as u32;
        }
    }
    sums[unit] = own - lost;
    lasts[unit] = last;
    sync_cube();
    // Every unit adds the chunk masses in the same order, and `after` of one unit is the very
    // state `before` of the next reads, so the ranges [before, after) of consecutive units
    // meet exactly and at most one of them holds u · total.
    let mut acc = 0.0f32;
    let mut dropped = 0.0f32;
    let mut before = 0.0f32;
    let mut after = 0.0f32;
    let mut final_last = 0u32;
    for j in 0..UNITS {
        if j == unit {
            before = acc - dropped;
        }
        let y = sums[j] - dropped;
        let t = acc + y;
        dropped = (t - acc) - y;
        acc = t;
        if j == unit {
            after = acc - dropped;
        }
        final_last = select(lasts[j] > final_last, lasts[j], final_last);
    }
    let total = acc - dropped;
    let target = uniforms[row] * total;
    if before <= target && target < after {
        // The first id whose running sum passes the target, summed from the chunk's start
        // (small values: fine rounding); rounding can leave it unpassed, and then the
        // chunk's last kept id is the draw.
        let rest = target - before;
        let mut id = last;
        let mut cdf = 0.0f32;
        let mut slack = 0.0f32;
        let mut found = false;
        for i in start..end {
            let w = weights[base + i];
            if !found && u32::reinterpret(w) >= cut && w > 0.0 {
                let y = w - slack;
                let t = cdf + y;
                slack = (t - cdf) - y;
                cdf = t;
                if cdf - slack > rest {
                    id = i as u32;
                    found = true;
                }
            }
        }
        ids[row] = f32::cast_from(id);
    }
    // No chunk holds the target (u · total rounded up to the total, or a NaN in a poisoned
    // row, which fails every comparison): the last kept id, as on the host.
    let inside = target < total;
    if unit == 0 && !inside {
        ids[row] = f32::cast_from(final_last);
    }
}

/// Ids drawn from `weights: [rows, vocab]` (the tempered softmax up to a per-row scale) with
/// `uniforms: [rows, 1]`, keeping the top-p nucleus (`nucleus`: the fraction of the row's
/// mass it must reach) and/or the top-k set. `None` when the tensors are not plain cubecl tensors (another backend, or
/// a fused build), or the batch exceeds one launch: the caller then takes the tensor-op path.
pub(super) fn select_ids(
    weights: &Tensor<2>,
    uniforms: &Tensor<2>,
    nucleus: Option<f64>,
    top_k: Option<usize>,
) -> Option<Tensor<1, Int>> {
    let [rows, vocab] = weights.dims();
    if rows == 0 || rows > MAX_ROWS || vocab >= 1 << 24 {
        return None;
    }
    let device = weights.device();
    let w = contiguous_f32(weights.clone())?;
    let u = contiguous_f32(uniforms.clone().reshape([rows]))?;
    let ids = contiguous_f32(Tensor::<1>::empty([rows], &device))?;
    let client = w.client.clone();
    // SAFETY: the buffers are contiguous f32 tensors of `rows · vocab`, `rows` and `rows`
    // elements, as the kernel reads and writes them (`launch` bounds-checks every access).
    unsafe {
        select_kernel::launch(
            &client,
            CubeCount::Static(rows as u32, 1, 1),
            CubeDim::new_1d(UNITS as u32),
            BufferArg::from_raw_parts(w.handle.clone(), rows * vocab),
            BufferArg::from_raw_parts(u.handle.clone(), rows),
            BufferArg::from_raw_parts(ids.handle.clone(), rows),
            vocab as u32,
            nucleus.unwrap_or(1.0) as f32,
            top_k.unwrap_or(0) as f32,
            nucleus.is_some(),
            top_k.is_some(),
        );
    }
    Some(Tensor::<1>::from_primitive::<CubeBackend>(ids).int())
}

/// The cubecl tensor behind `t`, contiguous and f32.
fn contiguous_f32<const D: usize>(t: Tensor<D>) -> Option<CubeTensor> {
    let t = t.cast(burn::tensor::DType::F32);
    let cube = t.try_into_primitive::<CubeBackend>().ok()?;
    Some(into_contiguous(cube))
}
