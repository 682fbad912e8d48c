//! The nucleus (top-p) cut-off of one row of weights by radix selection on the float bits:
//! exact, O(vocab), and without a sort.

/// Radix levels of [`nucleus_cutoff`]: (shift, bits) of the f32 bit pattern, high to low.
/// 11 + 12 + 8 bits cover everything below the sign bit, which is 0 for weights.
const RADIX_LEVELS: &[(u32, u32)] = &[(20, 11), (8, 12), (0, 8)];
/// The levels for rows shorter than [`SHORT_ROW`] (a small vocabulary, a candidate set):
/// 8 + 8 + 8 + 7 bits, so that clearing a level's buckets (24 bytes each) does not cost
/// more than the row's own histogram.
const SHORT_LEVELS: &[(u32, u32)] = &[(23, 8), (15, 8), (7, 8), (0, 7)];
const SHORT_ROW: usize = 16384;
const MAX_BUCKETS: usize = 1 << 12;

/// Per-bucket count and mass of one radix level, twice: even and odd elements go to
/// separate copies so consecutive adds to one bucket (most of a near-uniform row lands in a
/// handful) do not wait on each other.
pub(super) struct Buckets {
    count: Vec<[u32; 2]>,
    mass: Vec<[f64; 2]>,
}

impl Default for Buckets {
    fn default() -> Self {
        Self {
            count: vec![[0; 2]; MAX_BUCKETS],
            mass: vec![[0.0; 2]; MAX_BUCKETS],
        }
    }
}

/// The m-th largest value of `row` for the smallest m whose top-m mass reaches `mass`
/// (the smallest value when even the whole row falls short): the nucleus cut-off.
///
/// By radix selection in O(vocab): the bits of a non-negative f32 order like its value,
/// so each level histograms the candidates by the next bits (count and mass per bucket),
/// walks the buckets from the top until the mass is reached, and keeps only the bucket
/// where that happens. After the last level the candidates share every bit: one value.
/// A sort per row was 15 % of a sampling step, and a branchy quickselect still half of it
/// at a 32k vocabulary, where an untrained model spreads the nucleus over most tokens.
pub(super) fn nucleus_cutoff(
    row: &[f32],
    mass: f64,
    scratch: &mut Vec<f32>,
    buckets: &mut Buckets,
) -> f32 {
    let mut above = 0.0f64; // mass of the values above every candidate
    let mut first = true;
    let levels = if row.len() < SHORT_ROW {
        SHORT_LEVELS
    } else {
        RADIX_LEVELS
    };
    for &(shift, bits) in levels {
        let mask = (1u32 << bits) - 1;
        let key = |p: f32| ((p.to_bits() >> shift) & mask) as usize;
        let candidates: &[f32] = if first { row } else { scratch };
        let Buckets { count, mass: sums } = buckets;
        count[..=mask as usize].fill([0; 2]);
        sums[..=mask as usize].fill([0.0; 2]);
        let pairs = candidates.chunks_exact(2);
        for &p in pairs.remainder() {
            count[key(p)][0] += 1;
            sums[key(p)][0] += p as f64;
        }
        for pair in pairs {
            let (a, b) = (pair[0], pair[1]);
            count[key(a)][0] += 1;
            sums[key(a)][0] += a as f64;
            count[key(b)][1] += 1;
            sums[key(b)][1] += b as f64;
        }
        let nonempty = (0..=mask as usize).rev().filter(|&k| count[k] != [0; 2]);
        let mut boundary = None;
        for k in nonempty {
            let here = sums[k][0] + sums[k][1];
            if above + here >= mass {
                boundary = Some(k);
                break;
            }
            above += here;
        }
        let Some(boundary) = boundary else {
            // Short of the mass even with every candidate: keep them all.
            return candidates.iter().copied().fold(f32::INFINITY, f32::min);
        };
        if first {
            scratch.clear();
            scratch.extend(row.iter().copied().filter(|&p| key(p) == boundary));
            first = false;
        } else {
            scratch.retain(|&p| key(p) == boundary);
        }
    }
    scratch[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nucleus_of_a_hand_made_row() {
        // p = [0.1, 0.5, 0.15, 0.25]: top-p 0.6 keeps {0.5, 0.25}; 0.3 keeps 0.5 alone;
        // 0.95 needs all but the smallest; 1.0 (and beyond the total) keeps everything.
        let row = [0.1f32, 0.5, 0.15, 0.25];
        let (mut s, mut b) = (Vec::new(), Buckets::default());
        let mut cut = |mass| nucleus_cutoff(&row, mass, &mut s, &mut b);
        assert_eq!(cut(0.6), 0.25);
        assert_eq!(cut(0.3), 0.5);
        assert_eq!(cut(0.89), 0.15);
        assert_eq!(cut(1.5), 0.1);
    }

    /// Against the definition, by sorting: random rows with ties, zeros and values that
    /// share high bits (so that every radix level has work to do).
    #[test]
    fn nucleus_matches_a_sort() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut s, mut b) = (Vec::new(), Buckets::default());
        for case in 0..400 {
            // Short rows take the 8-bit levels, long ones (every fourth) the wide ones.
            let vocab = if case % 4 == 3 {
                rng.random_range(SHORT_ROW..40000)
            } else {
                rng.random_range(1..3000)
            };
            let spread = [0.001f32, 1.0, 8.0][case % 3];
            let mut row: Vec<f32> = (0..vocab)
                .map(|_| match rng.random_range(0..10) {
                    0 => 0.0,
                    1 => 0.5,
                    _ => (rng.random::<f32>() * spread).exp(),
                })
                .collect();
            let total: f32 = row.iter().sum();
            if total == 0.0 {
                continue;
            }
            row.iter_mut().for_each(|p| *p /= total);
            let mass = rng.random_range(0.0..1.0);
            let mut sorted = row.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let mut acc = 0.0f64;
            let mut want = *sorted.last().unwrap();
            for &p in &sorted {
                acc += p as f64;
                if acc >= mass {
                    want = p;
                    break;
                }
            }
            let got = nucleus_cutoff(&row, mass, &mut s, &mut b);
            // Summation order differs, so the mass before a boundary value may round
            // across `mass`: then the neighbouring distinct value is as right.
            if got != want {
                let before: f64 = row.iter().filter(|&&p| p > want).map(|&p| p as f64).sum();
                let with: f64 = row.iter().filter(|&&p| p >= want).map(|&p| p as f64).sum();
                assert!(
                    (before - mass).abs() < 1e-9 || (with - mass).abs() < 1e-9,
                    "case {case}: cut-off {got}, sorting says {want} (mass {mass})"
                );
            }
        }
    }
}
