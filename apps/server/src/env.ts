import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { executorLabel as labelOf } from "@glm-workers/core";
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

function envSchema(cwd: string) {
  return z
    .object({
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
      OPENCODE_MODEL: z.string().trim().min(1).default("zai-coding-plan/glm-4.7"),
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
    })
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
  const schema = envSchema(options.cwd ?? process.cwd());
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
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
