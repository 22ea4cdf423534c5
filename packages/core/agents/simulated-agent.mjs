#!/usr/bin/env node
// Simulated coding agent used by the `simulated` executor. It is a real child process with no
// dependencies: it reads one JSON job (argv[2] or stdin), streams JSON-lines events on stdout
// over time, changes real files in its working directory and starts a detached grandchild
// (a `sh -c "sleep …"` tool) in a new session, so pause/abort are exercised against a real tree.
//
// Job: { mode: "execute" | "review", cwd, durationMs, chunk: { id, title, description } }
// Events: {"type":"log","level","line"} {"type":"tool","name","status","detail"}
//         {"type":"tokens","input","output"} {"type":"result","text"} {"type":"error","message"}
// Directives in the chunk description:
//   [simulate:fail]        execute fails (exit 1) half way
//   [simulate:needs_fix]   review answers needs_fix with a fixChunk (without the directive)
//   [simulate:slow]        three times the duration
//   [simulate:no_change]   execute succeeds but changes no file
//   [simulate:review_fail] review answers fail
//   [simulate:bad_review]  review answers with text that is not JSON

import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const DIRECTIVE = /\[simulate:([a-z_]+)\]/g;

function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const log = (line, level = "info") => emit({ type: "log", level, line });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function readJob() {
  if (process.argv[2]) return JSON.parse(process.argv[2]);
  let text = "";
  for await (const part of process.stdin) text += part;
  return JSON.parse(text);
}

function directivesOf(description) {
  return new Set([...description.matchAll(DIRECTIVE)].map((m) => m[1]));
}

function slugify(text, fallback) {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48);
  return slug || fallback;
}

function fileFor(chunk) {
  return join("glm-sim", `${slugify(chunk.title, chunk.id.slice(0, 8))}.md`);
}

/** Starts `sh -c "sleep …"` in a new session, like an agent's bash tool. */
function startShellTool(seconds) {
  const command = `sleep ${seconds.toFixed(2)}`;
  emit({ type: "tool", name: "bash", status: "started", detail: command });
  const child = spawn("sh", ["-c", command], { detached: true, stdio: "ignore" });
  const done = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      emit({
        type: "tool",
        name: "bash",
        status: code === 0 ? "completed" : "failed",
        detail: signal ? `${command} (${signal})` : `${command} (exit ${code})`,
      });
      resolve();
    });
    child.on("error", () => resolve());
  });
  return { child, done };
}

const WORK_LINES = [
  "Reading the surrounding code",
  "Planning the change",
  "Editing %FILE%",
  "Checking imports and types",
  "Updating %FILE% with the next section",
  "Running the checks",
  "Reviewing the diff",
];

async function execute(job, directives) {
  const { chunk, cwd } = job;
  const duration = job.durationMs * (directives.has("slow") ? 3 : 1);
  const rel = fileFor(chunk);
  const abs = join(cwd, rel);
  const ticks = Math.max(4, Math.min(40, Math.round(duration / 80)));
  const tickMs = duration / ticks;

  log(`Starting: ${chunk.title}`);
  emit({ type: "tool", name: "read", status: "started", detail: "." });
  const entries = readdirSync(cwd).filter((n) => n !== ".git");
  emit({
    type: "tool",
    name: "read",
    status: "completed",
    detail: `. (${entries.length} entries)`,
  });
  emit({ type: "tokens", input: 1200 + chunk.description.length * 3, output: 0 });

  const change = !directives.has("no_change");
  if (change) {
    emit({ type: "tool", name: "write", status: "started", detail: rel });
    mkdirSync(join(cwd, "glm-sim"), { recursive: true });
    writeFileSync(
      abs,
      `# ${chunk.title}\n\n${chunk.description.replace(DIRECTIVE, "").trim()}\n\n## Progress\n`,
    );
    emit({ type: "tool", name: "write", status: "completed", detail: rel });
  }

  const shell = startShellTool(Math.max(0.05, (duration * 0.6) / 1000));
  for (let i = 1; i <= ticks; i++) {
    await sleep(tickMs);
    const line = (WORK_LINES[i % WORK_LINES.length] ?? "Working").replace("%FILE%", rel);
    log(`[${i}/${ticks}] ${line}`);
    if (change) appendFileSync(abs, `- step ${i}/${ticks} at ${new Date().toISOString()}\n`);
    if (directives.has("fail") && i >= Math.ceil(ticks / 2)) {
      shell.child.kill("SIGKILL");
      await shell.done;
      const message = `simulated failure while working on "${chunk.title}"`;
      log(message, "error");
      emit({ type: "error", message });
      process.stderr.write(`${message}\n`);
      process.exit(1);
    }
  }
  await shell.done;
  if (change) appendFileSync(abs, "\nDone.\n");
  emit({ type: "tokens", input: 0, output: 400 + ticks * 20 });
  const summary = change
    ? `Wrote ${rel} for "${chunk.title}" in ${ticks} steps.`
    : `Looked at "${chunk.title}" and changed nothing.`;
  log(summary);
  emit({ type: "result", text: summary });
}

async function review(job, directives) {
  const { chunk, cwd } = job;
  const duration = Math.max(30, Math.round(job.durationMs / 3));
  const rel = fileFor(chunk);
  log(`Reviewing: ${chunk.title}`);
  emit({ type: "tool", name: "read", status: "started", detail: rel });
  await sleep(duration / 2);
  const present = existsSync(join(cwd, rel));
  emit({ type: "tool", name: "read", status: present ? "completed" : "failed", detail: rel });
  await sleep(duration / 2);

  if (directives.has("bad_review")) {
    emit({ type: "result", text: "Looks fine to me, I think? (not JSON)" });
    return;
  }
  let answer;
  if (directives.has("review_fail")) {
    answer = { status: "fail", feedback: `The work for "${chunk.title}" is not acceptable.` };
  } else if (!present) {
    answer = { status: "fail", feedback: `Expected ${rel} to exist.` };
  } else if (directives.has("needs_fix")) {
    const clean = chunk.description.replace(DIRECTIVE, "").trim();
    answer = {
      status: "needs_fix",
      feedback: `${rel} misses a closing summary.`,
      fixChunk: {
        title: `Fix: ${chunk.title}`,
        description: `Add the missing closing summary for "${chunk.title}". ${clean}`.trim(),
      },
    };
  } else {
    answer = { status: "pass", feedback: `${rel} covers "${chunk.title}".` };
  }
  log(`Review verdict: ${answer.status}`);
  emit({ type: "result", text: JSON.stringify(answer) });
}

try {
  const job = await readJob();
  const directives = directivesOf(job.chunk.description);
  if (job.mode === "review") await review(job, directives);
  else await execute(job, directives);
  process.exit(0);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  emit({ type: "error", message });
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
