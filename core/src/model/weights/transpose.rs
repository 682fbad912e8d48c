//! Row-major matrices transposed on the host (HF stores linear weights as `[out, in]`).

/// Transposes a row-major `[rows, cols]` matrix on the host, in 32×32 tiles (a plain
/// double loop writes with a stride of `rows` and dominated loading a 1B model) and in
/// parallel over bands of output rows.
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    use rayon::prelude::*;
    const TILE: usize = 32;
    let mut out = vec![0.0; values.len()];
    if rows == 0 || cols == 0 {
        return out;
    }
    // Output row c holds input column c; a band is TILE output rows.
    out.par_chunks_mut(TILE * rows)
        .enumerate()
        .for_each(|(band, chunk)| {
            let c0 = band * TILE;
            let c1 = (c0 + TILE).min(cols);
            for r0 in (0..rows).step_by(TILE) {
                let r1 = (r0 + TILE).min(rows);
                for c in c0..c1 {
                    let dst = &mut chunk[(c - c0) * rows..(c - c0 + 1) * rows];
                    for r in r0..r1 {
                        dst[r] = values[r * cols + c];
                    }
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tiled_transpose_equals_the_definition() {
        for (rows, cols) in [(1, 1), (3, 70), (65, 33), (100, 1), (64, 64)] {
            let v: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            let t = super::transpose(&v, rows, cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(t[c * rows + r], v[r * cols + c]);
                }
            }
        }
    }
}
