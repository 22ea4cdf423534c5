import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "@glm-workers/core/testkit";
import { afterEach, expect, test } from "vitest";
import { call, type TestApp, testApp } from "./helpers.ts";

let t: TestApp | undefined;
const distDirs: string[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const dir of distDirs.splice(0)) removeDir(dir);
});

function makeDist(): string {
  const dist = tempDir("web-dist");
  distDirs.push(dist);
  mkdirSync(join(dist, "assets"), { recursive: true });
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>glm-workers</title>");
  writeFileSync(join(dist, "assets", "app-abc123.js"), "console.log('app')");
  return dist;
}

test("the built web app is served at / with an SPA fallback; /api stays JSON", async () => {
  const dist = makeDist();
  t = await testApp({ WEB_DIST: dist });

  const index = await t.app.request("/");
  expect(index.status).toBe(200);
  expect(await index.text()).toContain("<title>glm-workers</title>");

  const deep = await t.app.request("/projects/123/specs/456");
  expect(deep.status).toBe(200);
  expect(deep.headers.get("content-type")).toMatch(/text\/html/);
  expect(deep.headers.get("cache-control")).toBe("no-cache");

  const asset = await t.app.request("/assets/app-abc123.js");
  expect(asset.status).toBe(200);
  expect(asset.headers.get("content-type")).toMatch(/javascript/);
  expect(asset.headers.get("cache-control")).toMatch(/immutable/);

  const api = await call(t.app, "/api/unknown");
  expect(api.status).toBe(404);
  expect(api.json.error.code).toBe("NOT_FOUND");
});

test("without a build, / is a 404 and the API still works", async () => {
  t = await testApp();
  expect((await t.app.request("/")).status).toBe(404);
  expect((await call(t.app, "/api/health")).status).toBe(200);
});
