import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSigningKey, privateKeyPem, publicKeyPem } from "@parley/runtime";

/**
 * Development and test credentials for the internal plane: an Ed25519 key
 * per principal with the trust file listing them, and a private CA with a
 * certificate for the internal servers. Production installs bring their own
 * (docs/security.md); `npm run credentials` writes this set for `npm run mesh`.
 */
export interface ServiceKeys {
  readonly trustFile: string;
  keyFile(principal: string): string;
}

export interface Certificates {
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Writes `<principal>.key` for each principal and `trust.json` listing their public keys. */
export function writeServiceKeys(dir: string, principals: readonly string[]): ServiceKeys {
  mkdirSync(dir, { recursive: true });
  const entries = principals.map((principal) => {
    const key = generateSigningKey();
    writeFileSync(join(dir, `${fileName(principal)}.key`), privateKeyPem(key), { mode: 0o600 });
    return { principal, publicKey: publicKeyPem(key) };
  });
  const trustFile = join(dir, "trust.json");
  writeFileSync(trustFile, `${JSON.stringify({ keys: entries }, null, 2)}\n`);
  return { trustFile, keyFile: (principal) => join(dir, `${fileName(principal)}.key`) };
}

/** A new private CA (`ca.pem`, `ca.key`) and a server certificate for `names` signed by it. */
export function writeCertificates(dir: string, names: readonly string[] = ["localhost", "127.0.0.1"]): Certificates {
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, "ca.pem");
  const caKeyFile = join(dir, "ca.key");
  openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    caKeyFile,
    "-out",
    caFile,
    "-days",
    "825",
    "-subj",
    `/CN=Parley development CA ${randomBytes(3).toString("hex")}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const { certFile, keyFile } = issueCertificate({ caFile, caKeyFile }, dir, "server", names);
  return { caFile, caKeyFile, certFile, keyFile };
}

/** Issues `<name>.pem` / `<name>.key` from the CA, for server and client use, naming `names` (DNS names or IPs). */
export function issueCertificate(
  ca: { caFile: string; caKeyFile: string },
  dir: string,
  name: string,
  names: readonly string[],
): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const alt = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  writeFileSync(ext, `subjectAltName=${alt}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(["req", ...EC_KEY, "-keyout", keyFile, "-out", csr, "-subj", `/CN=${names[0] ?? name}`]);
  openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.caFile,
    "-CAkey",
    ca.caKeyFile,
    "-set_serial",
    `0x${randomBytes(12).toString("hex")}`,
    "-out",
    certFile,
    "-days",
    "397",
    "-extfile",
    ext,
  ]);
  return { certFile, keyFile };
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed: ${stderr || (err as Error).message}`);
  }
}

function fileName(principal: string): string {
  return principal.replace(/[^a-z0-9._-]/g, "_");
}
