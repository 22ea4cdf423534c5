import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createProject } from "./helpers/api.ts";
import {
  type ChromiumApp,
  eventually,
  hasChromium,
  openInChromium,
  shoot,
  updateScreenshots,
} from "./helpers/browser.ts";
import type { E2eServer } from "./helpers/server.ts";

interface Made {
  projectId: string;
  projectName: string;
  specId: string;
  title: string;
}

interface WorkerJson {
  id: string;
  specId: string;
  status: string;
  progress: { current: number; total: number };
}

/** A project (own directory: one run per plain directory at a time) with one spec of `chunks`. */
async function makeSpec(app: E2eServer, name: string, title: string, chunks: number) {
  const { projectId } = await createProject(app, name);
  const spec = await api<{ id: string }>(app, `/api/projects/${projectId}/specs`, {
    method: "POST",
    body: {
      title,
      content: `## Goal\n\n${title} for ${name}.`,
      chunks: Array.from({ length: chunks }, (_, i) => ({
        title: `Step ${i + 1}: ${["scaffold", "implement", "wire up", "test", "document"][i % 5]}`,
        description: `Part ${i + 1} of ${title}.`,
      })),
    },
  });
  return { projectId, projectName: name, specId: spec.id, title } satisfies Made;
}

const card = (page: Page, specId: string): Locator =>
  page.locator(`[data-testid=worker-card][data-spec-id="${specId}"]`).first();
const queueTitles = (page: Page) => page.getByTestId("queue-title").allTextContents();

/** The server's models (GLM_MODELS); the first is its default. */
const MODELS = ["zai-coding-plan/glm-4.7", "zai-coding-plan/glm-4.6"] as const;

async function startFromDialog(page: Page, made: Made, model?: string): Promise<void> {
  await page.getByTestId("add-worker").click();
  const dialog = page.getByTestId("add-worker-dialog");
  await dialog.getByLabel("Project").selectOption({ label: made.projectName });
  const spec = dialog.getByLabel("Spec");
  await eventually(() => spec.locator("option", { hasText: made.title }).count()).toBe(1);
  await spec.selectOption({ label: made.title });
  if (model) await dialog.getByLabel("Model").selectOption({ label: model });
  const answered = page.waitForResponse((r) => r.url().includes("workers.start"));
  await dialog.getByTestId("add-worker-submit").click();
  expect((await answered).ok()).toBe(true);
  await eventually(() => dialog.isVisible()).toBe(false);
}

/** Progress text and log length of a card, to see whether a run moves. */
async function activity(page: Page, specId: string): Promise<string> {
  const c = card(page, specId);
  const progress = await c.getByTestId("worker-progress").textContent();
  const step = await c.getByTestId("worker-step").textContent();
  const lines = await c.getByTestId("log-line").count();
  return `${progress} | ${step} | ${lines}`;
}

describe.skipIf(!(await hasChromium()))("workers dashboard in Chromium", () => {
  let chromium: ChromiumApp | undefined;
  let app: E2eServer;
  let page: Page;
  const specs: Made[] = [];

  beforeAll(async () => {
    chromium = await openInChromium({
      env: {
        MAX_WORKERS: "2",
        EXECUTOR: "simulated",
        SIMULATED_CHUNK_MS: "1500",
        GLM_MODELS: MODELS.join(","),
      },
    });
    ({ app, page } = chromium);
    const plan = [
      ["billing", "Invoice export"],
      ["search", "Fuzzy matching"],
      ["gateway", "Rate limiting"],
      ["mailer", "Bounce handling"],
      ["reports", "Weekly digest"],
    ] as const;
    for (const [name, title] of plan) specs.push(await makeSpec(app, name, title, 12));
  }, 120_000);

  afterAll(() => chromium?.close());

  const at = (i: number): Made => {
    const made = specs[i];
    if (!made) throw new Error(`no spec #${i}`);
    return made;
  };

  it("starts three specs with two slots: two run, one waits, the warning and nav say so", async () => {
    await page.goto(`${app.url}/workers`);
    await eventually(() => page.getByText("No workers running").isVisible()).toBe(true);
    expect(await page.getByTestId("active-workers").textContent()).toBe("Active Workers: 0/2");
    expect(await page.getByText("The queue is empty").isVisible()).toBe(true);

    // the second run picks its own model in the dialog; the others use the server default
    for (const i of [0, 1, 2]) await startFromDialog(page, at(i), i === 1 ? MODELS[1] : undefined);

    await eventually(() => page.getByTestId("worker-card").count()).toBe(2);
    for (const i of [0, 1]) {
      await eventually(() => card(page, at(i).specId).getAttribute("data-status")).toBe("running");
    }
    await eventually(() => queueTitles(page)).toEqual([at(2).title]);
    expect(await page.getByTestId("queue-reason").first().textContent()).toContain("no free slot");
    expect(await page.getByTestId("active-workers").textContent()).toBe("Active Workers: 2/2");
    expect(await page.getByTestId("queue-count").textContent()).toBe("Queue: 1 spec waiting");
    expect(await page.getByTestId("workers-warning").textContent()).toBe(
      "⚠ All worker slots in use (2/2). New specs will be queued.",
    );
    await eventually(() => page.getByTestId("nav-workers").textContent()).toBe("Workers (2)");
    // The simulated executor is marked as such.
    expect(await card(page, at(0).specId).getByTestId("worker-executor").textContent()).toMatch(
      /^simulated/i,
    );
    // Each card shows the model its run uses.
    expect(await card(page, at(0).specId).getByTestId("worker-model").textContent()).toBe(
      MODELS[0],
    );
    expect(await card(page, at(1).specId).getByTestId("worker-model").textContent()).toBe(
      MODELS[1],
    );
  });

  it("shows the live log, then pause stops progress until resume", async () => {
    const a = card(page, at(0).specId);
    await a.getByTestId("worker-log-toggle").click();
    await eventually(() => a.getByTestId("log-line").count()).toBeGreaterThan(0);

    await a.getByTestId("worker-pause").click();
    await eventually(() => a.getAttribute("data-status"), 15_000).toBe("paused");
    expect(await a.getByTestId("worker-status").textContent()).toBe("paused");
    // A paused worker keeps its slot: the queued spec does not start.
    expect(await page.getByTestId("active-workers").textContent()).toBe("Active Workers: 2/2");
    const frozen = await activity(page, at(0).specId);
    await page.waitForTimeout(1600);
    expect(await activity(page, at(0).specId)).toBe(frozen);
    const server = await api<WorkerJson>(
      app,
      `/api/workers/${await a.getAttribute("data-worker-id")}`,
    );
    expect(server.status).toBe("paused");

    await a.getByTestId("worker-resume").click();
    await eventually(() => a.getAttribute("data-status"), 15_000).toBe("running");
    await eventually(() => activity(page, at(0).specId), 15_000).not.toBe(frozen);
  });

  it("reorders the queue by drag and by keyboard", async () => {
    for (const i of [3, 4]) await startFromDialog(page, at(i));
    await eventually(() => queueTitles(page)).toEqual([at(2).title, at(3).title, at(4).title]);
    expect(await page.getByTestId("queue-count").textContent()).toBe("Queue: 3 specs waiting");

    const items = page.getByTestId("queue-item");
    const first = items.nth(0);
    // Keep the list clear of the sticky header, where a drop would land on the nav instead.
    await first.evaluate((el) => el.scrollIntoView({ block: "center" }));
    const box = await first.boundingBox();
    if (!box) throw new Error("queue item has no box");
    // Drag the last item onto the top half of the first: it becomes first.
    const answered = page.waitForResponse((r) => r.url().includes("queue.reorder"), {
      timeout: 10_000,
    });
    await items.nth(2).dragTo(first, { targetPosition: { x: 60, y: box.height / 4 } });
    expect((await answered).ok()).toBe(true);
    const dragged = [at(4).title, at(2).title, at(3).title];
    expect(await queueTitles(page)).toEqual(dragged);
    const stored = await api<{ queue: { specTitle: string }[] }>(app, "/api/queue");
    expect(stored.queue.map((q) => q.specTitle)).toEqual(dragged);

    // Keyboard alternative: move "Bounce handling" up; focus stays on its controls.
    const moved = page.waitForResponse((r) => r.url().includes("queue.reorder"));
    await page.getByRole("button", { name: `Move "${at(3).title}" up` }).click();
    await moved;
    const keyed = [at(4).title, at(3).title, at(2).title];
    expect(await queueTitles(page)).toEqual(keyed);
    expect(
      await page.evaluate(() => document.activeElement?.closest("[data-queue-id]")?.textContent),
    ).toContain(at(3).title);
    await eventually(async () =>
      (await api<{ queue: { specTitle: string }[] }>(app, "/api/queue")).queue.map(
        (q) => q.specTitle,
      ),
    ).toEqual(keyed);

    if (updateScreenshots) await shoot(page, "workers-dashboard.png");
  });

  it("stops a worker: the first queued spec starts by itself", async () => {
    const b = card(page, at(1).specId);
    await b.getByTestId("worker-stop").click();
    // The head of the queue (dragged to the top) takes the freed slot.
    const next = at(4);
    await eventually(() => card(page, next.specId).getAttribute("data-status"), 15_000).toBe(
      "running",
    );
    await eventually(() => queueTitles(page)).toEqual([at(3).title, at(2).title]);
    expect(await page.getByTestId("active-workers").textContent()).toBe("Active Workers: 2/2");

    await page.getByTestId("recent-toggle").click();
    const stopped = page
      .getByTestId("recent-workers")
      .locator(`[data-testid=worker-card][data-spec-id="${at(1).specId}"]`);
    expect(await stopped.getAttribute("data-status")).toBe("stopped");
  });

  it("shows the same state after a reload", async () => {
    const before = {
      cards: await page
        .getByTestId("worker-cards")
        .locator("[data-testid=worker-card]")
        .evaluateAll((els) => els.map((e) => `${e.getAttribute("data-spec-id")}`)),
      queue: await queueTitles(page),
    };
    await page.reload();
    await eventually(() =>
      page
        .getByTestId("worker-cards")
        .locator("[data-testid=worker-card]")
        .evaluateAll((els) => els.map((e) => `${e.getAttribute("data-spec-id")}`)),
    ).toEqual(before.cards);
    expect(await queueTitles(page)).toEqual(before.queue);
    expect(await page.getByTestId("workers-warning").isVisible()).toBe(true);
    await eventually(() => page.getByTestId("nav-workers").textContent()).toBe("Workers (2)");
    await eventually(() => page.getByTestId("connection").getAttribute("data-state")).toBe("live");

    if (updateScreenshots) {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(200);
      await shoot(page, "workers-dashboard-phone.png");
    }
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("removes a queued spec, and Stop all asks first, then stops everything and holds the queue", async () => {
    const removed = page.waitForResponse((r) => r.url().includes("queue.remove"));
    await page.getByRole("button", { name: `Remove "${at(2).title}" from the queue` }).click();
    await removed;
    expect(await queueTitles(page)).toEqual([at(3).title]);

    await page.getByTestId("stop-all").click();
    const dialog = page.getByTestId("stop-all-dialog");
    await eventually(() => dialog.isVisible()).toBe(true);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await page.getByTestId("worker-card").count()).toBeGreaterThan(0);

    await page.getByTestId("stop-all").click();
    await dialog.getByTestId("confirm-action").click();
    await eventually(() => page.getByTestId("nav-workers").textContent()).toBe("Workers (0)");
    await eventually(() => page.getByText("No workers running").isVisible()).toBe(true);
    expect(await page.getByTestId("queue-paused").isVisible()).toBe(true);
    expect(await queueTitles(page)).toEqual([at(3).title]);

    // Resuming the queue starts what waits.
    await page.getByTestId("resume-queue").click();
    await eventually(() => card(page, at(3).specId).getAttribute("data-status"), 15_000).toBe(
      "running",
    );
    expect(await page.getByTestId("queue-paused").count()).toBe(0);
    await card(page, at(3).specId).getByTestId("worker-stop").click();
    await eventually(() => page.getByTestId("nav-workers").textContent()).toBe("Workers (0)");
  });

  it("runs a spec from its workspace: Run All shows the run live, Run in Background says where it went", async () => {
    const spec = await makeSpec(app, "notifier", "Push notifications", 3);
    await page.goto(`${app.url}/specs/${spec.specId}`);
    await eventually(() => page.getByTestId("chunk-item").count()).toBe(3);
    await page.getByTestId("run-all").click();
    const live = page.getByTestId("live-run");
    await eventually(() => live.getAttribute("data-status")).toBe("running");
    expect(await page.getByTestId("run-all").isDisabled()).toBe(true);
    // Chunk statuses follow the run, with its current step and log.
    await eventually(
      () => page.locator("[data-testid=chunk-item] [data-status=running]").count(),
      15_000,
    ).toBeGreaterThan(0);
    await eventually(() => live.getByTestId("worker-step").textContent()).toMatch(
      /executing|reviewing/,
    );
    await eventually(() => live.getByTestId("log-line").count()).toBeGreaterThan(0);
    await eventually(() => page.getByTestId("nav-workers").textContent()).toBe("Workers (1)");

    if (updateScreenshots) {
      await eventually(
        () => page.locator("[data-testid=chunk-item] [data-status=completed]").count(),
        20_000,
      ).toBeGreaterThan(0);
      await shoot(page, "spec-workspace.png");
    }

    // Another spec in the background: one slot is free, so it starts; the toast links to /workers.
    const other = await makeSpec(app, "ledger", "Audit trail", 2);
    await page.goto(`${app.url}/specs/${other.specId}`);
    await eventually(() => page.getByTestId("chunk-item").count()).toBe(2);
    await page.getByTestId("run-background").click();
    const toast = page.getByTestId("toast-success").filter({ hasText: "Audit trail" });
    await eventually(() => toast.textContent()).toContain("started");
    await toast.getByRole("link", { name: /Open workers/ }).click();
    await page.waitForURL(/\/workers$/);
    await eventually(() => page.getByTestId("worker-card").count()).toBe(2);

    // The run of the first spec ends on its own: its chunks end completed.
    await page.goto(`${app.url}/specs/${spec.specId}`);
    await eventually(() => page.getByTestId("live-run").getAttribute("data-status"), 40_000).toBe(
      "completed",
    );
    await eventually(() =>
      page.locator("[data-testid=chunk-item] [data-status=completed]").count(),
    ).toBe(3);
    expect(await page.getByTestId("run-all").isDisabled()).toBe(false);
  });
  it("shows a run's tokens and API-equivalent cost live: on its card, per chunk step, per spec and for the last 5 hours", async () => {
    const spec = await makeSpec(app, "meter", "Token meter", 8);
    await api(app, "/api/workers", { method: "POST", body: { specId: spec.specId } });
    await page.goto(`${app.url}/workers`);
    await eventually(() => card(page, spec.specId).getAttribute("data-status"), 30_000).toBe(
      "running",
    );
    const { workers } = await api<{ workers: WorkerJson[] }>(app, "/api/workers");
    const id = workers.find((w) => w.specId === spec.specId)?.id ?? "";
    const before = (await api<{ last5h: { requests: number } }>(app, "/api/usage")).last5h.requests;
    // what the gateway reports for each finished model request (the simulated agent makes none)
    const report = {
      inputTokens: 120_000,
      outputTokens: 2_000,
      reasoningTokens: 500,
      cacheReadTokens: 100_000,
      requests: 1,
      model: null,
    };
    const c = card(page, spec.specId);
    expect(await c.getByTestId("worker-usage").count()).toBe(0);
    await eventually(() => c.getByTestId("worker-step").textContent()).toMatch(
      /executing|reviewing/,
    );
    await app.orchestrator.recordUsage(id, report);
    await eventually(() => c.getByTestId("usage-tokens").textContent()).toBe("120k in · 2k out");
    // glm-4.7: 20k uncached × 0.60 + 100k cached × 0.11 + 2k out × 2.20 = $0.0274
    expect(await c.getByTestId("usage-cost").textContent()).toBe("≈ $0.03 API-equivalent");
    expect(await c.getByTestId("worker-usage").getAttribute("title")).toMatch(/flat-rate/);
    const panel = page.getByTestId("usage-panel");
    await eventually(() => panel.getByTestId("usage-last5h-requests").textContent()).toBe(
      String(before + 1),
    );
    await app.orchestrator.recordUsage(id, report);
    await eventually(() => c.getByTestId("usage-tokens").textContent()).toBe("240k in · 4k out");
    await eventually(() => panel.getByTestId("usage-last5h-requests").textContent()).toBe(
      String(before + 2),
    );

    // the spec workspace: the spec's total and each chunk step that used the model, live
    await page.goto(`${app.url}/specs/${spec.specId}`);
    const total = page.getByTestId("spec-usage");
    await eventually(() => total.getByTestId("usage-tokens").textContent()).toBe(
      "240k in · 4k out",
    );
    await eventually(() =>
      page
        .locator("[data-testid=chunk-usage-executing], [data-testid=chunk-usage-reviewing]")
        .count(),
    ).toBeGreaterThan(0);
    const live = page.getByTestId("live-run");
    await eventually(() => live.getByTestId("usage-tokens").textContent()).toBe("240k in · 4k out");
    await app.orchestrator.recordUsage(id, report);
    await eventually(() => total.getByTestId("usage-tokens").textContent()).toBe(
      "360k in · 6k out",
    );
    await eventually(() => live.getByTestId("usage-cost").textContent()).toBe(
      "≈ $0.08 API-equivalent",
    );
    const chunkRequests = await page
      .locator("[data-testid=chunk-usage-executing], [data-testid=chunk-usage-reviewing]")
      .evaluateAll((els) => els.reduce((n, el) => n + Number(el.getAttribute("data-requests")), 0));
    expect(chunkRequests).toBeLessThanOrEqual(3);
    await api(app, `/api/workers/${id}`, { method: "DELETE" });
  }, 60_000);
});
