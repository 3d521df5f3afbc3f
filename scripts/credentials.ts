/**
 * `npm run credentials -- DIR [--hosts h1,h2]`: writes a development set of
 * internal-plane credentials into DIR: an Ed25519 key per principal
 * (`<principal>.key`), the trust file listing their public keys
 * (`trust.json`), and a private CA (`pki/ca.pem`) with one certificate for
 * the internal servers (`pki/server.pem`, `pki/server.key`) naming the
 * hosts (default localhost and 127.0.0.1). `npm run mesh` uses it.
 *
 * For production, make keys and certificates with your own PKI
 * (docs/security.md): this script keeps the CA's key beside the rest.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeCertificates, writeServiceKeys } from "@parley/testkit";

const PRINCIPALS = ["gateway", "account", "chat", "presence", "idgen", "notify", "discovery", "operator:admin"];

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith("--"));
const hostsFlag = args.indexOf("--hosts");
const hosts = hostsFlag >= 0 ? (args[hostsFlag + 1] ?? "").split(",").filter((h) => h !== "") : ["localhost", "127.0.0.1"];
if (dir === undefined || hosts.length === 0) {
  process.stderr.write("usage: npm run credentials -- DIR [--hosts localhost,127.0.0.1]\n");
  process.exit(2);
}
if (existsSync(join(dir, "trust.json"))) {
  process.stderr.write(`credentials: ${dir} already holds a set; remove it first to make a new one\n`);
  process.exit(1);
}
const keys = writeServiceKeys(dir, PRINCIPALS);
const certs = writeCertificates(join(dir, "pki"), hosts);
process.stdout.write(
  [
    `credentials: written to ${dir}`,
    `  SERVICE_TRUST_FILE=${keys.trustFile}`,
    `  SERVICE_KEY_FILE=${keys.keyFile("<principal>")}   (one per process: ${PRINCIPALS.join(", ")})`,
    `  TLS_CERT_FILE=${certs.certFile} TLS_KEY_FILE=${certs.keyFile} TLS_CA_FILE=${certs.caFile}   (names: ${hosts.join(", ")})`,
    "",
  ].join("\n"),
);
