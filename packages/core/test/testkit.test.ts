import { existsSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { removeDir, tempDir, waitFor } from "../src/testkit/index.ts";

describe("waitFor", () => {
  test("polls until the probe is truthy and returns that value", async () => {
    let n = 0;
    const value = await waitFor("the third try", async () => (++n >= 3 ? { n } : null), {
      intervalMs: 1,
    });
    expect(value).toEqual({ n: 3 });
  });

  test("a probe that throws is tried again", async () => {
    let n = 0;
    const value = await waitFor(
      "a probe that recovers",
      () => {
        n++;
        if (n < 3) throw new Error("not yet");
        return "ok";
      },
      { intervalMs: 1 },
    );
    expect(value).toBe("ok");
    expect(n).toBe(3);
  });

  test("on timeout the error names what it waited for and the last value", async () => {
    const started = Date.now();
    await expect(waitFor("the answer", () => 0, { timeoutMs: 80, intervalMs: 10 })).rejects.toThrow(
      "timed out after 80 ms waiting for the answer (last value: 0)",
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("on timeout the error carries the probe's last error", async () => {
    await expect(
      waitFor(
        "the server",
        () => {
          throw new Error("connect ECONNREFUSED");
        },
        { timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow("waiting for the server (last error: connect ECONNREFUSED)");
  });

  test("an abort stops the wait with the signal's reason", async () => {
    const ctl = new AbortController();
    const reason = new Error("the test gave up");
    setTimeout(() => ctl.abort(reason), 30);
    const started = Date.now();
    await expect(
      waitFor("never", () => false, { signal: ctl.signal, intervalMs: 10_000 }),
    ).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(waitFor("never", () => true, { signal: ctl.signal })).rejects.toBe(reason);
  });
});

describe("tempDir and removeDir", () => {
  test("tempDir makes a fresh glm-<prefix>- directory under the OS temp dir", () => {
    const a = tempDir("testkit");
    const b = tempDir("testkit");
    try {
      expect(a).not.toBe(b);
      expect(dirname(a)).toBe(tmpdir());
      expect(basename(a)).toMatch(/^glm-testkit-.{6}$/);
      expect(statSync(a).isDirectory()).toBe(true);
    } finally {
      removeDir(a);
      removeDir(b);
    }
  });

  test("removeDir removes a tree and never throws", () => {
    const dir = tempDir("testkit");
    writeFileSync(join(dir, "file.txt"), "x");
    removeDir(dir);
    expect(existsSync(dir)).toBe(false);
    expect(() => removeDir(dir)).not.toThrow();
    expect(() => removeDir(undefined)).not.toThrow();
    expect(() => removeDir("")).not.toThrow();
  });
});
