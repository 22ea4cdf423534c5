import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ChromiumApp,
  docsDir,
  hasChromium,
  openInChromium,
  updateScreenshots,
} from "./helpers/browser.ts";
import type { E2eServer } from "./helpers/server.ts";

const SPEC_MARKDOWN = [
  "## Goal",
  "",
  "Add **rate limiting** to the public API so one client cannot starve the others.",
  "",
  "## Constraints",
  "",
  "- token bucket per API key, `100 req/min` by default",
  "- answer `429` with a `Retry-After` header",
  "- no new runtime dependencies",
  "",
  "```ts",
  "app.use('/api/*', rateLimit({ perMinute: 100 }));",
  "```",
  "",
  "> Keep the middleware under 150 lines.",
].join("\n");

async function chunkTitles(page: Page): Promise<string[]> {
  return page.getByTestId("chunk-title").allTextContents();
}

async function waitForReorder(page: Page, action: () => Promise<void>): Promise<void> {
  const answered = page.waitForResponse((r) => r.url().includes("chunks.reorder"));
  await action();
  await answered;
}

/** The server's default (and only) model: GLM_MODELS is not set in these tests. */
const MODEL = "zai-coding-plan/glm-4.7";

describe.skipIf(!(await hasChromium()))("projects and specs in Chromium", () => {
  let chromium: ChromiumApp | undefined;
  let app: E2eServer;
  let page: Page;
  let specUrl = "";

  beforeAll(async () => {
    chromium = await openInChromium();
    ({ app, page } = chromium);
  }, 120_000);

  afterAll(() => chromium?.close());

  it("shows a server error inline, then creates a project", async () => {
    await page.goto(app.url);
    await expect.poll(() => page.getByText("No projects yet").isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId("nav-workers").textContent()).toBe("Workers (0)");

    await page.getByLabel("Name", { exact: true }).fill("rate-limiter");
    await page.getByLabel("Directory", { exact: true }).fill(join(app.projectDir, "missing"));
    await page.getByRole("button", { name: "+ Create project" }).click();
    const dirError = page.locator("#field-directory-error");
    await expect.poll(() => dirError.textContent()).toContain("does not exist");

    await page.getByLabel("Directory", { exact: true }).fill(app.projectDir);
    await page.getByLabel("Description", { exact: true }).fill("Public API gateway");
    await page.getByRole("button", { name: "+ Create project" }).click();
    await expect.poll(() => page.getByRole("link", { name: /rate-limiter/ }).count()).toBe(1);
    expect(await dirError.count()).toBe(0);
  });

  it("creates a spec with three chunks and opens its workspace", async () => {
    await page.getByRole("link", { name: /rate-limiter/ }).click();
    await expect.poll(() => page.getByText("No specs yet").isVisible()).toBe(true);

    await page.getByLabel("Title", { exact: true }).fill("Rate limiting");
    await page.getByLabel("Spec (markdown)").fill(SPEC_MARKDOWN);
    // the server offers one model (its default); picking it gives the spec a model of its own
    await page.getByLabel("Model", { exact: true }).selectOption({ label: MODEL });
    const chunks = [
      ["Alpha: token bucket", "Implement the bucket with refill by elapsed time."],
      ["Beta: middleware", "Wire the bucket into a Hono middleware with 429 answers."],
      ["Gamma: tests", "Cover burst, refill and Retry-After."],
    ] as const;
    for (const [i, [title, description]] of chunks.entries()) {
      if (i > 0) await page.getByRole("button", { name: "+ Add chunk" }).click();
      await page.getByLabel(`Chunk ${i + 1} title`).fill(title);
      await page.getByLabel(`Chunk ${i + 1} description`).fill(description);
    }
    await page.getByRole("button", { name: "Create spec" }).click();

    await page.waitForURL(/\/specs\/[^/]+$/);
    specUrl = page.url();
    await expect.poll(() => chunkTitles(page)).toEqual(chunks.map(([t]) => t));
    // The markdown is rendered as elements, not shown as source.
    expect(await page.getByRole("heading", { name: "Constraints" }).count()).toBe(1);
    expect(await page.locator("[data-testid=spec-content] code", { hasText: "429" }).count()).toBe(
      1,
    );
    // The spec page shows the spec's model and can set it back to the server default.
    const model = page.locator("#spec-model-select");
    await expect.poll(() => model.inputValue()).toBe(MODEL);
    const saved = page.waitForResponse((r) => r.url().includes("specs.update"));
    await model.selectOption({ value: "" });
    expect((await saved).ok()).toBe(true);
    await expect.poll(() => model.inputValue()).toBe("");
    // A spec with chunks can be run (the workers tests run it).
    await expect
      .poll(() => page.getByRole("button", { name: "▶ Run All" }).isDisabled())
      .toBe(false);
  });

  it("reorders with the buttons and by drag, and the order survives a reload", async () => {
    await waitForReorder(page, () =>
      page.getByRole("button", { name: 'Move "Gamma: tests" up' }).click(),
    );
    expect(await chunkTitles(page)).toEqual([
      "Alpha: token bucket",
      "Gamma: tests",
      "Beta: middleware",
    ]);
    // Keyboard users keep their place: focus stays on the moved chunk's control.
    expect(
      await page.evaluate(() => document.activeElement?.closest("[data-chunk-id]")?.textContent),
    ).toContain("Gamma");

    const items = page.locator("[data-testid=chunk-item]");
    const last = items.nth(2);
    const box = await last.boundingBox();
    if (!box) throw new Error("chunk item has no box");
    await waitForReorder(page, () =>
      items.nth(0).dragTo(last, { targetPosition: { x: 40, y: box.height - 6 } }),
    );
    const expected = ["Gamma: tests", "Beta: middleware", "Alpha: token bucket"];
    expect(await chunkTitles(page)).toEqual(expected);

    const specId = specUrl.split("/").pop() ?? "";
    const stored = (await (await fetch(`${app.url}/api/specs/${specId}`)).json()) as {
      chunks: { title: string }[];
    };
    expect(stored.chunks.map((c) => c.title)).toEqual(expected);

    await page.reload();
    await expect.poll(() => chunkTitles(page)).toEqual(expected);
  });

  it("edits a chunk inline and adds one", async () => {
    await page.getByRole("button", { name: 'Edit "Beta: middleware"' }).click();
    await page.getByLabel("Chunk title", { exact: true }).fill("Beta: Hono middleware");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByLabel("New chunk title").fill("Delta: docs");
    await page.getByLabel("New chunk description").fill("Document the limits in the README.");
    const added = page.waitForResponse((r) => r.url().includes("chunks.create"));
    await page.getByRole("button", { name: "+ Add chunk" }).click();
    await added;
    await page.reload();
    await expect
      .poll(() => chunkTitles(page))
      .toEqual(["Gamma: tests", "Beta: Hono middleware", "Alpha: token bucket", "Delta: docs"]);
  });

  it("rolls an optimistic reorder back when the server refuses it", async () => {
    const specId = specUrl.split("/").pop() ?? "";
    const spec = (await (await fetch(`${app.url}/api/specs/${specId}`)).json()) as {
      chunks: { id: string; title: string }[];
    };
    const alpha = spec.chunks.find((c) => c.title.startsWith("Alpha"));
    // Another client deletes a chunk: this page's next reorder no longer lists the spec's chunks.
    const deleted = await fetch(`${app.url}/api/chunks/${alpha?.id}`, { method: "DELETE" });
    expect(deleted.status).toBeLessThan(300);

    await waitForReorder(page, () =>
      page.getByRole("button", { name: 'Move "Delta: docs" up' }).click(),
    );
    await expect.poll(() => page.getByTestId("toast-error").count()).toBeGreaterThan(0);
    // Rolled back, then reloaded from the server: the deleted chunk is gone, the order unchanged.
    await expect
      .poll(() => chunkTitles(page))
      .toEqual(["Gamma: tests", "Beta: Hono middleware", "Delta: docs"]);
  });

  it("explains unknown ids and unknown pages", async () => {
    await page.goto(`${app.url}/specs/does-not-exist`);
    await expect.poll(() => page.getByText("Spec not available").isVisible()).toBe(true);
    expect(await page.getByRole("alert").first().textContent()).toMatch(
      /not found|does-not-exist/i,
    );
    await page.goto(`${app.url}/nowhere/at/all`);
    await expect.poll(() => page.getByText("404 · nothing here").isVisible()).toBe(true);
    await page.goto(specUrl);
  });

  it("renders the workspace at 1280px and 390px without horizontal scrolling", async () => {
    await page.reload();
    await expect.poll(() => chunkTitles(page)).toHaveLength(3);
    const shot = await page.screenshot({ fullPage: true });
    expect(shot.byteLength).toBeGreaterThan(10_000);
    // docs/spec-workspace.png (with a live run) comes from workers.e2e.test.ts.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => chunkTitles(page)).toHaveLength(3);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    if (updateScreenshots) {
      await mkdir(docsDir, { recursive: true });
      await page.screenshot({ path: join(docsDir, "spec-workspace-phone.png"), fullPage: true });
    }
  });
});
