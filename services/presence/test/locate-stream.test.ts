import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import {
  LocateDevicesStreamRequestSchema,
  PresenceService,
  type LocateDevicesStreamRequest,
  type LocateDevicesStreamResponse,
} from "@parley/contracts/parley/presence/v1/presence";
import { AsyncQueue, createLogger, errorInterceptor, inProcessTransport, type Role } from "@parley/runtime";
import { openTestStorage } from "@parley/testkit";
import { presenceAccess } from "../src/access.js";
import { mapPresenceError } from "../src/errors.js";
import { startPresence, type RunningPresence } from "../src/wiring.js";

const silent = createLogger("test", "silent");

/** Account as presence needs it here: nobody has friends, nobody hides. */
const account = createRouterTransport((router) =>
  router.service(AccountInternalService, {
    listFriendIds: () => ({ friendIds: [] }),
    getPresenceVisibility: () => ({ hiddenUserIds: [] }),
  }),
);

const request = (requestId: bigint, userIds: bigint[]) => create(LocateDevicesStreamRequestSchema, { requestId, userIds });

describe("presence LocateDevicesStream", () => {
  let presence: RunningPresence;
  let cleanup: () => Promise<void>;
  const client = (caller: Role): Client<typeof PresenceService> =>
    createClient(
      PresenceService,
      inProcessTransport(presence.routes, { policy: presenceAccess, caller, interceptors: [errorInterceptor(mapPresenceError, silent)], logger: silent }),
    );
  /** Sends `requests` on one stream (all before reading), half-closes, and collects every answer. */
  const exchange = async (requests: LocateDevicesStreamRequest[], caller: Role = "chat"): Promise<LocateDevicesStreamResponse[]> => {
    const out = new AsyncQueue<LocateDevicesStreamRequest>();
    for (const r of requests) out.push(r);
    out.close();
    const answers: LocateDevicesStreamResponse[] = [];
    for await (const answer of client(caller).locateDevicesStream(out)) answers.push(answer);
    return answers;
  };

  beforeEach(async () => {
    const opened = await openTestStorage("sqlite", "parley_presence");
    presence = await startPresence({ storage: opened.storage, account, graceMs: 30_000, heartbeatTimeoutMs: 15_000 }, silent);
    cleanup = async () => {
      presence.drain();
      await presence.close();
      await opened.cleanup();
    };
    await presence.hub.gatewayHello(
      "gw-1",
      [
        { userId: 1n, deviceId: 11n },
        { userId: 2n, deviceId: 21n },
        { userId: 2n, deviceId: 22n },
      ],
      () => {},
    );
    await presence.hub.gatewayHello("gw-2", [{ userId: 3n, deviceId: 31n }], () => {});
  });

  afterEach(() => cleanup());

  it("answers pipelined requests in order, each with its request id and its users' devices", async () => {
    const answers = await exchange([request(7n, [1n, 2n]), request(8n, [3n, 4n]), request(9n, [])]);
    assert.deepEqual(
      answers.map((a) => a.requestId),
      [7n, 8n, 9n],
    );
    const devices = (a: LocateDevicesStreamResponse) => a.sessions.map((s) => `${s.userId}/${s.deviceId}@${s.gatewayId}`).sort();
    assert.deepEqual(devices(answers[0]!), ["1/11@gw-1", "2/21@gw-1", "2/22@gw-1"]);
    assert.deepEqual(devices(answers[1]!), ["3/31@gw-2"], "a user with no device is absent");
    assert.deepEqual(answers[2]!.sessions, []);
  });

  it("takes 1,000 users in one request and ends the stream with INVALID_ARGUMENT naming a request of 1,001", async () => {
    const users = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i + 1));
    const [answer] = await exchange([request(1n, users(1_000))]);
    assert.equal(answer!.sessions.length, 4);
    await assert.rejects(exchange([request(1n, [1n]), request(2n, users(1_001))]), (err: unknown) => {
      const status = ConnectError.from(err);
      return status.code === Code.InvalidArgument && status.rawMessage === "request 2: user_ids must name at most 1000 users";
    });
  });

  it("refuses an id above 2^63 - 1 with INVALID_ARGUMENT naming the field", async () => {
    await assert.rejects(exchange([request(5n, [1n, 2n ** 63n])]), (err: unknown) => {
      const status = ConnectError.from(err);
      return status.code === Code.InvalidArgument && status.rawMessage.startsWith("request 5: user_ids[1] must be at most");
    });
  });

  it("is for chat only: a gateway is refused", async () => {
    await assert.rejects(exchange([request(1n, [1n])], "gateway"), (err: unknown) => ConnectError.from(err).code === Code.PermissionDenied);
  });

  it("ends open streams when presence drains, and ends new ones at once", { timeout: 5_000 }, async () => {
    const out = new AsyncQueue<LocateDevicesStreamRequest>();
    const reading = (async () => {
      const answers: bigint[] = [];
      for await (const answer of client("chat").locateDevicesStream(out)) answers.push(answer.requestId);
      return answers;
    })();
    out.push(request(1n, [1n]));
    presence.drain();
    assert.ok((await reading).length <= 1, "the stream ended although the caller never closed it");
    assert.deepEqual(await exchange([request(2n, [1n])]), [], "a stream opened while draining ends with no answer");
  });
});
