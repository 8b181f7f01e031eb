// The node's images page against a real node: folders, uploads (progress, cancel, refusal), moves by
// drag and drop and by the keyboard dialog, validation messages, deletion.
import { Page, expect, test } from "@playwright/test";

import { NodeProc, signIn, startNode } from "./support/cluster";
import { hydrated, watchPage } from "./support/pagecheck";
import { api, fileOf, images, poolFiles, shot, throttleUploads, until } from "./support/ui";

test.describe.configure({ mode: "serial" });

let node: NodeProc;

test.beforeAll(async () => {
  node = await startNode({
    id: "host-ui",
    name: "hv-e2e",
    pools: ["local:Local SSD", "fast:Fast NVMe"],
    quotaPools: [{ id: "tiny", name: "Tiny", quota: 1024 * 1024 }],
  });
});

test.afterAll(async () => {
  await node?.stop();
});

async function open(page: Page, folder = "/"): Promise<void> {
  await signIn(page, node.url);
  await page.goto(`${node.url}/images${folder === "/" ? "" : `?folder=${encodeURIComponent(folder)}`}`);
  await hydrated(page);
}

function treeRow(page: Page, folder: string) {
  return page.locator(`[data-testid=folder-tree] .tree-row[data-folder="${folder}"]`);
}

test("create a nested folder", async ({ page }, info) => {
  const watch = watchPage(page);
  await open(page);
  await page.getByTestId("new-folder").click();
  await page.getByTestId("folder-name").fill("lab");
  await page.getByTestId("folder-dialog").getByRole("button", { name: "Create" }).click();
  await expect(page.getByTestId("notice")).toContainText("Created /lab");
  await treeRow(page, "/lab").getByRole("link").click();
  await expect(page).toHaveURL(/\?folder=\/lab$/);
  await page.getByTestId("new-folder").click();
  await page.getByTestId("folder-name").fill("isos");
  await page.getByTestId("folder-name").press("Enter");
  await expect(page.getByTestId("notice")).toContainText("Created /lab/isos");
  await expect(treeRow(page, "/lab/isos")).toBeVisible();
  await shot(page, info, "01-nested-folder-created");
  const folders = await api<{ folders: string[] }>(`${node.url}/api/v1/images/folders`);
  expect(folders.body.folders).toContain("/lab/isos");
  watch.expectClean();
});

test("an invalid folder name shows the API's own message", async ({ page }, info) => {
  await open(page, "/lab");
  await page.getByTestId("new-folder").click();
  await page.getByTestId("folder-name").fill("bad:name");
  const shown = page.getByTestId("folder-error");
  const fromApi = await api<{ error: string; message: string }>(`${node.url}/api/v1/images/folders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path: "/lab/bad:name" }),
  });
  expect(fromApi.status).toBe(400);
  await expect(shown).toHaveText(fromApi.body.message);
  await expect(page.getByTestId("folder-dialog").getByRole("button", { name: "Create" })).toBeDisabled();
  await shot(page, info, "02-invalid-folder-name");
  await page.getByTestId("folder-name").fill("..");
  await expect(shown).toHaveText('".." cannot be used as a folder name.');
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("folder-dialog")).toHaveCount(0);
});

test("upload into a chosen pool and folder, with progress, then the row with its checksum", async ({ page }, info) => {
  const watch = watchPage(page);
  await open(page, "/lab/isos");
  const restore = await throttleUploads(page, 3 * 1024 * 1024);
  await page.getByTestId("upload-pool").selectOption("fast");
  await expect(page.getByTestId("upload-folder")).toHaveValue("/lab/isos");
  const file = fileOf(8 * 1024 * 1024);
  await page.getByTestId("upload-input").setInputFiles({ name: "ubuntu-24.04-live-server-amd64.iso", mimeType: "application/octet-stream", buffer: file.buffer });
  const item = page.getByTestId("upload-item").first();
  await expect(item).toHaveAttribute("data-state", "uploading");
  await until(async () => Number(await item.locator("progress").getAttribute("value")) > 0, "progress moves");
  await expect(item.getByTestId("upload-stats")).toContainText(/MiB of 8\.0 MiB · .+\/s · .+ left/);
  await shot(page, info, "03-upload-in-progress");
  await expect(item).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  await restore();
  const row = page.locator('[data-testid=image-row][data-name="ubuntu-24.04-live-server-amd64.iso"]');
  await expect(row).toBeVisible();
  await expect(row.getByTestId("checksum")).toHaveText(file.checksum.slice(7, 19));
  await expect(row).toContainText("Fast NVMe");
  await expect(row).toContainText("Ubuntu 24.04");
  await shot(page, info, "04-uploaded-row");
  const [img] = await images(node.url, "folder=/lab/isos");
  expect(img).toMatchObject({ filename: "ubuntu-24.04-live-server-amd64.iso", storage_pool_id: "fast", checksum: file.checksum, size_bytes: file.buffer.length });
  watch.expectClean();
});

test("a file larger than the pool's free space is refused before sending", async ({ page }, info) => {
  await open(page, "/lab");
  await page.getByTestId("upload-pool").selectOption("tiny");
  const requests: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/storage/upload") || r.url().includes("/api/v1/uploads")) requests.push(r.url());
  });
  await page.getByTestId("upload-input").setInputFiles({ name: "too-big.iso", mimeType: "application/octet-stream", buffer: fileOf(2 * 1024 * 1024).buffer });
  const item = page.getByTestId("upload-item").first();
  await expect(item).toHaveAttribute("data-state", "failed");
  await expect(item).toContainText(/too-big\.iso is 2\.0 MiB, more than the .* free on pool Tiny; it was not sent\./);
  await shot(page, info, "05-refused-too-large");
  expect(requests).toEqual([]);
});

test("cancel an upload and nothing is left on the server", async ({ page }, info) => {
  const watch = watchPage(page);
  await open(page, "/lab");
  const restore = await throttleUploads(page, 1024 * 1024);
  await page.getByTestId("upload-pool").selectOption("local");
  await page.getByTestId("upload-input").setInputFiles({ name: "cancel-me.iso", mimeType: "application/octet-stream", buffer: fileOf(16 * 1024 * 1024).buffer });
  const item = page.getByTestId("upload-item").first();
  await until(async () => Number(await item.locator("progress").getAttribute("value")) > 0, "the upload started");
  await until(() => poolFiles(node.poolDirs.local).some((f) => f.startsWith(".quantix-upload-")), "the node is receiving");
  await item.getByTestId("upload-cancel").click();
  await expect(item).toHaveAttribute("data-state", "cancelled");
  await expect(item).toContainText("Cancelled; nothing was kept.");
  await shot(page, info, "06-upload-cancelled");
  await restore();
  await until(() => poolFiles(node.poolDirs.local).length === 0, "the partial file is removed");
  expect((await images(node.url)).map((i) => i.filename)).not.toContain("cancel-me.iso");
  // The cancelled request is the only failure the page may show: the chunk being sent, once; and the
  // termination, refused (423) while the node still writes that chunk, until it notices the cut.
  watch.expectClean([
    /^request failed: PATCH http:\/\/127\.0\.0\.1:\d+\/api\/v1\/uploads\/[0-9a-f-]{36} \(net::ERR_ABORTED\)$/,
    /^HTTP 423: DELETE http:\/\/127\.0\.0\.1:\d+\/api\/v1\/uploads\/[0-9a-f-]{36}$/g,
    /^console error: Failed to load resource: the server responded with a status of 423 \(Locked\)$/g,
  ]);
});

test("drop a file from the desktop onto the page to upload it", async ({ page }, info) => {
  await open(page, "/lab");
  const file = fileOf(64 * 1024);
  const dataTransfer = await page.evaluateHandle(
    ({ bytes }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], "dropped-debian-12.iso", { type: "application/octet-stream" }));
      return dt;
    },
    { bytes: Array.from(file.buffer) },
  );
  const zone = page.locator(".page-drop");
  await zone.dispatchEvent("dragenter", { dataTransfer });
  await expect(page.getByTestId("drop-overlay")).toBeVisible();
  await shot(page, info, "07-drop-overlay");
  await zone.dispatchEvent("drop", { dataTransfer });
  await expect(page.locator('[data-testid=image-row][data-name="dropped-debian-12.iso"]')).toBeVisible();
  const dropped = (await images(node.url)).find((i) => i.filename === "dropped-debian-12.iso");
  expect(dropped).toMatchObject({ folder_path: "/lab", checksum: file.checksum });
});

test("move an image by dragging it onto a folder", async ({ page }, info) => {
  const watch = watchPage(page);
  await open(page, "/lab/isos");
  const row = page.locator('[data-testid=image-row][data-name="ubuntu-24.04-live-server-amd64.iso"]');
  await row.dragTo(treeRow(page, "/linux"));
  await expect(page.getByTestId("notice")).toContainText("Moved ubuntu-24.04-live-server-amd64.iso to /linux");
  await expect(row).toHaveCount(0);
  await shot(page, info, "08-moved-by-drag");
  const moved = (await images(node.url)).find((i) => i.filename === "ubuntu-24.04-live-server-amd64.iso");
  expect(moved?.folder_path).toBe("/linux");
  watch.expectClean();
});

test("move an image with the keyboard-usable dialog", async ({ page }, info) => {
  await open(page, "/linux");
  const row = page.locator('[data-testid=image-row][data-name="ubuntu-24.04-live-server-amd64.iso"]');
  await row.getByTestId("move-image").focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByTestId("move-dialog");
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId("move-filter")).toBeFocused();
  await page.keyboard.type("/linux/ubuntu");
  await expect(dialog.getByRole("option").first()).toHaveText("Create and move to /linux/ubuntu");
  await shot(page, info, "09-move-dialog");
  await page.keyboard.press("Enter");
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId("notice")).toContainText("to /linux/ubuntu");
  // Arrow keys pick an existing folder too.
  await treeRow(page, "/linux/ubuntu").getByRole("link").click();
  await page.locator('[data-testid=image-row][data-name="ubuntu-24.04-live-server-amd64.iso"]').getByTestId("move-image").click();
  await page.keyboard.type("isos");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("notice")).toContainText("to /lab/isos");
  const moved = (await images(node.url)).find((i) => i.filename === "ubuntu-24.04-live-server-amd64.iso");
  expect(moved?.folder_path).toBe("/lab/isos");
});

test("delete an image after a confirmation that names it", async ({ page }, info) => {
  const watch = watchPage(page);
  await open(page, "/lab/isos");
  const row = page.locator('[data-testid=image-row][data-name="ubuntu-24.04-live-server-amd64.iso"]');
  await row.getByTestId("delete-image").click();
  const confirm = page.getByTestId("confirm-dialog");
  await expect(confirm).toContainText("Delete ubuntu-24.04-live-server-amd64.iso?");
  await expect(confirm).toContainText("will be deleted from pool fast");
  await shot(page, info, "10-delete-confirmation");
  await confirm.getByRole("button", { name: "Delete image" }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByText("This folder is empty")).toBeVisible();
  expect(poolFiles(node.poolDirs.fast)).toEqual([]);
  expect((await images(node.url)).map((i) => i.filename)).not.toContain("ubuntu-24.04-live-server-amd64.iso");
  await shot(page, info, "11-after-delete");
  watch.expectClean();
});

test("search filters the open folder; narrow screens keep working", async ({ page }, info) => {
  // A second image in /lab, so a search that did not filter would show both.
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(fileOf(32 * 1024).buffer)]), "tools-lab.img");
  expect((await fetch(`${node.url}/api/v1/storage/upload?folder=%2Flab`, { method: "POST", body: form })).status).toBe(201);
  await open(page, "/lab");
  await expect(page.getByTestId("image-row")).toHaveCount(2);
  await page.getByTestId("search").fill("DEBIAN");
  await expect(page).toHaveURL(/q=DEBIAN/);
  await expect(page.getByTestId("image-row")).toHaveCount(1);
  await expect(page.getByTestId("image-row")).toHaveAttribute("data-name", "dropped-debian-12.iso");
  await page.getByTestId("search").fill("nothing-like-this");
  await expect(page.getByText("No image matches")).toBeVisible();
  await page.setViewportSize({ width: 420, height: 800 });
  await page.getByTestId("search").fill("");
  await expect(page.getByTestId("image-row")).toHaveCount(2);
  await shot(page, info, "12-narrow");
});

test("the top level lists every folder's images; inside a folder, subfolders on request", async ({ page }) => {
  await open(page);
  await expect(page.getByTestId("subfolders")).toBeChecked();
  await expect(page.getByText("This folder is empty")).toHaveCount(0);
  const all = await images(node.url);
  await expect(page.getByTestId("image-row")).toHaveCount(all.length);
  await open(page, "/lab");
  await expect(page.getByTestId("subfolders")).not.toBeChecked();
  await page.getByTestId("subfolders").check();
  await expect(page).toHaveURL(/sub=1/);
  await expect(page.getByTestId("image-row")).toHaveCount(all.filter((i) => i.folder_path.startsWith("/lab")).length);
});
