// One run of the web app, measured: serves a built site (`scripts/build-web.sh --site DIR`),
// opens it in headless Chromium on the CPU fallback (no WebGPU flag) with a query, waits until
// the run settles and prints the page's own tokens and milliseconds (`#throughput`, the
// sampling only, load excluded) and the backend line; --runs K runs the evaluation K times in
// the page (Run again) and prints each run's rate. With --trace FILE it also records a
// Chromium trace of every thread (the workers and V8's compiler threads included: open it in
// Perfetto); --flags passes Chromium flags, e.g. "--js-flags=--trace-wasm-compilation-times"
// (the compiler's log then goes to Chromium's stdout: run with DEBUG=pw:browser).
//
//   node tests/browser/measure.mjs --site DIR --query "model=npo&q=0&n=256&workers=1" \
//     [--runs K] [--trace trace.json] [--flags "..."] [--chromium PATH]
import { createServer } from "node:http";
import { readFileSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const SITE = arg("--site", null);
const QUERY = arg("--query", null);
if (!SITE || QUERY === null) {
  console.error('usage: node tests/browser/measure.mjs --site DIR --query "model=npo&q=0&n=256" [--runs K] [--trace FILE] [--flags "..."] [--chromium PATH]');
  process.exit(2);
}
const TRACE = arg("--trace", null);
const FLAGS = (arg("--flags", "") || "").split(" ").filter(Boolean);
const RUNS = Number(arg("--runs", "1"));
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error(`measure.mjs: --runs must be a whole number ≥ 1, not "${arg("--runs")}"`);
  process.exit(2);
}
const MIME = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".jsonl": "text/plain", ".css": "text/css" };

const server = createServer((req, res) => {
  let file = normalize(join(SITE, decodeURIComponent(new URL(req.url, "http://x").pathname)));
  try {
    if (statSync(file).isDirectory()) file = join(file, "index.html");
    const body = readFileSync(file);
    res.writeHead(200, { "Content-Type": MIME[extname(file)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const browser = await chromium.launch({
  executablePath: arg("--chromium", "/usr/bin/chromium"),
  headless: true,
  args: [...FLAGS, "--no-sandbox", "--disable-gpu-sandbox", "--no-first-run"],
});
let failed = false;
try {
  const page = await browser.newPage();
  if (TRACE) {
    const categories = ["devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel", "v8.execute", "v8.wasm", "disabled-by-default-v8.wasm.detailed"];
    await browser.startTracing(page, { path: TRACE, categories });
  }
  await page.goto(`http://127.0.0.1:${server.address().port}/?${QUERY}`);
  const status = page.locator("#status");
  const end = Date.now() + 600_000;
  let state = null;
  while (!state || ["starting", "running"].includes(state)) {
    if (Date.now() > end) throw new Error(`still "${await status.textContent()}" after 10 minutes`);
    await page.waitForTimeout(100);
    state = await status.getAttribute("data-state").catch(() => null);
  }
  if (state !== "done") throw new Error(`the run ended "${state}": ${await status.textContent()}`);
  const t = page.locator("#throughput");
  const line = async () => {
    const [tokens, ms] = [Number(await t.getAttribute("data-tokens")), Number(await t.getAttribute("data-ms"))];
    return `${tokens} tokens in ${ms.toFixed(0)} ms = ${((tokens / ms) * 1000).toFixed(0)} tokens/s`;
  };
  console.log(`run 1: ${await line()} · ${await page.locator("#backend").textContent()}`);
  // Runs after the first, in the same page: the browser has compiled the hot wasm functions
  // with its optimising tier by then.
  for (let run = 2; run <= RUNS; run++) {
    await page.click("#run");
    await page.waitForFunction(() => ["starting", "running"].includes(document.querySelector("#status")?.dataset.state), null, { timeout: 60_000 });
    await page.waitForFunction(() => !["starting", "running"].includes(document.querySelector("#status")?.dataset.state), null, { timeout: 600_000 });
    const ended = await status.getAttribute("data-state");
    if (ended !== "done") throw new Error(`run ${run} ended "${ended}": ${await status.textContent()}`);
    console.log(`run ${run}: ${await line()}`);
  }
  if (TRACE) await browser.stopTracing();
} catch (e) {
  console.error(`measure.mjs: ${e.message}`);
  failed = true;
} finally {
  await browser.close();
  server.close();
}
process.exit(failed ? 1 : 0);
