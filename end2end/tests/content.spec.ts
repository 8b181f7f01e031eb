// What is inside an image, seen in the browser with a real vdc and node: a disc whose name says nothing
// shows the OS, architecture and boot badges its descriptors state in the library, on the host page and
// in the ISO picker; the VM wizard proposes the firmware such a disc needs, warns when the choice cannot
// boot it, and takes an appliance's hardware from its OVF descriptor.
import { Page, expect, test } from "@playwright/test";

import { NodeProc, Proc, signIn, startNode, startVdc } from "./support/cluster";
import { isoImage, ovaImage } from "./support/images";
import { hydrated, watchPage } from "./support/pagecheck";
import { images, shot, until } from "./support/ui";

test.describe.configure({ mode: "serial" });

let vdc: Proc;
let alpha: NodeProc;
// Fedora Everything for aarch64: its disc boots only under UEFI. The name says nothing.
const DISC = "disc1.iso";
const APPLIANCE = "appliance.ova";

async function upload(node: NodeProc, name: string, bytes: Buffer): Promise<void> {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(bytes)]), name);
  const r = await fetch(`${node.url}/api/v1/storage/upload?pool_id=local`, { method: "POST", body: form });
  expect(r.status, await r.clone().text()).toBe(201);
}

test.beforeAll(async () => {
  vdc = await startVdc({ syncInterval: "4s" });
  alpha = await startNode({ id: "alpha", name: "hv-alpha", vdc: vdc.url, pools: ["local:Local"], syncInterval: "4s" });
  await upload(alpha, DISC, isoImage("Fedora-E-dvd-aarch64-44", { bios: false, uefi: true }));
  await upload(alpha, APPLIANCE, ovaImage({ vcpus: 4, memoryMib: 8192, diskGib: 40, firmware: "efi" }));
  await until(async () => (await images(vdc.url)).filter((i) => i.checksum).length === 2, "the vdc has both");
});

test.afterAll(async () => {
  await Promise.all([alpha?.stop(), vdc?.stop()]);
});

async function open(page: Page, url: string): Promise<void> {
  await signIn(page, url);
  await page.goto(url);
  await hydrated(page);
}

test("a disc known by its content shows its OS and boot badges in the library and on its host", async ({ page }, info) => {
  const host = await page.context().newPage();
  const watches = [watchPage(page), watchPage(host)];
  for (const [tab, url] of [[page, `${vdc.url}/images`], [host, `${alpha.url}/images`]] as const) {
    await open(tab, url);
    const row = tab.locator(`[data-testid=image-row][data-name="${DISC}"]`);
    await expect(row).toContainText("Fedora 44");
    await expect(row.getByTestId("badge-arch")).toHaveText("aarch64");
    await expect(row.getByTestId("badge-uefi")).toBeVisible();
    await expect(row.getByTestId("badge-bios")).toHaveCount(0);
    // Content beat the name for the folder.
    expect((await images(alpha.url)).find((i) => i.filename === DISC)?.folder_path).toBe("/linux");
  }
  await shot(page, info, "01-badges");
  watches.forEach((w) => w.expectClean());
});

async function pick(page: Page, name: string): Promise<void> {
  await open(page, `${vdc.url}/vms/new`);
  await page.getByTestId("vm-name").fill(name === DISC ? "fedora-01" : "appliance-01");
  await page.getByTestId("wizard-next").click();
  await page.getByTestId("picker-search").fill(name.split(".")[0]);
  const item = page.locator(`[data-testid=picker-item][data-name="${name}"]`);
  await expect(item).toHaveCount(1);
  await item.click();
  await expect(page.getByTestId("chosen-iso")).toContainText(`Chosen: ${name}`);
}

test("the wizard proposes UEFI for a disc that boots only under it, and warns against BIOS", async ({ page }, info) => {
  await pick(page, DISC);
  const item = page.locator(`[data-testid=picker-item][data-name="${DISC}"]`);
  await expect(item.getByTestId("badge-uefi")).toBeVisible();
  await expect(item.getByTestId("badge-arch")).toHaveText("aarch64");
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("vm-firmware")).toHaveValue("uefi");
  await expect(page.getByTestId("firmware-why")).toContainText("boots only under UEFI");
  await expect(page.getByTestId("firmware-problem")).toBeEmpty();
  await page.getByTestId("vm-firmware").selectOption("bios");
  await expect(page.getByTestId("firmware-problem")).toContainText("no BIOS boot entry");
  await shot(page, info, "02-firmware-warning");
  await page.getByTestId("vm-firmware").selectOption("uefi");
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("review-firmware")).toHaveText("UEFI");
  await page.getByTestId("wizard-create").click();
  await expect(page.getByTestId("vm-created")).toBeVisible();
  const xml = await (await fetch(`${vdc.url}${await page.getByTestId("domain-xml").getAttribute("href")}`)).text();
  expect(xml).toContain("<loader readonly='yes' type='pflash'>");
});

test("an appliance's descriptor fills the wizard: vCPUs, memory, disk and firmware", async ({ page }, info) => {
  await pick(page, APPLIANCE);
  await expect(page.getByTestId("ova-hint")).toContainText("4 vCPU(s), 8.0 GiB of memory, 1 disk(s)");
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("vm-disk")).toHaveValue("40");
  await expect(page.getByTestId("vm-firmware")).toHaveValue("uefi");
  await expect(page.getByTestId("firmware-why")).toContainText("descriptor asks for this firmware");
  await page.getByTestId("wizard-next").click();
  const review = page.getByTestId("review");
  await expect(review).toContainText("4");
  await expect(review).toContainText("8.0 GiB");
  await expect(review).toContainText("40 GiB");
  await shot(page, info, "03-ova-review");
  await page.getByTestId("wizard-back").click();
  await page.getByTestId("wizard-back").click();
  await page.getByTestId("wizard-back").click();
  await expect(page.getByTestId("vm-vcpus")).toHaveValue("4");
  await expect(page.getByTestId("vm-memory")).toHaveValue("8192");
});
