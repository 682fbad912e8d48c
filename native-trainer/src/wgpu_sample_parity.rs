//! Token selection on wgpu (the one-launch radix kernel, `sample/select/radix_kernel.rs`) draws the
//! tokens the CPU's host path draws. Built only with `--features wgpu` (run by
//! `scripts/wgpu-train-parity.sh`).

use burn::tensor::{Device, Distribution, Int, Tensor};
use probable_core::sample::{
    select_tokens, select_tokens_in_kernel, AdaptiveTemperature, DecodeConfig, Strategy,
};

fn ids(t: Tensor<1, Int>) -> Vec<i64> {
    t.into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap()
}

fn config(temperature: f64, top_p: f64, top_k: Option<usize>, adaptive: bool) -> DecodeConfig {
    DecodeConfig {
        strategy: Strategy::Sample {
            temperature,
            top_p,
            top_k,
        },
        adaptive: adaptive.then(AdaptiveTemperature::default),
        ..DecodeConfig::paper(1, vec![], 0)
    }
}

/// `logits` and `u` drawn on the CPU (host path) and by the selection kernel on wgpu: the
/// rows whose draws differ, as (row, host id, wgpu id), after checking that the kernel ran,
/// that every id it drew is a token, and that it draws the same ids twice.
fn differing(logits: &Tensor<2>, u: &Tensor<2>, config: &DecodeConfig) -> Vec<(usize, i64, i64)> {
    let gpu = Device::wgpu(Default::default());
    let vocab = logits.dims()[1] as i64;
    let host = ids(select_tokens(logits.clone(), config, u.clone()));
    let on_gpu = || {
        ids(select_tokens_in_kernel(
            Tensor::from_data(logits.to_data(), &gpu),
            config,
            Tensor::from_data(u.to_data(), &gpu),
        )
        .expect("the selection kernel runs on wgpu"))
    };
    let device = on_gpu();
    assert_eq!(device, on_gpu(), "the same inputs gave other ids on wgpu");
    assert!(
        device.iter().all(|&i| (0..vocab).contains(&i)),
        "{device:?}"
    );
    let differ: Vec<_> = host
        .iter()
        .zip(&device)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(r, (&a, &b))| (r, a, b))
        .collect();
    eprintln!("{} of {} draws differ", differ.len(), host.len());
    differ
}

/// Relative distance (of the mass involved) within which f32 arithmetic may decide a boundary
/// either way: a few roundings at the scale of the total (f32's relative spacing is 6e-8 to
/// 1.2e-7). A token of a flat 128k row holds ~8e-6 of the row on average.
const ROUNDING: f64 = 6e-7;

/// Relative distance within which the f32 weights may order two tokens either way or tie
/// them: `l − max` rounded in f32 moves a weight by up to 2⁻²⁴ · |l − max| (5e-7 at 8), and
/// the exponential adds its own few roundings. A flat 128k row's sorted weights lie ~1e-5
/// apart near its nucleus edge, so a few rows in ten thousand have a pair this close at the
/// edge: 6 of 19,200 flat rows' host draws failed the check before it allowed for them, none
/// after.
const WEIGHT_ROUNDING: f64 = 2e-6;

/// Whether `drawn` is a draw f32 rounding allows from `row` (T = 1, top-p 0.9, uniform `u`),
/// recomputed in f64: the draw from the host's nucleus, or from a nucleus one edge value
/// shorter or longer where that edge lies within [`ROUNDING`] of the goal, or with the value
/// below the edge in or in place of the edge value where the two lie within
/// [`WEIGHT_ROUNDING`]; or a token next to such a draw whose boundary with it lies within
/// [`ROUNDING`] of `u` · mass.
fn rounding_allows(row: &[f32], u: f32, drawn: i64) -> bool {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64;
    let w: Vec<f64> = row.iter().map(|&l| (l as f64 - max).exp()).collect();
    let total: f64 = w.iter().sum();
    let goal = 0.9 * (1.0 - 1e-6) * total;
    let mut sorted = w.clone();
    sorted.sort_by(|x, y| y.total_cmp(x));
    let mut mass = 0.0;
    let cut = *sorted
        .iter()
        .find(|&&x| {
            mass += x;
            mass >= goal
        })
        .unwrap_or(sorted.last().unwrap());
    // The nuclei rounding allows, each as the tokens it keeps.
    let from = |c: f64| -> Vec<bool> { w.iter().map(|&x| x >= c).collect() };
    let mass_of =
        |kept: &[bool]| -> f64 { w.iter().zip(kept).filter(|(_, &k)| k).map(|(x, _)| x).sum() };
    let below = sorted.iter().copied().find(|&x| x < cut);
    let below_ties = below.filter(|&b| cut - b <= WEIGHT_ROUNDING * cut);
    let mut nuclei = vec![from(cut)];
    if (mass_of(&nuclei[0]) - goal).abs() <= ROUNDING * total || below_ties.is_some() {
        // One more value might have been needed, or ties with the cut in f32: the next one
        // below the cut.
        nuclei.extend(below.map(from));
    }
    if let Some(b) = below_ties {
        // f32 may order the value below the cut above it: it takes the cut's place.
        nuclei.push(w.iter().map(|&x| x > cut || x == b).collect());
    }
    let above = w.iter().filter(|&&x| x > cut).sum::<f64>();
    if (above - goal).abs() <= ROUNDING * total {
        // The cut value might not have been needed: the next one above it.
        nuclei.extend(sorted.iter().rev().copied().find(|&x| x > cut).map(from));
    }
    let drawn = drawn as usize;
    nuclei.iter().any(|kept| {
        let mass = mass_of(kept);
        let target = u as f64 * mass;
        let mut cdf = 0.0;
        let Some(id) = (0..w.len()).find(|&i| {
            if kept[i] {
                cdf += w[i];
            }
            cdf > target
        }) else {
            return false;
        };
        let near = |boundary: f64| (boundary - target).abs() <= ROUNDING * mass;
        let next = (id + 1..w.len()).find(|&i| kept[i]);
        let previous = (0..id).rev().find(|&i| kept[i]);
        drawn == id
            || (Some(drawn) == next && near(cdf))
            || (Some(drawn) == previous && near(cdf - w[id]))
    })
}

/// T = 1 and top-p 0.9 at Llama 3's vocabulary: a draw may differ only where f32 rounding
/// decides a boundary (each differing row is checked in f64). Flat rows differ in about one
/// in 60; peaked ones did not differ in these runs.
#[test]
fn wgpu_selects_the_cpu_tokens_at_a_128k_vocabulary() {
    let cpu = Device::flex();
    let (rows, vocab) = (64, 128256);
    for scale in [1.0, 6.0] {
        let logits = Tensor::<2>::random([rows, vocab], Distribution::Normal(0.0, scale), &cpu);
        let u = Tensor::<2>::random([rows, 1], Distribution::Uniform(0.0, 1.0), &cpu);
        let config = DecodeConfig::paper(1, vec![], 0);
        let differ = differing(&logits, &u, &config);
        let values = logits.to_data().try_to_vec::<f32>().unwrap();
        let us = u.to_data().try_to_vec::<f32>().unwrap();
        let row = |r: usize| &values[r * vocab..(r + 1) * vocab];
        // The check discriminates: the id after the host's draw passes only where the draw's
        // boundary happens to lie within rounding (or the nucleus edge moves it there).
        let host = ids(select_tokens(logits.clone(), &config, u.clone()));
        let bad: Vec<usize> = (0..rows)
            .filter(|&r| !rounding_allows(row(r), us[r], host[r]))
            .collect();
        assert!(
            bad.is_empty(),
            "scale {scale}: host draws of rows {bad:?} fail the check"
        );
        let fake = (0..rows)
            .filter(|&r| rounding_allows(row(r), us[r], host[r] + 1))
            .count();
        eprintln!("scale {scale}: {fake} of {rows} off-by-one draws pass the check");
        assert!(
            fake * 4 <= rows,
            "scale {scale}: {fake} of {rows} off-by-one draws pass"
        );
        for (r, host, gpu) in differ {
            assert!(
                rounding_allows(row(r), us[r], gpu),
                "scale {scale}, row {r}: host drew {host}, wgpu {gpu}, which no rounding allows"
            );
        }
    }
}

/// Every kind of cut-off (top-p, top-k, both, a nucleus of one token, top-k 1, none,
/// adaptive temperature) on flat, peaked and tied rows (logits rounded to integers: many
/// exact ties at the cut).
#[test]
fn wgpu_selects_the_cpu_tokens_for_every_cut_off() {
    let cpu = Device::flex();
    let rows = 512;
    for (scale, vocab, tied) in [
        (1.0, 1000, false),
        (4.0, 1000, false),
        (8.0, 50, false),
        (2.0, 300, true),
    ] {
        let mut logits = Tensor::<2>::random([rows, vocab], Distribution::Normal(0.0, scale), &cpu);
        if tied {
            logits = logits.round();
        }
        let u = Tensor::<2>::random([rows, 1], Distribution::Uniform(0.0, 1.0), &cpu);
        for (t, p, k, adaptive) in [
            (1.0, 0.9, None, false),
            (0.7, 0.5, None, false),
            (1.0, 1.0, Some(5), false),
            (1.3, 0.95, Some(40), false),
            (1.0, 0.01, None, false),
            (1.0, 1.0, Some(1), false),
            (0.8, 1.0, None, false),
            (1.0, 0.9, None, true),
        ] {
            let differ = differing(&logits, &u, &config(t, p, k, adaptive)).len();
            assert!(
                differ <= 2,
                "scale {scale}, vocab {vocab}, tied {tied}, T {t}, top-p {p}, top-k {k:?}, \
                 adaptive {adaptive}: {differ} of {rows} draws differ"
            );
        }
    }
}
