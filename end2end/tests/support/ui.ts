// Helpers for driving the UIs: screenshots into the test's output folder, upload throttling, API calls.
import { Page, TestInfo, expect } from "@playwright/test";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Saves a full-page screenshot of the current state into the test's output folder (not committed). */
export async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
}

/** Slows the page's uploads to `bytesPerSecond`, so progress can be watched (Chromium's network emulation). */
export async function throttleUploads(page: Page, bytesPerSecond: number): Promise<() => Promise<void>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return async () => {
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  };
}

/** Incompressible bytes, and their SHA-256 in the wire form. */
export function fileOf(size: number): { buffer: Buffer; checksum: string } {
  const buffer = crypto.randomBytes(size);
  return { buffer, checksum: "sha256:" + crypto.createHash("sha256").update(buffer).digest("hex") };
}

export async function api<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
}

export interface Image {
  id: string;
  filename: string;
  folder_path: string;
  checksum: string | null;
  storage_pool_id: string;
  node_id: string | null;
  size_bytes: number;
  path: string;
}

export async function images(base: string, query = "folder=/&recursive=true"): Promise<Image[]> {
  return (await api<{ images: Image[] }>(`${base}/api/v1/images?${query}`)).body.images;
}

/** Files in a pool's iso/ directory, temporary uploads included. */
export function poolFiles(poolDir: string): string[] {
  const iso = path.join(poolDir, "iso");
  return fs.existsSync(iso) ? fs.readdirSync(iso).sort() : [];
}

/** Polls until `check` holds (an expect.poll with a clearer name). */
export async function until(check: () => Promise<boolean> | boolean, message: string, timeout = 15_000): Promise<void> {
  await expect.poll(check, { message, timeout }).toBe(true);
}
