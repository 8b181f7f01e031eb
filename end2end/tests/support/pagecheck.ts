// Watches a page for console errors, uncaught exceptions and failed requests, so a test can assert a
// page loaded cleanly.
import { Page, expect } from "@playwright/test";

export interface PageWatch {
  problems: string[];
  /**
   * Fails the test if anything went wrong, ignoring one problem matched by each pattern of `allow` (any
   * number of them for a pattern with the `g` flag).
   */
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
      const unused = [...allow];
      const left = problems.filter((p) => {
        const i = unused.findIndex((a) => a.test(p));
        if (i < 0) return true;
        if (!unused[i].global) unused.splice(i, 1);
        else unused[i].lastIndex = 0;
        return false;
      });
      expect(left, "the page should load without errors").toEqual([]);
    },
  };
}

/** Waits until the WASM has hydrated the page. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator(".app[data-hydrated=true]")).toBeVisible();
}
