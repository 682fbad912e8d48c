//! A vectorisable `e^x` and maximum for the CPU kernels (the sampler's softmax weights,
//! attention, SiLU).

/// The larger of `a` and `b`, `a` where `b` is NaN: what `f32::max` gives wherever `a` is
/// not NaN (a running maximum from −∞). `f32::max` compiles to a call per element on wasm32
/// (wasm's own `max` propagates NaN, so the compiler calls libm's `fmaxf` instead); this
/// is a compare and a select, which vectorises everywhere — the browser's sampler and
/// attention had spent a tenth of a decode step in `fmaxf`.
#[inline(always)]
pub(crate) fn larger(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// `e^x` for `x ≤ 0` (0 below −87, where f32 runs out of normal numbers), to about one
/// part in 10⁷: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by Cephes' `expf` polynomial
/// (S. L. Moshier), 2ⁿ written into the exponent bits. Only + and × on f32, so it
/// vectorises (libm's `expf` is a call per element: a tenth of a sampling step at a 32k
/// vocabulary) and gives the same bits on every platform, wasm32 included.
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer without a round().
    const ROUND: f32 = 12_582_912.0;
    let x = larger(-87.0, x);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // The integer n also sits in the low mantissa bits of `shifted`: read it from there
    // (an `as i32` cast saturates, which compiles to scalar code and stops vectorisation).
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    let two_n = f32::from_bits(n_bits.wrapping_add(127) << 23);
    let y = er * two_n;
    if x <= -87.0 {
        0.0
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_on_the_whole_range() {
        let mut worst = 0.0f64;
        for i in 0..=870_000 {
            let x = -(i as f32) * 1e-4;
            let want = (x as f64).exp();
            let got = exp_nonpositive(x) as f64;
            if x > -86.0 {
                worst = worst.max((got - want).abs() / want);
            }
        }
        assert!(worst < 3e-7, "relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-100.0), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
    }
}
