import { createServer } from "node:http";
import { readFileSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
const SITE = "/tmp/site-b";
const MIME = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".jsonl": "text/plain", ".css": "text/css" };
const server = createServer((req, res) => {
  let file = normalize(join(SITE, decodeURIComponent(new URL(req.url, "http://x").pathname)));
  try { if (statSync(file).isDirectory()) file = join(file, "index.html"); res.writeHead(200, { "Content-Type": MIME[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file)); } catch { res.writeHead(404).end(); }
});
await new Promise((ok) => server.listen(8125, "127.0.0.1", ok));
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const ctx = await b.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 });
const page = await ctx.newPage();
await page.goto("http://127.0.0.1:8125/?model=npo&set=forget&q=0&n=256&seed=0&max_tokens=40");
await page.waitForFunction(() => document.querySelector("#status")?.dataset.state === "done", null, { timeout: 120000 });
const bt = await page.locator("#bounds").boundingBox();
await page.screenshot({ path: `/tmp/shots/bounds.png`, clip: { x: 0, y: bt.y - 40, width: 390, height: bt.height + 60 }, fullPage: true });
console.log("page width", await page.evaluate(() => document.documentElement.scrollWidth), "bounds", JSON.stringify(bt));
const r = await ctx.newPage();
await r.goto("http://127.0.0.1:8125/?report=" + encodeURIComponent("http://127.0.0.1:8125/r.json"));
await r.waitForFunction(() => document.querySelector("#status")?.dataset.state === "ready", null, { timeout: 120000 });
await r.waitForTimeout(500);
await r.screenshot({ path: `/tmp/shots/report0.png` });
const q = await r.locator("#questions").boundingBox();
await r.screenshot({ path: `/tmp/shots/report1.png`, clip: { x: 0, y: q.y - 40, width: 390, height: Math.min(700, q.height + 60) }, fullPage: true });
console.log("report width", await r.evaluate(() => document.documentElement.scrollWidth), JSON.stringify(q));
await b.close(); server.close();
