import { createClient, type Client } from "@connectrpc/connect";
import { AccountInternalService, AccountService, PushPlatform } from "@parley/contracts/parley/account/v1/account";
import { NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { accountAccess, loadAccountConfig, startAccount, mapAccountError, type RunningAccount } from "@parley/account";
import type { Storage } from "@parley/relational";
import { createLogger, errorInterceptor, inProcessTransport, Metrics, startServer, type RunningServer } from "@parley/runtime";
import { openTestStorage, testCredentials, type TestCredentials, type TestStorageKind } from "@parley/testkit";
import { notifyAccess } from "../src/access.js";
import { mapNotifyError } from "../src/errors.js";
import { startNotify, type NotifyTuning, type RunningNotify } from "../src/wiring.js";
import type { Channel, Provider } from "../src/ports.js";

const silent = createLogger("test", "silent");
const PASSWORD = "correct horse battery";

/** Fast retries and a short lease, so failure paths finish in well under a second. */
export const testTuning: NotifyTuning = {
  maxAttempts: 4,
  retryBaseMs: 20,
  retryMaxMs: 100,
  leaseMs: 5_000,
  pollMs: 50,
  concurrency: 8,
  rateLimit: 0,
  rateWindowMs: 60_000,
  targetsCacheMs: 30_000,
};

export interface TestUser {
  id: bigint;
  /** Calls the public account API as this user's first device. */
  api: Client<typeof AccountService>;
  headers: Headers;
  deviceId: bigint;
}

export interface NotifyHarness {
  notify: RunningNotify;
  server: RunningServer;
  /** NotifyService over real HTTP/2 as an app (app:test): send and follow notifications. */
  api: Client<typeof NotifyService>;
  /** The same as an operator (operator:test): dead letters. */
  ops: Client<typeof NotifyService>;
  /** Service credentials of the test (for other principals and the auth cases). */
  credentials: TestCredentials;
  url: string;
  account: Client<typeof AccountInternalService>;
  /** The public account API of each account instance (index 0: the one `user` signs up through). */
  accountApis: Client<typeof AccountService>[];
  metrics: Metrics;
  /** Signs a user up and logs in `devices` devices, each with an FCM token `fcm-<username>-<n>`. */
  user(username: string, devices?: number): Promise<TestUser & { deviceIds: bigint[] }>;
  close(): Promise<void>;
}

/**
 * The notify service served over real gRPC on 127.0.0.1, with a real account
 * service (in process), and the given providers, which tests point at local
 * stand-ins of the third parties. On Postgres both services share the
 * database; on SQLite the account service has a store of its own (below).
 */
export async function startNotifyHarness(
  kind: TestStorageKind,
  providers: Map<Channel, Provider>,
  tuning: Partial<NotifyTuning> = {},
  { accountInstances = 1 } = {},
): Promise<NotifyHarness> {
  const { storage, cleanup } = await openTestStorage(kind, "parley_notify_svc");
  // Replicas share the storage, as account instances share their database.
  const accounts: RunningAccount[] = [];
  while (accounts.length < accountInstances) accounts.push(await startTestAccount(storage));
  const accountAs = (caller: "notify" | "gateway", account = accounts[0]!) =>
    inProcessTransport(account.routes, { policy: accountAccess, caller, interceptors: [errorInterceptor(mapAccountError, silent)], logger: silent });
  const accountTransport = accountAs("notify");
  // Calls go to the first instance; change announcements are followed on every one.
  const instances = {
    current: () => accounts.map((_, i) => ({ address: `account-${i}`, draining: false })),
    transport: (address: string) => accountAs("notify", accounts[Number(address.slice("account-".length))]),
  };
  const credentials = testCredentials();
  const plane = credentials.plane("notify");
  const metrics = new Metrics();
  const notify = await startNotify(
    { storage, account: accountTransport, accountInstances: instances, providers, config: { ...testTuning, ...tuning } },
    silent,
    metrics,
  );
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    routes: notify.routes,
    serviceNames: notify.serviceNames,
    logger: silent,
    metrics,
    interceptors: [plane.guard(notifyAccess), errorInterceptor(mapNotifyError, silent)],
  });
  const address = new URL(server.url).host;
  const publicAccount = createClient(AccountService, accountAs("gateway"));
  return {
    notify,
    server,
    api: createClient(NotifyService, credentials.plane("app:test").transport(address, "notify")),
    ops: createClient(NotifyService, credentials.plane("operator:test").transport(address, "notify")),
    credentials,
    url: server.url,
    account: createClient(AccountInternalService, accountTransport),
    accountApis: accounts.map((account) => createClient(AccountService, accountAs("gateway", account))),
    metrics,
    async user(username, devices = 1) {
      const { profile } = await publicAccount.signUp({ username, password: PASSWORD });
      const deviceIds: bigint[] = [];
      let first: TestUser | undefined;
      for (let n = 1; n <= devices; n++) {
        const login = await publicAccount.logIn({ username, password: PASSWORD, deviceName: `device ${n}` });
        const headers = new Headers({ authorization: `Bearer ${login.session!.accessToken}` });
        await publicAccount.setPushToken({ platform: PushPlatform.FCM, token: `fcm-${username}-${n}` }, { headers });
        deviceIds.push(login.device!.deviceId);
        first ??= { id: profile!.userId, api: publicAccount, headers, deviceId: login.device!.deviceId };
      }
      return { ...(first ?? { id: profile!.userId, api: publicAccount, headers: new Headers(), deviceId: 0n }), deviceIds };
    },
    async close() {
      await server.close(0);
      await notify.close(1_000);
      for (const account of accounts) await account.close();
      credentials.close();
      await cleanup();
    },
  };
}

async function startTestAccount(storage: Storage): Promise<RunningAccount> {
  return startAccount(
    loadAccountConfig({
      ACCOUNT_PORT: "0",
      ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 1).toString("base64url"),
      ACCOUNT_SCRYPT_LOG_N: "10",
      ACCOUNT_SIGNUPS_PER_ADDRESS: "0",
      LOG_LEVEL: "silent",
      SHUTDOWN_GRACE_MS: "0",
    }),
    silent,
    { storage },
  );
}
