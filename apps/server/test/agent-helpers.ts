import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Helpers of the real-agent acceptance tests (`*.agent.test.ts`). */

/** A git repository `dir/name` on `main` with one commit (a README). */
export function gitProject(dir: string, name: string): string {
  const project = join(dir, name);
  mkdirSync(project, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: project });
  git("init", "-q", "-b", "main");
  writeFileSync(join(project, "README.md"), `# ${name}\n`);
  git("add", "-A");
  git("commit", "-q", "-m", "init");
  return project;
}

/** A process's command line, spaces between the arguments ("" when it is gone). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
