import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createProject } from "./helpers/api.ts";
import {
  type ChromiumApp,
  eventually as eventuallyWithin,
  hasChromium,
  openInChromium,
  shoot,
  updateScreenshots,
} from "./helpers/browser.ts";
import type { E2eServer } from "./helpers/server.ts";

const run = promisify(execFile);

/** `git …` in `cwd`, its output trimmed. */
async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", args, { cwd, encoding: "utf8" });
  return stdout.trim();
}

interface WorkerJson {
  id: string;
  specId: string;
  status: string;
  landed: { how: string; commit: string | null } | null;
}

interface DiffJson {
  files: { path: string; additions: number; patch: string }[];
  stats: { files: number; additions: number };
}

interface Made {
  directory: string;
  projectId: string;
  specId: string;
  title: string;
}

/** A git repository on `main` with one commit, and a project on it. */
function makeGitProject(app: E2eServer, name: string) {
  return createProject(app, name, async (directory) => {
    await git(directory, "init", "-q", "-b", "main");
    await git(directory, "config", "user.name", "Run Page Test");
    await git(directory, "config", "user.email", "run-page@example.test");
    await git(directory, "config", "commit.gpgsign", "false");
    await writeFile(join(directory, "README.md"), `# ${name}\n`);
    await git(directory, "add", "-A");
    await git(directory, "commit", "-q", "-m", "initial commit");
  });
}

/**
 * A spec of two chunks; their titles name the files the simulated agent writes. `failSecond`
 * makes the second chunk fail (a directive of the simulated agent).
 */
async function makeSpec(
  app: E2eServer,
  project: { directory: string; projectId: string },
  title: string,
  failSecond = false,
) {
  const spec = await api<{ id: string }>(app, `/api/projects/${project.projectId}/specs`, {
    method: "POST",
    body: {
      title,
      content: `## Goal\n\n${title}.`,
      chunks: [
        { title: "Step 1: scaffold", description: `Lay out ${title}.` },
        {
          title: "Step 2: implement",
          description: `Write ${title}.${failSecond ? " [simulate:fail]" : ""}`,
        },
      ],
    },
  });
  return { ...project, specId: spec.id, title } satisfies Made;
}

/** Starts the spec's run and waits until it ended `completed` (or the status given). */
async function runToEnd(app: E2eServer, made: Made, expected = "completed"): Promise<WorkerJson> {
  const started = await api<{ status: string; worker?: WorkerJson }>(app, "/api/workers", {
    method: "POST",
    body: { specId: made.specId },
  });
  let id = started.worker?.id;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!id) {
      const { workers } = await api<{ workers: WorkerJson[] }>(app, "/api/workers");
      id = workers.find((w) => w.specId === made.specId)?.id;
    }
    const worker = id ? await api<WorkerJson>(app, `/api/workers/${id}`) : null;
    if (worker?.status === expected) return worker;
    if (worker && ["completed", "failed", "stopped"].includes(worker.status)) {
      throw new Error(`the run of "${made.title}" ended ${worker.status}`);
    }
    if (Date.now() > deadline) throw new Error(`the run of "${made.title}" did not complete`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs take a while: a longer wait than the usual one. */
const eventually = <T>(fn: () => T | Promise<T>, timeout = 15_000) => eventuallyWithin(fn, timeout);

describe.skipIf(!(await hasChromium()))("the page of a run in Chromium", () => {
  let chromium: ChromiumApp | undefined;
  let app: E2eServer;
  let page: Page;

  beforeAll(async () => {
    chromium = await openInChromium({
      env: { MAX_WORKERS: "3", EXECUTOR: "simulated", SIMULATED_CHUNK_MS: "300" },
    });
    ({ app, page } = chromium);
  }, 120_000);

  afterAll(() => chromium?.close());

  it("shows a finished run's chunks and diff, and squashes it into main", async () => {
    const project = await makeGitProject(app, "billing");
    const made = await makeSpec(app, project, "Invoice export");
    const worker = await runToEnd(app, made);
    const diffJson = await api<DiffJson>(app, `/api/workers/${worker.id}/diff`);
    expect(diffJson.files.map((f) => f.path).sort()).toEqual([
      "glm-sim/step-1-scaffold.md",
      "glm-sim/step-2-implement.md",
    ]);

    // from the run's card on the dashboard to its page
    await page.goto(`${app.url}/workers`);
    await page.getByTestId("recent-toggle").click();
    const card = page.locator(`[data-testid=worker-card][data-worker-id="${worker.id}"]`);
    await card.getByRole("link", { name: made.title, exact: true }).click();
    await page.waitForURL(`${app.url}/workers/${worker.id}`);

    const runPage = page.getByTestId("run-page");
    await eventually(() => runPage.getAttribute("data-status")).toBe("completed");
    expect(await page.getByTestId("run-spec-link").getAttribute("href")).toBe(
      `/specs/${made.specId}`,
    );
    expect(await page.getByTestId("run-branch").textContent()).toMatch(/→ main$/);

    // the timeline: both chunks passed review and have a commit
    const chunks = page.getByTestId("timeline-chunk");
    await eventually(() => chunks.count()).toBe(2);
    await eventually(() =>
      chunks.evaluateAll((els) => els.map((e) => e.getAttribute("data-status"))),
    ).toEqual(["completed", "completed"]);
    expect(await page.getByTestId("chunk-verdict").allTextContents()).toEqual(["pass", "pass"]);
    expect(await page.getByTestId("chunk-commit").count()).toBe(2);
    await eventually(() => page.getByTestId("log-line").count()).toBeGreaterThan(0);

    // the log: a text search and a level filter
    await page.getByLabel("Search the log").fill("review verdict");
    await eventually(() => page.getByTestId("log-line").allTextContents()).toHaveLength(2);
    expect(await page.getByTestId("log-line").first().textContent()).toContain("Review verdict");
    await page.getByRole("button", { name: "error", exact: true }).click();
    await eventually(() => page.getByTestId("log-line").count()).toBe(0);
    expect(await page.getByText("no line matches the filter").isVisible()).toBe(true);
    await page.getByRole("button", { name: "all", exact: true }).click();
    await page.getByLabel("Search the log").fill("");
    await eventually(() => page.getByTestId("log-line").count()).toBeGreaterThan(2);

    // the diff: the file list with counts and each file's added lines, drawn by diff2html
    const diff = page.getByTestId("run-diff");
    await eventually(() => diff.getByTestId("diff-file-path").allTextContents()).toEqual(
      diffJson.files.map((f) => f.path),
    );
    const added = diff.locator(".d2h-ins .d2h-code-line-ctn");
    await eventually(() => added.filter({ hasText: "# Step 1: scaffold" }).count()).toBe(1);
    expect(await added.filter({ hasText: "# Step 2: implement" }).count()).toBe(1);
    expect(await diff.locator(".d2h-ins .d2h-code-line-prefix").first().textContent()).toBe("+");
    // syntax colouring (markdown) by highlight.js
    expect(await diff.locator(".d2h-code-line-ctn.hljs .hljs-section").count()).toBeGreaterThan(0);

    // side by side on a wide screen
    await diff.getByRole("button", { name: "side by side" }).click();
    await eventually(() => diff.locator(".d2h-file-side-diff").count()).toBeGreaterThan(0);
    await diff.getByRole("button", { name: "unified" }).click();
    await eventually(() => diff.locator(".d2h-file-side-diff").count()).toBe(0);

    // one chunk's commit alone
    await page.getByLabel("show", { exact: true }).selectOption({ index: 1 });
    await eventually(() => diff.getByTestId("diff-file-path").allTextContents()).toEqual([
      "glm-sim/step-1-scaffold.md",
    ]);
    await page.getByLabel("show", { exact: true }).selectOption({ index: 0 });
    await eventually(() => diff.getByTestId("diff-file-path").count()).toBe(2);

    // squash it into main through the dialog
    await page.getByTestId("merge-open").click();
    const dialog = page.getByTestId("merge-dialog");
    await eventually(() => dialog.isVisible()).toBe(true);
    await dialog.getByRole("radio", { name: /Squash/ }).check();
    await dialog.getByLabel(/Commit message/).fill("Invoice export, squashed");
    const answered = page.waitForResponse((r) => r.url().includes("workers.merge"));
    await dialog.getByTestId("merge-confirm").click();
    expect((await answered).ok()).toBe(true);

    const landed = page.getByTestId("run-landed");
    await eventually(() => landed.getAttribute("data-how")).toBe("squashed");
    expect(await landed.textContent()).toMatch(/Squashed into main as [0-9a-f]{7}/);
    expect(await page.getByTestId("merge-open").isDisabled()).toBe(true);
    expect(await page.getByTestId("discard-open").isDisabled()).toBe(true);

    // git agrees: main holds the run's files in one new commit with the message given
    for (const file of diffJson.files) {
      expect(await git(project.directory, "show", `main:${file.path}`)).toContain("# Step");
    }
    expect(await git(project.directory, "log", "-1", "--format=%s", "main")).toBe(
      "Invoice export, squashed",
    );
    expect((await git(project.directory, "rev-list", "--count", "main")).trim()).toBe("2");
    const server = await api<WorkerJson>(app, `/api/workers/${worker.id}`);
    expect(server.landed?.how).toBe("squashed");
    expect(await git(project.directory, "rev-parse", "main")).toBe(server.landed?.commit);
  }, 120_000);

  it("warns about overlaps, and a conflicting merge lists the files and changes nothing", async () => {
    const project = await makeGitProject(app, "search");
    // two runs of the same project write the same files
    const made = await makeSpec(app, project, "Fuzzy matching");
    const other = await makeSpec(app, project, "Typo tolerance");
    const [worker] = await Promise.all([runToEnd(app, made), runToEnd(app, other)]);
    if (!worker) throw new Error("no worker");
    const { files } = await api<DiffJson>(app, `/api/workers/${worker.id}/diff`);
    const target = files[0]?.path;
    if (!target) throw new Error("the run changed no file");

    // main moves on: the same file, other content
    await mkdir(join(project.directory, "glm-sim"), { recursive: true });
    await writeFile(join(project.directory, target), "# written on main\n\nother content\n");
    await git(project.directory, "add", "--", target);
    await git(project.directory, "commit", "-q", "-m", "main changes the same file");
    const headBefore = await git(project.directory, "rev-parse", "HEAD");
    const statusBefore = await git(project.directory, "status", "--porcelain");

    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/workers/${worker.id}`);
    const warning = page.getByTestId("conflict-warning").first();
    await eventually(() => warning.textContent()).toContain(
      `2 files also changed by "${other.title}" — merge one first`,
    );
    expect(await warning.textContent()).toContain(
      "1 file also changed on main since this run started",
    );
    await eventually(() =>
      page.getByTestId("run-diff").locator(".d2h-ins .d2h-code-line-ctn").count(),
    ).toBeGreaterThan(0);

    if (updateScreenshots) {
      await shoot(page, "run-page.png");
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(300);
      await shoot(page, "run-page-phone.png");
    }
    // the phone layout does not scroll sideways
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByTestId("merge-open").click();
    const dialog = page.getByTestId("merge-dialog");
    await eventually(() => dialog.getByTestId("conflict-warning").isVisible()).toBe(true);
    const answered = page.waitForResponse((r) => r.url().includes("workers.merge"));
    await dialog.getByTestId("merge-confirm").click();
    expect((await answered).ok()).toBe(false);

    const refusal = page.getByTestId("merge-refusal");
    await eventually(() => refusal.getAttribute("data-reason")).toBe("MERGE_CONFLICT");
    expect(await refusal.getByTestId("refusal-files").locator("li").allTextContents()).toContain(
      target,
    );
    expect(await page.getByTestId("run-landed").count()).toBe(0);
    expect(await page.getByTestId("merge-open").isDisabled()).toBe(false);

    // everything is as it was: no merge in progress, nothing staged or changed, main where it was
    expect(await git(project.directory, "status", "--porcelain")).toBe(statusBefore);
    expect(existsSync(join(project.directory, ".git", "MERGE_HEAD"))).toBe(false);
    expect(await git(project.directory, "rev-parse", "HEAD")).toBe(headBefore);
    const server = await api<WorkerJson>(app, `/api/workers/${worker.id}`);
    expect(server.landed).toBeNull();
  }, 120_000);

  it("discards a run after asking; Retry of a failed run opens the new run's page", async () => {
    const project = await makeGitProject(app, "mailer");
    const made = await makeSpec(app, project, "Bounce handling");
    const worker = await runToEnd(app, made);
    const { branch } = await api<{ branch: string }>(app, `/api/workers/${worker.id}`);
    expect(await git(project.directory, "branch", "--list", branch)).not.toBe("");

    await page.goto(`${app.url}/workers/${worker.id}`);
    await eventually(() => page.getByTestId("timeline-chunk").count()).toBe(2);
    expect(await page.getByTestId("retry").count()).toBe(0); // nothing to retry

    // Discard asks first; Cancel keeps everything
    await page.getByTestId("discard-open").click();
    const dialog = page.getByTestId("discard-dialog");
    await eventually(() => dialog.isVisible()).toBe(true);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await eventually(() => dialog.isVisible()).toBe(false);
    expect(await page.getByTestId("run-landed").count()).toBe(0);

    await page.getByTestId("discard-open").click();
    const discarded = page.waitForResponse((r) => r.url().includes("workers.discard"));
    await dialog.getByTestId("confirm-action").click();
    expect((await discarded).ok()).toBe(true);
    await eventually(() => page.getByTestId("run-landed").getAttribute("data-how")).toBe(
      "discarded",
    );
    expect(await page.getByTestId("merge-open").isDisabled()).toBe(true);
    expect(await page.getByTestId("discard-open").isDisabled()).toBe(true);
    expect(await git(project.directory, "branch", "--list", branch)).toBe("");
    expect(await git(project.directory, "rev-list", "--count", "main")).toBe("1");

    // a failed run: Retry starts the spec again and goes to the new run's page
    const failing = await makeSpec(app, project, "Retry queue", true);
    const failed = await runToEnd(app, failing, "failed");
    await page.goto(`${app.url}/workers/${failed.id}`);
    await eventually(() =>
      page
        .getByTestId("timeline-chunk")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-status"))),
    ).toEqual(["completed", "failed"]);
    const retried = page.waitForResponse((r) => r.url().includes("workers.retry"));
    await page.getByRole("button", { name: /Retry/ }).click();
    expect((await retried).ok()).toBe(true);
    await page.waitForURL(
      (url) => url.pathname.startsWith("/workers/") && !url.pathname.endsWith(failed.id),
    );
    const next = page.getByTestId("run-page");
    await eventually(() => next.getAttribute("data-worker-id")).not.toBe(failed.id);
    expect(await page.getByTestId("run-spec-link").textContent()).toBe(failing.title);

    // the old run now points at the newer one and cannot be retried again
    await page.goto(`${app.url}/workers/${failed.id}`);
    await eventually(() => page.getByTestId("newer-run").count()).toBe(1);
    expect(await page.getByTestId("retry").isDisabled()).toBe(true);
    // the newer run continues on the same branch: this one is not landed on its own
    expect(await page.getByTestId("merge-open").isDisabled()).toBe(true);
    expect(await page.getByTestId("discard-open").isDisabled()).toBe(true);
  }, 120_000);
});
