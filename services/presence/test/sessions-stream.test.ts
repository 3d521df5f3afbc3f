import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { PresenceService, SessionsRequestSchema, StatusRelaySchema, type SessionsRequest } from "@parley/contracts/parley/presence/v1/presence";
import { AsyncQueue, createLogger, errorInterceptor, inProcessTransport, type Role } from "@parley/runtime";
import { openTestStorage, until } from "@parley/testkit";
import { presenceAccess } from "../src/access.js";
import { mapPresenceError } from "../src/errors.js";
import { startPresence, type RunningPresence } from "../src/wiring.js";

const silent = createLogger("test", "silent");
const account = createRouterTransport((router) =>
  router.service(AccountInternalService, {
    listFriendIds: () => ({ friendIds: [] }),
    getPresenceVisibility: () => ({ hiddenUserIds: [] }),
  }),
);
const hello = (gatewayId: string, userIds: bigint[]) =>
  create(SessionsRequestSchema, { hello: { gatewayId, sessions: userIds.map((userId) => ({ userId, deviceId: userId * 10n, gatewayId })) } });

describe("presence Sessions and RelayStatuses as several instances use them", () => {
  let presence: RunningPresence;
  let cleanup: () => Promise<void>;
  const client = (caller: Role) =>
    createClient(
      PresenceService,
      inProcessTransport(presence.routes, { policy: presenceAccess, caller, interceptors: [errorInterceptor(mapPresenceError, silent)], logger: silent }),
    );
  const devicesOf = (userIds: bigint[]) => presence.hub.locate(userIds).map((s) => `${s.userId}@${s.gatewayId}`);

  beforeEach(async () => {
    const opened = await openTestStorage("sqlite", "parley_presence");
    presence = await startPresence({ storage: opened.storage, account, graceMs: 0, heartbeatTimeoutMs: 15_000 }, silent);
    cleanup = async () => {
      presence.drain();
      await presence.close();
      await opened.cleanup();
    };
  });
  afterEach(() => cleanup());

  it("takes a later hello from the same gateway as the new session list, and ignores one naming another gateway", async () => {
    const requests = new AsyncQueue<SessionsRequest>();
    const stream = (async () => {
      for await (const _ of client("gateway").sessions(requests)) {
        // updates: none expected (nobody has friends)
      }
    })();
    requests.push(hello("gw-1", [1n, 2n]));
    await until(() => devicesOf([1n, 2n, 3n]).length === 2, "the first hello's sessions");
    requests.push(hello("gw-1", [2n, 3n]));
    await until(() => devicesOf([1n, 2n, 3n]).join() === "2@gw-1,3@gw-1", "the later hello to replace the list");
    requests.push(hello("gw-9", [4n]));
    requests.push(hello("gw-1", [3n]));
    await until(() => devicesOf([1n, 2n, 3n, 4n]).join() === "3@gw-1", "the hello naming another gateway to be ignored");
    requests.close();
    await stream;
  });

  it("lets only presence instances relay status changes, within the limits", async () => {
    const relay = { relays: [create(StatusRelaySchema, { presence: { userId: 1n }, followerIds: [2n] })] };
    for (const caller of ["gateway", "chat"] as const) {
      await assert.rejects(client(caller).relayStatuses(relay), (err) => ConnectError.from(err).code === Code.PermissionDenied, `${caller} may relay`);
    }
    await client("presence").relayStatuses(relay);
    const tooMany = { relays: [create(StatusRelaySchema, { presence: { userId: 1n }, followerIds: Array.from({ length: 5_001 }, (_, i) => BigInt(i + 1)) })] };
    await assert.rejects(client("presence").relayStatuses(tooMany), (err) => ConnectError.from(err).code === Code.InvalidArgument);
    await client("presence").getPresence({ viewerId: 2n, userIds: [1n] });
  });
});
