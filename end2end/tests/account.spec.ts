// Signing in and out, roles in the UI, and the audit log: a newcomer with the all-in-one's generated
// password, a viewer on a host, an admin reading who did what.
import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

import { AllInOne, NodeProc, signIn, signInApi, startAllInOne, startNode } from "./support/cluster";
import { hydrated, watchPage } from "./support/pagecheck";
import { fileOf } from "./support/ui";

let aio: AllInOne;
let node: NodeProc;

test.beforeAll(async () => {
  aio = await startAllInOne();
  node = await startNode({ id: "viewer-host" });
});

test.afterAll(async () => {
  await aio?.proc.stop();
  await node?.stop();
});

test("a newcomer signs in with the initial password, lands on the page asked for, and signs out for good", async ({ page }) => {
  const watch = watchPage(page);
  // The file the README points to; readable by its owner only.
  const file = path.join(aio.dataDir, "initial-admin-password");
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  const password = fs.readFileSync(file, "utf8").trim();

  await page.goto(`${aio.vdc}/vms/new`);
  await expect(page).toHaveURL(/\/login\?next=\/vms\/new$/);
  await hydrated(page);
  await expect(page.getByTestId("signed-in-user")).toHaveCount(0);
  // A wrong password: a clear message, and still on the sign-in page.
  await page.getByTestId("login-username").fill("admin");
  await page.getByTestId("login-password").fill("not-the-password");
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("login-error")).toHaveText("The user name or the password is wrong.");

  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await expect(page).toHaveURL(/\/vms\/new$/);
  await expect(page.locator("h1")).toHaveText("Create a virtual machine");
  await expect(page.getByTestId("signed-in-user")).toHaveText("admin");
  await expect(page.getByTestId("signed-in-role")).toHaveText("admin");
  await hydrated(page);

  // A private page in the history, then sign-out: Back shows the sign-in page, not the library.
  await page.getByRole("link", { name: "Image library" }).click();
  await expect(page.locator("h1")).toHaveText("Image library");
  await hydrated(page);
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goBack();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.locator("h1")).toHaveText("Sign in");
  await expect(page.getByTestId("signed-in-user")).toHaveCount(0);
  // The old cookie is dead on the server too.
  const me = await page.evaluate(async () => (await fetch("/api/v1/auth/me")).status);
  expect(me).toBe(401);
  // The refused sign-in and the dead cookie's check were meant; leaving the library ends its live stream.
  watch.expectClean([
    /HTTP 401: POST .*\/api\/v1\/auth\/login$/,
    /HTTP 401: GET .*\/api\/v1\/auth\/me$/,
    /^console error: Failed to load resource: .* 401 \(Unauthorized\)$/g,
    /^request failed: GET .*\/api\/v1\/events \(net::ERR_ABORTED\)$/g,
  ]);
});

test("a viewer sees the host page without write controls, and the API refuses a write", async ({ page }) => {
  const watch = watchPage(page);
  const { buffer } = fileOf(4096);
  const form = new FormData();
  form.append("file", new Blob([buffer]), "debian-12.iso");
  expect((await fetch(`${node.url}/api/v1/storage/upload?folder=%2Flinux`, { method: "POST", body: form })).status).toBe(201);
  const created = await fetch(`${node.url}/api/v1/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "vera", password: "vera-password-123", role: "viewer" }),
  });
  expect(created.status).toBe(201);
  await signIn(page, node.url, await signInApi(node.url, "vera", "vera-password-123"));

  await page.goto(`${node.url}/images?folder=%2Flinux`);
  await hydrated(page);
  await expect(page.getByTestId("signed-in-role")).toHaveText("viewer");
  await expect(page.getByTestId("image-row")).toHaveCount(1);
  for (const control of ["new-folder", "upload-input", "upload-pool", "move-image", "delete-image", "rename-folder", "delete-folder"]) {
    await expect(page.getByTestId(control), control).toHaveCount(0);
  }
  await expect(page.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  const status = await page.evaluate(async () => {
    const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
    const r = await fetch("/api/v1/images/folders", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ path: "/viewer-was-here" }),
    });
    return [r.status, (await r.json()).error];
  });
  expect(status).toEqual([403, "forbidden"]);
  watch.expectClean([/HTTP 403: POST .*\/api\/v1\/images\/folders$/, /^console error: Failed to load resource: .* 403 \(Forbidden\)$/]);
});

test("an admin reads the audit log and filters it", async ({ page }) => {
  const watch = watchPage(page);
  const form = new FormData();
  form.append("file", new Blob([fileOf(2048).buffer]), "audited.iso");
  expect((await fetch(`${node.url}/api/v1/storage/upload`, { method: "POST", body: form })).status).toBe(201);
  await signIn(page, node.url);
  await page.goto(`${node.url}/images`);
  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.locator("h1")).toHaveText("Audit log");
  await hydrated(page);
  // The upload and the sign-ins are there.
  await expect(page.locator('[data-testid="audit-row"][data-action="image_upload"]').first()).toBeVisible();
  await expect(page.locator('[data-testid="audit-row"][data-action="sign_in"]').first()).toBeVisible();
  await page.getByTestId("audit-action").selectOption("sign_in");
  await page.getByTestId("audit-apply").click();
  await expect(page).toHaveURL(/action=sign_in/);
  await expect(page.getByTestId("audit-row").first()).toBeVisible();
  const actions = await page.getByTestId("audit-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action")));
  expect(new Set(actions)).toEqual(new Set(["sign_in"]));
  watch.expectClean();
});
