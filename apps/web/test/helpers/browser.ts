import { access, constants } from "node:fs/promises";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium; playwright-core brings no browser of its own. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** True when the system Chromium is installed and executable. */
export async function hasChromium(path = CHROMIUM_PATH): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Starts headless Chromium; fails with a clear message when it is not installed. */
export async function launchBrowser(options: { executablePath?: string } = {}): Promise<Browser> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  if (!(await hasChromium(executablePath))) {
    throw new Error(
      `Chromium not found at ${executablePath}; install it with: apt-get install chromium`,
    );
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}
