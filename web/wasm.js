// Which of the app's two wasm builds this browser runs (scripts/build-web.sh): the relaxed-SIMD
// build (probable-web_bg.relaxed.wasm: the same program, whose projection kernel uses relaxed
// SIMD's fused multiply-add) where the browser validates relaxed SIMD, else the baseline
// build (probable-web_bg.wasm). Both share the JS glue (the build checks that its code is
// identical). The page and every worker pick the same way, so the browser downloads and
// compiles one of them.

// A module whose one function is `f32x4.relaxed_madd` of three zero vectors.
const RELAXED_SIMD = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 133, 2, 11,
]);

/** The argument for the glue's `init`: the relaxed-SIMD build's URL, or the default. */
export function wasmBuild() {
  return WebAssembly.validate(RELAXED_SIMD)
    ? { module_or_path: new URL("./probable-web_bg.relaxed.wasm", import.meta.url) }
    : undefined;
}
