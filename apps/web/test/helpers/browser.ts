import { access, constants, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { type E2eServer, type E2eServerOptions, startE2eServer } from "./server.ts";

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

export interface ChromiumApp {
  app: E2eServer;
  browser: Browser;
  /** A page of 1280×900. */
  page: Page;
  /** Closes the browser, then the server. */
  close(): Promise<void>;
}

/** A fresh e2e server (see `startE2eServer`) and a page in headless Chromium. */
export async function openInChromium(options: E2eServerOptions = {}): Promise<ChromiumApp> {
  const app = await startE2eServer(options);
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await app.close();
  };
  try {
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    return { app, browser, page, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waits for the UI to get there (generous, so a slow machine does not fail a working app). */
export const eventually = <T>(fn: () => T | Promise<T>, timeout = 10_000) =>
  expect.poll(fn, { timeout, interval: 100 });

export const docsDir = resolve(import.meta.dirname, "../../../../docs");
/** `UPDATE_SCREENSHOTS=1` refreshes the screenshots in docs/. */
export const updateScreenshots = process.env.UPDATE_SCREENSHOTS === "1";

/** Screenshot of the whole page from the top, into docs/, without transient toasts or hover effects. */
export async function shoot(page: Page, name: string): Promise<void> {
  await mkdir(docsDir, { recursive: true });
  // Toasts leave by themselves too: click whatever is there now, without waiting for any.
  await page.evaluate(() => {
    for (const b of document.querySelectorAll<HTMLButtonElement>('[aria-label="Dismiss message"]'))
      b.click();
  });
  await page.mouse.move(0, 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(docsDir, name), fullPage: true });
}
