import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_OPENCODE_MODEL, executorLabel as labelOf } from "@glm-workers/core";
import {
  EXECUTOR_KINDS,
  type ExecutorKind,
  LOG_LEVELS,
  type LogLevel,
} from "@glm-workers/db/enums";
import { z } from "zod";
import { isLoopbackHostname } from "./net.ts";

/**
 * The server configuration: read from the environment once, here and nowhere else, and
 * validated with zod. `loadEnv` throws an `EnvError` that names every bad variable.
 */

export { EXECUTOR_KINDS, LOG_LEVELS };
export type ExecutorKindName = ExecutorKind;
export type { LogLevel };

/** Variables whose values never appear in error messages. */
const SECRET_KEYS = new Set(["AUTH_TOKEN", "GLM_API_KEY", "ZAI_API_KEY"]);

/** The built web app: `apps/web/dist`, seen from `apps/server/src` or `apps/server/dist`. */
const DEFAULT_WEB_DIST = fileURLToPath(new URL("../../web/dist", import.meta.url));

function integer(name: string, min: number, max: number) {
  return z.coerce
    .number({ error: `${name} must be an integer` })
    .refine(Number.isFinite, `${name} must be an integer`)
    .pipe(
      z
        .number()
        .int(`${name} must be an integer`)
        .min(min, `${name} must be at least ${min}`)
        .max(max, `${name} must be at most ${max}`),
    );
}

const agentCommandSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({
        code: "custom",
        message: 'AGENT_COMMAND must be a JSON array of strings, e.g. ["my-agent","{prompt}"]',
      });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(z.string({ error: "AGENT_COMMAND entries must be strings" }).min(1), {
        error: 'AGENT_COMMAND must be a JSON array of strings, e.g. ["my-agent","{prompt}"]',
      })
      .min(1, "AGENT_COMMAND needs at least the program name"),
  );

/** The Z.ai coding-plan endpoint (OpenAI-compatible). */
export const DEFAULT_GLM_BASE_URL = "https://api.z.ai/api/coding/paas/v4";
export { DEFAULT_OPENCODE_MODEL };

const baseUrlSchema = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
    } catch {
      return false;
    }
  }, `GLM_BASE_URL must be an http(s) URL of an OpenAI-compatible endpoint, e.g. ${DEFAULT_GLM_BASE_URL}`);

/** `provider/model`: exactly one `/`, both parts non-empty. */
function isModelId(id: string): boolean {
  const parts = id.split("/");
  return parts.length === 2 && parts.every((p) => p.trim() !== "" && p === p.trim());
}

const MODEL_HINT = "provider/model, e.g. zai-coding-plan/glm-4.7";

const modelSchema = z
  .string()
  .trim()
  .refine(isModelId, `OPENCODE_MODEL must be an opencode model id (${MODEL_HINT})`);

/** Comma-separated model ids: trimmed, empty entries dropped, duplicates removed (first kept). */
const modelListSchema = z.string().transform((text, ctx) => {
  const list = [
    ...new Set(
      text
        .split(",")
        .map((id) => id.trim())
        .filter(Boolean),
    ),
  ];
  if (list.length === 0) {
    ctx.addIssue({ code: "custom", message: `GLM_MODELS must list at least one ${MODEL_HINT}` });
    return z.NEVER;
  }
  const bad = list.filter((id) => !isModelId(id));
  if (bad.length > 0) {
    ctx.addIssue({
      code: "custom",
      message: `GLM_MODELS entries must be ${MODEL_HINT}; not valid: ${bad.map((b) => JSON.stringify(b)).join(", ")}`,
    });
    return z.NEVER;
  }
  return list;
});

function envObject(cwd: string) {
  return z.object({
    PORT: integer("PORT", 0, 65535).default(4317),
    HOST: z.string().trim().min(1).default("127.0.0.1"),
    DATABASE_URL: z
      .string()
      .trim()
      .min(1)
      .default(`file:${resolve(cwd, "data", "glm-workers.db")}`),
    MAX_WORKERS: integer("MAX_WORKERS", 1, 64).default(5),
    EXECUTOR: z
      .enum(EXECUTOR_KINDS, { error: `EXECUTOR must be one of ${EXECUTOR_KINDS.join(", ")}` })
      .default("simulated"),
    AUTH_TOKEN: z.string().min(8, "AUTH_TOKEN must be at least 8 characters").optional(),
    LOG_LEVEL: z
      .enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}` })
      .default("info"),
    SIMULATED_CHUNK_MS: integer("SIMULATED_CHUNK_MS", 0, 3_600_000).default(4000),
    /** The server's default model (absent: the first of GLM_MODELS). */
    OPENCODE_MODEL: modelSchema.optional(),
    /** The models runs may choose from (absent: just OPENCODE_MODEL). */
    GLM_MODELS: modelListSchema.optional(),
    GLM_BASE_URL: baseUrlSchema.default(DEFAULT_GLM_BASE_URL),
    GLM_API_KEY: z.string().min(1).optional(),
    ZAI_API_KEY: z.string().min(1).optional(),
    AGENT_COMMAND: agentCommandSchema.optional(),
    WEB_DIST: z
      .string()
      .trim()
      .min(1)
      .transform((p) => resolve(cwd, p))
      .default(DEFAULT_WEB_DIST),
    CHUNK_TIMEOUT_MS: integer("CHUNK_TIMEOUT_MS", 1000, 24 * 3_600_000).default(900_000),
    /** Worker events older than this many days are deleted (the newest 100k always stay). */
    EVENT_RETENTION_DAYS: integer("EVENT_RETENTION_DAYS", 1, 3650).default(7),
    /** Worktrees of runs that were never merged or discarded are removed this many days after the run ended (branches stay). */
    WORKTREE_RETENTION_DAYS: integer("WORKTREE_RETENTION_DAYS", 1, 3650).default(14),
    /** Model requests in flight upstream at once, across every run (a coding plan allows 1–2). */
    GLM_CONCURRENCY: integer("GLM_CONCURRENCY", 1, 64).default(2),
    /** How long every request is held after a quota answer that names no reset time. */
    GLM_QUOTA_WAIT_MS: integer("GLM_QUOTA_WAIT_MS", 1000, 24 * 3_600_000).default(900_000),
    /** How long a rate-limited request is retried before the agent sees the 429. */
    GLM_RETRY_BUDGET_MS: integer("GLM_RETRY_BUDGET_MS", 1000, 24 * 3_600_000).default(600_000),
  });
}

function envSchema(cwd: string) {
  return envObject(cwd)
    .superRefine((env, ctx) => {
      if (!isLoopbackHostname(env.HOST) && !env.AUTH_TOKEN) {
        ctx.addIssue({
          code: "custom",
          path: ["AUTH_TOKEN"],
          message: `AUTH_TOKEN is required when HOST (${env.HOST}) is not a loopback address`,
        });
      }
      if (env.EXECUTOR === "command" && !env.AGENT_COMMAND) {
        ctx.addIssue({
          code: "custom",
          path: ["AGENT_COMMAND"],
          message: "AGENT_COMMAND is required when EXECUTOR=command",
        });
      }
      if (env.EXECUTOR === "opencode" && !env.GLM_API_KEY && !env.ZAI_API_KEY) {
        ctx.addIssue({
          code: "custom",
          path: ["GLM_API_KEY"],
          message: "GLM_API_KEY (or ZAI_API_KEY) is required when EXECUTOR=opencode",
        });
      }
      if (env.OPENCODE_MODEL && env.GLM_MODELS && !env.GLM_MODELS.includes(env.OPENCODE_MODEL)) {
        ctx.addIssue({
          code: "custom",
          path: ["OPENCODE_MODEL"],
          message: `OPENCODE_MODEL must be one of GLM_MODELS (${env.GLM_MODELS.join(", ")})`,
        });
      }
    })
    .transform(({ OPENCODE_MODEL, GLM_MODELS, ...env }) => {
      const models = GLM_MODELS ?? [OPENCODE_MODEL ?? DEFAULT_OPENCODE_MODEL];
      return {
        ...env,
        /** The server's default model: OPENCODE_MODEL when given, else the first of GLM_MODELS. */
        OPENCODE_MODEL: OPENCODE_MODEL ?? models[0] ?? DEFAULT_OPENCODE_MODEL,
        /** The models a spec or a run may choose from (never empty). */
        GLM_MODELS: models,
      };
    });
}

export type Env = z.infer<ReturnType<typeof envSchema>>;

/** Configuration problems, one line per bad variable. */
export class EnvError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
    this.problems = problems;
  }
}

export interface LoadEnvOptions {
  /** Base for relative paths and the default database location (default: process.cwd()). */
  cwd?: string;
}

/**
 * Validates the configuration. Empty values count as unset. Throws `EnvError` listing every
 * bad variable (secret values are never echoed).
 */
export function loadEnv(
  source: Record<string, string | undefined> = process.env,
  options: LoadEnvOptions = {},
): Env {
  const cwd = options.cwd ?? process.cwd();
  const schema = envSchema(cwd);
  const input: Record<string, string> = {};
  for (const key of Object.keys(envObject(cwd).shape)) {
    const value = source[key];
    if (value !== undefined && value.trim() !== "") input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "configuration");
    const raw = input[key];
    const shown = raw === undefined || SECRET_KEYS.has(key) ? "" : ` (got ${JSON.stringify(raw)})`;
    const message = issue.message.startsWith(key) ? issue.message : `${key}: ${issue.message}`;
    return `${message}${shown}`;
  });
  throw new EnvError(problems);
}

/** Human label of the configured executor, as the API and UI show it. */
export function executorLabel(env: Pick<Env, "EXECUTOR" | "OPENCODE_MODEL" | "AGENT_COMMAND">) {
  switch (env.EXECUTOR) {
    case "simulated":
      return labelOf("simulated");
    case "opencode":
      return `opencode · ${env.OPENCODE_MODEL}`;
    case "command":
      return `command · ${env.AGENT_COMMAND?.[0] ?? "?"}`;
  }
}
