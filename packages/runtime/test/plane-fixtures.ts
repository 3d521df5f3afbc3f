import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeServiceKeys, type ServiceKeys } from "@parley/testkit";
import type { InternalPlaneSettings } from "../src/auth/internal-plane.js";

/** A folder of credentials for one test file, removed by `cleanup`. */
export function credentialsDir(name: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `parley-${name}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function keysFor(dir: string, principals: string[]): ServiceKeys {
  return writeServiceKeys(dir, principals);
}

/** Settings as the env loader would build them; reloads are fast so rotation tests need not wait long. */
export function planeSettings(keys: ServiceKeys, principal: string | undefined, extra: Partial<InternalPlaneSettings> = {}): InternalPlaneSettings {
  return {
    keyFile: principal === undefined ? undefined : keys.keyFile(principal),
    trustFile: keys.trustFile,
    tokenTtlSeconds: 300,
    tls: undefined,
    caFile: undefined,
    allowPlaintext: false,
    reloadMs: 50,
    ...extra,
  };
}

/** Replaces a file the way Kubernetes and careful tools do: write aside, then rename over it. */
export function replaceFile(path: string, content: string | Buffer): void {
  const aside = `${path}.${process.pid}.tmp`;
  writeFileSync(aside, content, { mode: 0o600 });
  renameSync(aside, path);
}

export { join };
