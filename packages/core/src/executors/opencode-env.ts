import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutorConfig } from "../protocol.ts";

/**
 * How opencode is launched without touching the user's own opencode setup or the network:
 * an isolated HOME + XDG tree, the whole configuration in OPENCODE_CONFIG_CONTENT, and the
 * update/models/share/LSP downloads switched off.
 */

export const DEFAULT_OPENCODE_MODEL = "zai-coding-plan/glm-4.7";

/** Version whose plugin package opencode wants in its config dir (see `seedConfigDir`). */
const OPENCODE_VERSION = "1.18.33";

export interface OpencodeDirs {
  home: string;
  config: string;
  data: string;
  cache: string;
  state: string;
}

export function opencodeDirs(root: string): OpencodeDirs {
  return {
    home: root,
    config: join(root, "config"),
    data: join(root, "data"),
    cache: join(root, "cache"),
    state: join(root, "state"),
  };
}

/**
 * Creates the isolated directories. opencode 1.18 starts a background `npm install` of
 * `@opencode-ai/plugin` in its global config dir unless `node_modules` exists and the
 * package-lock already lists it (that is the only network access it makes on start-up with
 * the flags below). We seed exactly that, once, so start-up stays offline.
 */
/**
 * A run's own data and state directories (opencode's session database and logs), so runs do
 * not share one database and a run's conversation stays with it.
 */
export function prepareRunDirs(dirs: OpencodeDirs, runId: string): { data: string; state: string } {
  const safe = runId.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 80) || "run";
  const out = {
    data: join(dirs.home, "runs", safe, "data"),
    state: join(dirs.home, "runs", safe, "state"),
  };
  mkdirSync(out.data, { recursive: true });
  mkdirSync(out.state, { recursive: true });
  return out;
}

/**
 * The executor's opencode home, made on first use: `config.opencodeHome`, or a temp directory
 * that `dispose()` removes again.
 */
export function lazyOpencodeHome(config: ExecutorConfig): {
  dirs(): OpencodeDirs;
  dispose(): void;
} {
  let dirs: OpencodeDirs | null = null;
  let tempRoot: string | null = null;
  return {
    dirs() {
      if (dirs) return dirs;
      let root = config.opencodeHome;
      if (!root) {
        tempRoot = mkdtempSync(join(tmpdir(), "glm-workers-opencode-"));
        root = tempRoot;
      }
      dirs = prepareOpencodeHome(root);
      return dirs;
    },
    dispose() {
      if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });
      tempRoot = null;
      dirs = null;
    },
  };
}

export function prepareOpencodeHome(root: string): OpencodeDirs {
  const dirs = opencodeDirs(root);
  for (const dir of [dirs.home, dirs.config, dirs.data, dirs.cache, dirs.state]) {
    mkdirSync(dir, { recursive: true });
  }
  const configDir = join(dirs.config, "opencode");
  mkdirSync(join(configDir, "node_modules"), { recursive: true });
  const lock = join(configDir, "package-lock.json");
  if (!existsSync(lock)) {
    const content = {
      name: "opencode-config",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { dependencies: { "@opencode-ai/plugin": OPENCODE_VERSION } } },
    };
    writeFileSync(lock, `${JSON.stringify(content, null, 2)}\n`);
  }
  return dirs;
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars from `over` replace those in `base`. */
export function mergeConfig(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isObject(prev) && isObject(value) ? mergeConfig(prev, value) : value;
  }
  return out;
}

/**
 * A custom OpenAI-compatible provider entry (e.g. a self-hosted GLM gateway or the test fake).
 * The built-in `zai-coding-plan`, `zai` and `zhipuai` providers only need `ZHIPU_API_KEY`;
 * overriding just `options.baseURL` of one of them works too.
 */
export function openaiCompatibleProvider(opts: {
  baseURL: string;
  models: string[];
  name?: string;
  /** Literal key, or `{env:NAME}` to read it from the agent's environment. */
  apiKey?: string;
}): JsonObject {
  return {
    npm: "@ai-sdk/openai-compatible",
    name: opts.name ?? "GLM (OpenAI-compatible)",
    options: { baseURL: opts.baseURL, ...(opts.apiKey ? { apiKey: opts.apiKey } : {}) },
    models: Object.fromEntries(opts.models.map((id) => [id, { name: id }])),
  };
}

/** The read-only agent reviews run as (defined in the generated config). */
export const REVIEWER_AGENT = "glm-workers-reviewer";

/** Shell commands the reviewer may run: read-only git. Everything else is denied. */
export const REVIEWER_BASH = ["git diff*", "git log*", "git show*", "git status*"];

/**
 * The reviewer: may read, search and run read-only git; may not edit, write, patch, start
 * sub-agents, fetch or ask. Tools it must not have are also removed from its tool list, so a
 * permission bypass in opencode still finds no write tool. Applied after every other config
 * layer, so neither the server's extra config nor a repository can widen it (the product
 * also verifies the tree after each review).
 */
export function reviewerAgent(): JsonObject {
  const bash: JsonObject = { "*": "deny" };
  for (const pattern of REVIEWER_BASH) bash[pattern] = "allow";
  return {
    mode: "primary",
    description: "Reviews a change without touching it (glm-workers).",
    prompt:
      "You review a change someone else made. You cannot and must not change anything: no edits, " +
      "no new files, no commits. Read files, search, and use read-only git (git diff, git log, " +
      "git show, git status) to judge the change, then give your verdict.",
    permission: {
      read: "allow",
      glob: "allow",
      grep: "allow",
      list: "allow",
      edit: "deny",
      bash,
      task: "deny",
      todowrite: "deny",
      webfetch: "deny",
      websearch: "deny",
      question: "deny",
      skill: "deny",
      lsp: "deny",
      external_directory: "deny",
      doom_loop: "deny",
    },
    tools: {
      write: false,
      edit: false,
      patch: false,
      multiedit: false,
      task: false,
      todowrite: false,
      webfetch: false,
      websearch: false,
      skill: false,
      question: false,
    },
  };
}

/** `provider/model` → its parts; a bare name has no provider. */
export function splitModel(model: string): { providerID: string; modelID: string } {
  const at = model.indexOf("/");
  if (at <= 0 || at === model.length - 1) {
    throw new Error(
      `model "${model}" must be written provider/model, e.g. zai-coding-plan/glm-4.7`,
    );
  }
  return { providerID: model.slice(0, at), modelID: model.slice(at + 1) };
}

/**
 * The configuration passed through OPENCODE_CONFIG_CONTENT: our defaults, then the server's
 * extra `opencodeConfig`, then what must hold whatever those say: the model's provider talks to
 * `baseURL` with opencode's own request timeouts off (the engine's active-time limit, which stops
 * counting while a run is paused, is the only one; opencode's timers would fire across a pause
 * and make it send the whole request again), and the read-only reviewer agent.
 */
export function buildOpencodeConfig(config: ExecutorConfig): JsonObject {
  const base: JsonObject = {
    autoupdate: false,
    share: "disabled",
    // opencode's own git snapshots (undo) are not needed: the run engine commits per chunk.
    snapshot: false,
    // Nobody answers a permission prompt here: allow what an agent needs, deny the rest.
    permission: {
      edit: "allow",
      bash: "allow",
      webfetch: "deny",
      websearch: "deny",
      question: "deny",
      external_directory: "deny",
      doom_loop: "deny",
    },
  };
  const merged = mergeConfig(base, config.opencodeConfig ?? {});
  const { providerID, modelID } = splitModel(config.model ?? DEFAULT_OPENCODE_MODEL);
  const providerOptions: JsonObject = { timeout: false, chunkTimeout: false, headerTimeout: false };
  if (config.baseURL) providerOptions.baseURL = config.baseURL;
  return mergeConfig(merged, {
    // The run's model is declared (an empty entry adds nothing to a model opencode's catalog
    // knows, and makes one it does not know usable, e.g. a newer GLM on the same endpoint).
    provider: { [providerID]: { options: providerOptions, models: { [modelID]: {} } } },
    agent: { [REVIEWER_AGENT]: reviewerAgent() },
  });
}

/** Variables taken over from the server's environment: what tools need to work normally. */
const PASSTHROUGH = [
  "PATH",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "TMPDIR",
  "USER",
  "LOGNAME",
  "SHELL",
  "TERM",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

/**
 * The agent's environment. Deliberately not the whole server environment (no server secrets
 * such as AUTH_TOKEN or DATABASE_URL reach the agent): a small passthrough list from `inherited`,
 * the isolation variables, then `config.env` (API keys). `ZAI_API_KEY` is also offered as
 * `ZHIPU_API_KEY`, the variable the built-in Z.ai/Zhipu providers read.
 */
export function buildOpencodeEnv(
  config: ExecutorConfig,
  dirs: OpencodeDirs,
  inherited: NodeJS.ProcessEnv,
  run?: { data: string; state: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of PASSTHROUGH) {
    const value = inherited[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, {
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: run?.data ?? dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    XDG_STATE_HOME: run?.state ?? dirs.state,
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_SHARE: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
    OPENCODE_DISABLE_CLAUDE_CODE: "1",
    // A repository's own opencode.json / .opencode/ must not change the provider, its base URL,
    // its key or the reviewer: project config is not read at all.
    OPENCODE_DISABLE_PROJECT_CONFIG: "1",
    OPENCODE_CONFIG_CONTENT: JSON.stringify(buildOpencodeConfig(config)),
  });
  Object.assign(env, config.env);
  if (!env.ZHIPU_API_KEY && env.ZAI_API_KEY) env.ZHIPU_API_KEY = env.ZAI_API_KEY;
  return env;
}
