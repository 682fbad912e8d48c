import { createServer } from "node:http";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
const MIME = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".jsonl": "text/plain", ".css": "text/css" };
const root = process.argv[2], query = process.argv[3], out = process.argv[4];
const server = createServer((req, res) => {
  let file = normalize(join(root, decodeURIComponent(new URL(req.url, "http://x").pathname)));
  try { if (statSync(file).isDirectory()) file = join(file, "index.html");
    const body = readFileSync(file); res.writeHead(200, { "Content-Type": MIME[extname(file)] ?? "application/octet-stream" }); res.end(body);
  } catch { res.writeHead(404).end(); }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const url = `http://127.0.0.1:${server.address().port}/?${query}`;
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: [...(process.env.XFLAGS ? process.env.XFLAGS.split(" ") : []), "--no-sandbox", "--disable-gpu-sandbox", "--no-first-run"] });
const page = await b.newPage();
page.on("console", (m) => console.log("console:", m.text()));
if (out) await b.startTracing(page, { path: out, categories: [...(process.env.XCAT ? process.env.XCAT.split(",") : []), "devtools.timeline", "v8.execute", "disabled-by-default-devtools.timeline", "toplevel"] });
await page.goto(url);
const status = page.locator("#status");
for (;;) { const s = await status.getAttribute("data-state").catch(() => null); if (s && !["starting", "running"].includes(s)) { console.log("state", s); break; } await page.waitForTimeout(100); }
const t = page.locator("#throughput");
console.log("tokens", await t.getAttribute("data-tokens"), "ms", await t.getAttribute("data-ms"), "backend", await page.locator("#backend").textContent().catch(()=>"?"));
if (out) await b.stopTracing();
await b.close(); server.close();
