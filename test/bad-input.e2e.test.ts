import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { AccountInternalService, AccountService, PushPlatform } from "@parley/contracts/parley/account/v1/account";
import { ChatService, MemberRole } from "@parley/contracts/parley/chat/v1/chat";
import type { ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { PresenceService } from "@parley/contracts/parley/presence/v1/presence";
import { grpcTransport } from "@parley/runtime";
import { createThrowawayDatabase, freePorts, type ThrowawayDatabase } from "@parley/testkit";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { RawSocket } from "./support/raw-socket.js";
import { refused } from "./support/status.js";

/** The two ids every 64-bit field is tried with: the first that SQL bigint cannot hold, and the largest uint64. */
const TOO_BIG = [2n ** 63n, 2n ** 64n - 1n];
const MAX = 2n ** 63n - 1n;
const BIG_ID = /must be at most 9223372036854775807 \(2\^63 - 1\)$/;
const NUL = /must not contain the NUL character \(U\+0000\)$/;

/** Asserts an error frame: its code, a message naming the field, and whether it is retryable. */
function assertErrorFrame(frame: ServerFrame, code: string, message: RegExp): void {
  assert.equal(frame.body.case, "error", `expected an error frame, got ${frame.body.case}`);
  if (frame.body.case !== "error") return;
  assert.equal(frame.body.value.code, code, frame.body.value.message);
  assert.match(frame.body.value.message, message);
  assert.equal(frame.body.value.retryable, false);
}

for (const store of ["sqlite", "postgres"] as const) {
  describe(`bad input is INVALID_ARGUMENT or NOT_FOUND, never INTERNAL (npm start on ${store})`, () => {
    let database: ThrowawayDatabase | undefined;
    let parley: EmbeddedParley;
    let alice: { token: string; userId: bigint; deviceId: bigint };
    let bob: { token: string; userId: bigint; deviceId: bigint };
    let chat: Client<typeof ChatService>;
    let account: Client<typeof AccountService>;
    let as: { headers: Headers };
    let bearer: { headers: Headers };
    let direct: bigint;
    let group: bigint;

    before(async () => {
      database = store === "postgres" ? await createThrowawayDatabase("parley_bad_input") : undefined;
      const [port] = await freePorts(1);
      parley = await startParley({ INTERNAL_PORT: String(port), ...(database ? { DATABASE_URL: database.url } : {}) });
      alice = await parley.user("bad_alice");
      bob = await parley.user("bad_bob");
      // Chat and presence over real gRPC on the internal port, acting as the gateway does; account on the public port.
      chat = createClient(ChatService, parley.internalAs("gateway", "chat"));
      account = createClient(AccountService, grpcTransport(parley.url));
      as = { headers: new Headers({ "parley-user-id": String(alice.userId), "parley-device-id": String(alice.deviceId) }) };
      bearer = { headers: new Headers({ authorization: `Bearer ${alice.token}` }) };
      direct = (await chat.openDirect({ peerUserId: bob.userId }, as)).conversation!.conversationId;
      group = (await chat.createGroup({ name: "bad input", memberIds: [bob.userId] }, as)).conversation!.conversationId;
      await chat.send({ conversationId: direct, clientMsgId: "first", text: "hello" }, as);
    });
    after(async () => {
      await parley?.close();
      await database?.drop();
    });

    describe("over gRPC", () => {
      it("chat > refuses an id at or above 2^63 in every id field, naming the field", async () => {
        for (const big of TOO_BIG) {
          const calls: [string, Promise<unknown>][] = [
            ["peer_user_id", chat.openDirect({ peerUserId: big }, as)],
            ["conversation_id", chat.send({ conversationId: big, clientMsgId: "m", text: "hi" }, as)],
            ["conversation_id", chat.history({ conversationId: big }, as)],
            ["before_message_id", chat.history({ conversationId: direct, beforeMessageId: big }, as)],
            ["after_seq", chat.sync({ afterSeq: big }, as)],
            ["conversation_id", chat.getConversation({ conversationId: big }, as)],
            ["message_id", chat.markRead({ conversationId: direct, messageId: big }, as)],
            ["seq", chat.ackCursor({ seq: big }, as)],
            ["message_id", chat.getReceipts({ conversationId: direct, messageId: big }, as)],
            ["conversation_id", chat.setTyping({ conversationId: big, typing: true }, as)],
            ["member_ids\\[1\\]", chat.createGroup({ name: "g", memberIds: [bob.userId, big] }, as)],
            ["conversation_id", chat.updateGroup({ conversationId: big, name: "renamed" }, as)],
            ["user_ids\\[0\\]", chat.addMembers({ conversationId: group, userIds: [big] }, as)],
            ["user_id", chat.removeMember({ conversationId: group, userId: big }, as)],
            ["user_id", chat.setMemberRole({ conversationId: group, userId: big, role: MemberRole.ADMIN }, as)],
            ["conversation_id", chat.deleteGroup({ conversationId: big }, as)],
          ];
          for (const [field, call] of calls) await refused(call, Code.InvalidArgument, new RegExp(`^${field} ${BIG_ID.source}`));
        }
      });

      it("chat > refuses a NUL character in a text, a client message id and a group name", async () => {
        await refused(
          chat.send({ conversationId: direct, clientMsgId: "nul-text", text: "a\u0000b" }, as),
          Code.InvalidArgument,
          new RegExp(`^text ${NUL.source}`),
        );
        await refused(
          chat.send({ conversationId: direct, clientMsgId: "nul\u0000id", text: "hi" }, as),
          Code.InvalidArgument,
          new RegExp(`^client_msg_id ${NUL.source}`),
        );
        await refused(chat.createGroup({ name: "a\u0000b", memberIds: [] }, as), Code.InvalidArgument, new RegExp(`^name ${NUL.source}`));
      });

      it("chat > answers NOT_FOUND for each group operation on a conversation that does not exist", async () => {
        for (const missing of [123n, MAX]) {
          const found = new RegExp(`^no group with id ${missing}$`);
          await refused(chat.updateGroup({ conversationId: missing, name: "renamed" }, as), Code.NotFound, found);
          await refused(chat.addMembers({ conversationId: missing, userIds: [bob.userId] }, as), Code.NotFound, found);
          await refused(chat.removeMember({ conversationId: missing, userId: bob.userId }, as), Code.NotFound, found);
          await refused(chat.setMemberRole({ conversationId: missing, userId: bob.userId, role: MemberRole.ADMIN }, as), Code.NotFound, found);
          await refused(chat.deleteGroup({ conversationId: missing }, as), Code.NotFound, found);
        }
      });

      it("chat > refuses a page token no conversation can have", async () => {
        await refused(
          chat.listConversations({ pageToken: "9999999999999999999" }, as),
          Code.InvalidArgument,
          /^page_token is not a token this service issued$/,
        );
      });

      it("account > refuses an id at or above 2^63 and a NUL character in text, naming the field", async () => {
        for (const big of TOO_BIG) {
          await refused(account.getProfile({ userId: big }, bearer), Code.InvalidArgument, new RegExp(`^user_id ${BIG_ID.source}`));
          await refused(account.addFriend({ userId: big }, bearer), Code.InvalidArgument, new RegExp(`^user_id ${BIG_ID.source}`));
          await refused(account.removeFriend({ userId: big }, bearer), Code.InvalidArgument, new RegExp(`^user_id ${BIG_ID.source}`));
          await refused(account.logOut({ deviceId: big }, bearer), Code.InvalidArgument, new RegExp(`^device_id ${BIG_ID.source}`));
          await refused(
            account.logIn({ username: "bad_alice", password: "correct horse battery", deviceName: "phone", deviceId: big }),
            Code.InvalidArgument,
            new RegExp(`^device_id ${BIG_ID.source}`),
          );
          await refused(
            account.updateSettings({ settings: { mutedConversationIds: [big] }, fields: ["muted_conversation_ids"] }, bearer),
            Code.InvalidArgument,
            new RegExp(`^settings\\.muted_conversation_ids\\[0\\] ${BIG_ID.source}`),
          );
          const internal = createClient(AccountInternalService, parley.internalAs("chat", "account"));
          await refused(internal.getUsers({ userIds: [alice.userId, big] }), Code.InvalidArgument, new RegExp(`^user_ids\\[1\\] ${BIG_ID.source}`));
        }
        await refused(account.getProfile({ username: "bad\u0000alice" }, bearer), Code.InvalidArgument, new RegExp(`^username ${NUL.source}`));
        await refused(
          account.logIn({ username: "bad\u0000alice", password: "correct horse battery", deviceName: "phone" }),
          Code.InvalidArgument,
          new RegExp(`^username ${NUL.source}`),
        );
        await refused(account.setPushToken({ platform: PushPlatform.FCM, token: "t\u0000" }, bearer), Code.InvalidArgument, new RegExp(`^token ${NUL.source}`));
        await refused(
          account.updateSettings({ settings: { email: "a\u0000@example.com" }, fields: ["email"] }, bearer),
          Code.InvalidArgument,
          new RegExp(`^settings\\.email ${NUL.source}`),
        );
      });

      it("presence > refuses an id at or above 2^63, naming the field", async () => {
        const presence = createClient(PresenceService, parley.internalAs("gateway", "presence"));
        for (const big of TOO_BIG) {
          await refused(presence.getPresence({ viewerId: big, userIds: [alice.userId] }), Code.InvalidArgument, new RegExp(`^viewer_id ${BIG_ID.source}`));
          await refused(
            presence.getPresence({ viewerId: alice.userId, userIds: [bob.userId, big] }),
            Code.InvalidArgument,
            new RegExp(`^user_ids\\[1\\] ${BIG_ID.source}`),
          );
          await refused(
            createClient(PresenceService, parley.internalAs("chat", "presence")).locateDevices({ userIds: [big] }),
            Code.InvalidArgument,
            new RegExp(`^user_ids\\[0\\] ${BIG_ID.source}`),
          );
        }
      });
    });

    describe("through a real WebSocket", () => {
      let socket: RawSocket;
      let nextId = 1n;
      before(async () => {
        socket = await RawSocket.open(parley.wsUrl, alice.token);
        await socket.next((f) => f.body.case === "welcome");
      });
      after(() => socket?.close());

      /** Sends one request frame and returns its reply. */
      const ask = async (body: NonNullable<NonNullable<Parameters<RawSocket["send"]>[0]>["body"]>): Promise<ServerFrame> => {
        const id = nextId++;
        socket.send({ id, body });
        return socket.reply(id);
      };

      it("answers an id at or above 2^63 with an INVALID_ARGUMENT error frame naming the field", async () => {
        for (const big of TOO_BIG) {
          assertErrorFrame(
            await ask({ case: "send", value: { conversationId: big, clientMsgId: "ws-big", text: "hi" } }),
            "INVALID_ARGUMENT",
            new RegExp(`^conversation_id ${BIG_ID.source}`),
          );
          assertErrorFrame(
            await ask({ case: "history", value: { conversationId: direct, beforeMessageId: big } }),
            "INVALID_ARGUMENT",
            new RegExp(`^before_message_id ${BIG_ID.source}`),
          );
          assertErrorFrame(await ask({ case: "openDirect", value: { peerUserId: big } }), "INVALID_ARGUMENT", new RegExp(`^peer_user_id ${BIG_ID.source}`));
          assertErrorFrame(await ask({ case: "getPresence", value: { userIds: [big] } }), "INVALID_ARGUMENT", new RegExp(`^user_ids\\[0\\] ${BIG_ID.source}`));
        }
      });

      it("answers a NUL character in a text or a client message id with an INVALID_ARGUMENT error frame", async () => {
        assertErrorFrame(
          await ask({ case: "send", value: { conversationId: direct, clientMsgId: "ws-nul", text: "a\u0000b" } }),
          "INVALID_ARGUMENT",
          new RegExp(`^text ${NUL.source}`),
        );
        assertErrorFrame(
          await ask({ case: "send", value: { conversationId: direct, clientMsgId: "ws\u0000nul", text: "hi" } }),
          "INVALID_ARGUMENT",
          new RegExp(`^client_msg_id ${NUL.source}`),
        );
      });

      it("answers NOT_FOUND for each group operation on a conversation that does not exist", async () => {
        const found = /^no group with id 123$/;
        assertErrorFrame(await ask({ case: "updateGroup", value: { conversationId: 123n, name: "renamed" } }), "NOT_FOUND", found);
        assertErrorFrame(await ask({ case: "addMembers", value: { conversationId: 123n, userIds: [bob.userId] } }), "NOT_FOUND", found);
        assertErrorFrame(await ask({ case: "removeMember", value: { conversationId: 123n, userId: bob.userId } }), "NOT_FOUND", found);
        assertErrorFrame(await ask({ case: "setMemberRole", value: { conversationId: 123n, userId: bob.userId, role: MemberRole.ADMIN } }), "NOT_FOUND", found);
        assertErrorFrame(await ask({ case: "deleteGroup", value: { conversationId: 123n } }), "NOT_FOUND", found);
      });

      it("still serves the connection after every refusal", async () => {
        const reply = await ask({ case: "send", value: { conversationId: direct, clientMsgId: "ws-after", text: "still here" } });
        assert.equal(reply.body.case, "send");
      });
    });
  });
}
