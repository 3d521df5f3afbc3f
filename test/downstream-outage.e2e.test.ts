import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { AccountService } from "@parley/contracts/parley/account/v1/account";
import { ChatService } from "@parley/contracts/parley/chat/v1/chat";
import type { ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { grpcTransport } from "@parley/runtime";
import { createThrowawayDatabase, type ThrowawayDatabase } from "@parley/testkit";
import { startGrpcServices, type GrpcServices } from "./support/grpc-services.js";
import { callApi } from "./support/http-api.js";
import { RawSocket } from "./support/raw-socket.js";
import { INTERNAL_DETAILS, refused } from "./support/status.js";

/** Asserts an UNAVAILABLE, retryable error frame with exactly `message`, and no internal detail in it. */
function assertUnavailableFrame(frame: ServerFrame, message: string): void {
  assert.equal(frame.body.case, "error", `expected an error frame, got ${frame.body.case}`);
  if (frame.body.case !== "error") return;
  assert.doesNotMatch(frame.body.value.message, INTERNAL_DETAILS);
  assert.deepEqual([frame.body.value.code, frame.body.value.message, frame.body.value.retryable], ["UNAVAILABLE", message, true]);
}

/**
 * Every service on its own gRPC server (the distributed mode's wiring);
 * the test stops idgen, then presence, then account, and checks what
 * clients are told at each edge: the WebSocket's error frames, the
 * upgrade, the public HTTP API and gRPC. Transport errors name addresses
 * ("connect ECONNREFUSED 127.0.0.1:7002"): none of that may reach a client.
 */
describe("a downstream service outage reaches clients as UNAVAILABLE in words, never as its address or error text", () => {
  let database: ThrowawayDatabase;
  let services: GrpcServices;
  let alice: { token: string; userId: bigint; deviceId: bigint };
  let bob: { token: string; userId: bigint; deviceId: bigint };
  let carol: { token: string; userId: bigint; deviceId: bigint };
  let socket: RawSocket;
  let conversationId: bigint;
  let nextId = 1n;

  const ask = async (body: NonNullable<NonNullable<Parameters<RawSocket["send"]>[0]>["body"]>): Promise<ServerFrame> => {
    const id = nextId++;
    socket.send({ id, body });
    return socket.reply(id);
  };

  before(async () => {
    database = await createThrowawayDatabase("parley_downstream");
    services = await startGrpcServices(database.url);
    [alice, bob, carol] = [await services.user("down_alice"), await services.user("down_bob"), await services.user("down_carol")];
    socket = await RawSocket.open(`${services.gateway.server.url.replace("http", "ws")}/ws`, alice.token);
    await socket.next((f) => f.body.case === "welcome");
    const opened = await ask({ case: "openDirect", value: { peerUserId: bob.userId } });
    assert.equal(opened.body.case, "openDirect");
    if (opened.body.case === "openDirect") conversationId = opened.body.value.conversation!.conversationId;
  });
  after(async () => {
    socket?.close();
    await services?.close();
    await database?.drop();
  });

  it("answers sends UNAVAILABLE 'the id service is unavailable' while idgen is down, over the socket and over gRPC", async () => {
    await services.idgen.close(0);
    // Chat keeps ids fetched ahead for at most a second (its pool's age bound), so sends may
    // still be stored from those for that long; then they fail.
    const deadline = Date.now() + 5_000;
    let frame: ServerFrame;
    for (let n = 0; ; n++) {
      frame = await ask({ case: "send", value: { conversationId, clientMsgId: `no-ids-${n}`, text: "hi" } });
      if (frame.body.case !== "send" || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assertUnavailableFrame(frame, "the id service is unavailable; retry");
    const chat = createClient(ChatService, services.credentials.plane("gateway").transport(new URL(services.chat.url).host, "chat"));
    const as = { headers: new Headers({ "parley-user-id": String(alice.userId), "parley-device-id": String(alice.deviceId) }) };
    await refused(chat.send({ conversationId, clientMsgId: "no-ids-grpc", text: "hi" }, as), Code.Unavailable, /^the id service is unavailable; retry$/);
  });

  it("answers presence requests UNAVAILABLE 'the presence service is unavailable' while presence is down", async () => {
    await services.presence.close(0);
    assertUnavailableFrame(await ask({ case: "getPresence", value: { userIds: [bob.userId] } }), "the presence service is unavailable; retry");
  });

  it("answers UNAVAILABLE 'the account service is unavailable' while account is down: chat requests, the public API and the upgrade (503, not 401)", async () => {
    await services.account.close(0);
    assertUnavailableFrame(await ask({ case: "openDirect", value: { peerUserId: carol.userId } }), "the account service is unavailable; retry");

    const json = await callApi(services.gateway.server.url, "GetProfile", {}, alice.token);
    assert.deepEqual([json.status, json.body.code, json.body.message], [503, "unavailable", "the account service is unavailable; retry"]);
    const account = createClient(AccountService, grpcTransport(services.gateway.server.url));
    await refused(
      account.logIn({ username: "down_alice", password: "correct horse battery", deviceName: "laptop" }),
      Code.Unavailable,
      /^the account service is unavailable; retry$/,
    );

    // A valid token while account cannot check it: retry later, do not log in again.
    const upgrade = await fetchUpgrade(services.gateway.server.url, bob.token);
    assert.equal(upgrade.status, 503);
    assert.equal(upgrade.body, "the account service is unavailable; retry\n");
  });
});

/** A WebSocket upgrade request by hand, to read the refusal's status and body. */
function fetchUpgrade(baseUrl: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/ws`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        authorization: `Bearer ${token}`,
      },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("upgrade", () => reject(new Error("the gateway upgraded the connection")));
    req.on("error", reject);
    req.end();
  });
}
