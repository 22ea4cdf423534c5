#!/usr/bin/env node
import { createInterface } from "node:readline/promises";
import { runCli } from "./cli.ts";
import type { Io } from "./output.ts";

/** The `glm-workers` executable: binds the CLI to this process (see cli.ts). */

const io: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  stdinIsTTY: process.stdin.isTTY === true,
  async ask(question) {
    // asked on stderr so that `--json` output on stdout stays one document
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

// A closed pipe (`glm-workers tail … | head`) ends the CLI quietly.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const code = await runCli(process.argv.slice(2), io);
process.exitCode = code;
// Idle keep-alive sockets must not hold the exit back.
setTimeout(() => process.exit(code), 2000).unref();
