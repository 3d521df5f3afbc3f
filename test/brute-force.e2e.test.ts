import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { RetryInfoSchema } from "@parley/contracts/google/rpc/retry_info";
import { AccountService } from "@parley/contracts/parley/account/v1/account";
import { CLIENT_ADDRESS_HEADER } from "@parley/runtime";
import { createThrowawayDatabase, testCredentials, until, type ThrowawayDatabase } from "@parley/testkit";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { callApi, type ApiResult } from "./support/http-api.js";
import { startProcess, type ServiceProcess } from "./support/process.js";

const PASSWORD = "correct horse battery";
const WRONG = "not the password at all";

/**
 * Issue 12 item 4: log-ins, password changes, sign-ups and refreshes are
 * throttled per account and per client address, through the gateway's
 * public HTTP API, and refusals say when to retry. This test process is the
 * gateway's peer, 127.0.0.1; where the gateway trusts it as a load balancer
 * (GATEWAY_TRUSTED_PROXIES), X-Forwarded-For names each call's client.
 */

/** A fresh client address for every caller a test plays (TEST-NET and documentation ranges). */
let nextAddress = 0;
const newAddress = () => {
  nextAddress++;
  return nextAddress % 2 === 0 ? `203.0.${Math.floor(nextAddress / 250)}.${nextAddress % 250}` : `2001:db8:${nextAddress.toString(16)}::7`;
};
let nextName = 0;
const newName = (prefix: string) => `${prefix}_${++nextName}`;

/** The public API as seen from `from` behind the load balancer (or without X-Forwarded-For). */
function apiFrom(p: EmbeddedParley, from: string | undefined, extra: Record<string, string> = {}) {
  return (method: string, body: unknown, token?: string) => callApi(p.url, method, body, token, { ...(from ? { "x-forwarded-for": from } : {}), ...extra });
}

async function signUp(p: EmbeddedParley, username: string): Promise<void> {
  const res = await apiFrom(p, newAddress())("SignUp", { username, password: PASSWORD });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

const logIn = (p: EmbeddedParley, from: string | undefined, username: string, password: string, extra: Record<string, string> = {}) =>
  apiFrom(p, from, extra)("LogIn", { username, password, deviceName: "phone" });

/** Asserts a throttled answer: 429 resource_exhausted, the reason and the wait in words, a RetryInfo and retry-after; returns the RetryInfo delay in ms. */
function assertThrottled(res: ApiResult, reason: RegExp): number {
  assert.equal(res.status, 429, JSON.stringify(res.body));
  assert.equal(res.body.code, "resource_exhausted");
  assert.match(res.body.message, reason);
  assert.match(res.body.message, /try again in \d+ (second|minute|hour)s?$/);
  const details = res.body.details as { type: string; value: string }[];
  assert.equal(details.length, 1);
  assert.equal(details[0]!.type, "google.rpc.RetryInfo");
  const delay = fromBinary(RetryInfoSchema, Buffer.from(details[0]!.value, "base64")).retryDelay!;
  const delayMs = Number(delay.seconds) * 1000 + delay.nanos / 1e6;
  assert.ok(delayMs > 0, `a positive retry delay, got ${delayMs} ms`);
  assert.equal(res.headers.get("retry-after"), String(Math.ceil(delayMs / 1000)));
  return delayMs;
}

describe("brute-force limits", () => {
  describe("through the gateway's HTTP API behind a trusted load balancer, with the default budgets", () => {
    let p: EmbeddedParley;
    before(async () => {
      p = await startParley({ GATEWAY_TRUSTED_PROXIES: "127.0.0.1", ACCOUNT_SIGNUPS_PER_ADDRESS: "20" });
    });
    after(() => p?.close());

    it("log-in > refuses even the right password with resource_exhausted and a RetryInfo once an address has used up its free wrong passwords for the account", async () => {
      const name = newName("victim");
      await signUp(p, name);
      const attacker = newAddress();
      for (let i = 0; i < 5; i++) assert.equal((await logIn(p, attacker, name, WRONG)).status, 401);
      const delayMs = assertThrottled(
        await logIn(p, attacker, name, PASSWORD),
        /^too many wrong passwords for this account from your network address; try again in 10 seconds$/,
      );
      assert.ok(delayMs <= 10_000, "the first lockout is ACCOUNT_LOCKOUT_BASE_SECONDS (10 s)");
    });

    it("log-in > still lets the account's owner in from another address meanwhile, so a guesser cannot lock a user out", async () => {
      const name = newName("owner");
      await signUp(p, name);
      const attacker = newAddress();
      for (let i = 0; i < 5; i++) await logIn(p, attacker, name, WRONG);
      assertThrottled(await logIn(p, attacker, name, PASSWORD), /wrong passwords for this account/);
      const owner = await logIn(p, newAddress(), name, PASSWORD);
      assert.equal(owner.status, 200, JSON.stringify(owner.body));
    });

    it("log-in > lets no more than the free budget (and the one turn after it) of a burst of simultaneous guesses be checked", async () => {
      const name = newName("burst");
      await signUp(p, name);
      const from = newAddress();
      const answers = await Promise.all(Array.from({ length: 30 }, () => logIn(p, from, name, WRONG)));
      const checked = answers.filter((res) => res.status === 401).length;
      assert.ok(checked === 5 || checked === 6, `5 free guesses and at most the next turn were checked, got ${checked}`);
      for (const res of answers.filter((r) => r.status !== 401)) assertThrottled(res, /wrong passwords for this account from your network address/);
    });

    it("log-in > counts unknown usernames like real ones, so the answers do not tell which exist", async () => {
      const from = newAddress();
      const ghost = newName("ghost");
      for (let i = 0; i < 5; i++) assert.equal((await logIn(p, from, ghost, WRONG)).status, 401);
      assertThrottled(await logIn(p, from, ghost, WRONG), /^too many wrong passwords for this account from your network address/);
    });

    it("change password > counts a wrong current password as a wrong log-in: a stolen access token buys no extra guesses", async () => {
      const name = newName("stolen");
      await signUp(p, name);
      const thief = newAddress();
      const session = await logIn(p, thief, name, PASSWORD);
      const token = session.body.session.accessToken as string;
      const change = (current: string) => apiFrom(p, thief)("ChangePassword", { currentPassword: current, newPassword: "another long passphrase" }, token);
      for (let i = 0; i < 5; i++) assert.equal((await change(WRONG)).status, 403);
      assertThrottled(await change(PASSWORD), /wrong passwords for this account from your network address/);
      assertThrottled(await logIn(p, thief, name, PASSWORD), /wrong passwords for this account from your network address/);
      assert.equal((await logIn(p, newAddress(), name, PASSWORD)).status, 200, "the owner, elsewhere, is not locked out");
    });

    it("sign-up > refuses a flood of sign-ups from one address after its hourly budget, saying when to retry, while other addresses still sign up", async () => {
      const flood = apiFrom(p, newAddress());
      for (let i = 0; i < 20; i++) {
        const res = await flood("SignUp", { username: newName("bot"), password: PASSWORD });
        assert.equal(res.status, 200, `sign-up ${i + 1}: ${JSON.stringify(res.body)}`);
      }
      for (let i = 0; i < 5; i++) {
        const delayMs = assertThrottled(
          await flood("SignUp", { username: newName("bot"), password: PASSWORD }),
          /^too many sign-ups from your network address; try again in (1 hour|60 minutes)$/,
        );
        assert.ok(delayMs > 3_000_000 && delayMs <= 3_600_000);
      }
      assert.equal((await apiFrom(p, newAddress())("SignUp", { username: newName("person"), password: PASSWORD })).status, 200);
    });

    it("refresh > refuses a flood of invalid refresh tokens from one address after its free budget; a real token from elsewhere still works", async () => {
      const name = newName("refresher");
      await signUp(p, name);
      const session = await logIn(p, newAddress(), name, PASSWORD);
      const flooder = apiFrom(p, newAddress());
      const forged = () => `${"A".repeat(22)}.${Math.random().toString(36).slice(2).padEnd(43, "x").slice(0, 43)}`;
      for (let i = 0; i < 20; i++) assert.equal((await flooder("RefreshSession", { refreshToken: forged() })).status, 401);
      for (let i = 0; i < 5; i++)
        assertThrottled(await flooder("RefreshSession", { refreshToken: forged() }), /^too many invalid refresh tokens from your network address/);
      assertThrottled(await flooder("RefreshSession", { refreshToken: session.body.session.refreshToken }), /invalid refresh tokens/);
      const owner = await apiFrom(p, newAddress())("RefreshSession", { refreshToken: session.body.session.refreshToken });
      assert.equal(owner.status, 200, JSON.stringify(owner.body));
    });

    it("client address > takes the rightmost X-Forwarded-For hop that is not a trusted proxy, so a client cannot pick its own address", async () => {
      const name = newName("spoofed");
      await signUp(p, name);
      const real = newAddress();
      // The client writes a different address of its own each time; the load balancer appends the one it saw.
      for (let i = 0; i < 5; i++) assert.equal((await logIn(p, `198.51.100.${i + 1}, ${real}`, name, WRONG)).status, 401);
      assertThrottled(await logIn(p, `198.51.100.99, ${real}, 127.0.0.1`, name, PASSWORD), /wrong passwords/);
      assert.equal((await logIn(p, newAddress(), name, PASSWORD)).status, 200);
    });
  });

  describe("through the gateway's HTTP API with 2 s base lockouts", () => {
    let p: EmbeddedParley;
    before(async () => {
      p = await startParley({ GATEWAY_TRUSTED_PROXIES: "127.0.0.1", ACCOUNT_LOCKOUT_BASE_SECONDS: "2" });
    });
    after(() => p?.close());

    it("log-in > lets a try through once the retry hint has passed, doubles the lockout after another failure, and forgets the failures after a success", async () => {
      const name = newName("patient");
      await signUp(p, name);
      const from = newAddress();
      for (let i = 0; i < 5; i++) await logIn(p, from, name, WRONG);
      assertThrottled(await logIn(p, from, name, WRONG), /wrong passwords/);
      // Refused tries are not counted: polling until one is let through (and fails) ends the 2 s lock and no more.
      await until(async () => (await logIn(p, from, name, WRONG)).status === 401, "the first lockout to end", { timeoutMs: 10_000 });
      const second = assertThrottled(await logIn(p, from, name, PASSWORD), /wrong passwords/);
      assert.ok(second > 2_000, `the second lockout doubles to 4 s (hint ${second} ms)`);
      await until(async () => (await logIn(p, from, name, PASSWORD)).status === 200, "the second lockout to end", { timeoutMs: 10_000 });
      for (let i = 0; i < 5; i++) assert.equal((await logIn(p, from, name, WRONG)).status, 401, "a success gives the free budget back");
    });
  });

  describe("through the gateway's HTTP API: a username under attack from many addresses (per-user budget 3, address budget 10, 30 s lockouts)", () => {
    let p: EmbeddedParley;
    before(async () => {
      p = await startParley({
        GATEWAY_TRUSTED_PROXIES: "127.0.0.1",
        ACCOUNT_LOGIN_FREE_FAILURES_PER_USER: "3",
        ACCOUNT_LOGIN_FREE_FAILURES_PER_ADDRESS: "10",
        ACCOUNT_LOCKOUT_BASE_SECONDS: "30",
        ACCOUNT_USER_LOCKOUT_MAX_SECONDS: "60",
      });
    });
    after(() => p?.close());

    it("log-in > slows guesses spread over many addresses, but never stops the user at an address they logged in from before", async () => {
      const name = newName("famous");
      await signUp(p, name);
      const home = newAddress();
      assert.equal((await logIn(p, home, name, PASSWORD)).status, 200);
      for (let i = 0; i < 3; i++) assert.equal((await logIn(p, newAddress(), name, WRONG)).status, 401);
      const delayMs = assertThrottled(
        await logIn(p, newAddress(), name, PASSWORD),
        /^too many wrong passwords for this account from new places; log in from a network you logged in from before, or try again in \d+ seconds$/,
      );
      assert.ok(delayMs <= 30_000);
      assert.equal((await logIn(p, home, name, PASSWORD)).status, 200, "home is known, so the username's lockout does not apply there");
    });

    it("log-in > throttles one address trying many usernames, except for users who logged in from it before (a shared office address)", async () => {
      const office = newAddress();
      const colleague = newName("colleague");
      const stranger = newName("stranger");
      await signUp(p, colleague);
      await signUp(p, stranger);
      assert.equal((await logIn(p, office, colleague, PASSWORD)).status, 200);
      for (let i = 0; i < 10; i++) assert.equal((await logIn(p, office, newName("sprayed"), WRONG)).status, 401);
      assertThrottled(await logIn(p, office, newName("sprayed"), WRONG), /^too many failed log-ins from your network address/);
      assertThrottled(await logIn(p, office, stranger, PASSWORD), /^too many failed log-ins from your network address/);
      assert.equal((await logIn(p, office, colleague, PASSWORD)).status, 200, "a user known at the address still logs in");
    });
  });

  describe("through the gateway's HTTP API without trusted proxies (the default)", () => {
    let p: EmbeddedParley;
    before(async () => {
      p = await startParley({ ACCOUNT_LOCKOUT_BASE_SECONDS: "30" });
    });
    after(() => p?.close());

    it("client address > ignores X-Forwarded-For and parley-client-address from clients: every try counts against the socket's address", async () => {
      const name = newName("direct");
      await signUp(p, name);
      for (let i = 0; i < 5; i++) {
        const spoof = newAddress();
        assert.equal((await logIn(p, spoof, name, WRONG, { "parley-client-address": spoof })).status, 401);
      }
      const spoof = newAddress();
      assertThrottled(await logIn(p, spoof, name, PASSWORD, { "parley-client-address": spoof }), /wrong passwords for this account from your network address/);
    });
  });

  describe("two account processes on one Postgres database (the distributed mode), called over gRPC as gateways", () => {
    const credentials = testCredentials();
    let database: ThrowawayDatabase;
    let dataDir: string;
    const accounts: ServiceProcess[] = [];
    let clients: Client<typeof AccountService>[] = [];

    before(async () => {
      database = await createThrowawayDatabase("parley_throttle");
      dataDir = await mkdtemp(join(tmpdir(), "parley-throttle-"));
      const env = {
        ...credentials.env("account"),
        ACCOUNT_PORT: "0",
        DATABASE_URL: database.url,
        DATA_DIR: dataDir,
        ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 4).toString("base64url"),
        ACCOUNT_SCRYPT_LOG_N: "10",
        ACCOUNT_LOCKOUT_BASE_SECONDS: "2",
        ACCOUNT_SIGNUPS_PER_ADDRESS: "4",
      };
      // One after the other: the first applies the migrations.
      accounts.push(await startProcess("services/account/src/main.ts", env, "account service listening"));
      accounts.push(await startProcess("services/account/src/main.ts", env, "account service listening"));
      clients = accounts.map((proc) => createClient(AccountService, credentials.plane("gateway").transport(new URL(proc.url).host, "account")));
    });
    after(async () => {
      await Promise.all(accounts.map((proc) => proc.stop("SIGKILL")));
      await database?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      credentials.close();
    });

    /** The end user's address as a gateway passes it. */
    const from = (address: string) => ({ headers: { [CLIENT_ADDRESS_HEADER]: address } });

    /** Asserts RESOURCE_EXHAUSTED with a google.rpc.RetryInfo detail, as a gRPC client sees it; returns the delay in ms. */
    async function throttled(call: Promise<unknown>, reason: RegExp): Promise<number> {
      const err = await call.then(
        () => assert.fail("expected RESOURCE_EXHAUSTED"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(Code[err.code], Code[Code.ResourceExhausted], err.rawMessage);
      assert.match(err.rawMessage, reason);
      const [info] = err.findDetails(RetryInfoSchema);
      assert.ok(info?.retryDelay, "a RetryInfo detail");
      return Number(info.retryDelay.seconds) * 1000 + info.retryDelay.nanos / 1e6;
    }

    it("shares the wrong-password count: tries spread over both instances lock the (address, username) on both", async () => {
      const [a, b] = clients as [Client<typeof AccountService>, Client<typeof AccountService>];
      await a.signUp({ username: "shared_victim", password: PASSWORD }, from(newAddress()));
      const attacker = newAddress();
      const wrong = (client: Client<typeof AccountService>) =>
        assert.rejects(
          client.logIn({ username: "shared_victim", password: WRONG, deviceName: "x" }, from(attacker)),
          (e: unknown) => ConnectError.from(e).code === Code.Unauthenticated,
        );
      for (const client of [a, b, a, b, a]) await wrong(client);
      for (const client of [a, b]) {
        const delayMs = await throttled(
          client.logIn({ username: "shared_victim", password: PASSWORD, deviceName: "x" }, from(attacker)),
          /wrong passwords for this account from your network address/,
        );
        assert.ok(delayMs > 0 && delayMs <= 2_000);
      }
      const owner = await b.logIn({ username: "shared_victim", password: PASSWORD, deviceName: "x" }, from(newAddress()));
      assert.equal(owner.profile?.username, "shared_victim");
      // The hint is honoured on either instance: once it has passed, the next try goes through.
      await until(
        () =>
          b.logIn({ username: "shared_victim", password: PASSWORD, deviceName: "x" }, from(attacker)).then(
            () => true,
            () => false,
          ),
        "the shared lockout to end",
        { timeoutMs: 10_000 },
      );
    });

    it("counts a burst of simultaneous guesses sent to both instances atomically: at most the free budget and the next turn are checked", async () => {
      const [a, b] = clients as [Client<typeof AccountService>, Client<typeof AccountService>];
      await a.signUp({ username: "shared_burst", password: PASSWORD }, from(newAddress()));
      const attacker = newAddress();
      const answers = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).logIn({ username: "shared_burst", password: WRONG, deviceName: "x" }, from(attacker))),
      );
      const codes = answers.map((r) => (r.status === "rejected" ? Code[ConnectError.from(r.reason).code] : "ok"));
      const checked = codes.filter((c) => c === Code[Code.Unauthenticated]).length;
      assert.ok(checked === 5 || checked === 6, `5 free guesses and at most the next turn were checked, got ${codes.join(", ")}`);
      assert.equal(codes.filter((c) => c === Code[Code.ResourceExhausted]).length, 20 - checked);
    });

    it("shares the sign-up budget of an address between the instances", async () => {
      const [a, b] = clients as [Client<typeof AccountService>, Client<typeof AccountService>];
      const flood = newAddress();
      for (const [i, client] of [a, b, a, b].entries()) await client.signUp({ username: `shared_bot_${i}`, password: PASSWORD }, from(flood));
      for (const client of [a, b])
        await throttled(client.signUp({ username: "shared_bot_x", password: PASSWORD }, from(flood)), /^too many sign-ups from your network address/);
      await b.signUp({ username: "shared_person", password: PASSWORD }, from(newAddress()));
    });
  });
});
