// The model worker: the same wasm as the page, started in a dedicated module worker so the
// page's main thread never runs a decode step (see web/src/worker.rs).
import init, { worker_start } from "./probable-web.js";

await init();
worker_start();
