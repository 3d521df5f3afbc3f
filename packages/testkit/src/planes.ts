import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, openInternalPlane, type InternalPlane, type InternalPlaneSettings, type Role } from "@parley/runtime";
import { writeCertificates, writeServiceKeys, type Certificates, type ServiceKeys } from "./credentials.js";

/** Every principal the services use, plus an operator and an app. */
export const TEST_PRINCIPALS = ["gateway", "account", "chat", "presence", "idgen", "notify", "discovery", "operator:test", "app:test"] as const;

/**
 * Credentials for one test file: a key per principal, the trust file, and
 * (on request) a private CA with a certificate for 127.0.0.1. `plane()`
 * opens a process's internal plane in the test process; `env()` gives the
 * variables a spawned service process needs.
 */
export interface TestCredentials {
  readonly dir: string;
  readonly keys: ServiceKeys;
  readonly certs: Certificates | undefined;
  /** The internal plane of `principal` (such as "chat" or "operator:test"), opened in this process (one per principal unless `extra` is given). */
  plane(principal: string, extra?: Partial<InternalPlaneSettings>): InternalPlane;
  /** SERVICE_KEY_FILE, SERVICE_TRUST_FILE, and the TLS variables when made with tls. */
  env(principal: string): Record<string, string>;
  /** Closes the planes opened here and deletes the folder. */
  close(): void;
}

export function testCredentials(options: { tls?: boolean } = {}): TestCredentials {
  const dir = mkdtempSync(join(tmpdir(), "parley-credentials-"));
  const keys = writeServiceKeys(dir, TEST_PRINCIPALS);
  const certs = options.tls ? writeCertificates(join(dir, "pki")) : undefined;
  const opened: InternalPlane[] = [];
  const shared = new Map<string, InternalPlane>();
  const logger = createLogger("test", "silent");
  return {
    dir,
    keys,
    certs,
    plane(principal, extra = {}) {
      const reuse = Object.keys(extra).length === 0;
      const known = reuse ? shared.get(principal) : undefined;
      if (known) return known;
      const settings: InternalPlaneSettings = {
        keyFile: keys.keyFile(principal),
        trustFile: keys.trustFile,
        tokenTtlSeconds: 300,
        tls: certs ? { certFile: certs.certFile, keyFile: certs.keyFile } : undefined,
        caFile: certs?.caFile,
        allowPlaintext: false,
        reloadMs: 1_000,
        ...extra,
      };
      const plane = openInternalPlane(settings, principal as Role, logger, { listenHosts: ["127.0.0.1"] });
      opened.push(plane);
      if (reuse) shared.set(principal, plane);
      return plane;
    },
    env(principal) {
      return {
        SERVICE_KEY_FILE: keys.keyFile(principal),
        SERVICE_TRUST_FILE: keys.trustFile,
        ...(certs ? { TLS_CERT_FILE: certs.certFile, TLS_KEY_FILE: certs.keyFile, TLS_CA_FILE: certs.caFile } : {}),
      };
    },
    close() {
      for (const plane of opened) plane.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
