// The seed's three end-to-end flows across real processes (a vdc and two nodes): an ISO uploaded in a
// node's UI appears in the vdc library; moved between folders from the vdc, the node's page shows the
// new folder; a VM created in the wizard (picking the ISO once by search, once by the tree) is listed
// and its domain XML names the ISO's path on the right node; deleting that ISO through the vdc is refused.
import { Page, expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

import { NodeProc, Proc, signIn, startNode, startVdc } from "./support/cluster";
import { hydrated, watchPage } from "./support/pagecheck";
import { api, fileOf, images, shot, until } from "./support/ui";

test.describe.configure({ mode: "serial" });

let vdc: Proc;
let alpha: NodeProc;
let beta: NodeProc;
const ISO = "debian-12.5.0-amd64-netinst.iso";
const WINDOWS = "Win11_23H2_English_x64.iso";

test.beforeAll(async () => {
  vdc = await startVdc({ syncInterval: "4s" });
  alpha = await startNode({ id: "alpha", name: "hv-alpha", vdc: vdc.url, pools: ["local:Local", "fast:Fast NVMe"], syncInterval: "4s" });
  beta = await startNode({ id: "beta", name: "hv-beta", vdc: vdc.url, pools: ["local:Local"], syncInterval: "4s" });
  // Decoys on the other node: a similar name, so the picker's search must really choose, and another
  // system, so its OS filter must really filter. Both are in the catalogue before any test starts.
  for (const [name, folder] of [["debian-11.9.0-amd64-netinst.iso", "/linux/debian"], [WINDOWS, "/windows"]]) {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(fileOf(64 * 1024).buffer)]), name);
    const r = await fetch(`${beta.url}/api/v1/storage/upload?folder=${encodeURIComponent(folder)}`, { method: "POST", body: form });
    expect(r.status, await r.text()).toBe(201);
  }
  await until(async () => (await images(vdc.url)).length === 2, "the vdc has both decoys");
});

test.afterAll(async () => {
  await Promise.all([alpha?.stop(), beta?.stop(), vdc?.stop()]);
});

async function open(page: Page, url: string): Promise<void> {
  await signIn(page, url);
  await page.goto(url);
  await hydrated(page);
}

test("an ISO uploaded in a node's UI appears in the vdc library", async ({ page }, info) => {
  const watch = watchPage(page);
  await open(page, `${alpha.url}/images?folder=/linux`);
  await page.getByTestId("upload-pool").selectOption("fast");
  await page.getByTestId("upload-input").setInputFiles({ name: ISO, mimeType: "application/octet-stream", buffer: fileOf(2 * 1024 * 1024).buffer });
  await expect(page.getByTestId("upload-item").first()).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  await shot(page, info, "01-uploaded-on-node");
  const library = await page.context().newPage();
  await open(library, `${vdc.url}/images`);
  const row = library.locator(`[data-testid=image-row][data-name="${ISO}"]`);
  await expect(row).toBeVisible({ timeout: 10_000 });
  await expect(row.getByTestId("location")).toContainText("hv-alpha");
  await expect(row.getByTestId("location")).toContainText("fast");
  await shot(library, info, "02-in-vdc-library");
  watch.expectClean();
});

test("moved between folders from the vdc, the node's page shows the new folder", async ({ page }, info) => {
  await open(page, `${vdc.url}/images`);
  await page.locator(`[data-testid=image-row][data-name="${ISO}"]`).getByTestId("move-image").click();
  await page.getByTestId("move-filter").fill("/linux/debian/12");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("notice")).toContainText(`Moved ${ISO} to /linux/debian/12 on alpha`);
  const node = await page.context().newPage();
  await open(node, `${alpha.url}/images?folder=/linux/debian/12`);
  await expect(node.locator(`[data-testid=image-row][data-name="${ISO}"]`)).toBeVisible();
  await expect(node.locator('[data-testid=folder-tree] .tree-row[data-folder="/linux/debian/12"]')).toHaveAttribute("aria-current", "true");
  await shot(node, info, "03-node-shows-new-folder");
});

async function basics(page: Page, name: string): Promise<void> {
  await open(page, `${vdc.url}/vms/new`);
  await expect(page.getByTestId("wizard-next")).toBeDisabled();
  await page.getByTestId("vm-name").fill("bad name!");
  await expect(page.getByTestId("basics-error")).toContainText("is not a usable VM name");
  await page.getByTestId("vm-name").fill(name);
  await page.getByTestId("vm-vcpus").fill("4");
  await page.getByTestId("vm-memory").fill("4096");
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("iso-picker")).toBeVisible();
}

async function diskReviewCreate(page: Page, info: any, label: string): Promise<string> {
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("vm-pool")).toHaveValue(/fast|local/);
  await page.getByTestId("vm-pool").selectOption("fast");
  await page.getByTestId("vm-disk").fill("8");
  await page.getByTestId("wizard-next").click();
  const review = page.getByTestId("review");
  await expect(review).toContainText(ISO);
  await expect(review).toContainText("alpha");
  await shot(page, info, `${label}-review`);
  await page.getByTestId("wizard-create").click();
  await expect(page.getByTestId("vm-created")).toBeVisible();
  await shot(page, info, `${label}-created`);
  return (await page.getByTestId("domain-xml").getAttribute("href"))!;
}

async function expectDomainXmlNamesTheIso(xmlHref: string): Promise<void> {
  const onNode = (await images(alpha.url)).find((i) => i.filename === ISO)!;
  const xml = await (await fetch(`${vdc.url}${xmlHref}`)).text();
  expect(xml).toContain(`<source file='${onNode.path}'/>`);
  expect(xml).toContain("<quantix:node>alpha</quantix:node>");
  expect(xml).toMatch(/<disk type='file' device='cdrom'>[\s\S]*<readonly\/>/);
  expect(onNode.path).toBe(path.join(alpha.poolDirs.fast, "iso", ISO));
  expect(fs.existsSync(onNode.path)).toBe(true);
}

test("create a VM, picking the ISO by search", async ({ page }, info) => {
  const watch = watchPage(page);
  await basics(page, "web-01");
  await page.getByTestId("picker-search").fill("debian-12");
  const items = page.getByTestId("picker-item");
  await expect(items).toHaveCount(1);
  await expect(items.first()).toContainText("hv-alpha · fast · /linux/debian/12");
  await shot(page, info, "04-picker-search");
  // Keyboard: the active match is chosen with Enter.
  await page.getByTestId("picker-search").press("Enter");
  await expect(page.getByTestId("chosen-iso")).toContainText(`Chosen: ${ISO} on alpha`);
  const xml = await diskReviewCreate(page, info, "05-search");
  await expectDomainXmlNamesTheIso(xml);
  watch.expectClean();
});

test("create a VM, picking the ISO by the tree", async ({ page }, info) => {
  await basics(page, "db-01");
  const picker = page.getByTestId("iso-picker");
  await picker.locator('.tree-row[data-folder="/linux"] .tree-toggle').click();
  await picker.locator('.tree-row[data-folder="/linux/debian"] .tree-toggle').click();
  await picker.locator('.tree-row[data-folder="/linux/debian/12"] a').click();
  await expect(picker).toContainText("In /linux/debian/12 and beneath");
  await expect(page.getByTestId("picker-item")).toHaveCount(1);
  await page.getByTestId("picker-item").first().click();
  await expect(page.getByTestId("picker-item").first()).toHaveAttribute("aria-selected", "true");
  await shot(page, info, "06-picker-tree");
  const xml = await diskReviewCreate(page, info, "07-tree");
  await expectDomainXmlNamesTheIso(xml);
  // The system filter narrows every folder's ISOs to one family.
  await open(page, `${vdc.url}/vms/new`);
  await page.getByTestId("vm-name").fill("x");
  await page.getByTestId("wizard-next").click();
  const names = () => page.getByTestId("picker-item").evaluateAll((items) => items.map((i) => i.getAttribute("data-name")).sort());
  await expect(page.getByTestId("picker-item")).toHaveCount(3);
  await page.getByTestId("picker-os").selectOption("windows");
  await expect(page.getByTestId("picker-item")).toHaveCount(1);
  expect(await names()).toEqual([WINDOWS]);
  await page.getByTestId("picker-os").selectOption("linux");
  await expect(page.getByTestId("picker-item")).toHaveCount(2);
  expect(await names()).toEqual(["debian-11.9.0-amd64-netinst.iso", ISO]);
  await shot(page, info, "07b-picker-os-filter");
  // An empty result is said plainly.
  await open(page, `${vdc.url}/vms/new`);
  await page.getByTestId("vm-name").fill("x");
  await page.getByTestId("wizard-next").click();
  await page.getByTestId("picker-search").fill("no-such-image");
  await expect(page.getByTestId("picker-empty")).toContainText("No ISO matches");
});

test("the VMs are listed, and the ISO they use cannot be deleted through the vdc", async ({ page }, info) => {
  await open(page, `${vdc.url}/vms`);
  await expect(page.getByTestId("vm-row")).toHaveCount(2);
  await expect(page.locator('[data-testid=vm-row][data-name="web-01"]')).toContainText("alpha");
  await expect(page.locator('[data-testid=vm-row][data-name="web-01"]')).toContainText(ISO);
  await shot(page, info, "08-vm-list");
  const listed = await api<{ vms: { name: string; node_id: string; iso_path: string }[] }>(`${vdc.url}/api/v1/vms`);
  expect(listed.body.vms.map((v) => [v.name, v.node_id])).toEqual([["db-01", "alpha"], ["web-01", "alpha"]]);

  await open(page, `${vdc.url}/images?q=debian-12`);
  await page.locator(`[data-testid=image-row][data-name="${ISO}"]`).getByTestId("delete-image").click();
  const confirm = page.getByTestId("confirm-dialog");
  await confirm.getByRole("button", { name: "Delete image" }).click();
  await expect(confirm.getByRole("alert")).toContainText(`${ISO} is the installation media of VM db-01, web-01`);
  await shot(page, info, "09-delete-refused");
  expect((await images(alpha.url)).map((i) => i.filename)).toContain(ISO);
  await until(async () => (await images(vdc.url)).some((i) => i.filename === ISO), "still in the catalogue");
});
