import { readFileSync } from "node:fs";

/** The server package's version (package.json sits one level above `src/` and `dist/`). */
export function readServerVersion(): string {
  try {
    const raw: unknown = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    );
    const version = (raw as { version?: unknown }).version;
    return typeof version === "string" ? version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}
