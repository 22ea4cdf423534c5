import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  out: () => string;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `apps/server/src/main.ts` in its own process and waits for its URL. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const proc = spawn(
    process.execPath,
    ["--conditions=@glm-workers/source", "--import", "tsx", MAIN],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  proc.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (!url && Date.now() < deadline && proc.exitCode === null) {
    url = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    if (!url) await new Promise((r) => setTimeout(r, 50));
  }
  if (!url) {
    proc.kill("SIGKILL");
    throw new Error(`server did not start:\n${output}`);
  }
  return {
    proc,
    url,
    exited,
    out: () => output,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** JSON over fetch with the same-origin headers a browser on the dashboard would send. */
export async function api<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      origin: base,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}
