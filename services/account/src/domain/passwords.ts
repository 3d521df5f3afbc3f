import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * Password hashing with scrypt (memory-hard, in node:crypto). The stored
 * form carries its own parameters, `scrypt$<logN>$<r>$<p>$<salt>$<hash>`, so
 * raising the cost later leaves existing hashes verifiable.
 */
export class PasswordHasher {
  private readonly dummy: Promise<string>;

  constructor(private readonly logN: number) {
    // Verifying against a dummy hash for unknown usernames keeps log-in time
    // the same whether or not the account exists.
    this.dummy = this.hash("parley-dummy-password");
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await derive(password, salt, this.logN, 8, 1);
    return ["scrypt", this.logN, 8, 1, salt.toString("base64url"), key.toString("base64url")].join("$");
  }

  async verify(password: string, stored: string | undefined): Promise<boolean> {
    const [scheme, logN, r, p, salt, hash] = (stored ?? (await this.dummy)).split("$");
    if (scheme !== "scrypt" || !salt || !hash) return false;
    const expected = Buffer.from(hash, "base64url");
    const actual = await derive(password, Buffer.from(salt, "base64url"), Number(logN), Number(r), Number(p));
    return stored !== undefined && actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize("NFC"), salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));
}
