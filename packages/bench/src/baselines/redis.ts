// A throwaway redis-server for the BullMQ baseline: found on PATH (or installed from Debian's
// package when we may), started on a free loopback port in its own temp directory, and removed
// again afterwards.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface RedisServer {
  port: number;
  host: "127.0.0.1";
  durable: boolean;
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";

/** The first executable `name` on PATH, or undefined. */
function onPath(name: string): string | undefined {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(isExecutable);
}

interface Outcome {
  ok: boolean;
  output: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim();
        resolve({ ok: !err, output: err && !output ? err.message : output });
      },
    );
  });
}

const lastLine = (s: string) => s.split("\n").filter(Boolean).at(-1) ?? "";

/**
 * The redis-server to use: the first on PATH; when there is none, Debian's redis-server package
 * installed with apt-get (as root, or through `sudo -n`); otherwise `{ skipped }` saying why.
 */
export async function ensureRedisServer(): Promise<{ path: string } | { skipped: string }> {
  const found = onPath("redis-server");
  if (found) return { path: found };

  const aptGet = onPath("apt-get");
  if (!aptGet)
    return { skipped: "redis-server is not on PATH and there is no apt-get to install it" };
  // Root runs apt-get itself; anyone else only through passwordless sudo (never a prompt).
  let apt = (rest: string[]) => run(aptGet, rest, 300_000);
  if (process.getuid?.() !== 0) {
    const sudo = onPath("sudo");
    if (!sudo) {
      return {
        skipped: "redis-server is not on PATH; installing it needs root and there is no sudo",
      };
    }
    const probe = await run(sudo, ["-n", "true"], 10_000);
    if (!probe.ok) {
      return {
        skipped: `redis-server is not on PATH; installing it needs root and sudo -n refused (${lastLine(probe.output)})`,
      };
    }
    apt = (rest: string[]) => run(sudo, ["-n", aptGet, ...rest], 300_000);
  }
  const install = ["install", "-y", "--no-install-recommends", "redis-server"];
  let result = await apt(install);
  if (!result.ok) {
    // A fresh container often has no package lists yet: refresh them once and retry.
    const update = await apt(["update"]);
    if (update.ok) result = await apt(install);
  }
  if (!result.ok) {
    return {
      skipped: `redis-server is not on PATH and apt-get install redis-server failed: ${lastLine(result.output)}`,
    };
  }
  const installed = onPath("redis-server") ?? ["/usr/bin/redis-server"].find(isExecutable);
  if (!installed) {
    return {
      skipped: "apt-get installed redis-server but no redis-server executable can be found",
    };
  }
  return { path: installed };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port nobody listens on right now: bind 127.0.0.1:0, read the port, close. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() =>
        port > 0 ? resolve(port) : reject(new Error("no port from 127.0.0.1:0")),
      );
    });
  });
}

/** One PING over a raw socket; true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

/**
 * Starts redis-server on a free 127.0.0.1 port with a new temp dir as its working directory and
 * waits until it answers PING. Persistence is redis's stock default (RDB save rules, snapshots
 * written into the temp dir); `durable` adds `--appendonly yes --appendfsync always`, i.e. an
 * fsync per write. stop() shuts it down and removes the dir.
 */
export async function startRedis(opts: { path: string; durable: boolean }): Promise<RedisServer> {
  // Another process can grab the probed port before redis binds it; try a few ports then.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortTakenError)) throw err;
    }
  }
  throw lastError;
}

class PortTakenError extends Error {}

async function startOnce(opts: { path: string; durable: boolean }): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "glm-bench-redis-"));
  // No config file: redis-server's built-in defaults (RDB save rules included), except that it
  // listens on loopback only, keeps its files in the temp dir and logs to stdout. Nothing of the
  // user's /etc/redis is read.
  const args = ["--port", String(port), "--bind", HOST, "--dir", dir, "--daemonize", "no"];
  if (opts.durable) args.push("--appendonly", "yes", "--appendfsync", "always");
  const child = spawn(opts.path, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const collect = (b: Buffer) => {
    out += b.toString();
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  // If the bench exits without calling stop(), leave neither the server nor its dir behind.
  const killOnExit = () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", killOnExit);
  const cleanup = () => {
    process.removeListener("exit", killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitForPing(child, port, exited, () => out);
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    cleanup();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM is redis's clean shutdown (it writes a final snapshot into the doomed dir:
        // small, and it keeps redis's own shutdown path). SIGKILL if it takes too long.
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(killer);
      }
      cleanup();
    })();
    return stopping;
  };
  return { port, host: HOST, durable: opts.durable, stop };
}

async function waitForPing(
  child: ChildProcess,
  port: number,
  exited: Promise<void>,
  output: () => string,
): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    if (gone) {
      const text = output();
      if (/Address already in use/i.test(text)) throw new PortTakenError(`port ${port} taken`);
      throw new Error(
        `redis-server exited (${child.exitCode ?? child.signalCode}) before answering PING:\n${text}`,
      );
    }
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server did not answer PING on ${HOST}:${port} in 15 s:\n${output()}`);
}
