import { createClient, type Client } from "@connectrpc/connect";
import { AccountInternalService, AccountService } from "@parley/contracts/parley/account/v1/account";
import { createLogger, errorInterceptor, grpcTransport, Metrics, startServer } from "@parley/runtime";
import { openTestStorage, rejectsWithCode, type TestStorageKind } from "@parley/testkit";
import { openAccountStore } from "../src/wiring.js";
import { Accounts } from "../src/domain/accounts.js";
import { loadAccountConfig } from "../src/config.js";
import { AuthLimits } from "../src/domain/limits/auth-limits.js";
import { memoryCounters, sqlCounters } from "../src/adapters/limit-counters.js";
import { mapAccountError } from "../src/errors.js";
import { PasswordHasher } from "../src/domain/passwords.js";
import { accountRoutes, accountServiceNames } from "../src/server.js";
import { AccessTokens } from "../src/domain/tokens.js";

export interface AccountHarness {
  accounts: Accounts;
  api: Client<typeof AccountService>;
  internal: Client<typeof AccountInternalService>;
  /** The clock the domain reads; tests move it forward. */
  clock: { now: number };
  /** Ends the long-lived event streams, as a graceful shutdown does. */
  drain(): void;
  /** Signs `username` up (password PASSWORD) and logs in one device. */
  signUpAndLogIn(username: string, deviceName?: string): ReturnType<Client<typeof AccountService>["logIn"]>;
  close(): Promise<void>;
}

export type StoreKind = TestStorageKind;

export interface HarnessOptions {
  accessTtlSeconds?: number;
  refreshReuseHistory?: number;
  /** The device cap (ACCOUNT_MAX_DEVICES); none when absent. */
  maxDevices?: number;
}

/**
 * The account service on a fresh database of the given kind (the store the
 * composition root picks for it), served by a real gRPC server on 127.0.0.1
 * and reached over HTTP/2 through the contract.
 */
export async function startAccountHarness(kind: StoreKind, options: HarnessOptions = {}): Promise<AccountHarness> {
  const { storage, cleanup } = await openTestStorage(kind, "parley_account");
  const store = await openAccountStore(storage);
  const clock = { now: Date.now() };
  const now = () => clock.now;
  const accounts = new Accounts({
    store,
    hasher: new PasswordHasher(10),
    tokens: new AccessTokens(new TextEncoder().encode("test-key-test-key-test-key-test-key!"), options.accessTtlSeconds ?? 3_600, now),
    refreshTtlSeconds: 86_400,
    refreshReuseHistory: options.refreshReuseHistory ?? 10,
    // The default limits and their stores as in production, except sign-ups: these tests sign up dozens of users, none naming an address.
    limits: new AuthLimits(
      loadAccountConfig({ ACCOUNT_SIGNUPS_PER_ADDRESS: "0" }).limits,
      storage.dialect === "postgres" ? sqlCounters(storage.db) : memoryCounters(),
    ),
    now,
    ...(options.maxDevices !== undefined ? { maxDevices: options.maxDevices } : {}),
  });
  const stopping = new AbortController();
  const logger = createLogger("test", "silent");
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    routes: accountRoutes(accounts, stopping.signal),
    serviceNames: accountServiceNames,
    logger,
    metrics: new Metrics(),
    interceptors: [errorInterceptor(mapAccountError, logger)],
    onDrain: () => stopping.abort(),
  });
  const transport = grpcTransport(server.url);
  const api = createClient(AccountService, transport);
  return {
    accounts,
    api,
    internal: createClient(AccountInternalService, transport),
    clock,
    drain: () => stopping.abort(),
    async signUpAndLogIn(username, deviceName = "phone") {
      await api.signUp({ username, password: PASSWORD });
      return api.logIn({ username, password: PASSWORD, deviceName });
    },
    async close() {
      stopping.abort();
      await server.close(1_000);
      await cleanup();
    },
  };
}

export const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

export const PASSWORD = "correct horse battery";

/** Asserts that the call fails with `code`, and that the message matches `pattern` when given. */
/** A refusal with this code (and message pattern): the shared assertion, by the name the account tests use. */
export const rejects = rejectsWithCode;
