// Watches a page for console errors, uncaught exceptions and failed requests, so a test can assert a
// page loaded cleanly.
import { Page, expect } from "@playwright/test";

export interface PageWatch {
  problems: string[];
  /** Fails the test if anything went wrong, ignoring problems matched by `allow`. */
  expectClean(allow?: RegExp[]): void;
}

export function watchPage(page: Page): PageWatch {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => {
    // A cancelled upload is aborted on purpose; everything else is a failure.
    problems.push(`request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on("response", (resp) => {
    if (resp.status() >= 400) problems.push(`HTTP ${resp.status()}: ${resp.request().method()} ${resp.url()}`);
  });
  return {
    problems,
    expectClean(allow: RegExp[] = []) {
      const left = problems.filter((p) => !allow.some((a) => a.test(p)));
      expect(left, "the page should load without errors").toEqual([]);
    },
  };
}

/** Waits until the WASM has hydrated the page. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator(".app[data-hydrated=true]")).toBeVisible();
}
