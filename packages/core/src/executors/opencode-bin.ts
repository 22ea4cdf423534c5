import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join } from "node:path";

/**
 * Finds the native opencode binary shipped by the `opencode-ai` npm package, so the agent's
 * process tree is just `opencode → tools` (no Node wrapper in between).
 *
 * `opencode-ai`'s postinstall hard-links the platform package's binary that actually runs on
 * this CPU (AVX2 vs baseline, glibc vs musl) to `opencode-ai/bin/opencode.exe`; that is the
 * first choice. When the postinstall did not run (scripts disabled), the platform packages
 * are tried directly.
 */

const MAGIC = [
  Buffer.from([0x7f, 0x45, 0x4c, 0x46]), // ELF
  Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), // Mach-O 64-bit
  Buffer.from([0x4d, 0x5a]), // PE (Windows)
];

function isNativeBinary(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, "r");
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    return MAGIC.some((m) => n >= m.length && head.subarray(0, m.length).equals(m));
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function platformPackages(): string[] {
  const os = platform() === "win32" ? "windows" : platform();
  const base = `opencode-${os}-${arch()}`;
  return [base, `${base}-baseline`, `${base}-musl`, `${base}-baseline-musl`];
}

export class OpencodeNotFoundError extends Error {
  constructor(detail: string) {
    super(`opencode binary not found: ${detail}`);
    this.name = "OpencodeNotFoundError";
  }
}

/** Absolute path of the opencode binary; `explicit` (from settings) wins when given. */
export function resolveOpencodeBin(explicit?: string): string {
  if (explicit) {
    if (!existsSync(explicit)) throw new OpencodeNotFoundError(`${explicit} does not exist`);
    return explicit;
  }
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve("opencode-ai/package.json");
  } catch {
    throw new OpencodeNotFoundError("the opencode-ai package is not installed");
  }
  const exe = platform() === "win32" ? "opencode.exe" : "opencode";
  const linked = join(dirname(pkgJson), "bin", "opencode.exe");
  if (isNativeBinary(linked)) return linked;
  const fromPkg = createRequire(pkgJson);
  for (const name of platformPackages()) {
    try {
      const candidate = join(dirname(fromPkg.resolve(`${name}/package.json`)), "bin", exe);
      if (isNativeBinary(candidate)) return candidate;
    } catch {
      // not installed for this platform variant
    }
  }
  throw new OpencodeNotFoundError(
    `no native binary in opencode-ai or its platform packages (${platformPackages().join(", ")})`,
  );
}
