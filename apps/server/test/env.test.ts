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
      GLM_MODELS: ["zai-coding-plan/glm-4.7"],
      GLM_BASE_URL: "https://api.z.ai/api/coding/paas/v4",
      CHUNK_TIMEOUT_MS: 900_000,
      EVENT_RETENTION_DAYS: 7,
      GLM_CONCURRENCY: 2,
      GLM_QUOTA_WAIT_MS: 900_000,
      GLM_RETRY_BUDGET_MS: 600_000,
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

  test("the gateway's limits are validated", () => {
    expect(loadEnv({ GLM_CONCURRENCY: "1" }, { cwd: "/srv/app" }).GLM_CONCURRENCY).toBe(1);
    expect(problems({ GLM_CONCURRENCY: "0" }).join("\n")).toMatch(
      /GLM_CONCURRENCY must be at least 1/,
    );
    expect(problems({ GLM_QUOTA_WAIT_MS: "soon" }).join("\n")).toMatch(
      /GLM_QUOTA_WAIT_MS must be an integer/,
    );
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

  test("EXECUTOR=opencode needs a key: GLM_API_KEY or ZAI_API_KEY", () => {
    const [message, ...rest] = problems({ EXECUTOR: "opencode" });
    expect(rest).toEqual([]);
    expect(message).toBe("GLM_API_KEY (or ZAI_API_KEY) is required when EXECUTOR=opencode");
    expect(problems({ EXECUTOR: "opencode", GLM_API_KEY: "  " })[0]).toMatch(/^GLM_API_KEY/);
    expect(loadEnv({ EXECUTOR: "opencode", GLM_API_KEY: "k" }).GLM_API_KEY).toBe("k");
    expect(loadEnv({ EXECUTOR: "opencode", ZAI_API_KEY: "k" }).ZAI_API_KEY).toBe("k");
    // the other executors need none
    expect(loadEnv({ EXECUTOR: "simulated" }).GLM_API_KEY).toBeUndefined();
  });

  test("GLM_BASE_URL: any http(s) endpoint, else a message naming it", () => {
    const china = "https://open.bigmodel.cn/api/coding/paas/v4";
    expect(loadEnv({ GLM_BASE_URL: ` ${china} ` }).GLM_BASE_URL).toBe(china);
    expect(loadEnv({ GLM_BASE_URL: "http://127.0.0.1:8080/v1" }).GLM_BASE_URL).toBe(
      "http://127.0.0.1:8080/v1",
    );
    for (const bad of ["open.bigmodel.cn/api", "ftp://example.com/v4", "https://", "not a url"]) {
      const [message] = problems({ GLM_BASE_URL: bad });
      expect(message).toMatch(/^GLM_BASE_URL must be an http\(s\) URL/);
      expect(message).toContain(`(got ${JSON.stringify(bad)})`);
    }
  });

  test("GLM_MODELS: trimmed, deduplicated provider/model ids; the first is the default", () => {
    const env = loadEnv({
      GLM_MODELS: " zai-coding-plan/glm-4.6 ,zai-coding-plan/glm-4.7,, zai-coding-plan/glm-4.6",
    });
    expect(env.GLM_MODELS).toEqual(["zai-coding-plan/glm-4.6", "zai-coding-plan/glm-4.7"]);
    expect(env.OPENCODE_MODEL).toBe("zai-coding-plan/glm-4.6");
    expect(executorLabel({ ...env, EXECUTOR: "opencode" })).toBe(
      "opencode · zai-coding-plan/glm-4.6",
    );
    for (const bad of ["glm-4.7", "a/b/c", "/glm-4.7", "zai/", "zai /glm"]) {
      const [message] = problems({ GLM_MODELS: `zai/glm-4.7,${bad}` });
      expect(message).toMatch(/^GLM_MODELS entries must be provider\/model/);
      expect(message).toContain(JSON.stringify(bad));
    }
    expect(problems({ GLM_MODELS: " , ," })[0]).toMatch(/GLM_MODELS must list at least one/);
  });

  test("OPENCODE_MODEL: the default; alone it is the only model; with GLM_MODELS it must be listed", () => {
    const alone = loadEnv({ OPENCODE_MODEL: "zai-coding-plan/glm-4.6" });
    expect(alone.OPENCODE_MODEL).toBe("zai-coding-plan/glm-4.6");
    expect(alone.GLM_MODELS).toEqual(["zai-coding-plan/glm-4.6"]);

    const both = loadEnv({
      OPENCODE_MODEL: "zai-coding-plan/glm-4.7",
      GLM_MODELS: "zai-coding-plan/glm-4.6,zai-coding-plan/glm-4.7",
    });
    expect(both.OPENCODE_MODEL).toBe("zai-coding-plan/glm-4.7");
    expect(both.GLM_MODELS).toEqual(["zai-coding-plan/glm-4.6", "zai-coding-plan/glm-4.7"]);

    const [message, ...rest] = problems({
      OPENCODE_MODEL: "zai-coding-plan/glm-4.5",
      GLM_MODELS: "zai-coding-plan/glm-4.6,zai-coding-plan/glm-4.7",
    });
    expect(rest).toEqual([]);
    expect(message).toBe(
      'OPENCODE_MODEL must be one of GLM_MODELS (zai-coding-plan/glm-4.6, zai-coding-plan/glm-4.7) (got "zai-coding-plan/glm-4.5")',
    );
    expect(problems({ OPENCODE_MODEL: "glm-4.7" })[0]).toMatch(
      /^OPENCODE_MODEL must be an opencode model id \(provider\/model/,
    );
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
