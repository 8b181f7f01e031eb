// Starts real quantix-iso processes (a vdc, nodes, or the all-in-one) on free ports with throwaway data
// directories, and stops them after the test.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Page } from "@playwright/test";

const ROOT = path.resolve(__dirname, "../../..");
export const BIN = process.env.QUANTIX_BIN ?? path.join(ROOT, "target/release/quantix-iso");
export const SITE_ROOT = process.env.QUANTIX_SITE_ROOT ?? path.join(ROOT, "target/site");
export const TOKEN = "e2e-cluster-token-0123456789";
/** The first admin's password of every role these tests start (the all-in-one's is generated). */
export const ADMIN_PASSWORD = "e2e-admin-password-0123";

/** A file holding ADMIN_PASSWORD, for --initial-admin-password-file. */
function adminPasswordFile(): string {
  const file = path.join(os.tmpdir(), `quantix-e2e-admin-password-${process.pid}`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
  return file;
}

/** A signed-in session: the cookie and the CSRF token its writes carry. */
export interface Session {
  cookie: { name: string; value: string };
  csrf: string;
}

/** Signs in through the API; throws with the server's answer when refused. */
export async function signInApi(base: string, username: string, password: string): Promise<Session> {
  const r = await realFetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (r.status !== 200) throw new Error(`sign-in as ${username} on ${base}: ${r.status} ${await r.text()}`);
  const [name, value] = (r.headers.get("set-cookie") ?? "").split(";")[0].split("=");
  const me = await r.json();
  return { cookie: { name, value }, csrf: me.csrf_token };
}

// Every role a test started, by origin: the admin's API token (for the test's own fetch calls) and a
// browser session (for its pages).
const admins = new Map<string, { token: string; session: Session }>();
const realFetch: typeof fetch = globalThis.fetch.bind(globalThis);

/**
 * The tests' own `fetch` calls (uploads, API checks) act as the first admin of the role they call, with
 * an API token, unless they bring their own Authorization or cookie.
 */
globalThis.fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
  const url = new URL(input instanceof Request ? input.url : input.toString());
  const admin = admins.get(url.origin);
  const headers = new Headers(init.headers);
  if (admin && !headers.has("authorization") && !headers.has("cookie")) headers.set("authorization", `Bearer ${admin.token}`);
  return realFetch(input, { ...init, headers });
}) as typeof fetch;

/** Signs in as the first admin of the role at `base` and remembers it (see `fetch` above). */
export async function registerAdmin(base: string, password = ADMIN_PASSWORD): Promise<void> {
  const session = await signInApi(base, "admin", password);
  const r = await realFetch(`${base}/api/v1/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: `${session.cookie.name}=${session.cookie.value}`, "x-csrf-token": session.csrf },
    body: JSON.stringify({ name: "e2e", role: "admin" }),
  });
  if (r.status !== 201) throw new Error(`token on ${base}: ${r.status} ${await r.text()}`);
  admins.set(new URL(base).origin, { token: (await r.json()).token, session });
}

/** Puts a session of the role at `url` (the admin's, or `session`) into the page's browser. */
export async function signIn(page: Page, url: string, session?: Session): Promise<void> {
  const origin = new URL(url).origin;
  const s = session ?? admins.get(origin)?.session;
  if (!s) throw new Error(`no session for ${origin}: was the role started by these helpers?`);
  await page.context().addCookies([{ name: s.cookie.name, value: s.cookie.value, url: origin }]);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `quantix-e2e-${prefix}-`));
}

/** Polls `${url}/healthz` until it answers 200; `check` may throw to give up early. */
export async function waitHealthy(url: string, check: () => void = () => {}): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    check();
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become healthy`);
}

export class Proc {
  private child?: ChildProcess;
  private log: string[] = [];

  constructor(
    readonly name: string,
    readonly args: string[],
    readonly url: string,
    /** Started with ADMIN_PASSWORD (all but the all-in-one, whose password is generated). */
    readonly knownPassword = true,
  ) {}

  async start(): Promise<void> {
    const child = spawn(BIN, this.args, {
      env: { ...process.env, QUANTIX_SITE_ROOT: SITE_ROOT, RUST_LOG: process.env.RUST_LOG ?? "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const keep = (b: Buffer) => {
      this.log.push(b.toString());
      if (this.log.length > 200) this.log.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    await this.waitHealthy();
    if (this.knownPassword) await registerAdmin(this.url);
  }

  private async waitHealthy(): Promise<void> {
    await waitHealthy(this.url, () => {
      const code = this.child?.exitCode;
      if (code !== null && code !== undefined) throw new Error(`${this.name} exited with ${code}:\n${this.output()}`);
    }).catch((e) => {
      throw new Error(`${this.name}: ${e.message}\n${this.output()}`);
    });
  }

  /** Stops the process: SIGTERM (graceful) or SIGKILL. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  output(): string {
    return this.log.join("");
  }
}

export interface AllInOne {
  vdc: string;
  node: string;
  dataDir: string;
  proc: Proc;
}

export async function startAllInOne(): Promise<AllInOne> {
  const [vdcPort, nodePort] = [await freePort(), await freePort()];
  const dataDir = tempDir("aio");
  const vdc = `http://127.0.0.1:${vdcPort}`;
  const node = `http://127.0.0.1:${nodePort}`;
  const proc = new Proc(
    "all-in-one",
    ["all-in-one", "--data-dir", dataDir, "--vdc-listen", `127.0.0.1:${vdcPort}`, "--node-listen", `127.0.0.1:${nodePort}`],
    vdc,
    false,
  );
  await proc.start();
  // Both roles answer before the test begins, and share the generated first password.
  await waitHealthy(node);
  const password = fs.readFileSync(path.join(dataDir, "initial-admin-password"), "utf8").trim();
  await registerAdmin(vdc, password);
  await registerAdmin(node, password);
  return { vdc, node, dataDir, proc };
}

export interface VdcOptions {
  offlineAfter?: string;
  syncInterval?: string;
  /** A shared catalogue (PostgreSQL, for replicas); else SQLite in the vdc's own directory. */
  databaseUrl?: string;
}

export async function startVdc(opts: VdcOptions = {}): Promise<Proc> {
  const port = await freePort();
  const dir = tempDir("vdc");
  const args = [
    "vdc",
    "--listen", `127.0.0.1:${port}`,
    "--database-url", opts.databaseUrl ?? `sqlite://${dir}/catalogue.db`,
    "--cluster-token", TOKEN,
    "--initial-admin-password-file", adminPasswordFile(),
    "--login-max-failures", "50",
  ];
  if (opts.offlineAfter) args.push("--offline-after", opts.offlineAfter);
  if (opts.syncInterval) args.push("--sync-interval", opts.syncInterval);
  const p = new Proc("vdc", args, `http://127.0.0.1:${port}`);
  await p.start();
  return p;
}

export interface NodeOptions {
  id: string;
  name?: string;
  vdc?: string;
  /** `ID[:NAME]` each, placed under the node's directory. */
  pools?: string[];
  /** Pools with a quota (bytes), written to a config file. */
  quotaPools?: { id: string; name: string; quota: number }[];
  syncInterval?: string;
  dataDir?: string;
  /** Address ranges its downloads may reach (`--download-allow`), e.g. the test's own origin on loopback. */
  downloadAllow?: string[];
}

export interface NodeProc extends Proc {
  poolDirs: Record<string, string>;
}

export async function startNode(opts: NodeOptions): Promise<NodeProc> {
  const port = await freePort();
  const dir = opts.dataDir ?? tempDir(`node-${opts.id}`);
  const poolDirs: Record<string, string> = {};
  const args = [
    "node", "--listen", `127.0.0.1:${port}`, "--node-id", opts.id, "--data-dir", path.join(dir, "db"),
    "--initial-admin-password-file", adminPasswordFile(), "--login-max-failures", "50",
  ];
  const pools = (opts.pools ?? ["local"]).map((spec) => {
    const [id, name] = spec.split(":");
    return { id, name: name ?? id, quota: undefined as number | undefined };
  });
  pools.push(...(opts.quotaPools ?? []));
  for (const p of pools) poolDirs[p.id] = path.join(dir, "pools", p.id);
  if (opts.quotaPools?.length) {
    // Quotas exist only in the config file, so then every pool is described there.
    const toml = pools
      .map((p) => `[[pools]]\nid = "${p.id}"\nname = "${p.name}"\npath = "${poolDirs[p.id]}"\n${p.quota ? `quota = ${p.quota}\n` : ""}`)
      .join("\n");
    const file = path.join(dir, "node.toml");
    fs.writeFileSync(file, toml);
    args.push("--config", file);
  } else {
    for (const p of pools) args.push("--pool", `${p.id}:${p.name}=${poolDirs[p.id]}`);
  }
  if (opts.name) args.push("--node-name", opts.name);
  if (opts.vdc) args.push("--vdc-url", opts.vdc, "--cluster-token", TOKEN);
  if (opts.syncInterval) args.push("--sync-interval", opts.syncInterval);
  for (const range of opts.downloadAllow ?? []) args.push("--download-allow", range);
  const p = new Proc(`node ${opts.id}`, args, `http://127.0.0.1:${port}`) as NodeProc;
  p.poolDirs = poolDirs;
  await p.start();
  return p;
}
