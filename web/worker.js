// The model worker: the same wasm as the page (the build `wasm.js` picks), started in a
// dedicated module worker so the page's main thread never runs a decode step (see
// web/src/worker.rs).
import init, { worker_start } from "./probable-web.js";
import { wasmBuild } from "./wasm.js";

await init(wasmBuild());
worker_start();
