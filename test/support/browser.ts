import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/**
 * Debian's Chromium (scripts/ensure-chromium.sh installs it; scripts/test.sh
 * exports PARLEY_TEST_CHROMIUM), driven by playwright-core, which brings no
 * browser of its own. The flags keep it from reaching the internet
 * (docs: STACK-NOTES section 11); playwright gives every launch a fresh
 * temporary profile (user-data dir) and removes it at close.
 */
export const CHROMIUM = process.env.PARLEY_TEST_CHROMIUM ?? "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Screenshots of the main screens go here (gitignored): test output for a person to look at. */
export const SCREENSHOT_DIR = join(import.meta.dirname, "..", "..", "test-results", "screenshots");

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60_000 });
}

/** A browser context (its own storage: a separate device) with bounded waits, sized like a laptop window. */
export async function newDevice(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, locale: "en-GB", timezoneId: "UTC" });
  // Generous for a busy two-core machine; every wait is for a selector or an event, never a fixed sleep.
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
