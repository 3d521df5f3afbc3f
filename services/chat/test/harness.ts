import { createClient, type Client, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { AccountService } from "@parley/contracts/parley/account/v1/account";
import { ChatService } from "@parley/contracts/parley/chat/v1/chat";
import { accountAccess, loadAccountConfig, startAccount, mapAccountError } from "@parley/account";
import { idgenAccess, mapIdgenError, startIdgen } from "@parley/idgen";
import { presenceAccess, startPresence } from "@parley/presence";
import { createLogger, DEVICE_HEADER, errorInterceptor, inProcessTransport, USER_HEADER, type AccessPolicy, type Role } from "@parley/runtime";
import { openTestStorage, type TestStorageKind } from "@parley/testkit";
import { startChat, type RunningChat } from "../src/wiring.js";
import { chatAccess } from "../src/access.js";
import { mapChatError } from "../src/errors.js";

const silent = createLogger("test", "silent");

export interface ChatHarness {
  chat: RunningChat;
  api: Client<typeof ChatService>;
  /** Registers `username` and returns the user id. */
  user(username: string): Promise<bigint>;
  /** Headers acting as a user's device, as the gateway sets them. */
  as(userId: bigint, deviceId?: bigint): { headers: Headers };
  close(): Promise<void>;
}

/** Each component reaches the others as itself, under their access policies, as in the embedded mode. */
function inProcess(routes: (router: ConnectRouter) => void, policy: AccessPolicy, caller: Role, interceptors: Interceptor[]) {
  return inProcessTransport(routes, { policy, caller, interceptors, logger: silent });
}

/**
 * The chat service with real account, presence and idgen services, in
 * process, sharing one store as `npm start` does: SQLite (a file, its
 * worker thread) or a throwaway Postgres.
 */
export async function startChatHarness(kind: TestStorageKind = "sqlite"): Promise<ChatHarness> {
  const store = await openTestStorage(kind, "parley_chat_svc");
  const account = await startAccount(
    loadAccountConfig({
      ACCOUNT_PORT: "0",
      ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 1).toString("base64url"),
      ACCOUNT_SCRYPT_LOG_N: "10",
      ACCOUNT_SIGNUPS_PER_ADDRESS: "0",
      LOG_LEVEL: "silent",
      SHUTDOWN_GRACE_MS: "0",
    }),
    silent,
    { storage: store.storage },
  );
  const idgen = startIdgen({ workerId: 1, maxClockBackwardMs: 100 });
  const accountAs = (caller: Role) => inProcess(account.routes, accountAccess, caller, [errorInterceptor(mapAccountError, silent)]);
  const presence = await startPresence({ storage: store.storage, account: accountAs("presence"), graceMs: 30_000, heartbeatTimeoutMs: 15_000 }, silent);
  const chat = await startChat(
    {
      storage: store.storage,
      account: accountAs("chat"),
      idgen: inProcess(idgen.routes, idgenAccess, "chat", [errorInterceptor(mapIdgenError, silent)]),
      presence: inProcess(presence.routes, presenceAccess, "chat", []),
      gatewayTransport: () => undefined, // no gateways here: the API is called directly
    },
    silent,
  );
  const accounts = createClient(AccountService, accountAs("gateway"));
  return {
    chat,
    api: createClient(ChatService, inProcess(chat.routes, chatAccess, "gateway", [errorInterceptor(mapChatError, silent)])),
    async user(username) {
      const { profile } = await accounts.signUp({ username, password: "correct horse battery" });
      return profile!.userId;
    },
    as(userId, deviceId = 1n) {
      return { headers: new Headers({ [USER_HEADER]: String(userId), [DEVICE_HEADER]: String(deviceId) }) };
    },
    async close() {
      await chat.close();
      await presence.close();
      await account.close();
      await store.cleanup();
    },
  };
}
