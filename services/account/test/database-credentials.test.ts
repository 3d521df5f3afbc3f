import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startPostgres, testCredentials, writeCertificates, type PrivatePostgres } from "@parley/testkit";
import { runToExit, startProcess } from "../../../test/support/process.js";

const MAIN = "services/account/src/main.ts";
const USER = "parley";
const PASSWORD = "account-db: correct horse";

/**
 * The account process as deployed against a Postgres that requires TLS and
 * a SCRAM password (a private cluster, see the testkit's startPostgres):
 * DATABASE_URL without the password, DATABASE_PASSWORD_FILE with it. What
 * the process prints never holds a database password.
 */
describe("the account process with DATABASE_URL over TLS and DATABASE_PASSWORD_FILE", () => {
  const credentials = testCredentials();
  const dir = mkdtempSync(join(tmpdir(), "parley-account-db-"));
  let pg: PrivatePostgres;
  let url: string;
  const env = (overrides: Record<string, string>) => ({
    ...credentials.env("account"),
    ACCOUNT_PORT: "0",
    DATA_DIR: dir,
    ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 7).toString("base64url"),
    ACCOUNT_SCRYPT_LOG_N: "10",
    ...overrides,
  });
  const passwordFile = (name: string, password: string) => {
    const file = join(dir, name);
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    return file;
  };

  before(async () => {
    const certs = writeCertificates(join(dir, "pki"));
    pg = await startPostgres({ certs });
    await pg.addUser(USER, PASSWORD);
    url = `postgres://${USER}@127.0.0.1:${pg.port}/${USER}?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caFile)}`;
  });
  after(async () => {
    await pg?.close();
    credentials.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts, migrates and serves with the password from the file", async () => {
    const proc = await startProcess(MAIN, env({ DATABASE_URL: url, DATABASE_PASSWORD_FILE: passwordFile("right", PASSWORD) }), "account service listening");
    try {
      assert.equal(await proc.stop("SIGTERM"), 0);
      assert.ok(!proc.output().includes(PASSWORD));
      const migrated = await pg.admin((admin) => admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tableowner = '${USER}'`), USER);
      assert.ok((migrated.rows[0] as { n: number }).n > 0, "the account tables were created by the parley role");
    } finally {
      await proc.stop("SIGKILL");
    }
  });

  it("exits saying the password was refused, without printing it, whether it came from the file or the URL", async () => {
    const inFile = "file: not the password";
    const fromFile = await runToExit(MAIN, env({ DATABASE_URL: url, DATABASE_PASSWORD_FILE: passwordFile("wrong", inFile) }));
    const inUrl = "url-not-the-password";
    const fromUrl = await runToExit(MAIN, env({ DATABASE_URL: url.replace(`${USER}@`, `${USER}:${inUrl}@`) }));
    for (const { code, output } of [fromFile, fromUrl]) {
      assert.equal(code, 1, output);
      assert.match(output, /password authentication failed for user \\?"parley\\?"/);
      for (const secret of [PASSWORD, inFile, inUrl]) assert.ok(!output.includes(secret), output);
    }
  });

  // Regression: loadEnv quoted a malformed DATABASE_URL back whole, password included.
  it("refuses a malformed DATABASE_URL without repeating it", async () => {
    const { code, output } = await runToExit(MAIN, env({ DATABASE_URL: "mysql://parley:url-secret-1234@db.internal/parley" }));
    assert.equal(code, 1);
    assert.match(output, /DATABASE_URL: must be a postgres:\/\/ URL \(the value is secret and not shown\)/);
    assert.ok(!output.includes("url-secret-1234"), output);
  });
});
