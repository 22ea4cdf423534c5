import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { removeDir, tempDir } from "@glm-workers/core/testkit";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const webDir = resolve(import.meta.dirname, "..");

describe("web build", () => {
  let outDir = "";
  let files: string[] = [];

  beforeAll(async () => {
    outDir = tempDir("web-build");
    await build({
      configFile: join(webDir, "vite.config.ts"),
      root: webDir,
      logLevel: "silent",
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
    files = await readdir(join(outDir, "assets"));
  }, 120_000);

  afterAll(() => {
    removeDir(outDir);
  });

  it("emits index.html that loads the hashed JS and CSS assets", async () => {
    const html = await readFile(join(outDir, "index.html"), "utf8");
    const js = files.filter((f) => f.startsWith("index-") && f.endsWith(".js"));
    const css = files.filter((f) => f.startsWith("index-") && f.endsWith(".css"));
    expect(js.length).toBeGreaterThan(0);
    expect(css.length).toBeGreaterThan(0);
    expect(html).toContain('<div id="root">');
    expect(html).toContain(`/assets/${js[0]}`);
    expect(html).toContain(`/assets/${css[0]}`);
  });

  it("bundles the dark theme with the emerald-400 accent", async () => {
    const cssFile = files.find((f) => f.startsWith("index-") && f.endsWith(".css"));
    expect(cssFile).toBeDefined();
    const css = await readFile(join(outDir, "assets", cssFile ?? ""), "utf8");
    expect(css).toMatch(/--color-accent:\s*var\(--color-emerald-400\)/);
    expect(css).toMatch(/--color-emerald-400:/);
    expect(css).toMatch(/--color-ink:\s*#07090a/);
    // Utilities the components use made it into the bundle (Tailwind scanned the sources).
    expect(css).toContain(".bg-panel");
    expect(css).toContain(".text-accent");
  });

  it("keeps server code out of the bundle (the router import is type-only)", async () => {
    const jsFiles = files.filter((f) => f.endsWith(".js"));
    const js = (
      await Promise.all(jsFiles.map((f) => readFile(join(outDir, "assets", f), "utf8")))
    ).join("\n");
    expect(js).toContain("glm-workers");
    expect(js).not.toMatch(/drizzle-orm|@libsql|node:fs|hono/);
  });
});
