// Time to interactive of the vdc's image library in headless Chromium (see bench/ui).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { chromium } from "../end2end/node_modules/playwright-core/index.mjs";

const BIN = process.env.QUANTIX_BIN;
const IMAGES = Number(process.env.IMAGES ?? 10000);
const RUNS = Number(process.env.RUNS ?? 15);
const TOKEN = "ui-bench-cluster-token-0123456789";

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

const ADMIN_PASSWORD = "ui-bench-admin-password";

/** The first admin's session cookie (`name=value`). */
async function signIn(url) {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
  });
  if (r.status !== 200) throw new Error(`sign-in: ${r.status} ${await r.text()}`);
  return r.headers.get("set-cookie").split(";")[0];
}

async function startVdc() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "quantix-ui-bench-"));
  fs.writeFileSync(path.join(dir, "password"), ADMIN_PASSWORD);
  const child = spawn(BIN, ["vdc", "--listen", `127.0.0.1:${port}`, "--database-url", `sqlite://${dir}/c.db`, "--cluster-token", TOKEN,
    "--data-dir", dir, "--initial-admin-password-file", path.join(dir, "password")], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, child, cookie: await signIn(url) };
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("vdc did not start");
}

async function load(url, count) {
  const distros = [["ubuntu", "/linux/ubuntu", "linux"], ["debian", "/linux/debian", "linux"], ["rocky", "/linux/rhel", "linux"], ["windows-server", "/windows/server", "windows"], ["freebsd", "/other/bsd", "bsd"]];
  const perNode = 1000;
  for (let n = 0; n * perNode < count; n++) {
    const node = { node_id: `hv${n}`, node_name: `hypervisor ${n}`, node_api_url: `http://10.0.0.${n + 1}:3001` };
    const events = [];
    for (let i = 0; i < Math.min(perNode, count - n * perNode); i++) {
      const [d, folder, family] = distros[(i + n) % distros.length];
      const id = `${String(n).padStart(8, "0")}-0000-4000-8000-${String(i).padStart(12, "0")}`;
      const filename = `${d}-${i}-amd64.iso`;
      events.push({
        event_type: 1,
        timestamp: 1,
        image: {
          id, name: filename.slice(0, -4), filename, folder_path: `${folder}/${i % 7}`, size_bytes: 1000000 + i, format: "iso",
          storage_pool_id: `pool${i % 3}`, path: `/data/iso/${filename}`, checksum: `sha256:${"ab".repeat(32)}`,
          os_family: family, os_distribution: d, os_version: null, created_at: 1, updated_at: 1, revision: i + 1, node_id: null,
        },
      });
    }
    const r = await fetch(`${url}/limiquantix.storage.v1.ImageService/NotifyImageChanges`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ ...node, events }),
    });
    if (!r.ok) throw new Error(await r.text());
    await fetch(`${url}/limiquantix.storage.v1.ImageService/Heartbeat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ ...node, pending: 0, pools: [] }),
    });
  }
}

async function timeToInteractive(browser, { url, cookie }) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    // A new context each time: no HTTP cache, like a first visit.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const [name, value] = cookie.split("=");
    await context.addCookies([{ name, value, url }]);
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(`${url}/images`, { waitUntil: "commit" });
    await page.waitForSelector(".app[data-hydrated=true]");
    await page.waitForFunction(() => !document.querySelector("[data-testid=search]")?.disabled);
    times.push(performance.now() - t0);
    await context.close();
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], p90: times[Math.floor(times.length * 0.9)] };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const full = await startVdc();
const empty = await startVdc();
try {
  await load(full.url, IMAGES);
  const shown = await (await fetch(`${full.url}/api/v1/images/folders`, { headers: { cookie: full.cookie } })).json();
  const base = await timeToInteractive(browser, empty);
  const big = await timeToInteractive(browser, full);
  const kib = (n) => (Number(n) / 1024).toFixed(1);
  console.log(`\nimage library in headless Chromium, ${RUNS} cold loads each`);
  console.log(`catalogue                         median     p90`);
  console.log(`baseline: empty catalogue      ${base.median.toFixed(0).padStart(7)} ms ${base.p90.toFixed(0).padStart(6)} ms`);
  console.log(`${String(shown.counts["/"].total).padStart(6)} images                  ${big.median.toFixed(0).padStart(7)} ms ${big.p90.toFixed(0).padStart(6)} ms   (÷ baseline ${(big.median / base.median).toFixed(2)})`);
  // Each page downloads one bundle: the library page quantix-iso.wasm (see app::Bundle).
  const pkg = path.join(process.env.QUANTIX_SITE_ROOT, "pkg");
  let largest = 0;
  for (const name of fs.readdirSync(pkg).filter((n) => n.endsWith(".wasm")).sort()) {
    // build_site wrote the compressed forms the server sends (gzip -9 and brotli -11 through node's zlib).
    const size = (suffix) => fs.statSync(path.join(pkg, name + suffix)).size;
    const [raw, gz, br] = [size(""), size(".gz"), size(".br")];
    largest = Math.max(largest, gz);
    console.log(`release WASM ${name.padEnd(18)} ${kib(raw).padStart(7)} KiB raw ${kib(gz).padStart(6)} KiB gzip ${kib(br).padStart(6)} KiB brotli`);
  }
  const ok = big.p90 <= 1000 && largest <= 350 * 1024;
  console.log(`targets: interactive ≤ 1000 ms (p90), every WASM bundle ≤ 350 KiB gzip: ${ok ? "met" : "MISSED"}`);
} finally {
  full.child.kill();
  empty.child.kill();
  await browser.close();
}
