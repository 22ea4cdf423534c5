import { afterEach, describe, expect, it } from "vitest";
import { type TempDb, tempDb } from "./helpers.ts";

let t: TempDb | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe("settings repository", () => {
  it("stores JSON values by key", async () => {
    const d = await tempDb();
    t = d;
    const { settings } = d.repos;
    expect(await settings.get("maxWorkers")).toBeUndefined();
    await settings.set("maxWorkers", 5);
    await settings.set("model", { id: "glm-4.7", temp: 0.2 });
    await settings.set("maxWorkers", 8);
    expect(await settings.get("maxWorkers")).toBe(8);
    expect(await settings.all()).toEqual({ maxWorkers: 8, model: { id: "glm-4.7", temp: 0.2 } });
    expect(await settings.remove("model")).toBe(true);
    expect(await settings.remove("model")).toBe(false);
    await d.reopen();
    expect(await d.repos.settings.all()).toEqual({ maxWorkers: 8 });
  });
});
