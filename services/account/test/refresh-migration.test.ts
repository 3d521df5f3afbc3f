import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { migrate, type Db } from "@parley/relational";
import { openTestDb } from "@parley/testkit";
import { Accounts } from "../src/domain/accounts.js";
import { loadAccountConfig } from "../src/config.js";
import { AuthLimits } from "../src/domain/limits/auth-limits.js";
import { memoryCounters } from "../src/adapters/limit-counters.js";
import { SqlAccountStore } from "../src/adapters/sql-account-store.js";
import { NotAuthenticated } from "../src/errors.js";
import { accountMigrations } from "../src/adapters/migrations.js";
import { PasswordHasher } from "../src/domain/passwords.js";
import { AccessTokens } from "../src/domain/tokens.js";

/**
 * Migration 4 changed the refresh token from `<session id>.<secret>` to
 * `<random handle>.<secret>`. Sessions started before it must keep working,
 * move to a random handle at their first refresh, and get the new rules
 * (a wrong secret changes nothing) at once.
 *
 * Postgres only: this is about sessions stored by released Postgres
 * schemas. The SQLite schema starts with handles and has no such data.
 */
for (const kind of ["postgres"] as const) {
  describe(`account refresh tokens issued before migration 4 (${kind})`, () => {
    let db: Db;
    let cleanup = async () => {};
    let accounts: Accounts;
    const legacy: { sessionId: bigint; token: string }[] = [];

    before(async () => {
      ({ db, cleanup } = await openTestDb({ component: "account", list: accountMigrations.filter((m) => m.version < 4) }, "parley_account"));
      const user = await db.query<{ id: string }>("INSERT INTO users (username, display_name, password_hash) VALUES ('old', 'old', 'x') RETURNING id");
      for (const name of ["phone", "laptop"]) {
        const device = await db.query<{ id: string }>("INSERT INTO devices (user_id, name) VALUES ($1, $2) RETURNING id", [user.rows[0]!.id, name]);
        const secret = randomBytes(32).toString("base64url");
        const session = await db.query<{ id: string }>(
          "INSERT INTO sessions (user_id, device_id, refresh_hash, refresh_expires_at) VALUES ($1, $2, $3, now() + interval '1 day') RETURNING id",
          [user.rows[0]!.id, device.rows[0]!.id, createHash("sha256").update(secret).digest("base64url")],
        );
        legacy.push({ sessionId: BigInt(session.rows[0]!.id), token: `${session.rows[0]!.id}.${secret}` });
      }
      await migrate(db, "account", accountMigrations);
      accounts = new Accounts({
        store: new SqlAccountStore(db),
        hasher: new PasswordHasher(10),
        tokens: new AccessTokens(new TextEncoder().encode("test-key-test-key-test-key-test-key!"), 3_600, Date.now),
        refreshTtlSeconds: 86_400,
        refreshReuseHistory: 10,
        limits: new AuthLimits(loadAccountConfig({}).limits, memoryCounters()),
        now: Date.now,
      });
    });
    after(() => cleanup());

    it("refreshes an old-format token onto a random handle, after which the old token is refused without ending the session", async () => {
      const { sessionId, token } = legacy[0]!;
      const renewed = await accounts.refresh(token);
      assert.match(renewed.refreshToken, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      assert.equal((await accounts.authenticate(renewed.accessToken)).sessionId, sessionId);
      // The old handle went with the first refresh: the old token is unknown now, not a replay.
      await assert.rejects(accounts.refresh(token), (err: unknown) => err instanceof NotAuthenticated && /not valid/.test(err.message));
      const next = await accounts.refresh(renewed.refreshToken);
      assert.equal((await accounts.authenticate(next.accessToken)).sessionId, sessionId);
    });

    it("refuses an old-format token with a wrong secret and leaves its session alone", async () => {
      const { sessionId, token } = legacy[1]!;
      const forged = `${sessionId}.${randomBytes(32).toString("base64url")}`;
      await assert.rejects(accounts.refresh(forged), (err: unknown) => err instanceof NotAuthenticated && /not valid/.test(err.message));
      await accounts.refresh(token);
    });
  });
}
