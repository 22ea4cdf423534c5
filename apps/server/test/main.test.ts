import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { rawRequest, type Sandbox, sandbox } from "./helpers.ts";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

let box: Sandbox | undefined;
let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  child = undefined;
  box?.cleanup();
  box = undefined;
});

function run(env: Record<string, string>) {
  const proc = spawn(
    process.execPath,
    ["--conditions=@glm-workers/source", "--import", "tsx", MAIN],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  proc.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, exited, out: () => stdout, err: () => stderr };
}

test("bad configuration stops start-up with exit code 1 and names the variables", async () => {
  box = sandbox();
  const p = run({ PORT: "http", MAX_WORKERS: "0", DATABASE_URL: box.dbUrl });
  child = p.proc;
  expect(await p.exited).toBe(1);
  expect(p.err()).toContain("Invalid configuration");
  expect(p.err()).toContain('PORT must be an integer (got "http")');
  expect(p.err()).toContain("MAX_WORKERS must be at least 1");
});

test("main starts, logs its URL, serves /api/health and exits 0 on SIGTERM", async () => {
  box = sandbox();
  const p = run({ PORT: "0", DATABASE_URL: box.dbUrl, LOG_LEVEL: "info" });
  child = p.proc;
  const deadline = Date.now() + 20_000;
  let url: string | undefined;
  while (!url && Date.now() < deadline && p.proc.exitCode === null) {
    url = p.out().match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    if (!url) await new Promise((r) => setTimeout(r, 50));
  }
  expect(url, p.err()).toBeDefined();
  const port = Number(new URL(url ?? "http://x:0").port);
  const health = await rawRequest(port, "/api/health");
  expect(health.status).toBe(200);
  expect(health.json.ok).toBe(true);

  p.proc.kill("SIGTERM");
  expect(await p.exited).toBe(0);
});
