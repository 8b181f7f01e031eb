// Every page renders on the server, hydrates in the browser, and loads without errors.
import { expect, test } from "@playwright/test";

import { AllInOne, startAllInOne } from "./support/cluster";
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
  await page.goto(`${aio.vdc}/`);
  await expect(page).toHaveURL(/\/images$/);
  await expect(page.locator("h1")).toHaveText("Image library");
  await hydrated(page);
  await expect(page.getByTestId("search")).toBeEnabled();
  watch.expectClean();
});

test("the vdc's VM wizard hydrates", async ({ page }) => {
  const watch = watchPage(page);
  await page.goto(`${aio.vdc}/vms/new`);
  await hydrated(page);
  await page.getByTestId("vm-name").fill("web-01");
  await expect(page.getByTestId("wizard-next")).toBeEnabled();
  watch.expectClean();
});

test("an unknown page answers 404 with the app's frame", async ({ page }) => {
  const resp = await page.goto(`${aio.vdc}/no/such/page`);
  expect(resp?.status()).toBe(404);
  await expect(page.locator("h1")).toHaveText("Page not found");
});
