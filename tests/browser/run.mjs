// Browser tests of the web app, in Debian's headless Chromium (never a downloaded browser).
//
//   node tests/browser/run.mjs --probable target/release/probable [--chromium /usr/bin/chromium]
//
// Serves web/dist + public with `probable serve`, then checks: a bundle loads; the greedy
// answer and its score appear; a sampling run on WebGPU (SwiftShader, software) draws the
// same token ids as `probable eval` on the native CPU with the same bundle, seed and
// settings; the CPU fallback does too when the browser has no WebGPU; a share link
// reproduces settings and numbers; a malicious link renders inert; bad links are named;
// Stop ends a run. WebGPU here is slow (a few tokens/s), so runs are small.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const PROBABLE = resolve(arg("--probable", "target/release/probable"));
const CHROMIUM = arg("--chromium", "/usr/bin/chromium");
const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

// ---- helpers ---------------------------------------------------------------------------

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function serve() {
  const child = spawn(PROBABLE, ["serve", "--port", "0"], { cwd: ROOT });
  const url = await new Promise((ok, fail) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/http:\/\/[0-9.:]+\//);
      if (m) ok(m[0]);
    });
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => fail(new Error(`probable serve exited ${code}: ${out}`)));
  });
  return { url, stop: () => child.kill() };
}

async function browser(webgpu) {
  const args = webgpu ? [...FLAGS, "--enable-unsafe-webgpu"] : FLAGS;
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

async function open(b, url, log) {
  const page = await b.newPage();
  page.on("pageerror", (e) => log.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("favicon")) log.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    log.push(`dialog: ${d.message()}`);
    d.dismiss();
  });
  await page.goto(url);
  return page;
}

/** Waits until the status line leaves the starting/running states; returns its state. */
async function settle(page, timeoutMs) {
  const status = page.locator("#status");
  await status.waitFor();
  const end = Date.now() + timeoutMs;
  for (;;) {
    const state = await status.getAttribute("data-state");
    if (state && !["starting", "running"].includes(state)) return state;
    if (Date.now() > end) throw new Error(`still "${await status.textContent()}" after ${timeoutMs} ms`);
    await page.waitForTimeout(250);
  }
}

async function result(page) {
  return JSON.parse(await page.locator("#result-json").textContent());
}

/** `probable eval` on the native CPU: the reference the browser must reproduce. */
function nativeEval(q, s) {
  const out = join(mkdtempSync(join(tmpdir(), "probable-native-")), "report.json");
  execFileSync(
    PROBABLE,
    [
      "eval",
      "--model", join(ROOT, "public/models", s.model),
      "--data", join(ROOT, "public/models/data/forget10.jsonl"),
      "--limit", String(q + 1),
      "--samples", String(s.n),
      "--seed", String(s.seed),
      "--temperature", String(s.t),
      "--top-p", String(s.top_p),
      "--max-new-tokens", String(s.max_tokens),
      "--alpha", String(s.alpha),
      "--leak-threshold", String(s.tau),
      "--out", out,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return JSON.parse(readFileSync(out, "utf8")).questions[q];
}

function query(q, s) {
  return new URLSearchParams({ set: "forget", q: String(q), ...Object.fromEntries(Object.entries(s).map(([k, v]) => [k, String(v)])) }).toString();
}

/** Same token ids on ≥ 95 % of the samples, and bounds within tolerance. */
function compare(web, native, label) {
  assert(web.samples.length === native.samples.length, `${label}: ${web.samples.length} vs ${native.samples.length} samples`);
  const same = web.samples.filter((s, i) => JSON.stringify(s.ids) === JSON.stringify(native.samples[i].ids)).length;
  const frac = same / native.samples.length;
  assert(JSON.stringify(web.greedy.ids) === JSON.stringify(native.greedy.ids), `${label}: greedy ids differ`);
  assert(frac >= 0.95, `${label}: only ${same}/${native.samples.length} samples have the native token ids`);
  const tol = frac === 1 ? 1e-12 : 0.1;
  for (const k of ["mean_upper", "std_upper", "ed_score", "max_score"]) {
    const d = Math.abs(web.bounds[k] - native.bounds[k]);
    assert(d <= tol, `${label}: ${k} ${web.bounds[k]} vs native ${native.bounds[k]}`);
  }
  const d = Math.abs(web.bounds.binary.upper - native.bounds.binary.upper);
  assert(d <= tol, `${label}: M_bin ${web.bounds.binary.upper} vs native ${native.bounds.binary.upper}`);
  return `${same}/${native.samples.length} samples with identical token ids; M_mu ${web.bounds.mean_upper.toFixed(4)} (native ${native.bounds.mean_upper.toFixed(4)})`;
}

// ---- tests -----------------------------------------------------------------------------

const SMALL = { model: "npo", n: 12, t: 1, top_p: 0.9, seed: 3, alpha: 0.01, tau: 0.5, max_tokens: 32 };

const tests = {
  async "WebGPU: loads a bundle, shows greedy, samples match the native CPU"({ url, gpu }) {
    const log = [];
    const page = await open(gpu, `${url}?${query(2, SMALL)}`, log);
    const state = await settle(page, 600_000);
    const backend = await page.locator("#backend").textContent();
    assert(state === "done", `state ${state}: ${await page.locator("#status").textContent()} ${log.join(" | ")}`);
    assert(backend.startsWith("WebGPU"), `backend is "${backend}", not WebGPU`);
    assert((await page.locator("#greedy-answer").textContent()).trim().length > 0, "no greedy answer");
    assert(/^\d\.\d{3}$/.test(await page.locator("#greedy-score").textContent()), "no greedy score");
    const detail = compare(await result(page), nativeEval(2, SMALL), "WebGPU");
    assert(log.length === 0, log.join(" | "));
    await page.close();
    return `${backend}; ${detail}`;
  },

  async "CPU fallback (no WebGPU adapter): samples match the native CPU"({ url, cpu }) {
    const log = [];
    const s = { ...SMALL, n: 64, seed: 11 };
    const page = await open(cpu, `${url}?${query(5, s)}`, log);
    assert((await settle(page, 300_000)) === "done", `${await page.locator("#status").textContent()} ${log.join(" | ")}`);
    const backend = await page.locator("#backend").textContent();
    assert(backend.startsWith("CPU fallback ("), `backend is "${backend}"`);
    const detail = compare(await result(page), nativeEval(5, s), "CPU fallback");
    await page.close();
    return `${backend}; ${detail}`;
  },

  async "share link round-trips: settings made in the form, reopened, same numbers"({ url, cpu }) {
    const log = [];
    const page = await open(cpu, url, log);
    assert((await settle(page, 120_000)) === "ready", "the app did not become ready");
    await page.selectOption("#model", "ga");
    await page.selectOption("#set", "retain");
    await page.selectOption("#question", "4");
    await page.selectOption("#samples-n", "16");
    for (const [id, v] of [["#seed", "42"], ["#temperature", "0.8"], ["#top-p", "0.95"], ["#alpha", "0.05"], ["#tau", "0.4"], ["#max-tokens", "24"]]) {
      await page.fill(id, v);
      await page.locator(id).dispatchEvent("change");
    }
    await page.check("#adaptive");
    await page.click("#run");
    assert((await settle(page, 120_000)) === "done", await page.locator("#status").textContent());
    const first = await result(page);
    await page.click("#copy-link");
    const link = await page.locator("#share-link").inputValue();
    for (const part of ["model=ga", "set=retain", "q=4", "n=16", "seed=42", "t=0.8", "top_p=0.95", "alpha=0.05", "tau=0.4", "max_tokens=24", "adaptive=1"]) {
      assert(link.includes(part), `share link ${link} lacks ${part}`);
    }
    const again = await open(cpu, link, log);
    assert((await settle(again, 120_000)) === "done", "the shared link did not run");
    assert((await again.locator("#seed").inputValue()) === "42", "seed not restored");
    assert((await again.locator("#adaptive").isChecked()) === true, "adaptive flag not restored");
    assert((await again.locator("#question").inputValue()) === "4", "question not restored");
    const second = await result(again);
    assert(JSON.stringify(second) === JSON.stringify(first), "the shared link produced different samples or numbers");
    assert(log.length === 0, log.join(" | "));
    await page.close();
    await again.close();
    return `${link.replace(url, "/")} → identical report (${first.samples.length} samples, M_mu ${first.bounds.mean_upper.toFixed(4)})`;
  },

  async "malicious link renders inert"({ url, cpu }) {
    const log = [];
    const evil = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;
    const ref = `<b id="injected">Beirut</b><svg onload="window.__pwned=3">`;
    const q = new URLSearchParams({ model: "npo", set: "custom", question: evil, reference: ref, n: "4", max_tokens: "8" });
    const page = await open(cpu, `${url}?${q}`, log);
    assert((await settle(page, 120_000)) === "done", await page.locator("#status").textContent());
    assert((await page.evaluate(() => window.__pwned)) === undefined, "injected script ran");
    assert((await page.locator("img, #injected, body script:not([type=module])").count()) === 0, "injected markup became elements");
    assert((await page.locator("#custom-question").inputValue()) === evil, "the question was not kept as text");
    const json = await result(page);
    assert(json.question === evil && json.answer === ref, "the report does not carry the text verbatim");
    assert(log.every((l) => !l.startsWith("dialog")), log.join(" | "));
    await page.close();
    return "script, img onerror and svg onload stayed text";
  },

  async "bad link parameters are named and do not run"({ url, cpu }) {
    const log = [];
    const page = await open(cpu, `${url}?model=npo&n=0&top_p=2`, log);
    assert((await settle(page, 120_000)) === "ready", "a bad link must not start a run");
    const errors = await page.locator("#link-errors").textContent();
    assert(errors.includes("`n=0`") && errors.includes("`top_p=2`"), `errors: ${errors}`);
    await page.goto(`${url}?model=no-such-model`);
    assert((await settle(page, 120_000)) === "error", "an unknown model must be an error");
    const status = await page.locator("#status").textContent();
    assert(status.includes("no-such-model"), status);
    await page.close();
    return `${errors.trim()} / ${status.trim()}`;
  },

  async "Stop ends a run"({ url, cpu }) {
    const log = [];
    const page = await open(cpu, `${url}?model=npo&set=forget&q=1&n=4096`, log);
    await page.locator("#progress-text").waitFor({ timeout: 120_000 });
    await page.click("#stop");
    assert((await settle(page, 60_000)) === "stopped", await page.locator("#status").textContent());
    assert((await page.locator("#run").isDisabled()) === false, "the run button stayed disabled");
    const status = await page.locator("#status").textContent();
    await page.close();
    return status;
  },
};

// ---- runner ----------------------------------------------------------------------------

const server = await serve();
const [gpu, cpu] = [await browser(true), await browser(false)];
let failed = 0;
for (const [name, test] of Object.entries(tests)) {
  const t0 = Date.now();
  try {
    const detail = await test({ url: server.url, gpu, cpu });
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${detail}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${e.message}`);
  }
}
await gpu.close();
await cpu.close();
server.stop();
console.log(failed ? `${failed} browser test(s) failed` : "all browser tests passed");
process.exit(failed ? 1 : 0);
