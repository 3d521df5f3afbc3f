import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secretFromFile } from "@parley/runtime";
import { issueCertificate, startEtcd, uniqueEtcdPrefix, writeCertificates, type Certificates, type PrivateEtcd } from "@parley/testkit";
import type { EtcdSettings } from "../src/adapters/etcd-client.js";

/**
 * A private etcd as a platform team runs it: TLS on the client port,
 * --client-cert-auth, and authentication on, with user "parley" whose role
 * may read and write only /parley-test/ (the prefix every test uses).
 * Shared by the mesh's etcd security tests and the discovery process's.
 */
export const USER = "parley";
export const PASSWORD = "correct horse battery staple";
export const GRANTED_PREFIX = "/parley-test/";

export interface SecureEtcd {
  readonly etcd: PrivateEtcd;
  readonly dir: string;
  readonly certs: Certificates;
  readonly client: { certFile: string; keyFile: string };
  /** A CA (with its own server certificate) that has nothing to do with this etcd. */
  readonly stranger: Certificates;
  readonly passwordFile: string;
  /** host:port of the client URL, as messages name it. */
  readonly host: string;
  /** Settings of a client that does everything right, with `overrides`. */
  settings(name: string, overrides?: Partial<EtcdSettings>): EtcdSettings;
}

let started: Promise<SecureEtcd> | undefined;

/** The test file's secure etcd, started on first use; the file stops it with `after(stopSecureEtcd)`. */
export const secureEtcd = () => (started ??= start());

async function start(): Promise<SecureEtcd> {
  const dir = mkdtempSync(join(tmpdir(), "parley-etcd-security-"));
  const certs = writeCertificates(join(dir, "pki"));
  const client = issueCertificate(certs, join(dir, "pki"), "parley-client", ["parley-client"]);
  const admin = issueCertificate(certs, join(dir, "pki"), "admin", ["root"]);
  const stranger = writeCertificates(join(dir, "stranger"));
  const etcd = await startEtcd({
    tls: { ...certs, clientCertAuth: true, adminCertFile: admin.certFile, adminKeyFile: admin.keyFile },
    rootPassword: "root-password-for-tests",
  });
  await etcd.addUser(USER, PASSWORD, GRANTED_PREFIX);
  const passwordFile = join(dir, "etcd-password");
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  return {
    etcd,
    dir,
    certs,
    client,
    stranger,
    passwordFile,
    host: new URL(etcd.url).host,
    settings: (name, overrides = {}) => ({
      endpoints: [etcd.url],
      prefix: uniqueEtcdPrefix(name),
      leaseTtlSeconds: 5,
      timeoutMs: 2_000,
      tls: { caFile: certs.caFile, client },
      auth: { username: USER, password: secretFromFile("ETCD_PASSWORD_FILE", passwordFile) },
      ...overrides,
    }),
  };
}

/** Stops the secure etcd, if this file started one, and removes its files. */
export async function stopSecureEtcd(): Promise<void> {
  if (started === undefined) return;
  const { etcd, dir } = await started;
  await etcd.close();
  rmSync(dir, { recursive: true, force: true });
}
