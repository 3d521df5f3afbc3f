import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const KEY_FILE = "account-token.key";
const MIN_BYTES = 32;

/**
 * The HMAC key for access tokens: from configuration when given, otherwise
 * generated once into the data folder (mode 0600) and reused, so tokens
 * survive restarts of the embedded mode. Several account instances must
 * share one configured key.
 */
export async function loadTokenKey(secret: string | undefined, dataDir: string): Promise<Uint8Array> {
  if (secret !== undefined) return decode(secret, "ACCOUNT_TOKEN_SECRET");
  const path = join(dataDir, KEY_FILE);
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(path, randomBytes(MIN_BYTES).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return decode((await readFile(path, "utf8")).trim(), path);
}

function decode(value: string, source: string): Uint8Array {
  const bytes = Buffer.from(value, "base64url");
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value) || bytes.length < MIN_BYTES) {
    throw new Error(`${source}: must be at least ${MIN_BYTES} random bytes, base64url-encoded (try: openssl rand -base64 32)`);
  }
  return new Uint8Array(bytes);
}
