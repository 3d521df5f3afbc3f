import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { buildWebApp } from "../../apps/web/build.mjs";
import { launchChromium } from "./browser.js";
import { startParley, type EmbeddedParley } from "./embedded.js";

/** What a browser suite runs against: the web app built into a scratch folder, `npm start`'s process serving it, and Chromium. */
export interface WebAppWorld {
  workDir: string;
  bundle: string;
  parley: EmbeddedParley;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Builds the web app into a new scratch folder (named from `prefix`), starts
 * Parley serving it with `env`, and launches Chromium. `beside` runs once the
 * bundle is built, before Parley starts (files placed next to it). Whatever
 * was started is stopped again if a later step fails.
 */
export async function openWebAppWorld(prefix: string, env: Record<string, string> = {}, beside?: (workDir: string) => Promise<void>): Promise<WebAppWorld> {
  const workDir = await mkdtemp(join(tmpdir(), prefix));
  let parley: EmbeddedParley | undefined;
  try {
    const bundle = await buildWebApp(join(workDir, "dist"));
    await beside?.(workDir);
    parley = await startParley(env, { webAppDir: bundle });
    const browser = await launchChromium();
    const started = parley;
    return {
      workDir,
      bundle,
      parley: started,
      browser,
      async close() {
        await browser.close();
        await started.close();
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await parley?.close();
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
}
