// Transfers with real processes: a download from a URL (an origin the test serves, slowly) shows its
// progress on the host page and lands; "Copy to host…" in the library makes the other host read the file
// from the first, and the library then shows the image on both.
import * as http from "node:http";
import { AddressInfo } from "node:net";

import { Page, expect, test } from "@playwright/test";

import { NodeProc, Proc, signIn, startNode, startVdc } from "./support/cluster";
import { hydrated, watchPage } from "./support/pagecheck";
import { fileOf, images, poolFiles, shot, until } from "./support/ui";

test.describe.configure({ mode: "serial" });

let vdc: Proc;
let alpha: NodeProc;
let beta: NodeProc;
let origin: http.Server;
let originUrl: string;
const slow = fileOf(3 * 1024 * 1024);

test.beforeAll(async () => {
  // An origin that sends the file at ~1 MiB/s, so a running download can be seen.
  origin = http.createServer((req, res) => {
    if (req.url !== "/mirror/alpine-virt-3.20.iso") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": slow.buffer.length, "content-type": "application/octet-stream" });
    let at = 0;
    const step = 64 * 1024;
    const timer = setInterval(() => {
      if (at >= slow.buffer.length) {
        clearInterval(timer);
        res.end();
        return;
      }
      res.write(slow.buffer.subarray(at, at + step));
      at += step;
    }, 60);
    res.on("close", () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  vdc = await startVdc({ syncInterval: "4s" });
  alpha = await startNode({ id: "alpha", name: "hv-alpha", vdc: vdc.url, pools: ["local:Local"], syncInterval: "4s", downloadAllow: ["127.0.0.1"] });
  beta = await startNode({ id: "beta", name: "hv-beta", vdc: vdc.url, pools: ["local:Local"], syncInterval: "4s" });
});

test.afterAll(async () => {
  await Promise.all([alpha?.stop(), beta?.stop(), vdc?.stop()]);
  origin?.close();
});

async function open(page: Page, url: string): Promise<void> {
  await signIn(page, url);
  await page.goto(`${url}/images`);
  await hydrated(page);
}

test("a download from a URL shows its progress on the host page and lands", async ({ page }, info) => {
  const watch = watchPage(page);
  await open(page, alpha.url);
  await page.getByTestId("download-open").click();
  const dialog = page.getByTestId("download-dialog");
  await dialog.getByTestId("download-url").fill("ftp://mirror/x.iso");
  await dialog.getByTestId("download-submit").click();
  await expect(dialog.getByTestId("download-error")).toContainText("http:// or https://");
  await dialog.getByTestId("download-url").fill(`${originUrl}/mirror/alpine-virt-3.20.iso`);
  await dialog.getByTestId("download-checksum").fill(slow.checksum);
  await dialog.getByTestId("download-submit").click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId("notice")).toContainText("follow it under Transfers");

  const transfer = page.locator('[data-testid=transfer][data-name="alpine-virt-3.20.iso"]');
  await expect(transfer).toHaveAttribute("data-state", "running");
  await expect(transfer.locator("progress")).toBeVisible();
  await expect(transfer.getByTestId("transfer-stats")).toContainText(/ of 3\.0 MiB/);
  await shot(page, info, "01-download-running");
  await expect(transfer).toHaveAttribute("data-state", "succeeded", { timeout: 20_000 });
  // The list reloads by itself when the transfer lands.
  await expect(page.locator('[data-testid=image-row][data-name="alpine-virt-3.20.iso"]')).toHaveCount(1);
  await shot(page, info, "02-download-landed");
  watch.expectClean();
});

test("Copy to host… puts the image on the other host and the library shows it on both", async ({ page }, info) => {
  const watch = watchPage(page);
  await until(async () => (await images(vdc.url)).some((i) => i.filename === "alpine-virt-3.20.iso" && i.checksum), "the vdc has the download");
  await open(page, vdc.url);
  const row = page.locator('[data-testid=image-row][data-name="alpine-virt-3.20.iso"]');
  await expect(row).toHaveCount(1);
  await row.getByTestId("copy-image").click();
  const dialog = page.getByTestId("copy-dialog");
  await dialog.getByTestId("target-host").selectOption({ label: "hv-beta" });
  await expect(dialog.getByTestId("copy-folder")).toHaveValue(/^\//);
  await dialog.getByTestId("copy-submit").click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId("notice")).toContainText("Copying alpine-virt-3.20.iso to hv-beta");
  // The sidebar follows the host the copy went to.
  await expect(page.getByTestId("transfers-host")).toHaveValue("beta");
  const transfer = page.locator('[data-testid=transfer][data-kind=copy][data-name="alpine-virt-3.20.iso"]');
  await expect(transfer).toHaveAttribute("data-state", "succeeded", { timeout: 20_000 });
  await expect(transfer).toContainText("from /");
  await expect(row).toHaveCount(2);
  await expect(row.getByTestId("location")).toHaveText(["hv-alphalocal", "hv-betalocal"]);
  await shot(page, info, "03-copied");
  const copies = (await images(vdc.url)).filter((i) => i.filename === "alpine-virt-3.20.iso");
  expect(new Set(copies.map((i) => i.checksum))).toEqual(new Set([slow.checksum]));
  watch.expectClean();
});

test("an upload from the library lands on the chosen host and appears in the library", async ({ page }, info) => {
  const watch = watchPage(page);
  await open(page, vdc.url);
  await page.getByTestId("upload-toggle").click();
  await page.getByTestId("upload-host").selectOption({ label: "hv-beta" });
  const file = fileOf(2 * 1024 * 1024);
  await page.getByTestId("upload-input").setInputFiles({ name: "library-upload.iso", mimeType: "application/octet-stream", buffer: file.buffer });
  await expect(page.getByTestId("upload-item")).toHaveAttribute("data-state", "done");
  const row = page.locator('[data-testid=image-row][data-name="library-upload.iso"]');
  await expect(row.getByTestId("location")).toHaveText("hv-betalocal");
  expect(poolFiles(beta.poolDirs.local)).toContain("library-upload.iso");
  const landed = (await images(vdc.url)).find((i) => i.filename === "library-upload.iso");
  expect(landed?.checksum).toBe(file.checksum);
  await shot(page, info, "04-library-upload");
  watch.expectClean();
});
