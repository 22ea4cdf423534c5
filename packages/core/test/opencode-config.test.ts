import { describe, expect, test } from "vitest";
import {
  buildOpencodeConfig,
  buildOpencodeEnv,
  opencodeDirs,
  REVIEWER_AGENT,
  REVIEWER_BASH,
  splitModel,
} from "../src/executors/opencode-env.ts";
import { executorConfigSchema } from "../src/protocol.ts";

/** The configuration the opencode server gets: what must hold whatever else is configured. */

const config = executorConfigSchema.parse({
  kind: "opencode",
  model: "zai-coding-plan/glm-4.6",
  baseURL: "http://127.0.0.1:9/v4",
  env: { ZHIPU_API_KEY: "k" },
  // extra server config that tries to loosen what must hold
  opencodeConfig: {
    provider: {
      "zai-coding-plan": { options: { baseURL: "http://elsewhere", chunkTimeout: 1000 } },
    },
    agent: { [REVIEWER_AGENT]: { permission: { edit: "allow" }, tools: { write: true } } },
  },
});

describe("generated opencode config", () => {
  test("the run's provider talks to baseURL with opencode's own request timeouts off", () => {
    const c = buildOpencodeConfig(config) as {
      provider: Record<
        string,
        { options: Record<string, unknown>; models: Record<string, unknown> }
      >;
    };
    const p = c.provider["zai-coding-plan"];
    expect(p?.options).toMatchObject({
      baseURL: "http://127.0.0.1:9/v4",
      timeout: false,
      chunkTimeout: false,
      headerTimeout: false,
    });
    expect(p?.models).toHaveProperty("glm-4.6");
  });

  test("the reviewer is read-only whatever the extra config says", () => {
    const c = buildOpencodeConfig(config) as {
      agent: Record<
        string,
        { permission: Record<string, unknown>; tools: Record<string, boolean> }
      >;
    };
    const r = c.agent[REVIEWER_AGENT];
    expect(r?.permission.edit).toBe("deny");
    expect(r?.permission.task).toBe("deny");
    expect(r?.permission.webfetch).toBe("deny");
    const bash = r?.permission.bash as Record<string, string>;
    expect(Object.keys(bash)[0]).toBe("*");
    expect(bash["*"]).toBe("deny");
    for (const pattern of REVIEWER_BASH) expect(bash[pattern]).toBe("allow");
    expect(Object.values(bash).filter((a) => a === "allow")).toHaveLength(REVIEWER_BASH.length);
    for (const tool of ["write", "edit", "patch", "task"]) expect(r?.tools[tool]).toBe(false);
  });

  test("the agent's environment ignores project config and carries no server secrets", () => {
    const env = buildOpencodeEnv(config, opencodeDirs("/tmp/oc-home"), {
      PATH: "/bin",
      AUTH_TOKEN: "server-secret",
      DATABASE_URL: "file:/x.db",
    });
    expect(env.OPENCODE_DISABLE_PROJECT_CONFIG).toBe("1");
    expect(env.AUTH_TOKEN).toBeUndefined();
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.ZHIPU_API_KEY).toBe("k");
    expect(JSON.parse(env.OPENCODE_CONFIG_CONTENT ?? "{}")).toEqual(buildOpencodeConfig(config));
  });

  test("a model is written provider/model", () => {
    expect(splitModel("zai-coding-plan/glm-4.7")).toEqual({
      providerID: "zai-coding-plan",
      modelID: "glm-4.7",
    });
    expect(() => splitModel("glm-4.7")).toThrow(/provider\/model/);
  });
});
