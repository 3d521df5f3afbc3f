import { after, before, describe, it } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { AccountInternalService, AccountService } from "@parley/contracts/parley/account/v1/account";
import { ChatService } from "@parley/contracts/parley/chat/v1/chat";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { PresenceService } from "@parley/contracts/parley/presence/v1/presence";
import { grpcTransport } from "@parley/runtime";
import { freePorts } from "@parley/testkit";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { refused } from "./support/status.js";

describe("npm start's internal port: every service keeps its documented error codes", () => {
  let parley: EmbeddedParley;
  let alice: { userId: bigint; deviceId: bigint };

  before(async () => {
    const [port] = await freePorts(1);
    parley = await startParley({ INTERNAL_PORT: String(port) });
    alice = await parley.user("intport_alice");
  });
  after(() => parley?.close());

  it("answers account's domain errors with their codes and messages over gRPC", async () => {
    const account = createClient(AccountService, parley.internalAs("gateway", "account"));
    await refused(account.signUp({ username: "no spaces", password: "correct horse battery" }), Code.InvalidArgument, /^username may contain only/);
    await refused(account.signUp({ username: "intport_alice", password: "correct horse battery" }), Code.AlreadyExists, /is taken/);
    await refused(
      account.logIn({ username: "intport_alice", password: "wrong password!", deviceName: "x" }),
      Code.Unauthenticated,
      /wrong username or password/,
    );
    const internal = createClient(AccountInternalService, parley.internalAs("gateway", "account"));
    await refused(internal.verifyToken({ accessToken: "not-a-token" }), Code.Unauthenticated, /token/);
  });

  it("answers idgen's domain errors with their codes and messages over gRPC", async () => {
    const idgen = createClient(IdGenService, parley.internalAs("chat", "idgen"));
    await refused(idgen.nextIds({ count: 0 }), Code.InvalidArgument, /count is required; ask for 1 to 4096 IDs per call/);
    await refused(idgen.decodeId({ id: 2n ** 63n }), Code.InvalidArgument, /is not a Parley ID/);
  });

  it("answers chat's domain errors with their codes and messages over gRPC", async () => {
    const chat = createClient(ChatService, parley.internalAs("gateway", "chat"));
    const headers = new Headers({ "parley-user-id": String(alice.userId), "parley-device-id": String(alice.deviceId) });
    await refused(chat.send({ conversationId: 123n, clientMsgId: "m-1", text: "hi" }, { headers }), Code.NotFound, /no conversation with id 123/);
    await refused(chat.send({ conversationId: 123n, clientMsgId: "m-1", text: "" }, { headers }), Code.InvalidArgument, /text must not be empty/);
    await refused(chat.createGroup({ name: "g", memberIds: [999_999n] }, { headers }), Code.NotFound, /no user with id 999999/);
  });

  it("answers presence's domain errors with their codes and messages over gRPC", async () => {
    const presence = createClient(PresenceService, parley.internalAs("gateway", "presence"));
    const userIds = Array.from({ length: 201 }, (_, i) => BigInt(i + 1));
    await refused(presence.getPresence({ viewerId: alice.userId, userIds }), Code.InvalidArgument, /user_ids must name at most 200 users/);
  });

  it("refuses every call without a service token (reaching the port is not enough), and callers outside each service's policy", async () => {
    const bare = grpcTransport(parley.parley.internal!.url);
    const forged = { headers: new Headers({ "parley-user-id": String(alice.userId), "parley-device-id": String(alice.deviceId) }) };
    await refused(
      createClient(ChatService, bare).send({ conversationId: 1n, clientMsgId: "forged", text: "not me" }, forged),
      Code.Unauthenticated,
      /service token is required/,
    );
    await refused(
      createClient(AccountInternalService, bare).getNotificationTargets({ userId: alice.userId }),
      Code.Unauthenticated,
      /service token is required/,
    );
    await refused(createClient(IdGenService, bare).nextIds({ count: 1 }), Code.Unauthenticated, /service token is required/);
    await refused(createClient(NotifyService, bare).getNotification({ notificationId: 1n }), Code.Unauthenticated, /service token is required/);
    const asOperator = createClient(ChatService, parley.internalAs("operator:test", "chat"));
    await refused(
      asOperator.send({ conversationId: 1n, clientMsgId: "forged", text: "not me" }, forged),
      Code.PermissionDenied,
      /operator:test may not call parley.chat.v1.ChatService\/Send/,
    );
    const contactPoints = createClient(AccountInternalService, parley.internalAs("gateway", "account"));
    await refused(contactPoints.getNotificationTargets({ userId: alice.userId }), Code.PermissionDenied, /gateway may not call/);
  });
});
