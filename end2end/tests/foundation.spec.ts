// Every page renders on the server, hydrates in the browser, and loads without errors.
import { expect, test } from "@playwright/test";

import { AllInOne, signIn, startAllInOne } from "./support/cluster";
import { hydrated, watchPage } from "./support/pagecheck";

let aio: AllInOne;

test.beforeAll(async () => {
  aio = await startAllInOne();
});

test.afterAll(async () => {
  await aio?.proc.stop();
});

test("the node's images page hydrates", async ({ page }) => {
  const watch = watchPage(page);
  await signIn(page, aio.node);
  await page.goto(`${aio.node}/`);
  await expect(page).toHaveURL(/\/images$/);
  await expect(page.locator("h1")).toHaveText("Images");
  await hydrated(page);
  await expect(page.getByTestId("search")).toBeEnabled();
  await expect(page.getByText("Local", { exact: true })).toBeVisible();
  watch.expectClean();
});

test("the vdc's image library hydrates", async ({ page }) => {
  const watch = watchPage(page);
  await signIn(page, aio.vdc);
  await page.goto(`${aio.vdc}/`);
  await expect(page).toHaveURL(/\/images$/);
  await expect(page.locator("h1")).toHaveText("Image library");
  await hydrated(page);
  await expect(page.getByTestId("search")).toBeEnabled();
  watch.expectClean();
});

test("the vdc's VM wizard hydrates", async ({ page }) => {
  const watch = watchPage(page);
  await signIn(page, aio.vdc);
  await page.goto(`${aio.vdc}/vms/new`);
  await hydrated(page);
  await page.getByTestId("vm-name").fill("web-01");
  await expect(page.getByTestId("wizard-next")).toBeEnabled();
  watch.expectClean();
});

test("each page group loads its own WASM; the navigation crosses between them", async ({ page }) => {
  const watch = watchPage(page);
  const wasm: string[] = [];
  page.on("request", (r) => {
    const p = new URL(r.url()).pathname;
    if (p.endsWith(".wasm") && !wasm.includes(p)) wasm.push(p);
  });
  await signIn(page, aio.vdc);
  await page.goto(`${aio.vdc}/images`);
  await hydrated(page);
  expect(wasm).toEqual(["/pkg/quantix-iso.wasm"]);

  // To the VM pages (another bundle): a page load, then hydrated by the VM bundle.
  await page.getByRole("link", { name: "Virtual machines" }).click();
  await expect(page).toHaveURL(/\/vms$/);
  await expect(page.locator("h1")).toHaveText("Virtual machines");
  await hydrated(page);
  expect(wasm).toEqual(["/pkg/quantix-iso.wasm", "/pkg/quantix-vms.wasm"]);

  // Inside the group the router navigates without loading anything.
  await page.getByRole("link", { name: "New VM" }).first().click();
  await expect(page.locator("h1")).toHaveText("Create a virtual machine");
  await page.getByTestId("vm-name").fill("web-01");
  await expect(page.getByTestId("wizard-next")).toBeEnabled();
  expect(wasm).toHaveLength(2);

  await page.getByRole("link", { name: "Image library" }).click();
  await expect(page.locator("h1")).toHaveText("Image library");
  await hydrated(page);
  await expect(page.getByTestId("search")).toBeEnabled();

  await signIn(page, aio.node);
  await page.goto(`${aio.node}/images`);
  await hydrated(page);
  expect(wasm.at(-1)).toBe("/pkg/quantix-host.wasm");
  // Leaving a page cancels what it still had in flight (its live-update stream, a picker's lookups).
  watch.expectClean([/^request failed: GET http:\/\/127\.0\.0\.1:\d+\/(api\/v1\/[a-z/]+|pkg\/[a-z.-]+) \(net::ERR_ABORTED\)$/g]);
});

test("the bundles are served compressed to browsers that accept it", async () => {
  for (const [base, name] of [[aio.vdc, "quantix-iso"], [aio.vdc, "quantix-vms"], [aio.node, "quantix-host"]]) {
    const br = await fetch(`${base}/pkg/${name}.wasm`, { headers: { "accept-encoding": "br" } });
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(br.headers.get("content-type")).toBe("application/wasm");
    const gz = await fetch(`${base}/pkg/${name}.wasm`, { headers: { "accept-encoding": "gzip" } });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    // Decoded, both are the bundle itself.
    expect(Buffer.from(await br.arrayBuffer()).equals(Buffer.from(await gz.arrayBuffer()))).toBe(true);
  }
});

test("an unknown page answers 404 with the app's frame", async ({ page }) => {
  await signIn(page, aio.vdc);
  const resp = await page.goto(`${aio.vdc}/no/such/page`);
  expect(resp?.status()).toBe(404);
  await expect(page.locator("h1")).toHaveText("Page not found");
});
