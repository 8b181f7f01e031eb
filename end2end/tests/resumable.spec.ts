// Resumable uploads from the host page (tus, 8 MiB chunks): chunks whose requests are cut midway are
// retried by themselves and the file lands byte-exact; an upload cut by a reload is offered "Resume"
// when the same file is picked again, and sends only the rest.
import * as fs from "node:fs";
import * as path from "node:path";

import { Page, expect, test } from "@playwright/test";

import { NodeProc, signIn, startNode, tempDir } from "./support/cluster";
import { hydrated, watchPage } from "./support/pagecheck";
import { api, fileOf, images, shot, until } from "./support/ui";

test.describe.configure({ mode: "serial" });

let node: NodeProc;

test.beforeAll(async () => {
  node = await startNode({ id: "resumable", name: "hv-resume", pools: ["local:Local"] });
});

test.afterAll(async () => {
  await node?.stop();
});

async function open(page: Page): Promise<void> {
  await signIn(page, node.url);
  await page.goto(`${node.url}/images`);
  await hydrated(page);
}

/** The file on disk (a file picked twice is the same file only with the same modification time). */
function onDisk(name: string, size: number): { file: string; checksum: string; buffer: Buffer } {
  const { buffer, checksum } = fileOf(size);
  const file = path.join(tempDir("resumable"), name);
  fs.writeFileSync(file, buffer);
  return { file, checksum, buffer };
}

test("chunks cut midway are retried by themselves and the file lands byte-exact", async ({ page }, info) => {
  const watch = watchPage(page);
  await open(page);
  const { file, checksum } = onDisk("cut-twice.iso", 20 * 1024 * 1024);
  // The second and third PATCH (both the second chunk) are cut as they are sent.
  let patches = 0;
  await page.route("**/api/v1/uploads/*", async (route) => {
    if (route.request().method() === "PATCH" && [2, 3].includes(++patches)) await route.abort("connectionreset");
    else await route.continue();
  });
  await page.getByTestId("upload-input").setInputFiles(file);
  const item = page.getByTestId("upload-item").first();
  await expect(item).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  await shot(page, info, "01-done-after-retries");
  expect(patches).toBeGreaterThanOrEqual(5);
  const [img] = (await images(node.url)).filter((i) => i.filename === "cut-twice.iso");
  expect(img.checksum).toBe(checksum);
  expect(img.size_bytes).toBe(20 * 1024 * 1024);
  // The two cut chunks, and Chromium's console line for each, are the only failures the page may show.
  watch.expectClean([
    /^request failed: PATCH .*\/api\/v1\/uploads\/.* \(net::ERR_CONNECTION_RESET\)$/g,
    /^console error: Failed to load resource: net::ERR_CONNECTION_RESET$/g,
  ]);
  expect(watch.problems.filter((p) => p.startsWith("request failed")).length).toBe(2);
});

test("an upload cut by a reload is offered Resume for the same file, and sends only the rest", async ({ page }, info) => {
  await open(page);
  const { file, checksum } = onDisk("reloaded.iso", 20 * 1024 * 1024);
  // Only the first chunk gets through; then the tab "goes away".
  let patches = 0;
  await page.route("**/api/v1/uploads/*", async (route) => {
    if (route.request().method() === "PATCH" && ++patches > 1) await route.abort("connectionreset");
    else await route.continue();
  });
  await page.getByTestId("upload-input").setInputFiles(file);
  await until(async () => {
    const { body } = await api<{ uploads: { filename: string; offset: number }[] }>(`${node.url}/api/v1/uploads`);
    return body.uploads.some((u) => u.filename === "reloaded.iso" && u.offset === 8 * 1024 * 1024);
  }, "the first chunk landed");
  // The tab goes away (its chunk in flight cut); only then does the network come back.
  await page.reload();
  await hydrated(page);
  await page.unroute("**/api/v1/uploads/*");

  const sent: number[] = [];
  page.on("request", (r) => {
    if (r.method() === "PATCH") sent.push(Number(r.headers()["upload-offset"]));
  });
  await page.getByTestId("upload-input").setInputFiles(file);
  const item = page.getByTestId("upload-item").first();
  await expect(item).toHaveAttribute("data-state", "paused");
  await expect(item.getByTestId("upload-stats")).toContainText("8.0 MiB of 20.0 MiB is already on the host");
  await shot(page, info, "02-resume-offered");
  await item.getByTestId("upload-resume").click();
  await expect(item).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  expect(sent[0]).toBe(8 * 1024 * 1024);
  const [img] = (await images(node.url)).filter((i) => i.filename === "reloaded.iso");
  expect(img.checksum).toBe(checksum);
  const { body } = await api<{ uploads: unknown[] }>(`${node.url}/api/v1/uploads`);
  expect(body.uploads).toEqual([]);
});
