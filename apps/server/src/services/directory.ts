import { stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { ApiError } from "../errors.ts";

/**
 * Resolves a project directory (absolute, or relative to the server's working directory) and
 * checks that it exists and is a directory. Returns the absolute path that gets stored.
 */
export async function checkProjectDirectory(directory: string, cwd: string): Promise<string> {
  const absolute = isAbsolute(directory) ? resolve(directory) : resolve(cwd, directory);
  let kind: "dir" | "other" | "missing" | "unreadable";
  try {
    kind = (await stat(absolute)).isDirectory() ? "dir" : "other";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    kind = code === "ENOENT" || code === "ENOTDIR" ? "missing" : "unreadable";
  }
  if (kind === "dir") return absolute;
  const message =
    kind === "missing"
      ? `directory ${absolute} does not exist`
      : kind === "other"
        ? `${absolute} is not a directory`
        : `directory ${absolute} cannot be read`;
  throw new ApiError(400, "BAD_REQUEST", message, {
    issues: [{ path: "directory", message, code: "custom" }],
  });
}
