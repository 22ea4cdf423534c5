import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A new empty directory under the OS temp dir, named `glm-<prefix>-XXXXXX`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `glm-${prefix}-`));
}

/** Removes `dir` and everything in it (`rm -rf`); a missing or empty `dir` is fine. Never throws. */
export function removeDir(dir: string | null | undefined): void {
  if (!dir) return;
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // a test's clean-up must not fail the test
  }
}
