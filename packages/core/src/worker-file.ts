import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** True when this package runs from its TypeScript sources (tests, dev), false from `dist`. */
export function isSourceModule(): boolean {
  return import.meta.url.endsWith(".ts");
}

/**
 * execArgv for a worker running from TypeScript sources. On Node 20, `--import tsx` registers
 * its hooks on the main thread only, so the worker registers them itself through tsx's API.
 */
export function sourceExecArgv(): string[] {
  const req = createRequire(import.meta.url);
  const api = pathToFileURL(
    join(dirname(req.resolve("tsx/package.json")), "dist/esm/api/index.mjs"),
  );
  const register = `import{register}from${JSON.stringify(api.href)};register();`;
  return [
    "--import",
    `data:text/javascript,${encodeURIComponent(register)}`,
    "--conditions=@glm-workers/source",
  ];
}

/** The Piscina worker module beside this file: `worker.ts` from sources, `worker.js` built. */
export function defaultWorkerFile(): URL {
  return new URL(isSourceModule() ? "./worker.ts" : "./worker.js", import.meta.url);
}
