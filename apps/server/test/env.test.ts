import { describe, expect, test } from "vitest";
import { EnvError, executorLabel, loadEnv } from "../src/env.ts";

function problems(source: Record<string, string>): string[] {
  try {
    loadEnv(source, { cwd: "/srv/app" });
  } catch (err) {
    if (err instanceof EnvError) return err.problems;
    throw err;
  }
  throw new Error("expected loadEnv to fail");
}

describe("loadEnv", () => {
  test("defaults", () => {
    const env = loadEnv({}, { cwd: "/srv/app" });
    expect(env).toMatchObject({
      PORT: 4317,
      HOST: "127.0.0.1",
      DATABASE_URL: "file:/srv/app/data/glm-workers.db",
      MAX_WORKERS: 5,
      EXECUTOR: "simulated",
      LOG_LEVEL: "info",
      SIMULATED_CHUNK_MS: 4000,
      OPENCODE_MODEL: "zai-coding-plan/glm-4.7",
      CHUNK_TIMEOUT_MS: 900_000,
      EVENT_RETENTION_DAYS: 7,
    });
    expect(env.AUTH_TOKEN).toBeUndefined();
    expect(env.WEB_DIST).toMatch(/apps[/\\]web[/\\]dist$/);
  });

  test("values are parsed; empty strings count as unset; relative WEB_DIST is resolved", () => {
    const env = loadEnv(
      {
        PORT: "8080",
        MAX_WORKERS: "12",
        EXECUTOR: "command",
        AGENT_COMMAND: '["my-agent","--prompt","{prompt}"]',
        LOG_LEVEL: "debug",
        DATABASE_URL: "file:/tmp/x.db",
        WEB_DIST: "web",
        AUTH_TOKEN: "",
      },
      { cwd: "/srv/app" },
    );
    expect(env).toMatchObject({
      PORT: 8080,
      MAX_WORKERS: 12,
      EXECUTOR: "command",
      AGENT_COMMAND: ["my-agent", "--prompt", "{prompt}"],
      LOG_LEVEL: "debug",
      DATABASE_URL: "file:/tmp/x.db",
      WEB_DIST: "/srv/app/web",
    });
    expect(env.AUTH_TOKEN).toBeUndefined();
    expect(executorLabel(env)).toBe("command · my-agent");
  });

  test("every bad variable is named in one error", () => {
    const list = problems({
      PORT: "http",
      MAX_WORKERS: "65",
      EXECUTOR: "gpt",
      LOG_LEVEL: "verbose",
      CHUNK_TIMEOUT_MS: "1.5",
    });
    expect(list).toHaveLength(5);
    expect(list.join("\n")).toMatch(/PORT must be an integer \(got "http"\)/);
    expect(list.join("\n")).toMatch(/MAX_WORKERS must be at most 64/);
    expect(list.join("\n")).toMatch(/EXECUTOR must be one of simulated, opencode, command/);
    expect(list.join("\n")).toMatch(/LOG_LEVEL must be one of debug, info, warn, error/);
    expect(list.join("\n")).toMatch(/CHUNK_TIMEOUT_MS must be an integer/);
  });

  test("EVENT_RETENTION_DAYS is a whole number of days from 1", () => {
    expect(loadEnv({ EVENT_RETENTION_DAYS: "30" }, { cwd: "/srv/app" }).EVENT_RETENTION_DAYS).toBe(
      30,
    );
    expect(problems({ EVENT_RETENTION_DAYS: "0" }).join("\n")).toMatch(
      /EVENT_RETENTION_DAYS must be at least 1/,
    );
    expect(problems({ EVENT_RETENTION_DAYS: "2.5" }).join("\n")).toMatch(
      /EVENT_RETENTION_DAYS must be an integer/,
    );
  });

  test("MAX_WORKERS must be 1..64", () => {
    expect(problems({ MAX_WORKERS: "0" })[0]).toMatch(/MAX_WORKERS must be at least 1/);
    expect(loadEnv({ MAX_WORKERS: "64" }).MAX_WORKERS).toBe(64);
  });

  test("a non-loopback HOST needs AUTH_TOKEN; loopback names do not", () => {
    expect(problems({ HOST: "0.0.0.0" })[0]).toMatch(/AUTH_TOKEN is required when HOST/);
    expect(problems({ HOST: "192.168.1.20" })[0]).toMatch(/AUTH_TOKEN is required/);
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1"]) {
      expect(loadEnv({ HOST: host }).HOST).toBe(host);
    }
    expect(loadEnv({ HOST: "0.0.0.0", AUTH_TOKEN: "long-enough-token" }).HOST).toBe("0.0.0.0");
  });

  test("secrets are never echoed", () => {
    const [message] = problems({ AUTH_TOKEN: "short" });
    expect(message).toMatch(/AUTH_TOKEN must be at least 8 characters/);
    expect(message).not.toContain('short"');
  });

  test("EXECUTOR=command needs a JSON argv in AGENT_COMMAND", () => {
    expect(problems({ EXECUTOR: "command" })[0]).toMatch(/AGENT_COMMAND is required/);
    expect(problems({ EXECUTOR: "command", AGENT_COMMAND: "my-agent -p" })[0]).toMatch(
      /JSON array of strings/,
    );
    expect(problems({ AGENT_COMMAND: "[]" })[0]).toMatch(/at least the program name/);
  });

  test("the error message lists the problems line by line", () => {
    try {
      loadEnv({ PORT: "-1", EXECUTOR: "x" });
      throw new Error("expected failure");
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      expect((err as Error).message).toBe(
        'Invalid configuration:\n  - PORT must be at least 0 (got "-1")\n  - EXECUTOR must be one of simulated, opencode, command (got "x")',
      );
    }
  });
});
